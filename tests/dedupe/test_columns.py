"""The column-wise structures behind the engine's speed: coded columns, extension, blocking, pieces."""

from __future__ import annotations

import csv
import random
from itertools import combinations
from pathlib import Path

import numpy as np
from test_engine import background, customer  # same folder: shared test data

from dedupe.blocking import BLOCKING_KEYS, candidate_pairs
from dedupe.comparisons import COMPARISONS, compare_all
from dedupe.engine import ProbabilisticMatcher
from dedupe.features import FeatureTable, build_features
from sync.dedupe_file import dedupe_file

RECORDS = background(300) + [
    customer(1, full_name="Иванов Иван", phones=["+79123456789", "+79990000000"]),
    customer(2, given_name="Ivan", family_name="Ivanov", phones=["+79990000000"], emails=["a@x.ru", "b@x.ru"]),
    customer(3, given_name="Ivanov", family_name="Ivan", emails=["b@x.ru"]),  # swapped order
    customer(4, given_name="I", family_name="Ivanov", address={"city": "Moscow"}),
    customer(5, full_name="😀 " * 3),
    customer(6, given_name="", family_name=""),
    # a household record under two different names: same birth date and street, postcodes off by one digit
    customer(7, given_name="Blake", family_name="Moody", birth_date="1961-04-02",
             address={"street": "16 Studley Street", "postal_code": "4869", "city": "Riverwood"}),
    customer(8, given_name="Jacobie", family_name="Tilleq", birth_date="1961-04-02",
             address={"street": "16 studley steet", "postal_code": "4896", "city": "Riverwood"}),
]
COMPARED = list(COMPARISONS.values())


def _table(records=RECORDS) -> FeatureTable:
    return build_features([r.customer for r in records], [r.key for r in records])


def test_an_extended_table_compares_like_one_built_whole() -> None:
    whole = _table()
    grown = _table(RECORDS[:150])
    rnd = random.Random(1)
    a = np.asarray([rnd.randrange(150) for _ in range(500)])
    b = np.asarray([rnd.randrange(150) for _ in range(500)])
    compare_all(grown, a, b, COMPARED)  # derived arrays built for 150 records...
    grown.extend(_table(RECORDS[150:]))  # ...and extended, not rebuilt
    a = np.asarray([rnd.randrange(len(RECORDS)) for _ in range(3000)])
    b = np.asarray([rnd.randrange(len(RECORDS)) for _ in range(3000)])
    assert (compare_all(grown, a, b, COMPARED) == compare_all(whole, a, b, COMPARED)).all()


def test_concat_and_take_give_the_same_columns() -> None:
    whole = _table()
    joined = FeatureTable.concat([_table(RECORDS[:100]), _table(RECORDS[100:])])
    taken = whole.take(range(len(whole)))
    for table in (joined, taken):
        assert table.keys.tolist() == whole.keys.tolist()
        assert table.given == whole.given and table.emails == whole.emails and table.phones == whole.phones
        assert table.email_named.tolist() == whole.email_named.tolist()


def test_blocking_finds_exactly_the_pairs_sharing_a_key_value() -> None:
    table = _table()
    keys = ["email", "phone", "name", "name_swapped", "name_city", "company_city", "birth_place", "street_place"]
    a, b, report = candidate_pairs(table, keys, max_block=10_000)
    expected = set()
    for name in keys:
        blocks: dict[str, list[int]] = {}
        for i in range(len(table)):
            for value in BLOCKING_KEYS[name](table, i):
                blocks.setdefault(value, []).append(i)
        expected |= {(x, y) for members in blocks.values() for x, y in combinations(sorted(members), 2)}
    assert set(zip(a.tolist(), b.tolist(), strict=True)) == expected
    assert report.pairs == len(expected) and (np.diff(a * len(table) + b) > 0).all()  # unique, in code order
    assert (300, 301) in expected and (301, 302) in expected  # records 1-2: phone; 2-3: e-mail, swapped names
    assert (306, 307) in expected  # records 7-8: birth date and city, street stem and city
    assert report.pairs_by_key["birth_place"] >= 1 and report.pairs_by_key["street_place"] >= 1


def test_mapping_in_worker_processes_gives_the_same_clusters(tmp_path: Path) -> None:
    source = tmp_path / "people.csv"
    rnd = random.Random(4)
    with source.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "Name", "Email", "Phone"])
        for i in range(400):
            person = rnd.randrange(250)
            writer.writerow([f"r{i}", f"Person{person} Family{person % 40}", f"p{person}@x.com" if i % 3 else "",
                             f"+1646555{person:04d}" if i % 2 else ""])
    mapping = tmp_path / "map.yaml"
    mapping.write_text("fields:\n  - {from: Name, to: name}\n  - {from: Email, to: emails, on_error: skip}\n"
                       "  - {from: Phone, to: phones, on_error: skip}\n", encoding="utf-8")
    outputs = []
    for workers in (1, 2):
        out = tmp_path / f"clusters-{workers}.csv"
        dedupe_file(source, mapping, out, matcher=ProbabilisticMatcher(), id_column="id", workers=workers)
        outputs.append(out.read_text(encoding="utf-8"))
    assert outputs[0] == outputs[1] and outputs[0].count("\n") == 401


def test_identifier_fields_block_and_compare() -> None:
    from dedupe.engine import MatchSettings

    people = [customer(r.key, **{**r.customer.model_dump(exclude={"ref"}), "custom": {"cust_no": f"C{r.key}"}})
              for r in background(300)]
    people += [customer(1, given_name="Nino", family_name="Beridze", custom={"cust_no": "X77"}),
               customer(2, given_name="N", family_name="Beridze", custom={"cust_no": "x 77"}, emails=["nb@x.ge"])]
    matcher = ProbabilisticMatcher(MatchSettings(identifiers=["cust_no"]))
    resolution = matcher.resolve(people)
    assert matcher.report["pairs_by_key"]["identifiers"] >= 1
    assert "id:cust_no" in matcher.report["model"]["comparisons"]
    together = [c for c in resolution.clusters if {1, 2} <= set(c.keys)]
    assert together and "same cust_no" in next(m.explanation for m in together[0].members if m.method != "new")


def test_a_transposed_identifier_is_one_character_off() -> None:
    from dedupe.engine import MatchSettings

    people = [customer(r.key, **{**r.customer.model_dump(exclude={"ref"}), "custom": {"ssn": f"{r.key:07d}"}})
              for r in background(300)]
    people += [customer(1, given_name="Zachary", family_name="Rollins", custom={"ssn": "2423787"}),
               customer(2, given_name="Zachary", family_name="Rollins", custom={"ssn": "2427387"})]
    matcher = ProbabilisticMatcher(MatchSettings(identifiers=["ssn"]))
    table = build_features([r.customer for r in people], [r.key for r in people], identifiers=["ssn"])
    comparisons = matcher.active_comparisons(table)
    j = [c.name for c in comparisons].index("id:ssn")
    n = len(people)
    levels = compare_all(table, np.asarray([n - 2, 0]), np.asarray([n - 1, n - 1]), comparisons)
    assert levels[:, j].tolist() == [1, 2]  # swapped neighbours: one off; unrelated numbers: different
