"""The one error type the server's routes raise: an HTTP status, a machine-readable code, a
one-line message and, where a request field was wrong, its name."""

from __future__ import annotations

from typing import Callable

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import Response

from primordia.core.errors import PrimordiaError


class ApiError(Exception):
    """A request the server refuses; rendered as ``{protocol_version, error{code, message,
    field}}`` with ``status``."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.field = status, code, message, field

    def body(self) -> dict:
        return {"code": self.code, "message": self.message, "field": self.field}


def install_error_handlers(app: FastAPI, refuse: Callable[[ApiError], Response],
                           max_body_bytes: int) -> None:
    """Every refusal of ``app`` as one line and the field, rendered by ``refuse``; never a
    traceback (the live server and the coordinator share these)."""
    from .guard import BodyTooLarge, too_large

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> Response:
        return refuse(exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        err = exc.errors()[0]
        loc = [str(p) for p in err["loc"]]
        if loc and loc[0] in ("body", "path", "query", "header"):
            loc = loc[1:] or loc[:1]
        field = ".".join(loc) or "body"
        if err.get("type") == "json_invalid":
            field = "body"
        return refuse(ApiError(422, "invalid_request", f"{field}: {err['msg']}", field))

    @app.exception_handler(BodyTooLarge)
    async def _too_large(request: Request, exc: BodyTooLarge) -> Response:
        return refuse(too_large(max_body_bytes))

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> Response:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "refused")
        return refuse(ApiError(exc.status_code, code, str(exc.detail), None))

    @app.exception_handler(PrimordiaError)
    async def _primordia(request: Request, exc: PrimordiaError) -> Response:
        return refuse(ApiError(422, "invalid_request", str(exc), None))
