"""Coverage-guided fuzzing of every parser of untrusted input: genomes, .myc files, checkpoints,
recordings and TOML configs.

docs/architecture.md, "Bad input": input a user hands over (a file, a genome, a checkpoint) is
refused with a one-line user error -- a PrimordiaError (the web replay: an ApiError with a 4xx
status) that says what was wrong and where -- and never with any other exception, a hang or
unbounded memory. Each target here feeds one parser's public entry point with bytes from atheris
(libFuzzer's coverage-guided mutator), starting from a corpus of real files the project writes,
and sorts every input's outcome:

* accepted: a parser entry point returned (and the round trips it promises held: a genome's
  text form, disassembly, canonical JSON, a config written back as TOML, ...); a target
  that tries several entry points on one input (a config as a sandbox config, a hex config
  and an experiment) counts it accepted when one of them took it, and a resume only when
  the run went on to its end (reading the metadata first is a stage on the way);
* refused: every entry point raised a PrimordiaError (or a 4xx ApiError) with a one-line
  message;
* a finding: any other exception (crash), a message that is empty, spans lines or runs past
  1,000 characters, a broken round trip (invariant), a 5xx, a hang (the input ran over
  ``--watchdog`` seconds of CPU or wall time) or memory (the process's peak RSS grew by more
  than ``--rss-growth-mb`` during the input). Each finding's first input is saved under
  ``OUT/TARGET/findings/`` with its traceback and the command that replays it; findings are
  told apart by the exception and the innermost frames where it was raised.

Targets (``--target``, repeatable; default: all):

  psil_genome       micro-PSIL genome text and bytes: PsilGenome.from_hex / from_bytes,
                    files.load_genome (a file of each kind, or a CLI argument); round trips
                    through to_hex and disassemble -> assemble
  psil_asm          the .mpsil assembler through load_genome (read_source + assemble), and
                    the disassembly of what it assembled
  mycos_chunk       MycosChunk v1 (.myc) and links.bin: chunk_from_bytes, links_from_bytes,
                    compiler.read_phenotype on a directory of them; re-encoding round trips
  mycos_json        Mycos genome JSON: genome.from_json and load_genome; to_json and the
                    compiled binary round-trip
  neural_genome     neural genome bytes: brains.neural.genome.decode; encode round trip
  checkpoint        a run directory's checkpoint.npz as bytes, resumed the way ``primordia
                    run --resume`` does (its world from the checkpoint, SandboxRun.resume or
                    HexRun.resume) and run on for the ticks left
  checkpoint_arrays the same resume of a real checkpoint whose arrays and metadata were
                    edited (values, shapes, dtypes, missing and extra arrays, metadata keys,
                    the recording's length) and saved again with save_checkpoint, so the edit
                    reaches the checks behind the file's own (a digest, once it has one)
  mycos_checkpoint  a Mycos evolution's checkpoint.json with edited values, keys and list
                    elements, sealed again (mostly) with its digest, resumed for one more
                    generation as ``primordia evolve mycos --resume`` does
  recording         record.jsonl.gz (raw, or text the harness compresses): recorder.
                    read_recording, web.replay.load and world_of, and the replay pages the
                    server sends for it
  toml_config       config.toml / experiment TOML: core.config.read_toml, SandboxConfig.build,
                    HexConfig.build (each written back with to_toml and read again),
                    distributed.experiment.load_experiment

The corpus starts from real files: the packaged .mpsil examples and archetypes, the Mycos
conformance chunks, genomes of every task's shape, neural genomes, and a tiny sandbox run and
hex runs (neural and micro-PSIL brains) stopped at a checkpoint with two ticks (turns) to go:
their checkpoint.npz, record.jsonl.gz and config.toml. Each campaign runs in a worker process
(``atheris.instrument_imports`` on primordia and the standard library parsers it leans on;
modules with numba kernels are left to numba, their classes' methods instrumented one by
one); a worker killed by libFuzzer (deadly signal, timeout, RSS limit) is counted as a
finding and restarted on the same corpus. Counts live in a memory-mapped file, so they survive
the worker.

    python benchmarks/fuzz_parsers.py --runs 200000 --seed 1                  # every target
    python benchmarks/fuzz_parsers.py --target toml_config --max-time 300      # five minutes
    python benchmarks/fuzz_parsers.py --target recording --replay FILE...      # inputs again

Needs ``pip install atheris`` for campaigns (``--replay`` and the CI form, tests/benchmarks/
test_fuzz_parsers.py, do not). Exit status 0 when no target has a finding, 1 otherwise, 2 on
bad arguments or when a campaign cannot run.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
import types
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parent

# --- outcomes ----------------------------------------------------------------------------------

FINDING_KINDS = ("crash", "hang", "memory", "invariant", "message", "server_error", "unsafe")
"""crash: an exception other than a refusal; hang: over the watchdog; memory: peak RSS grew
past the limit; invariant: a promised round trip failed; message: a refusal whose message is
empty, spans lines or is over MAX_MESSAGE characters; server_error: a 5xx from the replay;
unsafe: a checkpoint that would make a resume write outside its run directory."""
COUNTERS = ("executions", "accepted", "refused", "findings", *FINDING_KINDS, "calls_returned",
            "calls_refused", "input_us_total",
            "input_us_max", "rss_kb_start", "rss_kb_peak", "rss_kb_last", "restarts")
MAX_MESSAGE = 1000
"""Longest refusal message that still reads as one line of an error."""


class Hang(BaseException):
    """Raised in the target by the CPU-time watchdog (a BaseException, so that no
    ``except Exception`` in the code under test can swallow it)."""


class Broken(AssertionError):
    """A promise of the parser did not hold on this input (``kind`` says which sort)."""

    kind = "invariant"


class BadMessage(Broken):
    """A refusal whose message does not read as one line of an error: ``origin`` is the
    refusal, ``reason`` what is wrong with it."""

    kind = "message"

    def __init__(self, message: str, reason: str, origin: BaseException | None) -> None:
        super().__init__(message)
        self.reason, self.origin = reason, origin


class ServerError(Broken):
    kind = "server_error"


class Unsafe(Broken):
    kind = "unsafe"


class HarnessError(Exception):
    """The campaign cannot run (or the harness itself broke): exit status 2."""


class Steps:
    """What one input did to a target: the parser calls it made, and how many were refused."""

    def __init__(self) -> None:
        self.refused = 0
        self.accepted = 0

    def attempt(self, fn: Callable, *args, **kwargs) -> tuple[bool, Any]:
        """(True, result) when ``fn`` returns; (False, None) when it refuses with a
        PrimordiaError whose message is one short line; anything else propagates."""
        from primordia.core.errors import PrimordiaError

        try:
            result = fn(*args, **kwargs)
        except PrimordiaError as exc:
            self.refuse(str(exc), exc)
            return False, None
        self.accepted += 1
        return True, result

    def gate(self, fn: Callable, *args, **kwargs) -> tuple[bool, Any]:
        """``attempt`` for a stage on the way to the parser call that matters (reading a
        checkpoint's metadata before resuming): its refusal counts, its success does not."""
        ok, result = self.attempt(fn, *args, **kwargs)
        self.accepted -= ok
        return ok, result

    def refuse(self, message: str, exc: BaseException) -> None:
        """Count a refusal after checking its message reads as one line of an error."""
        what = type(exc).__name__
        if not message.strip():
            raise BadMessage(f"{what} with an empty message", "empty", exc)
        if any(c in message for c in "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"):
            raise BadMessage(f"{what} message spans lines: {message[:200]!r}", "spans lines",
                             exc)
        if len(message) > MAX_MESSAGE:
            raise BadMessage(f"{what} message of {len(message):,} characters: "
                             f"{message[:200]!r}...", "long", exc)
        self.refused += 1

    @staticmethod
    def check(ok: bool, message: str) -> None:
        if not ok:
            raise Broken(message)


@dataclass
class Outcome:
    kind: str                  # "accepted", "refused" or one of FINDING_KINDS
    seconds: float = 0.0
    rss_growth_kb: int = 0
    signature: str = ""
    detail: str = ""
    steps: tuple[int, int] = (0, 0)    # parser calls that returned, and that refused
    rss_kb: tuple[int, int] = (0, 0)   # the process's RSS after the input, and its peak

    @property
    def finding(self) -> bool:
        return self.kind in FINDING_KINDS


def _status_kb(*fields: str) -> list[int | None]:
    """Fields of /proc/self/status in KiB (None where there is no such file or field)."""
    found: dict[bytes, int] = {}
    try:
        with open("/proc/self/status", "rb") as f:
            for line in f:
                key = line.split(b":", 1)[0]
                if key.decode() in fields:
                    found[key] = int(line.split()[1])
    except OSError:
        pass
    return [found.get(name.encode()) for name in fields]


def _reset_peak() -> bool:
    """Reset the kernel's peak-RSS mark (VmHWM) to the current RSS (Linux 4.0+)."""
    try:
        with open("/proc/self/clear_refs", "wb", buffering=0) as f:
            f.write(b"5")
        return True
    except OSError:
        return False


def peak_rss_kb() -> int:
    """The process's peak RSS in KiB (since the last ``start_input``, where it can be reset)."""
    return rss_now_and_peak_kb()[1]


def rss_now_and_peak_kb() -> tuple[int, int]:
    """The resident set now and its peak (see ``peak_rss_kb``), in KiB."""
    rss, hwm = _status_kb("VmRSS", "VmHWM")
    if hwm is None:
        hwm = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss or 0, hwm


def rss_kb() -> int:
    """The process's resident set now, in KiB (0 where /proc is missing)."""
    (rss,) = _status_kb("VmRSS")
    return rss or 0


def start_input() -> int:
    """The RSS an input starts from: with the peak mark reset to it where the kernel allows,
    so ``peak_rss_kb() - start_input()`` is what the input itself added at its peak. (Where
    it does not, the peak so far is the base, and only inputs that set a new peak count.)"""
    if _reset_peak():
        (rss,) = _status_kb("VmRSS")
        if rss is not None:
            return rss
    return peak_rss_kb()


def _on_watchdog(signum, frame) -> None:
    raise Hang("the input ran over the watchdog's CPU time")


def install_watchdog() -> None:
    signal.signal(signal.SIGPROF, _on_watchdog)


def execute(fn: Callable[[bytes, Steps], None], data: bytes, watchdog: float = 5.0,
            rss_growth_kb: int = 256 * 1024) -> Outcome:
    """Run one input through a target and sort the outcome. ``watchdog`` (seconds, 0: off)
    bounds CPU time with SIGPROF (raising Hang in the target) and wall time afterwards;
    ``install_watchdog`` must have been called in the main thread."""
    steps = Steps()
    exc: BaseException | None = None
    if watchdog > 0 and signal.getsignal(signal.SIGPROF) is not _on_watchdog:
        install_watchdog()
    rss0 = start_input()
    t0 = time.perf_counter()
    try:
        if watchdog > 0:
            signal.setitimer(signal.ITIMER_PROF, watchdog)
        try:
            fn(data, steps)
        finally:
            if watchdog > 0:
                signal.setitimer(signal.ITIMER_PROF, 0)
    except KeyboardInterrupt:
        raise
    except BaseException as e:             # noqa: BLE001 -- sorting every outcome is the point
        exc = e
    seconds = time.perf_counter() - t0
    rss_end, peak = rss_now_and_peak_kb()
    growth = peak - rss0
    if exc is not None:
        if isinstance(exc, Hang):
            kind = "hang"
        elif isinstance(exc, Broken):
            kind = exc.kind
        else:
            kind = "crash"
        if isinstance(exc, MemoryError):
            kind = "memory"
        detail = "".join(traceback.format_exception(exc))
        return Outcome(kind, seconds, growth, signature(kind, exc), detail,
                       rss_kb=(rss_end, peak))
    if growth > rss_growth_kb:
        return Outcome("memory", seconds, growth, f"memory:{fn_name(fn)}",
                       f"peak RSS grew by {growth / 1024:.0f} MiB during the input",
                       rss_kb=(rss_end, peak))
    if watchdog > 0 and seconds > watchdog:
        return Outcome("hang", seconds, growth, f"hang:wall:{fn_name(fn)}",
                       f"the input took {seconds:.1f} s of wall time", rss_kb=(rss_end, peak))
    refused = steps.refused and not steps.accepted      # every parser call refused it
    return Outcome("refused" if refused else "accepted", seconds, growth,
                   steps=(steps.accepted, steps.refused), rss_kb=(rss_end, peak))


def fn_name(fn: Callable) -> str:
    return getattr(fn, "__qualname__", repr(fn))


def _where(frame: traceback.FrameSummary) -> str:
    name = frame.filename
    for root in (str(REPO / "src") + os.sep, os.path.dirname(os.__file__) + os.sep):
        if name.startswith(root):
            name = name[len(root):]
    return f"{Path(name).as_posix()}:{frame.lineno}"


def signature(kind: str, exc: BaseException) -> str:
    """What tells findings apart: the kind, the exception type, and where it was raised --
    the innermost frame in primordia and the innermost frame of all (the harness's own
    frames left out). Round-trip failures are told apart by their message's start."""
    parts = [kind, type(exc).__name__]
    if isinstance(exc, BadMessage) and exc.origin is not None:
        parts = [kind, exc.reason, type(exc.origin).__name__]
        exc = exc.origin
    elif isinstance(exc, Broken):
        parts.append(re.sub(r"\d+", "N", str(exc))[:50])
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if Path(f.filename).name != Path(__file__).name]
    ours = [f for f in frames if f"{os.sep}primordia{os.sep}" in f.filename]
    if ours:
        parts.append(_where(ours[-1]))
    if frames and (not ours or frames[-1] is not ours[-1]):
        parts.append(_where(frames[-1]))
    return "|".join(parts)


