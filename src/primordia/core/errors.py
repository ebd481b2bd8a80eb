"""User-facing errors. The CLI prints them as one line on stderr and exits with code 2."""

from __future__ import annotations


class PrimordiaError(Exception):
    """Base of every error a user can cause: the message says what was wrong and where."""


class ConfigError(PrimordiaError):
    """A configuration value or command-line option is invalid."""


class GenomeError(PrimordiaError):
    """A genome (hex, bytes or file) cannot be decoded or fails validation."""


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
        text = message if token is None else f"{message}: {token!r}"
        super().__init__(f"{prefix}: {text}" if prefix else text)
        self.line = line
        self.token = token


class InputFileError(PrimordiaError):
    """A file named by the user cannot be read."""
