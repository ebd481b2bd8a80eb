"""Evolving Mycos networks: runs are reproducible from their seed, easy tasks get solved,
offspring shares add up, and the run directory holds what it promises."""

from __future__ import annotations

import json

import numpy as np

from primordia.brains.mycos.genome import from_json
from primordia.runs.mycos_run import (MycosEvolveConfig, evolve, start, state_hash, step,
                                      timed_evolve)
from primordia.runs.rundir import RunDirectory
from primordia.tasks.scoring import Penalties
from primordia.tasks.task import load_task

FREE = Penalties(conn=0, bits=0, links=0, osc=0, cycle=0)


def test_the_same_seed_gives_the_same_run_and_another_seed_another():
    cfg = MycosEvolveConfig(pop=40, gens=6, seed=5, target_score=1.0)
    task = load_task("T02_sr_latch")
    a, b = evolve(cfg, task), evolve(cfg, task)
    assert state_hash(a) == state_hash(b)
    assert [s.best_fitness for s in a.history] == [s.best_fitness for s in b.history]
    c = evolve(cfg.model_copy(update={"seed": 6}), task)
    assert state_hash(c) != state_hash(a)


def test_populations_keep_their_size_and_unique_seeds_at_the_start():
    cfg = MycosEvolveConfig(pop=30, gens=3, seed=1, target_score=1.0)
    run = start(cfg, load_task("T01_xor2"))
    assert len({g.seed for g in run.population}) == 30
    for _ in range(3):
        step(run)
        assert len(run.population) == 30


def test_easy_tasks_are_solved_and_the_run_directory_is_written(tmp_path):
    cfg = MycosEvolveConfig(pop=64, gens=40, seed=2, penalties=FREE)
    run, summary = timed_evolve(cfg, load_task("T00_wire_echo"), RunDirectory(tmp_path))
    assert summary["generation_solved"] is not None and summary["best_score"] >= 0.95
    on_disk = json.loads((tmp_path / "summary.json").read_text())
    assert on_disk["state_hash"] == state_hash(run) and on_disk["evaluations"] == run.evaluations
    champion = from_json((tmp_path / "champion.json").read_text())
    assert champion == run.champion
    assert (tmp_path / "champion" / "chunk_000.myc").is_file()
    rows = (tmp_path / "evaluations.csv").read_text().splitlines()
    assert rows[0] == "generation,best_fitness,mean_fitness,best_score,species,evaluations,front"
    assert len(rows) == 1 + len(run.history)


def test_a_resumed_run_continues_bit_identically(tmp_path):
    from primordia.runs.mycos_run import load_checkpoint, save_checkpoint

    cfg = MycosEvolveConfig(pop=40, gens=8, seed=11, target_score=1.0)
    task = load_task("T01_xor2")
    straight = evolve(cfg, task)
    half = evolve(cfg.model_copy(update={"gens": 4}), task)
    save_checkpoint(half, RunDirectory(tmp_path))
    resumed = load_checkpoint(tmp_path)
    assert state_hash(resumed) == state_hash(half)
    resumed.config = resumed.config.model_copy(update={"gens": 8})
    run, _ = timed_evolve(resumed.config, task, run=resumed)
    assert state_hash(run) == state_hash(straight)
    assert [vars(h) for h in run.history] == [vars(h) for h in straight.history]
    assert run.champion == straight.champion


def test_malformed_checkpoints_are_clear_errors(tmp_path):
    import pytest

    from primordia.core.errors import ConfigError, InputFileError
    from primordia.runs.mycos_run import load_checkpoint, seal

    with pytest.raises(InputFileError):
        load_checkpoint(tmp_path)
    (tmp_path / "checkpoint.json").write_text("[1, 2]")
    with pytest.raises(ConfigError, match="not a checkpoint"):
        load_checkpoint(tmp_path)
    (tmp_path / "checkpoint.json").write_text(json.dumps(seal({"version": 4, "config": {}})))
    with pytest.raises(ConfigError, match="malformed"):
        load_checkpoint(tmp_path)


