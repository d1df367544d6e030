"""People's decisions applied to the engine's clusters, fixed golden ids, and the `survivorship:` section."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from crmsync.config import ConfigError, load_project
from dedupe.golden import MANUAL, assign_golden_ids, honour_manual
from dedupe.survivorship import FieldRule
from dedupe.types import Cluster, MemberDecision


def cluster(*keys: int) -> Cluster:
    return Cluster(tuple(MemberDecision(k, "probabilistic", 0.99, "same e-mail") for k in keys))


def shape(clusters: list[Cluster], fixed: list[str | None]) -> set[tuple[frozenset[int], str | None]]:
    return {(frozenset(c.keys), f) for c, f in zip(clusters, fixed, strict=True)}


def test_hand_linked_records_stay_in_their_golden_record_and_pull_their_cluster_along() -> None:
    # a person merged records 1 and 3 into golden G; the engine keeps them apart but puts 4 with 3
    clusters, fixed = honour_manual([cluster(1, 2), cluster(3, 4), cluster(5)], {1: "G", 3: "G"})
    assert shape(clusters, fixed) == {(frozenset({1, 2, 3, 4}), "G"), (frozenset({5}), None)}
    members = {m.key: m for c in clusters for m in c.members}
    assert members[1].method == MANUAL and members[4].method == "probabilistic"


def test_a_cluster_spanning_two_hand_made_golden_records_gives_up_only_their_records() -> None:
    clusters, fixed = honour_manual([cluster(1, 2, 3)], {1: "G", 2: "H"})
    assert shape(clusters, fixed) == {(frozenset({1}), "G"), (frozenset({2}), "H"), (frozenset({3}), None)}


def test_a_cannot_link_keeps_the_rest_of_the_cluster_out() -> None:
    clusters, fixed = honour_manual([cluster(1), cluster(3, 4)], {1: "G", 3: "G"}, cannot_link=[(1, 4)])
    assert shape(clusters, fixed) == {(frozenset({1, 3}), "G"), (frozenset({4}), None)}


def test_fixed_ids_are_reserved_and_free_clusters_still_vote() -> None:
    counter = itertools.count()
    clusters = [cluster(1, 2), cluster(3), cluster(4)]
    ids = assign_golden_ids(clusters, {1: "A", 2: "A", 3: "A", 4: "B"}, lambda: f"new{next(counter)}",
                            fixed=["A", None, None])
    assert ids == ["A", "new0", "B"]  # record 3 voted for A, which a person holds


PROJECT = """
sources:
  - {name: crm, connector: files, config: {files: []}, streams: {}}
  - {name: sheet, connector: files, config: {files: []}, streams: {}}
survivorship:
  default: most_recent
  source_priority: [crm, sheet]
  verified: {crm: ['*']}
  fields:
    company: most_frequent
    address: most_complete
    emails: source_priority
    phones: {rule: union, primary: most_frequent}
    full_name: {rule: source_priority, sources: [sheet, crm]}
"""


def test_survivorship_section_becomes_rules(tmp_path: Path) -> None:
    path = tmp_path / "crmsync.yaml"
    path.write_text(PROJECT, encoding="utf-8")
    rules = load_project(path).survivorship.rules()
    assert rules.source_priority == ("crm", "sheet")
    assert rules.fields["emails"] == FieldRule("union", (), "source_priority")
    assert rules.fields["full_name"] == FieldRule("source_priority", ("sheet", "crm"), "most_recent")
    assert rules.rule_for("job_title") == FieldRule("most_recent")
    assert rules.is_verified("crm", "address.city") and not rules.is_verified("sheet", "company")


@pytest.mark.parametrize(("section", "message"), [
    ("survivorship: {fields: {company: newest}}", "crmsync.yaml: survivorship: fields.company: unknown rule 'newest'; use one of most_recent"),
    ("survivorship: {fields: {emails: longest}}", "fields.emails.primary: unknown 'longest'"),
    ("survivorship: {fields: {compnay: longest}}", "fields.compnay: not a customer field"),
    ("survivorship: {source_priority: [crmm]}", "survivorship: unknown source(s) 'crmm'"),
    ("survivorship: {rules: []}", "survivorship.rules: unknown key"),
])
def test_survivorship_errors_name_the_key(tmp_path: Path, section: str, message: str) -> None:
    path = tmp_path / "crmsync.yaml"
    path.write_text("sources: [{name: crm, connector: files, config: {files: []}, streams: {}}]\n" + section,
                    encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_project(path)
    assert message in str(caught.value)
