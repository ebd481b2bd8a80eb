"""The OpenAPI document of ``primordia serve`` says what the server does: schemathesis, with
every check and every phase (stateful runs along the document's links: create a session, then
read, step, reset, focus and delete it), finds no answer the document does not declare, no
schema-valid request refused and no invalid one accepted. The document is the real one; the
generated session requests are kept to small worlds (the schema allows worlds that take
seconds to build), and a run is seeded and bounded so that it takes about a minute."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from primordia.runs.hex_run import HexRun
from primordia.web.app import create_app
from primordia.worlds.hex.config import HexConfig

from ..schemathesis_hooks import keep_rules, meant_valid
from ..schemathesis_run import run
from .wire import SMALL, WORLD_BRAINS

SMALL_HEX = {"world_width": 10, "num_organisms": 40}
SMALL_SANDBOX = {"npcs": 40, "world": 40}
SMALL_ECOLOGY = {"width": 24, "height": 24, "num_organisms": 40, "min_organisms": 40,
                 "max_organisms": 200, "max_genome": 512}


def small_world(context, case):
    """A session request meant to be valid, with its world kept small: the sizes schemathesis
    draws are scaled into a few dozen organisms (the rules between keys kept), so that a run
    builds hundreds of worlds in seconds."""
    body = case.body
    if case.operation.label != "POST /v1/sessions" or not meant_valid(case) \
            or not isinstance(body, dict) or not isinstance(body.get("config"), dict):
        return case
    config = dict(body["config"])
    if body.get("world", "hex") == "sandbox":
        for key, most in SMALL_SANDBOX.items():
            if key in config and config[key] > most:
                config[key] = 1 + config[key] % most
    elif body.get("world") == "ecology":
        for key, most in SMALL_ECOLOGY.items():     # the defaults are big worlds too
            config[key] = min(config.get(key, most), most)
    else:
        for key, most in SMALL_HEX.items():
            if key in config and config[key] > most:
                config[key] = 1 + config[key] % most
        if "num_organisms" not in config:
            config["num_organisms"] = min(40, config.get("world_width", 20) ** 2)
    case.body = {**body, "config": keep_rules(body.get("world", "hex"), config,
                                              body.get("brain"))}
    return case


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A runs folder with one small hex recording, so that the replay routes answer 200."""
    root = tmp_path_factory.mktemp("openapi-runs")
    cfg = HexConfig(world_width=6, num_organisms=16, turns_to_starve=4, turns=30, seed=5)
    HexRun(cfg, out=root / "small", record_every=10).execute()
    return root


@pytest.fixture(scope="module")
def compiled():
    """Every world and brain built, stepped, reset and focused once, so that their kernels
    are compiled before schemathesis times its requests."""
    with TestClient(create_app()) as client:
        for world, brain in WORLD_BRAINS:
            r = client.post("/v1/sessions", json={"world": world, "brain": brain,
                                                  "config": SMALL[world]})
            assert r.status_code == 201, r.text
            sid = r.json()["payload"]["metadata"]["id"]
            step = client.post(f"/v1/sessions/{sid}/step", json={"count": 2})
            oid = step.json()["payload"]["snapshot"]["organisms"][0]["id"]
            client.post(f"/v1/sessions/{sid}/focus", json={"organism_id": oid})
            assert client.post(f"/v1/sessions/{sid}/reset").status_code == 200
            assert client.delete(f"/v1/sessions/{sid}").status_code == 200


def test_schemathesis_finds_nothing_the_document_does_not_say(runs, compiled):
    app = create_app(max_sessions=10_000, runs=runs)
    report = run(app, max_examples=25, hooks=[("map_case", small_world)])
    assert not report.problems(), report.problems()
    assert report.phases == {**report.phases, "coverage": "success", "fuzzing": "success",
                             "stateful": "success"}, report.phases
    seen = report.statuses
    # the run reached what the routes do, not only their refusals
    assert 201 in seen["POST /v1/sessions"] and 422 in seen["POST /v1/sessions"]
    for label in ("GET /v1/sessions/{session_id}", "POST /v1/sessions/{session_id}/step",
                  "POST /v1/sessions/{session_id}/focus", "DELETE /v1/sessions/{session_id}",
                  "GET /v1/runs/{name}/recording"):
        assert 200 in seen[label], (label, seen[label])


def test_with_a_token_the_document_says_which_routes_need_it():
    doc = create_app(token="t0ken").openapi()
    assert doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    guarded = {(path, method) for path, ops in doc["paths"].items()
               for method, op in ops.items() if op.get("security") == [{"bearer": []}]}
    assert ("/v1/sessions", "post") in guarded and ("/v1/sessions/{session_id}", "delete") \
        in guarded and ("/health", "get") not in guarded
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            assert not any(p["name"].lower() == "authorization"
                           for p in op.get("parameters", ())), (path, method)
            assert ("401" in op["responses"]) == (path != "/health"), (path, method)
    assert "securitySchemes" not in create_app().openapi().get("components", {})


