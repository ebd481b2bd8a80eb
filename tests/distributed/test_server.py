"""The coordinator's HTTP API: registration and tokens, long-poll claims, results,
heartbeats and releases, and every refusal as a one-line 4xx (never a 500)."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from primordia.distributed.coordinator import Coordinator
from primordia.distributed.db import connect
from primordia.distributed.protocol import ClaimReply, ResultBatchReply
from primordia.distributed.server import create_app

from .fakes import experiment, honest, lie


@pytest.fixture
def api(tmp_path):
    engine = connect(f"sqlite:///{tmp_path}/c.db")
    co = Coordinator(engine)
    co.start(experiment())
    with TestClient(create_app(co, admission_token="let-me-in",
                               max_body_bytes=256 * 1024)) as client:
        yield client, co
    engine.dispose()


def register(client, name="w"):
    r = client.post("/v1/workers", json={"name": name, "procs": 2},
                    headers={"Authorization": "Bearer let-me-in"})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


def claim(client, auth, wait=0.0):
    r = client.post("/v1/jobs/claim", json={"wait": wait}, headers=auth)
    assert r.status_code == 200, r.text
    jobs = r.json()["jobs"]
    assert len(jobs) <= 1
    return jobs[0] if jobs else None


def outcome_for(job, liar=False):
    outcome = honest(json.dumps(job["spec"]))
    return (lie(outcome) if liar else outcome).model_dump(mode="json")


def test_register_needs_the_admission_token(api):
    client, _ = api
    assert client.get("/health").json()["status"] == "ok"
    r = client.post("/v1/workers", json={"name": "w"})
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"
    r = client.post("/v1/workers", json={"name": "w", "version": 99},
                    headers={"Authorization": "Bearer let-me-in"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "version"
    assert client.get("/v1/status").status_code == 401


def test_claim_submit_and_status(api):
    client, _ = api
    a, b = register(client, "a"), register(client, "b")
    job = claim(client, a)
    assert job["spec"]["world"] == "sandbox" and job["fence"] == 1
    outcome = outcome_for(job)
    url = f"/v1/leases/{job['lease_id']}/result"
    r = client.post(url, json={"fence": job["fence"], "outcome": outcome, "seconds": 1.5},
                    headers=a)
    assert r.status_code == 200 and r.json() == {"accepted": True, "duplicate": False,
                                                 "error": None}
    r = client.post(url, json={"fence": job["fence"], "outcome": outcome}, headers=a)
    assert r.json()["duplicate"] is True
    r = client.post(url, json={"fence": job["fence"], "outcome": outcome}, headers=b)
    assert r.status_code == 404                       # not b's lease
    replica = claim(client, b)
    assert replica["job_id"] == job["job_id"]
    status = client.get("/v1/status", headers={"Authorization": "Bearer let-me-in"}).json()
    assert [w["name"] for w in status["workers"]] == ["a", "b"]
    assert status["experiments"][0]["jobs"] == {"open": 3, "running": 1}


def test_heartbeat_and_release(api):
    client, _ = api
    a = register(client)
    job = claim(client, a)
    r = client.post("/v1/workers/heartbeat", json={"leases": [job["lease_id"], 12345]},
                    headers=a)
    assert r.json() == {"live": [job["lease_id"]], "gone": [12345]}
    r = client.post(f"/v1/leases/{job['lease_id']}/release", headers=a)
    assert r.json() == {"released": True}
    assert claim(client, a)["job_id"] == job["job_id"]     # offered again at once


def test_a_waiting_claim_returns_when_nothing_comes(api):
    client, co = api
    workers = [register(client, f"w{k}") for k in range(5)]
    for auth in workers[:4]:
        assert claim(client, auth) is not None
    assert claim(client, workers[0], wait=0.3) is None       # all four jobs are leased


@pytest.mark.parametrize("body, field", [
    ({"fence": "x", "outcome": {}}, "fence"),
    ({"fence": 1}, "outcome"),
    ({"fence": 1, "outcome": {"world": "sandbox"}}, "outcome.length"),
    ({"fence": 1, "outcome": {}, "extra": 1}, "outcome.world"),
])
def test_malformed_results_are_422_naming_the_field(api, body, field):
    client, _ = api
    a = register(client)
    job = claim(client, a)
    r = client.post(f"/v1/leases/{job['lease_id']}/result", json=body, headers=a)
    assert r.status_code == 422
    assert r.json()["error"]["field"] == field


def test_bad_requests_are_4xx(api):
    client, _ = api
    a = register(client)
    assert client.post("/v1/jobs/claim", json={"wait": 0},
                       headers={"Authorization": "Bearer nope"}).status_code == 401
    assert client.post("/v1/jobs/claim", json={"wait": 999}, headers=a).status_code == 422
    assert client.post("/v1/jobs/claim", content=b"{not json", headers={
        **a, "Content-Type": "application/json"}).status_code == 422
    big = {"fence": 1, "outcome": {"pad": "x" * 300_000}}
    assert client.post("/v1/leases/1/result", json=big, headers=a).status_code == 413
    r = client.post("/v1/leases/999/result",
                    json={"fence": 1, "outcome": outcome_for(claim(client, a))}, headers=a)
    assert r.status_code == 404


def test_a_lying_worker_over_http_ends_quarantined(api):
    client, _ = api
    liar, a, b = register(client, "liar"), register(client, "a"), register(client, "b")
    job = claim(client, liar)
    client.post(f"/v1/leases/{job['lease_id']}/result",
                json={"fence": job["fence"], "outcome": outcome_for(job, liar=True)},
                headers=liar)
    for auth in (a, b):
        j = claim(client, auth)
        assert j["job_id"] == job["job_id"]
        client.post(f"/v1/leases/{j['lease_id']}/result",
                    json={"fence": j["fence"], "outcome": outcome_for(j)}, headers=auth)
    r = client.post("/v1/jobs/claim", json={"wait": 0}, headers=liar)
    assert r.status_code == 403 and r.json()["error"]["code"] == "quarantined"


def test_batches_of_claims_and_results(api):
    client, _ = api
    a = register(client)
    r = client.post("/v1/jobs/claim", json={"wait": 0, "max_jobs": 3}, headers=a)
    jobs = r.json()["jobs"]
    assert len(jobs) == 3 and len({j["job_id"] for j in jobs}) == 3
    ClaimReply.model_validate(r.json())                 # the documented shape
    items = [{"lease_id": j["lease_id"], "fence": j["fence"], "outcome": outcome_for(j)}
             for j in jobs]
    items.append({**items[0], "lease_id": 999})              # not a lease of a's
    r = client.post("/v1/results", json={"results": items}, headers=a)
    assert r.status_code == 200, r.text
    replies = r.json()["results"]
    assert [x["accepted"] for x in replies] == [True, True, True, False]
    assert replies[3]["code"] == "no_such_lease"
    r = client.post("/v1/results", json={"results": items[:1]}, headers=a)
    assert r.json()["results"][0]["duplicate"] is True
    assert r.json()["jobs"] == []                       # no claim, no jobs


def test_results_and_a_claim_in_one_round_trip(api):
    client, co = api
    a = register(client)
    job = claim(client, a)
    r = client.post("/v1/results", headers=a, json={
        "results": [{"lease_id": job["lease_id"], "fence": job["fence"],
                     "outcome": outcome_for(job)}],
        "claim": {"wait": 0, "max_jobs": 2}})
    assert r.status_code == 200, r.text
    reply = ResultBatchReply.model_validate(r.json())   # the documented shape
    assert reply.results[0].accepted
    assert len(reply.jobs) == 2                          # not the job it just ran
    assert job["job_id"] not in {j.job_id for j in reply.jobs}
    assert co.status()["workers"][0]["active_leases"] == 2
    r = client.post("/v1/jobs/claim", json={"wait": 0, "max_jobs": 65}, headers=a)
    assert r.status_code == 422 and r.json()["error"]["field"] == "max_jobs"
    r = client.post("/v1/results", json={"results": []}, headers=a)
    assert r.status_code == 422


def test_numbers_no_run_could_produce_are_422_not_500(api):
    client, _ = api
    a = register(client)
    job = claim(client, a)
    outcome = outcome_for(job)
    outcome["lineages"][0]["net_energy"] = 10 ** 30
    r = client.post(f"/v1/leases/{job['lease_id']}/result",
                    json={"fence": job["fence"], "outcome": outcome}, headers=a)
    assert r.status_code == 422 and "net_energy" in r.json()["error"]["field"]
    assert client.post(f"/v1/leases/{2 ** 70}/release", headers=a).status_code == 422
    r = client.post("/v1/workers/heartbeat", json={"leases": [2 ** 70]}, headers=a)
    assert r.status_code == 422
