"""How both servers refuse a request: the one error type their routes raise (an HTTP status,
a machine-readable code, a one-line message and, where a request field was wrong, its
name), its ``{protocol_version, error}`` envelope, and the handlers that turn every other
failure into one."""

from __future__ import annotations

from typing import Any, Callable

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.routing import Match, Mount

from primordia.core.errors import PrimordiaError


class ApiError(Exception):
    """A request the server refuses; rendered as ``{protocol_version, error{code, message,
    field}}`` with ``status``."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.field = status, code, message, field

    def body(self) -> dict:
        return {"code": self.code, "message": self.message, "field": self.field}


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` when a body passes the limit (an HTTPException, so that the
    framework's body parsing lets it through rather than calling it a parse error)."""

    def __init__(self) -> None:
        super().__init__(413)


def too_large(max_bytes: int) -> ApiError:
    return ApiError(413, "body_too_large", f"body: at most {max_bytes} bytes", "body")


Refuse = Callable[[ApiError], Response]
"""Renders a refusal as a server answers it."""


def refusal(protocol_version: int) -> Refuse:
    """The renderer of a server speaking ``protocol_version``: the error envelope with the
    refusal's status (and, for a 401, the ``WWW-Authenticate`` header that asks for a
    bearer token)."""

    def refuse(exc: ApiError) -> Response:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return Response(orjson.dumps({"protocol_version": protocol_version,
                                      "error": exc.body()}),
                        status_code=exc.status, media_type="application/json",
                        headers=headers)

    return refuse


def install_error_handlers(app: FastAPI, refuse: Refuse, max_body_bytes: int) -> None:
    """Every refusal of ``app`` as one line and the field, rendered by ``refuse``; never a
    traceback (the live server and the coordinator share these)."""

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> Response:
        return refuse(exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        field, message = invalid_field(exc.errors()[0], getattr(exc, "body", None))
        return refuse(ApiError(422, "invalid_request", f"{field}: {message}", field))

    @app.exception_handler(BodyTooLarge)
    async def _too_large(request: Request, exc: BodyTooLarge) -> Response:
        return refuse(too_large(max_body_bytes))

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> Response:
        if exc.status_code == 400:
            # the framework could not read the body as JSON text (not UTF-8, say): the same
            # refusal as malformed JSON
            return refuse(ApiError(422, "invalid_request", "body: not a JSON document",
                                   "body"))
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "refused")
        response = refuse(ApiError(exc.status_code, code, str(exc.detail), None))
        response.headers.update(exc.headers or {})
        if exc.status_code == 405:      # every method of the path, not one route's
            response.headers["Allow"] = ", ".join(allowed_methods(request))
        return response

    @app.exception_handler(PrimordiaError)
    async def _primordia(request: Request, exc: PrimordiaError) -> Response:
        return refuse(ApiError(422, "invalid_request", str(exc), None))


def invalid_field(err: dict[str, Any], body: Any) -> tuple[str, str]:
    """The field a validation error is about, as a dotted path in the request ("config.npcs",
    "count", "body"), and its message."""
    loc = [p for p in err["loc"]]
    where = loc[0] if loc else None
    if where in ("body", "path", "query", "header"):
        loc = loc[1:]
    if where == "body":
        loc = _without_tags(loc, body)
    message = str(err["msg"]).removeprefix("Value error, ")
    if err.get("type") in ("union_tag_invalid", "union_tag_not_found"):
        ctx = err.get("ctx") or {}
        name = str(ctx.get("discriminator", "")).strip("'\"").removesuffix("()")
        loc = [*loc, name] if name else loc
        expected = ctx.get("expected_tags")
        message = (f"{ctx.get('tag')!r} is not one of {expected}" if "tag" in ctx
                   else f"missing; one of {expected}")
    field = ".".join(str(p) for p in loc) or (str(where) if where else "body")
    if err.get("type") == "json_invalid":
        field = "body"
    return field, message


def _without_tags(loc: list[Any], body: Any) -> list[Any]:
    """``loc`` less the tags pydantic puts in it for a member of a tagged union (the world of
    a session request, say): a part that names no key of the body where it stands, with more
    parts after it, is such a tag."""
    out: list[Any] = []
    node = body
    for k, part in enumerate(loc):
        last = k == len(loc) - 1
        if isinstance(node, dict):
            if part in node:
                node = node[part]
            elif not last:
                continue
            else:
                node = None
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        else:
            node = None
        out.append(part)
    return out


def allowed_methods(request: Request) -> list[str]:
    """The methods the app answers at the request's path (for a 405's Allow header): those
    of the routes whose path matches, or GET and HEAD where only a mounted directory of
    files does."""
    methods: set[str] = set()
    mounted = False
    for route in request.app.router.routes:
        match, _ = route.matches(request.scope)
        if match == Match.PARTIAL:
            methods |= set(getattr(route, "methods", None) or ())
        elif match == Match.FULL and isinstance(route, Mount):
            mounted = True
    if not methods and mounted:
        methods = {"GET", "HEAD"}
    return sorted(methods)