# --- counting and saving -----------------------------------------------------------------------

class Counters:
    """Campaign counts; in a file mapped into memory when given a path (they outlive the
    worker process, however it ends), else in memory."""

    def __init__(self, path: Path | None = None) -> None:
        if path is None:
            self.values = np.zeros(len(COUNTERS), dtype=np.int64)
        else:
            if not path.exists():
                path.write_bytes(bytes(8 * len(COUNTERS)))
            self.values = np.memmap(path, dtype=np.int64, mode="r+", shape=(len(COUNTERS),))
        self.index = {name: i for i, name in enumerate(COUNTERS)}

    def add(self, name: str, n: int = 1) -> None:
        self.values[self.index[name]] += n

    def most(self, name: str, value: int) -> None:
        i = self.index[name]
        if value > self.values[i]:
            self.values[i] = value

    def __getitem__(self, name: str) -> int:
        return int(self.values[self.index[name]])

    def as_dict(self) -> dict[str, int]:
        return {name: int(v) for name, v in zip(COUNTERS, self.values)}

    @staticmethod
    def read(path: Path) -> dict[str, int]:
        if not path.exists():
            return dict.fromkeys(COUNTERS, 0)
        values = np.fromfile(path, dtype=np.int64, count=len(COUNTERS))
        return {name: int(v) for name, v in zip(COUNTERS, values)}


class Findings:
    """The first input of each distinct finding, saved with its traceback; ``index.json``
    holds every signature with its count."""

    def __init__(self, folder: Path | None, target: str) -> None:
        self.folder = folder
        self.target = target
        self.seen: dict[str, dict[str, Any]] = {}
        self._written = 0.0
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
            index = folder / "index.json"
            if index.exists():
                self.seen = json.loads(index.read_text())

    def add(self, outcome: Outcome, data: bytes) -> None:
        rec = self.seen.get(outcome.signature)
        if rec is not None:
            rec["count"] += 1
            if time.monotonic() - self._written > 2:
                self._flush()
            return
        name = f"{outcome.kind}-{hashlib.sha1(outcome.signature.encode()).hexdigest()[:10]}"
        self.seen[outcome.signature] = {"kind": outcome.kind, "count": 1, "file": name + ".bin",
                                        "first": outcome.detail.strip().splitlines()[-1][:300]
                                        if outcome.detail.strip() else ""}
        if self.folder is not None:
            (self.folder / (name + ".bin")).write_bytes(data)
            (self.folder / (name + ".txt")).write_text(
                f"target: {self.target}\nkind: {outcome.kind}\nsignature: {outcome.signature}\n"
                f"input: {len(data)} bytes, {outcome.seconds:.3f} s, peak RSS +"
                f"{outcome.rss_growth_kb / 1024:.1f} MiB\nreplay: python benchmarks/"
                f"fuzz_parsers.py --target {self.target} --replay "
                f"{self.folder / (name + '.bin')}\n\n{outcome.detail}")
        self._flush()

    def _flush(self) -> None:
        self._written = time.monotonic()
        if self.folder is not None:
            tmp = self.folder / ".index.json.tmp"
            tmp.write_text(json.dumps(self.seen, indent=1, sort_keys=True))
            os.replace(tmp, self.folder / "index.json")


class Harness:
    """One target's callback for libFuzzer: every input executed, sorted, counted."""

    def __init__(self, target: str, fn: Callable[[bytes, Steps], None], counters: Counters,
                 findings: Findings, watchdog: float, rss_growth_kb: int) -> None:
        self.target, self.fn = target, fn
        self.counters, self.findings = counters, findings
        self.watchdog, self.rss_growth_kb = watchdog, rss_growth_kb

    def __call__(self, data: bytes) -> None:
        out = execute(self.fn, data, self.watchdog, self.rss_growth_kb)
        c = self.counters
        c.add("executions")
        c.add("calls_returned", out.steps[0])
        c.add("calls_refused", out.steps[1])
        us = int(out.seconds * 1e6)
        c.add("input_us_total", us)
        c.most("input_us_max", us)
        c.most("rss_kb_peak", out.rss_kb[1])
        c.values[c.index["rss_kb_last"]] = out.rss_kb[0]
        if out.finding:
            if "atheris" in out.detail and "numba" in out.detail:
                raise HarnessError("numba compiled a function atheris had instrumented; "
                                   "exclude its module:\n" + out.detail)
            c.add("findings")
            c.add(out.kind)
            self.findings.add(out, data)
        else:
            c.add(out.kind)


