"""The Sheets emulator refuses what Google refuses: A1 ranges, credentials, error bodies, trimming."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from urllib.parse import quote

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.googlesheets.emulator import Formatted, GoogleSheetsEmulator, column_letter
from connectors.googlesheets.source import GoogleSheetsSource
from connectors.testing.suite import Harness, read
from tests.connectors.googlesheets.emulator_fixtures import (
    ACCESS_TOKEN,
    API_KEY,
    SPREADSHEET,
    TAB,
    config_for,
    start_emulator,
)

pytestmark = pytest.mark.emulator
AUTH = {"Authorization": f"Bearer {ACCESS_TOKEN}"}


@pytest.fixture
def api() -> Iterator[GoogleSheetsEmulator]:
    emulator = start_emulator()
    emulator.add_sheet(SPREADSHEET, "Data", [["a", "b", "", ""], [1, 2.5, True, Formatted("01.03.2024", 45352)],
                                             [], ["x"], ["", "", ""]])
    yield emulator
    emulator.stop()


def values(api: GoogleSheetsEmulator, a1: str, **params: str) -> requests.Response:
    return requests.get(f"{api.url}/v4/spreadsheets/{SPREADSHEET}/values/{quote(a1, safe='')}", params=params,
                        headers=AUTH, timeout=5)


def test_values_are_formatted_and_trailing_empties_dropped(api: GoogleSheetsEmulator) -> None:
    body = values(api, "Data").json()
    assert body["values"] == [["a", "b"], ["1", "2.5", "TRUE", "01.03.2024"], [], ["x"]]
    assert body["majorDimension"] == "ROWS" and body["range"].startswith("Data!A1:")
    raw = values(api, "Data!A2:D2", valueRenderOption="UNFORMATTED_VALUE").json()
    assert raw["values"] == [[1, 2.5, True, 45352]]
    assert values(api, "Data!A5:C9").json() == {"range": "Data!A5:C9", "majorDimension": "ROWS"}


@pytest.mark.parametrize("a1, expected", [
    ("Data!B1:B2", [["b"], ["2.5"]]),
    ("Data!2:2", [["1", "2.5", "TRUE", "01.03.2024"]]),
    ("Data!A:A", [["a"], ["1"], [], ["x"]]),
    ("Data!A4", [["x"]]),
    ("'Data'!A1:A1", [["a"]]),
    ("A1:B1", [["Customer export, 2024"]]),  # no sheet: the first tab
])
def test_a1_ranges(api: GoogleSheetsEmulator, a1: str, expected: list[list[str]]) -> None:
    response = values(api, a1)
    assert response.status_code == 200, response.text
    assert response.json().get("values") == expected


@pytest.mark.parametrize("a1", [f"{TAB}!A1:B2", "Nope!A1", "'Data!A1", "Data!1A:2", "Data!A", "'Clients list'x"])
def test_ranges_google_would_not_parse_are_400(api: GoogleSheetsEmulator, a1: str) -> None:
    response = values(api, a1)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["status"] == "INVALID_ARGUMENT" and error["message"].startswith("Unable to parse range")


def test_quoted_names_with_spaces_and_quotes(api: GoogleSheetsEmulator) -> None:
    api.add_sheet(SPREADSHEET, "Q1 '24", [["k"]])
    assert values(api, "'Q1 ''24'!A1").json()["values"] == [["k"]]
    assert values(api, f"'{TAB}'!3:3").json()["values"] == [["Name", "Email", "Phone", "City"]]


def test_batch_get_returns_a_value_range_per_range(api: GoogleSheetsEmulator) -> None:
    response = requests.get(f"{api.url}/v4/spreadsheets/{SPREADSHEET}/values:batchGet",
                            params=[("ranges", "Data!A1:A2"), ("ranges", "Data!A4")], headers=AUTH, timeout=5)
    body = response.json()
    assert body["spreadsheetId"] == SPREADSHEET
    assert [r["values"] for r in body["valueRanges"]] == [[["a"], ["1"]], [["x"]]]


def test_columns_major_dimension(api: GoogleSheetsEmulator) -> None:
    assert values(api, "Data!A1:B2", majorDimension="COLUMNS").json()["values"] == [["a", "1"], ["b", "2.5"]]


def test_credentials_are_refused_in_googles_shapes(api: GoogleSheetsEmulator) -> None:
    url = f"{api.url}/v4/spreadsheets/{SPREADSHEET}"
    missing = requests.get(url, timeout=5)
    assert missing.status_code == 403 and missing.json()["error"]["status"] == "PERMISSION_DENIED"
    bad_key = requests.get(url, params={"key": "nope"}, timeout=5)
    assert bad_key.status_code == 400 and bad_key.json()["error"]["details"][0]["reason"] == "API_KEY_INVALID"
    assert requests.get(url, params={"key": API_KEY}, timeout=5).status_code == 200
    expired = requests.get(url, headers={"Authorization": "Bearer ya29.nope"}, timeout=5)
    assert expired.status_code == 401 and expired.json()["error"]["status"] == "UNAUTHENTICATED"
    unknown = requests.get(f"{api.url}/v4/spreadsheets/nope", headers=AUTH, timeout=5)
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == 404


def test_the_read_quota_is_per_user_and_refills() -> None:
    api = start_emulator(reads_per_minute=2, quota_window=0.5)
    try:
        url = f"{api.url}/v4/spreadsheets/{SPREADSHEET}"
        codes = [requests.get(url, headers=AUTH, timeout=5).status_code for _ in range(3)]
        assert codes == [200, 200, 429]
        refused = requests.get(url, headers=AUTH, timeout=5)
        assert refused.json()["error"]["status"] == "RESOURCE_EXHAUSTED" and "Retry-After" not in refused.headers
        assert requests.get(url, params={"key": API_KEY}, timeout=5).status_code == 200  # another user
        import time

        time.sleep(0.6)
        assert requests.get(url, headers=AUTH, timeout=5).status_code == 200
    finally:
        api.stop()


def test_column_letters() -> None:
    assert [column_letter(i) for i in (0, 25, 26, 701, 702)] == ["A", "Z", "AA", "ZZ", "AAA"]


# ------------------------------------------------------------------ any tab name, any cell text (hypothesis)

_TITLES = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=16).filter(
    lambda t: t.strip() == t and t)
_BOOKS = itertools.count()
_CELLS = st.one_of(st.text(max_size=10), st.integers(), st.booleans(), st.none())


@pytest.fixture(scope="module")
def shared_api() -> Iterator[GoogleSheetsEmulator]:
    emulator = start_emulator(reads_per_minute=None)
    yield emulator
    emulator.stop()


@given(title=_TITLES, rows=st.lists(st.lists(_CELLS, max_size=5), max_size=8))
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_tab_name_and_cells_read_back_through_the_source(shared_api: GoogleSheetsEmulator, title: str,
                                                             rows: list[list[object]]) -> None:
    spreadsheet = f"book{next(_BOOKS)}"
    shared_api.add_spreadsheet(spreadsheet, "Random")
    data = [["Name", "Email", "Phone", "City", "Notes", "Tags"], *[[f"r{i}", *row] for i, row in enumerate(rows)]]
    shared_api.add_sheet(spreadsheet, title, data)
    config = config_for(shared_api, spreadsheet_id=spreadsheet, sheets=[title], page_rows=1000)
    result = read(Harness(GoogleSheetsSource(), "connectors.googlesheets", title, config, lambda n: []))
    assert not result.errors, result.errors
    assert [r["Name"] for r in result.records] == [f"r{i}" for i in range(len(rows))]
    assert all(r["_sheet"] == title for r in result.records)
