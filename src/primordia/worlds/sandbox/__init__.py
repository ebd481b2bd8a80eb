"""The NPC society of the reference sandbox (oisee/psil): a tile world of food, items, forges
and trade, where micro-PSIL brains (or any brain) sense, act and evolve. See
docs/worlds/sandbox.md."""
