from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from dedupe import BaselineMatcher, MatchRecord, assign_golden_ids, survive
from mappings import Customer, SourceRef

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def rec(key: int, *, name=None, given=None, family=None, emails=(), phones=(), company=None,
        city=None, updated=None, source="s") -> MatchRecord:
    customer = Customer(
        ref=SourceRef(source=source, stream="t", source_record_id=str(key)), full_name=name,
        given_name=given, family_name=family, emails=list(emails), phones=list(phones), company=company,
        address={"city": city}, source_updated_at=updated,
    )
    return MatchRecord(key=key, customer=customer, seen_at=T0 + timedelta(minutes=key))


def groups(clusters) -> set[frozenset[int]]:
    return {frozenset(c.keys) for c in clusters}


def test_exact_email_phone_and_transitive_clusters() -> None:
    records = [
        rec(1, name="Ivan Petrov", emails=["ivan@x.ru"]),
        rec(2, name="Petrov Ivan", emails=["ivan@x.ru"], phones=["+79123456789"]),
        rec(3, name="I. Petrov", phones=["+79123456789"]),
        rec(4, name="Anna", emails=["anna@x.ru"]),
        rec(5, name="Someone", phones=[]),
    ]
    clusters = BaselineMatcher().match(records)
    assert groups(clusters) == {frozenset({1, 2, 3}), frozenset({4}), frozenset({5})}
    decisions = {m.key: m for c in clusters for m in c.members}
    assert decisions[1].method == "exact:email"
    assert decisions[2].method == "exact:email|phone"
    assert decisions[2].explanation == "same e-mail; same phone"
    assert decisions[4].method == "new"


def test_name_plus_phone_rule_alone_needs_both() -> None:
    matcher = BaselineMatcher([("name", "phone")])
    records = [
        rec(1, given="Ivan", family="Petrov", phones=["+79123456789"]),
        rec(2, name="Petrov Ivan", phones=["+79123456789"]),
        rec(3, name="Olga Petrova", phones=["+79123456789"]),  # shared office phone, other person
    ]
    assert groups(matcher.match(records)) == {frozenset({1, 2}), frozenset({3})}


def test_unknown_rule_kind_is_rejected() -> None:
    with pytest.raises(ValueError, match="key kinds"):
        BaselineMatcher([("emial",)])


def test_clusters_do_not_depend_on_input_order() -> None:
    records = [rec(i, emails=[f"p{i % 3}@x.com"], phones=[f"+7912345670{i % 2}"]) for i in range(6)]
    expected = groups(BaselineMatcher().match(records))
    for perm in itertools.islice(itertools.permutations(records), 30):
        assert groups(BaselineMatcher().match(list(perm))) == expected


def test_survivorship_most_recent_non_empty_wins_with_provenance() -> None:
    old = rec(1, name="Ivan Petrov", emails=["old@x.ru"], company="Romashka", city="Moscow",
              updated=datetime(2023, 1, 1, tzinfo=UTC), source="legacy")
    new = rec(2, name="Ivan A. Petrov", emails=["new@x.ru"], company=None, city="Kazan",
              updated=datetime(2024, 1, 1, tzinfo=UTC), source="workbook")
    golden = survive([old, new])
    assert golden.fields["full_name"] == "Ivan A. Petrov"
    assert golden.fields["company"] == "Romashka"  # newest record has none: older non-empty value wins
    assert golden.fields["address"]["city"] == "Kazan"
    assert golden.fields["emails"] == ["new@x.ru", "old@x.ru"]
    assert golden.fields["sources"] == ["legacy", "workbook"]
    assert golden.provenance["company"]["source"] == "legacy"
    assert golden.provenance["full_name"]["source"] == "workbook"
    assert survive([new, old]) == golden  # input order does not matter


def test_golden_ids_are_reused_and_the_biggest_part_keeps_the_id_on_split() -> None:
    matcher = BaselineMatcher()
    records = [rec(1, emails=["a@x"]), rec(2, emails=["a@x"]), rec(3, emails=["a@x"]), rec(4, emails=["b@x"])]
    counter = itertools.count()
    new_id = lambda: f"g{next(counter)}"  # noqa: E731
    clusters = matcher.match(records)
    first = dict(zip([c.keys for c in clusters], assign_golden_ids(clusters, {}, new_id), strict=True))
    previous = {k: gid for keys, gid in first.items() for k in keys}
    again = assign_golden_ids(clusters, previous, new_id)
    assert dict(zip([c.keys for c in clusters], again, strict=True)) == first
    # record 3 changes e-mail: cluster {1,2,3} splits; {1,2} keeps the old id, {3} gets a new one
    records[2] = rec(3, emails=["c@x"])
    clusters = matcher.match(records)
    ids = dict(zip([c.keys for c in clusters], assign_golden_ids(clusters, previous, new_id), strict=True))
    assert ids[(1, 2)] == previous[1]
    assert ids[(3,)] not in set(previous.values())
    assert ids[(4,)] == previous[4]
