"""The soup in plain Python: Caldo cells on a toroidal grid, their chemistry, their host
instructions and the tick (docs/worlds/soup.md, "The soup" and "The tick"). Written to be
read; the oracle that the soup's kernels will be held to.

Every location holds pools of molecules, whether a cell lives there or not: a cell's pools
are its location's, what a dead cell leaves stays where it was, and a new cell starts with
what its location holds. Genes are made of instruction molecules (one I per triplet): growing
a gene takes them, a dead cell's genes fall back to them, so mass is conserved with genes
counted in.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np

from primordia.brains.caldo.isa import FALSE, MASK, TRUE
from primordia.brains.caldo.reference import Cell, Limits, Processor, step
from primordia.core.rng import DrawStream, Rng, stream_id

from .chemistry import ATOMS, CAPS, MOLECULES, REACTIONS, A, B, G, I, Y, react

STREAM_COPY = stream_id("soup.copy")
DIRECTIONS = ((0, -1), (1, 0), (0, 1), (-1, 0))
"""Direction d % 4: north, east, south, west."""


def _pools(**amounts: int) -> tuple[int, ...]:
    return tuple(amounts.get(m, 0) for m in MOLECULES)


@dataclass(frozen=True)
class Rules:
    """The soup's knobs (the world's config will carry them)."""

    width: int = 16
    height: int = 16
    light: int = 4
    """Units of light each cell has per tick (one per photosynthesis)."""
    location_pools: tuple[int, ...] = _pools(X=3000, W=3000, O=600, I=100, Y=50, Z=500)
    """What every location holds at the start (the initial materials): carbon and water
    for glucose (genes lock up carbon: each instruction molecule holds six), oxygen to burn
    it, and a start of instruction molecules, so a copy can settle without waiting to
    make them all."""
    basal_atp: int = 1
    """ATP a cell with genes pays each turn, running or not."""
    step_atp: int = 1
    """ATP a processor step costs ..."""
    depth_divisor: int = 256
    """... plus (stack depth^2 + call depth^2) // this ..."""
    failure_atp: int = 1
    """... plus this per failure the step counted."""
    cell_atp: int = 100
    copy_atp: int = 10
    move_atp: int = 10
    transfer_atp: int = 2
    send_atp: int = 1
    observe_atp: int = 1
    barrier_atp: int = 20
    attack_atp: int = 20
    attack_damage: int = 5
    """Barrier molecules of the target an ATTACK breaks down (into G and Y, in the target)."""
    inbox: int = 16
    """Messages a cell's inbox holds; a SEND to a full one is dropped."""
    shell_ticks: int = 20
    """A cell with no genes (a shell CELL made, waiting for genes) does not die for lack of
    ATP, but dissolves this many ticks after its birth if no gene has come."""
    point_rate: float = 0.002
    """COPY: chance that a copied triplet has one of its 24 bits flipped."""
    duplication_rate: float = 0.01
    """COPY: chance that the gene arrives twice (paid for twice)."""
    loss_rate: float = 0.01
    """COPY: chance that the copy is lost on the way (nothing is paid but the ATP)."""
    limits: Limits = Limits()
    seed: int = 1


@dataclass
class SoupCell(Cell):
    """A cell of the soup: the machine's cell, where it lives and what it knows."""

    id: int = 0
    x: int = 0
    y: int = 0
    parent: int = -1
    lineage: int = 0
    born: int = 0
    barrier: bool = False
    inbox: deque = field(default_factory=deque)


