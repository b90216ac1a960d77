"""Bad input battery: each case gives a clear AuditError naming the thing and the fix."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from audit.config import RunConfig
from audit.errors import AuditError, DatasetError
from audit.suites.base import SuiteContext
from audit.suites.discovery import select

TASK_YAML = """task: {task}
dataset_path: json
dataset_kwargs:
  data_files:
    test: items.jsonl
test_split: test
output_type: multiple_choice
doc_to_text: "Question: {{{{question}}}}\\nAnswer:"
doc_to_choice: "{{{{choices}}}}"
doc_to_target: answer
metric_list:
  - metric: acc
"""
SPEC_YAML = """family: capability
description: test suite
kind: lm_eval
tasks: [{task}]
metrics:
  acc: {{label: Accuracy, description: d, formula: f}}
"""


def _suite_folder(root: Path, task: str, items: list[dict]) -> None:
    folder = root / "capability" / task
    folder.mkdir(parents=True)
    (folder / "suite.yaml").write_text(SPEC_YAML.format(task=task))
    (folder / f"{task}.yaml").write_text(TASK_YAML.format(task=task))
    (folder / "items.jsonl").write_text("".join(json.dumps(i) + "\n" for i in items))


def test_empty_dataset_is_named(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("FM_AUDIT_SUITES", str(tmp_path))
    _suite_folder(tmp_path, "empty_task", [])
    suite = select(["capability/empty_task"])[0]
    with pytest.raises(DatasetError, match="empty_task") as caught:
        suite.build_samples(SuiteContext(model=None, limit=None))
    assert caught.value.fix


def test_items_lacking_a_field_are_named(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("FM_AUDIT_SUITES", str(tmp_path))
    _suite_folder(tmp_path, "broken_task", [{"question": "q?", "answer": 0}])
    suite = select(["capability/broken_task"])[0]
    with pytest.raises(DatasetError, match="broken_task") as caught:
        suite.build_samples(SuiteContext(model=None, limit=None))
    assert "choices" in str(caught.value)


def test_full_disk_keeps_the_previous_file_intact(tmp_path: Path) -> None:
    """A real write failure (the OS file-size limit, as on a full disk) loses nothing."""
    target = tmp_path / "results.json"
    target.write_text('{"old": true}')
    script = (
        "import resource, signal, sys\n"
        "from pathlib import Path\n"
        "from audit.errors import RunFolderError\n"
        "from audit.runfolder import atomic_write_text\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))\n"
        "try:\n"
        f"    atomic_write_text(Path({str(target)!r}), 'x' * 100000)\n"
        "except RunFolderError as error:\n"
        "    print('ERROR', error.message, '|', error.fix)\n"
        "    sys.exit(3)\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 3, result.stderr
    assert "cannot write" in result.stdout and "--resume" in result.stdout
    assert target.read_text() == '{"old": true}'
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]


@pytest.mark.slow
def test_nan_log_likelihoods_stop_the_run_with_a_clear_error(tmp_path: Path, smollm2) -> None:
    """A real model whose weights hold a NaN gives NaN log-likelihoods: the run says so."""
    from safetensors.torch import load_file, save_file

    from audit.models import packaged
    from audit.runner import run_audit

    source = packaged.converted_dir(packaged.lookup("smollm2-135m-instruct"))
    for name in ("config.json", "tokenizer.json", "tokenizer_config.json"):
        (tmp_path / name).write_bytes((source / name).read_bytes())
    weights = load_file(str(source / "model.safetensors"))
    weights["model.norm.weight"][0] = float("nan")
    save_file(weights, str(tmp_path / "model.safetensors"))
    config = RunConfig(model=f"hf:{tmp_path}", suites=["capability/core_mc"], limit=2,
                       device="cpu", out=tmp_path / "reports", run_id="nan-run")
    with pytest.raises(AuditError, match="non-finite log-likelihood") as caught:
        run_audit(config)
    assert "float32" in caught.value.fix
    run = json.loads((tmp_path / "reports" / "nan-run" / "run.json").read_text())
    assert run["status"] == "failed" and "non-finite" in run["error"]
    assert not (tmp_path / "reports" / "nan-run" / "results.json").exists()


def test_remote_code_models_are_refused_by_default(tmp_path: Path) -> None:
    from audit.errors import ModelLoadError
    from audit.registry import load_model

    (tmp_path / "config.json").write_text(json.dumps({
        "model_type": "custom-remote", "auto_map": {
            "AutoConfig": "modeling.CustomConfig",
            "AutoModelForCausalLM": "modeling.CustomModel"}}))
    (tmp_path / "modeling.py").write_text("raise SystemExit('remote code ran')\n")
    with pytest.raises(ModelLoadError, match="could not load"):
        load_model(f"hf:{tmp_path}")


def test_library_never_unpickles_with_torch_load() -> None:
    """torch.load is only allowed with weights_only=True anywhere in the library."""
    root = Path(__file__).resolve().parent.parent / "audit"
    offenders = []
    for path in root.rglob("*.py"):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if re.search(r"\btorch\.load\(", line) and "weights_only=True" not in line:
                offenders.append(f"{path.name}:{number}")
    assert offenders == []
