"""`crmsync migrate`: guessing a spreadsheet's columns, then moving it into HubSpot (the emulator) once.

Guessing is unit-tested; the migration runs against the HubSpot emulator over a real socket, on
SQLite and PostgreSQL stores, with a partial failure (the daily limit running out) in between.
"""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest
import yaml
from openpyxl import Workbook, load_workbook
from pydantic import SecretStr
from typer.testing import CliRunner

from connectors.files import read_table
from connectors.hubspot.emulator import EmulatorSettings, HubSpotEmulator
from crmsync.cli import app
from crmsync.config import MatchConfig
from mappings import load_mapping
from mappings.guess import SKIP, guess_mapping
from sync.migrate import Migration, mapping_path_for, store_url_for
from sync.push.budgets import forget_budgets
from sync.push.destination import DestinationSettings
from tests.connectors.hubspot.emulator_fixtures import TOKEN, hubspot_server  # noqa: F401  (a fixture)


@pytest.fixture
def crm(hubspot_server: HubSpotEmulator) -> HubSpotEmulator:  # noqa: F811
    """The session's HubSpot emulator, emptied."""
    hubspot_server.reset(EmulatorSettings(tokens=frozenset({TOKEN})))
    return hubspot_server

# ---------------------------------------------------------------- guessing


def _targets(columns: list[str], rows: list[dict[str, object]], **kwargs: object) -> dict[str, str]:
    return {g.column: g.target for g in guess_mapping(columns, rows, **kwargs).columns}  # type: ignore[arg-type]


def test_english_headers_are_recognised() -> None:
    columns = ["Full name", "Phone", "E-mail", "Company", "City", "Country", "Job title", "Zip", "Date of birth"]
    row = {"Full name": "John Smith", "Phone": "+1 415 555 2671", "E-mail": "john@smith.org", "Company": "Acme",
           "City": "Boston", "Country": "USA", "Job title": "CEO", "Zip": "02110", "Date of birth": "1980-05-01"}
    assert _targets(columns, [row] * 3) == {
        "Full name": "name", "Phone": "phones", "E-mail": "emails", "Company": "company", "City": "address.city",
        "Country": "address.country", "Job title": "job_title", "Zip": "address.postal_code",
        "Date of birth": "birth_date"}


def test_russian_headers_are_recognised_and_phones_read_as_russian() -> None:
    columns = ["ФИО", "Телефон", "Почта", "Компания", "Город", "Должность"]
    row = {"ФИО": "Иванов Иван Иванович", "Телефон": "8 (916) 123-45-67", "Почта": "ivan@mail.ru",
           "Компания": "Ромашка", "Город": "Москва", "Должность": "директор"}
    guess = guess_mapping(columns, [row] * 4)
    assert {g.column: g.target for g in guess.columns} == {
        "ФИО": "name", "Телефон": "phones", "Почта": "emails", "Компания": "company", "Город": "address.city",
        "Должность": "job_title"}
    assert guess.phone_region == "RU"
    spec = guess.spec()
    name_rule = next(r for r in spec.fields if r.to == "name")
    assert name_rule.transform[0].options == {"order": "family_first"}  # ФИО is Фамилия Имя Отчество


def test_separate_name_columns_and_a_whole_name_column() -> None:
    columns = ["Имя", "Фамилия", "Отчество", "Клиент"]
    row = {"Имя": "Анна", "Фамилия": "Сидорова", "Отчество": "Петровна", "Клиент": "Сидорова Анна"}
    assert _targets(columns, [row]) == {"Имя": "given_name", "Фамилия": "family_name", "Отчество": "patronymic",
                                        "Клиент": "full_name"}


