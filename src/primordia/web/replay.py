"""Read-only replay of recorded runs: ``primordia serve --runs DIR`` lists the run
directories under DIR that hold a recording (``record.jsonl.gz`` of ``primordia run hex``:
snapshots and per-turn deltas; of ``primordia run sandbox`` and ``ecology``: frames every N
ticks) and serves it in pages of the live wire's shapes -- the nearest snapshot at or before a
turn, then the deltas after it (none for frames) -- so the dashboard replays a run with the
code that shows a live session. Only paths inside DIR are ever opened."""

from __future__ import annotations

import base64
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from primordia.core.errors import InputFileError
from primordia.runs.recorder import read_recording
from primordia.http.errors import ApiError
from primordia.runs.recording_schema import LineChecker
from primordia.worlds.registry import WORLDS

from .adapters import ecology
from .adapters.sandbox import frame_snapshot
from .lineage import LineageRoots

RECORDING = "record.jsonl.gz"
MAX_PAGE_DELTAS = 500
"""Deltas in one page at most: a page of the hex defaults stays around a megabyte."""
MAX_DEPTH = 3
"""How deep under the root run directories are looked for."""
MAX_RECORDING_BYTES = 64 << 20
"""Largest recording (compressed) the server loads; it is held in memory while replayed."""
MAX_RECORDING_TEXT = 256 << 20
"""Largest recording, uncompressed, the server loads: a gzip file inflates up to a thousand
times, so the compressed limit alone does not bound memory."""
CACHED_RECORDINGS = 2


@dataclass
class Recording:
    """A recording read into memory: its header, snapshots by turn, and every delta, with
    lineage roots added (a hex recording has parents only) so clients colour as when live.
    A sandbox recording has frames only: each is a snapshot, with no deltas between."""

    header: dict[str, Any]
    snapshots: dict[int, dict[str, Any]]
    deltas: dict[int, dict[str, Any]]
    first: int
    last: int

    def page(self, start: int, end: int) -> dict[str, Any]:
        """The snapshot at or before ``start`` and the deltas after it up to ``end`` (at most
        MAX_PAGE_DELTAS of them; ``more`` says whether the page was cut short).
        ``next_snapshot`` is the turn of the snapshot after this one (None at the end), and
        ``steps_by`` says how a client steps: through deltas, or from snapshot to snapshot
        when the recording has none."""
        start = min(max(start, self.first), self.last)
        end = min(max(end, start), self.last)
        at = max(t for t in self.snapshots if t <= start)
        stop = min(end, at + MAX_PAGE_DELTAS)
        later = [t for t in self.snapshots if t > at]
        return {"header": self.header, "first_turn": self.first, "last_turn": self.last,
                "snapshot": self.snapshots[at],
                "deltas": [self.deltas[t] for t in range(at + 1, stop + 1) if t in self.deltas],
                "to": stop, "more": stop < end,
                "next_snapshot": min(later) if later else None,
                "steps_by": "delta" if self.deltas else "snapshot"}


def _grid(width: int, height: int) -> dict[str, Any]:
    return {"kind": "hex", "width": width, "height": height, "coords": ["q", "r"]}


def world_of(path: Path) -> str | None:
    """The world a recording's header names (None when the file does not start with one)."""
    try:
        for line in read_recording(path):
            return line.get("world") if line.get("type") == "header" else None
    except (InputFileError, AttributeError):
        return None
    return None


def load(path: Path) -> Recording:
    """Read a recording of either world, checking every line against its world's schema
    (runs/recording_schema.py) and decompressing within ``MAX_RECORDING_TEXT``; a file in
    another format or a broken one is a 422 naming the line and the problem."""
    lines = read_recording(path, max_total=MAX_RECORDING_TEXT)
    try:
        try:
            first = next(lines)
        except StopIteration:
            raise ApiError(422, "not_replayable", "recording: the file is empty", "name") \
                from None
        world = first.get("world") if isinstance(first, dict) else None
        if not isinstance(first, dict) or first.get("type") != "header" \
                or not isinstance(world, str) or world not in WORLDS:
            raise ApiError(422, "not_replayable", "recording: no header of a run (primordia "
                           f"run {'|'.join(WORLDS.names())}) on its first line", "name")
        checker = LineChecker(str(path), first)
        header = {k: v for k, v in first.items() if k != "type"}
        return WORLDS.get(world).replay_reader(header, _checked(lines, checker))
    except InputFileError as exc:         # the message names the file, not where it is
        raise ApiError(422, "not_replayable", f"recording: {exc}".replace(str(path), RECORDING),
                       "name") from None
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
        raise ApiError(422, "not_replayable", f"recording: malformed line ({exc!r})",
                       "name") from None


def _checked(lines: Iterator[dict[str, Any]], checker: LineChecker
             ) -> Iterator[dict[str, Any]]:
    for n, line in enumerate(lines, start=2):
        checker.check(n, line)
        yield line


def load_hex(header: dict[str, Any], lines: Iterator[dict[str, Any]]) -> Recording:
    """Snapshots every N turns and a delta for every turn."""
    snapshots: dict[int, dict[str, Any]] = {}
    deltas: dict[int, dict[str, Any]] = {}
    roots = LineageRoots()
    grid = _grid(int(header["width"]), int(header["height"]))
    for line in lines:
        kind = line.get("type")
        if kind == "snapshot":
            data = line["data"]
            if not snapshots:
                roots.born([o["id"] for o in data["organisms"]],
                           [-1] * len(data["organisms"]))
            for o in data["organisms"]:
                o["lineage"] = roots.root(o["id"])
            snapshots[int(line["t"])] = {"world": "hex", "brain": None, "grid": grid,
                                         "terrain": None, **data}
        elif kind == "delta":
            d = line["data"]
            spawned = d["spawned"]
            roots.born([o["id"] for o in spawned], [o["parent"] for o in spawned])
            roots.died(d["removed"])
            for o in spawned:
                o["lineage"] = roots.root(o["id"])
            d.setdefault("tiles", [])
            m = d["metrics"]
            m.setdefault("deaths_last_turn", m.get("meals_last_turn", 0)
                         + m.get("starvations_last_turn", 0))
            deltas[int(line["t"])] = d
    if not snapshots:
        raise ApiError(422, "not_replayable", "recording: no snapshot after the header", "name")
    first = min(snapshots)
    return Recording(header, snapshots, deltas, first, max([first, *deltas]))


