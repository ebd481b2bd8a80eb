"""Schemathesis against an ASGI app in this process: the engine the ``schemathesis run`` CLI
drives (its phases: examples, coverage, fuzzing, and stateful tests along the document's
links), with every check on, bounded and seeded so that a run is short and repeatable."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import Status, events


@dataclass
class Report:
    """What a run found: one line per failed check or error, and what it covered."""

    failures: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    cases: int = 0
    statuses: dict[str, set[int]] = field(default_factory=dict)
    """Response statuses seen per operation label."""
    phases: dict[str, str] = field(default_factory=dict)
    """Each phase's outcome (success, failure, skip, ...)."""

    def problems(self) -> str:
        return "\n\n".join(self.failures + self.errors)


def run(app: Any, *, max_examples: int, seed: int = 1, headers: dict[str, str] | None = None,
        phases: tuple[str, ...] = ("examples", "coverage", "fuzzing", "stateful"),
        extra: dict[str, Any] | None = None,
        hooks: list[tuple[str, Callable]] = ()) -> Report:
    """Run every phase and check on ``app``'s /openapi.json, with ``hooks`` (name, function)
    besides the global ones; the report of what failed."""
    config = SchemathesisConfig.from_dict({
        "seed": seed,
        "generation": {"max-examples": max_examples, "deterministic": True,
                       "database": "none"},
        # generous: on a busy machine the first world of a kind compiles its kernels
        "request-timeout": 120,
        "phases": {name: {"enabled": name in phases}
                   for name in ("examples", "coverage", "fuzzing", "stateful")},
        **({"headers": headers} if headers else {}),
        **(extra or {}),
    })
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=config)
    for name, function in hooks:
        schema.hooks.register_hook_with_name(function, name)
    report = Report()
    for event in schemathesis.engine.from_schema(schema).execute():
        if isinstance(event, (events.ScenarioFinished, events.FuzzScenarioFinished)):
            _record(report, event.recorder)
        elif isinstance(event, events.PhaseFinished):
            report.phases[event.phase.name.value] = event.status.value
        elif isinstance(event, (events.NonFatalError, events.FatalError)):
            info = getattr(event, "info", None)
            text = info.format() if info is not None and hasattr(info, "format") else \
                repr(getattr(event, "value", event))
            report.errors.append(f"error in {getattr(event, 'label', '?')}: {text}")
    return report


def _record(report: Report, recorder: Any) -> None:
    report.cases += len(recorder.cases)
    for case_id, node in recorder.cases.items():
        interaction = recorder.interactions.get(case_id)
        if interaction is not None and interaction.response is not None:
            label = node.value.operation.label
            report.statuses.setdefault(label, set()).add(interaction.response.status_code)
    for case_id, checks in recorder.checks.items():
        for check in checks:
            if check.status != Status.FAILURE or check.failure_info is None:
                continue
            failure = check.failure_info.failure
            interaction = recorder.interactions.get(case_id)
            got = ""
            if interaction is not None and interaction.response is not None:
                got = (f"\n  got {interaction.response.status_code}: "
                       f"{interaction.response.content[:300]!r}")
            report.failures.append(f"{check.name} on {recorder.label}: {failure.title}\n"
                                   f"  {failure.message}{got}\n"
                                   f"  {check.failure_info.code_sample}")
