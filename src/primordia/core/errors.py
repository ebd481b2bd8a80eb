"""User-facing errors. The CLI prints them as one line on stderr and exits with code 2."""

from __future__ import annotations

_UNPRINTABLE = {c: repr(chr(c))[1:-1]
                for c in [*range(0x20), *range(0x7F, 0xA0), 0x2028, 0x2029] if c != 0x09}
"""Control characters and line separators, each to its Python escape (``\\n``, ``\\x1b``): a
message quotes what the user gave (a file name, a key, a token), and that must not break the
message's line or drive the terminal it is printed on."""


class PrimordiaError(Exception):
    """Base of every error a user can cause: the message says what was wrong and where, in
    one line (control characters in it are escaped, whoever wrote it)."""

    def __init__(self, *args: object) -> None:
        if args and isinstance(args[0], str):
            args = (args[0].translate(_UNPRINTABLE), *args[1:])
        super().__init__(*args)


class ConfigError(PrimordiaError):
    """A configuration value or command-line option is invalid."""


class GenomeError(PrimordiaError):
    """A genome (hex, bytes or file) cannot be decoded or fails validation."""


MAX_TOKEN_SHOWN = 40
"""Characters of a token an AssemblyError message quotes (``token`` keeps all of it): a
token is whatever ran up to the next space, and a line of a hostile file can be megabytes."""


class AssemblyError(PrimordiaError):
    """Assembly text cannot be assembled; the message names the line and the token."""

    def __init__(self, message: str, *, line: int | None = None, token: str | None = None,
                 source: str | None = None) -> None:
        where = []
        if source:
            where.append(source)
        if line is not None:
            where.append(f"line {line}")
        prefix = ":".join(where)
        shown = None if token is None else repr(token[:MAX_TOKEN_SHOWN]) + (
            "..." if len(token) > MAX_TOKEN_SHOWN else "")
        text = message if token is None else f"{message}: {shown}"
        super().__init__(f"{prefix}: {text}" if prefix else text)
        self.line = line
        self.token = token


class InputFileError(PrimordiaError):
    """A file named by the user cannot be read."""