def test_values_win_over_odd_or_missing_headers() -> None:
    columns = ["Контакт", "Column 7", "x", "Mobile", "Tel"]
    rows = [{"Контакт": f"+7 903 111 22 3{i}", "Column 7": f"user{i}@example.com", "x": "Anna Smith",
             "Mobile": "ask reception", "Tel": "8 916 000 00 0" + str(i) if i else "нет"} for i in range(5)]
    guess = guess_mapping(columns, rows)
    targets = {g.column: g.target for g in guess.columns}
    assert targets["Контакт"] == "phones"
    assert targets["Column 7"] == "emails"
    assert targets["x"] == "name"  # no header hint, but the values are people's names
    assert targets["Mobile"].startswith("custom.")  # the header says phone; the values say otherwise: kept, not lost
    assert targets["Tel"] == "phones"  # 4 of 5 are phones: the odd one is dropped (and reported) at ingest
    reasons = {g.column: g.reason for g in guess.columns}
    assert "phone numbers" in reasons["Контакт"] and "e-mail" in reasons["Column 7"]


def test_company_names_are_not_taken_for_people() -> None:
    columns = ["Customer", "Имя клиента", "Контрагент", "Адрес доставки"]
    rows = [{"Customer": f"ООО Вектор-{i}", "Имя клиента": "Иванов Иван", "Контрагент": "Acme LLC",
             "Адрес доставки": "ул. Ленина 1"} for i in range(3)]
    targets = _targets(columns, rows)
    assert targets["Имя клиента"] == "name"  # no known header: its values are people's names
    assert targets["Контрагент"] == "company" and targets["Customer"].startswith("custom.")  # one company column
    assert targets["Адрес доставки"] == "address.street"


def test_one_column_per_single_valued_field_and_unknown_columns_kept() -> None:
    columns = ["Company", "Organisation", "Phone", "Work phone", "Customer ID", "Empty"]
    row = {"Company": "Acme Ltd", "Organisation": "Acme", "Phone": "+44 20 7946 0958",
           "Work phone": "+44 20 7946 0959", "Customer ID": "10023", "Empty": None}
    targets = _targets(columns, [row] * 3)
    assert targets["Company"] == "company" and targets["Organisation"].startswith("custom.")
    assert targets["Phone"] == targets["Work phone"] == "phones"  # phones is a list: both columns feed it
    assert targets["Customer ID"] == "custom.customer_id"
    assert targets["Empty"] == SKIP


def test_edits_are_checked_and_the_saved_yaml_is_a_valid_mapping(tmp_path: Path) -> None:
    guess = guess_mapping(["Name", "Phone", "Country"], [{"Name": "John Smith", "Phone": "0161 496 0000",
                                                          "Country": "UK"}])
    with pytest.raises(ValueError, match="not a field"):
        guess.set_target("Name", "nme")
    with pytest.raises(ValueError, match="no column"):
        guess.set_target("Nope", "name")
    guess.set_target("Name", "full_name")
    path = tmp_path / "m.yaml"
    path.write_text(guess.to_yaml("people.csv"), encoding="utf-8")
    spec = load_mapping(path)
    assert [(r.from_, r.to) for r in spec.fields] == [(["Name"], "full_name"), (["Phone"], "phones"),
                                                       (["Country"], "address.country")]
    phone = next(r for r in spec.fields if r.to == "phones")
    assert phone.transform[0].options == {"region_from": "Country"}  # national numbers read in the row's country


# ---------------------------------------------------------------- migrating into the HubSpot emulator

HEADER = ["ФИО", "Телефон", "Почта", "Город"]
ROWS = [
    ["Иванов Иван", "8 916 123-45-67", "ivan@mail.ru", "Москва"],
    ["Иванов Иван", "+7 (916) 123 45 67", "IVAN@mail.ru", ""],  # the same person again
    ["Петров Пётр", "8 903 111 22 33", "petr@ya.ru", "Тверь"],  # in the CRM by e-mail
    ["Сидорова Анна", "8 905 222 33 44", "", "Казань"],  # in the CRM by phone and name, no e-mail here
    ["Кузнецов Олег", "", "oleg@k.ru", "Омск"],
]


def _write_csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([HEADER, *rows])
    return path


