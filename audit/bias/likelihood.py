"""Likelihood comparisons shared by the bias benchmarks.

Two request shapes cover all of them: the log-likelihood of a whole sentence (CrowS-Pairs,
StereoSet: compare sentences that differ in one word) and the log-likelihood of each answer
option after a prompt (BBQ, WinoBias: pick the most likely option).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from audit.suites.base import Request


def sentence_request(text: str) -> Request:
    """Log-likelihood of a whole sentence, as lm-eval's crows_pairs task requests it.

    The context is empty, so an lm-eval model scores every token of the sentence after its
    own start token (a causal model has no other way to score the first word).
    """
    return Request("loglikelihood", ("", text))


def choice_requests(prompt: str, options: Sequence[str]) -> list[Request]:
    """Log-likelihood of each option as the continuation of `prompt` (lm-eval multiple choice,
    with its default one-space target delimiter)."""
    return [Request("loglikelihood", (prompt, " " + option)) for option in options]


def logliks(responses: Sequence[Any]) -> list[float]:
    """The summed log-probabilities from stored loglikelihood responses ([logprob, greedy])."""
    return [float(response[0]) for response in responses]


def best_choice(values: Sequence[float]) -> int:
    """Index of the highest value; the first on a tie, as numpy's argmax in lm-eval."""
    return max(range(len(values)), key=lambda index: (values[index], -index))
