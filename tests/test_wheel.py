"""The wheel installs anywhere: it carries the suites, their data and the dashboard.

The wheel is built from a copy of the sources (so no build/ folder is left in the checkout
and no stale one is reused), installed with `pip install --no-deps --target`, and run from an
empty directory with only the install on PYTHONPATH.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BUILD_INPUTS = ("pyproject.toml", "setup.py", "README.md")
# Where each top-level folder of the checkout lands inside the installed package.
INSTALLED_AS = {"audit": "audit", "suites": "audit/_bundled/suites",
                "dashboard": "audit/_bundled/dashboard"}


def _source_files(folder: str) -> list[str]:
    return sorted(p.relative_to(ROOT / folder).as_posix() for p in (ROOT / folder).rglob("*")
                  if p.is_file() and "__pycache__" not in p.parts)


def _suite_names() -> list[str]:
    root = ROOT / "suites"
    return sorted(p.parent.relative_to(root).as_posix() for p in root.rglob("suite.yaml"))


def _run(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    assert result.returncode == 0, f"{command} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's wheel, built offline from a copy of the sources."""
    source = tmp_path_factory.mktemp("source")
    for name in BUILD_INPUTS:
        if (ROOT / name).is_file():
            shutil.copy2(ROOT / name, source / name)
    for folder in INSTALLED_AS:
        shutil.copytree(ROOT / folder, source / folder,
                        ignore=shutil.ignore_patterns("__pycache__"))
    out = tmp_path_factory.mktemp("wheel")
    _run([sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "--no-build-isolation",
          "--disable-pip-version-check", "-q", "-w", str(out)], cwd=source)
    (built,) = out.glob("fm_audit-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel installed into an empty folder of its own."""
    target = tmp_path_factory.mktemp("site")
    _run([sys.executable, "-m", "pip", "install", "--no-deps", "--disable-pip-version-check",
          "-q", "--target", str(target), str(wheel)], cwd=target)
    return target


def _outside_checkout(installed: Path, tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """An empty working directory and an environment where only the install provides `audit`."""
    cwd = tmp_path / "elsewhere"
    cwd.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FM_AUDIT_")}
    env["PYTHONPATH"] = str(installed)
    return cwd, env


@pytest.mark.slow
def test_wheel_carries_every_file_of_the_package_the_suites_and_the_dashboard(
        wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for folder, inside in INSTALLED_AS.items():
        missing = [f for f in _source_files(folder) if f"{inside}/{f}" not in names]
        assert not missing, f"{folder}/ files missing from the wheel (as {inside}/): {missing}"
    top_level = {name.split("/")[0] for name in names if not name.startswith("fm_audit-")}
    assert top_level == {"audit"}, "the wheel must add no top-level package but audit"


@pytest.mark.slow
def test_installed_wheel_lists_every_suite_from_an_empty_directory(installed: Path,
                                                                  tmp_path: Path) -> None:
    cwd, env = _outside_checkout(installed, tmp_path)
    listing = _run([sys.executable, "-m", "audit.cli", "suites"], cwd=cwd, env=env)
    assert f"Suites (from {installed / 'audit' / '_bundled' / 'suites'} " in listing
    listed = {line.split()[0] for line in listing.splitlines()[1:] if line.strip()}
    assert set(_suite_names()) <= listed


@pytest.mark.slow
def test_installed_wheel_serves_its_own_dashboard(installed: Path, tmp_path: Path) -> None:
    cwd, env = _outside_checkout(installed, tmp_path)
    app = installed / "audit" / "_bundled" / "dashboard" / "app.py"
    assert app.is_file()
    probe = ("from pathlib import Path; from audit.cli import dashboard_command; "
             "import os, subprocess, sys; "
             "command, env = dashboard_command(Path('reports'), 'localhost', 8501); "
             "print(command[command.index('run') + 1]); sys.stdout.flush(); "
             "subprocess.run([sys.executable, '-c', 'import dashboard.ui as u; print(u.__file__)'],"
             " env=env, check=True)")
    app_path, ui_module = _run([sys.executable, "-c", probe], cwd=cwd, env=env).split()
    assert Path(app_path) == app
    assert Path(ui_module) == app.with_name("ui.py")


def test_a_checkout_finds_its_suites_and_dashboard_beside_audit(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from audit.cli import dashboard_command
    from audit.suites.discovery import SUITES_ENV, suites_root

    monkeypatch.delenv(SUITES_ENV, raising=False)
    monkeypatch.delenv("PYTHONPATH", raising=False)
    assert suites_root() == ROOT / "suites"
    command, env = dashboard_command(Path("reports"), "localhost", 8501)
    assert Path(command[command.index("run") + 1]) == ROOT / "dashboard" / "app.py"
    assert env["PYTHONPATH"] == str(ROOT)
