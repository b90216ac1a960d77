"""Run configs and suite specs: malformed files give errors that name the file, field and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from audit.config import load_config
from audit.errors import ConfigError, SuiteError
from audit.suites.discovery import select
from audit.suites.spec import load_spec


def test_config_flags_override_file(tmp_path: Path) -> None:
    path = tmp_path / "run.yaml"
    path.write_text("model: hf:./x\nlimit: 5\n")
    config = load_config(path, {"limit": 7, "suites": None})
    assert config.model == "hf:./x" and config.limit == 7


def test_yaml_syntax_error_names_line(tmp_path: Path) -> None:
    path = tmp_path / "run.yaml"
    path.write_text("model: hf:./x\nlimit: [5\n")
    with pytest.raises(ConfigError, match=r"not valid YAML at line \d"):
        load_config(path, {})


def test_invalid_field_names_field_and_line(tmp_path: Path) -> None:
    path = tmp_path / "run.yaml"
    path.write_text("model: hf:./x\n\nlimit: -3\n")
    with pytest.raises(ConfigError, match=r"limit \(line 3\)"):
        load_config(path, {})


def test_unknown_key_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "run.yaml"
    path.write_text("modle: hf:./x\n")
    with pytest.raises(ConfigError, match=r"modle \(line 1\)"):
        load_config(path, {})


def test_non_mapping_config(tmp_path: Path) -> None:
    path = tmp_path / "run.yaml"
    path.write_text("- a\n- b\n")
    with pytest.raises(ConfigError, match="must be a YAML mapping"):
        load_config(path, {})


def test_malformed_suite_spec_names_line(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    folder.mkdir()
    (folder / "suite.yaml").write_text(
        "family: capability\ndescription: d\nkind: lm_eval\nmetrics:\n  acc:\n"
        "    label: A\n    description: d\n    formula: f\n    better: sideways\n")
    with pytest.raises(ConfigError, match=r"metrics.acc.better \(line 9\)"):
        load_spec(folder, "demo")


def test_suite_selection_by_family_and_name() -> None:
    assert [s.name for s in select(["capability/core_mc"])] == ["capability/core_mc"]
    assert "capability/core_mc" in [s.name for s in select(["capability"])]


def test_unknown_suite_lists_available() -> None:
    with pytest.raises(SuiteError) as caught:
        select(["no-such-suite"])
    assert "capability/core_mc" in caught.value.fix
