"""Parse a GGUF file once per load instead of once per transformers call.

Loading a GGUF checkpoint, transformers reads the file's metadata afresh for the config, the
tokenizer and the weights (three parses of a 49,152-entry vocabulary for SmolLM2), and rebuilds
gguf's tensor-name map for every module it visits (about 400 times). Measured on 2 CPU cores,
that is 42 of the 56 seconds of SmolLM2's one-time conversion. Inside `parse_gguf_once`, both
are memoised; the values are the same objects transformers would build, so the loaded weights
are unchanged.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def parse_gguf_once() -> Iterator[None]:
    """Within the block, `gguf.GGUFReader(path)` returns one shared reader per file and
    `gguf.get_tensor_name_map` is cached (transformers imports both from `gguf` at call time)."""
    import gguf

    make_reader, name_map = gguf.GGUFReader, gguf.get_tensor_name_map
    readers: dict[tuple[str, str], Any] = {}

    def shared_reader(path: str | os.PathLike[str], mode: str = "r") -> Any:
        key = (os.fspath(path), mode)
        if key not in readers:
            readers[key] = make_reader(path, mode)
        return readers[key]

    gguf.GGUFReader = shared_reader
    gguf.get_tensor_name_map = functools.cache(name_map)
    try:
        yield
    finally:
        gguf.GGUFReader, gguf.get_tensor_name_map = make_reader, name_map