# --- reading structured edits from bytes -------------------------------------------------------

class Draw:
    """Choices read from the input's bytes in order (zeros once they run out), so the
    fuzzer's byte mutations become edits of a structure."""

    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def byte(self) -> int:
        b = self.data[self.pos] if self.pos < len(self.data) else 0
        self.pos += 1
        return b

    def below(self, n: int) -> int:
        """A number in 0..n-1 (n >= 1) from as many bytes as it needs."""
        value, span = 0, 1
        while span < n:
            value, span = value * 256 + self.byte(), span * 256
        return value % n

    def pick(self, seq):
        return seq[self.below(len(seq))]

    def raw(self, n: int) -> bytes:
        out = bytes(self.byte() for _ in range(n))
        return out

    @property
    def left(self) -> int:
        return max(0, len(self.data) - self.pos)


INT_EDGES = (0, 1, -1, 2, 3, 7, 8, 15, 16, 31, 32, 63, 64, 127, 128, 255, 256, 1000, 4095,
             4096, 32767, -32768, 65535, 65536, 2**31 - 1, -2**31, 2**32, 2**53, 2**62,
             2**63 - 1, -2**63)
FLOAT_EDGES = (0.0, -0.0, 0.5, 1.0, -1.0, 1e-300, 1e300, math.inf, -math.inf, math.nan,
               8.000001, -8.000001)


def draw_number(d: Draw, around: int) -> int | float:
    kind = d.below(6)
    if kind == 0:
        return d.pick(INT_EDGES)
    if kind == 1:
        return around + d.below(5) - 2
    if kind == 2:
        return int.from_bytes(d.raw(8), "little", signed=True)
    if kind == 3:
        return d.pick(FLOAT_EDGES)
    if kind == 4:
        return d.below(around + 2) if around >= 0 else -d.below(-around + 2)
    return d.byte() - 128


def draw_json(d: Draw, like: Any = None, depth: int = 0) -> Any:
    """A JSON value: edges of every type, or a variation of ``like``."""
    kind = d.below(12)
    if kind == 0:
        return None
    if kind == 1:
        return bool(d.byte() & 1)
    if kind in (2, 3):
        base = like if isinstance(like, int) and not isinstance(like, bool) else 0
        return draw_number(d, base)
    if kind == 4:
        return d.pick(("", "x", "sandbox", "hex", "psil", "neural", "mycos", "record.jsonl.gz",
                       "tick", "turn", "\n", "\u00e9", "0", "-1", "1e999", "NaN"))
    if kind == 5 and depth < 3:
        return [draw_json(d, None, depth + 1) for _ in range(d.below(4))]
    if kind == 6 and depth < 3:
        return {d.pick(("tick", "turns", "alive", "x", "")): draw_json(d, None, depth + 1)
                for _ in range(d.below(3))}
    if kind == 7 and isinstance(like, float):
        return like * d.pick((0.0, -1.0, 2.0, 1e300, math.nan))
    if kind == 8 and isinstance(like, list):
        items = list(like)
        if items and d.byte() & 1:
            items.pop(d.below(len(items)))
        elif items:
            items.append(items[d.below(len(items))])
        return items
    if kind == 9 and isinstance(like, dict) and like:
        out = dict(like)
        key = d.pick(sorted(out))
        if d.byte() & 1:
            del out[key]
        else:
            out[key] = draw_json(d, out[key], depth + 1)
        return out
    return like


# --- the project's own files, for the seeds ----------------------------------------------------

TINY_TICKS = 20
"""The tiny runs stop (checkpoint) here; their config asks for TINY_TICKS + 2."""


def make_materials(root: Path) -> dict[str, Path]:
    """Tiny run directories -- a sandbox run (micro-PSIL brains), hex runs with neural and
    micro-PSIL brains -- each stopped at its final checkpoint with two ticks (turns) left in
    its config.toml. Returns name -> run directory."""
    from primordia.runs.hex_run import HexRun
    from primordia.runs.sandbox_run import SandboxRun
    from primordia.worlds.hex.config import HexConfig
    from primordia.worlds.sandbox.config import SandboxConfig

    root.mkdir(parents=True, exist_ok=True)
    runs = {
        "sandbox-psil": SandboxRun(SandboxConfig(npcs=8, ticks=TINY_TICKS, seed=3,
                                                 evolve_every=10),
                                   out=root / "sandbox-psil", brain="psil", timeline=5,
                                   record_every=5, checkpoint_every=10),
        "hex-neural": HexRun(HexConfig(world_width=6, num_organisms=8, turns=TINY_TICKS,
                                       seed=3), out=root / "hex-neural", brain="neural",
                             timeline=5, record_every=5, checkpoint_every=10),
        "hex-psil": HexRun(HexConfig(world_width=6, num_organisms=8, turns=TINY_TICKS, seed=4),
                           out=root / "hex-psil", brain="psil", timeline=5, record_every=5,
                           checkpoint_every=10),
    }
    out = {}
    for name, run in runs.items():
        if not (run.out / "checkpoint.npz").exists():
            run.execute()
            unit = run.UNIT + "s"
            (run.out / "config.toml").write_text(
                run.config.replace(**{unit: TINY_TICKS + 2}).to_toml())
        out[name] = run.out
    out["mycos"] = make_mycos_run(root / "mycos")
    return out


def make_mycos_run(folder: Path) -> Path:
    """A tiny Mycos evolution (T00, population 8, two generations) with its checkpoint."""
    from primordia.runs.mycos_run import CHECKPOINT, MycosEvolveConfig, timed_evolve
    from primordia.runs.rundir import RunDirectory
    from primordia.tasks.task import load_task

    if not (folder / CHECKPOINT).exists():
        timed_evolve(MycosEvolveConfig(pop=8, gens=2, seed=1, target_score=1.0),
                     load_task("T00_wire_echo"), RunDirectory(folder))
    return folder


def world_runs(materials: dict[str, Path]) -> dict[str, Path]:
    """The tiny world runs (those with a checkpoint.npz)."""
    return {k: v for k, v in materials.items() if (v / "checkpoint.npz").exists()}


def template_of(meta: dict[str, Any]) -> str:
    """The tiny run a checkpoint's metadata belongs to (its world and brain)."""
    world = str(meta.get("world", "sandbox"))
    if world == "hex":
        return "hex-psil" if meta.get("brain") == "psil" else "hex-neural"
    return "sandbox-psil"


def _mpsil_examples() -> list[Path]:
    import primordia.examples

    return sorted(Path(primordia.examples.__file__).parent.glob("*.mpsil"))


def _archetypes() -> list[bytes]:
    from primordia.brains.psil.archetypes import ARCHETYPES

    return [ARCHETYPES[k] for k in sorted(ARCHETYPES)]


def seeds_psil_genome(materials: dict[str, Path]) -> list[bytes]:
    from primordia.brains.psil.asm import assemble

    genomes = [assemble(p.read_text(), source=p.name) for p in _mpsil_examples()]
    out = [g.to_hex().encode() for g in genomes]
    out += [g.code for g in genomes]
    out += [a.hex().encode() for a in _archetypes()] + _archetypes()
    return out


def seeds_psil_asm(materials: dict[str, Path]) -> list[bytes]:
    from primordia.brains.psil.asm import disassemble
    from primordia.brains.psil.genome import PsilGenome

    out = [p.read_bytes() for p in _mpsil_examples()]
    out += [disassemble(PsilGenome(a)).encode() for a in _archetypes()]
    return out


MYC_SPLIT = b"\n%%myc%%\n"
"""Separates the files of a mycos_chunk input: chunk files, then links.bin last."""


def _conformance() -> Path:
    return REPO / "tests" / "conformance" / "mycos"


def _task_genomes() -> list:
    from primordia.brains.mycos import variation as v
    from primordia.core.rng import DrawStream, Rng
    from primordia.tasks.task import load_task

    out = []
    for k, name in enumerate(("T00_wire_echo", "T01_xor2", "T02_sr_latch",
                              "T03_pulse_counter", "T04_cross_chunk")):
        task = load_task(name)
        for i in range(2):
            g = v.random_genome(DrawStream(Rng(7), 1, k, i), task.io.inputs, task.io.outputs,
                                seed=k * 10 + i)
            out.append(g)
            for j in range(3):
                g = v.mutate(g, DrawStream(Rng(8), 2, k * 10 + i, j))
                out.append(g)
    return out


def seeds_mycos_chunk(materials: dict[str, Path]) -> list[bytes]:
    from primordia.brains.mycos.compiler import compile_genome

    out = [p.read_bytes() for p in sorted(_conformance().glob("*.myc"))
           if p.stat().st_size <= 4096]
    for g in _task_genomes()[::3]:
        ph = compile_genome(g)
        out.append(MYC_SPLIT.join(list(ph.chunks) + [ph.links]))
    return out


def seeds_mycos_json(materials: dict[str, Path]) -> list[bytes]:
    from primordia.brains.mycos.compiler import read_phenotype
    from primordia.brains.mycos.genome import NO_CAPS, to_json

    out = [to_json(g).encode() for g in _task_genomes()[::2]]
    with tempfile.TemporaryDirectory() as tmp:
        for p in sorted(_conformance().glob("*.myc")):
            if p.stat().st_size > 4096:
                continue
            shutil.copy(p, Path(tmp) / "chunk_000.myc")
            out.append(to_json(read_phenotype(tmp, NO_CAPS)).encode())
    return out + edit_seeds(len(out))


