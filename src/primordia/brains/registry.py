"""The substrates Primordia knows, by name (docs/architecture.md, "The interfaces")."""

from __future__ import annotations

from primordia.core.registry import Registry

from .base import Substrate

SUBSTRATES: Registry[Substrate] = Registry("substrate")


def _psil() -> Substrate:
    from .psil.substrate import PsilSubstrate
    return PsilSubstrate()


SUBSTRATES.register("psil", _psil)


def _neural(**options) -> Substrate:
    from .neural.substrate import NeuralSubstrate
    return NeuralSubstrate(**options)


SUBSTRATES.register("neural", _neural)


def _mycos(**options) -> Substrate:
    from .mycos.substrate import MycosSubstrate
    return MycosSubstrate(**options)


SUBSTRATES.register("mycos", _mycos)
