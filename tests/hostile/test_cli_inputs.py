"""Malformed and extreme input on the command line: every refusal is one line on stderr with
exit code 2, in bounded time and memory. Each case here once crashed, hung or ate memory."""

from __future__ import annotations

import gzip
import socket

import pytest

from .harness import assert_refused, cli


@pytest.fixture(scope="module")
def idle_rss():
    """The peak memory of a command that reads almost nothing, with numba's cache warm (a
    cold cache compiles kernels at import, which alone takes the process past 700 MB)."""
    cli("psil", "run", "--batch", "/dev/null")
    r = cli("psil", "run", "--batch", "/dev/null")
    assert r.returncode == 0, r.stderr
    return r.max_rss_mb


# ---- genomes given on the command line --------------------------------------------------------

@pytest.mark.parametrize("command", ["disasm", "run"])
def test_a_long_hex_genome_is_hex_not_a_file_name(command):
    genome = "00" * 200                       # longer than a file name may be
    r = cli("psil", command, genome)
    assert r.returncode == 0, r.stderr
    if command == "disasm":
        assert r.stdout.count("nop") == 200


def test_more_code_than_a_genome_may_hold_is_refused_in_one_line(tmp_path):
    f = tmp_path / "long.hex"                   # (the OS caps one argument at 128 KiB)
    f.write_text("00" * 65_537)
    assert_refused(cli("psil", "disasm", str(f)), "65537 bytes", "limit")


def test_an_oversize_source_is_refused_before_it_is_read(tmp_path, idle_rss):
    big = tmp_path / "big.mpsil"
    big.write_bytes(b"nop\n" * 3_000_000)     # 12 MB
    most = idle_rss + 60                          # (the assembler took 1.26 GB for 12 MB)
    assert_refused(cli("psil", "asm", str(big)), "big.mpsil", "limit", max_rss_mb=most)
    assert_refused(cli("psil", "asm", "-", stdin=b"nop\n" * 3_000_000), "<stdin>", "limit",
                   max_rss_mb=most)
    hexfile = tmp_path / "big.hex"
    hexfile.write_bytes(b"00" * 3_000_000)
    assert_refused(cli("psil", "disasm", str(hexfile)), "big.hex", "limit", max_rss_mb=most)


def test_a_batch_streams_so_memory_does_not_grow_with_the_file(tmp_path):
    small, large = tmp_path / "small.txt", tmp_path / "large.txt"
    line = b"8a0d8c00218c01f1\n"                # the forager
    small.write_bytes(line * 2_000)
    large.write_bytes(line * 40_000)
    a = cli("psil", "run", "--batch", str(small))
    b = cli("psil", "run", "--batch", str(large))
    assert a.returncode == b.returncode == 0, (a.stderr, b.stderr)
    assert len(b.stdout.splitlines()) == 40_000
    assert b.stdout.splitlines()[-1] == a.stdout.splitlines()[0]
    # twenty times the genomes, nearly the same peak: results go out a chunk at a time
    assert b.max_rss_mb < a.max_rss_mb + 60, (a.max_rss_mb, b.max_rss_mb)


def test_a_batch_line_longer_than_any_genome_is_refused_without_reading_it_all(tmp_path,
                                                                              idle_rss):
    f = tmp_path / "one-line.txt"
    with f.open("wb") as out:
        out.write(b"8a0d8c00218c01f1\n")
        for _ in range(40):
            out.write(b"00" * 1_000_000)        # an 80 MB line, no newline
    r = cli("psil", "run", "--batch", str(f))
    assert_refused(r, "line 2", "longer than", max_rss_mb=idle_rss + 120)   # < 80 MB line
    assert len(r.stdout.splitlines()) == 0    # the first chunk had not been run yet


# ---- configs and experiment files -------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "npcs = " + "[" * 500 + "]" * 500,
    "npcs = " + "{a = " * 500 + "1" + "}" * 500,
])
@pytest.mark.parametrize("command", [["run", "sandbox", "--config"],
                                     ["evolve", "islands"]])
