"""Find suites: one folder per suite under `suites/` (with a `suite.yaml`), plus plugins.

Plugins register through the entry-point group `fm_audit.suites`; an entry resolves to either
a suite folder (a path) or a callable returning a `Suite`.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable
from importlib.metadata import entry_points
from pathlib import Path

from audit.errors import SuiteError
from audit.paths import bundle_root
from audit.suites.base import Suite
from audit.suites.lmeval import LmEvalSuite
from audit.suites.spec import SPEC_FILE, SuiteSpec, load_spec

ENTRY_POINT_GROUP = "fm_audit.suites"
SUITES_ENV = "FM_AUDIT_SUITES"


def suites_root() -> Path:
    """The folder of suite definitions: `$FM_AUDIT_SUITES`, else the `suites/` that ships with
    fm-audit (in the checkout or inside the installed package; see `audit.paths.bundle_root`)."""
    return Path(os.environ.get(SUITES_ENV) or bundle_root() / "suites")


def _load_implementation(spec: SuiteSpec) -> type[Suite]:
    file_name, _, class_name = spec.implementation.partition(":")
    path = (spec.directory or Path()) / file_name
    if not file_name or not class_name or not path.is_file():
        raise SuiteError(
            f"suite {spec.name}: implementation {spec.implementation!r} not found",
            fix=f"set `implementation: <file>.py:<ClassName>` in {spec.directory}/{SPEC_FILE} "
                "to a file in the suite folder.")
    module_name = "fm_audit_suite_" + spec.name.replace("/", "_").replace("-", "_")
    module_spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(module_spec)  # type: ignore[arg-type]
    module_spec.loader.exec_module(module)  # type: ignore[union-attr]
    cls = getattr(module, class_name, None)
    if not (isinstance(cls, type) and issubclass(cls, Suite)):
        raise SuiteError(f"suite {spec.name}: {spec.implementation} is not a Suite subclass",
                         fix=f"define `class {class_name}(audit.suites.base.Suite)` in {path}.")
    return cls


def build_suite(spec: SuiteSpec) -> Suite:
    """The runnable suite for a spec."""
    if spec.kind == "lm_eval":
        return LmEvalSuite(spec)
    return _load_implementation(spec)(spec)


def _folder_suites(root: Path) -> dict[str, Callable[[], Suite]]:
    found: dict[str, Callable[[], Suite]] = {}
    for spec_file in sorted(root.rglob(SPEC_FILE)):
        folder = spec_file.parent
        name = folder.relative_to(root).as_posix()
        found[name] = lambda folder=folder, name=name: build_suite(load_spec(folder, name))
    return found


def available() -> dict[str, Callable[[], Suite]]:
    """Every known suite name with a factory that builds it (specs are read lazily)."""
    found = _folder_suites(suites_root())
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        target = entry.load()
        if isinstance(target, (str, Path)):
            found[entry.name] = (lambda folder=Path(target), name=entry.name:
                                 build_suite(load_spec(folder, name)))
        else:
            found[entry.name] = target
    return found


FAMILY_PREFIX = "family:"
SELECTION_RULE = ("a suite's exact name selects that suite alone; `NAME/` (or a NAME that is "
                  "no suite) selects every suite in the folder NAME, NAME included; "
                  "`family:NAME` selects every suite of that family")


def _matches(wanted: str, known: dict[str, Callable[[], Suite]]) -> list[str]:
    """The suite names one requested name selects, by `SELECTION_RULE`; empty when none."""
    if wanted.startswith(FAMILY_PREFIX):
        family = wanted.removeprefix(FAMILY_PREFIX)
        return [n for n in known if known[n]().spec.family == family]
    if wanted in known:
        return [wanted]
    folder = wanted.rstrip("/")
    return [n for n in known if n == folder or n.startswith(folder + "/")]


def select(requested: list[str]) -> list[Suite]:
    """Suites matching each requested name, by `SELECTION_RULE`: an exact suite name wins over
    a folder of the same name (`multilingual` is one suite, `multilingual/` the folder with
    `multilingual/translation`), so a run never gets a suite it did not name."""
    known = available()
    chosen: dict[str, Suite] = {}
    for wanted in requested:
        matches = _matches(wanted, known)
        if not matches:
            families = sorted({known[n]().spec.family for n in known})
            raise SuiteError(f"unknown suite {wanted!r}: it is no suite, suite folder or "
                             "family:NAME",
                             fix=f"use one of: {', '.join(sorted(known))}, a folder such as "
                                 f"'multilingual/', or one of "
                                 f"{', '.join(FAMILY_PREFIX + f for f in families)}; "
                                 "see `fm-audit suites`.")
        for name in matches:
            if name not in chosen:
                chosen[name] = known[name]()
    return list(chosen.values())
