"""An organism's brain as a live view shows it: a neural net's neurons, synapses, weights and
activations; a micro-PSIL program's disassembly with its current pc. Other substrates show
their text form."""

from __future__ import annotations

from typing import Any

from primordia.brains.base import BrainIO

PSIL_STATUS = ("running", "yielded", "halted", "failed")
STACK_SHOWN = 16


def brain_view(kind: str, brain: Any, slot: int, genome: Any, io: BrainIO,
               to_text: Any = None) -> dict[str, Any]:
    """The brain of the organism in ``slot`` (``kind`` is the substrate's name)."""
    if kind == "neural":
        return neural_view(brain, slot, genome, io)
    if kind == "psil":
        return psil_view(brain, slot, genome)
    return {"kind": kind, "text": to_text(genome) if to_text is not None else ""}


def neural_view(brain: Any, slot: int, genome: Any, io: BrainIO) -> dict[str, Any]:
    from primordia.brains.neural.genome import ACTION_BASE, INTER_BASE

    act = brain.activations(slot)
    neurons = [{"id": i, "kind": "sensory", "name": io.sensors[i], "bias": None,
                "activation": act.get(i, 0.0)} for i in range(genome.sensors)]
    neurons += [{"id": n, "kind": "inter", "name": f"inter {n - INTER_BASE}", "bias": b,
                 "activation": act.get(n, 0.0)} for n, b in genome.inter]
    neurons += [{"id": n, "kind": "action", "name": io.actions[n - ACTION_BASE], "bias": b,
                 "activation": act.get(n, 0.0)} for n, b in genome.actions]
    return {"kind": "neural", "neurons": neurons,
            "synapses": [{"pre": p, "post": q, "weight": w} for p, q, w in genome.synapses]}


def psil_view(brain: Any, slot: int, genome: Any) -> dict[str, Any]:
    from primordia.brains.psil.asm import disassemble_lines
    from primordia.brains.psil.genome import PsilGenome

    code = genome.code if isinstance(genome, PsilGenome) else bytes(genome)
    status = int(brain.status[slot])
    stack = brain.stack_of(slot)
    return {"kind": "psil", "pc": int(brain.pc()[slot]),
            "status": PSIL_STATUS[status] if 0 <= status < len(PSIL_STATUS) else str(status),
            "stack": stack[-STACK_SHOWN:], "code_bytes": len(code),
            "lines": [{"addr": a, "bytes": raw.hex(), "text": text}
                      for a, raw, text in disassemble_lines(code)]}