def _seed_crm(crm: HubSpotEmulator) -> None:
    crm.data.create("contacts", {"email": "anna@s.ru", "firstname": "Анна", "lastname": "Сидорова",
                                     "phone": "+79052223344"})
    crm.data.create("contacts", {"email": "petr@ya.ru", "firstname": "Пётр", "lastname": "Петров"})
    crm.data.create("contacts", {"email": "zoe@x.org", "firstname": "Zoe", "lastname": "Kim", "city": "Paris"})


def _settings(crm: HubSpotEmulator, **extra: object) -> DestinationSettings:
    return DestinationSettings(name="hubspot", connector="hubspot", base_url=crm.url, token=SecretStr(TOKEN),
                               **extra)  # type: ignore[arg-type]


def _migration(file: Path, crm: HubSpotEmulator, store_url: str | None = None, **extra: object) -> Migration:
    table = read_table(file)
    guess = guess_mapping(table.columns, [r.values for r in table.rows])  # type: ignore[union-attr]
    return Migration(file, guess.spec(), _settings(crm, **extra), matcher=MatchConfig().matcher(),
                     store_url=store_url)


def _by_email(crm: HubSpotEmulator) -> dict[str, dict]:
    return {c["email"]: c for c in crm.contacts()}


@pytest.mark.emulator
def test_migration_dedupes_inside_the_file_and_against_the_crm(crm: HubSpotEmulator, tmp_path: Path,
                                                                store_url: str) -> None:
    _seed_crm(crm)
    zoe_before = dict(_by_email(crm)["zoe@x.org"])
    file = _write_csv(tmp_path / "people.csv", ROWS)
    with _migration(file, crm, store_url) as migration:
        gathered = migration.gather()
        assert gathered.failed is None
        assert (gathered.file_rows, gathered.customers_in_file, gathered.already_in_crm) == (5, 4, 2)
        assert gathered.crm_contacts == 3 and gathered.adopted == 2  # Zoe is only in the CRM: left alone
        plan = migration.plan()
        assert {a: n for a, n in plan.counts().items() if n} == {"create": 2, "update": 2, "noop": 1}
        report = migration.push(plan)
    assert report.error is None and (report.created, report.updated) == (2, 2)
    contacts = crm.contacts()
    assert len(contacts) == 5  # 3 already there + Иван + Олег; no second Анна, Пётр or Иван
    assert Counter(c.get("phone") for c in contacts if c.get("phone"))["+79161234567"] == 1
    found = _by_email(crm)
    assert found["anna@s.ru"]["city"] == "Казань"  # matched by phone and name: updated, not duplicated
    assert found["anna@s.ru"]["lastname"] == "Сидорова" and found["anna@s.ru"]["firstname"] == "Анна"
    assert found["petr@ya.ru"]["phone"] == "+79031112233" and found["petr@ya.ru"]["city"] == "Тверь"
    assert found["ivan@mail.ru"]["lastname"] == "Иванов" and found["ivan@mail.ru"]["firstname"] == "Иван"
    assert found["zoe@x.org"] == zoe_before  # only in the CRM: left exactly as it was

    writes = crm.write_calls
    with _migration(file, crm, store_url) as again:  # nothing changed: nothing to write
        plan = again.gather() and again.plan()
        assert plan.writes == 0, plan.summary()
        assert again.push(plan).error is None
    assert crm.write_calls == writes and len(crm.contacts()) == 5


