"""The parser fuzz targets (benchmarks/fuzz_parsers.py) on a CI-sized sample, and the harness
that sorts their outcomes.

docs/architecture.md, "Bad input": a parser of untrusted input returns, or refuses with a
one-line PrimordiaError (the replay: a 4xx ApiError) -- never another exception, a hang or
unbounded memory -- and keeps the round trips it promises. The campaigns run each target for
minutes under atheris (benchmarks/RESULTS.md); here every target runs on its seeds (real files
the project writes) and on a few hundred hypothesis-made inputs -- random bytes and seeds with
byte-level edits -- through the same function atheris calls, and must have no finding.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ..needs import missing

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "fuzz_parsers.py"


def load_script():
    spec = importlib.util.spec_from_file_location("fuzz_parsers", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["fuzz_parsers"] = module          # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


fz = load_script()

EXAMPLES = {"psil_genome": 300, "psil_asm": 300, "mycos_chunk": 300, "mycos_json": 300,
            "neural_genome": 300, "checkpoint": 60, "checkpoint_arrays": 60,
            "mycos_checkpoint": 60,
            "recording": 200, "toml_config": 300}
"""Inputs per target: a few seconds each (checkpoint inputs resume and run a world)."""


def test_every_target_is_sampled():
    assert sorted(EXAMPLES) == sorted(fz.TARGETS)


@pytest.fixture(scope="module")
def materials(tmp_path_factory):
    return fz.make_materials(tmp_path_factory.mktemp("materials"))


@pytest.fixture(scope="module")
def seeds(materials):
    return {name: t.seeds(materials) for name, t in fz.TARGETS.items()}


@pytest.fixture
def build(materials, tmp_path, monkeypatch):
    """A target's function working in this test's folder (the worker's cwd)."""
    monkeypatch.chdir(tmp_path)
    return lambda name: fz.TARGETS[name].build(fz.Context(tmp_path, materials))


def edited(seeds: list[bytes], max_len: int):
    """Random bytes, or a seed with a few byte-level edits (flip, insert, delete, cut,
    overwrite, repeat) -- what a mutator does first."""
    edit = st.tuples(st.integers(0, 5), st.integers(0, 2**16), st.binary(min_size=1, max_size=8))

    def apply(args) -> bytes:
        seed, edits = args
        b = bytearray(seed)
        for kind, pos, chunk in edits:
            at = pos % (len(b) + 1)
            if kind == 0 and b:
                b[at % len(b)] ^= chunk[0] or 1
            elif kind == 1:
                b[at:at] = chunk
            elif kind == 2:
                del b[at:at + len(chunk)]
            elif kind == 3:
                del b[at:]
            elif kind == 4:
                b[at:at + len(chunk)] = chunk
            else:
                b[at:at] = b[at:at + 4 * len(chunk)]
        return bytes(b[:max_len])

    return st.one_of(st.binary(max_size=min(max_len, 512)),
                     st.tuples(st.sampled_from(seeds),
                               st.lists(edit, min_size=1, max_size=4)).map(apply))


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_every_seed_is_accepted(name, seeds, build):
    fn = build(name)
    for data in seeds[name]:
        if name in ("checkpoint_arrays", "mycos_checkpoint") and (
                data[1:2] != b"\xff" or data[0] == 0xFE):
            continue          # seeds with an edit, or unsealed: the sample below runs them
        if data.startswith(fz.EDIT) and len(data) > len(fz.EDIT) + 1:
            continue          # a document with edits (an unedited one must be accepted)
        out = fz.execute(fn, data, watchdog=30)
        assert out.kind == "accepted", (out.kind, out.detail)


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_no_findings_on_a_ci_sample(name, seeds, build):
    fn = build(name)
    target = fz.TARGETS[name]
    kinds: dict[str, int] = {}
    refusals = [0]

    @settings(max_examples=EXAMPLES[name], derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(data=edited(seeds[name], target.max_len))
    def check(data):
        out = fz.execute(fn, data, watchdog=30)
        kinds[out.kind] = kinds.get(out.kind, 0) + 1
        refusals[0] += out.steps[1]
        assert not out.finding, f"{out.kind}: {out.signature}\n{out.detail}"

    check()
    assert sum(kinds.values()) >= EXAMPLES[name]
    assert refusals[0] > 0                     # the sample reaches the parsers' checks


# --- the harness ---------------------------------------------------------------------------------

def _refuse(message):
    from primordia.core.errors import GenomeError

    class Verbatim(GenomeError):
        """A message as given (GenomeError itself escapes line breaks)."""

        def __str__(self) -> str:
            return message

    def run(data, steps):
        steps.attempt(lambda: (_ for _ in ()).throw(Verbatim(message)))
    return run


def test_a_one_line_primordia_error_is_a_refusal():
    assert fz.execute(_refuse("genome: bad byte at offset 3"), b"").kind == "refused"


@pytest.mark.parametrize("message", ["", "   ", "first\nsecond", "a\rb", "x" * 1001])
def test_a_refusal_that_is_not_one_short_line_is_a_finding(message):
    out = fz.execute(_refuse(message), b"")
    assert out.kind == "message" and "Verbatim" in out.signature


def test_any_other_exception_is_a_crash_named_by_its_place():
    def run(data, steps):
        steps.attempt(int, data.decode())          # ValueError: not a user error

    out = fz.execute(run, b"x")
    assert out.kind == "crash"
    assert out.signature.startswith("crash|ValueError") and "invalid literal" in out.detail


def test_a_broken_round_trip_is_an_invariant_finding():
    def run(data, steps):
        fz._same(data, data[::-1], "reversed")

    assert fz.execute(run, b"ab").kind == "invariant"
    assert fz.execute(run, b"aa").kind == "accepted"


def test_an_input_over_the_watchdog_is_a_hang():
    def run(data, steps):
        while True:
            pass

    out = fz.execute(run, b"", watchdog=0.3)
    assert out.kind == "hang" and out.signature.startswith("hang|Hang")


def test_peak_memory_growth_during_an_input_is_a_finding():
    # in a fresh process, whose peak RSS is low: 128 MiB written in one input
    code = (f"import importlib.util, sys; spec = importlib.util.spec_from_file_location("
            f"'fz', {str(SCRIPT)!r}); m = importlib.util.module_from_spec(spec); "
            f"sys.modules['fz'] = m; spec.loader.exec_module(m); "
            f"print(m.execute(lambda d, s: len(b'x' * (128 << 20)), b'', "
            f"rss_growth_kb=64 << 10).kind, m.execute(lambda d, s: None, b'').kind)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["memory", "accepted"]


def test_findings_are_saved_once_per_signature_and_counted(tmp_path):
    findings = fz.Findings(tmp_path, "demo")

    def run(data, steps):
        raise KeyError(data)

    for data in (b"a", b"b", b"c"):
        findings.add(fz.execute(run, data), data)
    findings._flush()
    index = json.loads((tmp_path / "index.json").read_text())
    (rec,) = index.values()
    assert rec["kind"] == "crash" and rec["count"] == 3
    assert (tmp_path / rec["file"]).read_bytes() == b"a"
    assert "--target demo --replay" in (tmp_path / rec["file"]).with_suffix(".txt").read_text()


def test_edits_read_from_bytes_are_deterministic(materials):
    import numpy as np

    from primordia.runs.checkpoint import load_checkpoint

    arrays, meta = load_checkpoint(materials["sandbox-psil"] / "checkpoint.npz")
    results = []
    for _ in range(2):
        a, m = {k: np.array(v) for k, v in arrays.items()}, json.loads(json.dumps(meta))
        fz.edit_checkpoint(fz.Draw(bytes(range(7, 200, 3))), a, m,
                           materials["sandbox-psil"] / "no-such-recording", ["extra"])
        results.append(({k: (v.dtype.str, v.shape, v.tobytes()) for k, v in a.items()},
                        json.dumps(m, sort_keys=True)))
    assert results[0] == results[1]
    assert results[0][0] != {k: (v.dtype.str, v.shape, v.tobytes()) for k, v in arrays.items()}


def test_a_campaign_runs_under_atheris(tmp_path):
    """The campaign machinery end to end: a worker under libFuzzer, counts, coverage."""
    try:
        import atheris  # noqa: F401
    except ImportError:
        missing("atheris (pip install atheris)")
    out = tmp_path / "out"
    code = fz.main(["--target", "neural_genome", "--target", "checkpoint_arrays",
                    "--runs", "150", "--out", str(out), "--json", "--quiet"])
    assert code in (0, 1)
    for name in ("neural_genome", "checkpoint_arrays"):
        counts = fz.Counters.read(out / name / "counters.bin")
        assert counts["executions"] >= 150
        assert counts["accepted"] + counts["refused"] + counts["findings"] == \
            counts["executions"]
        log = (out / name / "worker.log").read_text()
        assert "INSTRUMENTED primordia" in log and " cov: " in log
