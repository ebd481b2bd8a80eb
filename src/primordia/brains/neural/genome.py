"""The neural genome (NeuroGenesis's brain; docs/brains/neural.md): a small recurrent net of
sensory, inter and action neurons joined by weighted synapses.

Neuron ids say the kind, as in NeuroGenesis: sensory neuron ``i`` (0 .. S-1) reads sensor slot
``i``; inter neurons are 1000 + i (not contiguous after removals); action neuron 2000 + k
drives action slot ``k`` of the world's ``BrainIO``. Genomes are immutable values kept in
canonical order (neurons by id, synapses by (pre, post)); ``validate`` checks every invariant
and names the offending field; ``encode``/``decode`` are canonical JSON bytes in which floats
are written as ``repr`` writes them, so they come back bit for bit.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from primordia.brains.base import BrainIO
from primordia.core.errors import GenomeError

INTER_BASE = 1000
ACTION_BASE = 2000
ID_END = 3000
MAX_SENSORS = INTER_BASE                 # sensory ids stay below the inter ids
MAX_INTER = ACTION_BASE - INTER_BASE     # inter ids stay below the action ids
MAX_ACTIONS = ID_END - ACTION_BASE
MAX_SYNAPSES = 100_000
WEIGHT_LIMIT = 8.0
"""Weights (and biases) lie in [-8, 8]; variation clamps to it."""
BIAS_LIMIT = 8.0
MAX_GENOME_BYTES = 8 * 1024 * 1024
"""``decode`` refuses longer input before parsing it (the largest valid genome is ~5 MB)."""
CONFIDENCE = "confidence"
"""The action a world reads as the move confidence; it gets no action neuron."""


@dataclass(frozen=True)
class NeuralGenome:
    """A net: ``sensors`` sensory neurons, ``inter`` and ``actions`` as (id, bias) pairs, and
    ``synapses`` as (pre, post, weight). Constructing one sorts the tuples into canonical
    order; ``validate`` says whether the result is a valid net."""

    sensors: int
    inter: tuple[tuple[int, float], ...] = ()
    actions: tuple[tuple[int, float], ...] = ()
    synapses: tuple[tuple[int, int, float], ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "inter", _sorted(self.inter, 1))
        object.__setattr__(self, "actions", _sorted(self.actions, 1))
        object.__setattr__(self, "synapses", _sorted(self.synapses, 2))

    @property
    def inter_ids(self) -> tuple[int, ...]:
        return tuple(n for n, _ in self.inter)

    @property
    def action_ids(self) -> tuple[int, ...]:
        return tuple(n for n, _ in self.actions)


def _sorted(items: Any, key_len: int) -> tuple:
    """``items`` as a tuple of tuples sorted by their first ``key_len`` fields; left as given
    when they cannot be compared, so that ``validate`` can name what is wrong."""
    try:
        rows = tuple(tuple(row) for row in items)
        return tuple(sorted(rows, key=lambda row: row[:key_len]))
    except TypeError:
        return tuple(items) if isinstance(items, (tuple, list)) else items


PACKED_BYTES = 16
"""Bytes a brain packs per inter or action neuron (id and bias) and per synapse (pre, post
and weight): a net's size, as worlds that charge for genome size count it."""


def packed_size(genome: NeuralGenome) -> int:
    """A net's size in bytes: ``PACKED_BYTES`` per inter neuron, action neuron and synapse."""
    return PACKED_BYTES * (len(genome.inter) + len(genome.actions) + len(genome.synapses))


# ---- the world's layout -------------------------------------------------------------------------

def action_ids_for(io: BrainIO) -> tuple[int, ...]:
    """The action neurons a net needs for ``io``: 2000 + k for each action but confidence."""
    return tuple(ACTION_BASE + k for k, name in enumerate(io.actions) if name != CONFIDENCE)