@pytest.mark.emulator
def test_rerun_after_a_partial_failure_resumes_without_duplicates(crm: HubSpotEmulator, tmp_path: Path) -> None:
    first = ["Анна", "Мария", "Ольга", "Елена", "Ирина", "Татьяна", "Наталья"]
    last = ["Смирнова", "Кузнецова", "Попова", "Васильева", "Соколова", "Михайлова"]
    people = [[f"{last[i % 6]} {first[i % 7]}", f"8 916 {100 + i:03d}-{i:02d}-{i:02d}", f"p{i}@example.ru", "Москва"]
              for i in range(30)]
    rows = people + [[p[0], p[1].replace("8 916", "+7 916"), p[2].upper(), ""] for p in people[:6]]  # 6 repeats
    file = _write_csv(tmp_path / "clients.csv", rows)
    with _migration(file, crm, batch_size=10, workers=1) as migration:
        assert migration.gather().customers_in_file == 30
        plan = migration.plan()
        assert plan.counts()["create"] == 30
        # the portal's daily limit runs out after the writer's set-up (2 calls) and one batch of 10
        crm.settings.daily_limit = crm.limits.daily_used + 3
        report = migration.push(plan)
    assert report.error and "daily" in report.error.lower()
    assert report.created == 10 and len(crm.contacts()) == 10

    with _migration(file, crm) as blocked:  # same day: the CRM cannot even be read; nothing goes on
        assert blocked.gather().failed  # (the HubSpot source says only "something went wrong" here)
    crm.settings.daily_limit = 250_000  # the next day, in a new process
    forget_budgets()
    with _migration(file, crm, batch_size=10, workers=1) as migration:
        migration.gather()
        plan = migration.plan()
        assert plan.counts()["create"] == 20 and plan.counts()["noop"] == 10  # the first 10 are recorded
        report = migration.push(plan)
    assert report.error is None and report.created == 20
    contacts = crm.contacts()
    assert len(contacts) == 30
    assert sorted(c["email"] for c in contacts) == sorted(f"p{i}@example.ru" for i in range(30))
    assert len({c["crmsync_id"] for c in contacts}) == 30


@pytest.mark.emulator
def test_a_lost_state_file_still_makes_no_duplicates(crm: HubSpotEmulator, tmp_path: Path) -> None:
    """The file moved to another folder (or its .crmsync.db was deleted): the CRM's contacts are matched again."""
    file = _write_csv(tmp_path / "people.csv", ROWS)
    with _migration(file, crm) as migration:
        migration.gather()
        assert migration.push(migration.plan()).created == 4
    moved = tmp_path / "elsewhere"
    moved.mkdir()
    file = file.rename(moved / "people.csv")
    writes = crm.write_calls
    with _migration(file, crm) as migration:
        gathered = migration.gather()
        assert (gathered.customers_in_file, gathered.already_in_crm, gathered.adopted) == (4, 4, 4)
        plan = migration.plan()
        assert plan.writes == 0, plan.summary()
        migration.push(plan)
    assert len(crm.contacts()) == 4 and crm.write_calls == writes


@pytest.mark.emulator
def test_migration_into_retailcrm_reads_its_customers_first(tmp_path: Path) -> None:
    """Not only HubSpot: any CRM with a source and a writer (here RetailCRM, apiKey auth, its own emulator)."""
    import json

    import requests

    from connectors.retailcrm.emulator import RetailCrmEmulator, RetailSettings

    file = _write_csv(tmp_path / "people.csv", ROWS)
    with RetailCrmEmulator(RetailSettings(api_key="shop-key", rate_per_second=1000)) as retail:
        made = requests.post(f"{retail.url}/customers/create", headers={"X-API-KEY": "shop-key"}, timeout=10, data={
            "site": "main-shop", "customer": json.dumps({"firstName": "Анна", "lastName": "Сидорова",
                                                         "phones": [{"number": "+79052223344"}]})})
        assert made.status_code == 201, made.text
        settings = DestinationSettings(name="shop", connector="retailcrm", base_url=retail.url,
                                       token=SecretStr("shop-key"), options={"site": "main-shop"})
        table = read_table(file)
        spec = guess_mapping(table.columns, [r.values for r in table.rows]).spec()  # type: ignore[union-attr]
        for _ in range(2):
            with Migration(file, spec, settings, matcher=MatchConfig().matcher()) as migration:
                gathered = migration.gather()
                assert gathered.failed is None
                report = migration.push(migration.plan())
            assert report.error is None
        customers = list(retail.customers.values())
    assert len(customers) == 4  # Анна was there (matched by phone and name): updated, not created again
    anna = next(c for c in customers if c.get("lastName") == "Сидорова")
    assert anna["id"] == made.json()["id"] and anna["address"]["city"] == "Казань"
    assert (report.created, report.updated, report.unchanged) == (0, 0, 4)  # the second run wrote nothing


