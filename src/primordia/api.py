"""Primordia from Python: a world with a brain, made by name and stepped in a notebook; its
state as numpy arrays and its timeline as a table; checkpoints and resume; evolutions on tasks
and on islands into run directories; and your own brains and worlds registered beside the
built-in ones. Everything here is a thin layer over the registries and runs the commands use,
so a run made here is the run ``primordia run`` makes from the same settings and seed.
docs/api.md walks through it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

from pydantic import ValidationError

from primordia.brains.base import Substrate
from primordia.brains.registry import SUBSTRATES
from primordia.core.config import Config, describe, merged
from primordia.core.errors import ConfigError
from primordia.runs.checkpoint import read_meta
from primordia.runs.world_run import CHECKPOINT, Reporter, WorldRun
from primordia.worlds.registry import WORLDS, WorldKind

__all__ = ["Reporter", "WorldKind", "WorldRun", "evolve_islands", "evolve_task", "list_brains",
           "list_worlds", "register_brain", "register_world", "resume", "world"]


def list_worlds() -> list[str]:
    """The registered worlds' names."""
    return WORLDS.names()


def list_brains() -> list[str]:
    """The registered brains' (substrates') names."""
    return SUBSTRATES.names()


def world(name: str, brain: str | None = None, *, out: str | Path | None = None,
          seed: int | None = None, threads: int = 1, timeline: int = 0,
          record_every: int = 100, checkpoint_every: int = 0,
          reporters: Iterable[Reporter] = (), brain_settings: Mapping[str, Any] | None = None,
          **settings: Any) -> WorldRun:
    """A run of world ``name`` with ``brain`` (default: the world's own) and that brain's
    ``brain_settings`` (its ``[brain]`` table: ``{"num_neurons": 4}``), its config made from
    ``settings`` (the world's config keys: ``npcs=50``, ``world_width=30``, its length
    ``ticks``/``turns``, ...) and ``seed``. With ``out`` it writes a run directory (config,
    recording, checkpoints, metrics, summary) as ``primordia run`` does; without, it lives in
    memory. Call ``step(n)`` to advance it, or ``execute()`` to run it to its length."""
    kind = WORLDS.get(name)
    values = dict(settings)
    if seed is not None:
        values["seed"] = seed
    table = dict(brain_settings or {})
    if brain is not None:
        table["kind"] = brain
    if table:
        values = merged(values, {"brain": table})
    config = kind.config_class.build(values, source=f"{name} settings")
    return kind.run_class(config, out=Path(out) if out is not None else None,
                          threads=threads, timeline=timeline,
                          record_every=record_every, checkpoint_every=checkpoint_every,
                          reporters=list(reporters))


def resume(run_dir: str | Path, length: int | None = None, threads: int = 1,
           reporters: Iterable[Reporter] = ()) -> WorldRun:
    """The run saved in ``run_dir``, restored at its last checkpoint, to go on up to
    ``length`` ticks (turns) in total (default: its configured length)."""
    meta = read_meta(Path(run_dir) / CHECKPOINT)
    kind = WORLDS.get(meta.get("world"))
    return kind.run_class.resume(Path(run_dir), length, threads, list(reporters))


def evolve_task(task: Any, out: str | Path | None = None, *,
                report: Callable[[Any], None] | None = None, **settings: Any
                ) -> tuple[Any, dict[str, Any]]:
    """Evolve Mycos networks on ``task`` -- a built-in task's name (``"T00_xor2"``), a task
    file, or a ``tasks.task.Task`` you built, whose episodes and scoring are the fitness --
    with ``settings`` of ``runs.mycos_run.MycosEvolveConfig`` (``pop``, ``gens``, ``seed``,
    ``selection``, ...). ``report`` gets each generation's statistics. Returns the run and,
    with ``out``, the summary written there."""
    from primordia.runs.mycos_run import MycosEvolveConfig, timed_evolve
    from primordia.runs.rundir import RunDirectory
    from primordia.tasks.task import Task, load_task

    try:
        config = MycosEvolveConfig.model_validate(settings)
    except ValidationError as exc:
        raise ConfigError(f"evolve_task: {describe(exc)}") from None
    chosen = task if isinstance(task, Task) else load_task(str(task))
    return timed_evolve(config, chosen, RunDirectory(Path(out)) if out is not None else None,
                        report)


def evolve_islands(experiment: str | Path | Mapping[str, Any], out: str | Path, *,
                   processes: int = 1,
                   on_status: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
    """Run an island experiment -- a TOML file or the same keys as a dict -- on this machine
    (coordinator, database and ``processes`` island processes), or resume it if ``out``
    holds one; its summary (generations, islands run, the last Pareto front)."""
    from primordia.distributed.embedded import run_embedded
    from primordia.distributed.experiment import build_experiment, load_experiment

    if isinstance(experiment, Mapping):
        exp, text = build_experiment(dict(experiment)), ""
    else:
        exp, text = load_experiment(experiment), Path(experiment).read_text()
    if not 1 <= processes <= 1024:
        raise ConfigError("processes must be in 1..1024")
    return run_embedded(exp, Path(out), procs=processes, source_text=text,
                        on_status=on_status or (lambda status: None))


def register_brain(name: str, factory: Callable[..., Substrate],
                   settings: type[Config] | None = None) -> None:
    """Make a brain of your own available by name everywhere (``world(..., brain=name)``,
    islands, the server): ``factory(io=..., settings=...)`` returns a
    ``brains.base.Substrate`` for a world with layout ``io``, with ``settings`` of the model
    given here (a ``core.config.Config``; by default the factory's ``SETTINGS``, if it is a
    substrate class that has them; else none)."""
    settings = settings or getattr(factory, "SETTINGS", None)
    SUBSTRATES.register(name, factory, **({"settings": settings} if settings else {}))


def register_world(kind: WorldKind) -> None:
    """Make a world of your own available by name everywhere (docs/architecture.md, "How to
    add a world", says what a ``WorldKind`` names)."""
    WORLDS.register(kind)
