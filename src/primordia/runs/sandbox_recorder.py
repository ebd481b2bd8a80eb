"""Recording a sandbox run (the reference sandbox's format): a header line, then a frame every
``every`` ticks; every tenth frame is "full" and carries each NPC's genome
(docs/worlds/sandbox.md has the fields)."""

from __future__ import annotations

import base64
from typing import Any

from primordia.worlds.sandbox import constants as c

from .recorder import Recorder

STAT_KEYS = {"atk": c.C_ATTACKS, "kil": c.C_KILLS, "hea": c.C_HEALS, "har": c.C_HARVESTS,
             "ter": c.C_TERRAFORMS, "trd": c.C_TRADES, "tch": c.C_TEACHES}


def frame(world, full: bool) -> dict[str, Any]:
    """One frame of the world as it stands (NPCs in id order)."""
    s = world.state
    npcs = []
    for i in world.alive_slots().tolist():
        code = world.substrate.encode(world.genomes[i])
        row = {"id": int(s.npc_id[i]), "x": int(s.x[i]), "y": int(s.y[i]),
               "hp": int(s.health[i]), "e": int(s.energy[i]), "it": int(s.item[i]),
               "g": int(s.gold[i]), "a": int(s.age[i]), "f": int(s.fitness[i]),
               "s": int(s.stress[i]), "gl": len(code)}
        if full:
            row["gen"] = base64.b64encode(code).decode("ascii")
        npcs.append(row)
    return {"type": "full" if full else "tick", "t": world.tick_no, "npcs": npcs,
            "grid": base64.b64encode(s.tile.tobytes()).decode("ascii"),
            "s": {k: int(s.stats[v]) for k, v in STAT_KEYS.items()},
            "fr": world.food_rate}


class SandboxRecorder(Recorder):
    """Frames of a sandbox world every ``every`` ticks."""

    def header(self, world) -> None:
        cfg = world.config
        self._line({"type": "header", "seed": cfg.seed, "npcs": cfg.npcs,
                    "world_size": cfg.size, "ticks": cfg.ticks, "every_n": self.every,
                    "biomes": False, "biome_grid": None, "world": "sandbox",
                    "width": cfg.size, "height": cfg.size})

    def maybe_record(self, world) -> None:
        if world.tick_no % self.every == 0:
            self._line(frame(world, full=world.tick_no % (self.every * 10) == 0))
