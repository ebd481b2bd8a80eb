"""A volunteer worker: registers with a coordinator, long-polls for island jobs, runs them
in ``procs`` processes with the engine of ``primordia run``, renews its leases while they
run, and posts the outcomes. Transport errors are retried with backoff (a coordinator may
restart); a submission is safe to repeat (the coordinator keeps one result per lease).
The first SIGINT stops claiming and lets running islands finish; a second releases their
leases and exits at once, and so does SIGTERM (``WorkerStats.terminated``: the command then
exits with 143). The island processes end with the worker however it ends, even by SIGKILL
(see children.py)."""

from __future__ import annotations

import multiprocessing
import os
import secrets
import signal
import socket
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor
from concurrent.futures import wait as wait_any
from dataclasses import dataclass
from typing import Any, Callable

import httpx

from primordia.core.errors import ConfigError, PrimordiaError

from .children import end_with_parent
from .protocol import MAX_BATCH, PROTOCOL_VERSION, JobOffer

TOKEN_ENV = "PRIMORDIA_WORKER_TOKEN"
"""A worker token handed over by the environment (embedded runs register their workers
themselves) instead of registering."""


class WorkerStopped(PrimordiaError):
    """The coordinator refuses this worker (unknown or quarantined token)."""


def server_url(server: str) -> str:
    """``server`` checked to be an http(s) URL with a host: a typo fails at once, instead of
    being retried for minutes as if the coordinator were down."""
    try:
        url = httpx.URL(server.strip())
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        raise ConfigError(f"--server {server!r}: not a URL ({exc})") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise ConfigError(f"--server {server!r}: expected http://HOST:PORT or "
                          "https://HOST:PORT")
    return str(url).rstrip("/")


class Client:
    """The coordinator's API over HTTP, retrying what can be retried."""

    def __init__(self, server: str, admission: str | None = None, timeout: float = 60.0,
                 retry_for: float = 600.0) -> None:
        self.http = httpx.Client(base_url=server_url(server), timeout=timeout)
        self.admission = admission
        self.token: str | None = None
        self.worker_id: int | None = None
        self.retry_for = retry_for
        self.abort: Callable[[], bool] = lambda: False   # ends retries (a second Ctrl-C)

    def _post(self, path: str, body: Any, token: str | None, timeout: float | None = None,
              claim: dict[str, Any] | None = None) -> httpx.Response:
        """POST, again after transport errors and 5xx answers; ``claim`` (the claim in
        ``body``) is then marked resent, so that jobs its first sending leased come back
        rather than a second set."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        delay, give_up = 0.2, time.monotonic() + self.retry_for
        while True:
            try:
                r = self.http.post(path, json=body, headers=headers,
                                   timeout=timeout or self.http.timeout)
                if r.status_code < 500:
                    return r
            except httpx.TransportError:
                pass
            if time.monotonic() > give_up or self.abort():
                raise PrimordiaError(f"{self.http.base_url}{path}: coordinator unreachable")
            time.sleep(delay)
            delay = min(delay * 2, 5.0)
            if claim is not None:
                claim["resent"] = True

    def _check(self, r: httpx.Response) -> dict[str, Any]:
        if r.status_code in (401, 403):
            raise WorkerStopped(_message(r))
        if r.status_code >= 400:
            raise PrimordiaError(_message(r))
        return r.json()

    def register(self, name: str, procs: int) -> None:
        token = os.environ.get(TOKEN_ENV)
        if token:
            self.token = token
            return
        out = self._check(self._post("/v1/workers", {"name": name, "procs": procs,
                                                     "version": PROTOCOL_VERSION},
                                     self.admission))
        self.worker_id, self.token = out["worker_id"], out["token"]

    def claim(self, wait: float, max_jobs: int = 1) -> list[JobOffer]:
        want = _claim(wait, max_jobs)
        out = self._check(self._post("/v1/jobs/claim", want, self.token, timeout=wait + 30,
                                     claim=want))
        return [JobOffer.model_validate(j) for j in out["jobs"]]

    def submit(self, offer: JobOffer, outcome: dict[str, Any], seconds: float) -> str:
        """'accepted', 'duplicate', or the reason it was refused."""
        r = self._post(f"/v1/leases/{offer.lease_id}/result",
                       {"fence": offer.fence, "seconds": seconds, "outcome": outcome},
                       self.token)
        if r.status_code in (401, 403):
            raise WorkerStopped(_message(r))
        if r.status_code == 200:
            return "duplicate" if r.json().get("duplicate") else "accepted"
        return _message(r)

    def report(self, finished: list[tuple[JobOffer, dict[str, Any], float]],
               claim: int = 0) -> tuple[list[str], list[JobOffer]]:
        """Post finished islands in one request, asking for up to ``claim`` new jobs in
        the same round trip: an answer per island (as ``submit``) and the new jobs. A
        request refused as a whole (one outcome the schema rejects) is sent again an
        island at a time, so that the others still count."""
        body: dict[str, Any] = {"results": [
            {"lease_id": o.lease_id, "fence": o.fence, "seconds": secs, "outcome": outcome}
            for o, outcome, secs in finished]}
        want = body["claim"] = _claim(0, claim) if claim else None
        r = self._post("/v1/results", body, self.token, claim=want)
        if r.status_code in (401, 403):
            raise WorkerStopped(_message(r))
        if r.status_code != 200:
            return [self.submit(*item) for item in finished], []
        out = r.json()
        answers = ["duplicate" if a["duplicate"] else "accepted" if a["accepted"]
                   else a.get("error") or a.get("code") or "refused" for a in out["results"]]
        return answers, [JobOffer.model_validate(j) for j in out.get("jobs", [])]

    def heartbeat(self, leases: list[int]) -> list[int]:
        """The leases that are gone."""
        return self._check(self._post("/v1/workers/heartbeat", {"leases": leases},
                                      self.token))["gone"]

    def release(self, lease_id: int) -> None:
        self._post(f"/v1/leases/{lease_id}/release", None, self.token)


def _claim(wait: float, max_jobs: int) -> dict[str, Any]:
    """A claim with a fresh id (the coordinator keeps it on the leases it makes)."""
    return {"wait": wait, "max_jobs": max_jobs, "request": secrets.token_urlsafe(12)}


def _message(r: httpx.Response) -> str:
    try:
        body = r.json()
        return body.get("error", {}).get("message") or body.get("error") or r.text
    except ValueError:
        return f"HTTP {r.status_code}"


def run_job(spec_json: str, threads: int = 1) -> tuple[dict[str, Any], float]:
    """Run one island (in a pool process): its outcome as JSON data, and the seconds taken."""
    from primordia.runs.island import IslandSpec, run_island
    t0 = time.perf_counter()
    outcome = run_island(IslandSpec.model_validate_json(spec_json), threads=threads)
    return outcome.model_dump(mode="json"), time.perf_counter() - t0


def _island_process(worker_pid: int) -> None:
    """A pool process's start: Ctrl-C is the worker's to handle (it reaches the whole
    process group), and the process is killed when the worker dies."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    end_with_parent(worker_pid, signal.SIGKILL)