def seeds_neural_genome(materials: dict[str, Path]) -> list[bytes]:
    from primordia.brains.registry import SUBSTRATES
    from primordia.core.rng import DrawStream, Rng
    from primordia.runs.checkpoint import load_checkpoint
    from primordia.worlds.hex.world import HEX_IO

    sub = SUBSTRATES.get("neural", io=HEX_IO, num_neurons=3, num_synapses=6,
                         max_num_neurons=6, mutation_magnitude=2.0)
    out = []
    for i in range(6):
        g = sub.random(DrawStream(Rng(11), 1, 0, i), 0)
        out.append(sub.encode(g))
        out.append(sub.encode(sub.mutate(g, DrawStream(Rng(12), 1, 0, i), 0)))
    arrays, _ = load_checkpoint(materials["hex-neural"] / "checkpoint.npz")
    blob, lengths = arrays["genome_bytes"].tobytes(), arrays["genome_lengths"].tolist()
    at = 0
    for n in lengths[:4]:
        out.append(blob[at:at + n])
        at += n
    out = [s for s in out if s]
    return out + edit_seeds(len(out))


def seeds_checkpoint(materials: dict[str, Path]) -> list[bytes]:
    return [(d / "checkpoint.npz").read_bytes() for d in world_runs(materials).values()]


def seeds_checkpoint_arrays(materials: dict[str, Path]) -> list[bytes]:
    # edit programs (see target_checkpoint_arrays): no edit, then one of each kind per run
    out = []
    for t in range(len(world_runs(materials))):
        out.append(bytes([t, 0xFF]))
        for op in range(len(ARRAY_EDITS)):
            out.append(bytes([t, 0, 0, op, 1, 2, 3, 4, 5, 6, 7, 8]))
    return out


def seeds_mycos_checkpoint(materials: dict[str, Path]) -> list[bytes]:
    # edit programs (see target_mycos_checkpoint): unedited, unsealed, then a few edits
    out = [bytes([0, 0xFF]), bytes([0xFE, 0xFF])]
    for k in range(12):
        out.append(bytes([0, 0, 0]) + bytes((k * 37 + j * 11) % 256 for j in range(12)))
    return out


def seeds_recording(materials: dict[str, Path]) -> list[bytes]:
    import gzip

    out = []
    for d in world_runs(materials).values():
        raw = (d / "record.jsonl.gz").read_bytes()
        text = gzip.decompress(raw)
        out += [raw, text]
        lines = text.splitlines(keepends=True)
        out.append(b"".join(lines[:3]))
    return out + edit_seeds(2 * len(world_runs(materials)))


def seeds_toml_config(materials: dict[str, Path]) -> list[bytes]:
    out = [(d / "config.toml").read_bytes() for d in world_runs(materials).values()]
    out += [p.read_bytes() for p in sorted((REPO / "examples").glob("*.toml"))]
    return out


# --- the targets -------------------------------------------------------------------------------

@dataclass
class Context:
    """Where a target works: its scratch folder (the worker's cwd) and the tiny runs."""

    scratch: Path
    materials: dict[str, Path]


def _same(a, b, what: str) -> None:
    Steps.check(a == b, f"{what}: {a!r:.200} != {b!r:.200}")


def target_psil_genome(ctx: Context) -> Callable[[bytes, Steps], None]:
    from primordia.brains.psil.asm import assemble, disassemble
    from primordia.brains.psil.files import load_genome
    from primordia.brains.psil.genome import PsilGenome

    suffixes = (".hex", ".txt", ".bin", "", ".HEX", ".genome")

    checked: set[PsilGenome] = set()

    def round_trips(g: PsilGenome) -> None:
        if g not in checked:                           # each genome of this input once
            checked.add(g)
            _same(PsilGenome.from_hex(g.to_hex()), g, "from_hex(to_hex(g))")
            _same(assemble(disassemble(g)), g, "assemble(disassemble(g))")

    def run(data: bytes, steps: Steps) -> None:
        checked.clear()
        text = data.decode("utf-8", "replace")          # what a command line could carry
        ok, g = steps.attempt(PsilGenome.from_hex, text)
        if ok:
            round_trips(g)
        ok, g = steps.attempt(PsilGenome.from_bytes, data)
        if ok:
            round_trips(g)
        path = ctx.scratch / ("genome" + suffixes[data[-1] % len(suffixes) if data else 0])
        path.write_bytes(data)
        ok, g = steps.attempt(load_genome, str(path))
        path.unlink()
        if ok:
            round_trips(g)
        # as a CLI argument: argv holds no NUL, and a relative name resolves in the scratch
        # folder (the worker's cwd), where no file is left
        if "\0" not in text and "/" not in text and text != "-" and len(text) < 4096:
            ok, g = steps.attempt(load_genome, text)
            if ok:
                round_trips(g)

    return run


def target_psil_asm(ctx: Context) -> Callable[[bytes, Steps], None]:
    from primordia.brains.psil.asm import assemble, disassemble
    from primordia.brains.psil.files import load_genome

    def run(data: bytes, steps: Steps) -> None:
        path = ctx.scratch / "program.mpsil"
        path.write_bytes(data)
        ok, g = steps.attempt(load_genome, str(path))
        if ok:
            text = disassemble(g)
            _same(assemble(text), g, "assemble(disassemble(assemble(text)))")

    return run


def target_mycos_chunk(ctx: Context) -> Callable[[bytes, Steps], None]:
    from primordia.brains.mycos.chunkfile import (chunk_from_bytes, chunk_to_bytes,
                                                  links_from_bytes, links_to_bytes)
    from primordia.brains.mycos.compiler import (LINKS_FILE, chunk_file_name, compile_genome,
                                                 read_phenotype)
    from primordia.brains.mycos.genome import NO_CAPS, from_json, to_json

    folder = ctx.scratch / "phenotype"

    def run(data: bytes, steps: Steps) -> None:
        parts = data.split(MYC_SPLIT)[:66]
        chunks, links = (parts[:-1], parts[-1]) if len(parts) > 1 else (parts, None)
        for k, part in enumerate(chunks):
            ok, cf = steps.attempt(chunk_from_bytes, part, f"chunk {k}")
            if ok:
                again = chunk_from_bytes(chunk_to_bytes(cf.chunk), "re-encoded")
                _same(again.chunk, cf.chunk, "chunk_from_bytes(chunk_to_bytes(chunk))")
        if links is not None:
            ok, lk = steps.attempt(links_from_bytes, links)
            if ok:
                _same(links_from_bytes(links_to_bytes(lk)), lk, "links round trip")
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir()
        for k, part in enumerate(chunks):
            (folder / chunk_file_name(k)).write_bytes(part)
        if links is not None:
            (folder / LINKS_FILE).write_bytes(links)
        for caps in ((), (NO_CAPS,)):
            ok, g = steps.attempt(read_phenotype, folder, *caps)
            if ok:
                _same(from_json(to_json(g), *caps), g, "from_json(to_json(g))")
                ph = compile_genome(g, *caps)
                _same(tuple(chunk_from_bytes(b).chunk for b in ph.chunks), g.chunks,
                      "compiled chunks read back")
                _same(links_from_bytes(ph.links), g.links, "compiled links read back")

    return run


EDIT = b"\x00edit:"
"""An input that starts with this names a real document and edits of it (``edit_json``)
instead of being the bytes to parse: byte-level mutations rarely keep JSON well-formed."""


def edited_json(data: bytes, docs: list) -> bytes:
    """``data`` itself, or -- when it starts with EDIT -- one of ``docs`` with the edits the
    rest of its bytes name, as JSON."""
    if not data.startswith(EDIT) or not docs:
        return data
    d = Draw(data[len(EDIT):])
    doc = json.loads(json.dumps(docs[d.byte() % len(docs)]))
    return json.dumps(edit_json(d, doc), separators=(",", ":")).encode()


def edited_jsonl(data: bytes, texts: list[bytes]) -> bytes:
    """``edited_json`` for JSON lines: one of ``texts`` with lines edited, dropped, repeated
    or swapped."""
    if not data.startswith(EDIT) or not texts:
        return data
    d = Draw(data[len(EDIT):])
    lines = [json.loads(line) for line in texts[d.byte() % len(texts)].splitlines()]
    for _ in range(1 + d.below(4)):
        if not d.left or not lines:
            break
        k, op = d.below(len(lines)), d.below(6)
        if op == 0:
            lines.pop(k)
        elif op == 1:
            lines.insert(k, json.loads(json.dumps(lines[k])))
        elif op == 2:
            j = d.below(len(lines))
            lines[k], lines[j] = lines[j], lines[k]
        else:
            lines[k] = edit_json(d, lines[k])
    return b"".join(json.dumps(line, separators=(",", ":")).encode() + b"\n" for line in lines)