def confidence_slot(io: BrainIO) -> int:
    """The action slot that receives the move confidence, or -1 if the world has none."""
    return io.actions.index(CONFIDENCE) if CONFIDENCE in io.actions else -1


def check_layout(io: BrainIO) -> None:
    """GenomeError unless neural nets can serve ``io`` (ids must not run into each other)."""
    if io.n_sensors > MAX_SENSORS or io.n_actions > MAX_ACTIONS:
        raise GenomeError(f"neural nets take at most {MAX_SENSORS} sensors and {MAX_ACTIONS} "
                          f"actions; the world has {io.n_sensors} and {io.n_actions}")


def check_fits(genome: NeuralGenome, io: BrainIO) -> None:
    """GenomeError unless ``genome`` (valid) has a sensory neuron per sensor of ``io`` and an
    action neuron per action (but confidence)."""
    if genome.sensors != io.n_sensors:
        raise GenomeError(f"sensors: the genome has {genome.sensors} sensory neurons; the "
                          f"world has {io.n_sensors} sensors")
    if genome.action_ids != action_ids_for(io):
        raise GenomeError(f"actions: the genome's action neurons {list(genome.action_ids)} "
                          f"are not the world's {list(action_ids_for(io))}")


# ---- validation ---------------------------------------------------------------------------------

def _fail(where: str, message: str) -> None:
    raise GenomeError(f"{where}: {message}")


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _check_value(v: Any, where: str, limit: float) -> None:
    if type(v) is not float or not math.isfinite(v) or not -limit <= v <= limit:
        _fail(where, f"{v!r} is not a float in [-{limit:g}, {limit:g}]")


def _check_neurons(rows: Any, field: str, lo: int, hi: int) -> set[int]:
    if not isinstance(rows, tuple):
        _fail(field, f"expected a tuple of (id, bias), not {type(rows).__name__}")
    last = lo - 1
    for k, row in enumerate(rows):
        where = f"{field}[{k}]"
        if not isinstance(row, tuple) or len(row) != 2:
            _fail(where, f"expected (id, bias), got {row!r}")
        nid, bias = row
        if not _is_int(nid) or not lo <= nid < hi:
            _fail(f"{where}.id", f"{nid!r} is not an id in {lo}..{hi - 1}")
        if nid <= last:
            _fail(f"{where}.id", f"{nid} repeats an id")
        last = nid
        _check_value(bias, f"{where}.bias", BIAS_LIMIT)
    return {row[0] for row in rows}


def validate(genome: Any) -> None:
    """Raise GenomeError naming the first field that breaks an invariant. A genome is
    immutable, so one that passed is remembered as valid (``_valid``) and not walked again:
    the brain checks every genome it is given, and encoding checks it too."""
    if not isinstance(genome, NeuralGenome):
        raise GenomeError(f"a neural genome is a NeuralGenome, not {type(genome).__name__}")
    if genome.__dict__.get("_valid"):
        return
    _validate(genome)
    object.__setattr__(genome, "_valid", True)


def _validate(genome: NeuralGenome) -> None:
    s = genome.sensors
    if not _is_int(s) or not 0 <= s <= MAX_SENSORS:
        _fail("sensors", f"{s!r} is not a count in 0..{MAX_SENSORS}")
    inter = _check_neurons(genome.inter, "inter", INTER_BASE, ACTION_BASE)
    actions = _check_neurons(genome.actions, "actions", ACTION_BASE, ID_END)
    syn = genome.synapses
    if not isinstance(syn, tuple):
        _fail("synapses", f"expected a tuple of (pre, post, weight), not {type(syn).__name__}")
    if len(syn) > MAX_SYNAPSES:
        _fail("synapses", f"{len(syn)} synapses; at most {MAX_SYNAPSES}")
    last = None
    for k, row in enumerate(syn):
        where = f"synapses[{k}]"
        if not isinstance(row, tuple) or len(row) != 3:
            _fail(where, f"expected (pre, post, weight), got {row!r}")
        pre, post, w = row
        if not _is_int(pre) or not (0 <= pre < s or pre in inter):
            _fail(f"{where}.pre", f"{pre!r} is not a sensory or inter neuron")
        if not _is_int(post) or not (post in inter or post in actions):
            _fail(f"{where}.post", f"{post!r} is not an inter or action neuron")
        if pre == post:
            _fail(where, f"a self-loop on neuron {pre}")
        if last is not None and (pre, post) <= last:
            _fail(where, f"({pre}, {post}) repeats a synapse")
        last = (pre, post)
        _check_value(w, f"{where}.weight", WEIGHT_LIMIT)


