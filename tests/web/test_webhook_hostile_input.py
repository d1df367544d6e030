"""Hostile input: random and corrupted bodies never crash the parser or the webhook (hypothesis)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from web_helpers import SECRET, write_project

from connectors.webforms import ParsedSubmission, PayloadError, parse_submission, sign_typeform
from crmsync.config import Project, load_project
from crmsync.web import create_app

CONTENT_TYPES = st.sampled_from([
    "application/json", "application/json; charset=utf-8", "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=xyz", "multipart/form-data", "text/plain", "", "application/vnd.api+json",
    "application/x-www-form-urlencoded; charset=latin-1", "application/json; charset=nonsense",
])
JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
                           lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                                        max_size=4), max_leaves=20)


@given(content_type=CONTENT_TYPES, body=st.binary(max_size=2000))
@settings(max_examples=300, deadline=None)
def test_random_bytes_give_a_submission_or_a_clear_error(content_type: str, body: bytes) -> None:
    try:
        parsed = parse_submission(content_type, body, {})
    except PayloadError as exc:
        assert str(exc)
        return
    assert isinstance(parsed, ParsedSubmission) and parsed.submission_id


@given(document=JSON_VALUES)
@settings(max_examples=300, deadline=None)
def test_any_json_document_gives_a_submission_or_a_clear_error(document: object) -> None:
    body = json.dumps(document).encode()
    try:
        parsed = parse_submission("application/json", body, {})
    except PayloadError as exc:
        assert "JSON" in str(exc) or "Typeform" in str(exc) or "JotForm" in str(exc) or "fields" in str(exc)
        return
    assert all(isinstance(v, str | None) for v in parsed.fields.values())


@given(typeform=st.fixed_dictionaries({"form_response": st.dictionaries(
    st.sampled_from(["answers", "token", "hidden", "definition", "variables", "submitted_at"]), JSON_VALUES)}))
@settings(max_examples=200, deadline=None)
def test_corrupted_typeform_payloads_are_400_not_500(typeform: dict[str, object]) -> None:
    body = json.dumps(typeform).encode()
    with contextlib.suppress(PayloadError):  # a clear error is fine; anything else fails the test
        parse_submission("application/json", body, {})


@pytest.fixture
def sqlite_client(tmp_path: Path, forms_env: None) -> Iterator[TestClient]:
    project: Project = load_project(write_project(tmp_path / "p", f"sqlite:///{tmp_path / 'c.db'}"))
    with TestClient(create_app(project), raise_server_exceptions=True) as client:
        yield client


@given(content_type=CONTENT_TYPES, body=st.binary(max_size=600))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_the_webhook_never_answers_500(sqlite_client: TestClient, content_type: str, body: bytes) -> None:
    headers = {"content-type": content_type, "typeform-signature": sign_typeform(SECRET, body)}
    answer = sqlite_client.post("/hooks/forms/website", content=body, headers=headers)
    assert answer.status_code in (200, 400, 413, 415), answer.text
    assert "detail" in answer.json() or answer.json()["status"] in ("accepted", "duplicate", "test")