def edit_seeds(n: int) -> list[bytes]:
    """Inputs in the EDIT form: document k unedited, then with a few edits."""
    out = []
    for k in range(n):
        out.append(EDIT + bytes([k]))
        out.append(EDIT + bytes([k, 0]) + bytes((k * 53 + j * 29) % 256 for j in range(16)))
    return out


def target_mycos_json(ctx: Context) -> Callable[[bytes, Steps], None]:
    from primordia.brains.mycos.chunkfile import chunk_from_bytes, links_from_bytes
    from primordia.brains.mycos.compiler import compile_genome, prune
    from primordia.brains.mycos.genome import from_json, load_genome, to_json, validate

    docs = [json.loads(s) for s in seeds_mycos_json(ctx.materials) if not s.startswith(EDIT)]

    def run(data: bytes, steps: Steps) -> None:
        data = edited_json(data, docs)
        ok, g = steps.attempt(from_json, data)
        if ok:
            text = to_json(g)
            _same(from_json(text), g, "from_json(to_json(g))")
            _same(to_json(from_json(text)), text, "to_json is canonical")
            ph = compile_genome(g)
            _same(tuple(chunk_from_bytes(b).chunk for b in ph.chunks), g.chunks,
                  "compiled chunks read back")
            _same(links_from_bytes(ph.links), g.links, "compiled links read back")
            validate(prune(g))
        path = ctx.scratch / "genome.json"
        path.write_bytes(data)
        ok2, g2 = steps.attempt(load_genome, path)
        Steps.check(ok == ok2 and (not ok or g2 == g), "load_genome and from_json disagree")

    return run


def target_neural_genome(ctx: Context) -> Callable[[bytes, Steps], None]:
    from primordia.brains.neural.genome import decode, encode, to_text

    docs = [json.loads(s) for s in seeds_neural_genome(ctx.materials)
            if not s.startswith(EDIT)]

    def run(data: bytes, steps: Steps) -> None:
        data = edited_json(data, docs)
        ok, g = steps.attempt(decode, data)
        if ok:
            blob = encode(g)
            _same(decode(blob), g, "decode(encode(g))")
            _same(encode(decode(blob)), blob, "encode is canonical")
            to_text(g)

    return run


def _resume_and_continue(ctx: Context, steps: Steps, run_dir: Path) -> None:
    """What ``primordia run --resume RUN_DIR`` does, minus the console: the world from the
    checkpoint, the world's resume, and the ticks (turns) left -- the warm-up skipped, the
    kernels are loaded. The run directory's config.toml and recording are the tiny run's
    the checkpoint's metadata names."""
    from primordia.runs import checkpoint
    from primordia.runs.hex_run import HexRun
    from primordia.runs.sandbox_run import SandboxRun

    # as cli/run.py's _world_of: the metadata alone where the checkpoint module can read it
    read_meta = getattr(checkpoint, "read_meta", lambda p: checkpoint.load_checkpoint(p)[1])
    ok, meta = steps.gate(read_meta, run_dir / "checkpoint.npz")
    if not ok:
        return
    world = str(meta.get("world", "sandbox"))
    source = ctx.materials[template_of(meta)]
    for name in ("config.toml", "record.jsonl.gz"):
        if not (run_dir / name).exists():
            shutil.copy(source / name, run_dir / name)
    record = meta.get("record")
    if isinstance(record, str) and record:
        where = (Path.cwd() / record).resolve()
        if not where.is_relative_to(ctx.scratch.resolve()):
            raise Unsafe(f"the checkpoint names the recording {record!r}, outside its run "
                         "directory: resuming would cut and append to that file")
    cls = HexRun if world == "hex" else SandboxRun
    ok, run = steps.gate(cls.resume, run_dir)
    if not ok:
        return
    run.warm_up = lambda: None
    steps.attempt(run.execute)


def _fresh_run_dir(ctx: Context) -> Path:
    run_dir = ctx.scratch / "run"
    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir()
    return run_dir


def target_checkpoint(ctx: Context) -> Callable[[bytes, Steps], None]:
    def run(data: bytes, steps: Steps) -> None:
        run_dir = _fresh_run_dir(ctx)
        (run_dir / "checkpoint.npz").write_bytes(data)
        _resume_and_continue(ctx, steps, run_dir)

    return run


DTYPES = ("bool", "int8", "uint8", "int16", "int32", "int64", "uint32", "uint64", "float32",
          "float64")
ARRAY_EDITS = ("values", "fill", "length", "ndim", "dtype", "drop", "extra", "swap", "meta",
               "meta_drop", "samples", "recording")
MAX_EDIT_ELEMENTS = 1 << 20
"""Arrays an edit makes stay below a million elements (the harness's own memory)."""


