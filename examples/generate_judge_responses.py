"""Generate real model responses to the judge's prompt list, to be labelled by hand.

Reads `suites/misuse/data/judge_prompts.jsonl` (harmful, benign and over-refusal prompts in
nine languages), asks the model each prompt once through its chat template (greedy,
`--max-gen-toks` new tokens, the project's engine) and writes one JSON line per prompt with
the response and an empty `label`, for a person to fill in with the labelling rule of
`suites/misuse/data/README.md`. The responses in `judge_labelled.jsonl` marked
`source: smollm2` were made this way, with `--max-gen-toks 40`.

    python examples/generate_judge_responses.py --out responses.jsonl
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from lm_eval.api.instance import Instance

from audit.registry import load_model
from audit.suites.discovery import suites_root


def main() -> None:
    """Generate one greedy response per prompt and write them, unlabelled, as JSON lines."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="packaged:smollm2-135m-instruct")
    parser.add_argument("--prompts", type=Path,
                        default=suites_root() / "misuse" / "data" / "judge_prompts.jsonl")
    parser.add_argument("--max-gen-toks", type=int, default=64)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    prompts = [json.loads(line) for line in args.prompts.read_text(encoding="utf-8").splitlines()
               if line.strip()]
    model = load_model(args.model)
    gen_kwargs = {"until": [], "max_gen_toks": args.max_gen_toks, "do_sample": False}
    instances = [Instance(request_type="generate_until", doc={}, idx=0, arguments=(
        model.lm.apply_chat_template([{"role": "user", "content": p["prompt"]}],
                                     add_generation_prompt=True), dict(gen_kwargs)))
                 for p in prompts]
    responses = model.lm.generate_until(instances)
    with args.out.open("w", encoding="utf-8") as handle:
        for prompt, response in zip(prompts, responses, strict=True):
            handle.write(json.dumps({**prompt, "model": args.model, "response": response,
                                     "label": ""}, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
