"""The shipped tasks load and mean what they say: a hand-built network solves each one with
a perfect score, and scoring, penalties and objectives follow their definitions."""

from __future__ import annotations

import json

import numpy as np
import pytest

from primordia.brains.mycos.genome import (DISABLE, ENABLE, FLIP, INPUT, INTERNAL, OFF, ON,
                                           OUTPUT, TOGGLE, ChunkGene, ConnGene, LinkGene,
                                           MycosGenome)
from primordia.core.errors import ConfigError
from primordia.tasks.scoring import Penalties, episode_scores, evaluate_task
from primordia.tasks.task import builtin_tasks, load_task, task_from_json


def c(fs, fi, ts, ti, tag, trigger=ON, action=ENABLE):
    return ConnGene(from_section=fs, from_index=fi, order_tag=tag, to_section=ts, to_index=ti,
                    trigger=trigger, action=action)


def follow(fs, fi, ts, ti, tag=1):
    """Target bit copies source bit: On -> Enable, Off -> Disable."""
    return (c(fs, fi, ts, ti, tag, ON, ENABLE), c(fs, fi, ts, ti, tag + 1, OFF, DISABLE))


WIRE = MycosGenome(chunks=(ChunkGene(ni=1, no=1, nn=1, conns=(
    *follow(INPUT, 0, INTERNAL, 0), *follow(INTERNAL, 0, OUTPUT, 0))),))
# a's toggle reaches Out2 in round 2, b's in round 3 (one more hop): they never conflict
XOR = MycosGenome(chunks=(ChunkGene(ni=2, no=3, nn=3, conns=(
    c(INPUT, 0, INTERNAL, 0, 1), c(INTERNAL, 0, OUTPUT, 2, 1, action=FLIP),
    c(INPUT, 1, INTERNAL, 1, 1), c(INTERNAL, 1, INTERNAL, 2, 1),
    c(INTERNAL, 2, OUTPUT, 2, 1, action=FLIP))),))
LATCH = MycosGenome(chunks=(ChunkGene(ni=2, no=3, nn=1, conns=(
    c(INPUT, 0, INTERNAL, 0, 1), c(INPUT, 1, INTERNAL, 0, 1, action=DISABLE),
    *follow(INTERNAL, 0, OUTPUT, 2))),))
COUNTER = MycosGenome(chunks=(ChunkGene(ni=1, no=3, nn=2, conns=(
    c(INPUT, 0, INTERNAL, 0, 1, action=FLIP),
    *follow(INTERNAL, 0, OUTPUT, 1), c(INTERNAL, 0, INTERNAL, 1, 5, OFF, FLIP),   # carry
    *follow(INTERNAL, 1, OUTPUT, 2))),))
relay = ChunkGene(ni=1, no=1, nn=1, conns=(*follow(INPUT, 0, INTERNAL, 0),
                                           *follow(INTERNAL, 0, OUTPUT, 0)))
inverter = ChunkGene(ni=1, no=1, nn=1, conns=(
    c(INPUT, 0, INTERNAL, 0, 1, ON, DISABLE), c(INPUT, 0, INTERNAL, 0, 2, OFF, ENABLE),
    *follow(INTERNAL, 0, OUTPUT, 0)))
CROSS = MycosGenome(chunks=(relay, inverter), links=(
    LinkGene(from_chunk=0, from_out_idx=0, order_tag=1, to_chunk=1, to_in_idx=0),
    LinkGene(from_chunk=0, from_out_idx=0, order_tag=2, to_chunk=1, to_in_idx=0, trigger=OFF,
             action=DISABLE)))
SOLUTIONS = {"T00_wire_echo": WIRE, "T01_xor2": XOR, "T02_sr_latch": LATCH,
             "T03_pulse_counter": COUNTER, "T04_cross_chunk": CROSS}


def test_the_five_tasks_ship():
    assert builtin_tasks() == sorted(SOLUTIONS)


@pytest.mark.parametrize("name", sorted(SOLUTIONS))
def test_a_hand_built_network_solves_each_task(name):
    task = load_task(name)
    others = [g for n, g in SOLUTIONS.items() if n != name]
    result = evaluate_task(task, [SOLUTIONS[name], *others])
    assert result.scores[0].tolist() == [1.0] * len(task.episodes)
    assert result.scores[1:].mean() < 1.0          # the tasks tell the networks apart
    g = SOLUTIONS[name]
    size = g.n_connections * 1e-4 + sum(ch.nn for ch in g.chunks) * 1e-4 + len(g.links) * 1e-4
    assert result.fitness[0] == pytest.approx(1.0 - size)
    assert result.objectives[0].tolist() == pytest.approx(
        [1.0, -g.n_connections, -sum(ch.nn for ch in g.chunks), 0.0])


def test_pulse_tasks_lower_their_inputs_within_each_tick():
    task = load_task("T03_pulse_counter")
    values = task.input_values()
    assert values.shape == (1, 6, 1) and values[0, :, 0].tolist() == [1, 0, 1, 0, 1, 0]
    level = load_task("T02_sr_latch").input_values()
    assert level[:, :, :].tolist() == [[[1, 0], [0, 0]], [[0, 1], [0, 0]]]