def _cast(value, dtype: np.dtype) -> np.ndarray:
    """``value`` (a number or an array) as ``dtype``, wrapping as C casts do."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return np.asarray(value).astype(dtype)


def edit_checkpoint(d: Draw, arrays: dict[str, np.ndarray], meta: dict[str, Any],
                    record: Path, other_names: list[str]) -> None:
    """Apply the edits the input's bytes name to a checkpoint's arrays and metadata (and its
    run's recording) in place."""
    for _ in range(1 + d.below(4)):
        if not d.left:
            return
        op = ARRAY_EDITS[d.below(len(ARRAY_EDITS))]
        names = sorted(arrays)
        name = d.pick(names) if names else None
        a = arrays.get(name) if name else None
        if op == "values" and a is not None and a.size:
            flat = a.reshape(-1).copy()
            for _ in range(1 + d.below(4)):
                flat[d.below(flat.size)] = _cast(draw_number(d, int(flat.size)), a.dtype)
            arrays[name] = flat.reshape(a.shape)
        elif op == "fill" and a is not None:
            arrays[name] = np.full(a.shape, _cast(draw_number(d, a.size), a.dtype))
        elif op == "length" and a is not None and a.ndim:
            n = a.shape[0]
            new = d.pick((0, 1, max(0, n - 1), n + 1, 2 * n, n + d.byte()))
            new = min(new, MAX_EDIT_ELEMENTS // max(1, math.prod(a.shape[1:])))
            if new <= n:
                arrays[name] = a[:new].copy()
            else:
                pad = np.zeros((new - n,) + a.shape[1:], dtype=a.dtype)
                arrays[name] = np.concatenate([a, pad])
        elif op == "ndim" and a is not None:
            if a.ndim > 1 and d.byte() & 1:
                arrays[name] = a.reshape(-1)
            elif a.ndim == 0 or d.byte() & 1:
                arrays[name] = a.reshape(a.shape + (1,))
            else:
                arrays[name] = a.reshape(()) if a.size == 1 else a.reshape((1,) + a.shape)
        elif op == "dtype" and a is not None:
            arrays[name] = _cast(a, np.dtype(d.pick(DTYPES)))
        elif op == "drop" and name is not None:
            del arrays[name]
        elif op == "extra":
            extra = d.pick(other_names + ["junk", "state.x2", "brain.extra"])
            arrays[extra] = np.zeros(d.below(16), dtype=d.pick(DTYPES))
        elif op == "swap" and len(names) > 1:
            other = d.pick(names)
            arrays[name], arrays[other] = arrays[other], arrays[name]
        elif op == "meta":
            keys = sorted(meta) + ["world", "tick", "turn", "brain", "substrate", "bogus"]
            key = d.pick(keys)
            if key == "record":
                # a path inside the run directory or none (never one outside: that would
                # make the resume write there)
                meta[key] = d.pick((None, "", str(record), str(record) + ".gone"))
            else:
                meta[key] = draw_json(d, meta.get(key))
        elif op == "meta_drop" and meta:
            meta.pop(d.pick(sorted(meta)))
        elif op == "samples" and isinstance(meta.get("samples"), list):
            meta["samples"] = draw_json(d, meta["samples"])
            if meta["samples"] and isinstance(meta["samples"], list) and d.byte() & 1:
                k = d.below(len(meta["samples"]))
                meta["samples"][k] = draw_json(d, meta["samples"][k])
        elif op == "recording" and record.exists():
            size = record.stat().st_size
            if d.byte() & 1:
                with open(record, "r+b") as f:
                    f.truncate(d.below(size + 1))
            else:
                meta["record_bytes"] = draw_json(d, meta.get("record_bytes"))


def target_checkpoint_arrays(ctx: Context) -> Callable[[bytes, Steps], None]:
    from primordia.runs.checkpoint import load_checkpoint, save_checkpoint

    names = sorted(world_runs(ctx.materials))
    loaded = {}
    for name in names:
        arrays, meta = load_checkpoint(ctx.materials[name] / "checkpoint.npz")
        loaded[name] = ({k: np.array(v) for k, v in arrays.items()}, meta)
    every_name = sorted({k for arrays, _ in loaded.values() for k in arrays})

    def run(data: bytes, steps: Steps) -> None:
        d = Draw(data)
        name = names[d.byte() % len(names)]
        base, meta = loaded[name]
        arrays = dict(base)
        meta = json.loads(json.dumps(meta))
        run_dir = _fresh_run_dir(ctx)
        for f in ("config.toml", "record.jsonl.gz"):
            shutil.copy(ctx.materials[name] / f, run_dir / f)
        if d.byte() != 0xFF:
            edit_checkpoint(d, arrays, meta, run_dir / "record.jsonl.gz",
                            [k for k in every_name if k not in arrays])
        meta.pop("digest", None)
        save_checkpoint(run_dir / "checkpoint.npz", arrays, meta)
        _resume_and_continue(ctx, steps, run_dir)

    return run


def edit_json(d: Draw, doc: Any) -> Any:
    """Edits of a JSON document the input's bytes name: a value anywhere replaced (by an
    edge of any type or a variation of itself), a key or an element dropped or repeated."""
    for _ in range(1 + d.below(4)):
        if not d.left:
            break
        parent, key, node = None, None, doc
        while isinstance(node, (dict, list)) and node and d.byte() % 4:
            keys = sorted(node) if isinstance(node, dict) else range(len(node))
            parent, key = node, d.pick(list(keys))
            node = node[key]
        if parent is None:
            continue
        op = d.below(4)
        if op == 0 and isinstance(parent, dict):
            del parent[key]
        elif op == 1 and isinstance(parent, list):
            parent.insert(key, json.loads(json.dumps(node)))
        elif op == 2 and isinstance(parent, list):
            parent.pop(key)
        else:
            parent[key] = draw_json(d, node)
    return doc


def target_mycos_checkpoint(ctx: Context) -> Callable[[bytes, Steps], None]:
    """A Mycos run's checkpoint.json, edited and sealed again (or not), resumed as
    ``primordia evolve mycos --resume DIR --gens N`` does for one more generation."""
    from primordia.runs.mycos_run import CHECKPOINT, load_checkpoint, seal, timed_evolve
    from primordia.runs.rundir import RunDirectory

    base = json.loads((ctx.materials["mycos"] / CHECKPOINT).read_text())
    base.pop("digest", None)

    def run(data: bytes, steps: Steps) -> None:
        d = Draw(data)
        sealed = d.byte() != 0xFE
        doc = json.loads(json.dumps(base))
        if d.byte() != 0xFF:
            doc = edit_json(d, doc)
        run_dir = _fresh_run_dir(ctx)
        (run_dir / CHECKPOINT).write_text(json.dumps(seal(doc) if sealed else doc))
        ok, got = steps.gate(load_checkpoint, run_dir)
        if not ok:
            return
        got.config = got.config.model_copy(update={"gens": got.generation + 1})
        steps.attempt(timed_evolve, got.config, got.task, RunDirectory(run_dir), None,
                      run=got)

    return run


def target_recording(ctx: Context) -> Callable[[bytes, Steps], None]:
    import gzip

    import orjson

    from primordia.runs.recorder import read_recording
    from primordia.web import replay
    from primordia.web.app import reply
    from primordia.http.errors import ApiError

    path = ctx.scratch / "record.jsonl.gz"
    texts = [s for s in seeds_recording(ctx.materials)
             if not s.startswith((EDIT, b"\x1f\x8b"))]

    def run(data: bytes, steps: Steps) -> None:
        data = edited_jsonl(data, texts)
        path.write_bytes(data if data[:2] == b"\x1f\x8b" else gzip.compress(data, 1, mtime=0))
        steps.gate(lambda: sum(1 for _ in read_recording(
            path, max_total=replay.MAX_RECORDING_TEXT)))
        replay.world_of(path)
        try:
            rec = replay.load(path)
        except ApiError as exc:
            if exc.status >= 500:
                raise ServerError(f"replay.load answered {exc.status}: {exc.message}") from exc
            steps.refuse(exc.message, exc)
            return
        mid = (rec.first + rec.last) // 2
        for start, end in ((rec.first, rec.last), (0, 0), (mid, mid + 3), (rec.last, 2**62)):
            page = rec.page(start, end)
            body = reply(page).body
            orjson.loads(body)

    return run


def target_toml_config(ctx: Context) -> Callable[[bytes, Steps], None]:
    from primordia.core.config import read_toml
    from primordia.distributed.experiment import load_experiment
    from primordia.worlds.hex.config import HexConfig
    from primordia.worlds.sandbox.config import SandboxConfig

    path = ctx.scratch / "config.toml"
    again = ctx.scratch / "again.toml"

    def run(data: bytes, steps: Steps) -> None:
        path.write_bytes(data)
        ok, values = steps.gate(read_toml, path)
        if ok:
            for cls in (SandboxConfig, HexConfig):
                ok, cfg = steps.attempt(cls.build, dict(values), str(path))
                if ok:
                    again.write_text(cfg.to_toml())
                    _same(cls.from_toml(again), cfg, f"{cls.__name__} written and read back")
        steps.attempt(load_experiment, path)

    return run


# --- dictionaries: the tokens of each format, for libFuzzer's -dict ----------------------------

def _model_keys(*models) -> list[str]:
    """Field names of pydantic models and of the models nested in them."""
    out, todo, seen = [], list(models), set()
    while todo:
        model = todo.pop()
        if model in seen:
            continue
        seen.add(model)
        for name, f in model.model_fields.items():
            out.append(f.alias or name)
            for sub in (f.annotation, *getattr(f.annotation, "__args__", ())):
                if isinstance(sub, type) and hasattr(sub, "model_fields"):
                    todo.append(sub)
    return sorted(set(out))


def dict_psil_genome() -> list[bytes]:
    return [b";", b":", b";0:", b";1:", b"0x", b"00", b"ff", b".hex", b".mpsil"]


def dict_psil_asm() -> list[bytes]:
    from primordia.brains.psil import asm

    words = sorted(asm._MNEMONICS) + ["QUOT", "ENDQUOT", "DEFINE", "ENDDEF", "INLINE",
                                      "ENDINLINE", "db", "string", "[0]", "[q]", "0x", "0b",
                                      "0o", "-32768", "32767", "255", "256", '"\\x41"', ":"]
    return [w.encode() for w in words]


def dict_mycos_chunk() -> list[bytes]:
    from primordia.brains.mycos import chunkfile as cf

    return [cf.MAGIC, cf.MAGIC + bytes([1, 0]), MYC_SPLIT, bytes([1, 0, 0, 0]),
            bytes(4), b"\xff\xff\xff\xff", bytes([0, 1]), bytes([1, 2]), bytes([1, 1])]


def dict_mycos_json() -> list[bytes]:
    from primordia.brains.mycos import genome as mg

    keys = set(mg.CONN_KEYS + mg.LINK_KEYS + mg.CHUNK_KEYS) | {"meta", "seed", "tag",
                                                                "chunks", "links"}
    return [f'"{k}":'.encode() for k in sorted(keys)] + [
        b"{", b"}", b"[]", b"[{", b"}]", b",", b'""', b'"00"', b'"ff"', b"4294967295",
        b"18446744073709551615", b"-1", b"1e9", b"null", b"true"]


def dict_neural_genome() -> list[bytes]:
    return [b'"sensors":', b'"inter":', b'"actions":', b'"synapses":', b"[1000,", b"[2000,",
            b"[0,1000,", b"0.5", b"-8.0", b"8.000001", b"1e308", b"NaN", b"Infinity",
            b"[]", b"[[", b"]]", b",", b"{", b"}", b"99999"]


def dict_checkpoint() -> list[bytes]:
    return [b"PK\x03\x04", b"PK\x01\x02", b"PK\x05\x06", b".npy", b"\x93NUMPY\x01\x00",
            b"\x93NUMPY\x02\x00", b"'descr':", b"'fortran_order':", b"'shape':", b"'<i8'",
            b"'<f8'", b"'|u1'", b"'|b1'", b"'|O'", b"True", b"False", b"(8,)", b"(0,)",
            b"__meta__", b"state.", b"brain.", b"lineage.", b"scalars", b"genome_bytes"]


def dict_recording() -> list[bytes]:
    from primordia.runs import recording_schema as rs

    keys = _model_keys(rs.HexHeader, rs.HexSnapshot, rs.HexDelta, rs.SandboxHeader,
                       rs.SandboxFrame)
    return [f'"{k}":'.encode() for k in keys] + [
        b'"header"', b'"snapshot"', b'"delta"', b'"tick"', b'"full"', b'"hex"', b'"sandbox"',
        b"\n", b"{", b"}", b"[]", b"null", b"-1", b"4096", b"9007199254740992", b'"AAAA"']


def dict_toml_config() -> list[bytes]:
    from primordia.distributed.experiment import ExperimentConfig
    from primordia.worlds.hex.config import HexConfig
    from primordia.worlds.sandbox.config import SandboxConfig

    keys = _model_keys(SandboxConfig, HexConfig, ExperimentConfig)
    return [f"{k} = ".encode() for k in keys] + [
        b"[selection]", b"[verification]", b"[leases]", b"[world_config]", b"[[niches]]",
        b"[niches.config]", b'"""', b"'" * 3, b"true", b"inf", b"nan", b"-0", b"0x", b"1e",
        b"1979-05-27T07:32:00Z", b"{ ", b" }", b"[", b"]", b"\n", b" = "]


def dict_line(token: bytes) -> str:
    """A libFuzzer dictionary entry."""
    body = "".join(chr(c) if 0x20 <= c < 0x7F and c not in (0x22, 0x5C) else f"\\x{c:02x}"
                   for c in token)
    return f'"{body}"'


@dataclass(frozen=True)
class Target:
    name: str
    build: Callable[[Context], Callable[[bytes, Steps], None]]
    seeds: Callable[[dict[str, Path]], list[bytes]]
    max_len: int
    dictionary: Callable[[], list[bytes]] | None = None
    """Tokens of the format, handed to libFuzzer (``-dict``) to splice into inputs."""
    also: tuple[str, ...] = ()
    """Modules besides primordia whose Python code the target leans on (instrumented too)."""


NPZ = ("zipfile", "numpy.lib._npyio_impl", "numpy.lib._format_impl")
TARGETS: dict[str, Target] = {t.name: t for t in (
    Target("psil_genome", target_psil_genome, seeds_psil_genome, 4096, dict_psil_genome),
    Target("psil_asm", target_psil_asm, seeds_psil_asm, 8192, dict_psil_asm),
    Target("mycos_chunk", target_mycos_chunk, seeds_mycos_chunk, 8192, dict_mycos_chunk),
    Target("mycos_json", target_mycos_json, seeds_mycos_json, 8192, dict_mycos_json,
           ("json.decoder",)),
    Target("neural_genome", target_neural_genome, seeds_neural_genome, 8192,
           dict_neural_genome, ("json.decoder",)),
    Target("checkpoint", target_checkpoint, seeds_checkpoint, 32768, dict_checkpoint, NPZ),
    Target("checkpoint_arrays", target_checkpoint_arrays, seeds_checkpoint_arrays, 256,
           None, NPZ),
    Target("mycos_checkpoint", target_mycos_checkpoint, seeds_mycos_checkpoint, 256, None,
           ("json.decoder",)),
    Target("recording", target_recording, seeds_recording, 16384, dict_recording,
           ("gzip", "_compression")),
    Target("toml_config", target_toml_config, seeds_toml_config, 8192, dict_toml_config,
           ("tomllib._parser",)),
)}


# --- instrumentation ---------------------------------------------------------------------------

JITTED_ELSEWHERE = ("primordia.brains.neural.reference",)
"""Modules without numba whose plain functions numba compiles from another module."""


def numba_modules() -> list[str]:
    """primordia's modules that hold numba kernels (atheris must leave their bytecode to
    numba), and those in JITTED_ELSEWHERE."""
    src = REPO / "src"
    out = list(JITTED_ELSEWHERE)
    for path in sorted((src / "primordia").rglob("*.py")):
        if "numba" in path.read_text():
            mod = ".".join(path.relative_to(src).with_suffix("").parts)
            out.append(mod.removesuffix(".__init__"))
    return out


def instrument_loaded(module_names: list[str] | tuple[str, ...], methods_only: bool) -> int:
    """Instrument the Python functions defined in already imported modules, in place: every
    one, or (``methods_only``, for modules with numba kernels: numba compiles their
    module-level functions, never a class's methods) the methods of their classes. Returns
    the number of functions instrumented."""
    import importlib

    import atheris

    n = 0
    for name in module_names:
        if name in JITTED_ELSEWHERE:
            continue
        mod = sys.modules.get(name) if methods_only else importlib.import_module(name)
        if mod is None:
            continue
        here = getattr(mod, "__file__", None)
        found = []
        for obj in list(vars(mod).values()):
            if isinstance(obj, type):
                for attr in vars(obj).values():
                    fn = attr.fget if isinstance(attr, property) else getattr(
                        attr, "__func__", attr)
                    found.append(fn)
            elif not methods_only:
                found.append(obj)
        for fn in found:
            if isinstance(fn, types.FunctionType) and fn.__code__.co_filename == here:
                atheris.instrument_func(fn)
                n += 1
    return n


# --- the worker (one target, one libFuzzer campaign) -------------------------------------------

def worker_main(opts) -> int:
    import atheris

    target = TARGETS[opts.target]
    out = Path(opts.out) / target.name
    materials = json.loads(Path(opts.materials_index).read_text())
    ctx = Context(Path(opts.scratch), {k: Path(v) for k, v in materials.items()})
    os.chdir(ctx.scratch)
    sys.stdin = open(os.devnull)                       # nothing may wait on a terminal
    jitted = numba_modules()
    if any(m.startswith("primordia") for m in sys.modules):
        raise HarnessError("primordia was imported before its instrumentation")
    with atheris.instrument_imports(include=["primordia"], exclude=jitted):
        fn = target.build(ctx)
    n = instrument_loaded(jitted, methods_only=True)
    m = instrument_loaded(target.also, methods_only=False)
    print(f"INSTRUMENTED primordia (+{n} methods in numba modules), {m} functions of "
          f"{', '.join(target.also) or 'no other module'}", file=sys.stderr, flush=True)
    counters = Counters(out / "counters.bin")
    findings = Findings(out / "findings", target.name)
    harness = Harness(target.name, fn, counters, findings, opts.watchdog,
                      int(opts.rss_growth_mb * 1024))
    install_watchdog()
    corpus = out / "corpus"
    max_len = max([target.max_len] + [p.stat().st_size for p in corpus.iterdir()])
    args = [sys.argv[0], str(corpus), f"-runs={opts.runs}", f"-seed={opts.seed}",
            f"-max_len={max_len}", f"-timeout={opts.hard_timeout}",
            f"-rss_limit_mb={opts.rss_limit_mb}",
            f"-artifact_prefix={out / 'findings'}/libfuzzer-", "-print_final_stats=1"]
    if opts.max_time:
        args.append(f"-max_total_time={opts.max_time}")
    if (out / "dict.txt").exists():
        args.append(f"-dict={out / 'dict.txt'}")
    atheris.Setup(args, harness)
    # load every kernel (numba caches) before the watchdog counts: one unwatched pass
    for p in sorted(corpus.iterdir())[:50]:
        execute(fn, p.read_bytes(), watchdog=0, rss_growth_kb=1 << 40)
    if counters["rss_kb_start"] == 0:
        counters.most("rss_kb_start", rss_kb())
    print("WORKER_READY", file=sys.stderr, flush=True)
    atheris.Fuzz()
    return 0


# --- the campaign (parent process) -------------------------------------------------------------

STATUS = re.compile(r"^#(\d+)\s+(\w+)\s+cov: (\d+) ft: (\d+) corp: (\d+)/(\S+)")
KILLED = (("deadly signal", "crash"), ("timeout", "hang"), ("out-of-memory", "memory"),
          ("malloc limit", "memory"), ("Uncaught Python exception", "crash"))


@dataclass
class Campaign:
    target: str
    runs: int
    seconds: float = 0.0
    counts: dict = field(default_factory=dict)
    cov: int = 0
    ft: int = 0
    corpus: int = 0
    corpus_start: int = 0
    killed: list = field(default_factory=list)
    findings: dict = field(default_factory=dict)
    log: str = ""

    def report(self) -> dict:
        c = self.counts
        n = max(1, c.get("executions", 0))
        return {"target": self.target, "executions": c.get("executions", 0),
                "accepted": c.get("accepted", 0), "refused": c.get("refused", 0),
                "findings": c.get("findings", 0),
                **{k: c.get(k, 0) for k in FINDING_KINDS},
                "distinct_findings": len(self.findings),
                "worker_restarts": c.get("restarts", 0),
                "cov": self.cov, "ft": self.ft, "corpus_start": self.corpus_start,
                "corpus": self.corpus, "wall_s": round(self.seconds, 1),
                "executions_per_s": round(c.get("executions", 0) / self.seconds, 1)
                if self.seconds else None,
                "mean_input_ms": round(c.get("input_us_total", 0) / n / 1000, 3),
                "slowest_input_s": round(c.get("input_us_max", 0) / 1e6, 3),
                "peak_rss_mib": round(c.get("rss_kb_peak", 0) / 1024, 1),
                "rss_after_warm_up_mib": round(c.get("rss_kb_start", 0) / 1024, 1),
                "rss_at_end_mib": round(c.get("rss_kb_last", 0) / 1024, 1),
                "ok": c.get("findings", 0) == 0,
                "distinct": [{"signature": sig, **rec} for sig, rec in self.findings.items()],
                "log": self.log}


def prepare_corpus(target: Target, materials: dict[str, Path], folder: Path) -> int:
    """Seed ``folder`` with the target's seeds (kept: a corpus carries over between runs)."""
    folder.mkdir(parents=True, exist_ok=True)
    for data in target.seeds(materials):
        name = "seed-" + hashlib.sha1(data).hexdigest()
        if not (folder / name).exists():
            (folder / name).write_bytes(data)
    return sum(1 for _ in folder.iterdir())


def scratch_root() -> str | None:
    """A folder in memory (no disk syncs per input) when the machine has one."""
    shm = Path("/dev/shm")
    return str(shm) if shm.is_dir() and os.access(shm, os.W_OK) else None


def run_campaign(target: Target, opts, materials_index: Path,
                 materials: dict[str, Path]) -> Campaign:
    out = Path(opts.out) / target.name
    out.mkdir(parents=True, exist_ok=True)
    counters = out / "counters.bin"
    if not opts.keep_counts:
        for stale in (counters, out / "findings" / "index.json"):
            stale.unlink(missing_ok=True)
    camp = Campaign(target.name, opts.runs)
    camp.corpus_start = prepare_corpus(target, materials, out / "corpus")
    (out / "dict.txt").unlink(missing_ok=True)
    if target.dictionary is not None:
        (out / "dict.txt").write_text("".join(dict_line(t) + "\n"
                                              for t in target.dictionary()))
    log_path = out / "worker.log"
    t0 = time.perf_counter()
    restarts = 0
    with open(log_path, "w") as log:
        while True:
            done = Counters.read(counters)["executions"]
            left = opts.runs - done if opts.runs else 0
            if opts.runs and left <= 0:
                break
            elapsed = time.perf_counter() - t0
            if opts.max_time and elapsed >= opts.max_time:
                break
            with tempfile.TemporaryDirectory(prefix="primordia-fuzz-",
                                             dir=scratch_root()) as scratch:
                cmd = [sys.executable, str(Path(__file__).resolve()), "--worker",
                       "--target", target.name, "--out", str(opts.out),
                       "--materials-index", str(materials_index), "--scratch", scratch,
                       "--runs", str(left if opts.runs else -1),
                       "--seed", str(opts.seed + restarts),
                       "--max-time", str(max(1, int(opts.max_time - elapsed))
                                         if opts.max_time else 0),
                       "--watchdog", str(opts.watchdog),
                       "--hard-timeout", str(opts.hard_timeout),
                       "--rss-growth-mb", str(opts.rss_growth_mb),
                       "--rss-limit-mb", str(opts.rss_limit_mb)]
                proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, stdout=log, text=True,
                                        errors="replace")
                tail: list[str] = []
                ready = False
                last_print = time.monotonic()
                for line in proc.stderr:
                    log.write(line)
                    ready = ready or line.startswith("WORKER_READY")
                    tail = (tail + [line])[-60:]
                    m = STATUS.match(line)
                    if m:
                        camp.cov, camp.ft, camp.corpus = (int(m.group(3)), int(m.group(4)),
                                                          int(m.group(5)))
                    if not opts.quiet and time.monotonic() - last_print > 30:
                        last_print = time.monotonic()
                        c = Counters.read(counters)
                        print(f"  {target.name}: {c['executions']:,} executions, cov "
                              f"{camp.cov} ft {camp.ft}, findings {c['findings']}, "
                              f"{time.perf_counter() - t0:.0f} s", file=sys.stderr,
                              flush=True)
                status = proc.wait()
            text = "".join(tail)
            if status == 0:
                break
            if not ready:
                raise HarnessError(f"{target.name}: the worker failed before fuzzing "
                                   f"(exit status {status}):\n{text[-3000:]}")
            if "numba compiled a function atheris had instrumented" in text:
                raise HarnessError(text[-3000:])
            kind = next((k for key, k in KILLED if key in text), "crash")
            camp.killed.append({"kind": kind, "status": status, "log": text[-2000:]})
            c = Counters(counters)
            c.add("executions")                 # the input the worker died on
            c.add("findings")
            c.add(kind)
            c.add("restarts")
            restarts += 1
            if restarts > opts.max_restarts:
                print(f"  {target.name}: stopping after {restarts} killed workers",
                      file=sys.stderr)
                break
    camp.seconds = time.perf_counter() - t0
    camp.counts = Counters.read(counters)
    index = out / "findings" / "index.json"
    camp.findings = json.loads(index.read_text()) if index.exists() else {}
    for k, killed in enumerate(camp.killed):
        camp.findings[f"worker killed ({killed['kind']}) #{k}"] = {
            "kind": killed["kind"], "count": 1, "file": "libfuzzer-*",
            "first": killed["log"].strip().splitlines()[-1][:300] if killed["log"] else ""}
    camp.log = str(log_path)
    return camp


def print_report(rep: dict) -> None:
    n = max(1, rep["executions"])
    print(f"{rep['target']}: {rep['executions']:,} executions in {rep['wall_s']:,.1f} s "
          f"({rep['executions_per_s'] or 0:,.0f}/s, mean {rep['mean_input_ms']} ms, slowest "
          f"{rep['slowest_input_s']} s)")
    print(f"  accepted {rep['accepted']:,} ({100 * rep['accepted'] / n:.1f}%), refused "
          f"{rep['refused']:,} ({100 * rep['refused'] / n:.1f}%), findings {rep['findings']:,} "
          f"({rep['distinct_findings']} distinct: "
          + ", ".join(f"{k} {rep[k]}" for k in FINDING_KINDS) + ")")
    print(f"  coverage: cov {rep['cov']:,} ft {rep['ft']:,}; corpus {rep['corpus_start']} "
          f"seeds -> {rep['corpus']} inputs; RSS {rep['rss_after_warm_up_mib']} MiB after "
          f"warm-up, {rep['rss_at_end_mib']} MiB at the end, peak {rep['peak_rss_mib']} MiB")
    for d in rep["distinct"][:12]:
        print(f"  ! {d['kind']} x{d['count']}: {d['signature']}\n      {d['first'][:200]}"
              f"\n      input: {d['file']}")


def replay_main(opts) -> int:
    """Run saved inputs through a target again, without atheris."""
    target = TARGETS[opts.target[0]]
    with tempfile.TemporaryDirectory(prefix="primordia-fuzz-") as tmp:
        materials = make_materials(Path(opts.out) / "materials")
        ctx = Context(Path(tmp), materials)
        os.chdir(tmp)
        install_watchdog()
        fn = target.build(ctx)
        bad = 0
        for name in opts.replay:
            out = execute(fn, Path(name).read_bytes(), opts.watchdog,
                          int(opts.rss_growth_mb * 1024))
            bad += out.finding
            print(f"{name}: {out.kind} ({out.seconds:.3f} s, peak RSS +"
                  f"{out.rss_growth_kb / 1024:.1f} MiB)")
            if out.finding:
                print("  " + out.detail.strip().replace("\n", "\n  "))
    return 1 if bad else 0


def parse(argv: list[str] | None = None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--target", action="append", choices=sorted(TARGETS),
                    help="a target (repeatable); default: every target")
    ap.add_argument("--runs", type=int, default=0,
                    help="executions per target (0: until --max-time)")
    ap.add_argument("--max-time", type=int, default=0, help="seconds per target (0: no limit)")
    ap.add_argument("--seed", type=int, default=1, help="libFuzzer's seed")
    ap.add_argument("--out", default="fuzz-out",
                    help="folder for corpora, findings and logs (kept between campaigns)")
    ap.add_argument("--watchdog", type=float, default=5.0,
                    help="seconds of CPU (or wall) time an input may take before it is a hang")
    ap.add_argument("--hard-timeout", type=int, default=60,
                    help="libFuzzer's -timeout: the worker is killed after this many seconds")
    ap.add_argument("--rss-growth-mb", type=float, default=256,
                    help="growth of the peak RSS during one input that is a memory finding")
    ap.add_argument("--rss-limit-mb", type=int, default=4096, help="libFuzzer's -rss_limit_mb")
    ap.add_argument("--max-restarts", type=int, default=20)
    ap.add_argument("--keep-counts", action="store_true",
                    help="add to the counts of the previous campaign in --out")
    ap.add_argument("--replay", nargs="+", metavar="FILE", help="run these inputs again")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--quiet", action="store_true")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--scratch", help=argparse.SUPPRESS)
    ap.add_argument("--materials-index", help=argparse.SUPPRESS)
    opts = ap.parse_args(argv)
    if opts.worker:
        opts.target = opts.target[0]
        return opts
    if not opts.replay and opts.runs <= 0 and opts.max_time <= 0:
        ap.error("give --runs N or --max-time SECONDS (or --replay FILE...)")
    if opts.replay and (not opts.target or len(opts.target) != 1):
        ap.error("--replay needs exactly one --target")
    return opts


