"""Reading and writing one run folder: the one contract between the engine and every renderer.

`reports/<run-id>/` holds run.json, results.json, samples.jsonl, energy.json, the request
cache that makes a run resumable (requests.jsonl), and on completion manifest.json (sha256 of
every file). Every JSON file is written atomically (write to a temporary name, fsync, rename),
so a reader never sees a half-written file, and is validated against its JSON Schema.
"""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
from collections.abc import Iterator
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import jsonschema

from audit.errors import RunFolderError
from audit.integrity import sha256_file
from audit.runfolder.models import Manifest, RunRecord
from audit.text import clean_text

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
RUN_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
SCHEMAS = {"run.json": "run.schema.json", "results.json": "results.schema.json",
           "energy.json": "energy.schema.json", "manifest.json": "manifest.schema.json"}
"""The JSON file each schema checks; the schemas are generated from `models.py`."""
REQUEST_CACHE = "requests.jsonl"
MANIFESTED = ("run.json", "results.json", "samples.jsonl", "energy.json", REQUEST_CACHE)
"""The files a run writes, the evidence `manifest.json` covers. Reports and anything else
added to the folder later are outside it by this rule."""


def load_schema(name: str) -> dict[str, Any]:
    """One of the packaged JSON Schemas (run, results, energy, sample, manifest)."""
    return json.loads(files("audit.runfolder.schemas").joinpath(name).read_text())


@lru_cache(maxsize=1)
def _sample_validator() -> jsonschema.protocols.Validator:
    schema = load_schema("sample.schema.json")
    return jsonschema.validators.validator_for(schema)(schema)


def check_run_id(run_id: str) -> str:
    """A run id is a plain folder name: no separators, no '..', so it cannot escape reports/."""
    if not RUN_ID_PATTERN.match(run_id) or ".." in run_id:
        raise RunFolderError(
            f"invalid run id {run_id!r}",
            fix="use letters, digits, '.', '_' and '-' only (no slashes, no '..').")
    return run_id


def atomic_write_text(path: Path, text: str) -> None:
    """Write `text` to `path` so that readers see the old or the new content, never a mix.

    On failure (a full disk, a read-only folder) the old file is untouched and no temporary
    file is left behind.
    """
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise RunFolderError(f"cannot write {path}: the text holds a lone surrogate "
                             f"({exc.object[exc.start:exc.end]!r}), which UTF-8 cannot encode",
                             fix="pass the text through `clean_text` first; this is a bug in "
                                 "fm-audit, please report it.") from exc
    temporary: str | None = None
    try:
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        os.chmod(temporary, 0o644)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
        temporary = None
    except OSError as exc:
        raise RunFolderError(
            f"cannot write {path}: {exc.strerror}",
            fix="free disk space or choose a writable output directory with --out; results "
                "computed so far are kept in the request cache and a rerun with --resume "
                "continues.") from exc
    finally:
        if temporary is not None:
            Path(temporary).unlink(missing_ok=True)