def test_schemathesis_with_a_token_finds_nothing_either(compiled):
    """With a token, the guarded routes refuse a request without it (schemathesis's
    ignored_auth check) and the document says so."""
    report = run(create_app(token="t0ken", max_sessions=10_000), max_examples=3,
                 phases=("examples", "coverage"), headers={"Authorization": "Bearer t0ken"},
                 hooks=[("map_case", small_world)])
    assert not report.problems(), report.problems()


@pytest.mark.parametrize("body,status", [
    ({"count": 3.0}, 200), ({"count": 3.5}, 422), ({"count": "3"}, 422),
    ({"count": True}, 422), ({"count": 3}, 200)])
def test_an_integral_float_is_the_integer_and_nothing_else_is(body, status):
    with TestClient(create_app()) as client:
        r = client.post("/v1/sessions", json={"world": "hex", "config": SMALL_HEX,
                                              "seed": 7.0})
        assert r.status_code == 201, r.text
        sid = r.json()["payload"]["metadata"]["id"]
        assert r.json()["payload"]["metadata"]["config"]["seed"] == 7
        r = client.post(f"/v1/sessions/{sid}/step", json=body)
        assert r.status_code == status, r.text


@pytest.mark.parametrize("config,field", [
    ({"": 1}, "config."), ({"world_width": 513}, "config.world_width"),
    ({"world_width": "12"}, "config.world_width"), ({"mutation_chance": "0.5"},
                                                     "config.mutation_chance")])
def test_what_the_schema_refuses_the_server_refuses(config, field):
    with TestClient(create_app()) as client:
        r = client.post("/v1/sessions", json={"world": "hex", "config": config})
        assert r.status_code == 422 and r.json()["error"]["field"] == field, r.text


def test_the_published_bounds_are_the_servers_caps():
    doc = create_app().openapi()["components"]["schemas"]
    hex_config = doc["HexConfigRequest"]["properties"]
    assert hex_config["num_organisms"]["maximum"] == 65_536
    assert hex_config["world_width"]["maximum"] == 512
    assert doc["SandboxConfigRequest"]["properties"]["npcs"]["maximum"] == 20_000
    assert doc["HexConfigRequest"]["additionalProperties"] is False
    assert "num_organisms at most world_width squared" in doc["HexConfigRequest"]["description"]
    hexes = doc["CreateHexSession"]["properties"]
    assert hexes["brain"]["anyOf"][0]["enum"] == ["neural", "mycos", "psil", "wasm"]
    assert doc["CreateSandboxSession"]["required"] == ["world"]


def test_a_405_says_which_methods_the_path_has():
    with TestClient(create_app()) as client:
        r = client.request("PUT", "/v1/sessions")
        assert r.status_code == 405
        assert set(r.headers["allow"].split(", ")) == {"GET", "POST"}
        r = client.request("PATCH", "/v1/sessions/abc")
        assert set(r.headers["allow"].split(", ")) == {"GET", "DELETE"}
        assert r.json()["error"]["code"] == "method_not_allowed"


def test_a_body_that_is_not_utf8_is_a_422_naming_the_body():
    with TestClient(create_app()) as client:
        r = client.post("/v1/sessions", content=b"\x1a\xff",
                        headers={"content-type": "application/json"})
        assert r.status_code == 422 and r.json()["error"]["field"] == "body"


def test_the_rules_between_keys_are_what_the_hooks_keep():
    """The mending hook keeps exactly the rules the server checks: a mended config is
    accepted, and each rule it mends is one the server refuses."""
    with TestClient(create_app()) as client:
        for world, config in (("hex", {"num_organisms": 50, "world_width": 5}),
                              ("hex", {"brain": {"kind": "neural", "num_neurons": 30,
                                                 "max_num_neurons": 3},
                                       "num_organisms": 10}),
                              ("hex", {"center_spawn_min_fraction": 0.9, "num_organisms": 9}),
                              ("hex", {"center_spawn_max_fraction": 0.0, "num_organisms": 9}),
                              ("sandbox", {"npcs": 30, "world": 5}),
                              ("ecology", {**SMALL_ECOLOGY, "resource_density": 0.9,
                                           "obstacle_share": 0.5}),
                              ("ecology", {**SMALL_ECOLOGY, "width": 5, "height": 5}),
                              ("ecology", {**SMALL_ECOLOGY, "radius": 3, "width": 6}),
                              ("ecology", {**SMALL_ECOLOGY, "reproduce_cost": 400}),
                              ("ecology", {**SMALL_ECOLOGY, "max_energy": 50}),
                              ("ecology", {**SMALL_ECOLOGY, "radius": 7, "width": 30,
                                           "height": 30}),
                              ("ecology", {**SMALL_ECOLOGY, "brain": {"kind": "psil"}})):
            r = client.post("/v1/sessions", json={"world": world, "config": config})
            assert r.status_code == 422, r.text
            mended = keep_rules(world, config)
            assert mended != config
            r = client.post("/v1/sessions", json={"world": world, "config": mended})
            assert r.status_code == 201, r.text
            client.delete(f"/v1/sessions/{r.json()['payload']['metadata']['id']}")
