"""The OpenAPI document of ``primordia coordinator`` says what the coordinator does:
schemathesis, with every check and every phase (stateful along the document's links: claim a
job, then release its lease or answer it), finds no undeclared answer, no schema-valid request
refused and no invalid one accepted. Requests go as a registered worker, so that the worker
routes are reached and not only refused; claims that mean to wait are kept short."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from primordia.distributed.coordinator import Coordinator
from primordia.distributed.db import connect
from primordia.distributed.server import create_app

from ..schemathesis_hooks import meant_valid
from ..schemathesis_run import run
from .fakes import experiment


@pytest.fixture
def coordinator(tmp_path):
    engine = connect(f"sqlite:///{tmp_path}/c.db")
    co = Coordinator(engine)
    co.start(experiment())
    yield co
    engine.dispose()


def register(app, headers=None) -> str:
    with TestClient(app) as client:
        r = client.post("/v1/workers", json={"name": "schemathesis"}, headers=headers)
        assert r.status_code == 200, r.text
        return r.json()["token"]


def short_claims(context, case):
    """A claim meant to be valid waits a hundredth of a second at most (the schema allows 30:
    once the worker holds every job, each claim would wait that long)."""
    if not meant_valid(case):
        return case
    body = case.body
    if case.operation.label == "POST /v1/jobs/claim":
        if not isinstance(body, dict):
            body = {}
            case.media_type = "application/json"
        case.body = {**body, "wait": min(body.get("wait", 1), 0.01)}
    elif case.operation.label == "POST /v1/results" and isinstance(body, dict) \
            and isinstance(body.get("claim"), dict):
        case.body = {**body, "claim": {**body["claim"],
                                       "wait": min(body["claim"].get("wait", 1), 0.01)}}
    return case


def test_schemathesis_finds_nothing_the_document_does_not_say(coordinator):
    app = create_app(coordinator)
    token = register(app)
    report = run(app, max_examples=15, headers={"Authorization": f"Bearer {token}"},
                 hooks=[("map_case", short_claims)])
    assert not report.problems(), report.problems()
    assert report.phases == {**report.phases, "coverage": "success", "fuzzing": "success",
                             "stateful": "success"}, report.phases
    seen = report.statuses
    for label in ("POST /v1/jobs/claim", "POST /v1/leases/{lease_id}/release",
                  "POST /v1/workers/heartbeat", "POST /v1/results", "GET /v1/status"):
        assert 200 in seen[label], (label, seen[label])
    # the stateful phase answered leases it had claimed: stale fences, refused outcomes
    assert {409, 422} <= seen["POST /v1/leases/{lease_id}/result"]


def test_with_an_admission_token_the_document_says_where_it_is_needed(coordinator):
    doc = create_app(coordinator, admission_token="let-me-in").openapi()
    schemes = doc["components"]["securitySchemes"]
    assert set(schemes) == {"admission", "worker"}
    security = {(path, method): op.get("security") for path, ops in doc["paths"].items()
                for method, op in ops.items()}
    assert security[("/v1/workers", "post")] == [{"admission": []}]
    assert security[("/v1/status", "get")] == [{"admission": []}]
    assert security[("/v1/jobs/claim", "post")] == [{"worker": []}]
    assert security[("/health", "get")] is None
    open_doc = create_app(coordinator).openapi()
    assert set(open_doc["components"]["securitySchemes"]) == {"worker"}
    # every schema a body refers to is in the document
    text = str(doc)
    for name in ("IslandOutcome", "LineageStats", "ClaimRequest", "BatchResult"):
        assert f"#/components/schemas/{name}" in text and name in doc["components"]["schemas"]


def test_schemathesis_with_an_admission_token_finds_nothing_either(coordinator):
    app = create_app(coordinator, admission_token="let-me-in")
    token = register(app, {"Authorization": "Bearer let-me-in"})
    report = run(app, max_examples=3, phases=("coverage",),
                 headers={"Authorization": f"Bearer {token}"},
                 hooks=[("map_case", short_claims)])
    assert not report.problems(), report.problems()
    # with the worker's token, the admission routes refuse: the document said they need
    # another
    assert 401 in report.statuses["GET /v1/status"]
    assert 200 not in report.statuses["GET /v1/status"]


@pytest.mark.parametrize("body,status", [
    ({"max_jobs": 1.0, "wait": 0}, 200), ({"max_jobs": "1", "wait": 0}, 422),
    ({"max_jobs": 1, "wait": "0"}, 422), ({"resent": 1, "wait": 0}, 422),
    ({"max_jobs": 1.5, "wait": 0}, 422)])
def test_numbers_and_booleans_are_what_json_schema_says(coordinator, body, status):
    app = create_app(coordinator)
    token = register(app)
    with TestClient(app) as client:
        r = client.post("/v1/jobs/claim", json=body, headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == status, r.text


def test_a_body_sent_as_another_media_type_is_refused(coordinator):
    app = create_app(coordinator)
    token = register(app)
    with TestClient(app) as client:
        r = client.post("/v1/jobs/claim", content=b'{"wait": 0}',
                        headers={"Authorization": f"Bearer {token}",
                                 "Content-Type": "text/plain"})
        assert r.status_code == 422 and r.json()["error"]["field"] == "body"
        r = client.request("GET", "/v1/jobs/claim")
        assert r.status_code == 405 and r.headers["allow"] == "POST"
