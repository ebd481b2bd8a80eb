"""A neural organism as the dashboard shows it: its neurons with names, biases and current
activations, and its synapses (``NeuralView``, the published reply model)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from primordia.brains.base import BrainIO
from primordia.core.config import ClosedModel

from .genome import ACTION_BASE, INTER_BASE


class Neuron(ClosedModel):
    id: int
    kind: Literal["sensory", "inter", "action"]
    name: str
    bias: float | None = Field(description="None for a sensory neuron.")
    activation: float


class Synapse(ClosedModel):
    pre: int
    post: int
    weight: float


class NeuralView(ClosedModel):
    kind: Literal["neural"]
    neurons: list[Neuron]
    synapses: list[Synapse]


def neural_view(brain: Any, slot: int, genome: Any, io: BrainIO) -> dict[str, Any]:
    """The view of the organism in ``slot`` of a ``NeuralBrain`` (sensors and actions named
    by the world's layout)."""
    act = brain.activations(slot)
    neurons = [{"id": i, "kind": "sensory", "name": io.sensors[i], "bias": None,
                "activation": act.get(i, 0.0)} for i in range(genome.sensors)]
    neurons += [{"id": n, "kind": "inter", "name": f"inter {n - INTER_BASE}", "bias": b,
                 "activation": act.get(n, 0.0)} for n, b in genome.inter]
    neurons += [{"id": n, "kind": "action", "name": io.actions[n - ACTION_BASE], "bias": b,
                 "activation": act.get(n, 0.0)} for n, b in genome.actions]
    return {"kind": "neural", "neurons": neurons,
            "synapses": [{"pre": p, "post": q, "weight": w} for p, q, w in genome.synapses]}
