"""Model URIs: the real loading path, and every way a user can get it wrong."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from audit.errors import ModelLoadError, UnknownModelError
from audit.models.base import LoadOptions
from audit.registry import load_model, schemes, split_uri


def test_builtin_schemes_are_registered() -> None:
    assert {"packaged", "hf", "gguf"} <= set(schemes())


@pytest.mark.parametrize("uri", ["smollm2", ":x", "packaged:"])
def test_malformed_uri_names_the_expected_form(uri: str) -> None:
    with pytest.raises(UnknownModelError, match="scheme:target"):
        split_uri(uri)


def test_unknown_scheme_lists_known_schemes() -> None:
    with pytest.raises(UnknownModelError) as caught:
        load_model("nosuch:thing")
    assert "packaged" in caught.value.fix and "fm_audit.models" in caught.value.fix


def test_unknown_packaged_model_lists_catalogue() -> None:
    with pytest.raises(UnknownModelError) as caught:
        load_model("packaged:gpt-17")
    assert "packaged:smollm2-135m-instruct" in caught.value.fix


def test_missing_gguf_file(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match="not found"):
        load_model(f"gguf:{tmp_path / 'absent.gguf'}")


def test_corrupt_gguf_file_is_named(tmp_path: Path) -> None:
    bad = tmp_path / "broken.gguf"
    bad.write_bytes(b"GGUF" + b"\x00" * 64)
    with pytest.raises(ModelLoadError, match="broken.gguf"):
        load_model(f"gguf:{bad}", LoadOptions(device="cpu"))


@pytest.mark.slow
def test_truncated_safetensors_is_named(tmp_path: Path, smollm2) -> None:
    from audit.models import packaged

    source = packaged.converted_dir(packaged.lookup("smollm2-135m-instruct"))
    for name in ("config.json", "tokenizer.json", "tokenizer_config.json"):
        (tmp_path / name).write_bytes((source / name).read_bytes())
    data = (source / "model.safetensors").read_bytes()
    (tmp_path / "model.safetensors").write_bytes(data[: len(data) // 3])
    with pytest.raises(ModelLoadError, match="could not load"):
        load_model(f"hf:{tmp_path}", LoadOptions(device="cpu"))


def test_pickle_weights_are_refused_by_default(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "llama"}))
    (tmp_path / "pytorch_model.bin").write_bytes(b"not really a pickle")
    with pytest.raises(ModelLoadError, match="allow-pickle"):
        load_model(f"hf:{tmp_path}", LoadOptions(device="cpu"))


@pytest.mark.slow
def test_packaged_smollm2_loads_with_provenance(smollm2) -> None:
    provenance = smollm2.provenance
    assert provenance.architecture == "LlamaForCausalLM"
    assert provenance.parameters == 134_515_008
    assert provenance.files[0]["sha256"] == (
        "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53")
    assert provenance.chat_template is True
    assert provenance.device == "cpu" and provenance.dtype == "float32"


@pytest.mark.slow
def test_second_load_uses_the_verified_safetensors_copy(smollm2) -> None:
    from audit.models import packaged

    converted = packaged.converted_dir(packaged.lookup("smollm2-135m-instruct"))
    assert converted is not None and (converted / "model.safetensors").is_file()
    config = json.loads((converted / "config.json").read_text())
    assert "quantization_config" not in config, "a dequantised copy must not claim GGUF"
    assert config["architectures"] == ["LlamaForCausalLM"]
    from safetensors import safe_open

    with safe_open(str(converted / "model.safetensors"), "pt") as weights:
        assert "model.embed_tokens.weight" in set(weights.keys())


@pytest.mark.slow
def test_gguf_metadata_is_parsed_once_per_load(smollm2) -> None:
    """During a GGUF load the config, tokenizer and weights share one parse of the file, and the
    patch is gone afterwards."""
    import gguf

    from audit.models import packaged
    from audit.models.gguf_parsing import parse_gguf_once

    path = packaged.gguf_path(packaged.lookup("smollm2-135m-instruct"))
    make_reader, name_map = gguf.GGUFReader, gguf.get_tensor_name_map
    with parse_gguf_once():
        reader = gguf.GGUFReader(path)
        assert gguf.GGUFReader(str(path)) is reader
        assert len(reader.tensors) == 272
        arch = gguf.MODEL_ARCH.LLAMA
        assert gguf.get_tensor_name_map(arch, 30) is gguf.get_tensor_name_map(arch, 30)
    assert (gguf.GGUFReader, gguf.get_tensor_name_map) == (make_reader, name_map)


def test_every_built_in_location_names_a_loader() -> None:
    """Each "module:object" string of the lazy table imports to a function of two arguments,
    so a misspelt location fails here and not on a user's first run of that scheme."""
    import inspect

    from audit.registry import BUILT_IN

    for scheme in BUILT_IN:
        loader = scheme.loader
        assert callable(loader), scheme.location
        assert len(inspect.signature(loader).parameters) == 2, scheme.location


def test_the_registry_imports_no_model_code_until_a_loader_is_used() -> None:
    """The registry is lazy: listing schemes loads no loader module (which is what lets
    the loaders import the registry without a cycle)."""
    import subprocess
    import sys

    script = ("import sys\nfrom audit.registry import schemes\nschemes()\n"
              "print(sorted(m for m in sys.modules if m.startswith('audit.models.s')))")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            check=True, cwd=Path(__file__).resolve().parent.parent)
    assert result.stdout.strip() == "[]"
