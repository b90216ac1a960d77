"""Shared fixtures: the real SmolLM2 model and one small real run, each made once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from audit.config import RunConfig
from audit.models.base import LoadedModel, LoadOptions
from audit.registry import load_model
from audit.runfolder import RunFolder

SMOLLM2 = "packaged:smollm2-135m-instruct"


@pytest.fixture(scope="session")
def smollm2() -> LoadedModel:
    """The real SmolLM2-135M-Instruct, loaded through the registry (fetched once, cached)."""
    return load_model(SMOLLM2, LoadOptions(device="cpu"))


@pytest.fixture(scope="session")
def reports_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("reports")


@pytest.fixture(scope="session")
def small_run(reports_dir: Path) -> RunFolder:
    """A complete run of the real engine on SmolLM2, a few items per suite."""
    from audit.runner import run_audit

    config = RunConfig(model=SMOLLM2, suites=["capability/core_mc"], limit=6, device="cpu",
                       out=reports_dir, run_id="small-run")
    return run_audit(config)



@pytest.fixture(scope="session")
def chat_run(small_run: RunFolder, reports_dir: Path) -> RunFolder:
    """A second real run of `small_run`'s items with the chat template on (other prompts,
    same items): the real pair that comparisons are tested on."""
    from audit.runner import run_audit

    return run_audit(RunConfig.model_validate(dict(small_run.read_json("run.json")["config"],
                                                   run_id="small-run-chat",
                                                   chat_template="on")))


@pytest.fixture(scope="session")
def dashboard_reports(tmp_path_factory: pytest.TempPathFactory, small_run: RunFolder,
                      chat_run: RunFolder) -> Path:
    """A reports directory for the dashboard tests: copies of `small_run` and `chat_run`, and
    a copy of `small_run` with hand-made multilingual and misuse suites added
    (tests/dashboard_runs.py)."""
    import shutil

    from tests.dashboard_runs import derived_run

    root = tmp_path_factory.mktemp("dashboard-reports")
    for run in (small_run, chat_run):
        shutil.copytree(run.path, root / run.run_id)
    derived_run(small_run, root, "derived-run")
    return root


MODEL_FIXTURES = frozenset({"smollm2", "small_run", "chat_run", "dashboard_reports"})
"""The fixtures above that load the real model, directly or through a run."""


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark `slow` every test that uses a model fixture, before `-m "not slow"` deselects,
    so that `make test-fast` never loads the model because a mark was forgotten."""
    for item in items:
        if MODEL_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)
