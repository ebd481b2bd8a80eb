"""Non-spatial environments: task specs, their episodes, and scoring (docs/evolve.md, "Tasks")."""
