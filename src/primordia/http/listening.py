"""Where a server listens: loopback by default, any other address only with a token, and a
socket bound before the server starts so that a busy port is a one-line error."""

from __future__ import annotations

import ipaddress
import socket

from primordia.core.errors import ConfigError

LOOPBACK = ("127.0.0.1", "::1", "localhost")


def is_loopback(host: str) -> bool:
    """Whether binding ``host`` keeps the server to this machine."""
    if host in LOOPBACK:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_address(host: str, port: int, token: str | None, token_use: str) -> None:
    """Refuse (ConfigError) a port out of range, or an address other machines reach without
    a token; ``token_use`` says in the message what the token then does."""
    if not is_loopback(host) and not token:
        raise ConfigError(f"--host {host} is reachable from other machines: give --token T "
                          f"({token_use})")
    if not 0 <= port <= 65535:
        raise ConfigError("--port must be in 0..65535")


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
