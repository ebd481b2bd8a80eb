"""The NeuroGenesis hex world: organisms on a bounded axial hex grid, one decision
per turn, simultaneous moves resolved globally, eat-and-replace, starvation and respawns."""