def test_hamming_and_latency_scores():
    task = load_task("T02_sr_latch")
    seen = np.array([[[[1], [0]], [[1], [1]]]], dtype=np.uint8)     # [g, e, t, j]
    assert episode_scores(task, seen).tolist() == [[0.5, 0.0]]
    latency = task.model_copy(update={"scoring": task.scoring.model_copy(
        update={"kind": "latency", "alpha": 1.0})})
    assert episode_scores(latency, seen).tolist() == [[1.0, 0.0]]
    seen2 = np.array([[[[0], [1]], [[1], [1]]]], dtype=np.uint8)
    assert episode_scores(latency, seen2)[0].tolist() == pytest.approx([np.exp(-1.0), 0.0])


def test_oscillation_costs_fitness():
    loop = MycosGenome(chunks=(ChunkGene(ni=2, no=3, nn=1, conns=(
        c(INPUT, 0, INTERNAL, 0, 1, action=FLIP),
        c(INTERNAL, 0, INTERNAL, 0, 1, trigger=TOGGLE, action=FLIP))),))
    result = evaluate_task(load_task("T01_xor2"), [loop], weights=Penalties(osc=0.01))
    m = result.metrics[0]
    assert m[:, 2].tolist() == [0, 1, 0, 1]                # episodes where in0 rises cycle
    osc = (0.01 * m[:, 0] * m[:, 2] + 5e-4 * (m[:, 3] > 0)).mean()
    assert result.objectives[0, 3] == pytest.approx(-osc)
    assert result.fitness[0] == pytest.approx(result.scores[0].mean() - 2e-4 - 1e-4 - osc)


@pytest.mark.parametrize("edit,words", [
    (lambda t: t.update(tick_budget=0), "tick_budget"),
    (lambda t: t["episodes"][0].update(expected=[[1, 0]]), "episodes\\[0\\].expected"),
    (lambda t: t["episodes"][0].update(inputs=[[1, 2]]), "episodes.0.inputs"),
    (lambda t: t["io"].update(inputs=[[0, 0], [0, 0]]), "named twice"),
    (lambda t: t.update(input_mode="burst"), "input_mode"),
    (lambda t: t.update(extra=1), "extra"),
    (lambda t: t["scoring"].update(kind="psychic"), "scoring.kind"),
    (lambda t: t["episodes"][0].update(internals=[[0, 256, 1]]), "internal bits 0..255"),
    (lambda t: t["episodes"][0].update(internals=[[0, 0, 2]]), "episodes.0.internals"),
])
def test_bad_tasks_are_config_errors_naming_the_field(edit, words):
    data = json.loads(json.dumps(load_task("T01_xor2").model_dump()))
    edit(data)
    with pytest.raises(ConfigError, match=words):
        task_from_json(json.dumps(data))


def test_unknown_task_lists_the_known_ones():
    with pytest.raises(ConfigError, match="T01_xor2"):
        load_task("T99_nothing")


@pytest.mark.parametrize("text", [b'{"name": "\xff"}', "[" * 100_000 + "]" * 100_000,
                                  '{"name": 1' + "0" * 5000 + "}"])
def test_hostile_task_files_are_config_errors(text):
    with pytest.raises(ConfigError, match="not JSON"):
        task_from_json(text)


def test_task_io_bits_are_bounded_and_absurd_names_are_unknown_tasks():
    data = json.loads(json.dumps(load_task("T01_xor2").model_dump()))
    data["io"]["inputs"] = [[0, 30_000_000], [0, 1]]
    with pytest.raises(ConfigError, match="bits up to 4095"):
        task_from_json(json.dumps(data))
    data["io"]["inputs"] = [[100_000_000, 0], [0, 1]]
    with pytest.raises(ConfigError, match="chunks go up to 63"):
        task_from_json(json.dumps(data))
    with pytest.raises(ConfigError, match="unknown task"):
        load_task("x" * 5000)


def test_episodes_can_start_from_other_internal_bits():
    """A task whose second episode starts a memory bit at 1: the same input must then
    produce the other output, which only a network that reads the bit can do."""
    memory = MycosGenome(chunks=(ChunkGene(ni=1, no=1, nn=1, conns=(
        c(INPUT, 0, INTERNAL, 0, 1, action=FLIP),
        *follow(INTERNAL, 0, OUTPUT, 0))),))
    data = {"name": "flip_memory", "io": {"inputs": [[0, 0]], "outputs": [[0, 0]]},
            "tick_budget": 1,
            "episodes": [{"inputs": [[1]], "expected": [[1]]},
                         {"inputs": [[1]], "expected": [[0]], "internals": [[0, 0, 1]]}]}
    wire_via_bit_1 = MycosGenome(chunks=(ChunkGene(ni=1, no=1, nn=2, conns=(
        *follow(INPUT, 0, INTERNAL, 1), *follow(INTERNAL, 1, OUTPUT, 0))),))
    task = task_from_json(json.dumps(data))
    assert task.internals() == [[], [(0, 0, 1)]]
    assert evaluate_task(task, [memory, wire_via_bit_1]).scores.tolist() == [[1.0, 1.0],
                                                                             [1.0, 0.0]]
    assert load_task("T01_xor2").internals() is None
