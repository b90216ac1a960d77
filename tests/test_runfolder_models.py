"""The run-folder models and the JSON Schemas generated from them."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from audit.errors import RunFolderError
from audit.runfolder import RunFolder, check_evidence, load_schema
from audit.runfolder.models import MODELS, SCHEMA_DIR, schema_documents, schema_text
from tests.handmade_runs import info, sample, suite_entry, write_run


def test_committed_schemas_are_the_generated_ones() -> None:
    """Edit a model without `python -m audit.runfolder.models` and this fails."""
    committed = {p.name for p in SCHEMA_DIR.glob("*.schema.json")}
    assert committed == set(MODELS)
    for name, document in schema_documents().items():
        assert (SCHEMA_DIR / name).read_text(encoding="utf-8") == schema_text(document), name


def _handmade(tmp_path: Path) -> RunFolder:
    samples = [sample("capability/x", str(i), {"acc": i % 2}) for i in range(4)]
    suites = {"capability/x": suite_entry("capability", {"acc": info("acc", "capability")},
                                          samples)}
    return write_run(tmp_path, "typed", suites, samples)


def _set(document: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(document)
    target = changed
    for key in path[:-1]:
        target = target[key]
    if value is _DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return changed


_DELETE = object()

# (file, path into the document, bad value): each must be refused by the generated schema.
BAD = [
    ("run.json", ("status",), "finished"),
    ("run.json", ("run_id",), "../escape"),
    ("run.json", ("schema_version",), 0),
    ("run.json", ("model", "files"), [{"path": "w"}]),
    ("run.json", ("model",), _DELETE),
    ("run.json", ("engine",), "fast"),
    ("results.json", ("suites", "capability/x", "family"), "vibes"),
    ("results.json", ("suites", "capability/x", "metrics", 0, "n"), -1),
    ("results.json", ("suites", "capability/x", "metrics", 0, "value"), "0.5"),
    ("results.json", ("suites", "capability/x", "metrics", 0, "ci_low"), _DELETE),
    ("results.json", ("suites", "capability/x", "metrics", 0, "evidence"), "strong"),
    ("results.json", ("suites", "capability/x", "metrics", 0, "group"), {"language": 3}),
    ("results.json", ("suites", "capability/x", "skipped"), [{"what": "x"}]),
    ("energy.json", ("suites", "capability/x", "energy_kwh"), -0.1),
    ("energy.json", ("suites", "capability/x", "method"), {"cpu": "measured"}),
    ("energy.json", ("suites", "capability/x", "n_requests"), 1.5),
    ("manifest.json", ("sha256",), ["not", "a", "table"]),
]


@pytest.mark.parametrize(("name", "path", "value"), BAD,
                         ids=[f"{n}:{'/'.join(map(str, p))}" for n, p, _ in BAD])
def test_generated_schema_refuses_a_bad_file(tmp_path: Path, name: str, path: tuple[Any, ...],
                                             value: Any) -> None:
    folder = _handmade(tmp_path)
    folder.write_manifest()
    good = folder.read_json(name)
    with pytest.raises(RunFolderError, match="does not match its schema"):
        folder.write_json(name, _set(good, path, value))


def test_generated_schemas_accept_what_a_run_writes_and_extra_keys(tmp_path: Path) -> None:
    """Nullable fields take null, optional ones may be absent, and objects keep further keys
    (a newer fm-audit may add some): the files stay readable."""
    folder = _handmade(tmp_path)
    run = _set(folder.read_json("run.json"), ("engine",), None)
    run["added_by_a_newer_version"] = {"x": 1}
    folder.write_json("run.json", run)
    results = _set(folder.read_json("results.json"),
                   ("suites", "capability/x", "metrics", 0, "value"), None)
    folder.write_json("results.json", results)
    assert folder.read_json("run.json")["added_by_a_newer_version"] == {"x": 1}
    for record in folder.iter_samples():
        jsonschema.validate(record, load_schema("sample.schema.json"))


def test_sample_line_schema_is_checked_on_read(tmp_path: Path) -> None:
    folder = _handmade(tmp_path)
    (folder.path / "samples.jsonl").write_text('{"suite": "capability/x", "id": "1"}\n')
    with pytest.raises(RunFolderError, match="line 1 does not match the sample schema"):
        list(folder.iter_samples())


def test_a_manifest_without_a_table_is_not_verified(tmp_path: Path) -> None:
    folder = _handmade(tmp_path)
    (folder.path / "manifest.json").write_text('{"schema_version": 1, "sha256": [1]}')
    evidence = check_evidence(folder)
    assert evidence.state == "modified" and "manifest.json is unreadable" in evidence.detail
