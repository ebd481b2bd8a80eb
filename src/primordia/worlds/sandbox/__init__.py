"""The NPC society sandbox of seed 001: a tile world of food, items, forges and trade, where
micro-PSIL brains (or any brain) sense, act and evolve. See docs/worlds/sandbox.md."""
