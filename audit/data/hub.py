"""Can bundled lm-eval tasks reach their Hugging Face data? Answer in seconds, not minutes.

lm-eval's own task definitions (hellaswag, arc_easy, ...) download their data from the
Hugging Face Hub. Offline, the datasets library retries for a long time before failing, so a
suite asks here first and reports those tasks as skipped, with this reason, when the answer is no.
"""

from __future__ import annotations

import os
import socket
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from urllib.parse import urlparse

PROBE_TIMEOUT_S = 3.0
_OFFLINE_FLAGS = ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE")


def offline_flag() -> str | None:
    """The offline-mode variable the user set, if any (then only local caches are used)."""
    return next((flag for flag in _OFFLINE_FLAGS
                 if os.environ.get(flag, "").strip().lower() in ("1", "true", "yes", "on")), None)


def _connect(host: str, port: int, timeout: float) -> None:
    with socket.create_connection((host, port), timeout=timeout):
        pass


def hub_unreachable_reason(timeout: float = PROBE_TIMEOUT_S) -> str | None:
    """None when the Hub's endpoint accepts a connection within `timeout`, else why not."""
    from huggingface_hub import constants

    endpoint = urlparse(constants.ENDPOINT)
    host, port = endpoint.hostname or "", endpoint.port or (443 if endpoint.scheme == "https"
                                                           else 80)
    pool = ThreadPoolExecutor(max_workers=1)  # name resolution itself can hang: bound it too
    try:
        pool.submit(_connect, host, port, timeout).result(timeout=timeout)
    except FutureTimeout:
        return f"the Hugging Face Hub ({host}) did not answer within {timeout:.0f} s"
    except OSError as exc:
        return f"the Hugging Face Hub ({host}) cannot be reached: {exc}"
    finally:
        pool.shutdown(wait=False)
    return None
