"""The one error type the server's routes raise: an HTTP status, a machine-readable code, a
one-line message and, where a request field was wrong, its name."""

from __future__ import annotations


class ApiError(Exception):
    """A request the server refuses; rendered as ``{protocol_version, error{code, message,
    field}}`` with ``status``."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.field = status, code, message, field

    def body(self) -> dict:
        return {"code": self.code, "message": self.message, "field": self.field}
