"""The wasm brains' own settings, the ``[brain]`` table of a world whose kind is ``wasm``
(docs/brains/wasm.md)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from primordia.core.config import Config

from . import ir
from .layout import MAX_MEMORY, MIN_MEMORY


MemorySize = Literal[tuple(1 << k for k in range(MIN_MEMORY.bit_length() - 1,
                                                 MAX_MEMORY.bit_length()))]
"""The organism memory sizes: powers of two from 1 KiB to one wasm page (an enumeration,
so the published schema says exactly what a server takes)."""


class WasmSettings(Config):
    """How much memory an organism has, and how big its program may be and start."""

    memory: MemorySize = Field(4096, description="Bytes of memory per organism (a power of "
                               "two; the context sits at its start).")
    max_instrs: int = Field(256, ge=1, le=ir.MAX_INSTRS,
                            description="Instructions a genome may grow to.")
    random_instrs: int = Field(24, ge=1, le=ir.MAX_INSTRS,
                               description="About how many instructions a random genome has.")