def test_deeply_nested_toml_is_refused(tmp_path, text, command):
    f = tmp_path / "deep.toml"
    f.write_text(text)
    assert_refused(cli(*command, str(f)), "deep.toml", "nested")


def test_an_oversize_config_is_refused(tmp_path):
    f = tmp_path / "huge.toml"
    f.write_text("# padding\n" * 200_000)
    assert_refused(cli("run", "sandbox", "--config", str(f)), "huge.toml", "larger than")


@pytest.mark.parametrize("line, key", [("npcs = true", "npcs"), ("traders = false", "traders")])
def test_booleans_are_not_numbers(tmp_path, line, key):
    f = tmp_path / "bool.toml"
    f.write_text(line + "\n")
    assert_refused(cli("run", "sandbox", "--config", str(f)), key, "boolean")


# ---- databases, URLs, ports ---------------------------------------------------------------------

def test_a_file_that_is_not_a_database(tmp_path):
    f = tmp_path / "t.db"
    f.write_text("x\n")
    assert_refused(cli("islands", "status", "--db", str(f)), "not a database")
    assert_refused(cli("coordinator", "--db", str(f), "--port", "0"), "not a database")


@pytest.mark.parametrize("url", ["ht!tp://::", "http://", "ftp://host", "localhost:8100",
                                 "http://[::1", ""])
def test_a_bad_worker_url_fails_at_once(url):
    assert_refused(cli("worker", "--server", url, timeout=60), "--server")


def test_a_port_in_use_is_a_refused_input():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = str(busy.getsockname()[1])
        assert_refused(cli("serve", "--port", port), "cannot listen", port)
        assert_refused(cli("coordinator", "--db", "sqlite://", "--port", port),
                       "cannot listen", port)


# ---- resuming over a damaged recording ----------------------------------------------------------

@pytest.fixture(scope="module")
def checkpointed_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "run"
    r = cli("run", "sandbox", "--npcs", "20", "--ticks", "200", "--checkpoint-every", "100",
            "--out", str(out))
    assert r.returncode == 0, r.stderr
    return out


def _copy(run, tmp_path):
    import shutil
    return shutil.copytree(run, tmp_path / "copy")


def test_resume_refuses_a_cut_recording(checkpointed_run, tmp_path):
    run = _copy(checkpointed_run, tmp_path)
    rec = run / "record.jsonl.gz"
    rec.write_bytes(rec.read_bytes()[:100])
    assert_refused(cli("run", "--resume", str(run), "--ticks", "300"), "record.jsonl.gz",
                   "cut")
    assert len(rec.read_bytes()) == 100      # left as it was, for the user to restore


def test_resume_refuses_a_damaged_recording(checkpointed_run, tmp_path):
    run = _copy(checkpointed_run, tmp_path)
    rec = run / "record.jsonl.gz"
    data = bytearray(rec.read_bytes())
    data[len(data) // 2] ^= 0xFF
    rec.write_bytes(bytes(data))
    assert_refused(cli("run", "--resume", str(run), "--ticks", "300"), "record.jsonl.gz",
                   "damaged")


def test_resume_after_an_intact_recording_appends_a_readable_stream(checkpointed_run,
                                                                    tmp_path):
    run = _copy(checkpointed_run, tmp_path)
    r = cli("run", "--resume", str(run), "--ticks", "300")
    assert r.returncode == 0, r.stderr
    with gzip.open(run / "record.jsonl.gz") as f:
        lines = f.read().splitlines()
    assert lines[0].startswith(b'{"type":"header"') and b'"t":300' in lines[-1]


def test_resume_never_cuts_a_file_that_is_not_this_runs_recording(checkpointed_run, tmp_path):
    """A checkpoint names its recording's path, and resume cuts that file back to where the
    checkpoint sealed it: a path leading to another gzip file must leave it untouched."""
    run = _copy(checkpointed_run, tmp_path)
    rec = run / "record.jsonl.gz"
    other = gzip.compress(b'{"type": "header", "world": "sandbox", "seed": 999}\n' * 20000)
    rec.write_bytes(other)
    assert_refused(cli("run", "--resume", str(run), "--ticks", "300"), "not the recording")
    assert rec.read_bytes() == other