def test_hostile_checkpoints_are_clear_errors(tmp_path):
    import pytest

    from primordia.core.errors import ConfigError
    from primordia.runs.mycos_run import checkpoint, load_checkpoint, seal

    run = evolve(MycosEvolveConfig(pop=8, gens=2, seed=1, target_score=1.0),
                 load_task("T00_wire_echo"))
    good = checkpoint(run)

    def broken(edit) -> dict:
        data = json.loads(json.dumps(good))
        edit(data)
        return data

    cases = [
        (b'{"a": "\xff"}', "not JSON"),
        (b"[" * 100_000, "not JSON"),
        (broken(lambda d: d.update(generation=float("inf"))), "generation"),
        (broken(lambda d: d.update(generation=-1)), "generation"),
        (broken(lambda d: d["history"][0].update(best_fitness="x")), "malformed"),
        (broken(lambda d: d["evolver"]["speciation"].update(step=-1.0)), "speciation"),
        (broken(lambda d: d.update(champion=None)), "champion"),
        (broken(lambda d: d["config"].update(max_rounds=2**70)), "malformed"),
        (broken(lambda d: d.update(generation_solved="x")), "generation_solved"),
        (broken(lambda d: d.update(champion_fitness=float("nan"))), "champion_fitness"),
        (broken(lambda d: d["evolver"]["novelty"].update(k=True)), "novelty"),
        (broken(lambda d: d["evolver"]["novelty"].update(archive=[[1.0, 2.0, 3.0]])),
         "novelty.archive"),
    ]
    for content, words in cases:
        raw = content if isinstance(content, bytes) else json.dumps(seal(content)).encode()
        (tmp_path / "checkpoint.json").write_bytes(raw)
        with pytest.raises(ConfigError, match=words):
            load_checkpoint(tmp_path)


def test_nsga2_and_novelty_runs_resume_bit_identically(tmp_path):
    from primordia.runs.mycos_run import load_checkpoint, save_checkpoint

    task = load_task("T02_sr_latch")
    for extra in ({"selection": "nsga2"}, {"novelty": 0.5},
                  {"selection": "nsga2", "novelty": 0.5}):
        cfg = MycosEvolveConfig(pop=32, gens=6, seed=3, target_score=1.0, **extra)
        straight = evolve(cfg, task)
        half = evolve(cfg.model_copy(update={"gens": 3}), task)
        save_checkpoint(half, RunDirectory(tmp_path))
        resumed = load_checkpoint(tmp_path)
        resumed.config = resumed.config.model_copy(update={"gens": 6})
        run, _ = timed_evolve(resumed.config, task, run=resumed)
        assert state_hash(run) == state_hash(straight), extra
        assert (run.evolver.novelty.archive.tolist()
                == straight.evolver.novelty.archive.tolist())
        assert run.parent_objectives.tolist() == straight.parent_objectives.tolist()


def test_nsga2_keeps_the_survivors_and_solves_a_sequential_task():
    cfg = MycosEvolveConfig(pop=48, gens=40, seed=1, selection="nsga2")
    task = load_task("T03_pulse_counter")
    run = evolve(cfg, task)
    assert run.generation_solved is not None and run.generation_solved > 0
    assert run.champion_score >= 0.95
    assert len(run.parents) == 48 and run.parent_objectives.shape == (48, 4)
    assert all(s.front >= 1 for s in run.history)
    plain = evolve(cfg.model_copy(update={"gens": 3, "target_score": 1.0}), task)
    species = evolve(cfg.model_copy(update={"gens": 3, "target_score": 1.0,
                                            "selection": "species"}), task)
    assert state_hash(plain) != state_hash(species)


def test_novelty_fills_its_archive_and_changes_selection():
    task = load_task("T02_sr_latch")
    cfg = MycosEvolveConfig(pop=40, gens=5, seed=9, target_score=1.0)
    plain = evolve(cfg, task)
    novel = evolve(cfg.model_copy(update={"novelty": 0.3}), task)
    assert plain.evolver.novelty.archive.size == 0
    assert novel.evolver.novelty.archive.shape[1] == 4          # 2 episodes x 2 ticks x 1 output
    assert state_hash(novel) != state_hash(plain)


def test_a_version_3_checkpoint_still_resumes(tmp_path):
    """Version 3 kept the evolver's state (speciation, novelty, NSGA-II survivors) at the
    top level; version 4 keeps it under ``evolver``. Both resume to the same run."""
    from primordia.runs.mycos_run import checkpoint, load_checkpoint, seal

    task = load_task("T02_sr_latch")
    for extra in ({}, {"selection": "nsga2", "novelty": 0.5}):
        cfg = MycosEvolveConfig(pop=16, gens=4, seed=2, target_score=1.0, **extra)
        straight = evolve(cfg, task)
        half = evolve(cfg.model_copy(update={"gens": 2}), task)
        doc = checkpoint(half)
        state = doc.pop("evolver")
        old = {**doc, "version": 3, "speciation": state.get("speciation", {
            "target": 10, "threshold": 0.5, "step": 0.1, "min_threshold": 1e-3,
            "representatives": []}), "novelty": state["novelty"],
            "parents": state.get("parents", []),
            "parent_objectives": state.get("parent_objectives", [])}
        (tmp_path / "checkpoint.json").write_text(json.dumps(seal(old)))
        resumed = load_checkpoint(tmp_path)
        assert (json.loads(json.dumps(checkpoint(resumed)["evolver"]))
                == json.loads(json.dumps(state)))
        resumed.config = resumed.config.model_copy(update={"gens": 4})
        run, _ = timed_evolve(resumed.config, task, run=resumed)
        assert state_hash(run) == state_hash(straight), extra