@pytest.mark.emulator
def test_contacts_written_but_not_recorded_are_found_again(crm: HubSpotEmulator, tmp_path: Path) -> None:
    """A crash between "the CRM wrote it" and "recorded": the next run finds them, even people with only a name."""
    from sqlalchemy import create_engine, text

    rows = [["Орлова Вера", "", "", "Сочи"], ["Белова Нина", "", "", "Пермь"], ROWS[0]]
    file = _write_csv(tmp_path / "people.csv", rows)
    with _migration(file, crm) as migration:
        migration.gather()
        assert migration.push(migration.plan()).created == 3
    engine = create_engine(store_url_for(file))
    with engine.begin() as conn:  # what a kill -9 right after the CRM's answer leaves behind
        conn.execute(text("DELETE FROM destination_xrefs"))
    engine.dispose()
    with _migration(file, crm) as migration:
        migration.gather()
        report = migration.push(migration.plan())
    assert report.error is None and report.dead_lettered == 0 and report.created == 0
    assert len(crm.contacts()) == 3


def _crowd(n: int) -> list[list[str]]:
    """n people (a fifth without an e-mail) and a repeat of every fourth one, formatted differently."""
    given = ["Анна", "Мария", "Ольга", "Елена", "Ирина", "Татьяна", "Наталья", "Вера", "Нина"]
    family = ["Смирнова", "Кузнецова", "Попова", "Васильева", "Соколова", "Михайлова", "Новикова"]
    people = [[f"{family[i % 7]} {given[i % 9]}", f"8 917 {200 + i:03d}-{i % 100:02d}-{i % 97:02d}",
               "" if i % 5 == 4 else f"c{i}@example.ru", "Пермь"] for i in range(n)]
    return people + [[p[0], p[1].replace("8 917", "+7 917"), p[2].upper(), ""] for p in people[::4]]


@pytest.mark.emulator
@pytest.mark.slow
def test_kill_9_during_migrate_then_rerun_leaves_one_contact_per_person(crm: HubSpotEmulator, tmp_path: Path,
                                                                        cli_env: dict[str, str]) -> None:
    """`crmsync migrate` killed at random moments of its push; each re-run carries on; nobody twice, nobody lost."""
    import os
    import random
    import signal
    import subprocess
    import sys
    import time

    rng = random.Random(5)
    partial: list[int] = []
    for trial in range(2):
        # every answer a little late: a push of a few seconds, so that kills land inside it
        crm.reset(EmulatorSettings(tokens=frozenset({TOKEN}), latency_seconds=0.05))
        folder = tmp_path / f"trial{trial}"
        folder.mkdir()
        rows = _crowd(40)
        file = _write_csv(folder / "people.csv", rows)
        crm.data.create("contacts", {"firstname": "Анна", "lastname": "Смирнова", "phone": "+79172000000"})
        (folder / "crmsync.yaml").write_text(yaml.safe_dump({"destinations": [
            {"name": "crm", "connector": "hubspot", "base_url": crm.url, "token": "${HUBSPOT_TOKEN}",
             "batch_size": 5, "workers": 1}]}))
        env = {**cli_env, "HUBSPOT_TOKEN": TOKEN}
        command = [sys.executable, "-m", "crmsync", "migrate", file.name, "--to", "crm", "--yes"]
        for _kill in range(2):
            writes = crm.write_calls
            process = subprocess.Popen(command, cwd=folder, env=env, stdout=subprocess.DEVNULL,
                                       stderr=subprocess.DEVNULL)
            target = writes + rng.randint(1, 4)
            deadline = time.monotonic() + 120
            while crm.write_calls < target and process.poll() is None and time.monotonic() < deadline:
                time.sleep(0.01)
            time.sleep(rng.uniform(0, 0.2))
            assert process.poll() is None, "the migration ended before it could be killed"
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
            partial.append(len(crm.contacts()))
        final = subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True, timeout=300)
        assert final.returncode == 0, final.stdout + final.stderr
        contacts = crm.contacts()
        phones = Counter(c.get("phone") for c in contacts)
        assert len(contacts) == 40 and max(phones.values()) == 1, (trial, phones.most_common(3))
        expected = {"+7" + r[1][2:].replace(" ", "").replace("-", "") for r in rows}
        assert set(phones) == expected, trial
        assert Counter(c.get("email") for c in contacts if c.get("email")).most_common(1)[0][1] == 1
    assert any(0 < n < 40 for n in partial), partial  # killed with the CRM half written


