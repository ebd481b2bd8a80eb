"""What the coordinator answers, as typed values: a leased job (``Offer``), the answer to one
result (``Answer``), and a refusal with the HTTP status the server gives it (``Refusal``,
raised as ``Refused``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple, NotRequired, TypedDict

from primordia.core.errors import PrimordiaError


class Refusal(NamedTuple):
    """A request turned down: the HTTP status, a machine-readable code, one line."""

    status: int
    code: str
    message: str


class Refused(PrimordiaError):
    """A request the coordinator turns down: ``status`` is the HTTP status to answer with."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code = status, code

    @property
    def refusal(self) -> Refusal:
        return Refusal(self.status, self.code, str(self))


class Answer(TypedDict):
    """The answer to one result: accepted (and whether it repeated a stored one), or not,
    with the error; ``refused`` when the lease did not take it (the status the server
    would have given a lone result)."""

    accepted: bool
    duplicate: NotRequired[bool]
    error: NotRequired[str]
    refused: NotRequired[Refusal]


def accepted(duplicate: bool = False) -> Answer:
    return {"accepted": True, "duplicate": duplicate}


def invalid(error: str) -> Answer:
    """A result no run of its job could produce."""
    return {"accepted": False, "error": error}


def refused(exc: Refused) -> Answer:
    return {"accepted": False, "error": str(exc), "refused": exc.refusal}


@dataclass(frozen=True)
class Offer:
    """A leased job, as the worker receives it."""

    lease_id: int
    fence: int
    job_id: int
    experiment: str
    generation: int
    island: int
    niche: str
    deadline_in: float
    spec: str                      # IslandSpec JSON
