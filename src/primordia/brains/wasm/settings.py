"""The wasm brains' own settings, the ``[brain]`` table of a world whose kind is ``wasm``
(docs/brains/wasm.md)."""

from __future__ import annotations

from pydantic import Field, field_validator

from primordia.core.config import Config

from . import ir
from .layout import MAX_MEMORY, MIN_MEMORY


class WasmSettings(Config):
    """How much memory an organism has, and how big its program may be and start."""

    memory: int = Field(4096, ge=MIN_MEMORY, le=MAX_MEMORY,
                        description="Bytes of memory per organism (a power of two; the "
                        "context sits at its start).")
    max_instrs: int = Field(256, ge=1, le=ir.MAX_INSTRS,
                            description="Instructions a genome may grow to.")
    random_instrs: int = Field(24, ge=1, le=ir.MAX_INSTRS,
                               description="About how many instructions a random genome has.")

    @field_validator("memory")
    @classmethod
    def _power_of_two(cls, value: int) -> int:
        if value & (value - 1):
            raise ValueError("memory must be a power of two")
        return value