def load_sandbox(header: dict[str, Any], lines: Iterator[dict[str, Any]]) -> Recording:
    """A frame every N ticks ("tick" or "full", runs/recorder.py), each a snapshot."""
    return _frames(header, lines, ("tick", "full"), "a sandbox run",
                   lambda line: frame_snapshot(header, line))


def load_ecology(header: dict[str, Any], lines: Iterator[dict[str, Any]]) -> Recording:
    """A frame every N ticks (runs/ecology_run.py), each a snapshot; the map's kinds come
    from the header."""
    width, height = int(header["width"]), int(header["height"])
    kinds = np.frombuffer(base64.b64decode(header["kinds"], validate=True), dtype=np.uint8)
    if kinds.size != width * height:
        raise ApiError(422, "not_replayable", f"recording: the header's map has {kinds.size} "
                       f"tiles, not {width} x {height}", "name")
    return _frames(header, lines, ("frame",), "an ecology run",
                   lambda line: ecology.frame_snapshot(header, kinds, line))


def _frames(header: dict[str, Any], lines: Iterator[dict[str, Any]], kinds: tuple[str, ...],
            what: str, snapshot: Any) -> Recording:
    """A recording of frames only (line types ``kinds``), each made a snapshot by
    ``snapshot(line)``; a line of another type, or one ``snapshot`` refuses, is a 422
    naming it."""
    snapshots: dict[int, dict[str, Any]] = {}
    for n, line in enumerate(lines, start=2):
        if line.get("type") not in kinds:
            raise ApiError(422, "not_replayable", f"recording: line {n} is not a frame of "
                           f"{what} (type {line.get('type')!r})", "name")
        try:
            snapshots[int(line["t"])] = snapshot(line)
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise ApiError(422, "not_replayable", f"recording: line {n}: {exc!s} "
                           f"({type(exc).__name__})", "name") from None
    if not snapshots:
        raise ApiError(422, "not_replayable", "recording: no frame after the header", "name")
    return Recording(header, snapshots, {}, min(snapshots), max(snapshots))


class RunLibrary:
    """The run directories under ``root``, each named by its path relative to the root."""

    def __init__(self, root: str | Path | None) -> None:
        self.root = Path(root).resolve() if root is not None else None
        self._cache: OrderedDict[tuple[str, int, int], Recording] = OrderedDict()
        self._lock = threading.Lock()

    def _inside(self, path: Path) -> bool:
        try:
            path.resolve().relative_to(self.root)
        except ValueError:
            return False
        return True

    def runs(self) -> list[dict[str, Any]]:
        """Every run directory with a recording, by name; symlinks leading out are left out."""
        if self.root is None or not self.root.is_dir():
            return []
        found = []
        stack = [(self.root, 0)]
        while stack:
            folder, depth = stack.pop()
            try:
                entries = sorted(folder.iterdir())
            except OSError:
                continue
            for entry in entries:
                if not entry.is_dir() or entry.name.startswith(".") or not self._inside(entry):
                    continue
                rec = entry / RECORDING
                if rec.is_file() and self._inside(rec):
                    stat = rec.stat()
                    found.append({"name": entry.relative_to(self.root).as_posix(),
                                  "world": world_of(rec),
                                  "recording_bytes": stat.st_size,
                                  "modified_unix_ms": int(stat.st_mtime * 1000)})
                elif depth + 1 < MAX_DEPTH:
                    stack.append((entry, depth + 1))
        return sorted(found, key=lambda r: r["name"])

    def resolve(self, name: str) -> Path:
        """The recording of run ``name``: 404 if there is none under the root, 400 for a name
        that points outside it (``..``, absolute paths, symlinks leading out)."""
        if self.root is None:
            raise ApiError(404, "no_runs", "this server was started without --runs DIR", "name")
        if not name or "\0" in name or name.startswith(("/", "\\")) or "\\" in name \
                or any(part in ("..", ".", "") for part in name.split("/")):
            raise ApiError(400, "bad_run_name", f"name: {name!r} is not a run directory under "
                           "the runs root", "name")
        path = (self.root / name / RECORDING)
        if not self._inside(path.parent) or (path.exists() and not self._inside(path)):
            raise ApiError(400, "bad_run_name", f"name: {name!r} leads outside the runs root",
                           "name")
        if not path.is_file():
            raise ApiError(404, "unknown_run", f"name: no recorded run {name!r}", "name")
        return path

    def recording(self, name: str) -> Recording:
        """Run ``name``'s recording, read once and kept while it is among the latest used."""
        path = self.resolve(name)
        stat = path.stat()
        if stat.st_size > MAX_RECORDING_BYTES:
            raise ApiError(413, "recording_too_large", f"name: the recording is over "
                           f"{MAX_RECORDING_BYTES >> 20} MB", "name")
        key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size)
        with self._lock:
            rec = self._cache.get(key)
            if rec is not None:
                self._cache.move_to_end(key)
                return rec
        rec = load(path)
        with self._lock:
            self._cache[key] = rec
            while len(self._cache) > CACHED_RECORDINGS:
                self._cache.popitem(last=False)
        return rec
