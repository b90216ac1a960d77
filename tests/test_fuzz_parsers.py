"""Property tests: every parser of user files either accepts its input or raises AuditError.

No input, however malformed, may crash a parser with another exception or be half-accepted.
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audit.config import RunConfig, load_config
from audit.errors import AuditError
from audit.report.runfolder import RunFolder
from audit.suites.spec import SuiteSpec, load_spec

FUZZ = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])

scalars = st.one_of(st.none(), st.booleans(), st.integers(-10, 10**6), st.floats(allow_nan=True),
                    st.text(max_size=20))
documents = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=5)),
    max_leaves=12)
config_keys = st.sampled_from(sorted(RunConfig.model_fields) + ["bogus"])
spec_keys = st.sampled_from(sorted(SuiteSpec.model_fields) + ["bogus"])


def _accepts_or_audit_error(action) -> None:
    try:
        action()
    except AuditError as error:
        assert error.message and error.fix


@FUZZ
@given(text=st.text(max_size=200))
def test_config_parser_on_arbitrary_text(tmp_path: Path, text: str) -> None:
    path = tmp_path / "run.yaml"
    path.write_text(text, encoding="utf-8")
    _accepts_or_audit_error(lambda: load_config(path, {}))


@FUZZ
@given(data=st.dictionaries(config_keys, documents, max_size=6))
def test_config_parser_on_structured_documents(tmp_path: Path, data: dict) -> None:
    path = tmp_path / "run.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    _accepts_or_audit_error(lambda: load_config(path, {}))


@FUZZ
@given(data=st.dictionaries(spec_keys, documents, max_size=8))
def test_suite_spec_parser(tmp_path: Path, data: dict) -> None:
    (tmp_path / "suite.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    _accepts_or_audit_error(lambda: load_spec(tmp_path, "fuzzed"))


@FUZZ
@given(payload=st.one_of(st.binary(max_size=200), documents.map(
    lambda d: json.dumps(d).encode())))
def test_run_folder_reader(tmp_path: Path, payload: bytes) -> None:
    folder = tmp_path / "run"
    folder.mkdir(exist_ok=True)
    for name in ("run.json", "results.json", "energy.json"):
        (folder / name).write_bytes(payload)
    run = RunFolder(folder)
    for name in ("run.json", "results.json", "energy.json"):
        _accepts_or_audit_error(lambda name=name: run.read_json(name))
    (folder / "samples.jsonl").write_bytes(payload)
    _accepts_or_audit_error(lambda: list(run.iter_samples()))
