"""Checkpoints are untrusted input: a damaged file is refused as damaged (its digest), and a
file resealed with hostile values is refused by the world's rules -- in one line naming the
array and the place, exit code 2 from the CLI, never a traceback, a crash or a world built
from nonsense. Each world's real (tiny) run is saved once, then damaged in copies."""

from __future__ import annotations

import io
import json
import shutil
import struct
import tempfile
import zipfile
from pathlib import Path
from typing import Callable

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from primordia.core.errors import GenomeError, InputFileError, PrimordiaError
from primordia.runs import checkpoint as ckpt
from primordia.runs.checkpoint import META, checkpoint_digest, load_checkpoint, save_checkpoint
from primordia.runs.hex_run import HexRun
from primordia.runs.mycos_run import MycosEvolveConfig, timed_evolve
from primordia.runs.mycos_run import load_checkpoint as load_mycos
from primordia.runs.mycos_run import seal, state_hash
from primordia.runs.rundir import RunDirectory
from primordia.runs.sandbox_run import SandboxRun
from primordia.tasks.task import load_task
from primordia.worlds.hex.config import HexConfig
from primordia.worlds.sandbox.config import SandboxConfig

from ..e2e.test_cli_psil import assert_user_error, cli

CHECKPOINT = "checkpoint.npz"
Edit = Callable[[dict, dict], None]


# ---- real runs, saved once ------------------------------------------------------------------

