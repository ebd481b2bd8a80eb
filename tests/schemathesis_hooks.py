"""Schemathesis hooks for ``primordia serve`` (loaded by schemathesis.toml, so that
``schemathesis run`` from the repository uses them too, and by tests/web/test_openapi.py).

A world's config has rules between its keys that JSON Schema cannot state (the published
schema says them in words: a hex world's organisms fit its cells, ...), so a body drawn from
the schema alone can break one and be refused with a 422 naming it -- which schemathesis's
positive_data_acceptance check would count against the server. Before a request that is
meant to be valid is sent, its config is mended to keep the rules: the smallest change that
does (a world just wide enough, the spawn band's lower edge below its upper one). Requests
meant to be invalid are left as they are. tests/web/test_app.py checks the 422s."""

from __future__ import annotations

import math
from typing import Any

import schemathesis

CREATE = "POST /v1/sessions"
HEX_DEFAULTS = {"world_width": 20, "num_organisms": 200, "center_spawn_min_fraction": 0.25,
                "center_spawn_max_fraction": 0.75}
NEURAL_DEFAULTS = {"num_neurons": 2, "max_num_neurons": 20}
MYCOS_DEFAULTS = {"internal_bits": 8, "max_internal_bits": 64, "connections": 16,
                  "max_connections": 64, "inputs": 0, "outputs": 0, "max_io_bits": 256}
MYCOS_RULES = (("internal_bits", "max_internal_bits"), ("connections", "max_connections"),
               ("inputs", "max_io_bits"), ("outputs", "max_io_bits"))
SANDBOX_DEFAULTS = {"npcs": 20, "world": 0}
ECOLOGY_DEFAULTS = {"width": 256, "height": 256, "num_organisms": 2000,
                    "max_organisms": 16_384, "radius": 2, "neighbor_records": 8,
                    "resource_density": 0.5, "obstacle_share": 0.05, "hazard_share": 0.02,
                    "radiation_share": 0.01, "reproduce_cost": 10, "reproduce_min": 80,
                    "start_energy": 100, "max_energy": 5000}
"""EcologyConfig's defaults for the keys its rules join; an unset ``min_organisms`` is a
tenth of ``num_organisms``."""
ECOLOGY_SHARES = ("resource_density", "obstacle_share", "hazard_share", "radiation_share")


def meant_valid(case: Any) -> bool:
    """Whether schemathesis drew ``case`` to fit the schema (its positive mode)."""
    meta = getattr(case, "meta", None)
    return meta is None or meta.generation.mode.is_positive


def keep_rules(world: Any, config: dict[str, Any], brain_kind: Any = None) -> dict[str, Any]:
    """``config`` mended to keep the world's rules between keys (a copy); ``brain_kind`` is the
    request's brain, when the config has no ``[brain]`` table."""
    config = dict(config)
    brain = config.get("brain")
    if isinstance(brain, dict) and brain.get("kind") == "neural":
        b = {**NEURAL_DEFAULTS, **brain}
        if b["num_neurons"] > b["max_num_neurons"]:
            config["brain"] = {**brain, "max_num_neurons": b["num_neurons"]}
    if isinstance(brain, dict) and brain.get("kind") == "mycos":
        b = {**MYCOS_DEFAULTS, **brain}
        for key, cap in MYCOS_RULES:            # a new network within the caps
            if b[key] > b[cap]:
                b[key] = b[cap]
        config["brain"] = {**brain, **{k: b[k] for k, _ in MYCOS_RULES if k in brain
                                       or b[k] != MYCOS_DEFAULTS[k]}}
    if world == "ecology":
        kind = brain.get("kind") if isinstance(brain, dict) else brain_kind
        return _keep_ecology_rules(config, kind or "wasm")
    if world == "sandbox":
        v = {**SANDBOX_DEFAULTS, **config}
        if v["world"] and v["npcs"] > v["world"] ** 2:
            config["world"] = math.isqrt(int(v["npcs"]) - 1) + 1   # 13.0 is an integer too
        return config
    v = {**HEX_DEFAULTS, **config}
    if v["num_organisms"] > v["world_width"] ** 2:
        config["world_width"] = math.isqrt(int(v["num_organisms"]) - 1) + 1
    lo, hi = v["center_spawn_min_fraction"], v["center_spawn_max_fraction"]
    if lo >= hi:
        if hi > 0:
            config["center_spawn_min_fraction"] = hi / 2
        else:
            config["center_spawn_max_fraction"] = 1.0
            config["center_spawn_min_fraction"] = min(lo, 0.5)
    return config


