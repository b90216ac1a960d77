"""The run folder: atomic writes, schema validation, versioning, safe run ids."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from audit.errors import RunFolderError
from audit.runfolder import RunFolder, atomic_write_text, check_run_id


@pytest.mark.parametrize("bad", ["../escape", "a/b", "..", ".hidden", "", "x" * 200])
def test_run_ids_cannot_escape_the_reports_dir(bad: str) -> None:
    with pytest.raises(RunFolderError, match="invalid run id"):
        check_run_id(bad)


def test_create_refuses_to_overwrite(tmp_path: Path) -> None:
    RunFolder.create(tmp_path, "r1").write_samples([])
    with pytest.raises(RunFolderError, match="already exists"):
        RunFolder.create(tmp_path, "r1")


def test_create_reuses_a_folder_left_before_anything_was_written(tmp_path: Path) -> None:
    """A run killed while loading its model leaves only its lock file: no evidence to keep."""
    (tmp_path / "r1").mkdir()
    (tmp_path / "r1" / ".lock").write_text("123\n")
    assert RunFolder.create(tmp_path, "r1").path == tmp_path / "r1"


def test_results_must_match_schema(tmp_path: Path) -> None:
    folder = RunFolder.create(tmp_path, "r1")
    with pytest.raises(RunFolderError, match="does not match its schema"):
        folder.write_json("results.json", {"schema_version": 1, "run_id": "r1",
                                           "suites": {"s": {"family": "capability"}}})
    assert not (folder.path / "results.json").exists()


def test_newer_schema_version_is_refused(tmp_path: Path) -> None:
    folder = RunFolder.create(tmp_path, "r1")
    (folder.path / "results.json").write_text(json.dumps(
        {"schema_version": 99, "run_id": "r1", "suites": {}}))
    with pytest.raises(RunFolderError, match="upgrade fm-audit"):
        folder.read_json("results.json")


def test_half_written_json_is_reported_not_used(tmp_path: Path) -> None:
    folder = RunFolder.create(tmp_path, "r1")
    (folder.path / "results.json").write_text('{"schema_version": 1, "run_')
    with pytest.raises(RunFolderError, match="not valid JSON"):
        folder.read_json("results.json")


def test_atomic_write_leaves_no_temporary_files(tmp_path: Path) -> None:
    target = tmp_path / "x.json"
    atomic_write_text(target, "{}")
    atomic_write_text(target, '{"a": 1}')
    assert json.loads(target.read_text()) == {"a": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["x.json"]


def test_unwritable_output_directory_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(RunFolderError, match="cannot create"):
        RunFolder.create(blocker, "r1")
