"""``serve`` and ``coordinator`` take --host, --port and --token from one definition and
refuse an unsafe address with the same rule."""

from __future__ import annotations

import inspect

import pytest

from primordia.cli.islands import coordinator
from primordia.cli.serve import serve
from primordia.core.errors import ConfigError
from primordia.http.listening import check_address


def test_an_address_other_machines_reach_needs_a_token():
    check_address("127.0.0.1", 8000, None, "why")
    check_address("0.0.0.0", 8000, "t", "why")
    with pytest.raises(ConfigError, match=r"--host 0.0.0.0 .* give --token T \(why\)"):
        check_address("0.0.0.0", 8000, None, "why")
    with pytest.raises(ConfigError, match="--port must be in 0..65535"):
        check_address("127.0.0.1", 65536, None, "why")


def test_both_servers_share_the_address_options():
    def option(command, name):
        return inspect.signature(command).parameters[name].default

    for name in ("host", "port", "token"):
        a, b = option(serve, name), option(coordinator, name)
        assert a.param_decls == b.param_decls and a.envvar == b.envvar
    assert option(serve, "host").help == option(coordinator, "host").help
    assert (option(serve, "port").default, option(coordinator, "port").default) == (8000, 8100)
    assert option(serve, "token").envvar == "PRIMORDIA_TOKEN"