def _decode(raw: bytes, where: str) -> Any:
    """JSON from untrusted bytes: invalid UTF-8 shown as U+FFFD (with a warning), lone
    surrogates cleaned."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        log.warning("%s is not valid UTF-8; the invalid bytes are shown as U+FFFD", where)
        text = raw.decode("utf-8", "replace")
    document = json.loads(text)
    return clean_text(document) if "\\ud" in text.lower() else document


def _validate(name: str, document: dict[str, Any], path: Path) -> None:
    schema = SCHEMAS.get(name)
    if schema is None:
        return
    try:
        jsonschema.validate(document, load_schema(schema))
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "(top level)"
        raise RunFolderError(f"{path} does not match its schema at {where}: {exc.message}",
                             fix="the file was edited by hand or written by another tool; "
                                 "restore it or rerun the audit.") from exc


class RunFolder:
    """Reading and writing one run folder."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    @property
    def run_id(self) -> str:
        return self.path.name

    @classmethod
    def create(cls, reports_dir: Path, run_id: str) -> RunFolder:
        """A new, empty run folder under `reports_dir`; refuses to overwrite an existing one.

        A folder left by a run that ended before writing its run.json (nothing in it but
        hidden lock and temporary files) holds no evidence and is reused.
        """
        folder = Path(reports_dir) / check_run_id(run_id)
        try:
            folder.mkdir(parents=True, exist_ok=False)
        except FileExistsError as exc:
            if folder.is_dir() and all(p.name.startswith(".") for p in folder.iterdir()):
                return cls(folder)
            raise RunFolderError(f"run folder {folder} already exists",
                                 fix="continue it with --resume, or choose another --run-id."
                                 ) from exc
        except OSError as exc:
            raise RunFolderError(f"cannot create {folder}: {exc.strerror}",
                                 fix="choose a writable output directory with --out.") from exc
        return cls(folder)

    @classmethod
    def open(cls, reports_dir: Path, run: str) -> RunFolder:
        """An existing run folder, by path or by run id under `reports_dir`."""
        candidate = Path(run)
        if not (candidate / "run.json").is_file():
            candidate = Path(reports_dir) / check_run_id(run)
        if not (candidate / "run.json").is_file():
            raise RunFolderError(f"no run folder at {run!r} (looked for run.json)",
                                 fix="give a run folder path or a run id under the reports "
                                     "directory; `fm-audit show` lists runs.")
        return cls(candidate)

    def write_json(self, name: str, document: dict[str, Any]) -> None:
        _validate(name, document, self.path / name)
        atomic_write_text(self.path / name, json.dumps(document, indent=2, ensure_ascii=False,
                                                       allow_nan=False) + "\n")

    def read_json(self, name: str) -> dict[str, Any]:
        path = self.path / name
        try:
            document = _decode(path.read_bytes(), str(path))
        except FileNotFoundError as exc:
            raise RunFolderError(f"{path} is missing",
                                 fix="the run did not finish; resume it with --resume.") from exc
        except json.JSONDecodeError as exc:
            raise RunFolderError(f"{path} is not valid JSON: {exc}",
                                 fix="restore the file or rerun the audit.") from exc
        version = document.get("schema_version") if isinstance(document, dict) else None
        if isinstance(version, int) and version > SCHEMA_VERSION:
            raise RunFolderError(
                f"{path} has schema version {version}, newer than this fm-audit "
                f"understands ({SCHEMA_VERSION})",
                fix="upgrade fm-audit to read this run.")
        if not isinstance(document, dict):
            raise RunFolderError(f"{path} is not a JSON object", fix="restore the file.")
        _validate(name, document, path)
        return document

    def has(self, name: str) -> bool:
        return (self.path / name).is_file()

    def run(self) -> RunRecord:
        """run.json as a typed record (checked against its schema first)."""
        return RunRecord.model_validate(self.read_json("run.json"))

    def manifest(self) -> Manifest:
        """manifest.json as a typed record (checked against its schema first)."""
        return Manifest.model_validate(self.read_json("manifest.json"))

    def sha256(self, name: str) -> str:
        """The sha256 of one of the folder's files: its identity as evidence."""
        return sha256_file(self.path / name)

    def write_samples(self, records: list[dict[str, Any]]) -> None:
        """Replace samples.jsonl (atomically) with `records`."""
        text = "".join(json.dumps(r, ensure_ascii=False, allow_nan=False) + "\n" for r in records)
        atomic_write_text(self.path / "samples.jsonl", text)

    def iter_samples(self) -> Iterator[dict[str, Any]]:
        """Every sample record, checked to be an object naming its suite and item id."""
        path = self.path / "samples.jsonl"
        if not path.exists():
            return
        with open(path, "rb") as handle:
            for number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                try:
                    record = _decode(line, f"{path} line {number}")
                except json.JSONDecodeError as exc:
                    raise RunFolderError(f"{path} line {number} is not valid JSON",
                                         fix="restore the file or rerun the audit.") from exc
                if not isinstance(record, dict):
                    raise RunFolderError(f"{path} line {number} is not a JSON object",
                                         fix="restore the file or rerun the audit.")
                problem = next(_sample_validator().iter_errors(record), None)
                if problem is not None:
                    where = "/".join(str(p) for p in problem.absolute_path) or "(top level)"
                    raise RunFolderError(
                        f"{path} line {number} does not match the sample schema at {where}: "
                        f"{problem.message}",
                        fix="every sample names its suite, item id, requests, responses, "
                            "scores and group; restore the file or rerun the audit.")
                yield record

    def write_manifest(self) -> None:
        """sha256 of the run's own files (`MANIFESTED`), so the evidence can be verified
        after the fact; reports written into the folder later are not evidence."""
        entries = {name: sha256_file(self.path / name) for name in MANIFESTED
                   if self.has(name)}
        self.write_json("manifest.json", {"schema_version": SCHEMA_VERSION, "sha256": entries})


def list_runs(reports_dir: Path) -> list[RunFolder]:
    """Run folders under `reports_dir`, newest first."""
    root = Path(reports_dir)
    if not root.is_dir():
        return []
    runs = [RunFolder(p) for p in root.iterdir() if (p / "run.json").is_file()]
    return sorted(runs, key=lambda r: r.path.stat().st_mtime, reverse=True)
