"""Response-language fidelity, after the Language Confusion Benchmark (Marchisio et al. 2024).

Line level: a response passes when every line that holds letters is identified (by lingua, an
offline n-gram language identifier) as the prompt's language. Word level: for languages not
written in Latin script, a response that passed line level passes word level when it holds no
word written in Latin script (LCB measures word-level confusion only there, and only on
responses without line-level errors). The combined fidelity is their harmonic mean (LCB's
LCPR); where word level cannot be measured it is the line-level rate.

Close languages are handled explicitly: lingua reads many Indonesian texts as Malay (Indonesian
is a standard form of the Malay macrolanguage) and some Hindi as Marathi (same script). Those
readings are accepted and counted separately, so a reader sees how much of the pass rate rests
on them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from audit.multilingual.items import Language
from audit.multilingual.text import content_lines, latin_words, script_share

# Target ISO 639-3 code -> lingua languages accepted as the same language, with the reason.
CLOSE_LANGUAGES: dict[str, dict[str, str]] = {
    "ind": {"MALAY": "Indonesian is a standard form of the Malay macrolanguage (ISO 639-3 msa); "
                     "lingua cannot separate them reliably on short text"},
    "hin": {"MARATHI": "same script (Devanagari) and much shared vocabulary; lingua reads some "
                       "short Hindi texts as Marathi"},
}
# Languages lingua may answer besides the audited ones: close relatives and neighbours of
# them that a model plausibly drifts into. Restricting candidates keeps lingua's high-accuracy
# mode affordable (all 75 languages cost minutes of loading on two cores).
NEIGHBOURS = ("ENGLISH", "MALAY", "MARATHI", "URDU", "PERSIAN", "PORTUGUESE", "ITALIAN",
              "CATALAN", "DUTCH", "TAGALOG", "JAPANESE", "KOREAN", "RUSSIAN", "ZULU", "SHONA",
              "SOMALI")
MAJORITY = 0.5


@dataclass(frozen=True)
class LineVerdict:
    """Line-level result of one response: pass, and whether it passed only as a close language."""

    passed: bool
    via_close_language: bool


def candidates(audited: list[Language]) -> frozenset[str]:
    """lingua languages to choose from: the audited ones lingua knows, plus NEIGHBOURS."""
    return frozenset(lang.lingua for lang in audited if lang.lingua) | frozenset(NEIGHBOURS)


@lru_cache(maxsize=4)
def detector(names: frozenset[str]) -> Any:
    """lingua's high-accuracy detector over `names` (models load lazily, per script seen)."""
    from lingua import Language as Lingua
    from lingua import LanguageDetectorBuilder

    return LanguageDetectorBuilder.from_languages(*(getattr(Lingua, n) for n in sorted(names))
                                                  ).build()


def identify(text: str, names: frozenset[str]) -> str | None:
    """lingua's language name for `text` (e.g. 'ENGLISH') among `names`, or None if undecided."""
    found = detector(names).detect_language_of(text)
    return found.name if found is not None else None


def line_measurable(language: Language) -> bool:
    """Whether lingua has a model for the language (it has none for e.g. Hausa or Amharic)."""
    return language.lingua is not None


def word_measurable(language: Language) -> bool:
    """Word-level confusion is measured, as in LCB, for languages not written in Latin script."""
    return line_measurable(language) and language.script != "Latn"


def line_verdict(text: str, language: Language, names: frozenset[str]) -> LineVerdict:
    """Whether every content line of `text` is in `language`, telling lingua to choose among
    `names` (an empty response fails)."""
    lines = content_lines(text)
    if not lines:
        return LineVerdict(False, False)
    close = CLOSE_LANGUAGES.get(language.code, {})
    found = [identify(line, names) for line in lines]
    exact = all(name == language.lingua for name in found)
    accepted = all(name == language.lingua or name in close for name in found)
    return LineVerdict(accepted, accepted and not exact)


def word_pass(text: str) -> bool:
    """No word of the response is written in Latin script (for non-Latin-script targets)."""
    return not latin_words(text)


def script_pass(text: str, script: str) -> bool:
    """Most letters of the response are in the expected script: a weaker, script-only signal."""
    share = script_share(text, script)
    return share is not None and share > MAJORITY


def harmonic_mean(a: float, b: float) -> float:
    """Harmonic mean of two rates (0 when either is 0), as LCB combines LPR and WPR."""
    return 0.0 if a <= 0 or b <= 0 else 2 * a * b / (a + b)
