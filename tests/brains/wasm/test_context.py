"""The host side of the context: written into many memories at once, read back after a step."""

from __future__ import annotations

import numpy as np
import pytest

from primordia.brains.wasm import ir
from primordia.brains.wasm.context import (energy_age_sensors, read_actions, read_records,
                                           surroundings_of, surroundings_sensors,
                                           write_contexts, write_contexts_from_sensors,
                                           write_contexts_reference)
from primordia.brains.wasm.layout import (F_EAT, H_ACTIONS, H_AGE, H_ENERGY, H_GAS, H_ID,
                                          H_LAST_RESULT, H_MEMORY, H_NEIGHBORS, H_RADIUS,
                                          H_RAND, H_SENSORS, H_TICK, HEADER_WORDS, R_FLAGS,
                                          RECORD_WORDS, Layout)
from primordia.brains.wasm.reference import run_step

LAYOUT = Layout(sensors=3, actions=2, radius=1, memory=1024)
SLOTS = np.array([3, 1])


def _garbage(rows: int = 5) -> np.ndarray:
    """Memories full of a recognisable pattern, so that anything not written shows."""
    return (np.arange(rows * LAYOUT.memory) % 251 + 1).astype(np.uint8).reshape(rows, -1)


def _words(mem: np.ndarray, slot: int) -> np.ndarray:
    return mem[slot].view("<i4")


def _write(mem: np.ndarray, **extra) -> None:
    args = dict(tick=7, ids=np.array([30, 10]), rand=np.array([0xFFFF_FFFF, 5], np.uint32),
                budget=np.array([100, 200]))
    args.update(extra)
    write_contexts(mem, LAYOUT, SLOTS, np.array([[1, -2, 3], [4, 5, -6]], np.int32), **args)


def test_the_header_says_what_the_doc_says():
    mem = _garbage()
    _write(mem, energy=np.array([50, 60]), age=np.array([2, 3]), last_result=np.array([1, 0]),
           n_neighbors=np.array([2, 20]))
    header = _words(mem, 3)[:HEADER_WORDS]
    assert header[H_TICK] == 7 and header[H_ID] == 30
    assert header[H_RAND] == -1                       # 32 random bits, read as i32
    assert (header[H_ENERGY], header[H_AGE], header[H_LAST_RESULT]) == (50, 2, 1)
    assert (header[H_SENSORS], header[H_ACTIONS], header[H_RADIUS]) == (3, 2, 1)
    assert (header[H_NEIGHBORS], header[H_GAS], header[H_MEMORY]) == (2, 100, 1024)
    assert list(header[12:16]) == [0, 0, 0, 0]
    assert _words(mem, 1)[H_NEIGHBORS] == 8           # clamped to 0..8
    assert _words(mem, 1)[H_RAND] == 5


def test_missing_values_are_written_as_0():
    mem = _garbage()
    _write(mem)
    words = _words(mem, 1)
    assert (words[H_ENERGY], words[H_AGE], words[H_LAST_RESULT], words[H_NEIGHBORS]) == \
        (0, 0, 0, 0)
    assert not words[LAYOUT.view_at:LAYOUT.words].any()


def test_sensors_view_and_neighbours_land_at_their_offsets_and_actions_are_zeroed():
    mem = _garbage()
    view = np.arange(18).reshape(2, 3, 3)
    neighbors = np.arange(64).reshape(2, 8, 4) - 10
    _write(mem, view=view, neighbors=neighbors)
    for row, slot in enumerate(SLOTS):
        words = _words(mem, slot)
        assert list(words[LAYOUT.sensor_at:LAYOUT.action_at]) == [[1, -2, 3], [4, 5, -6]][row]
        assert not words[LAYOUT.action_at:LAYOUT.view_at].any()     # actions and record
        assert list(words[LAYOUT.view_at:LAYOUT.neighbor_at]) == list(view[row].ravel())
        assert list(words[LAYOUT.neighbor_at:LAYOUT.words]) == list(neighbors[row].ravel())


def test_rows_not_written_and_memory_past_the_context_stay_as_they_were():
    mem = _garbage()
    before = mem.copy()
    _write(mem)
    for slot in (0, 2, 4):
        assert np.array_equal(mem[slot], before[slot])
    assert np.array_equal(mem[SLOTS, LAYOUT.bytes:], before[SLOTS, LAYOUT.bytes:])


def test_read_actions_takes_action_0_from_the_codes():
    mem = _garbage()
    _write(mem)
    _words(mem, 3)[LAYOUT.action_at:LAYOUT.action_at + 2] = [11, 12]
    _words(mem, 1)[LAYOUT.action_at + 1] = -13
    actions = read_actions(mem, LAYOUT, SLOTS, np.array([4, -5]))
    assert actions.dtype == np.int32
    assert actions.tolist() == [[4, 12], [-5, -13]]


def test_read_actions_without_actions_is_empty():
    layout = Layout(sensors=1, actions=0)
    mem = np.zeros((2, layout.memory), np.uint8)
    assert read_actions(mem, layout, [0, 1], [3, 4]).shape == (2, 0)