def main(argv: list[str] | None = None) -> int:
    opts = parse(argv)
    if opts.worker:
        return worker_main(opts)
    if opts.replay:
        return replay_main(opts)
    try:
        import atheris  # noqa: F401
    except ImportError:
        print("fuzz_parsers: campaigns need atheris (pip install atheris)", file=sys.stderr)
        return 2
    names = opts.target or list(TARGETS)
    out = Path(opts.out)
    try:
        t0 = time.perf_counter()
        materials = make_materials(out / "materials")
        index = out / "materials.json"
        index.write_text(json.dumps({k: str(v.resolve()) for k, v in materials.items()}))
        if not opts.quiet:
            print(f"materials ready ({time.perf_counter() - t0:.1f} s)", file=sys.stderr)
        reports = []
        for name in names:
            camp = run_campaign(TARGETS[name], opts, index, materials)
            rep = camp.report()
            reports.append(rep)
            if not opts.json:
                print_report(rep)
                sys.stdout.flush()
    except HarnessError as exc:
        print(f"fuzz_parsers: {exc}", file=sys.stderr)
        return 2
    if opts.json:
        print(json.dumps(reports, indent=1))
    ok = all(r["ok"] for r in reports)
    if not opts.json:
        print("OK: no findings" if ok else "FINDINGS: see the findings folders under "
              f"{out}/")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
