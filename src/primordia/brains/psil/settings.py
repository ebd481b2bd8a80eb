"""micro-PSIL's own settings, the ``[brain]`` table of a world whose kind is ``psil``
(docs/brains/psil.md). What a world grants every organism -- the gas of a decision and the
genome cap in bytes -- stays the world's (it passes them as ``budget`` and ``max_len``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from primordia.core.config import Config

from .variation import CLASSIC_RATE


class PsilSettings(Config):
    """How micro-PSIL genomes are crossed."""

    crossover: Literal["growth", "classic"] = Field(
        "growth", description="growth: a parent gains one of the other's novel instructions "
        "(a classic crossover a share of the time); classic: cut-and-splice.")
    classic_rate: float = Field(CLASSIC_RATE, ge=0, le=1,
                                description="Share of classic crossovers in growth mode.")
