"""Bearer tokens: read from ``Authorization: Bearer T`` and compared in constant time, so a
server reachable from other machines answers only those who know its token."""

from __future__ import annotations

import hmac

from .errors import ApiError


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
    """A 401 unless ``authorization`` carries the ``expected`` token (or there is none)."""
    if not token_matches(expected, bearer(authorization)):
        raise ApiError(401, "unauthorized", "authorization: send 'Authorization: Bearer "
                       "<token>' with the token the server was started with", "authorization")