@pytest.fixture(scope="module")
def sandbox_run(tmp_path_factory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("sandbox") / "run"
    run = SandboxRun(SandboxConfig(npcs=12, ticks=30, seed=7, evolve_every=10), out=out,
                     brain="psil", record_every=10)
    run.execute()
    return out, run.world.state_hash()


@pytest.fixture(scope="module")
def hex_run(tmp_path_factory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("hex") / "run"
    run = HexRun(HexConfig(world_width=6, num_organisms=10, turns=25, seed=3), out=out,
                 brain="neural", record_every=10)
    run.execute()
    return out, run.world.state_hash()


@pytest.fixture(scope="module")
def mycos_run(tmp_path_factory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("mycos") / "run"
    run, _ = timed_evolve(MycosEvolveConfig(pop=8, gens=2, seed=1, target_score=1.0),
                          load_task("T00_wire_echo"), RunDirectory(out))
    return out, state_hash(run)


def copy(run_dir: Path, to: Path) -> Path:
    dst = to / "run"
    shutil.copytree(run_dir, dst)
    return dst


def rewrite(run_dir: Path, edit: Edit, sealed: bool = True) -> None:
    """Load the checkpoint, let ``edit`` change its arrays and metadata, and save it:
    ``sealed``: with a digest of the new contents (what a hostile writer does), else
    keeping the digest of the old ones (what damage does)."""
    path = run_dir / CHECKPOINT
    arrays, meta = load_checkpoint(path)
    arrays = {k: np.array(v) for k, v in arrays.items()}
    digest = checkpoint_digest(arrays, meta)
    edit(arrays, meta)
    if sealed:
        save_checkpoint(path, arrays, meta)
    else:
        write_npz(path, arrays, {**meta, "digest": digest})


def write_npz(path: Path, arrays: dict, meta: dict) -> None:
    payload = dict(arrays)
    payload[META] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    np.savez_compressed(path, **payload)


def refused(resume: Callable[[], object], *words: str) -> PrimordiaError:
    """``resume()`` raises a one-line PrimordiaError holding every word."""
    with pytest.raises(PrimordiaError) as info:
        resume()
    message = str(info.value)
    assert "\n" not in message, message
    for w in words:
        assert w in message, (w, message)
    return info.value


def live_slot(arrays: dict) -> int:
    return int(np.flatnonzero(arrays["state.alive"])[0])


def set_at(name: str, value, slot: Callable[[dict], tuple] = lambda a: (live_slot(a),)
           ) -> Edit:
    def edit(arrays: dict, meta: dict) -> None:
        arrays[name][slot(arrays)] = value
    return edit


def empty_cell(arrays: dict, grid: str) -> tuple:
    return tuple(int(i) for i in np.argwhere(arrays[grid] == -1)[0])


def live_cell(arrays: dict) -> tuple:
    i = live_slot(arrays)
    return int(arrays["state.y"][i]), int(arrays["state.x"][i])


# ---- the sandbox ------------------------------------------------------------------------------

SANDBOX_CASES = [
    ("x 1e8", set_at("state.x", 10**8), ("state.x holds 100000000 at slot",
                                         "positions are 0..31")),
    ("y 1e6", set_at("state.y", 10**6), ("state.y holds 1000000 at slot", "positions")),
    ("item 99999", set_at("state.item", 99999), ("state.item holds 99999", "items are 0..7")),
    ("tile 250", set_at("state.tile", 250, lambda a: (3, 4)),
     ("state.tile holds 250 at cell (4, 3)", "tile codes are 0..9")),
    ("occupant not there",
     lambda a, m: a["state.occupant"].__setitem__(empty_cell(a, "state.occupant"),
                                                  live_slot(a)),
     ("state.occupant holds", "is not a living NPC there")),
    ("occupant missing", lambda a, m: a["state.occupant"].__setitem__(live_cell(a), -1),
     ("state.occupant holds -1", "where the NPC in slot")),
    ("a dead NPC still on the map", lambda a, m: a["state.alive"].__setitem__(live_slot(a), 0),
     ("state.occupant holds", "is not a living NPC there")),
    ("a dead NPC's genome", lambda a, m: (a["state.occupant"].__setitem__(live_cell(a), -1),
                                          a["state.alive"].__setitem__(live_slot(a), 0)),
     ("genome_present holds True", "living NPCs and genomes go together")),
    ("negative next id", set_at("scalars", -5, lambda a: (1,)),
     ("scalars.next_id is -5", "next ids are 1..")),
    ("negative tick", set_at("scalars", -1, lambda a: (0,)), ("scalars.tick_no is -1",)),
    ("negative energy", set_at("state.energy", -7), ("state.energy holds -7", "energies")),
    ("negative counter", set_at("state.stats", -3, lambda a: (0,)),
     ("state.stats (attacks) is -3",)),
    ("food rate nan", set_at("food_rate", np.nan, lambda a: (0,)), ("food_rate holds nan",)),
    ("parent 1e12", set_at("lineage.parents", 10**12, lambda a: (0,)),
     ("lineage.parents holds 1000000000000", "a parent is an id in the lineage")),
    ("heading 0", set_at("state.heading", 0), ("state.heading holds 0", "headings are 1..4")),
    ("modifier kind", set_at("state.mod_kind", 77, lambda a: (live_slot(a), 2)),
     ("state.mod_kind holds 77 at slot", "modifier 2")),
    ("trade intent", set_at("state.trade_with", 5), ("state.trade_with holds 5",)),
    ("an id from the future", set_at("state.npc_id", 10**6), ("state.npc_id holds 1000000",)),
    ("a living NPC out of the lineage",
     lambda a, m: a["lineage.destruction"].__setitem__(
         int(np.searchsorted(a["lineage.id"], a["state.npc_id"][live_slot(a)])), 12),
     ("is alive, but lineage.destruction says it died",)),
    ("genome bytes short",
     lambda a, m: a.__setitem__("genome_bytes", a["genome_bytes"][:-3]),
     ("genome_bytes holds", "genome_lengths add up to")),
    ("a missing array", lambda a, m: a.pop("state.x"), ("state.x is missing",)),
    ("a wrong dtype", lambda a, m: a.__setitem__("state.x", a["state.x"].astype(np.float64)),
     ("state.x has dtype float64, expected int32",)),
    ("a wrong shape", lambda a, m: a.__setitem__("state.x", a["state.x"][:11]),
     ("state.x has shape (11,), the config needs shape (12,)",)),
    ("a larger shape than the config allows",
     lambda a, m: a.__setitem__("state.x", np.zeros(13, np.int32)),
     ("state.x has shape (13,), more than the config allows",)),
    ("a longer lineage than the run can have",
     lambda a, m: a.__setitem__("lineage.id", np.arange(1, 12 * 31 + 2, dtype=np.int64)),
     ("lineage.id has shape (373,), more than the config allows",)),
    ("an unexpected array", lambda a, m: a.__setitem__("extra", np.zeros(2)),
     ("unexpected array 'extra'",)),
    ("brain memory of another dtype",
     lambda a, m: a.__setitem__("brain.memory", a["brain.memory"].astype(np.int64)),
     ("brain.memory has dtype int64, expected int16",)),
    ("timeline samples without their tick", lambda a, m: m.__setitem__("samples", [{}]),
     ("metadata: samples.0.tick",)),
    ("negative wall time", lambda a, m: m.__setitem__("wall_seconds", -1.0),
     ("metadata: wall_seconds",)),
    ("an empty recording", lambda a, m: m.__setitem__("record_bytes", 0),
     ("metadata: record_bytes",)),
    ("an unknown brain", lambda a, m: m.__setitem__("brain", "nope"),
     ("metadata: brain: 'nope' is not a brain Primordia knows",)),
    ("another world", lambda a, m: m.__setitem__("world", "hex"),
     ("checkpoint of world 'hex'",)),
    ("a negative position in time", lambda a, m: m.__setitem__("tick", -4),
     ("metadata: tick",)),
]


@pytest.mark.parametrize("edit,words", [(e, w) for _, e, w in SANDBOX_CASES],
                         ids=[name for name, _, _ in SANDBOX_CASES])
def test_a_resealed_sandbox_checkpoint_with_a_hostile_value_is_refused(sandbox_run, tmp_path,
                                                                        edit, words):
    d = copy(sandbox_run[0], tmp_path)
    rewrite(d, edit)
    refused(lambda: SandboxRun.resume(d), *words)


def test_the_same_values_unsealed_are_refused_as_damaged(sandbox_run, hex_run, tmp_path):
    for k, (run_dir, _) in enumerate((sandbox_run, hex_run)):
        d = copy(run_dir, tmp_path / str(k))
        rewrite(d, set_at("scalars", 5, lambda a: (1,)), sealed=False)
        refused(lambda: (SandboxRun if k == 0 else HexRun).resume(d), "run/checkpoint.npz",
                "is damaged: its digest does not match its contents")


def test_a_sealed_copy_resumes_to_the_identical_state(sandbox_run, hex_run, tmp_path):
    for k, (run_dir, digest) in enumerate((sandbox_run, hex_run)):
        d = copy(run_dir, tmp_path / str(k))
        rewrite(d, lambda a, m: None)
        run = (SandboxRun if k == 0 else HexRun).resume(d)
        assert run.world.state_hash() == digest


def test_a_safe_cast_keeps_the_state(sandbox_run, tmp_path):
    """Positions stored as int16 hold the same values: they are cast, not refused."""
    d = copy(sandbox_run[0], tmp_path)
    rewrite(d, lambda a, m: a.__setitem__("state.x", a["state.x"].astype(np.int16)))
    assert SandboxRun.resume(d).world.state_hash() == sandbox_run[1]


def test_arrays_larger_than_the_config_allows_are_never_read(sandbox_run, tmp_path,
                                                             monkeypatch):
    d = copy(sandbox_run[0], tmp_path)
    rewrite(d, lambda a, m: a.__setitem__("genome_bytes", np.zeros(12 * 65536 + 1, np.uint8)))
    read = []
    real = ckpt.CheckpointFile._array
    monkeypatch.setattr(ckpt.CheckpointFile, "_array",
                        lambda self, e: read.append(e.info.filename) or real(self, e))
    refused(lambda: SandboxRun.resume(d), "genome_bytes has shape (786433,), more than the "
                                         "config allows")
    assert read == [META + ".npy"]


# ---- damaged files (any world: they fail before the world is known) --------------------------

def _no_digest(path: Path) -> None:
    arrays, meta = load_checkpoint(path)
    write_npz(path, arrays, meta)


def _pickled(path: Path) -> None:
    buf = io.BytesIO()
    np.save(buf, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with zipfile.ZipFile(path, "a") as z:
        z.writestr("evil.npy", buf.getvalue())


def _not_an_array(path: Path) -> None:
    with zipfile.ZipFile(path, "a") as z:
        z.writestr("notes.txt", b"hello")


def _flip(path: Path) -> None:
    """Flip a byte in the middle of the largest array's compressed data."""
    with zipfile.ZipFile(path) as z:
        info = max(z.infolist(), key=lambda i: i.compress_size)
    raw = bytearray(path.read_bytes())
    name_len, extra_len = struct.unpack("<HH", raw[info.header_offset + 26:
                                                   info.header_offset + 30])
    raw[info.header_offset + 30 + name_len + extra_len + info.compress_size // 2] ^= 0x5A
    path.write_bytes(bytes(raw))


def _npy_header(text: str) -> bytes:
    """A version 1.0 .npy header holding ``text`` as its dictionary, padded as numpy pads."""
    body = text.encode("latin1")
    body += b" " * (63 - (10 + len(body)) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(body)) + body


def _header(text: str) -> Callable[[Path], None]:
    """Add an array whose header dictionary is ``text`` (four int32 of data after it)."""
    def damage(path: Path) -> None:
        with zipfile.ZipFile(path, "a") as z:
            z.writestr("odd.npy", _npy_header(text) + np.arange(4, dtype="<i4").tobytes())
    return damage


FILE_CASES = [
    ("zero-length", lambda p: p.write_bytes(b""), ("an empty file, not a checkpoint",)),
    ("an empty zip", lambda p: zipfile.ZipFile(p, "w").close(), ("no metadata",)),
    ("truncated", lambda p: p.write_bytes(p.read_bytes()[:len(p.read_bytes()) // 2]),
     ("not a readable checkpoint",)),
    ("garbage", lambda p: p.write_bytes(b"PK\x03\x04" + bytes(range(256)) * 4),
     ("not a readable checkpoint",)),
    ("no digest", _no_digest, ("has no digest",)),
    ("a pickled array", _pickled, ("evil has dtype object",)),
    ("a file that is not an array", _not_an_array, ("'notes.txt', which is not a numpy",)),
    ("a flipped byte", _flip, ("checkpoint.npz is damaged",)),
    ("a directory", lambda p: (p.unlink(), p.mkdir()), ("not a file",)),
    # found by benchmarks/fuzz_parsers.py (checkpoint_arrays): numpy evaluates the header as
    # a Python literal, so these escaped as tokenize.TokenError, TypeError and a reshape error
    ("a header with an open string",
     _header("{'descr': '<i4', 'fortran_order': False, 'shape': (4,), " + "'" * 3),
     ("not a readable checkpoint", "EOF in multi-line string")),
    ("a header that opens brackets", _header("[" * 5000), ("not a readable checkpoint",)),
    ("a header with unsortable keys",
     _header("{1: 2, 'descr': '<i4', 'fortran_order': False, 'shape': (4,), }"),
     ("not a readable checkpoint", "not supported between")),
    ("a header with negative sizes whose product is right",
     _header("{'descr': '<i4', 'fortran_order': False, 'shape': (-4, -1), }"),
     ("not a readable checkpoint", "'odd' has shape (-4, -1)")),
]



def test_a_member_header_naming_megabytes_is_quoted_in_a_short_line(sandbox_run, tmp_path):
    # found by benchmarks/fuzz_parsers.py (checkpoint): zipfile's error quotes the local
    # header's file name, as long as the header's length field says (25,635 characters
    # went into the message)
    d = copy(sandbox_run[0], tmp_path)
    path = d / CHECKPOINT
    with zipfile.ZipFile(path) as z:
        first = min(z.infolist(), key=lambda i: i.header_offset)
    raw = bytearray(path.read_bytes())
    raw[first.header_offset + 26:first.header_offset + 28] = struct.pack("<H", 0xFFFF)
    path.write_bytes(bytes(raw))
    error = refused(lambda: SandboxRun.resume(d), "not a readable checkpoint")
    assert len(str(error)) < len(str(path)) + 250 and str(error).endswith("...)")

@pytest.mark.parametrize("world", ["sandbox", "hex"])
@pytest.mark.parametrize("damage,words", [(f, w) for _, f, w in FILE_CASES],
                         ids=[name for name, _, _ in FILE_CASES])
def test_a_damaged_file_is_a_one_line_error(sandbox_run, hex_run, tmp_path, world, damage,
                                            words):
    run_dir, run_cls = (sandbox_run[0], SandboxRun) if world == "sandbox" else (hex_run[0],
                                                                                HexRun)
    d = copy(run_dir, tmp_path)
    damage(d / CHECKPOINT)
    error = refused(lambda: run_cls.resume(d), *words)
    assert isinstance(error, InputFileError)


# ---- the hex world ----------------------------------------------------------------------------

HEX_CASES = [
    ("q 1e8", set_at("state.q", 10**8), ("state.q holds 100000000 at slot",
                                         "positions are 0..5")),
    ("r 1e6", set_at("state.r", 10**6), ("state.r holds 1000000",)),
    ("facing 7", set_at("state.facing", 7), ("state.facing holds 7", "facings are 0..5")),
    ("occupant not there",
     lambda a, m: a["state.occupancy"].__setitem__(empty_cell(a, "state.occupancy"),
                                                   live_slot(a)),
     ("state.occupancy holds", "cell (q ", "is not a living organism there")),
    ("negative next id", set_at("scalars", -1, lambda a: (1,)), ("scalars.next_id is -1",)),
    ("negative turn", set_at("scalars", -2, lambda a: (0,)), ("scalars.turn is -2",)),
    ("negative meals", set_at("state.meals", -3), ("state.meals holds -3",)),
    ("starving", set_at("state.hunger", 20), ("state.hunger holds 20",
                                              "below turns_to_starve")),
    ("parent 1e12", set_at("lineage.parent", 10**12, lambda a: (-1,)),
     ("lineage.parent holds 1000000000000",)),
    ("a parent younger than its child", set_at("state.parent", 10**12),
     ("state.parent holds 1000000000000",)),
    ("a genome that is not a genome",
     lambda a, m: a["genome_bytes"].__setitem__(0, ord("#")),
     ("the genome of slot", "not JSON")),
    ("activations out of range", set_at("brain.inter_activation", np.inf,
                                        lambda a: (live_slot(a), 0)),
     ("brain inter_activation: values must lie in [-1, 1]",)),
    ("a missing array", lambda a, m: a.pop("lineage.origin"), ("lineage.origin is missing",)),
    ("a wrong dtype", lambda a, m: a.__setitem__("state.q", a["state.q"].astype(np.float32)),
     ("state.q has dtype float32, expected int64",)),
    ("a wrong shape", lambda a, m: a.__setitem__("state.totals", a["state.totals"][:3]),
     ("state.totals has shape (3,), the config needs shape (7,)",)),
    ("an unknown brain", lambda a, m: m.__setitem__("brain", "caldo"), ("metadata: brain",)),
    ("too many organism-turns", lambda a, m: m.__setitem__("organism_turns", 10**9),
     ("organism_turns is 1000000000",)),
]


@pytest.mark.parametrize("edit,words", [(e, w) for _, e, w in HEX_CASES],
                         ids=[name for name, _, _ in HEX_CASES])
def test_a_resealed_hex_checkpoint_with_a_hostile_value_is_refused(hex_run, tmp_path, edit,
                                                                    words):
    d = copy(hex_run[0], tmp_path)
    rewrite(d, edit)
    refused(lambda: HexRun.resume(d), *words)


def test_hex_genomes_go_through_the_validating_decoder(hex_run, tmp_path):
    """A genome that parses but breaks an invariant (a synapse onto itself) is refused."""
    d = copy(hex_run[0], tmp_path)
    slot = live_slot(load_checkpoint(d / CHECKPOINT)[0])

    def edit(a, m):
        lengths = a["genome_lengths"]
        start = int(lengths[:slot].clip(0).sum())
        body = json.loads(a["genome_bytes"][start:start + lengths[slot]].tobytes())
        body["synapses"] = [[0, 0, 0.5]]
        raw = np.frombuffer(json.dumps(body, separators=(",", ":")).encode(), np.uint8)
        a["genome_bytes"] = np.concatenate([a["genome_bytes"][:start], raw,
                                            a["genome_bytes"][start + lengths[slot]:]])
        lengths[slot] = raw.size
    rewrite(d, edit)
    error = refused(lambda: HexRun.resume(d), f"the genome of slot {slot}:", "synapses")
    assert isinstance(error, GenomeError)


# ---- random damage: refused cleanly, or harmless ---------------------------------------------

NASTY = st.sampled_from([-1, 0, 1, 2, 7, 250, 99999, 10**6, 10**8, 10**12, -(2**31),
                         2**31 - 1, 2**62]) | st.integers(-300, 300)


def _one_change(run_dir: Path, resume, digest: str, name_index: int, index: int, value: int,
                sealed: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        d = copy(run_dir, Path(tmp))
        arrays, _ = load_checkpoint(d / CHECKPOINT)
        names = sorted(n for n, a in arrays.items() if a.size)
        name = names[name_index % len(names)]
        a = arrays[name]
        flat = index % a.size
        new = np.array(value).astype(a.dtype) if a.dtype.kind != "b" else np.bool_(value % 2)
        same = a.reshape(-1)[flat] == new

        def edit(arrs, meta):
            arrs[name].reshape(-1)[flat] = new
        rewrite(d, edit, sealed=sealed)
        try:
            run = resume(d)
        except PrimordiaError as exc:
            assert "\n" not in str(exc)
            assert sealed or not same, f"an unchanged checkpoint was refused: {exc}"
            if not sealed:
                assert "is damaged" in str(exc)
            return
        assert sealed or same, f"{name}[{flat}] = {new} was accepted without a new digest"
        if same:
            assert run.world.state_hash() == digest
        run.world.run(3)            # whatever was accepted is a world the kernels can run


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name_index=st.integers(0, 200), index=st.integers(0, 10**6), value=NASTY,
       sealed=st.booleans())
def test_any_changed_element_of_a_sandbox_checkpoint_is_refused_or_runs(
        sandbox_run, name_index, index, value, sealed):
    _one_change(sandbox_run[0], SandboxRun.resume, sandbox_run[1], name_index, index, value,
                sealed)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name_index=st.integers(0, 200), index=st.integers(0, 10**6), value=NASTY,
       sealed=st.booleans())
def test_any_changed_element_of_a_hex_checkpoint_is_refused_or_runs(
        hex_run, name_index, index, value, sealed):
    _one_change(hex_run[0], HexRun.resume, hex_run[1], name_index, index, value, sealed)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(at=st.floats(0, 1, exclude_max=True), xor=st.integers(1, 255))
def test_a_flipped_byte_anywhere_is_refused_or_harmless(sandbox_run, at, xor):
    with tempfile.TemporaryDirectory() as tmp:
        d = copy(sandbox_run[0], Path(tmp))
        raw = bytearray((d / CHECKPOINT).read_bytes())
        raw[int(at * len(raw))] ^= xor
        (d / CHECKPOINT).write_bytes(bytes(raw))
        try:
            run = SandboxRun.resume(d)
        except PrimordiaError as exc:
            assert "\n" not in str(exc)
            return
        assert run.world.state_hash() == sandbox_run[1]     # a byte no reader looks at


# ---- the mycos run's JSON checkpoint ----------------------------------------------------------

def mycos_rewrite(run_dir: Path, edit: Callable[[dict], None], sealed: bool = True) -> None:
    path = run_dir / "checkpoint.json"
    data = json.loads(path.read_text())
    digest = data.pop("digest")
    edit(data)
    path.write_text(json.dumps(seal(data) if sealed else {**data, "digest": digest}))


MYCOS_CASES = [
    ("unsealed", lambda d: d.update(evaluations=99), False, ("is damaged",)),
    ("no digest", lambda d: d.pop("digest", None), None, ("has no digest",)),
    ("a population too large", lambda d: d["population"].append(d["population"][0]), True,
     ("population must be a list of the config's pop",)),
    ("history of other generations", lambda d: d["history"].pop(), True,
     ("history must be a list of one per generation",)),
    ("an invalid genome", lambda d: d["population"][0].update(chunks=[]), True,
     ("chunks",)),
    ("negative generation", lambda d: d.update(generation=-3), True, ("generation -3",)),
    ("generation 1e12 solved", lambda d: d.update(generation_solved=10**12), True,
     ("generation_solved",)),
    ("a missing key", lambda d: d["evolver"].pop("speciation"), True,
     ("malformed", "speciation")),
    ("a wrong type", lambda d: d.update(evaluations="many"), True, ("evaluations 'many'",)),
    ("a hostile config", lambda d: d["config"].update(pop=-1), True,
     ("malformed", "pop: Input should be greater than or equal to 4")),
    ("a champion fitness of nan", lambda d: d.update(champion_fitness=float("nan")), True,
     ("champion_fitness",)),
]


@pytest.mark.parametrize("edit,sealed,words", [(e, s, w) for _, e, s, w in MYCOS_CASES],
                         ids=[name for name, _, _, _ in MYCOS_CASES])
def test_a_hostile_mycos_checkpoint_is_refused(mycos_run, tmp_path, edit, sealed, words):
    d = copy(mycos_run[0], tmp_path)
    if sealed is None:
        path = d / "checkpoint.json"
        data = json.loads(path.read_text())
        edit(data)
        path.write_text(json.dumps(data))
    else:
        mycos_rewrite(d, edit, sealed)
    refused(lambda: load_mycos(d), "checkpoint.json", *words)


def test_a_sealed_mycos_checkpoint_resumes_identically(mycos_run, tmp_path):
    d = copy(mycos_run[0], tmp_path)
    mycos_rewrite(d, lambda data: None)
    assert state_hash(load_mycos(d)) == mycos_run[1]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(at=st.floats(0, 1, exclude_max=True), xor=st.integers(1, 255))
def test_a_flipped_byte_in_a_mycos_checkpoint_is_refused_or_harmless(mycos_run, at, xor):
    with tempfile.TemporaryDirectory() as tmp:
        d = copy(mycos_run[0], Path(tmp))
        path = d / "checkpoint.json"
        raw = bytearray(path.read_bytes())
        raw[int(at * len(raw))] ^= xor
        path.write_bytes(bytes(raw))
        try:
            run = load_mycos(d)
        except PrimordiaError as exc:
            assert "\n" not in str(exc)
            return
        assert state_hash(run) == mycos_run[1]


@pytest.mark.parametrize("content", [b"", b"{", b'{"version": 3'])
def test_empty_and_truncated_mycos_checkpoints_are_not_json(mycos_run, tmp_path, content):
    d = copy(mycos_run[0], tmp_path)
    (d / "checkpoint.json").write_bytes(content)
    refused(lambda: load_mycos(d), "checkpoint.json", "not JSON")


# ---- as a user meets them: the CLI ------------------------------------------------------------

def test_the_cli_refuses_hostile_checkpoints_in_one_line(sandbox_run, hex_run, mycos_run,
                                                         tmp_path):
    d = copy(sandbox_run[0], tmp_path / "a")
    rewrite(d, set_at("state.x", 10**8))
    assert_user_error(cli("run", "--resume", str(d)), "checkpoint.npz: state.x holds "
                      "100000000 at slot", "positions are 0..31")
    d = copy(sandbox_run[0], tmp_path / "b")
    (d / CHECKPOINT).write_bytes(b"")
    assert_user_error(cli("run", "--resume", str(d)), "an empty file, not a checkpoint")
    d = copy(sandbox_run[0], tmp_path / "c")
    rewrite(d, set_at("state.item", 99999), sealed=False)
    assert_user_error(cli("run", "--resume", str(d)), "is damaged")
    d = copy(hex_run[0], tmp_path / "d")
    rewrite(d, set_at("state.q", 10**6))
    assert_user_error(cli("run", "--resume", str(d)), "state.q holds 1000000")
    d = copy(hex_run[0], tmp_path / "e")
    (d / CHECKPOINT).write_bytes((d / CHECKPOINT).read_bytes()[:-100])
    assert_user_error(cli("run", "--resume", str(d)), "not a readable checkpoint")
    d = copy(mycos_run[0], tmp_path / "f")
    mycos_rewrite(d, lambda data: data.update(evaluations=99), sealed=False)
    assert_user_error(cli("evolve", "mycos", "--resume", str(d)), "is damaged")


def test_a_file_that_ends_early_is_a_user_error_not_an_abort(tmp_path, monkeypatch, capsys):
    """click turns an EOFError into Abort ("aborted", exit 130); a reader that lets one
    through still makes a one-line error with exit code 2."""
    from primordia.cli import main, run

    def ends_early(run_dir):
        raise EOFError("No data left in file")
    monkeypatch.setattr(run, "_world_of", ends_early)
    with pytest.raises(SystemExit) as info:
        main.main(["run", "--resume", str(tmp_path)])
    assert info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["error: a file ended unexpectedly (No data left in file)"]
