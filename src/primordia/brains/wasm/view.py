"""A wasm organism as the dashboard shows it (``WasmView``, the published reply model).

An IR organism's view is its listing with a trace of its *next* step: the oracle runs that
step on a copy of the organism's memory, with the context its last step saw, so the listing
shows how often each instruction runs and where the step ends, without touching the world.
A hand-written module shows its size and its last fault.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Literal

from pydantic import Field

from primordia.brains.base import BrainIO
from primordia.core.config import ClosedModel

from . import ir
from .asm import disassemble
from .layout import RECORD_WORDS
from .modules import ModuleGenome
from .reference import run_step

SHOWN = 16
"""Sensors and actions shown at most."""


class WasmLine(ClosedModel):
    text: str
    function: int = Field(description="-1 for a function's header or a blank line.")
    pc: int = Field(description="The instruction's index in its function (-1: not one).")
    hits: int = Field(description="Times the traced step runs this instruction.")


class WasmValue(ClosedModel):
    name: str
    value: int


class WasmView(ClosedModel):
    kind: Literal["wasm"]
    text: str = Field(description="The genome's text form (a module: a summary).")
    module: bool = Field(description="True for a hand-written module.")
    gas_used: int = Field(description="Gas (or fuel) its last step used.")
    halted: bool = Field(description="Whether its last step ran out or faulted.")
    budget: int = Field(description="Its gas budget per step.")
    lines: list[WasmLine] = Field(description="The listing with the next step's trace "
                                  "(empty for a module).")
    last: int = Field(description="Index in ``lines`` of the last instruction the traced "
                      "step runs (-1: none).")
    next_code: int = Field(description="The action code the traced step returns.")
    next_halts: bool = Field(description="Whether the traced step runs out.")
    sensors: list[WasmValue] = Field(description="What its last step sensed.")
    actions: list[WasmValue] = Field(description="What its last step did.")


def _lines(genome: ir.WasmGenome, hits: Counter) -> list[dict[str, Any]]:
    """The canonical text's lines, each tied to its (function, instruction)."""
    out: list[dict[str, Any]] = []
    text = disassemble(genome).splitlines()
    fi, pc = -1, -1
    for line in text:
        if line.startswith("func "):
            fi, pc = fi + 1, -1
            out.append({"text": line, "function": -1, "pc": -1, "hits": 0})
        elif not line.strip():
            out.append({"text": line, "function": -1, "pc": -1, "hits": 0})
        else:
            pc += 1
            out.append({"text": line, "function": fi, "pc": pc, "hits": hits[(fi, pc)]})
    return out


def wasm_view(brain: Any, slot: int, genome: Any, io: BrainIO) -> dict[str, Any]:
    """The view of the organism in ``slot`` of a ``WasmBrain``."""
    lay = brain.layout
    row = brain.population.memory[slot]
    words = row.view("<i4")
    sensors = [{"name": n, "value": int(words[lay.sensor_at + k])}
               for k, n in enumerate(io.sensors[:SHOWN])]
    actions = [{"name": n, "value": int(brain.last_actions[slot, k])}
               for k, n in enumerate(io.actions[:SHOWN])]
    budget = int(brain.budget[slot])
    base = {"kind": "wasm", "gas_used": int(brain.gas_used[slot]),
            "halted": bool(brain.halted[slot]), "budget": budget,
            "sensors": sensors, "actions": actions}
    if isinstance(genome, ModuleGenome):
        organism = brain.modules.get(slot)
        fault = organism.fault if organism is not None and organism.broken else None
        text = f"; a hand-written module of {len(genome.wasm)} bytes"
        if fault:
            text += f"\n; broken: {fault}"
        return {**base, "text": text, "module": True, "lines": [], "last": -1,
                "next_code": 0, "next_halts": False}
    memory = bytearray(row.tobytes())  # a copy: the world's organism is untouched
    start, stop = 4 * lay.action_at, 4 * (lay.record_at + RECORD_WORDS)
    memory[start:stop] = bytes(stop - start)  # actions and record start at 0, as in a step
    trace: list[tuple[int, int]] = []
    outcome = run_step(genome, memory, lay, budget, trace)
    lines = _lines(genome, Counter(trace))
    last = -1
    if trace:
        end = trace[-1]
        last = next(i for i, line in enumerate(lines)
                    if (line["function"], line["pc"]) == end)
    return {**base, "text": disassemble(genome), "module": False, "lines": lines,
            "last": last, "next_code": outcome.code, "next_halts": outcome.halted}
