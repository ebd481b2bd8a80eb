"""The `primordia` command line: thin modules, one per command group."""