# ---- canonical bytes ----------------------------------------------------------------------------

def encode(genome: NeuralGenome) -> bytes:
    """Canonical JSON bytes (validated first): fixed keys, no spaces, floats as ``repr``."""
    validate(genome)
    body = {"sensors": genome.sensors,
            "inter": [list(row) for row in genome.inter],
            "actions": [list(row) for row in genome.actions],
            "synapses": [list(row) for row in genome.synapses]}
    return json.dumps(body, separators=(",", ":"), allow_nan=False).encode("ascii")


def _reject_constant(name: str) -> None:
    raise GenomeError(f"{name} is not a number a genome can hold")


def _number(v: Any, where: str) -> float:
    """A JSON number as a float (integers are accepted and widened)."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        _fail(where, f"{v!r} is not a number")
    try:
        return float(v)
    except OverflowError:
        raise GenomeError(f"{where}: an integer too large for a float") from None


def _rows(body: dict, field: str, width: int) -> list[list]:
    rows = body[field]
    if not isinstance(rows, list):
        _fail(field, "expected a list")
    for k, row in enumerate(rows):
        if not isinstance(row, list) or len(row) != width:
            _fail(f"{field}[{k}]", f"expected a list of {width} numbers")
    return rows


def decode(data: bytes) -> NeuralGenome:
    """The genome of ``encode``'s bytes; GenomeError (never another exception) for anything
    that is not a valid genome."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise GenomeError(f"a neural genome is bytes, not {type(data).__name__}")
    if len(data) > MAX_GENOME_BYTES:
        raise GenomeError(f"genome is {len(data)} bytes; at most {MAX_GENOME_BYTES}")
    try:
        body = json.loads(bytes(data).decode("utf-8"), parse_constant=_reject_constant)
    except GenomeError:
        raise
    except (ValueError, RecursionError) as exc:
        raise GenomeError(f"genome is not JSON: {exc}") from None
    if not isinstance(body, dict) or set(body) != {"sensors", "inter", "actions", "synapses"}:
        raise GenomeError("genome: expected an object with keys sensors, inter, actions, "
                          "synapses")
    inter = tuple((n, _number(b, f"inter[{k}].bias"))
                  for k, (n, b) in enumerate(_rows(body, "inter", 2)))
    actions = tuple((n, _number(b, f"actions[{k}].bias"))
                    for k, (n, b) in enumerate(_rows(body, "actions", 2)))
    synapses = tuple((p, q, _number(w, f"synapses[{k}].weight"))
                     for k, (p, q, w) in enumerate(_rows(body, "synapses", 3)))
    genome = NeuralGenome(body["sensors"], inter, actions, synapses)
    validate(genome)
    return genome


# ---- text ---------------------------------------------------------------------------------------

def to_text(genome: NeuralGenome) -> str:
    """A readable listing: the neurons with their biases, then the synapses."""
    lines = [f"sensory 0..{genome.sensors - 1}" if genome.sensors else "sensory none"]
    lines += [f"inter  {n}  bias {b:+.6f}" for n, b in genome.inter]
    lines += [f"action {n}  bias {b:+.6f}" for n, b in genome.actions]
    lines += [f"synapse {p} -> {q}  weight {w:+.6f}" for p, q, w in genome.synapses]
    return "\n".join(lines) + "\n"
