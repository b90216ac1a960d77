"""peft: URIs: a LoRA adapter trained here changes SmolLM2's log-likelihoods; an untrained one
does not; every way a user can give a wrong adapter is named."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from audit.errors import ModelLoadError, UnknownModelError
from audit.models.base import LoadOptions
from audit.registry import load_model, schemes

SMOLLM2 = "packaged:smollm2-135m-instruct"
TEXTS = ["Habari ya asubuhi, rafiki yangu.", "Tunakula wali na samaki leo."]
EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "finetune_lora.py"


def _example():
    """The example training script, imported so the tests train with its own code."""
    spec = importlib.util.spec_from_file_location("finetune_lora", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def _rolling(loaded, texts: list[str]) -> list[float]:
    from lm_eval.api.instance import Instance

    return loaded.lm.loglikelihood_rolling(
        [Instance(request_type="loglikelihood_rolling", doc={}, arguments=(t,), idx=0)
         for t in texts])


def test_peft_scheme_is_registered() -> None:
    assert "peft" in schemes()


def test_missing_adapter_part_shows_the_form() -> None:
    with pytest.raises(UnknownModelError, match=r"\+<adapter dir>"):
        load_model(f"peft:{SMOLLM2}")


def test_base_without_weights_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UnknownModelError, match="no transformers weights"):
        load_model(f"peft:nosuch:thing+{tmp_path}")


def test_missing_adapter_directory_is_named(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match="adapter directory not found"):
        load_model(f"peft:{SMOLLM2}+{tmp_path / 'absent'}")


def test_pickle_adapter_is_refused(tmp_path: Path) -> None:
    (tmp_path / "adapter_config.json").write_text(json.dumps({"peft_type": "LORA"}))
    (tmp_path / "adapter_model.bin").write_bytes(b"not really a pickle")
    with pytest.raises(ModelLoadError, match="allow-pickle"):
        load_model(f"peft:{SMOLLM2}+{tmp_path}")


@pytest.fixture(scope="module")
def adapters(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Adapters saved by the example's own trainer: one trained for a step, one untrained
    (LoRA starts with B = 0, an exact no-op), and one made for a smaller Llama."""
    from peft import LoraConfig, get_peft_model
    from transformers import LlamaConfig, LlamaForCausalLM

    from audit.models.schemes import load_weights

    example = _example()
    root = tmp_path_factory.mktemp("adapters")
    made = {}
    weights = load_weights(SMOLLM2, LoadOptions(device="cpu"))
    base = weights.model
    for name, epochs in (("untrained", 0), ("trained", 1)):
        model, _ = example.train_lora(base, weights.tokenizer, TEXTS, epochs=epochs,
                                      learning_rate=5e-3, rank=4, top_layers=2)
        model.save_pretrained(root / name)
        made[name] = root / name
        base = model.unload()
    tiny = LlamaForCausalLM(LlamaConfig(vocab_size=128, hidden_size=32, intermediate_size=64,
                                        num_hidden_layers=2, num_attention_heads=2))
    other = get_peft_model(tiny, LoraConfig(r=4, target_modules=example.TARGET_MODULES))
    other.save_pretrained(root / "other-base")
    made["other-base"] = root / "other-base"
    return made


@pytest.mark.slow
def test_trained_adapter_changes_loglikelihoods(smollm2, adapters) -> None:
    tuned = load_model(f"peft:{SMOLLM2}+{adapters['trained']}", LoadOptions(device="cpu"))
    base_ll, tuned_ll = _rolling(smollm2, TEXTS), _rolling(tuned, TEXTS)
    assert all(abs(a - b) > 1e-3 for a, b in zip(base_ll, tuned_ll, strict=True))
    assert sum(tuned_ll) > sum(base_ll)  # a step on these texts makes them likelier
    provenance = tuned.provenance
    assert provenance.scheme == "peft"
    assert [f["role"] for f in provenance.files[:3]] == [
        "adapter weights", "adapter config", "base gguf weights"]
    assert provenance.files[2]["sha256"] == smollm2.provenance.files[0]["sha256"]
    assert provenance.fingerprint != smollm2.provenance.fingerprint
    assert provenance.extra["base"]["uri"] == SMOLLM2
    assert provenance.extra["adapter"]["config"]["base_model_name_or_path"] == SMOLLM2


@pytest.mark.slow
def test_untrained_adapter_leaves_loglikelihoods_unchanged(smollm2, adapters) -> None:
    tuned = load_model(f"peft:{SMOLLM2}+{adapters['untrained']}", LoadOptions(device="cpu"))
    assert _rolling(tuned, TEXTS) == pytest.approx(_rolling(smollm2, TEXTS), abs=1e-4)


@pytest.mark.slow
def test_adapter_for_another_base_is_named(adapters) -> None:
    with pytest.raises(ModelLoadError, match="does not fit"):
        load_model(f"peft:{SMOLLM2}+{adapters['other-base']}", LoadOptions(device="cpu"))
