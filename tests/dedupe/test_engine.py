"""The probabilistic engine end to end on small, hand-made multi-source data."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from dedupe import MatchRecord
from dedupe.engine import MatchSettings, ProbabilisticMatcher
from dedupe.incremental import IncrementalIndex
from mappings import Customer, SourceRef

T0 = datetime(2024, 1, 1, tzinfo=UTC)
FIRST = ["Anna", "Maria", "Olga", "John", "Peter", "Ivan", "Rahul", "Priya", "Giorgi", "Nino", "Emma", "Lukas",
         "Sofia", "David", "Elena", "Dmitry", "Sara", "Tom", "Kate", "Amit"]
LAST = ["Smith", "Brown", "Petrova", "Ivanov", "Sharma", "Patel", "Beridze", "Müller", "Wilson", "Kuznetsov",
        "Taylor", "Singh", "Gelashvili", "Schmidt", "Novak", "Evans", "Orlov", "Reddy", "Clark", "Wagner"]


def customer(key: int, **fields) -> MatchRecord:
    return MatchRecord(key, Customer(ref=SourceRef(source="s", stream="t", source_record_id=str(key)), **fields), T0)


def background(n: int, start: int = 1000) -> list[MatchRecord]:
    """Distinct people, so the model has a population to learn what chance agreement looks like."""
    rnd = random.Random(5)
    out = []
    for i in range(n):
        given, family = rnd.choice(FIRST), rnd.choice(LAST)
        out.append(customer(start + i, given_name=given, family_name=family,
                            emails=[f"{given.lower()}.{family.lower()}{i}@example.com"],
                            phones=[f"+1646555{i:04d}"], address={"city": rnd.choice(["Austin", "Boston", "Tbilisi"])}))
    return out


def clusters_of(resolution) -> list[set[int]]:
    return [{m.key for m in c.members} for c in resolution.clusters if len(c.members) > 1]


@pytest.fixture(scope="module")
def resolved():
    records = background(1500) + [
        # one person across scripts and sources
        customer(1, full_name="Иванов Иван Иванович", phones=["+79123456789"], address={"city": "Москва"}),
        customer(2, given_name="Ivan", family_name="Ivanov", phones=["+79123456789"], emails=["vanya1985@mail.ru"]),
        customer(3, full_name="Ivan Ivanov", emails=["VANYA1985@mail.ru"], address={"city": "Moscow"}),
        # Devanagari and Latin spellings of one person, same e-mail
        customer(4, full_name="राहुल शर्मा", emails=["rahul.sharma.pune@gmail.com"]),
        customer(5, full_name="Rahul Sharma", emails=["rahulsharma.pune@gmail.com"], address={"city": "Pune"}),
        # nickname and a typo, same phone
        customer(6, given_name="Robert", family_name="Kowalski", phones=["+48601234567"]),
        customer(7, given_name="Bob", family_name="Kowalsky", phones=["+48 601 234 567".replace(" ", "")]),
        # family members: same surname, city and home phone, different given names
        customer(8, given_name="Tamar", family_name="Japaridze", phones=["+995322123456"], address={"city": "Tbilisi"}),
        customer(9, given_name="Levan", family_name="Japaridze", phones=["+995322123456"], address={"city": "Tbilisi"}),
        # colleagues sharing the office line
        customer(10, given_name="Hannah", family_name="Becker", phones=["+4930123456"], company="Acme GmbH"),
        customer(11, given_name="Jonas", family_name="Weber", phones=["+4930123456"], company="ACME"),
    ]
    matcher = ProbabilisticMatcher()
    return matcher, matcher.resolve(records)


def test_same_people_across_scripts_nicknames_and_sources_are_merged(resolved) -> None:
    _, resolution = resolved
    groups = clusters_of(resolution)
    assert {1, 2, 3} in groups
    assert {4, 5} in groups
    assert {6, 7} in groups


def test_look_alikes_stay_apart(resolved) -> None:
    _, resolution = resolved
    for group in clusters_of(resolution):
        assert not {8, 9} <= group, "family members sharing a home phone were merged"
        assert not {10, 11} <= group, "colleagues sharing an office line were merged"


def test_every_merge_is_explained_in_plain_language(resolved) -> None:
    _, resolution = resolved
    member = next(m for c in resolution.clusters for m in c.members if m.key == 2)
    assert member.method == "probabilistic" and member.score >= 0.95
    assert "same phone" in member.explanation or "same e-mail" in member.explanation
    assert set(member.evidence["comparisons"]) >= {"given_name", "family_name", "phone"}
    rahul = next(m for c in resolution.clusters for m in c.members if m.key in (4, 5))
    assert "surname" in rahul.explanation or "given name" in rahul.explanation


def test_the_model_is_plain_data_saved_with_the_run(resolved) -> None:
    matcher, _ = resolved
    report = matcher.report
    assert report["model"]["comparisons"][:2] == ["given_name", "family_name"]
    assert 0 < report["model"]["match_share"] < 0.01
    assert report["candidate_pairs"] > 0 and report["settings"]["auto_merge"] == 0.95


def test_cannot_link_pairs_are_never_merged() -> None:
    records = background(300) + [
        customer(1, given_name="Ivan", family_name="Ivanov", phones=["+79123456789"]),
        customer(2, given_name="Ivan", family_name="Ivanov", phones=["+79123456789"]),
    ]
    matcher = ProbabilisticMatcher()
    assert {1, 2} in clusters_of(matcher.resolve(records))
    assert all(not {1, 2} <= g for g in clusters_of(matcher.resolve(records, cannot_link=[(1, 2)])))


@pytest.mark.parametrize("hostile", [
    {},
    {"full_name": ""},
    {"full_name": "x" * 10_000},
    {"full_name": "Иван Ivanov राहुल 李"},
    {"full_name": "😀🎉 ✨", "emails": ["a@b.co"]},
    {"given_name": "\u200f\u202e", "family_name": "\x00\x07"},
    {"company": "ООО «»", "address": {"city": "   "}},
])
def test_hostile_inputs_never_crash_the_engine(hostile) -> None:
    records = background(50) + [customer(1, **hostile), customer(2, **hostile)]
    resolution = ProbabilisticMatcher().resolve(records)
    assert sum(len(c.members) for c in resolution.clusters) == len(records)


def test_new_records_join_existing_customers_incrementally() -> None:
    records = background(800) + [customer(1, given_name="Nino", family_name="Gelashvili", phones=["+995599111222"],
                                          emails=["nino.g@example.ge"])]
    matcher = ProbabilisticMatcher(MatchSettings())
    resolution = matcher.resolve(records)
    index = IncrementalIndex(matcher)
    placements, _ = index.add([
        customer(5000, full_name="ნინო გელაშვილი", phones=["+995599111222"]),  # Georgian script, same phone
        customer(5001, given_name="Someone", family_name="New", emails=["new.person@example.org"]),
    ])
    by_key = {p.key: p for p in placements}
    nino_cluster = next(i for i, c in enumerate(resolution.clusters) if any(m.key == 1 for m in c.members))
    assert by_key[5000].joined_existing and index.labels[index.table.keys.tolist().index(1)] == by_key[5000].cluster
    assert nino_cluster >= 0
    assert not by_key[5001].joined_existing
