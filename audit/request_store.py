"""A request cache shared by all runs: (model numerics, request) -> response, in SQLite.

The run folder's own `requests.jsonl` makes one run resumable; this store lets a new run of
the same model skip every request any earlier run already answered. It lives under the user
cache directory. SQLite gives what a shared file needs: each batch of answers is written in
one transaction (a killed process leaves no torn record), and concurrent runs wait for each
other's write lock instead of interleaving bytes.

Keys cover everything that changes a number: the sha256 of the weights, the dtype, the device
kind and the engine's numerics (its version, and on a CPU the thread count). Models without
hashed weight files (a hub id) are not cached here, because their weights could change under
the same name.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from audit.engine.settings import engine_numerics
from audit.models.base import ModelProvenance
from audit.paths import cache_dir

log = logging.getLogger(__name__)

STORE_FILE = "requests.sqlite"
BUSY_TIMEOUT_S = 60.0


def numerics_identity(provenance: ModelProvenance) -> str | None:
    """What decides the numbers a model gives: hashed weights, dtype, device kind, engine
    numerics (with the CPU thread count). None when the weights are not identified by a hash."""
    if not provenance.files:
        return None
    device = (provenance.device or "cpu").split(":")[0]
    return "|".join([provenance.fingerprint, str(provenance.dtype), device,
                     engine_numerics(device)])


class SharedRequestStore:
    """Responses keyed by sha256(numerics identity + request text), safe to share."""

    def __init__(self, identity: str, path: Path | None = None) -> None:
        self.identity = identity
        self.path = Path(path) if path is not None else cache_dir() / STORE_FILE
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._connection = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S)
        self._connection.execute("PRAGMA journal_mode=WAL")
        self._connection.execute(
            "CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, response TEXT NOT NULL)")
        self._connection.commit()

    def key(self, request_key: str) -> str:
        """The store key of a request (given as `Request.key()`)."""
        return hashlib.sha256(f"{self.identity}\n{request_key}".encode()).hexdigest()

    def get_many(self, request_keys: list[str]) -> dict[str, Any]:
        """Stored responses of the requests that have one, keyed by request key."""
        found: dict[str, Any] = {}
        by_store_key = {self.key(k): k for k in request_keys}
        keys = list(by_store_key)
        for start in range(0, len(keys), 500):
            part = keys[start:start + 500]
            marks = ",".join("?" * len(part))
            rows = self._connection.execute(
                f"SELECT key, response FROM responses WHERE key IN ({marks})", part)
            for store_key, response in rows:
                found[by_store_key[store_key]] = json.loads(response)
        return found

    def put_many(self, items: Iterable[tuple[str, Any]]) -> None:
        """Store (request key, response) pairs in one transaction."""
        rows = [(self.key(k), json.dumps(v, ensure_ascii=False)) for k, v in items]
        with self._connection:
            self._connection.executemany(
                "INSERT OR IGNORE INTO responses (key, response) VALUES (?, ?)", rows)

    def close(self) -> None:
        self._connection.close()
