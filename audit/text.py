"""Text from untrusted JSON made writable: lone surrogates replaced.

Used by the run folder as it reads files and by the request cache as it reads records, so
every renderer and every writer can encode what they get as UTF-8.
"""

from __future__ import annotations

import re
from typing import Any

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def clean_text(value: Any) -> Any:
    """`value` with every lone surrogate in its strings replaced by U+FFFD.

    JSON may spell a lone surrogate (`"\\ud800"`) that no UTF-8 file, page or terminal can
    hold; run-folder text is cleaned as it is read so that every renderer can write it.
    """
    if isinstance(value, str):
        return _LONE_SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [clean_text(v) for v in value]
    if isinstance(value, dict):
        return {clean_text(k): clean_text(v) for k, v in value.items()}
    return value