class Soup:
    """The soup: ``tick()`` gives every cell its turn."""

    def __init__(self, rules: Rules) -> None:
        self.rules = rules
        self.rng = Rng(rules.seed)
        self.pools = np.zeros((rules.height, rules.width, len(MOLECULES)), dtype=np.int64)
        self.pools[:, :] = rules.location_pools
        self.cells: dict[tuple[int, int], SoupCell] = {}
        self.tick_count = 0
        self.next_id = 0
        self._light = 0
        self._draws = DrawStream(self.rng, STREAM_COPY, 0, -1)

    # ---- cells ------------------------------------------------------------------------------

    def place(self, x: int, y: int, genes: list[list[int]], **pools: int) -> SoupCell:
        """A new cell at (x, y) with ``genes``, its location's pools raised by ``pools``
        (an ancestor: the matter of its genes is given, not taken)."""
        if not (0 <= x < self.rules.width and 0 <= y < self.rules.height) \
                or (x, y) in self.cells:
            raise ValueError(f"({x}, {y}) is off the soup or taken")
        cell = SoupCell(id=self.next_id, x=x, y=y, lineage=self.next_id, born=self.tick_count)
        for words in genes:
            cell.add_gene(words)
        for name, v in pools.items():
            self.pools[y, x, MOLECULES.index(name)] += v
        self.cells[(x, y)] = cell
        self.next_id += 1
        return cell

    def neighbour_at(self, cell: SoupCell, d: int) -> tuple[int, int]:
        dx, dy = DIRECTIONS[d % 4]
        return (cell.x + dx) % self.rules.width, (cell.y + dy) % self.rules.height

    def _neighbour(self, cell: SoupCell, d: int) -> SoupCell | None:
        """The cell in direction ``d`` (never the cell itself, on a soup one place wide)."""
        other = self.cells.get(self.neighbour_at(cell, d))
        return other if other is not cell else None

    def _neighbours(self, cell: SoupCell) -> list[SoupCell]:
        """The distinct neighbouring cells, north, east, south, west (on a soup two places
        wide, east and west are one cell)."""
        out: list[SoupCell] = []
        for d in range(4):
            other = self._neighbour(cell, d)
            if other is not None and all(other is not o for o in out):
                out.append(other)
        return out

    def closed(self, cell: SoupCell) -> bool:
        """Whether its barrier is up: raised, and held by at least one barrier molecule."""
        return bool(cell.barrier and self.pools[cell.y, cell.x, B] > 0)

    def _open_neighbour(self, cell: SoupCell, d: int) -> SoupCell | None:
        """The neighbour in direction ``d`` if it is there with its barrier down."""
        other = self._neighbour(cell, d)
        return other if other is not None and not self.closed(other) else None

    def _take(self, cell: SoupCell, m: int, amount: int) -> bool:
        """Take ``amount`` of molecule ``m`` from the cell's pools, if it holds that much."""
        pools = self.pools[cell.y, cell.x]
        if pools[m] < amount:
            return False
        pools[m] -= amount
        return True

    def _pay(self, cell: SoupCell, atp: int) -> bool:
        return self._take(cell, A, atp)

    def _die(self, cell: SoupCell) -> None:
        """The cell is gone; its genes fall back to instruction molecules where it was."""
        triplets = sum(len(g.words) for g in cell.genes if g is not None)
        self.pools[cell.y, cell.x, I] += triplets
        del self.cells[(cell.x, cell.y)]

    # ---- the tick -------------------------------------------------------------------------------

    def tick(self) -> None:
        """Every cell alive at the start, in id order: its light, its processors (each as
        many steps as its gene's activation, each step paid in ATP), then death if it has no
        ATP left. Cells made this tick first act in the next."""
        for cell in sorted(self.cells.values(), key=lambda c: c.id):
            self._turn(cell)
        self.tick_count += 1

    def _turn(self, cell: SoupCell) -> None:
        r = self.rules
        pools = self.pools[cell.y, cell.x]
        self._light = r.light
        self._draws = DrawStream(self.rng, STREAM_COPY, self.tick_count, cell.id)
        cell.processors = [p for p in cell.processors        # those whose gene left end
                           if not p.done and cell.live(p.home, p.home_serial) is not None]
        if not cell.processors:              # a cell wakes on its first gene
            first = next((h for h, g in enumerate(cell.genes) if g is not None), None)
            if first is not None:
                cell.start(first)
        if cell.gene_count():
            pools[A] -= min(r.basal_atp, pools[A])
        for proc in list(cell.processors):
            home = cell.live(proc.home, proc.home_serial)
            if home is None:
                proc.done = True
                continue
            for _ in range(home.activation):
                if proc.done or pools[A] <= 0:
                    break
                failures = proc.failures
                step(cell, proc, r.limits, self)
                cost = (r.step_atp + (len(proc.stack) ** 2 + len(proc.calls) ** 2)
                        // r.depth_divisor + r.failure_atp * (proc.failures - failures))
                pools[A] -= min(cost, pools[A])
        cell.processors = [p for p in cell.processors if not p.done]
        shell = cell.gene_count() == 0
        if (pools[A] <= 0 and not shell) or (shell and self.tick_count - cell.born
                                              >= r.shell_ticks - 1):
            self._die(cell)

    # ---- the host: what a cell does to the world ----------------------------------------------

    def grow(self, cell: SoupCell, triplets: int) -> bool:
        """Genes are made of instruction molecules: one I per triplet."""
        return self._take(cell, I, triplets)

    def do(self, name: str, cell: SoupCell, proc: Processor, args: list[int]) -> list[int]:
        if name in REACTIONS:
            took = react(self.pools[cell.y, cell.x], REACTIONS.index(name), self._light)
            self._light -= max(took, 0)
            return [TRUE if took >= 0 else FALSE]
        if name == "OBSERVE":
            return self._observe(cell)
        if name == "RECEIVE":
            return [cell.inbox.popleft() if cell.inbox else 0]
        if name == "POOL":
            return [min(int(self.pools[cell.y, cell.x, args[0] % len(MOLECULES)]), MASK)]
        return [TRUE if getattr(self, "_" + name.lower())(cell, *args) else FALSE]

    def _cell(self, cell: SoupCell, d: int) -> bool:
        at = self.neighbour_at(cell, d)
        if at in self.cells or not self._pay(cell, self.rules.cell_atp):
            return False
        child = SoupCell(id=self.next_id, x=at[0], y=at[1], parent=cell.id,
                         lineage=cell.lineage, born=self.tick_count + 1)
        self.cells[at] = child
        self.next_id += 1
        return True

    def _copy(self, cell: SoupCell, h: int, d: int) -> bool:
        """Copying errors come from the cell's draws for this turn, in the order it copies
        (keyed by tick and cell id: each cell's turn draws alone)."""
        gene, target = cell.gene(h), self._open_neighbour(cell, d)
        pools = self.pools[cell.y, cell.x]
        if gene is None or target is None or pools[A] < self.rules.copy_atp \
                or target.gene_count() >= self.rules.limits.max_genes \
                or pools[I] < len(gene.words):
            return False
        pools[A] -= self.rules.copy_atp
        draws = self._draws
        words = [w ^ (1 << draws.integer(0, 24)) if draws.chance(self.rules.point_rate) else w
                 for w in gene.words]
        times = 2 if draws.chance(self.rules.duplication_rate) else 1
        if draws.chance(self.rules.loss_rate):
            return True                          # lost on the way: the sender cannot tell
        times = min(times, self.rules.limits.max_genes - target.gene_count())
        if times == 2 and pools[I] < 2 * len(words):
            times = 1                            # matter for one copy only
        self.grow(cell, times * len(words))
        for _ in range(times):
            target.add_gene(words)
        return True

    def _gene_move(self, cell: SoupCell, h: int, d: int) -> bool:
        target = self._open_neighbour(cell, d)
        if cell.gene(h) is None or target is None \
                or target.gene_count() >= self.rules.limits.max_genes \
                or not self._pay(cell, self.rules.move_atp):
            return False
        target.add_gene(cell.remove_gene(h).words)
        return True

    def _transfer(self, cell: SoupCell, pool: int, amount: int, d: int) -> bool:
        m = pool % len(MOLECULES)
        target = self._open_neighbour(cell, d)
        if target is None:
            return False
        mine, theirs = self.pools[cell.y, cell.x], self.pools[target.y, target.x]
        need_atp = self.rules.transfer_atp + (amount if m == A else 0)
        if mine[m] < amount or theirs[m] + amount > CAPS[m] or mine[A] < need_atp:
            return False
        mine[A] -= self.rules.transfer_atp
        mine[m] -= amount
        theirs[m] += amount
        return True

    def _send(self, cell: SoupCell, value: int) -> bool:
        room = [o for o in self._neighbours(cell) if len(o.inbox) < self.rules.inbox]
        if not room or not self._pay(cell, self.rules.send_atp):
            return False
        for other in room:
            other.inbox.append(value & MASK)
        return True

    def _observe(self, cell: SoupCell) -> list[int]:
        """The signature of the first neighbour (N, E, S, W): the names of its three most
        active genes (ties to the lower handle), 0 for each missing."""
        if not self._pay(cell, self.rules.observe_atp):
            return [0, 0, 0]
        near = self._neighbours(cell)
        if not near:
            return [0, 0, 0]
        genes = sorted(((g.activation, -h, g.name[0]) for h, g in enumerate(near[0].genes)
                        if g is not None and g.words), reverse=True)[:3]
        return [name for _, _, name in genes] + [0] * (3 - len(genes))

    def _barrier_up(self, cell: SoupCell) -> bool:
        if self.pools[cell.y, cell.x, B] < 1 or not self._pay(cell, self.rules.barrier_atp):
            return False
        cell.barrier = True
        return True

    def _barrier_down(self, cell: SoupCell) -> bool:
        if not self._pay(cell, self.rules.barrier_atp):
            return False
        cell.barrier = False
        return True

    def _attack(self, cell: SoupCell, d: int) -> bool:
        other = self._neighbour(cell, d)
        theirs = self.pools[other.y, other.x] if other is not None else None
        if theirs is None or theirs[B] == 0 or not self._pay(cell, self.rules.attack_atp):
            return False
        broken = min(self.rules.attack_damage, int(theirs[B]))
        theirs[B] -= broken
        theirs[G] += broken
        theirs[Y] += broken
        if theirs[B] == 0:
            other.barrier = False
        return broken > 0

    # ---- accounts --------------------------------------------------------------------------------

    def atoms(self) -> np.ndarray:
        """Atoms of each element in the soup: every location's pools, and every gene's
        triplets as instruction molecules."""
        triplets = sum(len(g.words) for c in self.cells.values() for g in c.genes
                       if g is not None)
        return self.pools.reshape(-1, len(MOLECULES)).sum(axis=0) @ ATOMS + triplets * ATOMS[I]