@pytest.mark.emulator
@pytest.mark.parametrize("connector", ["amocrm", "bitrix24"])
def test_migration_into_amocrm_and_bitrix24(connector: str, tmp_path: Path) -> None:
    """The same migration through other CRMs' sources and writers: 4 contacts, then nothing to write."""
    if connector == "amocrm":
        from connectors.amocrm.emulator import AmoEmulator

        server = AmoEmulator("amo-token")
    else:
        from connectors.bitrix24.emulator import BitrixEmulator

        server = BitrixEmulator()
    file = _write_csv(tmp_path / "people.csv", ROWS)
    table = read_table(file)
    spec = guess_mapping(table.columns, [r.values for r in table.rows]).spec()  # type: ignore[union-attr]
    with server:
        settings = (DestinationSettings(name="amo", connector="amocrm", base_url=server.url,
                                        token=SecretStr("amo-token")) if connector == "amocrm" else
                    DestinationSettings(name="b24", connector="bitrix24", token=SecretStr(server.webhook_url)))
        with Migration(file, spec, settings, matcher=MatchConfig().matcher()) as migration:
            assert migration.gather().failed is None
            first = migration.push(migration.plan())
        assert first.error is None and first.created == 4
        writes = server.write_calls
        with Migration(file, spec, settings, matcher=MatchConfig().matcher()) as migration:
            gathered = migration.gather()
            assert (gathered.crm_contacts, gathered.already_in_crm) == (4, 4)  # read back, matched to their rows
            plan = migration.plan()
            assert plan.writes == 0, plan.summary()
            assert migration.push(plan).error is None
        assert server.write_calls == writes


# ---------------------------------------------------------------- the command

runner = CliRunner()


def _cli(args: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stdin: str | None = None):  # noqa: ANN202
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HUBSPOT_TOKEN", TOKEN)
    return runner.invoke(app, args, input=stdin)


