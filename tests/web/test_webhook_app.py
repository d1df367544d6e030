"""The form-webhook inbox through the ASGI app: every answer code, idempotency, durability (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from web_helpers import SECRET, TOKEN, signed_json, standard_headers

from connectors.webforms import sign_typeform
from crmsync.config import ConfigError, Project
from crmsync.web import create_app
from sync.store import count_submissions, open_store, read_submissions


@pytest.fixture
def client(project: Project) -> Iterator[TestClient]:
    with TestClient(create_app(project)) as test_client:
        yield test_client


def inbox(project: Project, source: str = "website") -> list:
    store = open_store(project.database_url())  # a separate connection: what is committed, not cached
    try:
        with store.session() as session:
            return read_submissions(session, source=source, after_id=0, limit=1000)
    finally:
        store.dispose()


def test_health(client: TestClient) -> None:
    answer = client.get("/health")
    assert answer.status_code == 200
    assert answer.json()["sources"] == ["tilda", "website"]


def test_signed_json_is_stored_before_the_answer_and_only_once(client: TestClient, project: Project) -> None:
    body, headers = signed_json({"submission_id": "s-1", "name": "Ann Lee", "email": "ann@example.test"})
    first = client.post("/hooks/forms/website", content=body, headers=headers)
    assert first.status_code == 200, first.text
    assert first.json()["status"] == "accepted"
    rows = inbox(project)
    assert [(r.submission_id, r.shape, r.body) for r in rows] == [("s-1", "json", body)]
    assert rows[0].fields["email"] == "ann@example.test"

    again = client.post("/hooks/forms/website", content=body, headers=headers)
    assert again.status_code == 200
    assert again.json() == {**first.json(), "status": "duplicate"}
    assert len(inbox(project)) == 1


def test_a_body_without_an_id_is_deduplicated_by_its_hash(client: TestClient, project: Project) -> None:
    body, headers = signed_json({"name": "Bob", "phone": "+7 912 345-67-89"})
    ids = {client.post("/hooks/forms/website", content=body, headers=headers).json()["inbox_id"] for _ in range(3)}
    assert len(ids) == 1
    assert inbox(project)[0].submission_id.startswith("sha256:")


@pytest.mark.parametrize(("headers", "reason"), [
    ({"content-type": "application/json"}, "missing signature"),
    ({"content-type": "application/json", "typeform-signature": "sha256=AAAA"}, "does not match"),
    ({"content-type": "application/json", "typeform-signature": "md5=x"}, "must look like"),
])
def test_bad_or_missing_signatures_get_401(client: TestClient, project: Project, headers: dict[str, str],
                                           reason: str) -> None:
    answer = client.post("/hooks/forms/website", content=b'{"name": "Eve"}', headers=headers)
    assert answer.status_code == 401
    assert reason in answer.json()["detail"]
    assert SECRET not in answer.text
    assert inbox(project) == []


def test_a_signature_made_with_another_secret_gets_401(client: TestClient) -> None:
    body, headers = signed_json({"name": "Eve"}, secret="not-the-secret")
    assert client.post("/hooks/forms/website", content=body, headers=headers).status_code == 401


def test_standard_webhooks_signature_and_replay_window(client: TestClient, project: Project) -> None:
    body = json.dumps({"name": "Ann", "email": "ann@example.test"}).encode()
    fresh = client.post("/hooks/forms/website", content=body, headers=standard_headers(body, "msg_1"))
    assert fresh.status_code == 200, fresh.text
    assert fresh.json()["submission_id"] == "msg_1"

    stale = standard_headers(body, "msg_2", timestamp=int(time.time()) - 3600)
    answer = client.post("/hooks/forms/website", content=body, headers=stale)
    assert answer.status_code == 401
    assert "replay window" in answer.json()["detail"]

    future = standard_headers(body, "msg_3", timestamp=int(time.time()) + 3600)
    assert client.post("/hooks/forms/website", content=body, headers=future).status_code == 401

    tampered = standard_headers(body, "msg_4")
    answer = client.post("/hooks/forms/website", content=body + b" ", headers=tampered)
    assert answer.status_code == 401
    assert [r.submission_id for r in inbox(project)] == ["msg_1"]


def test_oversized_bodies_get_413(client: TestClient, project: Project) -> None:
    body, headers = signed_json({"name": "x" * 5000})
    answer = client.post("/hooks/forms/website", content=body, headers=headers)
    assert answer.status_code == 413
    assert "4096" in answer.json()["detail"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit applies while reading
        yield body[:3000]
        yield body[3000:]

    answer = client.post("/hooks/forms/website", content=chunks(), headers=headers)
    assert answer.status_code == 413
    assert inbox(project) == []


@pytest.mark.parametrize(("content_type", "body", "status", "message"), [
    ("application/json", b'{"name": "Ann",', 400, "not valid JSON"),
    ("application/json", b'["Ann"]', 400, "expected a JSON object"),
    ("application/json", b"\xff\xfe{}", 400, "not valid utf-8"),
    ("application/json", b"   ", 400, "body is empty"),
    ("application/json", b'{"form_response": "x"}', 400, "form_response must be an object"),
    ("application/x-www-form-urlencoded", b"name=%FF", 400, "not valid UTF-8"),
    ("application/x-www-form-urlencoded", b"just-text", 400, "not valid application/x-www-form-urlencoded"),
    ("multipart/form-data", b"--x\r\n", 400, "without a boundary"),
    ("multipart/form-data; boundary=abc", b"nothing like multipart", 400, "not valid multipart"),
    ("text/plain", b"name=Ann", 415, "unsupported Content-Type text/plain"),
])
def test_malformed_bodies_get_a_clear_error(client: TestClient, project: Project, content_type: str,
                                            body: bytes, status: int, message: str) -> None:
    headers = {"content-type": content_type, "typeform-signature": sign_typeform(SECRET, body)}
    answer = client.post("/hooks/forms/website", content=body, headers=headers)
    assert answer.status_code == status, answer.text
    assert message in answer.json()["detail"]
    assert inbox(project) == []


def test_unknown_source_gets_404(client: TestClient) -> None:
    answer = client.post("/hooks/forms/nope", content=b"{}", headers={"content-type": "application/json"})
    assert answer.status_code == 404
    assert "connector: webforms" in answer.json()["detail"]


def test_tilda_form_post_with_url_token(client: TestClient, project: Project) -> None:
    form = {"Name": "Анна Ли", "Email": "anna@example.test", "Phone": "+7 912 345-67-89",
            "tranid": "1234567:8901", "formid": "form42"}
    assert client.post("/hooks/forms/tilda", data=form).status_code == 401  # no token
    assert client.post("/hooks/forms/tilda?token=wrong", data=form).status_code == 401
    answer = client.post(f"/hooks/forms/tilda?token={TOKEN}", data=form)
    assert answer.status_code == 200, answer.text
    assert answer.json()["submission_id"] == "1234567:8901"
    test_post = client.post(f"/hooks/forms/tilda?token={TOKEN}", data={"test": "test"})
    assert test_post.json()["status"] == "test"
    rows = inbox(project, "tilda")
    assert [(r.shape, r.fields["Name"]) for r in rows] == [("tilda", "Анна Ли")]


def test_jotform_multipart_webhook(client: TestClient, project: Project) -> None:
    raw = {"slug": "submit/241", "q3_fullName": {"first": "Ann", "last": "Lee"}, "q4_email": "ann@example.test",
           "q5_phoneNumber": {"full": "+7 912 345-67-89"}}
    files = {"formID": (None, "241"), "submissionID": (None, "5938475623"), "rawRequest": (None, json.dumps(raw)),
             "pretty": (None, "Full Name:Ann Lee, E-mail:ann@example.test")}
    request = client.build_request("POST", "/hooks/forms/website", files=files)
    request.headers["typeform-signature"] = sign_typeform(SECRET, request.read())
    answer = client.send(request)
    assert answer.status_code == 200, answer.text
    (row,) = inbox(project)
    assert row.shape == "jotform" and row.submission_id == "5938475623"
    assert row.fields["fullName.first"] == "Ann" and row.fields["phoneNumber.full"] == "+7 912 345-67-89"
    assert row.fields["form_id"] == "241"


def test_typeform_webhook_payload(client: TestClient, project: Project) -> None:
    payload = {"event_id": "01HX", "event_type": "form_response", "form_response": {
        "form_id": "lT4Z3j", "token": "a3a12ec67a1365927098a606107fac15", "submitted_at": "2024-05-02T10:00:00Z",
        "hidden": {"utm_source": "newsletter"},
        "definition": {"id": "lT4Z3j", "title": "Contact us", "fields": []},
        "answers": [
            {"type": "text", "text": "Ann Lee", "field": {"id": "f1", "type": "short_text", "ref": "name"}},
            {"type": "email", "email": "ann@example.test", "field": {"id": "f2", "type": "email", "ref": "email"}},
            {"type": "choice", "choice": {"label": "Sales"}, "field": {"id": "f3", "type": "multiple_choice"}},
        ]}}
    body, headers = signed_json(payload)
    answer = client.post("/hooks/forms/website", content=body, headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.json()["submission_id"] == "a3a12ec67a1365927098a606107fac15"
    (row,) = inbox(project)
    assert row.shape == "typeform"
    assert {k: row.fields[k] for k in ("name", "email", "f3", "hidden.utm_source", "form_title")} == {
        "name": "Ann Lee", "email": "ann@example.test", "f3": "Sales", "hidden.utm_source": "newsletter",
        "form_title": "Contact us"}


def test_a_broken_database_answers_503_and_the_app_keeps_serving(client: TestClient, project: Project) -> None:
    store = open_store(project.database_url())
    with store.engine.begin() as conn:
        conn.execute(text("ALTER TABLE inbox RENAME TO inbox_away"))
    body, headers = signed_json({"submission_id": "x-1", "name": "Ann"})
    answer = client.post("/hooks/forms/website", content=body, headers=headers)
    assert answer.status_code == 503
    assert answer.headers["retry-after"] == "5"
    with store.engine.begin() as conn:
        conn.execute(text("ALTER TABLE inbox_away RENAME TO inbox"))
    store.dispose()
    assert client.post("/hooks/forms/website", content=body, headers=headers).status_code == 200
    with open_store(project.database_url()).session() as session:
        assert count_submissions(session, "website") == 1


def test_sources_without_a_secret_are_refused_at_startup(project: Project) -> None:
    source = project.sources[0]
    broken = project.model_copy(update={"sources": [source.model_copy(
        update={"config": {**source.config, "secret": None}})]})
    with pytest.raises(ConfigError, match="secret is missing"):
        create_app(broken)


def test_several_webforms_sources_must_each_name_their_inbox(project: Project) -> None:
    unscoped = [s.model_copy(update={"config": {k: v for k, v in s.config.items() if k != "source"}})
                for s in project.sources]
    with pytest.raises(ConfigError, match="set `source: <its name>`"):
        create_app(project.model_copy(update={"sources": unscoped}))
