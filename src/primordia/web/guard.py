"""What keeps a server that others can reach safe to run: a bearer token on everything that
changes a session, and a cap on request bodies (checked against Content-Length and against
the bytes that actually arrive, for bodies sent in chunks)."""

from __future__ import annotations

import hmac
import socket
from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from primordia.core.errors import ConfigError

from .errors import ApiError

LOOPBACK = ("127.0.0.1", "::1", "localhost")


def is_loopback(host: str) -> bool:
    """Whether binding ``host`` keeps the server to this machine."""
    import ipaddress

    if host in LOOPBACK:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def listening_socket(host: str, port: int, reuse_port: bool = False) -> socket.socket:
    """A TCP socket listening on (host, port), bound before the server starts so that a port
    in use or an address this machine lacks is a one-line error. ``reuse_port`` lets other
    processes of the same server bind it as well (the kernel spreads connections)."""
    try:
        family, kind, proto, _, addr = socket.getaddrinfo(host, port,
                                                          type=socket.SOCK_STREAM)[0]
        sock = socket.socket(family, kind, proto)
    except (OSError, UnicodeError) as exc:
        raise ConfigError(f"--host {host}: cannot listen there ({exc})") from None
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(addr)
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        raise ConfigError(f"--host {host} --port {port}: cannot listen "
                          f"({exc.strerror or exc})") from None
    return sock


def token_matches(expected: str | None, given: str | None) -> bool:
    """Constant-time comparison; with no token configured everything is allowed."""
    if expected is None:
        return True
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


def bearer(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer T`` header."""
    if not authorization:
        return None
    scheme, _, value = authorization.partition(" ")
    return value.strip() if scheme.lower() == "bearer" else None


def require_token(expected: str | None, authorization: str | None) -> None:
    if not token_matches(expected, bearer(authorization)):
        raise ApiError(401, "unauthorized", "authorization: send 'Authorization: Bearer "
                       "<token>' with the token the server was started with", "authorization")


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` when a body passes the limit (an HTTPException, so that the
    framework's body parsing lets it through rather than calling it a parse error)."""

    def __init__(self) -> None:
        super().__init__(413)


class BodyLimit:
    """ASGI middleware: a request body over ``max_bytes`` gets 413, however it is sent."""

    def __init__(self, app: ASGIApp, max_bytes: int, render: Any) -> None:
        self.app, self.max_bytes, self.render = app, max_bytes, render

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                if declared < 0 or declared > self.max_bytes:
                    await self._refuse(scope, receive, send)
                    return
        seen = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal seen
            msg = await receive()
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > self.max_bytes:
                    raise BodyTooLarge()
            return msg

        async def watching_send(msg: Message) -> None:
            nonlocal started
            started = started or msg["type"] == "http.response.start"
            await send(msg)

        try:
            await self.app(scope, counting_receive, watching_send)
        except BodyTooLarge:
            if not started:
                await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.render(too_large(self.max_bytes))(scope, receive, send)


def too_large(max_bytes: int) -> ApiError:
    return ApiError(413, "body_too_large", f"body: at most {max_bytes} bytes", "body")
