"""What the runs of worlds whose organisms carry ids, parents and birth times share (the hex
and ecology worlds): a ``Lineage`` beside the world for phylogeny.csv, a count of the work
done (organism-turns or organism-ticks), and a checkpoint of the world's arrays and the
lineage's, checked and restored together."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from primordia.core.checks import ArraySpec
from primordia.core.errors import ConfigError

from .lineage import Lineage
from .world_run import CHECKPOINT, Reporter, WorldRun


@dataclass
class LineageRun(WorldRun):
    """A ``WorldRun`` whose world has ``state.oid``, ``alive``, ``born`` and ``parent`` by
    slot, ``next_id``, ``arrays()``, and the class methods ``snapshot_layout`` and
    ``restore`` (``WORLD_CLASS``). A subclass says how many ids a config can give out
    (``most_ids``) and keeps its work in the field ``WORK``; the organisms alive at once
    (``bounds``) bound the work a tick adds."""

    WORLD_CLASS: ClassVar[Any] = None
    WORK: ClassVar[str] = ""
    """The field counting the organisms alive at each tick (turn) so far, saved in the
    checkpoint's metadata under the same name."""

    lineage: Lineage = field(default_factory=Lineage)

    @classmethod
    def most_ids(cls, config: Any) -> int:
        raise NotImplementedError

    # ---- what islands ask (runs/island.py), the same for every such world ----------------------
    def parents(self, slots: np.ndarray) -> np.ndarray:
        return self.world.state.parent[slots]

    def birth_times(self) -> np.ndarray:
        return self.world.state.born

    def living(self) -> int:
        return self.world.population

    def checkpoint_arrays(self) -> dict[str, Any]:
        return {**self.world.arrays(), **self.lineage.arrays()}

    def checkpoint_meta(self) -> dict[str, Any]:
        return {self.WORK: getattr(self, self.WORK)}

    def checkpoint_layout(self) -> dict[str, ArraySpec]:
        return {**self.WORLD_CLASS.snapshot_layout(self.config, self.substrate(self.config)),
                **Lineage.layout(self.most_ids(self.config))}

    @classmethod
    def resume(cls, run_dir: Path, length: int | None = None, threads: int = 1,
               reporters: list[Reporter] | None = None) -> Any:
        """The run saved in ``run_dir``, restored at its last checkpoint, to continue up to
        ``length`` ticks (turns) in total (default: the configured number)."""
        run, arrays, _ = cls.reopen(run_dir, length, threads, reporters,
                                    lambda meta: {cls.WORK: getattr(meta, cls.WORK)})
        source = str(run.out / CHECKPOINT)
        world = {k: v for k, v in arrays.items() if not k.startswith("lineage.")}
        run.world = cls.WORLD_CLASS.restore(run.config, run.substrate(run.config), world,
                                            threads=threads, source=source)
        s, at = run.world.state, run.position()
        run.lineage = Lineage.from_arrays(arrays, cls.most_ids(run.config), run.world.next_id,
                                          at, s.oid, s.alive, s.born, s.parent, cls.UNIT,
                                          source)
        work, most = getattr(run, cls.WORK), cls.bounds(run.config)[1]
        if work > at * most:
            raise ConfigError(f"{source}: metadata: {cls.WORK} is {work}, more than {at} "
                              f"{cls.UNIT}s of {most} organisms")
        run._check_metrics()
        return run
