"""The substrates Primordia knows, by name (docs/architecture.md, "The interfaces"). Each is
registered with its settings model (``settings=``), which a world's ``[brain]`` table is
checked against without making the substrate; the factory takes ``io`` (the world's layout)
and ``settings``."""

from __future__ import annotations

from primordia.core.registry import Registry

from .base import Substrate
from .mycos.settings import MycosSettings
from .neural.settings import NeuralSettings
from .psil.settings import PsilSettings
from .wasm.settings import WasmSettings

SUBSTRATES: Registry[Substrate] = Registry("substrate")


def _psil(**options) -> Substrate:
    from .psil.substrate import PsilSubstrate
    return PsilSubstrate(**options)


SUBSTRATES.register("psil", _psil, settings=PsilSettings)


def _neural(**options) -> Substrate:
    from .neural.substrate import NeuralSubstrate
    return NeuralSubstrate(**options)


SUBSTRATES.register("neural", _neural, settings=NeuralSettings)


def _mycos(**options) -> Substrate:
    from .mycos.substrate import MycosSubstrate
    return MycosSubstrate(**options)


SUBSTRATES.register("mycos", _mycos, settings=MycosSettings)


def _wasm(**options) -> Substrate:
    from .wasm.substrate import WasmSubstrate
    return WasmSubstrate(**options)


SUBSTRATES.register("wasm", _wasm, settings=WasmSettings)
