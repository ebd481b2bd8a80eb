"""Recordings are files anyone can edit or craft: a replay checks every line against its
world's schema when it opens one, decompresses within a bound, and answers a 4xx naming
the line, never a 500 or gigabytes of memory."""

from __future__ import annotations

import copy
import gzip
import json
import zlib

import orjson
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from primordia.core.errors import InputFileError
from primordia.runs.hex_run import HexRun
from primordia.runs.recorder import read_recording
from primordia.web.app import create_app
from primordia.worlds.hex.config import HexConfig

from .harness import cli
from .server import running_server


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """The lines of a small hex recording and of a small sandbox recording."""
    base = tmp_path_factory.mktemp("recorded")
    cfg = HexConfig(world_width=6, num_organisms=12, turns_to_starve=3, turns=12, seed=5)
    HexRun(cfg, out=base / "hex", record_every=5).execute()
    r = cli("run", "sandbox", "--npcs", "12", "--ticks", "30", "--record-every", "10",
            "--out", str(base / "sandbox"))
    assert r.returncode == 0, r.stderr
    return {w: list(read_recording(base / w / "record.jsonl.gz")) for w in ("hex", "sandbox")}


def _write(root, name, lines):
    (root / name).mkdir(parents=True, exist_ok=True)
    with gzip.open(root / name / "record.jsonl.gz", "wb") as f:
        for line in lines:
            f.write(json.dumps(line).encode() + b"\n")   # (orjson cannot write 2**70)


def _first(lines, kind):
    return next(i for i, line in enumerate(lines) if line.get("type") == kind)


def _damaged(recorded, world, kind, change):
    lines = copy.deepcopy(recorded[world])
    i = _first(lines, kind) if kind != "header" else 0
    change(lines[i])
    return lines, i + 1


CASES = {
    "turn past 64 bits": ("hex", "delta", lambda d: d.update(t=10**30), "t"),
    "a move's id is text": ("hex", "delta",
                            lambda d: d["data"]["moves"].append(
                                {"id": "x", "from": [0, 0], "to": [0, 1]}), "id"),
    "an organism far off the grid": ("hex", "snapshot",
                                     lambda d: d["data"]["organisms"][0].update(q=10**9), "q"),
    "a cell beyond the header's width": ("hex", "snapshot",
                                         lambda d: d["data"]["organisms"][0].update(q=6),
                                         "outside the 6 x 6 grid"),
    "a facing that does not exist": ("hex", "snapshot",
                                     lambda d: d["data"]["organisms"][0].update(facing="Up"),
                                     "facing"),
    "a parent below -1": ("hex", "snapshot",
                          lambda d: d["data"]["organisms"][0].update(parent=-5), "parent"),
    "an unknown key": ("hex", "delta", lambda d: d["data"].update(extra=1), "extra"),
    "a header of absurd size": ("hex", "header", lambda d: d.update(width=10**6), "width"),
    "a boolean turn": ("sandbox", "tick", lambda d: d.update(t=True), "t"),
    "an NPC off the map": ("sandbox", "tick", lambda d: d["npcs"][0].update(x=10**6), "x"),
    "an item beyond the table": ("sandbox", "tick", lambda d: d["npcs"][0].update(it=99999),
                                 "it"),
    "a tile code of 250": ("sandbox", "tick",
                           lambda d: d.update(grid=__import__("base64").b64encode(
                               bytes([250]) * (32 * 32)).decode()), "tile code 250"),
    "turns going back": ("sandbox", "tick", lambda d: d.update(t=0), "comes after"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_damaged_recording_is_a_422_naming_the_line(recorded, tmp_path, case):
    world, kind, change, word = CASES[case]
    lines, number = _damaged(recorded, world, kind, change)
    _write(tmp_path, "bad", lines)
    with TestClient(create_app(runs=tmp_path)) as client:
        r = client.get("/v1/runs/bad/recording")
    assert r.status_code == 422, r.text
    message = r.json()["error"]["message"]
    assert f"line {number}" in message and word in message, message


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow])
@given(data=st.data())
def test_any_edit_of_one_value_is_replayed_or_refused_never_a_500(recorded, tmp_path, data):
    world = data.draw(st.sampled_from(["hex", "sandbox"]))
    lines = copy.deepcopy(recorded[world])
    i = data.draw(st.integers(0, len(lines) - 1))
    target, path = lines[i], []
    while isinstance(target, (dict, list)) and target:
        keys = list(target) if isinstance(target, dict) else list(range(len(target)))
        key = data.draw(st.sampled_from(keys))
        path.append(key)
        if not isinstance(target[key], (dict, list)) or data.draw(st.booleans()):
            break
        target = target[key]
    if not path:
        return
    target[path[-1]] = data.draw(st.one_of(
        st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(),
        st.text(max_size=8), st.lists(st.integers(), max_size=3),
        st.dictionaries(st.text(max_size=3), st.integers(), max_size=2)))
    name = f"r{abs(hash((world, i, tuple(map(str, path))))) % 10**8}"
    _write(tmp_path, name, lines)
    with TestClient(create_app(runs=tmp_path)) as client:
        r = client.get(f"/v1/runs/{name}/recording")
        assert r.status_code in (200, 422), r.text
        if r.status_code == 200:
            orjson.loads(r.content)


# ---- decompression ------------------------------------------------------------------------------

def _bomb(path, line_bytes):
    """A gzip file whose first line inflates to ``line_bytes`` (highly compressible)."""
    z = zlib.compressobj(9, zlib.DEFLATED, 31)
    chunk = b'{"type":"header","pad":"' + b"a" * (1 << 20)
    with open(path, "wb") as f:
        f.write(z.compress(chunk))
        block = b"a" * (1 << 20)
        for _ in range(line_bytes >> 20):
            f.write(z.compress(block))
        f.write(z.compress(b'"}\n') + z.flush())


def test_reading_a_line_is_bounded(tmp_path):
    path = tmp_path / "bomb.jsonl.gz"
    _bomb(path, 80 << 20)
    with pytest.raises(InputFileError, match="line 1 is longer than"):
        next(read_recording(path, max_line=8 << 20))


def test_reading_a_file_is_bounded_in_total(tmp_path):
    path = tmp_path / "many.jsonl.gz"
    with gzip.open(path, "wb") as f:
        for _ in range(2000):
            f.write(b'{"pad": "' + b"b" * 1000 + b'"}\n')
    with pytest.raises(InputFileError, match="uncompressed, the limit"):
        list(read_recording(path, max_total=100_000))


def test_a_decompression_bomb_does_not_take_the_servers_memory(tmp_path):
    """The finding: a 7 MB file whose first line inflated to 1.5 GB took the server to 4.65 GB."""
    runs = tmp_path / "runs"
    (runs / "bomb").mkdir(parents=True)
    _bomb(runs / "bomb" / "record.jsonl.gz", 1500 << 20)
    with running_server("--runs", str(runs)) as server:
        before = server.rss_mb()
        r = server.get("/v1/runs/bomb/recording")
        assert r.status_code == 422 and "longer than" in r.json()["error"]["message"], r.text
        assert server.peak_rss_mb() < before + 400
