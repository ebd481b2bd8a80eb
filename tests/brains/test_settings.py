"""Brains own their settings: a world config's ``[brain]`` table is ``kind`` plus that brain's
settings model, old configs with brain settings at the top level still load, and every way
of starting a world (CLI, Python API, resume) reads the table."""

from __future__ import annotations

import re
import tomllib

import pytest

import primordia
from primordia.brains.registry import SUBSTRATES
from primordia.brains.settings import BrainTable, make_substrate, settings_model
from primordia.cli.main import main
from primordia.core.errors import ConfigError
from primordia.runs.hex_run import HexRun
from primordia.worlds.hex.config import HexConfig
from primordia.worlds.hex.world import HEX_IO
from primordia.worlds.sandbox.config import SandboxConfig


def test_a_table_is_its_kind_with_every_setting_filled_in():
    table = BrainTable.model_validate({"kind": "neural", "num_neurons": 4})
    assert table.values() == {"kind": "neural", "num_neurons": 4, "max_num_neurons": 20,
                              "num_synapses": 4, "mutation_magnitude": 1.0}
    assert table.settings == settings_model("neural")(num_neurons=4)
    assert make_substrate(table, HEX_IO).num_neurons == 4


@pytest.mark.parametrize("table,words", [
    ({"kind": "nope"}, "brain: kind: 'nope' is not a brain Primordia knows"),
    ({"kind": "psil", "num_neurons": 4}, "brain: num_neurons: a psil brain has no such "
                                         "setting (its settings: crossover, classic_rate)"),
    ({"kind": "neural", "num_neurons": 9, "max_num_neurons": 3},
     "brain: num_neurons must not exceed max_num_neurons"),
    ({"kind": "neural", "num_synapses": True}, "brain: num_synapses: expected a number"),
    ({"kind": "psil", "crossover": "sideways"}, "brain: crossover"),
])
def test_a_bad_table_is_one_line_naming_the_brain_key(table, words):
    with pytest.raises(ConfigError, match=re.escape(words)) as info:
        HexConfig.build({"brain": table})
    assert "\n" not in str(info.value)


def test_each_world_has_its_default_brain():
    assert HexConfig().brain.kind == "neural" and SandboxConfig().brain.kind == "psil"
    assert HexConfig(brain={"num_neurons": 3}).brain.num_neurons == 3   # kind left out


def test_old_top_level_brain_settings_move_into_the_table():
    old = HexConfig.build({"num_neurons": 3, "mutation_magnitude": 2.0, "seed": 5})
    assert old == HexConfig(seed=5, brain={"kind": "neural", "num_neurons": 3,
                                           "mutation_magnitude": 2.0})
    sandbox = SandboxConfig.build({"crossover": "classic", "classic_rate": 0.5})
    assert sandbox.brain.settings.crossover == "classic"
    # an old psil run directory of the hex world holds the neural defaults: dropped
    assert HexConfig.build({"num_neurons": 2, "brain": {"kind": "psil"}}).brain.kind == "psil"


@pytest.mark.parametrize("values,words", [
    ({"num_neurons": 5, "brain": {"kind": "psil"}},
     'num_neurons: a neural brain\'s setting, now brain.num_neurons \\(with brain.kind = '
     '"neural"\\)'),
    ({"num_neurons": 5, "brain": {"kind": "neural", "num_neurons": 6}},
     "num_neurons: now brain.num_neurons, and the \\[brain\\] table sets another value"),
])
def test_an_old_key_that_cannot_move_is_refused_naming_the_new_key(values, words):
    with pytest.raises(ConfigError, match=words):
        HexConfig.build(values)


def test_the_table_is_written_back_as_toml_and_read_again():
    cfg = HexConfig(seed=3, brain={"kind": "neural", "num_synapses": 9})
    text = cfg.to_toml()
    assert "\n[brain]\nkind = \"neural\"\n" in text
    assert HexConfig.build(tomllib.loads(text)) == cfg


def test_the_neural_settings_reach_the_brains_and_change_the_run():
    small = {"world_width": 8, "num_organisms": 20, "seed": 4}
    plain = HexRun.substrate(HexConfig(**small))
    bigger = HexRun.substrate(HexConfig(**small, brain={"num_neurons": 5,
                                                        "num_synapses": 12}))
    assert (plain.num_neurons, bigger.num_neurons, bigger.num_synapses) == (2, 5, 12)
    a = primordia.world("hex", turns=5, **small).execute().state_hash()
    b = primordia.world("hex", turns=5, brain_settings={"num_neurons": 5}, **small)
    assert b.execute().state_hash() != a


def cli(*args: str) -> int:
    with pytest.raises(SystemExit) as done:
        main(list(args))
    return done.value.code


def test_the_cli_sets_the_table_with_brain_and_brain_setting(tmp_path, capsys):
    out = tmp_path / "run"
    assert cli("run", "hex", "--turns", "3", "--width", "6", "--organisms", "8",
               "--brain-setting", "num_neurons=4", "--brain-setting", "num_synapses=7",
               "--out", str(out)) == 0
    saved = tomllib.loads((out / "config.toml").read_text())
    assert saved["brain"] == {"kind": "neural", "num_neurons": 4, "max_num_neurons": 20,
                              "num_synapses": 7, "mutation_magnitude": 1.0}
    assert cli("run", "sandbox", "--ticks", "3", "--npcs", "8", "--brain", "neural",
               "--crossover", "classic", "--out", str(tmp_path / "bad")) == 2
    assert "brain: crossover: a neural brain has no such setting" in capsys.readouterr().err


def test_an_old_run_directory_resumes_with_its_brain_settings(tmp_path):
    run_dir = tmp_path / "run"
    straight = primordia.world("hex", turns=12, world_width=8, num_organisms=20, seed=6,
                               brain_settings={"num_neurons": 3}).execute().state_hash()
    primordia.world("hex", out=run_dir, turns=6, world_width=8, num_organisms=20, seed=6,
                    brain_settings={"num_neurons": 3}).execute()
    # write config.toml as runs did before brains owned their settings: flat, no table
    head, _, table = (run_dir / "config.toml").read_text().partition("\n[brain]\n")
    moved = [line for line in table.splitlines() if line and not line.startswith("kind")]
    (run_dir / "config.toml").write_text(head.rstrip() + "\n" + "\n".join(moved) + "\n")
    assert "[brain]" not in (run_dir / "config.toml").read_text()
    resumed = primordia.resume(run_dir, length=12)
    assert resumed.config.brain.num_neurons == 3
    assert resumed.execute().state_hash() == straight


def test_a_brain_of_ones_own_brings_its_settings():
    from primordia.core.config import Config

    class Fussy(Config):
        patience: int = 3

    seen = []

    def factory(io=None, settings=None):
        seen.append(settings)
        return SUBSTRATES.get("psil")

    primordia.register_brain("test-fussy", factory, settings=Fussy)
    try:
        run = primordia.world("sandbox", brain="test-fussy", brain_settings={"patience": 9},
                              npcs=8, ticks=2, seed=1)
        run.execute()
        assert seen and seen[-1] == Fussy(patience=9)
        with pytest.raises(ConfigError, match="brain: impatience: a test-fussy brain has no "):
            primordia.world("sandbox", brain="test-fussy", brain_settings={"impatience": 1})
    finally:
        SUBSTRATES.unregister("test-fussy")
