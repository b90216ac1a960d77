"""The typed profile, the one seeded selection helper, and `--limit` in every family."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from audit.errors import ConfigError
from audit.families import FAMILIES
from audit.suites.base import SuiteContext
from audit.suites.discovery import available, select
from audit.suites.profile import ItemBudget, Profile, resolve_budget
from audit.suites.selection import seeded_draw, seeded_order
from audit.suites.selection import select as select_items
from audit.suites.spec import load_spec


def _limit(n: int, seed: int = 1) -> ItemBudget:
    return ItemBudget("test", seed, "--limit", limit=n)


@pytest.mark.parametrize(("n", "k", "key"), [(1000, 12, 1234), (3270, 12, "1234/fm_lt_boolq"),
                                             (100, 4, "7/sentences"), (376, 30, 99)])
def test_draw_prefix_is_pythons_seeded_sample(n: int, k: int, key: int | str) -> None:
    """Where random.sample takes its rejection branch (population well above the sample), the
    first k of the order are exactly its sample: the draws the families made before."""
    draw = seeded_draw(n, key)
    assert [next(draw) for _ in range(k)] == random.Random(key).sample(range(n), k)


def test_draw_is_a_permutation_and_depends_on_the_key() -> None:
    order = list(seeded_draw(50, 3))
    assert sorted(order) == list(range(50))
    assert order == list(seeded_draw(50, 3)) != list(seeded_draw(50, 4))


def test_a_larger_sample_extends_the_smaller_one() -> None:
    """The first N of the order are the sample of N, for every N: samples are nested."""
    items = list(range(200))
    smaller, larger = select_items(items, _limit(10)), select_items(items, _limit(25))
    assert set(smaller) < set(larger) and len(larger) == 25
    drawn = select_items(items, _limit(25), in_file_order=False)
    assert sorted(drawn[:10]) == smaller and sorted(drawn) == larger


def test_seeded_sample_is_uniform() -> None:
    """Every item is in a sample of 5 of 20 with probability 1/4: over 4,000 seeds each
    item's rate stays within 5 standard errors (0.0068) of 0.25."""
    items, hits = list(range(20)), [0] * 20
    for seed in range(4000):
        for item in select_items(items, _limit(5, seed)):
            hits[item] += 1
    assert all(abs(count / 4000 - 0.25) < 5 * 0.0068 for count in hits)


def test_limit_is_spread_round_robin_over_strata() -> None:
    items = [(name, i) for name in ("c", "a", "b") for i in range(10)]
    order = [items[index][0] for _, index in seeded_order(items, 1, stratum=lambda x: x[0])]
    assert order[:6] == ["a", "b", "c", "a", "b", "c"]
    chosen = select_items(items, _limit(7), stratum=lambda x: x[0])
    assert sorted(x[0] for x in chosen) == ["a", "a", "a", "b", "b", "c", "c"]
    assert chosen == sorted(chosen, key=items.index)  # back in file order


def test_per_stratum_counts_and_unnamed_strata_run_whole() -> None:
    items = [(name, i) for name in ("a", "b", "c") for i in range(10)]
    budget = ItemBudget("quick", 1, "profile", per_stratum={"a": 2, "b": 3})
    chosen = select_items(items, budget, stratum=lambda x: x[0])
    assert [sum(x[0] == name for x in chosen) for name in "abc"] == [2, 3, 10]
    each = ItemBudget("quick", 1, "profile", per_stratum=4)
    assert len(select_items(items, each, stratum=lambda x: x[0])) == 12


def test_unit_ranked_strata_pick_the_same_units() -> None:
    """With `unit`, every stratum is ordered by the unit's rank, so strata (and suites) that
    ask the same units pick the same ones."""
    items = [(name, i) for name in ("a", "b", "c") for i in range(10)]
    chosen = select_items(items, _limit(6), stratum=lambda x: x[0], unit=lambda x: str(x[1]))
    assert {x[1] for x in chosen if x[0] == "a"} == {x[1] for x in chosen if x[0] == "b"}
    assert chosen != select_items(items, _limit(6, seed=2), stratum=lambda x: x[0],
                                  unit=lambda x: str(x[1]))


def test_limit_overrides_the_profile_and_unknown_profiles_run_everything() -> None:
    profiles = {"quick": Profile(limit=9), "fine": Profile(per_stratum={"a": 2})}
    assert resolve_budget(profiles, "quick", None, 5) == ItemBudget("quick", 5, "profile",
                                                                    limit=9)
    assert resolve_budget(profiles, "quick", 3, 5) == ItemBudget("quick", 5, "--limit", limit=3)
    assert resolve_budget(profiles, "fine", None, 5).count("a") == 2
    assert resolve_budget(profiles, "standard", None, 5).takes_all(10**6)


SPEC = """family: capability
description: d
kind: lm_eval
tasks: [t]
metrics: {{acc: {{label: a, description: d, formula: f}}}}
profiles:
  quick: {profile}
"""


@pytest.mark.parametrize(("profile", "named"), [
    ("{sample: 12}", "sample"), ("{limit: 0}", "limit"),
    ("{limit: 3, per_stratum: 2}", "not both"), ("{per_stratum: {a: -1}}", "per_stratum")])
def test_bad_profile_is_named_when_the_suite_is_read(tmp_path: Path, profile: str,
                                                     named: str) -> None:
    (tmp_path / "suite.yaml").write_text(SPEC.format(profile=profile))
    with pytest.raises(ConfigError, match=named) as caught:
        load_spec(tmp_path, "capability/x")
    assert "suite.yaml" in str(caught.value) and caught.value.fix


def test_families_are_declared_once_and_all_in_use() -> None:
    found = {factory().spec.family for factory in available().values()}
    assert found == set(FAMILIES)


def test_a_suite_of_an_undeclared_family_is_refused(tmp_path: Path) -> None:
    (tmp_path / "suite.yaml").write_text(SPEC.format(profile="{}").replace(
        "family: capability", "family: safety"))
    with pytest.raises(ConfigError, match="family"):
        load_spec(tmp_path, "safety/x")


@pytest.mark.parametrize("name", ["capability/core_mc", "bias/bbq_style", "misuse/overrefusal",
                                  "misuse/judge", "multilingual", "multilingual/translation"])
def test_limit_is_a_seeded_sample_of_n_items_per_suite(name: str) -> None:
    suite = select([name])[0]
    suite.build_samples(SuiteContext(model=None, limit=5, seed=11))
    first = suite.selection()
    assert first["origin"] == "--limit" and first["items_used"] == 5
    assert first["items_available"] > 5 and first["seed"] == 11
    suite.build_samples(SuiteContext(model=None, limit=5, seed=11))
    assert suite.selection() == first


def test_limit_on_lm_eval_is_seeded_not_the_first_documents() -> None:
    suite = select(["capability/core_mc"])[0]
    samples = suite.build_samples(SuiteContext(model=None, limit=5, seed=1234))
    ids = [s.data["doc_id"] for s in samples]
    assert ids == suite.selection()["tasks"]["fm_audit_core_mc"]["document_ids"]
    assert ids == sorted(random.Random("1234/fm_audit_core_mc").sample(range(50), 5))
    assert ids != [0, 1, 2, 3, 4]
