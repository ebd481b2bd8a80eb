"""Every command of ``primordia``, found by walking the command tree (so a new command is
covered without touching this file), refuses a wrong option in one line with exit code 2:
an unknown option, a number that is not a number, an input file that is a directory or an
endless device."""

from __future__ import annotations

import pytest
import typer.main

from primordia.cli.main import app, main

COMMAND = typer.main.get_command(app)
INPUT_FILES = {"config", "experiment", "batch", "resume", "file", "genome", "task"}
"""Parameters that name a file to read (outputs and folders to serve are not here)."""


def _leaves(command, path=()):
    if hasattr(command, "commands"):
        for name, sub in sorted(command.commands.items()):
            yield from _leaves(sub, (*path, name))
    else:
        yield path, command


def _kind(param) -> str:
    """The parameter's declared type by name ('int', 'Path', 'Optional[Path]', ...)."""
    t = param.bare_type()
    return getattr(t, "__name__", str(t))


LEAVES = list(_leaves(COMMAND))
NUMERIC = [(path, p.opts[0]) for path, c in LEAVES for p in c.params
           if p.opts and p.opts[0].startswith("-")
           and _kind(p).removeprefix("Optional[").rstrip("]") in ("int", "float")]
FILES = [(path, p) for path, c in LEAVES for p in c.params if p.name in INPUT_FILES]


def run(capsys, *argv: str) -> tuple[int, str, str]:
    try:
        main(list(argv))
    except SystemExit as e:
        code = e.code
    else:
        code = 0
    out, err = capsys.readouterr()
    return code, out, err


def refused(code: int, err: str, *words: str) -> None:
    lines = err.strip().splitlines()
    assert code == 2, (code, err)
    assert len(lines) == 1 and "Traceback" not in err, err
    for w in words:
        assert w in lines[0], (w, lines[0])


def test_the_walk_finds_the_commands():
    names = {" ".join(path) for path, _ in LEAVES}
    assert {"run sandbox", "run hex", "serve", "coordinator", "worker", "psil run",
            "evolve islands", "islands status", "mycos eval"} <= names
    assert len(NUMERIC) > 30 and len(FILES) >= 8


@pytest.mark.parametrize("path", [p for p, _ in LEAVES], ids=" ".join)
def test_an_unknown_option_is_one_line(capsys, path):
    refused(*run(capsys, *path, "--no-such-option")[::2], "--no-such-option")


@pytest.mark.parametrize("path,option", NUMERIC, ids=lambda v: " ".join(v) if
                         isinstance(v, tuple) else v)
@pytest.mark.parametrize("value", ["ten", "1e999x", ""])
def test_a_number_that_is_not_one_is_refused(capsys, path, option, value):
    code, _, err = run(capsys, *path, option, value)
    refused(code, err, option)


@pytest.mark.parametrize("path,param", FILES, ids=lambda v: " ".join(v) if
                         isinstance(v, tuple) else v.name)
@pytest.mark.parametrize("where", ["directory", "endless device"])
def test_an_input_file_that_is_no_file_is_refused(capsys, tmp_path, path, param, where):
    target = str(tmp_path) if where == "directory" else "/dev/zero"
    if param.opts and param.opts[0].startswith("-"):
        argv = [*path, param.opts[0], target]
    else:
        argv = [*path, target]
    code, _, err = run(capsys, *argv)
    refused(code, err)
