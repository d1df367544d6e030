"""Ingest a big, realistic customer CSV into a new SQLite store, end to end, and say where the time goes.

    python bench/ingest_1m.py [--rows 1000000] [--path fast|serial|parallel|reference|both|all]
                              [--checkpoint-every 5000] [--old-tree DIR]

The CSV (written once per size into a cache folder, outside the measured run) has names in Latin,
Cyrillic, Devanagari and Georgian script, phones in many national and international formats for
six countries, e-mails, companies, cities and a country column; about 5% of the rows are dirty
(a bad phone or e-mail, an unknown country, nothing to identify a person) and must be quarantined.

Each ingest runs in a fresh subprocess through `sync.ingest.ingest_source`, the function `crmsync
ingest` calls, so its peak RSS is its own. `fast` is the product's default path (the file streamed,
memoised column mapping, bulk writes; from 4 MB of input, when a core is idle, the file is read and
mapped in a forked process while the main one writes); `serial` forces one process, `parallel` the
two; `reference` is the Airbyte-message, row-at-a-time path it must equal (`both` = reference and
fast, `all` = reference, serial and parallel). CPU seconds include the mapping process's.
Reported: rows/s, peak RSS, seconds in reading, mapping and writing, and a re-run
over the unchanged file (which must find 0 new and 0 changed).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# this checkout, unless a run of another checkout ("old") put that one on PYTHONPATH
sys.path.insert(0 if "--child" not in sys.argv or "old" not in sys.argv else len(sys.path),
                str(Path(__file__).resolve().parents[1]))

MAPPING = {
    "defaults": {"phone_region": "US"},
    "fields": [
        {"from": "Full Name", "to": "name"},
        {"from": "E-mail", "to": "emails"},
        {"from": "Phone", "to": "phones", "transform": [{"phone": {"region_from": "Country"}}]},
        {"from": "Company", "to": "company"},
        {"from": "City", "to": "address.city"},
        {"from": "Country", "to": "address.country"},
    ],
}

_GIVEN = {
    "US": ["James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David", "Elizabeth",
           "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah", "Chris", "Karen"],
    "RU": ["Александр", "Мария", "Дмитрий", "Анна", "Сергей", "Елена", "Андрей", "Ольга", "Иван", "Наталья",
           "Алексей", "Татьяна", "Михаил", "Юлия", "Николай", "Светлана"],
    "IN": ["राहुल", "प्रिया", "अमित", "सुनीता", "Rahul", "Priya", "Amit", "Sunita", "Vikram", "Anjali", "Rohan",
           "Kavya"],
    "GE": ["გიორგი", "ნინო", "დავით", "მარიამ", "Giorgi", "Nino", "Davit", "Mariam", "Levan", "Tamar"],
    "DE": ["Lukas", "Anna", "Jonas", "Lea", "Felix", "Sophie", "Jürgen", "Käthe", "Maximilian", "Marie"],
    "GB": ["Oliver", "Amelia", "Harry", "Isla", "George", "Ava", "Jack", "Emily", "Noah", "Olivia"],
}
_FAMILY = {
    "US": ["Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
           "Hernandez", "Lopez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin", "Lee"],
    "RU": ["Иванов", "Смирнов", "Кузнецов", "Попов", "Васильев", "Петров", "Соколов", "Михайлов", "Новиков",
           "Федоров", "Морозов", "Волков"],
    "IN": ["शर्मा", "वर्मा", "Sharma", "Verma", "Gupta", "Patel", "Singh", "Kumar", "Reddy", "Nair", "Iyer"],
    "GE": ["ბერიძე", "კაპანაძე", "Beridze", "Kapanadze", "Gelashvili", "Maisuradze", "Giorgadze"],
    "DE": ["Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz"],
    "GB": ["Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Robinson"],
}
_PATRONYMIC = ["Иванович", "Петровна", "Сергеевич", "Александровна", "Дмитриевич", "Андреевна"]
_CITIES = {
    "US": ["New York", "San Francisco", "Chicago", "Boston", "Austin", "Seattle", "Denver", "Miami"],
    "RU": ["Москва", "Санкт-Петербург", "Казань", "Новосибирск", "Екатеринбург"],
    "IN": ["Mumbai", "Delhi", "Bengaluru", "मुंबई", "Chennai", "Pune"],
    "GE": ["Tbilisi", "თბილისი", "Batumi", "Kutaisi"],
    "DE": ["Berlin", "München", "Hamburg", "Köln", "Frankfurt am Main"],
    "GB": ["London", "Manchester", "Birmingham", "Leeds", "Glasgow"],
}
_COUNTRY_TEXT = {"US": ["US", "USA", "United States", ""], "RU": ["Russia", "Россия", "RU", "РФ"],
                 "IN": ["India", "IN", "भारत"], "GE": ["Georgia", "GE", "საქართველო"],
                 "DE": ["Germany", "Deutschland", "DE"], "GB": ["UK", "United Kingdom", "GB"]}
_COMPANY_WORDS = ["Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Hooli", "Vandelay", "Soylent",
                  "Tyrell", "Ромашка", "Вектор", "Инфосистемы", "Tata", "Reliance", "Siemens", "Bosch"]
_COMPANY_SUFFIX = ["Inc.", "LLC", "Ltd", "GmbH", "ООО", "Pvt Ltd", "Corp", ""]
_DOMAINS = ["gmail.com", "yahoo.com", "outlook.com", "mail.ru", "yandex.ru", "example.com", "company.org"]
_US_AREAS = [201, 212, 213, 305, 312, 415, 503, 617, 646, 702, 713, 718, 773, 808, 917, 929]


def _phone(rnd: random.Random, country: str) -> str:
    """One valid phone of `country`, written the way people type them."""
    if country == "US":
        area, exchange, line = rnd.choice(_US_AREAS), rnd.randint(201, 989), rnd.randint(0, 9999)
        return rnd.choice([f"({area}) {exchange}-{line:04d}", f"{area}-{exchange}-{line:04d}",
                           f"+1 {area} {exchange} {line:04d}", f"{area}{exchange}{line:04d}",
                           f"1-{area}-{exchange}-{line:04d}", f"+1 ({area}) {exchange}-{line:04d}",
                           f"{area}.{exchange}.{line:04d}"])
    if country == "RU":
        code, a, b, c = rnd.randint(900, 999), rnd.randint(100, 999), rnd.randint(10, 99), rnd.randint(10, 99)
        return rnd.choice([f"+7 ({code}) {a}-{b}-{c}", f"8 ({code}) {a}-{b}-{c}", f"+7{code}{a}{b}{c}",
                           f"8{code}{a}{b}{c}", f"+7 {code} {a} {b} {c}", f"7{code}{a}{b}{c}"])
    if country == "IN":
        first, rest = rnd.randint(70000, 99999), rnd.randint(0, 99999)
        return rnd.choice([f"+91 {first} {rest:05d}", f"0{first}{rest:05d}", f"{first}{rest:05d}",
                           f"+91-{first}-{rest:05d}"])
    if country == "GE":
        a, b = rnd.choice([555, 557, 558, 591, 593, 595, 597, 598, 599]), rnd.randint(100000, 999999)
        return rnd.choice([f"+995 {a} {b}", f"{a} {b}", f"+995{a}{b}"])
    if country == "DE":
        area, number = rnd.choice([("30", 8), ("89", 8), ("40", 8), ("151", 8), ("170", 7)])
        digits = "".join(str(rnd.randint(0, 9)) for _ in range(number))
        return rnd.choice([f"+49 {area} {digits}", f"0{area} {digits}", f"+49 (0){area} {digits}",
                           f"0{area}-{digits}"])
    digits = f"7{rnd.choice('789')}{rnd.randint(10, 99)}{rnd.randint(100000, 999999)}"  # GB mobile
    return rnd.choice([f"+44 {digits[:4]} {digits[4:]}", f"0{digits[:4]} {digits[4:]}", f"+44{digits}"])


def _person(rnd: random.Random, serial: int) -> list[str]:
    country = rnd.choices(list(_GIVEN), weights=[40, 25, 12, 5, 10, 8])[0]
    given, family = rnd.choice(_GIVEN[country]), rnd.choice(_FAMILY[country])
    if country == "RU" and rnd.random() < 0.4:
        name = f"{family} {given} {rnd.choice(_PATRONYMIC)}"
    else:
        name = rnd.choice([f"{given} {family}", f"{family}, {given}", f"  {given}  {family} ", f"Dr. {given} {family}"])
    local = f"{rnd.choice(['j', 'a', 'm', 'k', 's', 'info', 'sales'])}{serial}"
    email = rnd.choice([f"{local}@{rnd.choice(_DOMAINS)}", f"{local.upper()}@{rnd.choice(_DOMAINS)}", ""])
    phone = _phone(rnd, country)
    if rnd.random() < 0.05:
        phone = f"{phone}; {_phone(rnd, country)}"
    company = "" if rnd.random() < 0.3 else f"{rnd.choice(_COMPANY_WORDS)} {rnd.choice(_COMPANY_SUFFIX)}".strip()
    return [name, email, phone, company, rnd.choice(_CITIES[country]), rnd.choice(_COUNTRY_TEXT[country])]


def _dirty(rnd: random.Random, row: list[str]) -> list[str]:
    """Spoil one row the ways real exports are spoilt; every one of these must be quarantined."""
    kind = rnd.randrange(4)
    if kind == 0:
        row[2] = rnd.choice(["12345", "call after 5", "000", "+1 (555) 01", "n/a phone 7"])
    elif kind == 1:
        row[1] = rnd.choice(["ivan@@mail.ru", "no-at-sign.example.com", "a@b", "john.doe@"]) + str(rnd.randrange(99))
    elif kind == 2:
        row[5] = rnd.choice(["Atlantis", "Narnia", "Mordor"])
    else:
        row[0] = row[1] = row[2] = ""
    return row


def make_csv(path: Path, rows: int, seed: int = 5) -> int:
    """Write the CSV; returns how many rows were spoilt on purpose."""
    rnd = random.Random(seed)
    people = max(1, int(rows * 0.9))  # about one row in ten repeats a person exactly
    dirty = 0
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Full Name", "E-mail", "Phone", "Company", "City", "Country"])
        for _ in range(rows):
            serial = rnd.randrange(people)
            row = _person(random.Random(serial * 7919 + seed), serial)
            if rnd.random() < 0.05:
                row = _dirty(rnd, row)
                dirty += 1
            writer.writerow(row)
    return dirty


def cached_csv(rows: int) -> Path:
    folder = Path(tempfile.gettempdir()) / "crmsync-bench-ingest"
    folder.mkdir(exist_ok=True)
    path = folder / f"customers-{rows}.csv"
    if not path.exists():
        started = time.perf_counter()
        partial = path.with_suffix(".partial")
        dirty = make_csv(partial, rows)
        partial.rename(path)
        print(f"generated {path} ({rows} rows, {dirty} spoilt) in {time.perf_counter() - started:.1f} s",
              file=sys.stderr)
    return path


def run_one(csv_path: Path, mode: str, checkpoint_every: int) -> dict[str, object]:
    """Ingest in this process (called in a fresh subprocess); returns the figures as a dict.

    mode "old" runs another checkout of crmsync (put first on sys.path by the caller), whose
    ingest_source has no `batch` switch and no phase timings.
    """
    from mappings import MappingSpec
    from sync.ingest import ingest_source
    from sync.store import open_store

    folder = Path(tempfile.mkdtemp(prefix="crmsync-ingest-1m-"))
    store = open_store(f"sqlite:///{folder / 'crmsync.db'}")
    spec = MappingSpec.model_validate(MAPPING)
    config = {"files": [{"path": str(csv_path), "name": "customers"}], "checkpoint_every": checkpoint_every}
    result: dict[str, object] = {"mode": mode}
    try:
        for label in ("first", "again"):
            started, cpu = time.perf_counter(), _cpu_seconds()
            switch: dict[str, object] = {} if mode == "old" else {"batch": mode != "reference"}
            if mode in ("serial", "parallel"):
                switch["parallel"] = mode == "parallel"
            report = ingest_source(store, source="bench", connector="files", config=config,
                                   mappings={"customers": spec}, **switch)
            seconds, cpu = time.perf_counter() - started, _cpu_seconds() - cpu
            result[label] = {
                "seconds": round(seconds, 2), "read": report.total("read"), "new": report.total("new"),
                "changed": report.total("changed"), "unchanged": report.total("unchanged"),
                "quarantined": report.total("quarantined"), "error": report.error,
                "rows_per_s": round(report.total("read") / seconds), "cpu_seconds": round(cpu, 2),
                "rows_per_cpu_s": round(report.total("read") / cpu),
                "phases": {k: round(v, 2) for k, v in getattr(report, "seconds", {}).items()},
            }
    finally:
        store.dispose()
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    result["worker_peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)
    result["db_mb"] = round((folder / "crmsync.db").stat().st_size / 2**20)
    return result


def _cpu_seconds() -> float:
    """CPU of this process and of its finished children (the fast path's mapping process)."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def _describe(result: dict[str, object]) -> str:
    worker = result.get("worker_peak_rss_mb")
    lines = [f"{result['mode']}: peak RSS {result['peak_rss_mb']} MB"
             f"{f' (mapping process {worker} MB)' if worker else ''}, store {result['db_mb']} MB"]
    for label in ("first", "again"):
        r = result[label]
        assert isinstance(r, dict)
        phases = r["phases"]
        total = sum(phases.values()) or 1.0
        shares = ", ".join(f"{k} {v:.1f} s ({100 * v / r['seconds']:.0f}%)" for k, v in phases.items())
        lines.append(f"  {label:5}: {r['read']} rows in {r['seconds']:.1f} s = {r['rows_per_s']:,} rows/s "
                     f"(CPU {r['cpu_seconds']:.1f} s = {r['rows_per_cpu_s']:,} rows per CPU-second); "
                     f"new {r['new']}, changed {r['changed']}, unchanged {r['unchanged']}, "
                     f"quarantined {r['quarantined']}; {shares or 'no phase timings'}"
                     f"{'' if total else ''}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--path", choices=("fast", "serial", "parallel", "reference", "both", "all"),
                        default="fast")
    parser.add_argument("--checkpoint-every", type=int, default=5000)
    parser.add_argument("--old-tree", type=Path,
                        help="also run this other checkout of crmsync (e.g. from `git archive REV`) as 'old'")
    parser.add_argument("--child", choices=("fast", "serial", "parallel", "reference", "old"),
                        help=argparse.SUPPRESS)
    parser.add_argument("--csv", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_one(args.csv, args.child, args.checkpoint_every)))
        return
    csv_path = cached_csv(args.rows)
    modes = {"both": ["reference", "fast"], "all": ["reference", "serial", "parallel"]}.get(args.path, [args.path])
    if args.old_tree:
        modes.insert(0, "old")
    results = {}
    for mode in modes:
        env = dict(os.environ)
        if mode == "old":
            env["PYTHONPATH"] = str(args.old_tree.resolve())
        out = subprocess.run([sys.executable, __file__, "--child", mode, "--csv", str(csv_path),
                              "--checkpoint-every", str(args.checkpoint_every)],
                             check=True, capture_output=True, text=True, env=env)
        results[mode] = json.loads(out.stdout.strip().splitlines()[-1])
        print(_describe(results[mode]), flush=True)
    for new in ("fast", "serial", "parallel"):
        for base in ("old", "reference", "serial"):
            if base in results and new in results and base != new:
                first = results[new]["first"]["rows_per_s"] / results[base]["first"]["rows_per_s"]
                cpu = results[new]["first"]["rows_per_cpu_s"] / results[base]["first"]["rows_per_cpu_s"]
                print(f"{new} vs {base} on a new store: {first:.2f}× the rows/s, {cpu:.2f}× the rows per CPU-second")


if __name__ == "__main__":
    main()
