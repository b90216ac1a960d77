"""Counting words, characters, bytes and scripts in text, the same way for every language."""

from __future__ import annotations

import unicodedata
from typing import Any

# ISO 15924 code -> prefix of the Unicode character names of that script's letters.
SCRIPT_NAME_PREFIXES: dict[str, tuple[str, ...]] = {
    "Latn": ("LATIN",),
    "Arab": ("ARABIC",),
    "Deva": ("DEVANAGARI",),
    "Beng": ("BENGALI",),
    "Ethi": ("ETHIOPIC",),
    "Hans": ("CJK UNIFIED IDEOGRAPH", "CJK COMPATIBILITY IDEOGRAPH"),
    "Hant": ("CJK UNIFIED IDEOGRAPH", "CJK COMPATIBILITY IDEOGRAPH"),
}
# Scripts written without spaces between words: whitespace word counts mean nothing there.
UNSPACED_SCRIPTS = frozenset({"Hans", "Hant", "Jpan", "Thai", "Khmr", "Laoo", "Mymr"})


def is_word_character(character: str) -> bool:
    """Letters, marks and digits (Unicode categories L*, M*, N*)."""
    return unicodedata.category(character)[0] in "LMN"


def count_words(text: str) -> int:
    """Whitespace-separated chunks that hold at least one letter or digit."""
    return sum(1 for chunk in text.split() if any(is_word_character(c) for c in chunk))


def count_characters(text: str) -> int:
    """Unicode code points that are not whitespace (spacing differs between scripts)."""
    return sum(1 for c in text if not c.isspace())


def count_bytes(text: str) -> int:
    """UTF-8 bytes: the denominator of bits per byte."""
    return len(text.encode("utf-8"))


def count_tokens(tokenizer: Any, text: str) -> int:
    """Tokens the model's tokenizer makes of `text`, without special tokens."""
    return len(tokenizer(text, add_special_tokens=False)["input_ids"])


def script_of(character: str) -> str | None:
    """The ISO 15924 code of a letter's script among those known here, else None."""
    if not character.isalpha():
        return None
    name = unicodedata.name(character, "")
    for script, prefixes in SCRIPT_NAME_PREFIXES.items():
        if name.startswith(prefixes):
            return script
    return None


def script_share(text: str, script: str) -> float | None:
    """Share of the letters of `text` written in `script`; None when it has no letters."""
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return None
    wanted = SCRIPT_NAME_PREFIXES[script]
    return sum(1 for c in letters if unicodedata.name(c, "").startswith(wanted)) / len(letters)


def latin_words(text: str) -> list[str]:
    """Whitespace chunks whose letters are all Latin (foreign words in a non-Latin text)."""
    found = []
    for chunk in text.split():
        letters = [c for c in chunk if c.isalpha()]
        if letters and all(script_of(c) == "Latn" for c in letters):
            found.append(chunk)
    return found


def content_lines(text: str) -> list[str]:
    """Lines of `text` that hold at least one letter (blank and number-only lines dropped)."""
    return [line.strip() for line in text.splitlines() if any(c.isalpha() for c in line)]
