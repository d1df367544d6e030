"""The synthetic generator of bench/dedupe: deterministic, the promised entity structure, fast."""

from __future__ import annotations

import re
import time
from collections import Counter, defaultdict

import pytest

from bench.dedupe.generate import COLUMNS, generate_rows
from bench.dedupe.translit import romanize_georgian, romanize_russian


@pytest.fixture(scope="module")
def rows() -> list[list[str]]:
    return generate_rows(2000, seed=7)


def test_deterministic_by_seed(rows: list[list[str]]) -> None:
    assert generate_rows(2000, seed=7) == rows
    assert generate_rows(2000, seed=8) != rows


def test_shape_and_ids(rows: list[list[str]]) -> None:
    assert len(rows) == 2000
    assert all(len(row) == len(COLUMNS) for row in rows)
    assert sorted(int(row[0]) for row in rows) == list(range(1, 2001))
    assert {row[2] for row in rows} == {"crm", "web", "excel", "legacy"}


def test_entity_structure(rows: list[list[str]]) -> None:
    sizes = Counter(row[1] for row in rows)
    mean = len(rows) / len(sizes)
    assert 1.4 <= mean <= 1.9
    histogram = Counter(sizes.values())
    assert histogram[1] / len(sizes) > 0.5          # many singletons
    assert max(sizes.values()) <= 10
    assert any(size >= 5 for size in sizes.values())  # and a tail


def test_names_split_in_some_sources_full_in_others(rows: list[list[str]]) -> None:
    split = [r for r in rows if r[2] in ("crm", "excel")]
    full = [r for r in rows if r[2] in ("web", "legacy")]
    assert all(r[3] and r[4] and not r[5] for r in split)
    assert all(r[5] and not r[3] and not r[4] for r in full)


def test_non_latin_scripts_present(rows: list[list[str]]) -> None:
    text = " ".join(r[3] + r[4] + r[5] for r in rows)
    assert re.search("[а-яА-Я]", text) and re.search("[\u0900-\u097f]", text)
    assert re.search("[\u10d0-\u10ff]", text)


def test_look_alike_strangers(rows: list[list[str]]) -> None:
    """Different people sharing a phone (office, home) exist; so do same-name strangers."""
    by_phone: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        digits = re.sub(r"\D", "", row[7])[-9:]
        if digits:
            by_phone[digits].add(row[1])
    assert any(len(entities) > 1 for entities in by_phone.values())
    by_name: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        by_name[(row[3] + " " + row[4]).strip().lower() or row[5].lower()].add(row[1])
    assert any(len(entities) > 1 for entities in by_name.values())


def test_fast_enough() -> None:
    started = time.perf_counter()
    generate_rows(2000, seed=1)
    assert time.perf_counter() - started < 2.0


def test_transliteration_schemes() -> None:
    assert romanize_russian("Юлия Дмитриевна", "icao") == "Iuliia Dmitrievna"
    assert romanize_russian("Дмитрий Алексеев", "popular") == "Dmitry Alexeev"
    assert romanize_georgian("ხუციშვილი") == "Khutsishvili"


def test_name_tail_is_bounded_by_its_syllable_table() -> None:
    """Asking for more rare surnames than the syllables can spell returns fewer, never hangs."""
    import random

    from bench.dedupe.people import _tail

    names = _tail(random.Random(1), ["ab", "cd"], ("er",), count=1000, taken=set())
    assert 0 < len(names) <= 2 + 4 + 8
