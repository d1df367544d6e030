"""The batch ingest path (file batches, memoised mapping, bulk writes) lands the same store as the reference path.

The reference is the Airbyte-message, row-at-a-time path (`ingest_source(..., batch=False)`);
the fast path must give the same records, versions, hashes, quarantine rows, states and report,
on SQLite and PostgreSQL. Its shortcuts are property-tested against what they stand in for: the
plain-shape phone parser against phonenumbers, the orjson hash against json.dumps.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import random
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import phonenumbers
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from mappings import MappingSpec
from mappings.canonical import content_hash, hash_and_json, plain_content_hash
from mappings.transforms import TransformError, _fast_e164, _is_valid, normalize_phone
from sync.ingest import IngestReport, ingest_source
from sync.store import open_store

_BENCH = Path(__file__).resolve().parents[2] / "bench" / "ingest_1m.py"
_spec = importlib.util.spec_from_file_location("bench_ingest_1m", _BENCH)
assert _spec and _spec.loader
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)

# Every target and transform family, so that rows take the direct canonical writer and the
# pydantic fallback (dates, booleans, custom fields, tags), a `when` rule and a skipped error.
WIDE_MAPPING = {
    "defaults": {"phone_region": "RU", "phone_fallback_regions": ["KZ", "US"]},
    "fields": [
        {"from": ["Given", "Family"], "to": "name"},
        {"from": "Mail", "to": "emails"},
        {"from": "Tel", "to": "phones", "transform": [{"phone": {"region_from": "Land"}}]},
        {"from": "Land", "to": "address.country", "on_error": "skip"},
        {"from": "Born", "to": "birth_date", "optional": True, "on_error": "skip"},
        {"from": "News", "to": "consent.email", "on_error": "skip"},
        {"from": "Tags", "to": "tags"},
        {"from": "Note", "to": "custom.note"},
        {"from": "Org", "to": "company", "when": {"Kind": "b2b"}},
        {"from": "Org", "to": "custom.org", "transform": ["trim", "upper"]},
        {"from": "Seen", "to": "source_updated_at", "on_error": "skip"},
    ],
}


def _wide_csv(path: Path, rows: int, seed: int) -> None:
    rnd = random.Random(seed)
    phones = ["+7 (915) 123-45-67", "8 915 765 43 21", "79161234567", "(415) 555-2671", "+1 212 736 4420",
              "+44 7911 123456", "07911 123456", "8 (727) 250-00-00", "12345", "+995 599 123456", "",
              "+49 (0)30 123456", "0049 30 1234567", "8 800 555-35-35", "+7 7172 55 55 55; +7 915 000 11 22"]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Given", "Family", "Mail", "Tel", "Land", "Born", "News", "Tags", "Note", "Org",
                         "Kind", "Seen"])
        for i in range(rows):
            writer.writerow([
                rnd.choice(["Иван", "Anna", "राहुल", "გიორგი", "", "Dr. John"]),
                rnd.choice(["Петров", "Smith", "शर्मा", "Beridze", ""]),
                rnd.choice([f"u{i}@example.com", f"U{i}@Mail.RU", "", "bad@@x", f"a{i}@x.org; b{i}@y.org"]),
                rnd.choice(phones),
                rnd.choice(["RU", "Россия", "US", "GB", "Georgia", "Germany", "", "Atlantis", "KZ"]),
                rnd.choice(["1990-02-03", "03.04.1985", "", "not a date"]),
                rnd.choice(["yes", "no", "", "maybe"]),
                rnd.choice(["vip, retail", "", "b2b"]),
                rnd.choice(["", "call back", "  spaced   out  "]),
                rnd.choice(["", "Acme LLC", "ООО Ромашка"]),
                rnd.choice(["b2b", "b2c", ""]),
                rnd.choice(["", "2024-05-06T07:08:09Z", "yesterday"]),
            ])


def _snapshot(url: str) -> dict[str, Any]:
    """Everything the two paths must agree on: rows and values, minus ids, times and pass ids."""
    engine = create_engine(url)

    def js(value: Any) -> str:
        return json.dumps(json.loads(value) if isinstance(value, str) else value, sort_keys=True, ensure_ascii=False)

    try:
        with engine.connect() as conn:
            records = sorted(
                (r[0], r[1], r[2], r[3], r[4], r[5], js(r[6]), js(r[7]), str(r[8]), bool(r[9]))
                for r in conn.execute(text(
                    "SELECT source, stream, source_record_id, entity, version, content_hash, raw, canonical, "
                    "source_updated_at, deleted FROM source_records")))
            versions = sorted(
                (r[0], r[1], r[2], js(r[3]), js(r[4]))
                for r in conn.execute(text(
                    "SELECT s.source_record_id, v.version, v.content_hash, v.raw, v.canonical "
                    "FROM source_record_versions v JOIN source_records s ON s.id = v.source_record_id")))
            quarantine = sorted(
                (r[0], r[1], r[2], r[3], r[4], r[5], js(r[6]), r[7])
                for r in conn.execute(text(
                    "SELECT stream, row_key, row_number, file, field, reason, raw, resolved_at IS NULL "
                    "FROM quarantine")))
            states = sorted(
                (r[0], js({k: v for k, v in (json.loads(r[1]) if isinstance(r[1], str) else r[1]).items()
                           if k != "pass_id"}))
                for r in conn.execute(text("SELECT stream, state FROM connector_state")))
            # first/last seen are one instant per batch: the two paths must batch alike, and write
            # timestamps in the same form (SQLite keeps them as text)
            seen = sorted(tuple(r) for r in conn.execute(text(
                "SELECT count(DISTINCT first_seen_at), count(DISTINCT last_seen_pass) FROM source_records")))
            forms: list[Any] = []
            if engine.dialect.name == "sqlite":
                forms = [sorted(tuple(r) for r in conn.execute(text(
                    "SELECT DISTINCT typeof(first_seen_at), length(first_seen_at), typeof(last_seen_at), "
                    "length(last_seen_at), typeof(deleted), coalesce(length(source_updated_at), -1) "
                    "FROM source_records"))),
                    sorted(tuple(r) for r in conn.execute(text(
                        "SELECT DISTINCT typeof(recorded_at), length(recorded_at) FROM source_record_versions")))]
        return {"records": records, "versions": versions, "quarantine": quarantine, "states": states,
                "seen": seen, "forms": forms}
    finally:
        engine.dispose()


def _counts(report: IngestReport) -> dict[str, Any]:
    return {"streams": {name: {k: v for k, v in vars(s).items()} for name, s in report.streams.items()},
            "problems": report.problems, "error": report.error}


def _ingest(url: str, path: Path, mapping: dict[str, Any], *, batch: bool, every: int = 97,
            parallel: bool | None = None) -> IngestReport:
    store = open_store(url)
    try:
        return ingest_source(store, source="people", connector="files",
                             config={"files": [{"path": str(path), "name": "rows"}], "checkpoint_every": every},
                             mappings={"rows": MappingSpec.model_validate(mapping)}, batch=batch, parallel=parallel)
    finally:
        store.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def two_urls(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """Two empty stores of one kind: for the reference path and the fast path."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'reference.db'}", f"sqlite:///{tmp_path / 'fast.db'}"
        return
    admin = request.getfixturevalue("postgres_admin")
    names = [f"crmsync_t_{secrets.token_hex(6)}" for _ in range(2)]
    with admin.connect() as conn:
        for name in names:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield tuple(admin.url.set(database=n).render_as_string(hide_password=False) for n in names)
    finally:
        with admin.connect() as conn:
            for name in names:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.parametrize("parallel", [False, True], ids=["one process", "mapping process"])
