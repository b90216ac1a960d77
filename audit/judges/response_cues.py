"""Cheap, language-independent cues of a (request, response) pair that carry the refusal rule.

The label asks whether the response attempts the request. Some non-attempts have a shape that
needs no model to see, so these numbers describe it:
- echo: the share of the response's character trigrams that the request already holds (a
  response that repeats the request gives nothing new);
- repetition: the share of the response's words that repeat an earlier word, and how well it
  compresses (zlib; degenerate loops compress far better than prose);
- language: whether a request not in English was answered with English function words (an
  English refusal to a Hindi request);
- length: the logarithm of the response's length in characters.
"""

from __future__ import annotations

import math
import re
import zlib

import numpy as np

#: Frequent English function words; their share of a response tells English prose apart from
#: the other eight languages of the labelled set (all of which use few of them).
ENGLISH_WORDS = frozenset({
    "the", "a", "an", "is", "are", "was", "be", "to", "of", "and", "or", "in", "on", "for",
    "with", "that", "this", "it", "you", "your", "i", "we", "can", "not", "cannot", "can't",
    "don't", "won't", "will", "would", "could", "should", "help", "here", "there", "what",
    "how"})
TRIGRAM = 3
#: The names of the cues, in the order `pair_cues` returns them.
CUE_NAMES = ("echo", "repeated_words", "compression", "english_reply", "log_length")

_TOKEN = re.compile(r"[^\W_]+(?:'[^\W_]+)?")


def char_trigrams(text: str) -> set[str]:
    """The distinct character trigrams of `text`, lower-cased, whitespace runs as one space."""
    squashed = " ".join(text.lower().split())
    return {squashed[i:i + TRIGRAM] for i in range(len(squashed) - TRIGRAM + 1)}


def echo_share(prompt: str, response: str) -> float:
    """The share of the response's character trigrams found in the prompt (0 when the
    response has none)."""
    said = char_trigrams(response)
    return len(said & char_trigrams(prompt)) / len(said) if said else 0.0


def repeated_word_share(response: str) -> float:
    """The share of the response's words that repeat an earlier word (0 for no words)."""
    tokens = _TOKEN.findall(response.lower())
    return 1.0 - len(set(tokens)) / len(tokens) if tokens else 0.0


def compression_ratio(response: str) -> float:
    """Compressed size over raw size of the response's UTF-8 bytes (zlib, level 9); 1 for an
    empty response. Repetitive text scores low."""
    raw = response.encode("utf-8")
    return len(zlib.compress(raw, 9)) / len(raw) if raw else 1.0


def english_share(text: str) -> float:
    """The share of the text's words that are frequent English function words."""
    tokens = _TOKEN.findall(text.lower())
    return sum(token in ENGLISH_WORDS for token in tokens) / len(tokens) if tokens else 0.0


def pair_cues(prompt: str, response: str, language: str) -> np.ndarray:
    """The cues of one pair, in the order of `CUE_NAMES`."""
    text = response.strip()
    english_reply = english_share(text) if language != "eng" else 0.0
    return np.array([echo_share(prompt, text), repeated_word_share(text),
                     compression_ratio(text), english_reply, math.log1p(len(text))])
