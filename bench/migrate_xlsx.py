"""`crmsync migrate` end to end: a messy workbook into the HubSpot emulator, timed per step.

    python bench/migrate_xlsx.py [--people 4000] [--dup-share 0.25] [--crm-share 0.2]
                                 [--rate-max 100] [--interval-ms 10000] [--database-url URL]

A workbook with Russian headers is written: one row per person plus `dup-share` repeated rows
(phone reformatted, e-mail upper-cased or missing, name order swapped). A share of the people
(`crm-share`) is already in the emulator's HubSpot, half of them with their e-mail, half with
only their phone. The migration runs as the command does (guess, ingest, read the CRM, match,
adopt, plan, push) with the emulator in this process at `rate-max` requests per rolling
`interval-ms`. Reported: seconds per step, requests and 429s, contacts created and updated,
and the checks that matter: contacts in the CRM = people, no person twice, none missing; then a
second run (expected: zero write calls).

Measured (2 shared cores, SQLite store, defaults: 4,000 people in 5,000 rows, 800 already in the
CRM, 100 requests per 10 s): first run 27.9 s (guess 1.5, read file + CRM and match 21.3, plan 1.1,
push 4.1 s: 3,200 created, 800 updated, 41 write calls, 0 answered 429); 4,000 contacts, no person
twice, none missing; second run 0 write calls (28.3 s, nearly all re-reading the file and the CRM).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

# run as a script, bench/ is first on the path and bench/dedupe would shadow the dedupe package
sys.path[0] = str(Path(__file__).resolve().parents[1])

from openpyxl import Workbook  # noqa: E402
from pydantic import SecretStr  # noqa: E402

from connectors.files import read_table  # noqa: E402
from connectors.hubspot.emulator import EmulatorSettings, HubSpotEmulator  # noqa: E402
from crmsync.config import MatchConfig  # noqa: E402
from mappings.guess import guess_mapping  # noqa: E402
from sync.migrate import Migration  # noqa: E402
from sync.push.destination import DestinationSettings, RateLimitSettings  # noqa: E402

GIVEN = ["Иван", "Анна", "Мария", "Пётр", "Олег", "Елена", "Ольга", "Сергей", "Андрей", "Наталья", "Дмитрий",
         "Татьяна", "Алексей", "Ирина", "Михаил", "Светлана", "Николай", "Юлия", "Владимир", "Екатерина"]
FAMILY = ["Иванов", "Смирнов", "Кузнецов", "Попов", "Васильев", "Петров", "Соколов", "Михайлов", "Новиков",
          "Фёдоров", "Морозов", "Волков", "Алексеев", "Лебедев", "Семёнов", "Егоров", "Павлов", "Козлов",
          "Степанов", "Николаев", "Орлов", "Андреев", "Макаров", "Никитин", "Захаров", "Зайцев", "Соловьёв",
          "Борисов", "Яковлев", "Григорьев"]
CITIES = ["Москва", "Казань", "Тверь", "Омск", "Самара", "Пермь", "Уфа", "Сочи"]
FEMALE = {"Анна", "Мария", "Елена", "Ольга", "Наталья", "Татьяна", "Ирина", "Светлана", "Юлия", "Екатерина"}
TOKEN = "bench-token"


def people(n: int, rng: random.Random) -> list[dict[str, str]]:
    out = []
    for i in range(n):
        given = rng.choice(GIVEN)
        family = rng.choice(FAMILY) + ("а" if given in FEMALE else "")
        out.append({"given": given, "family": family, "phone": f"79{(i * 7919) % 10**9:09d}",
                    "email": f"client{i}@example.ru", "city": rng.choice(CITIES)})
    return out


def write_workbook(path: Path, folks: list[dict[str, str]], dup_share: float, rng: random.Random) -> int:
    book = Workbook()
    sheet = book.active
    sheet.title = "Клиенты"
    sheet.append(["ФИО", "Телефон", "Почта", "Город", "Комментарий"])
    rows = [[f"{p['family']} {p['given']}", f"+{p['phone']}", p["email"], p["city"], ""] for p in folks]
    for p in rng.sample(folks, int(len(folks) * dup_share)):
        d = p["phone"]
        phone = f"8 ({d[1:4]}) {d[4:7]}-{d[7:9]}-{d[9:]}"
        email = rng.choice([p["email"].upper(), "", p["email"]])
        rows.append([f"{p['family']} {p['given']}", phone, email, rng.choice([p["city"], ""]), "повтор"])
    rng.shuffle(rows)
    for row in rows:
        sheet.append(row)
    book.save(path)
    return len(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=4000)
    parser.add_argument("--dup-share", type=float, default=0.25)
    parser.add_argument("--crm-share", type=float, default=0.2)
    parser.add_argument("--rate-max", type=int, default=100)
    parser.add_argument("--interval-ms", type=int, default=10_000)
    parser.add_argument("--database-url", default=None, help="the migration's store (default: SQLite beside)")
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    folder = Path(tempfile.mkdtemp(prefix="crmsync-migrate-bench-"))
    folks = people(args.people, rng)
    file = folder / "clients.xlsx"
    rows = write_workbook(file, folks, args.dup_share, rng)
    settings = EmulatorSettings(tokens=frozenset({TOKEN}), rate_max=args.rate_max,
                                rate_interval_ms=args.interval_ms)
    result: dict[str, object] = {"people": args.people, "rows": rows, "store": args.database_url or "sqlite"}
    with HubSpotEmulator(settings) as crm:
        in_crm = rng.sample(folks, int(len(folks) * args.crm_share))
        for n, p in enumerate(in_crm):
            props = {"firstname": p["given"], "lastname": p["family"], "phone": f"+{p['phone']}"}
            if n % 2 == 0:
                props["email"] = p["email"]
            crm.data.create("contacts", props)
        result["already_in_crm"] = len(in_crm)
        destination = DestinationSettings(
            name="hubspot", connector="hubspot", base_url=crm.url, token=SecretStr(TOKEN),
            rate_limit=RateLimitSettings(max_requests=args.rate_max, interval_seconds=args.interval_ms / 1000))
        for run in ("first", "second"):
            started = time.perf_counter()
            table = read_table(file)
            guess = guess_mapping(table.columns, [r.values for r in table.rows if hasattr(r, "values")])
            guessed = time.perf_counter()
            writes_before, calls_before = crm.write_calls, sum(crm.calls.values())
            with Migration(file, guess.spec(), destination, matcher=MatchConfig().matcher(),
                           store_url=args.database_url) as migration:
                gathered = migration.gather()
                assert gathered.failed is None, gathered.failed
                gathered_at = time.perf_counter()
                plan = migration.plan()
                planned = time.perf_counter()
                report = migration.push(plan)
                pushed = time.perf_counter()
            result[run] = {
                "guess_s": round(guessed - started, 2), "gather_s": round(gathered_at - guessed, 2),
                "plan_s": round(planned - gathered_at, 2), "push_s": round(pushed - planned, 2),
                "total_s": round(pushed - started, 2), "customers_in_file": gathered.customers_in_file,
                "already_in_crm_matched": gathered.already_in_crm,
                "plan": {k: v for k, v in plan.counts().items() if v},
                "created": report.created, "updated": report.updated + report.linked,
                "dead_lettered": report.dead_lettered, "requests": sum(crm.calls.values()) - calls_before,
                "write_calls": crm.write_calls - writes_before, "answered_429": report.rate_limited,
                "error": report.error}
        contacts = crm.contacts()
        phones = Counter(c.get("phone") for c in contacts if c.get("phone"))
        emails = Counter(c.get("email") for c in contacts if c.get("email"))
        held = {c.get("phone") for c in contacts}
        result["contacts"] = len(contacts)
        result["people_twice"] = sum(1 for n in phones.values() if n > 1) + sum(1 for n in emails.values() if n > 1)
        result["people_missing"] = sum(1 for p in folks if f"+{p['phone']}" not in held)
    print(json.dumps(result, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