@pytest.mark.parametrize("kind", ["bench", "wide"])
def test_fast_path_lands_the_same_store_as_the_reference(two_urls: tuple[str, str], tmp_path: Path,
                                                         kind: str, parallel: bool) -> None:
    path = tmp_path / "rows.csv"
    if kind == "bench":
        bench.make_csv(path, 2500, seed=11)
        mapping = bench.MAPPING
    else:
        _wide_csv(path, 1500, seed=3)
        mapping = WIDE_MAPPING
    reference_url, fast_url = two_urls
    reference = _ingest(reference_url, path, mapping, batch=False)
    fast = _ingest(fast_url, path, mapping, batch=True, parallel=parallel)
    assert _counts(fast) == _counts(reference)
    assert fast.total("new") > 0 and fast.total("quarantined") > 0
    assert _snapshot(fast_url) == _snapshot(reference_url)

    # nothing changed: nothing new, nothing changed
    again = _ingest(fast_url, path, mapping, batch=True, parallel=parallel)
    assert (again.total("new"), again.total("changed"), again.total("unchanged")) == (0, 0, fast.total("new"))
    assert again.total("quarantined") == fast.total("quarantined")

    # the file changes: a row edited, a row removed; both paths see the same changes and deletions
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    edited = [lines[0], *lines[1:6], lines[6].replace("@", "+changed@", 1), *lines[8:]]
    path.write_text("".join(edited), encoding="utf-8")
    reference2 = _ingest(reference_url, path, mapping, batch=False)
    fast2 = _ingest(fast_url, path, mapping, batch=True, parallel=parallel)
    assert _counts(fast2) == _counts(reference2)
    assert fast2.total("deleted") >= 1
    assert _snapshot(fast_url) == _snapshot(reference_url)


