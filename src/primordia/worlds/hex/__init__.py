"""The NeuroGenesis hex world (seed 003): organisms on a bounded axial hex grid, one decision
per turn, simultaneous moves resolved globally, eat-and-replace, starvation and respawns."""
