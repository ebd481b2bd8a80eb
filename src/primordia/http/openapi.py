"""The OpenAPI document of a server (``/openapi.json``, shown at ``/docs``) as it behaves:
the ``Authorization`` header that routes read themselves becomes a bearer security scheme
on the operations that need one (and disappears where the server has no token to check), and
a 401 says it carries ``WWW-Authenticate``. Both servers use it; tests/web/test_openapi.py
and tests/distributed/test_openapi.py run schemathesis against the result."""

from __future__ import annotations

from typing import Any, Callable

import orjson

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

Security = Callable[[APIRoute], list[str]]
"""The security schemes an operation needs (none: it is open)."""


def takes_authorization(route: APIRoute) -> bool:
    """Whether the route reads the ``Authorization`` header as a parameter."""
    return any(p.alias.lower() == "authorization" for p in route.dependant.header_params)


def install_openapi(app: FastAPI, schemes: dict[str, dict[str, Any]], security: Security,
                    description: str = "") -> None:
    """Serve ``app``'s document with ``schemes`` (name -> OpenAPI security scheme) and each
    operation's ``security(route)``; the ``Authorization`` header is never a parameter."""

    def document() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        doc = get_openapi(title=app.title, version=app.version, routes=app.routes,
                          description=description or None)
        used: set[str] = set()
        for route in app.routes:
            if not isinstance(route, APIRoute) or not route.include_in_schema:
                continue
            needs = security(route)
            for method in route.methods:
                op = doc["paths"].get(route.path_format, {}).get(method.lower())
                if op is None:
                    continue
                params = [p for p in op.get("parameters", ())
                          if not (p.get("in") == "header"
                                  and p.get("name", "").lower() == "authorization")]
                if params:
                    op["parameters"] = params
                else:
                    op.pop("parameters", None)
                _hoist_definitions(op, doc)
                invalid = op.get("responses", {}).get("422", {})
                if "HTTPValidationError" in str(invalid):
                    # the framework's guess for a route with parameters: these servers
                    # answer every refusal in their own envelope, and the routes that can
                    # refuse a parameter or body declare it
                    del op["responses"]["422"]
                if needs:
                    op["security"] = [{name: []} for name in needs]
                    used.update(needs)
                unauthorized = op.get("responses", {}).get("401")
                if unauthorized is not None:
                    unauthorized["headers"] = {"WWW-Authenticate": {
                        "description": "Bearer", "schema": {"type": "string"}}}
        schemas = doc.get("components", {}).get("schemas", {})
        for name in ("HTTPValidationError", "ValidationError"):
            if name in schemas and f"/{name}\"" not in orjson.dumps(doc["paths"]).decode():
                del schemas[name]
        if used:
            doc.setdefault("components", {})["securitySchemes"] = {
                name: schemes[name] for name in sorted(used)}
        app.openapi_schema = doc = _whole_numbers(doc)
        return doc

    app.openapi = document   # type: ignore[method-assign]


def _hoist_definitions(op: dict[str, Any], doc: dict[str, Any]) -> None:
    """Move the ``$defs`` of a request body a route describes itself (``openapi_extra``, its
    refs aimed at the components) into the document's components, where the refs find them."""
    for media in op.get("requestBody", {}).get("content", {}).values():
        defs = media.get("schema", {}).pop("$defs", None)
        if defs:
            doc.setdefault("components", {}).setdefault("schemas", {}).update(defs)


def _whole_numbers(value: Any) -> Any:
    """``value`` with integral floats as ints. The framework passes bounds through floats
    (``2**63`` becomes ``9.223372036854776e+18``), which a client reads back inexactly and
    which JSON Schema means the same as the integer."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _whole_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_whole_numbers(v) for v in value]
    return value


def bearer(description: str) -> dict[str, Any]:
    return {"type": "http", "scheme": "bearer", "description": description}
