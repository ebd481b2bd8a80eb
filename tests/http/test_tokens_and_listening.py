"""Which addresses count as this machine, and how bearer tokens are read and compared."""

from __future__ import annotations

import pytest

from primordia.http.listening import is_loopback
from primordia.http.tokens import bearer, token_matches


@pytest.mark.parametrize("host,local", [
    ("127.0.0.1", True), ("localhost", True), ("::1", True), ("127.0.0.2", True),
    ("0.0.0.0", False), ("::", False), ("192.168.1.5", False), ("example.org", False),
])
def test_only_loopback_addresses_count_as_local(host, local):
    assert is_loopback(host) is local


def test_bearer_tokens_are_read_from_the_header_and_compared_exactly():
    assert bearer("Bearer abc") == "abc" and bearer("bearer  abc ") == "abc"
    assert bearer("Basic abc") is None and bearer(None) is None and bearer("abc") is None
    assert token_matches(None, None)                       # no token configured: open
    assert token_matches("abc", "abc")
    assert not token_matches("abc", None) and not token_matches("abc", "abcd")
    assert not token_matches("abc", "")