def _keep_ecology_rules(config: dict[str, Any], kind: str) -> dict[str, Any]:
    v = {**ECOLOGY_DEFAULTS, **config}
    v.setdefault("min_organisms", v["num_organisms"] // 10 if isinstance(v["num_organisms"], int)
                 else 0)
    total = sum(v[k] for k in ECOLOGY_SHARES)
    if total > 1:                               # the shares scaled down to add up to 1
        for k in ECOLOGY_SHARES:
            config[k] = math.floor(v[k] / total * 1e6) / 1e6
    if kind == "psil":                          # 31 sensor slots
        config["radius"], config["neighbor_records"] = 1, min(v["neighbor_records"], 3)
        v.update(radius=1)
    if kind == "wasm":                          # memory for twice the context
        table = config.get("brain") if isinstance(config.get("brain"), dict) else {}
        need = 2 * (288 + 8 * (2 * v["radius"] + 1) ** 2 + 16 * v["neighbor_records"])
        if table.get("memory", 4096) < need:
            config["brain"] = {"kind": "wasm", **table, "memory": 1 << (need - 1).bit_length()}
    side = 2 * v["radius"] + 1                  # the view fits the map
    for key in ("width", "height"):
        if v[key] < side:
            config[key] = v[key] = side
    most = max(v["num_organisms"], v["min_organisms"])
    if most > v["width"] * v["height"]:
        config["width"] = v["width"] = max(v["width"], math.isqrt(most - 1) + 1)
        config["height"] = v["height"] = max(v["height"], math.isqrt(most - 1) + 1)
    if most > v["max_organisms"]:
        config["max_organisms"] = most
    if v["reproduce_min"] < v["reproduce_cost"]:
        config["reproduce_min"] = v["reproduce_cost"]
    if v["max_energy"] < v["start_energy"]:
        config["max_energy"] = v["start_energy"]
    return config


def mend(case: Any) -> Any:
    """A valid session request whose config breaks a rule between its keys, mended."""
    body = case.body
    if case.operation.label == CREATE and meant_valid(case) and isinstance(body, dict) \
            and isinstance(body.get("config", {}), dict):
        world = body.get("world", "hex")
        config = keep_rules(world, body.get("config", {}), body.get("brain"))
        table = config.get("brain")
        named = table.get("kind") if isinstance(table, dict) else None
        if named and body.get("brain") not in (None, named):
            body = {**body, "brain": named}     # the request and its config name one brain
        case.body = {**body, "config": config}
    return case


@schemathesis.hook
def map_case(context: Any, case: Any) -> Any:
    return mend(case)


SUBMIT = "POST /v1/leases/{lease_id}/result"
FOCUS = "POST /v1/sessions/{session_id}/focus"


@schemathesis.hook
def filter_failure(context: Any, failure: Any, case: Any, response: Any) -> bool:
    """Keep every failure but two that are not: an outcome the schema allows that no run of
    the job could produce (its checks need the job: the right lineages, counts the island
    could reach) is refused with 422 and ``accepted: false`` -- declared in the document, but
    a refusal of schema-valid data all the same; and a focus, after the session was created,
    on an organism id the stateful phase made up rather than took from the link: its 404
    (``unknown_organism``) is about the organism in the body, while the check (ST302,
    "created resource not found") reads it as the session in the path being gone."""
    if case.operation.label == FOCUS and response is not None \
            and response.status_code == 404 and getattr(failure, "code", None) == "ST302":
        try:
            body = response.json()
        except ValueError:
            return True
        error = body.get("error") if isinstance(body, dict) else None
        return not (isinstance(error, dict) and error.get("code") == "unknown_organism")
    if case.operation.label == SUBMIT and response is not None \
            and response.status_code == 422 and getattr(failure, "code", None) == "ST202":
        try:
            body = response.json()
        except ValueError:
            return True
        return not (isinstance(body, dict) and body.get("accepted") is False
                    and str(body.get("error", "")).startswith("result: "))
    return True
