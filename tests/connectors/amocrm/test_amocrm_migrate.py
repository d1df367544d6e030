"""`crmsync migrate` into amoCRM: the CSV is deduped against the contacts already there, twice without change."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from pydantic import SecretStr

from connectors.amocrm.emulator import AmoEmulator
from connectors.files import read_table
from crmsync.config import MatchConfig
from mappings.guess import guess_mapping
from sync.migrate import Migration
from sync.push.budgets import forget_budgets
from sync.push.destination import DestinationSettings, RateLimitSettings
from tests.connectors.amocrm.conftest import TOKEN

pytestmark = pytest.mark.emulator

ROWS = [["ФИО", "Телефон", "E-mail", "Город"],
        ["Сидорова Анна", "8 (905) 222-33-44", "anna@s.ru", "Казань"],
        ["Петров Пётр", "+7 903 111-22-33", "petr@ya.ru", "Тверь"],
        ["Иванов Иван", "8 916 123-45-67", "ivan@mail.ru", "Москва"],
        ["Иванов Иван", "+79161234567", "IVAN@mail.ru", ""]]


def test_migration_into_amocrm_reads_its_contacts_first(amo: AmoEmulator, tmp_path: Path) -> None:
    forget_budgets()
    (anna,) = amo.add("contacts", 1, name="Анна Сидорова", first_name="Анна", last_name="Сидорова",
                      custom_fields_values=[{"field_code": "PHONE", "values": [{"value": "+79052223344",
                                                                                "enum_code": "MOB"}]}])
    file = tmp_path / "people.csv"
    with file.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(ROWS)
    table = read_table(file)
    spec = guess_mapping(table.columns, [r.values for r in table.rows]).spec()  # type: ignore[union-attr]
    settings = DestinationSettings(name="amo", connector="amocrm", base_url=amo.url, token=SecretStr(TOKEN),
                                   rate_limit=RateLimitSettings(max_requests=7, interval_seconds=1))
    reports = []
    for _ in range(2):
        with Migration(file, spec, settings, matcher=MatchConfig().matcher()) as migration:
            gathered = migration.gather()
            assert gathered.failed is None, gathered.failed
            reports.append(migration.push(migration.plan()))
    first, second = reports
    assert first.error is None and (first.created, first.updated) == (2, 1), first.summary()
    contacts = amo.contacts()
    assert len(contacts) == 3  # Анна was there (matched by phone and name): updated, not created again
    emails = {v["value"] for c in contacts for f in c["custom_fields_values"] or [] if f["field_code"] == "EMAIL"
              for v in f["values"]}
    assert emails == {"anna@s.ru", "petr@ya.ru", "ivan@mail.ru"}
    kept = next(c for c in contacts if c["id"] == anna["id"])
    assert [v["value"] for f in kept["custom_fields_values"] if f["field_code"] == "EMAIL" for v in f["values"]] == \
        ["anna@s.ru"]
    assert second.error is None and (second.created, second.updated, second.unchanged) == (0, 0, 3)