def test_fast_path_reports_a_missing_file_like_the_reference(tmp_path: Path) -> None:
    reports = [_ingest(f"sqlite:///{tmp_path / f'{batch}{parallel}.db'}", tmp_path / "nope.csv", bench.MAPPING,
                       batch=batch, parallel=parallel) for batch, parallel in ((False, None), (True, False), (True, True))]
    assert "file not found" in (reports[0].streams["rows"].error or "")
    assert _counts(reports[1]) == _counts(reports[0])
    assert _counts(reports[2]) == _counts(reports[0])


def test_fast_path_reports_a_missing_column_like_the_reference(tmp_path: Path) -> None:
    path = tmp_path / "rows.csv"
    path.write_text("Full Name,Phone\nAnna Smith,+1 212 736 4420\n", encoding="utf-8")
    reports = [_ingest(f"sqlite:///{tmp_path / f'{batch}{parallel}.db'}", path, bench.MAPPING, batch=batch,
                       parallel=parallel) for batch, parallel in ((False, None), (True, False), (True, True))]
    assert reports[0].streams["rows"].error and "'E-mail'" in reports[0].streams["rows"].error
    assert _counts(reports[1]) == _counts(reports[0])
    assert _counts(reports[2]) == _counts(reports[0])


# ---------------------------------------------------------------- phones: the plain-shape parser


def _reference_e164(text: str, region: str | None) -> str | None:
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


_REGIONS = ["US", "CA", "RU", "KZ", "GB", "DE", "IN", "GE", "FR", "IT", "BR", "AR", "MX", "CN", "JP", "AU", "UA",
            "BY", "TR", "NL", "AE", "JM", "PR", "GG", "VA", "us", None]


@st.composite
def _plain_phones(draw: st.DrawFn) -> tuple[str, str | None]:
    """Texts of the shapes the parser handles: digits with separators, maybe a leading '+'."""
    region = draw(st.sampled_from(_REGIONS))
    if draw(st.booleans()):  # built from a real example number, written in some common way
        source = draw(st.sampled_from([r for r in _REGIONS if r])).upper()
        kind = draw(st.sampled_from([phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE,
                                     phonenumbers.PhoneNumberType.TOLL_FREE]))
        example = phonenumbers.example_number_for_type(source, kind)
        if example is None:
            example = phonenumbers.example_number(source)
        digits = list(phonenumbers.national_significant_number(example))
        for _ in range(draw(st.integers(0, 3))):  # other numbers of the same shape
            digits[draw(st.integers(0, len(digits) - 1))] = str(draw(st.integers(0, 9)))
        body = "".join(digits)
        prefix = draw(st.sampled_from(["+" + str(example.country_code), str(example.country_code), "", "0", "8",
                                       "1", "00" + str(example.country_code), "810" + str(example.country_code)]))
        text = prefix + " " + body
    else:
        text = draw(st.text(alphabet="0123456789 ().-", min_size=1, max_size=18))
        if draw(st.booleans()):
            text = "+" + text
    separator = draw(st.sampled_from(["", " ", "-", "."]))
    return text.replace(" ", separator) if separator else text, region


@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_plain_phones())
@example(("+7 (915) 123-45-67", "RU"))
@example(("8 (915) 123-45-67", "RU"))
@example(("(415) 555-2671", "US"))
@example(("+44 (0)20 7946 0958", "GB"))
@example(("8 (7172) 55-55-55", "KZ"))
@example(("+1 268 464 1234", "US"))
def test_plain_shape_phones_parse_exactly_like_phonenumbers(case: tuple[str, str | None]) -> None:
    text, region = case
    fast = _fast_e164(text, region)
    expected = _reference_e164(text, region)
    if fast is not None:  # when it answers, the answer is phonenumbers' own
        assert fast == expected
    try:
        answer: str | None = normalize_phone(text, region)
    except TransformError:
        answer = None
    assert answer == expected


def test_the_plain_shape_parser_answers_most_common_shapes() -> None:
    rnd = random.Random(5)
    cases = [(bench._phone(rnd, country), country) for country in ("US", "RU", "IN", "GE", "DE", "GB")
             for _ in range(200)]
    answered = [case for case in cases if _fast_e164(*case) is not None]
    assert len(answered) > 0.8 * len(cases)  # else the speed-up is gone, though results stay right
    assert all(_fast_e164(*case) == _reference_e164(*case) for case in answered)


@settings(max_examples=3000, deadline=None)
@given(st.sampled_from(sorted(c for c, r in phonenumbers.COUNTRY_CODE_TO_REGION_CODE.items() if r[0] != "001")),
       st.integers(1, 10**15))
