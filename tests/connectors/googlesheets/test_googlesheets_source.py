"""Google Sheets against the emulator: the shared suite, credentials, quota, incremental passes, ingest."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote

import pytest
from airbyte_cdk.models import Status

from connectors.googlesheets.emulator import Formatted, GoogleSheetsEmulator
from connectors.googlesheets.source import GoogleSheetsSource
from connectors.testing.suite import ConnectorSuite, Harness, read
from mappings import load_mapping
from mappings.templates import TEMPLATES_DIR
from sync.ingest import ingest_source
from sync.store import Store
from tests.connectors.googlesheets.emulator_fixtures import (
    ACCESS_TOKEN,
    API_KEY,
    SPREADSHEET,
    TAB,
    TITLE,
    add_people,
    config_for,
    make_key,
    service_account_info,
    start_emulator,
)

pytestmark = pytest.mark.emulator
LOGGER = logging.getLogger("test")


@pytest.fixture
def api() -> Iterator[GoogleSheetsEmulator]:
    emulator = start_emulator()
    yield emulator
    emulator.stop()


def harness_for(api: GoogleSheetsEmulator, **overrides: object) -> Harness:
    config = config_for(api, **{"sheets": [TAB], "primary_key": ["Email"], **overrides})
    return Harness(source=GoogleSheetsSource(), module="connectors.googlesheets", stream=TAB, config=config,
                   bad_config={**config, "access_token": "ya29.wrong-token-0000"},
                   add_records=lambda n: add_people(api, n), secrets=[ACCESS_TOKEN, "ya29.wrong-token-0000"],
                   secret_fields=["api_key", "access_token", "service_account_info"], emulator=api,
                   fault_group="values",
                   # a changed tab is read again in full (a new pass), so that the store can tell
                   # removed rows; an unchanged one emits nothing (test_an_unchanged_tab_is_not_read_again)
                   max_reemitted=1000)


class TestGoogleSheetsSuite(ConnectorSuite):
    @pytest.fixture
    def harness(self, api: GoogleSheetsEmulator) -> Harness:
        return harness_for(api)


# ------------------------------------------------------------------ reading


def test_rows_come_as_the_user_sees_them_below_the_title(api: GoogleSheetsEmulator) -> None:
    api.append_rows(SPREADSHEET, TAB, [
        ["Ann", "ann@example.test", 89123456789, "Paris", Formatted("01.03.2024", 45352)],
        [],  # an empty row in the middle is skipped, not the end
        ["Bob", "", True, None, None, "extra"],
    ])
    result = read(harness_for(api))
    assert not result.errors, result.errors
    ann, bob = result.records
    assert (ann["Name"], ann["Phone"], ann["column_E"], ann["_row"], ann["_sheet"], ann["_file"]) == (
        "Ann", "89123456789", "01.03.2024", 4, TAB, TITLE)
    assert (bob["Email"], bob["Phone"], bob["City"], bob["column_F"], bob["_row"]) == (None, "TRUE", None, "extra", 6)
    values = [r for r in api.requests if r.group == "values"]
    assert values and all(r.arg("valueRenderOption") == "FORMATTED_VALUE" for r in values)
    assert "'Clients list'!1:400" in [unquote(r.path.rsplit("/", 1)[1]) for r in values]


def test_big_tabs_are_read_in_blocks_up_to_the_grid_size(api: GoogleSheetsEmulator) -> None:
    made = add_people(api, 950)
    result = read(harness_for(api, page_rows=300, checkpoint_every=1000))
    assert sorted(result.ids) == sorted(made)
    assert api.count("values") == 4  # 953 rows (grid 1000) in blocks of 300


def test_wide_tabs_are_read_in_fewer_rows_per_request(api: GoogleSheetsEmulator) -> None:
    made = add_people(api, 700)
    api.books[SPREADSHEET].sheet(TAB).column_count = 200  # 1000 × 200 grid
    result = read(harness_for(api, page_rows=5000, page_cells=60_000, checkpoint_every=1000))
    assert sorted(result.ids) == sorted(made)
    blocks = [unquote(r.path.rsplit("/", 1)[1]) for r in api.requests if r.group == "values"]
    assert blocks == ["'Clients list'!1:300", "'Clients list'!301:600", "'Clients list'!601:900",
                      "'Clients list'!901:1000"]


def test_every_visible_tab_is_a_stream_by_default(api: GoogleSheetsEmulator) -> None:
    api.add_sheet(SPREADSHEET, "Leads", [["Email", "Name"], ["l@example.test", "Lee"]])
    api.add_sheet(SPREADSHEET, "Old", [["x", "y"]], hidden=True)
    catalog = GoogleSheetsSource().discover(LOGGER, config_for(api))
    assert [s.name for s in catalog.streams] == [TAB, "Leads"]


def test_record_ids_hash_the_row_and_tell_repeats_apart(api: GoogleSheetsEmulator) -> None:
    add_people(api, 2)
    api.append_rows(SPREADSHEET, TAB, [api.books[SPREADSHEET].sheet(TAB).rows[-1]])  # an exact repeat
    ids = read(harness_for(api, primary_key=None)).ids
    assert len(ids) == 3 and all(i.startswith("h:") for i in ids)
    assert ids[2] == ids[1] + "#2"


def test_an_unchanged_tab_is_not_read_again_and_a_changed_one_is_a_new_pass(api: GoogleSheetsEmulator) -> None:
    add_people(api, 8)
    harness = harness_for(api)
    first = read(harness)
    again = read(harness, first.final_state)
    assert again.ids == [] and again.final_state == first.final_state
    forced = read(harness_for(api, reread_unchanged=True), first.final_state)  # after a mapping edit
    assert len(forced.ids) == 8 and forced.final_state["pass_id"] != first.final_state["pass_id"]
    add_people(api, 1)
    changed = read(harness, first.final_state)
    assert len(changed.ids) == 9 and changed.final_state["complete"]
    assert changed.final_state["pass_id"] != first.final_state["pass_id"]


def test_a_pass_cut_short_restarts_when_the_tab_changed_meanwhile(api: GoogleSheetsEmulator) -> None:
    add_people(api, 12)
    harness = harness_for(api)
    first = read(harness)
    midway = first.states[0]
    assert not midway["complete"] and midway["position"] == 5
    add_people(api, 1)
    resumed = read(harness, midway)
    assert len(resumed.ids) == 13 and resumed.final_state["pass_id"] != midway["pass_id"]


def test_an_unknown_tab_is_named_with_the_tabs_there_are(api: GoogleSheetsEmulator) -> None:
    status = GoogleSheetsSource().check(LOGGER, config_for(api, sheets=["Clients"]))
    assert status.status == Status.FAILED
    assert "sheet 'Clients' not found (sheets: Clients list)" in (status.message or "")


def test_a_missing_primary_key_column_is_named(api: GoogleSheetsEmulator) -> None:
    add_people(api, 1)
    result = read(harness_for(api, primary_key=["Client ID"]))
    assert any("'Client ID' not found" in e and "sheet 'Clients list'" in e for e in result.errors), result.errors


# ------------------------------------------------------------------ credentials


def test_config_needs_exactly_one_credential(api: GoogleSheetsEmulator) -> None:
    both = {**config_for(api), "api_key": API_KEY}
    status = GoogleSheetsSource().check(LOGGER, both)
    assert status.status == Status.FAILED and "exactly one of" in (status.message or "")
    assert API_KEY not in (status.message or "")


def test_an_api_key_reads_a_public_sheet_and_is_sent_in_a_header(api: GoogleSheetsEmulator) -> None:
    made = add_people(api, 3)
    result = read(harness_for(api, api_key=API_KEY))
    assert sorted(result.ids) == sorted(made)
    assert all(r.headers.get("x-goog-api-key") == API_KEY and "key" not in r.query for r in api.requests)


def test_a_wrong_api_key_is_a_credentials_error(api: GoogleSheetsEmulator) -> None:
    status = GoogleSheetsSource().check(LOGGER, config_for(api, api_key="AIzaSyWrong-key-000"))
    assert status.status == Status.FAILED
    assert "refused the credentials" in (status.message or "") and "API key not valid" in (status.message or "")
    assert "AIzaSyWrong-key-000" not in (status.message or "")


def test_an_api_key_cannot_read_a_private_sheet(api: GoogleSheetsEmulator) -> None:
    api.books[SPREADSHEET].public = False
    status = GoogleSheetsSource().check(LOGGER, config_for(api, api_key=API_KEY))
    assert status.status == Status.FAILED and "PERMISSION_DENIED" in (status.message or "")
    assert "anyone with the link" in (status.message or "")


def test_a_service_account_key_is_exchanged_for_a_token(api: GoogleSheetsEmulator) -> None:
    made = add_people(api, 4)
    info = service_account_info(api)
    result = read(harness_for(api, service_account_info=info))
    assert not result.errors, result.errors
    assert sorted(result.ids) == sorted(made)
    assert api.tokens_issued == 1
    assert all(r.headers.get("authorization", "").startswith("Bearer ya29.emu-")
               for r in api.requests if r.group != "token")


def test_a_revoked_service_account_token_is_renewed_once(api: GoogleSheetsEmulator) -> None:
    made = add_people(api, 4)
    harness = harness_for(api, service_account_info=service_account_info(api), page_rows=200)
    api.revoke_tokens(after=2)  # the token dies between two blocks of one read (metadata, block 1 | block 2)
    result = read(harness)
    assert not result.errors, result.errors
    assert sorted(result.ids) == sorted(made)
    assert api.tokens_issued == 2
    refused = [r for r in api.requests if r.group == "values" and r.path.endswith("201%3A400")]
    assert len(refused) == 2  # block 2 refused once with 401, then read with the new token


def test_a_key_the_token_url_rejects_fails_clearly_without_the_key(api: GoogleSheetsEmulator) -> None:
    other_private, _ = make_key()
    info = service_account_info(api, other_private)
    status = GoogleSheetsSource().check(LOGGER, config_for(api, service_account_info=info))
    message = status.message or ""
    assert status.status == Status.FAILED
    assert "invalid_grant" in message and "service_account_info" in message
    assert "PRIVATE KEY" not in message and other_private.splitlines()[1] not in message


def test_a_service_account_key_file_is_read_from_the_project_folder(api: GoogleSheetsEmulator, tmp_path: Path) -> None:
    made = add_people(api, 2)
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "reader.json").write_text(service_account_info(api), encoding="utf-8")
    result = read(harness_for(api, service_account_file="keys/reader.json", base_dir=str(tmp_path)))
    assert not result.errors, result.errors
    assert sorted(result.ids) == sorted(made)
    missing = GoogleSheetsSource().check(LOGGER, config_for(api, service_account_file="keys/nope.json",
                                                            base_dir=str(tmp_path)))
    assert missing.status == Status.FAILED
    assert f"service_account_file: cannot read {tmp_path / 'keys/nope.json'}" in (missing.message or "")


def test_a_malformed_service_account_key_names_the_key(api: GoogleSheetsEmulator) -> None:
    status = GoogleSheetsSource().check(LOGGER, config_for(api, service_account_info='{"client_email": "x"}'))
    assert status.status == Status.FAILED
    assert "service_account_info lacks private_key, token_uri" in (status.message or "")


# ------------------------------------------------------------------ quota


def test_the_per_minute_read_quota_is_waited_out() -> None:
    api = start_emulator(reads_per_minute=3, quota_window=1.5)
    try:
        made = add_people(api, 40)
        config = config_for(api, page_rows=100, max_retries=8, backoff_seconds=0.2, checkpoint_every=1000)
        result = read(Harness(GoogleSheetsSource(), "connectors.googlesheets", TAB, config, lambda n: []))
        assert not result.errors, result.errors
        assert len(set(result.ids)) == len(made) == 40
        assert api.quota_refusals >= 1  # it did hit the quota (11 reads, 3 per 1.5 s)
    finally:
        api.stop()


def test_the_default_pace_stays_under_the_quota(api: GoogleSheetsEmulator) -> None:
    from connectors.googlesheets.source import GoogleSheetsConfig

    fields = GoogleSheetsConfig.model_fields
    assert fields["requests_per_minute"].default < 60  # Sheets: 60 reads a minute per user
    # exponential back-off from the defaults outlasts the one-minute refill before giving up
    waits = [min(fields["backoff_seconds"].default * 2 ** i, fields["max_wait_seconds"].default)
             for i in range(fields["max_retries"].default)]
    assert sum(waits) > 60


# ------------------------------------------------------------------ into the store


def test_ingest_maps_sheet_rows_and_marks_removed_rows_deleted(api: GoogleSheetsEmulator, store: Store) -> None:
    add_people(api, 6)
    config = config_for(api, sheets=[TAB])
    mappings = {TAB: load_mapping(TEMPLATES_DIR / "googlesheets_customers.yaml")}
    first = ingest_source(store, source="gsheet", connector="googlesheets", config=config, mappings=mappings)
    assert not first.failed, first
    assert first.stream(TAB).new == 6 and first.stream(TAB).quarantined == 0
    unchanged = ingest_source(store, source="gsheet", connector="googlesheets", config=config, mappings=mappings)
    assert unchanged.stream(TAB).read == 0 and unchanged.stream(TAB).deleted == 0
    sheet = api.books[SPREADSHEET].sheet(TAB)
    del sheet.rows[4]  # a person removed from the sheet
    sheet.rows[5][3] = "Oakland"  # another one moved
    changed = ingest_source(store, source="gsheet", connector="googlesheets", config=config, mappings=mappings)
    counts = changed.stream(TAB)
    assert (counts.read, counts.new, counts.unchanged, counts.deleted) == (5, 1, 4, 2)  # a moved row is a new hash


def test_the_template_maps_the_usual_columns(tmp_path: Path) -> None:
    spec = load_mapping(TEMPLATES_DIR / "googlesheets_customers.yaml")
    assert {"Name", "Email", "Phone"} <= {c for rule in spec.fields for c in rule.from_}