def test_read_records_gives_each_slots_record():
    mem = _garbage()
    _write(mem)
    _words(mem, 1)[LAYOUT.record_at + R_FLAGS] = F_EAT
    records = read_records(mem, LAYOUT, SLOTS)
    assert records.shape == (2, RECORD_WORDS) and records.dtype == np.int32
    assert records[:, R_FLAGS].tolist() == [0, F_EAT]


def test_a_step_sees_the_context_and_its_actions_are_read_back():
    """Round trip through the reference: step reads sensor 1 and its energy, acts, eats."""
    I = lambda name, a=0, b=0, c=0: ir.Instr(ir.CODE[name], a, b, c)  # noqa: E731, E741
    genome = ir.make_genome([ir.Function(0, 1, 4, (
        I("sense", 0, 1), I("get_energy", 1), I("add", 2, 0, 1), I("act", 1, 2),
        I("eat", 3), I("return", 0)))])
    mem = _garbage()
    _write(mem, energy=np.array([100, 1000]))
    codes = []
    for slot in SLOTS:
        memory = bytearray(mem[slot].tobytes())
        codes.append(run_step(genome, memory, LAYOUT, 50).code)
        mem[slot] = np.frombuffer(bytes(memory), np.uint8)
    assert read_actions(mem, LAYOUT, SLOTS, codes).tolist() == [[-2, 98], [5, 1005]]
    assert read_records(mem, LAYOUT, SLOTS)[:, R_FLAGS].tolist() == [F_EAT, F_EAT]


def test_mem_must_fit_the_layout():
    with pytest.raises(ValueError):
        read_records(np.zeros((2, 2048), np.uint8), LAYOUT, [0])


@pytest.mark.parametrize("names, expected", [
    (("energy", "x", "age"), (0, 2)), (("age",), (None, 0)), ((), (None, None)),
])
def test_energy_and_age_come_from_the_sensors_of_those_names(names, expected):
    assert energy_age_sensors(names) == expected


@pytest.mark.parametrize("give", [False, True])
@pytest.mark.parametrize("layout", [Layout(5, 3, radius=2, memory=1024), Layout(0, 0, memory=1024),
                                    Layout(31, 4)], ids=["view", "empty", "sandbox"])
def test_the_one_pass_writer_matches_the_reference(layout, give):
    """write_contexts (a numba pass) and write_contexts_reference (numpy) write the same
    bytes, and leave the same bytes alone."""
    rng = np.random.default_rng(7)
    n = 50
    slots = rng.permutation(80)[:n]
    fast = rng.integers(0, 256, (80, layout.memory), dtype=np.uint8)
    slow = fast.copy()
    kw = dict(tick=3, ids=slots, rand=rng.integers(0, 1 << 32, n),
              budget=rng.integers(-5, 99, n), energy=rng.integers(0, 9, n))
    if give:
        kw.update(view=rng.integers(0, 9, (n, layout.view_side ** 2)),
                  neighbors=rng.integers(-5, 5, (n, 8, 4)),
                  n_neighbors=rng.integers(-2, 12, n), last_result=7, age=4)
    sensors = rng.integers(-9, 9, (n, layout.sensors))
    write_contexts(fast, layout, slots, sensors, **kw)
    write_contexts_reference(slow, layout, slots, sensors, **kw)
    assert (fast == slow).all()


@pytest.mark.parametrize("names", [
    ("energy", "age", "tile", "neighbors") + tuple(f"view_{k}" for k in range(25))
    + tuple(f"nb{j}_{f}" for j in range(3) for f in ("dx", "dy", "energy", "kin")),
    ("age", "x") + tuple(f"view_{k}" for k in range(9)),
    ("food", "energy", "nb0_dx", "nb0_kin", "neighbors"),
    ("a", "b", "c")], ids=["ecology", "view-only", "some-records", "none"])
def test_writing_from_the_sensor_matrix_matches_gathering_rows(names):
    """The brain's writer reads the view, records, energy and age from the world's whole
    sensor matrix; it writes what gathering the rows and ``write_contexts`` would."""
    io_names = list(names)
    where = surroundings_sensors(io_names)
    layout = Layout(len(io_names), 4, radius=where.radius, memory=2048)
    rng = np.random.default_rng(11)
    cap, n = 90, 60
    slots = np.sort(rng.permutation(cap)[:n])
    sensors = rng.integers(-2**31, 2**31, (cap, len(io_names))).astype(np.int32)
    energy, age = energy_age_sensors(io_names)
    kw = dict(tick=5, ids=slots, rand=rng.integers(0, 1 << 32, n), budget=rng.integers(0, 999, n))
    fast = rng.integers(0, 256, (cap, layout.memory), dtype=np.uint8)
    slow = fast.copy()
    write_contexts_from_sensors(fast, layout, slots, sensors, where, energy=energy, age=age,
                                **kw)
    rows = sensors[slots]
    view, neighbors, count = surroundings_of(rows, where)
    write_contexts(slow, layout, slots, rows, view=view, neighbors=neighbors,
                   n_neighbors=count, energy=None if energy is None else rows[:, energy],
                   age=None if age is None else rows[:, age], **kw)
    assert (fast == slow).all()
