"""``primordia demo``: a short tour of micro-PSIL -- one brain up close, then a population."""

from __future__ import annotations

import time
from importlib import resources

import numpy as np
import typer
from rich.console import Console
from rich.table import Table

from primordia.brains.psil import generate
from primordia.brains.psil.archetypes import ARCHETYPES
from primordia.brains.psil.asm import assemble, disassemble
from primordia.brains.psil import kernels as k
from primordia.brains.psil.brain import PsilBrain, think_batch
from primordia.brains.psil.genome import PsilGenome
from primordia.brains.psil.reference import think
from primordia.core.errors import ConfigError

from .psil import ACTION_NAMES, MOVE_NAMES


def demo(
    organisms: int = typer.Option(20_000, "--organisms", "-n",
                                  help="Population size for the batched run."),
    seed: int = typer.Option(42, "--seed", help="Seed of the generated population."),
) -> None:
    """Run the micro-PSIL demo: a multi-yield brain step by step, then a population at speed."""
    if not 1 <= organisms <= 1_000_000:
        raise ConfigError("--organisms must be in 1..1000000")
    console = Console()
    text = resources.files("primordia.examples").joinpath("demo.mpsil").read_text()
    brain = assemble(text, source="demo.mpsil")
    console.rule("[bold]1. A micro-PSIL brain")
    console.print(disassemble(brain), highlight=False)
    table = Table(title="One think per situation, one row per action round",
                  title_justify="left")
    for col in ("situation", "round", "move", "action", "target"):
        table.add_column(col)
    situations = {
        "hungry, food east": {2: 40, 13: 2, 7: 9, 5: 3},
        "fed, neighbour north": {2: 180, 13: 2, 7: 1, 12: 17, 18: 1},
        "fed, alone": {2: 180, 13: 0, 7: 31},
    }
    for name, values in situations.items():
        sensors = [0] * 31
        for slot, v in values.items():
            sensors[slot] = v
        r = think(brain, sensors, gas=200)
        for i, (mv, ac, tg, _) in enumerate(r.yields or [r.final]):
            table.add_row(name if i == 0 else "", str(i + 1), MOVE_NAMES[mv] if 0 <= mv < 5
                          else str(mv), ACTION_NAMES[ac] if 0 <= ac < 10 else str(ac), str(tg))
    console.print(table)

    console.rule(f"[bold]2. {organisms:,} organisms in the fast VM")
    kinds, genomes = [], []
    names = sorted(ARCHETYPES)
    for i in range(organisms):
        if i % 4 == 0:
            kinds.append("archetype")
            genomes.append(PsilGenome(ARCHETYPES[names[(i // 4) % len(names)]]))
        elif i % 4 in (1, 2):
            kinds.append("mutant")
            genomes.append(PsilGenome(generate.mutated_archetype(seed, i)))
        else:
            kinds.append("random")
            genomes.append(PsilGenome(generate.random_program(seed, i)))
    sensors = np.array([generate.random_sensors(seed, i) for i in range(organisms)])
    with console.status("compiling kernels (cached after the first run)..."):
        think_batch(genomes[:8], sensors[:8], 200)
        population = PsilBrain(genomes)
    population.mem[:organisms, :sensors.shape[1]] = sensors
    population.begin_think(200)
    slots = np.arange(organisms, dtype=np.int64)
    t0 = time.perf_counter()
    still = population.run_slots(slots)              # the first action round of everyone
    firsts = population.ring1[:organisms].copy()
    population.run_thinks(still)                     # the rest of every think
    elapsed = time.perf_counter() - t0
    n_yields = population.regs[:organisms, k.YIELDS]
    errors = population.error_codes()[:organisms]
    steps_each = population.steps[:organisms]
    kinds_arr = np.array(kinds)
    summary = Table(title="What each kind of brain did (first action round)",
                    title_justify="left")
    for col in ("kind", "count", "moved", "acted", "mean yields", "errors", "mean instr."):
        summary.add_column(col, justify="right" if col != "kind" else "left")
    for kind in ("archetype", "mutant", "random"):
        m = kinds_arr == kind
        if not m.any():
            continue
        summary.add_row(kind, f"{m.sum():,}", f"{(firsts[m, 0] != 0).mean():.0%}",
                        f"{(firsts[m, 1] != 0).mean():.0%}", f"{n_yields[m].mean():.2f}",
                        f"{(errors[m] != 0).mean():.0%}", f"{steps_each[m].mean():.1f}")
    console.print(summary)
    steps = int(steps_each.sum())
    console.print(f"{organisms:,} thinks, {steps:,} VM instructions in {elapsed * 1000:.1f} ms "
                  f"on one core: {organisms / elapsed / 1e6:.2f} M thinks/s, "
                  f"{steps / elapsed / 1e6:.0f} M instructions/s.")
    console.print("Next: [bold]primordia psil run --help[/], and docs/brains/psil.md.")
