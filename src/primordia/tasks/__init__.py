"""Non-spatial environments: task specs, their episodes, and scoring (ARCHITECTURE.md §2)."""