def test_compiled_validity_is_phonenumbers_validity(code: int, national: int) -> None:
    number = phonenumbers.PhoneNumber(country_code=code, national_number=national)
    assert _is_valid(code, str(national)) == phonenumbers.is_valid_number(number)


def test_compiled_validity_on_example_numbers_of_every_region() -> None:
    for region in phonenumbers.SUPPORTED_REGIONS:
        for kind in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE,
                     phonenumbers.PhoneNumberType.TOLL_FREE, phonenumbers.PhoneNumberType.VOIP):
            number = phonenumbers.example_number_for_type(region, kind)
            if number is None or number.italian_leading_zero:
                continue
            nsn = phonenumbers.national_significant_number(number)
            assert _is_valid(number.country_code, nsn) == phonenumbers.is_valid_number(number), (region, kind)


# ---------------------------------------------------------------- hashing

_plain_json = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=1000, deadline=None)
@given(_plain_json)
def test_plain_content_hash_is_content_hash(payload: Any) -> None:
    assert plain_content_hash(payload) == content_hash(payload)


@settings(max_examples=1000, deadline=None)
@given(st.dictionaries(st.text(max_size=8), _plain_json, max_size=6),
       st.dictionaries(st.text(max_size=8), _plain_json, max_size=6))
def test_hash_and_json_is_content_hash_and_the_canonical_json(raw: dict[str, Any], canonical: dict[str, Any]) -> None:
    digest, text = hash_and_json(raw, canonical)
    assert digest == content_hash({"raw": raw, "canonical": canonical})
    assert json.loads(text) == canonical


def test_plain_content_hash_falls_back_for_what_orjson_writes_differently() -> None:
    from datetime import UTC, datetime

    for payload in ({"at": datetime(2024, 1, 2, tzinfo=UTC)}, {1: "int key"}, {"big": 2**80}):
        assert plain_content_hash(payload) == content_hash(payload)
        assert hash_and_json({"x": "y"}, payload)[0] == content_hash({"raw": {"x": "y"}, "canonical": payload})


# ---------------------------------------------------------------- crash safety of the fast path

_INGEST_SCRIPT = """
import sys
from mappings import MappingSpec
from sync.ingest import ingest_source
from sync.store import open_store
import json
store = open_store(sys.argv[1])
ingest_source(store, source="people", connector="files",
              config={"files": [{"path": sys.argv[2], "name": "rows"}], "checkpoint_every": 200},
              mappings={"rows": MappingSpec.model_validate(json.loads(sys.argv[3]))}, parallel=sys.argv[4] == "1")
"""


def _landed(db: Path) -> int:
    if not db.exists():
        return 0
    engine = create_engine(f"sqlite:///{db}")
    try:
        with engine.connect() as conn:
            return int(conn.execute(text("SELECT count(*) FROM source_records")).scalar_one())
    except OperationalError:  # the schema may not exist yet while the process starts
        return 0
    finally:
        engine.dispose()


def _processes_naming(text: str) -> list[int]:
    """Pids of live processes whose command line contains ``text``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().decode(errors="replace")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if text in cmdline and state != "Z":
            found.append(int(entry.name))
    return found


@pytest.mark.slow
@pytest.mark.parametrize("parallel", [False, True], ids=["one process", "mapping process"])
def test_fast_path_killed_mid_ingest_then_rerun_equals_uninterrupted(tmp_path: Path, parallel: bool) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    path = tmp_path / "rows.csv"
    bench.make_csv(path, 40_000, seed=2)
    reference_url = f"sqlite:///{tmp_path / 'reference.db'}"
    _ingest(reference_url, path, bench.MAPPING, batch=True, every=200)

    db = tmp_path / "crashed.db"
    process = subprocess.Popen([sys.executable, "-c", _INGEST_SCRIPT, f"sqlite:///{db}", str(path),
                                json.dumps(bench.MAPPING), "1" if parallel else "0"],
                               cwd=Path(__file__).resolve().parents[2])
    deadline = time.monotonic() + 240
    while _landed(db) < 1000 and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.02)
    assert process.poll() is None, "ingest finished before it could be killed; make the input bigger"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    # the mapping process notices at its next send that nobody reads, and stops
    deadline = time.monotonic() + 60
    while _processes_naming(str(db)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _processes_naming(str(db)), "the orphaned mapping process is still running"
    partial = _landed(db)
    assert 0 < partial < 38_000, partial

    rerun = _ingest(f"sqlite:///{db}", path, bench.MAPPING, batch=True, every=200)
    assert rerun.total("changed") == 0
    expected, actual = _snapshot(reference_url), _snapshot(f"sqlite:///{db}")
    for part in ("records", "versions", "quarantine", "states"):
        assert actual[part] == expected[part], part