@pytest.mark.emulator
def test_cli_yes_migrates_without_asking_and_never_prints_the_token(crm: HubSpotEmulator, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    _seed_crm(crm)
    file = _write_csv(tmp_path / "people.csv", ROWS)
    result = _cli(["migrate", file.name, "--to", "hubspot", "--base-url", crm.url, "--yes", "--xlsx", "merged.xlsx"],
                  tmp_path, monkeypatch)
    assert result.exit_code == 0, result.output
    merged = load_workbook(tmp_path / "merged.xlsx")["Golden records"]
    assert merged.max_row - 1 == 5  # the file's 4 customers and Zoe, who is only in the CRM
    assert "2 created, 2 updated" in result.output
    assert "5 rows → 4 customers" in result.output and "2 of them are already in hubspot" in result.output
    assert TOKEN not in result.output
    assert len(crm.contacts()) == 5
    saved = mapping_path_for(file)
    assert saved.exists() and Path(store_url_for(file).removeprefix("sqlite:///")).exists()
    assert [r.to for r in load_mapping(saved).fields] == ["name", "phones", "emails", "address.city"]

    # the saved mapping works for `crmsync dedupe --map` as it is
    dedupe = _cli(["dedupe", file.name, "--map", saved.name, "--out", "clusters.csv"], tmp_path, monkeypatch)
    assert dedupe.exit_code == 0, dedupe.output
    assert "5 rows → 4 customers" in dedupe.output

    again = _cli(["migrate", file.name, "--to", "hubspot", "--base-url", crm.url, "--yes"], tmp_path,
                 monkeypatch)
    assert again.exit_code == 0, again.output
    assert "mapping you confirmed before" in again.output and "Nothing to push" in again.output
    assert len(crm.contacts()) == 5


@pytest.mark.emulator
def test_cli_asks_lets_the_user_edit_and_pushes_on_confirmation(crm: HubSpotEmulator, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    book = Workbook()
    sheet = book.active
    sheet.title = "Клиенты"
    sheet.append(HEADER)
    for row in ROWS:
        sheet.append(row)
    book.save(tmp_path / "clients.xlsx")
    args = ["migrate", "clients.xlsx", "--to", "hubspot", "--base-url", crm.url]

    declined = _cli(args, tmp_path, monkeypatch, stdin="y\nn\n")  # mapping yes, push no
    assert declined.exit_code == 1, declined.output
    assert "Use this mapping?" in declined.output and "Push 4 changes to hubspot?" in declined.output
    assert crm.write_calls == 0 and crm.contacts() == []

    mapping_path_for(tmp_path / "clients.xlsx").unlink()
    # edit: column 4 (Город) is not imported; then accept and push
    result = _cli(args, tmp_path, monkeypatch, stdin="e\n4\nskip\n\ny\ny\n")
    assert result.exit_code == 0, result.output
    assert "Mapping (edited)" in result.output and "set by you" in result.output
    assert "4 created" in result.output
    contacts = crm.contacts()
    assert len(contacts) == 4 and not any(c.get("city") for c in contacts)
    assert "Город" not in mapping_path_for(tmp_path / "clients.xlsx").read_text(encoding="utf-8")


@pytest.mark.emulator
def test_cli_to_a_project_destination_and_clear_errors(crm: HubSpotEmulator, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    file = _write_csv(tmp_path / "people.csv", ROWS)
    (tmp_path / "crmsync.yaml").write_text(yaml.safe_dump({"destinations": [
        {"name": "crm", "connector": "hubspot", "base_url": crm.url, "token": "${HUBSPOT_TOKEN}"}]}))
    dry = _cli(["migrate", file.name, "--to", "crm", "--yes", "--dry-run"], tmp_path, monkeypatch)
    assert dry.exit_code == 0, dry.output
    assert "4 new contacts" in dry.output and "Dry run: nothing was sent" in dry.output
    assert crm.write_calls == 0
    result = _cli(["migrate", file.name, "--to", "crm", "--yes"], tmp_path, monkeypatch)
    assert result.exit_code == 0, result.output
    assert "4 created" in result.output and len(crm.contacts()) == 4

    # a bad cell is reported with its file, row and column; the rest of the row still goes in
    bad = _write_csv(tmp_path / "more.csv", [*ROWS, ["Орлова Вера", "8 926 555-44-33", "vera@@mail", "Сочи"]])
    more = _cli(["migrate", bad.name, "--to", "crm", "--yes"], tmp_path, monkeypatch)
    assert more.exit_code == 0, more.output
    assert "more.csv, row 7: column 'Почта'" in more.output, more.output
    assert "1 created" in more.output and any(c.get("phone") == "+79265554433" for c in crm.contacts())

    unknown = _cli(["migrate", file.name, "--to", "salesforce"], tmp_path, monkeypatch)
    assert unknown.exit_code == 2 and "not a CRM crmsync can write to" in unknown.output
    monkeypatch.delenv("HUBSPOT_TOKEN")
    monkeypatch.setenv("OTHER_TOKEN", "")
    no_token = runner.invoke(app, ["migrate", file.name, "--to", "hubspot", "--token-env", "OTHER_TOKEN"])
    assert no_token.exit_code == 2 and "export OTHER_TOKEN=" in no_token.output
    region = _cli(["migrate", file.name, "--to", "crm", "--phone-region", "Russia"], tmp_path, monkeypatch)
    assert region.exit_code == 2 and "two-letter country code" in region.output
    missing = _cli(["migrate", "nope.xlsx", "--to", "crm"], tmp_path, monkeypatch)
    assert missing.exit_code == 2 and "no such file" in missing.output
