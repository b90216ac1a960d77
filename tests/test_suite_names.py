"""Which suites a requested name selects: an exact suite name, a folder, or `family:NAME`."""

from __future__ import annotations

import pytest

from audit.errors import SuiteError
from audit.suites.discovery import select


def names(requested: list[str]) -> set[str]:
    return {suite.name for suite in select(requested)}


def test_exact_suite_name_wins_over_its_folder() -> None:
    # `multilingual` is a suite and the folder of `multilingual/translation`: the name alone
    # must not pull in the translation suite.
    assert names(["multilingual"]) == {"multilingual"}


def test_trailing_slash_selects_the_whole_folder() -> None:
    assert names(["multilingual/"]) == {"multilingual", "multilingual/translation"}


def test_folder_that_is_no_suite_selects_its_suites() -> None:
    chosen = names(["misuse"])
    assert {"misuse/harmful", "misuse/overrefusal"} <= chosen
    assert all(name.startswith("misuse/") for name in chosen)


def test_family_prefix_selects_by_family() -> None:
    assert names(["family:multilingual"]) == {"multilingual", "multilingual/translation"}


@pytest.mark.parametrize("wanted", ["family:no-such-family", "no-such-suite", "multi"])
def test_unknown_name_says_what_would_work(wanted: str) -> None:
    with pytest.raises(SuiteError) as caught:
        select([wanted])
    assert repr(wanted) in str(caught.value)
    assert "family:multilingual" in caught.value.fix
    assert "multilingual/" in caught.value.fix
