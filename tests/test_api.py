"""The Python API as a researcher calls it from a notebook: worlds by name, stepped and read
as arrays, checkpointed and resumed, watched by a reporter, evolved on tasks and islands,
and a brain of one's own plugged in."""

from __future__ import annotations

import sys
import types

import numpy as np
import pytest

import primordia
from primordia.brains.psil.substrate import PsilSubstrate
from primordia.brains.registry import SUBSTRATES
from primordia.core.errors import PrimordiaError
from primordia.tasks.task import load_task


def test_importing_primordia_loads_no_kernels():
    # the command line imports primordia for its version: the API loads on first use
    code = ("import sys, primordia; print(primordia.__version__); "
            "assert 'numba' not in sys.modules and 'primordia.api' not in sys.modules")
    import subprocess
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_a_world_stepped_by_hand_is_the_run_of_the_same_settings():
    run = primordia.world("sandbox", brain="neural", npcs=20, ticks=30, seed=3)
    run.step(10)
    assert run.position() == 10 and run.metrics()["tick"] == 10
    run.step(20)
    whole = primordia.world("sandbox", brain="neural", npcs=20, ticks=30, seed=3)
    assert run.world.state_hash() == whole.execute().state_hash()


def test_state_is_named_arrays_and_the_timeline_a_table(monkeypatch):
    run = primordia.world("hex", brain="psil", world_width=8, num_organisms=20, turns=40,
                          timeline=10)
    delta = run.step(40)
    assert delta.turn == 40                                # the hex world's TickDelta
    state = run.state()
    assert state["state.alive"].dtype == np.int8 and state["state.alive"].sum() > 0
    rows = run.table()
    assert [r["turns"] for r in rows] == [0, 10, 20, 30, 40]
    fake = types.ModuleType("pandas")
    fake.DataFrame = lambda samples: ("frame", samples)
    monkeypatch.setitem(sys.modules, "pandas", fake)
    assert run.table() == ("frame", run.samples)


def test_save_and_resume_continue_to_the_same_state(tmp_path):
    run = primordia.world("hex", brain="neural", out=tmp_path / "a", world_width=8,
                          num_organisms=20, turns=60, seed=4)
    run.step(25)
    run.save()
    run.step(35)
    run.finish()
    again = primordia.resume(tmp_path / "a", 60)          # from the last checkpoint (turn 60)
    assert again.position() == 60
    part = primordia.world("hex", brain="neural", out=tmp_path / "b", world_width=8,
                           num_organisms=20, turns=25, seed=4)
    part.execute()
    rest = primordia.resume(tmp_path / "b", 60)
    assert rest.position() == 25
    assert rest.execute().state_hash() == run.world.state_hash()


def test_a_reporter_sees_every_sample():
    class Samples(primordia.Reporter):
        def __init__(self) -> None:
            self.turns: list[int] = []

        def sampled(self, run, metrics) -> None:
            self.turns.append(metrics["turns"])

    seen = Samples()
    primordia.world("hex", brain="psil", world_width=6, num_organisms=10, turns=30,
                    timeline=10, reporters=[seen]).execute()
    assert seen.turns == [0, 10, 20, 30]


@pytest.mark.parametrize("call,words", [
    (lambda: primordia.world("nowhere"), "unknown world 'nowhere'"),
    (lambda: primordia.world("sandbox", brain="nope"), "'nope' is not a brain"),
    (lambda: primordia.world("sandbox", npcs=0), "npcs"),
    (lambda: primordia.world("hex", shape="round"), "shape"),
    (lambda: primordia.evolve_task("T01_xor2", pop=1), "pop"),
])
def test_mistakes_are_one_line_errors(call, words):
    with pytest.raises(PrimordiaError) as exc:
        call()
    assert words in str(exc.value) and "\n" not in str(exc.value)


def test_a_brain_of_ones_own_runs_in_a_world():
    class Counting(PsilSubstrate):
        """micro-PSIL that counts the genomes it compiles."""

        compiled = 0

        def compile(self, genomes, io, threads=1, capacity=None):
            type(self).compiled += 1
            return super().compile(genomes, io, threads, capacity)

    primordia.register_brain("test-counting", Counting)
    try:
        run = primordia.world("sandbox", brain="test-counting", npcs=16, ticks=20, seed=2)
        mine = run.execute().state_hash()
    finally:
        SUBSTRATES.unregister("test-counting")
    assert Counting.compiled >= 1
    assert mine == primordia.world("sandbox", npcs=16, ticks=20, seed=2).execute().state_hash()


def test_evolving_on_a_task_of_ones_own(tmp_path):
    mine = load_task("T01_xor2").model_copy(update={"name": "my_xor"})
    seen = []
    run, summary = primordia.evolve_task(mine, tmp_path, report=seen.append, pop=16, gens=3,
                                         seed=1)
    assert run.generation == len(seen) <= 3
    assert summary["task"] == "my_xor" and (tmp_path / "summary.json").is_file()


def test_an_island_experiment_from_a_dict(tmp_path):
    summary = primordia.evolve_islands(
        {"name": "api", "world": "hex", "brain": "psil", "generations": 1, "pool": 4,
         "islands": 1, "founders": 4, "length": 20,
         "world_config": {"world_width": 6, "num_organisms": 12}}, tmp_path / "run")
    assert summary["generations"] == 1 and summary["front"]
