"""A Google Sheets emulator with a customers tab, and configs for each kind of credentials."""

from __future__ import annotations

import json
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from connectors.googlesheets.emulator import GoogleSheetsEmulator

API_KEY = "AIzaSyEmulatorKey-0123456789abcdef"
ACCESS_TOKEN = "ya29.fixed-access-token-abcdef"
SPREADSHEET = "1BxiMVs0XRA5nFMdKvBdBZjgmUUqptlbs74OgvE2upms"
TITLE = "Customers 2024"
TAB = "Clients list"  # a space: A1 ranges must quote it
HEADER = ["Name", "Email", "Phone", "City"]
SA_EMAIL = "crmsync-reader@project-1234.iam.gserviceaccount.com"


def make_key() -> tuple[str, str]:
    """A fresh RSA key pair: (private PEM, public PEM)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private, public


KEY_PAIR = make_key()


def start_emulator(**kwargs: Any) -> GoogleSheetsEmulator:
    """A started emulator holding the customers spreadsheet with a title row and a header."""
    kwargs.setdefault("api_key", API_KEY)
    kwargs.setdefault("access_token", ACCESS_TOKEN)
    kwargs.setdefault("service_account", (SA_EMAIL, KEY_PAIR[1]))
    api = GoogleSheetsEmulator(**kwargs)
    api.start()
    api.add_spreadsheet(SPREADSHEET, TITLE)
    api.add_sheet(SPREADSHEET, TAB, [["Customer export, 2024"], [], HEADER])
    return api


def person(n: int) -> list[Any]:
    return [f"Person {n}", f"person{n}@example.test", f"+1 415 555 {n:04d}", "San Francisco" if n % 2 else "LA"]


def add_people(api: GoogleSheetsEmulator, count: int) -> list[str]:
    """Append `count` new people to the tab; their e-mails."""
    sheet = api.books[SPREADSHEET].sheet(TAB)
    assert sheet is not None
    start = len(sheet.rows)
    rows = [person(start + i) for i in range(count)]
    api.append_rows(SPREADSHEET, TAB, rows)
    return [r[1] for r in rows]


def service_account_info(api: GoogleSheetsEmulator, private_pem: str | None = None) -> str:
    """A JSON key file whose token_uri is the emulator's."""
    return json.dumps({"type": "service_account", "project_id": "project-1234", "private_key_id": "k1",
                       "private_key": private_pem or KEY_PAIR[0], "client_email": SA_EMAIL,
                       "token_uri": f"{api.url}/token"})


def config_for(api: GoogleSheetsEmulator, **overrides: Any) -> dict[str, Any]:
    """Fast retries, small pages, frequent checkpoints; the fixed access token unless overridden."""
    config: dict[str, Any] = {
        "spreadsheet_id": SPREADSHEET, "base_url": api.url, "requests_per_minute": None, "timeout_seconds": 1.0,
        "max_retries": 3, "backoff_seconds": 0.05, "max_wait_seconds": 2.0, "checkpoint_every": 5, "page_rows": 400,
    }
    if not {"api_key", "service_account_info", "service_account_file"} & set(overrides):
        config["access_token"] = ACCESS_TOKEN
    config.update(overrides)
    return {k: v for k, v in config.items() if v is not None or k == "requests_per_minute"}
