"""Config and experiment files with any value in any key: each is either a valid config or a
one-line ConfigError naming the key -- never another exception (a date where a number goes,
an array of tables, 2**70, nan, a string of control characters)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from primordia.core.errors import ConfigError, PrimordiaError
from primordia.distributed.experiment import load_experiment
from primordia.worlds.hex.config import HexConfig
from primordia.worlds.sandbox.config import SandboxConfig

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

TOML_VALUES = st.one_of(
    st.integers(-2**70, 2**70).map(str),
    st.sampled_from(["true", "false", "nan", "inf", "-inf", "1e999", "0x7fffffffffffffff",
                     "1979-05-27", "1979-05-27T07:32:00Z", "07:32:00", "[]", "{}",
                     "[[1], [2]]", '{a = 1, b = "x"}', '"\\u0000\\u001b[2J"', "''",
                     '"' + "x" * 5000 + '"']),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.text(max_size=20).map(lambda t: '"' + t.encode("unicode_escape").decode()
                             .replace('"', '\\"') + '"'),
    st.lists(st.integers(-5, 5), max_size=4).map(lambda v: "[" + ", ".join(map(str, v)) + "]"),
)

SETTINGS = settings(max_examples=150, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


def _refused_or_valid(load, path):
    try:
        load(path)
    except PrimordiaError as exc:
        assert "\n" not in str(exc) and str(exc), str(exc)


@pytest.mark.parametrize("model", [SandboxConfig, HexConfig], ids=lambda m: m.__name__)
@SETTINGS
@given(data=st.data())
def test_any_value_in_any_world_key(tmp_path, model, data):
    key = data.draw(st.sampled_from([*model.model_fields, "unknown_key", "a.b", '"quoted"']))
    value = data.draw(TOML_VALUES)
    path = tmp_path / "config.toml"
    path.write_text(f"{key} = {value}\n")
    _refused_or_valid(model.from_toml, path)


@SETTINGS
@given(data=st.data())
def test_any_value_in_any_experiment_key(tmp_path, data):
    base = (EXAMPLES / "islands-hex.toml").read_text()
    lines = [line for line in base.splitlines() if "=" in line and not line.startswith("#")]
    i = data.draw(st.integers(0, len(lines) - 1))
    key = lines[i].split("=", 1)[0].strip()
    value = data.draw(TOML_VALUES)
    text = base.replace(lines[i], f"{key} = {value}", 1)
    path = tmp_path / "experiment.toml"
    path.write_text(text)
    _refused_or_valid(load_experiment, path)


def test_the_example_experiments_are_valid():
    for path in EXAMPLES.glob("islands-*.toml"):
        assert load_experiment(path).name


def test_an_integer_longer_than_python_reads_is_a_config_error(tmp_path):
    # found reading read_toml for benchmarks/fuzz_parsers.py (toml_config): tomllib hands a
    # 4,301-digit integer to int(), whose ValueError is not a TOMLDecodeError
    path = tmp_path / "config.toml"
    path.write_text("npcs = " + "1" * 5000 + "\n")
    for load in (SandboxConfig.from_toml, HexConfig.from_toml, load_experiment):
        with pytest.raises(ConfigError, match=r"config.toml: not valid TOML \(Exceeds the limit"):
            load(path)