@dataclass
class WorkerStats:
    done: int = 0
    refused: int = 0
    dropped: int = 0
    terminated: bool = False
    """SIGTERM stopped the worker (its leases were released)."""


def work(server: str, admission: str | None = None, procs: int = 1, name: str | None = None,
         max_jobs: int | None = None, idle_exit: float | None = None, wait: float = 20.0,
         say: Callable[[str], None] = lambda s: None,
         should_stop: Callable[[], bool] = lambda: False,
         runner: Callable[[str], tuple[dict[str, Any], float]] = run_job) -> WorkerStats:
    """Serve a coordinator until stopped (SIGINT or SIGTERM), ``max_jobs`` are done, or no
    job came for ``idle_exit`` seconds, or ``should_stop()``. ``runner`` runs a job's spec in
    a pool process. Signals are handled only when called from the main thread."""
    client = Client(server, admission)
    sigints = [0]
    client.abort = lambda: sigints[0] >= 2
    client.register(name or socket.gethostname()[:64] or "worker", procs)
    say(f"registered with {server}" + (f" as worker {client.worker_id}"
                                       if client.worker_id else ""))
    running: dict[Future, JobOffer] = {}
    gone: set[int] = set()
    stopping = threading.Event()
    lock = threading.Lock()

    def on_sigint(signum, frame) -> None:
        sigints[0] += 1
        stopping.set()
        if sigints[0] == 1:
            say("stopping: finishing running islands (Ctrl-C again to release them)")

    def on_sigterm(signum, frame) -> None:
        """Stop as a second Ctrl-C does: release the leases, end the island processes."""
        if not stats.terminated:
            say("terminated: releasing running islands")
        stats.terminated = True
        sigints[0] = max(sigints[0], 2)
        stopping.set()

    previous: dict[int, Any] = {}
    stats = WorkerStats()
    if threading.current_thread() is threading.main_thread():
        previous[signal.SIGINT] = signal.signal(signal.SIGINT, on_sigint)
        previous[signal.SIGTERM] = signal.signal(signal.SIGTERM, on_sigterm)

    quit_beats = threading.Event()

    def heartbeats() -> None:
        while not quit_beats.is_set():
            with lock:
                leases = [o.lease_id for o in running.values()]
                period = min([o.deadline_in for o in running.values()] or [30.0]) / 3
            if leases:
                try:
                    lost = client.heartbeat(leases)
                except PrimordiaError:
                    lost = []
                with lock:
                    gone.update(lost)
            quit_beats.wait(max(0.5, min(period, 30.0)))

    ctx = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(max_workers=procs, mp_context=ctx, initializer=_island_process,
                               initargs=(os.getpid(),))
    beat = threading.Thread(target=heartbeats, name="heartbeats", daemon=True)
    beat.start()
    idle_since = time.monotonic()

    def room_for(reporting: int = 0) -> int:
        """Islands this worker can take on now (free processes, within ``max_jobs``
        counting the ``reporting`` ones being posted)."""
        room = min(procs - len(running), MAX_BATCH)
        if max_jobs is not None:
            room = min(room, max_jobs - stats.done - stats.refused - stats.dropped
                       - reporting - len(running))
        return room

    def start(offers: list[JobOffer]) -> None:
        for offer in offers:
            say(f"island {offer.island} of generation {offer.generation} "
                f"({offer.experiment}, {offer.niche}): lease {offer.lease_id}")
            with lock:
                running[pool.submit(runner, offer.spec.model_dump_json())] = offer

    try:
        while True:
            if sigints[0] >= 2:
                for offer in list(running.values()):
                    try:
                        client.release(offer.lease_id)
                    except PrimordiaError:
                        pass                     # its deadline will free it
                say(f"released {len(running)} leases")
                break
            if should_stop():
                stopping.set()
            if stopping.is_set() and not running:
                break
            if (max_jobs is not None and stats.done + stats.refused + stats.dropped
                    + len(running) >= max_jobs):
                stopping.set()
            if not stopping.is_set() and len(running) < procs:
                offers = client.claim(0.0 if running else min(wait, 5.0),
                                      max(1, room_for()))
                start(offers)
                if offers:
                    idle_since = time.monotonic()
                    continue
                if (not running and idle_exit is not None
                        and time.monotonic() - idle_since > idle_exit):
                    break
                if not running:
                    continue
            done, _ = wait_any(list(running), timeout=0.5, return_when=FIRST_COMPLETED)
            finished = []
            for fut in done:
                with lock:
                    offer = running.pop(fut)
                    lost = offer.lease_id in gone
                if lost:
                    stats.dropped += 1
                    continue
                try:
                    outcome, seconds = fut.result()
                except Exception as exc:          # noqa: BLE001 -- report, release, go on
                    say(f"lease {offer.lease_id}: island failed ({exc}); released")
                    client.release(offer.lease_id)
                    stats.refused += 1
                    continue
                finished.append((offer, outcome, seconds))
            if not finished:
                continue
            answers: list[str] = []
            offers: list[JobOffer] = []
            for first in range(0, len(finished), MAX_BATCH):
                chunk = finished[first:first + MAX_BATCH]
                last = first + MAX_BATCH >= len(finished)     # the claim rides on the last
                room = 0 if not last or stopping.is_set() or should_stop() \
                    else room_for(len(finished))
                got, offers = client.report(chunk, claim=max(0, room))
                answers += got
            if offers and stopping.is_set():                  # Ctrl-C while reporting
                for offer in offers:
                    try:
                        client.release(offer.lease_id)
                    except PrimordiaError:
                        pass                             # its deadline will free it
                offers = []
            for (offer, _, seconds), answer in zip(finished, answers):
                if answer in ("accepted", "duplicate"):
                    stats.done += 1
                    say(f"lease {offer.lease_id}: {answer} ({seconds:.1f} s)")
                else:
                    stats.refused += 1
                    say(f"lease {offer.lease_id}: refused: {answer}")
            start(offers)
            if offers:
                idle_since = time.monotonic()
    finally:
        stopping.set()
        quit_beats.set()
        if sigints[0] >= 2:                  # do not wait for islands: end their processes
            for child in multiprocessing.active_children():
                child.terminate()
        pool.shutdown(wait=sigints[0] < 2, cancel_futures=True)
        for signum, handler in previous.items():
            if handler is not None:                  # None: not set from Python
                signal.signal(signum, handler)
    return stats
