"""Web-form posts → flat fields and a submission id, for generic JSON, forms, Tilda, JotForm, Typeform.

The submission id makes the inbox idempotent, so it must be the same on every retry of one
submission: the sender's own id where the shape has one (Typeform token, JotForm
submissionID, Tilda tranid, a Standard Webhooks `webhook-id`, an `Idempotency-Key`), else
a hash of the exact body.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

from connectors.jotform.answers import JotformShapeError, flatten_raw_request
from connectors.typeform.answers import TypeformShapeError, flatten_response

__all__ = ["Fields", "ParsedSubmission", "PayloadError", "UnsupportedMediaType", "parse_submission"]

Fields = dict[str, str | None]
_ID_KEYS = ("submission_id", "submissionId", "submissionID", "id", "event_id", "tranid")
_MAX_FIELDS = 1000


class PayloadError(ValueError):
    """The body cannot be read as a submission (answer 400); the message says what is wrong."""


class UnsupportedMediaType(PayloadError):
    """The Content-Type is not one the inbox reads (answer 415)."""


@dataclass(frozen=True)
class ParsedSubmission:
    """What a post carried: its shape, flat fields and the id that de-duplicates it."""

    shape: str  # json | form | tilda | jotform | typeform
    submission_id: str
    fields: Fields = field(default_factory=dict)
    test: bool = False  # a connection test (Tilda's `test=test`): answer 200, store nothing


def _text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return json.dumps(value)
    return json.dumps(value, ensure_ascii=False)


def _flatten(obj: Mapping[str, Any], prefix: str = "") -> Fields:
    """Nested objects → dotted keys; lists of scalars → 'a, b'; other lists → JSON text."""
    out: Fields = {}
    for key, value in obj.items():
        name = f"{prefix}{str(key).strip()}"
        if isinstance(value, Mapping):
            out.update(_flatten(value, f"{name}."))
        elif isinstance(value, list) and all(not isinstance(v, Mapping | list) for v in value):
            out[name] = ", ".join(str(_text(v)) for v in value if _text(v) is not None) or None
        else:
            out[name] = _text(value)
    return out


def _body_id(body: bytes) -> str:
    return "sha256:" + hashlib.sha256(body).hexdigest()


def _pick_id(values: Mapping[str, Any], headers: Mapping[str, str], body: bytes) -> str:
    for key in ("webhook-id", "idempotency-key"):
        if headers.get(key, "").strip():
            return headers[key].strip()[:200]
    for key in _ID_KEYS:
        value = values.get(key)
        if isinstance(value, str | int) and not isinstance(value, bool) and str(value).strip():
            return str(value).strip()[:200]
    return _body_id(body)


def _decode(body: bytes, charset: str | None) -> str:
    encoding = (charset or "utf-8").strip().lower() or "utf-8"
    try:
        return body.decode("utf-8-sig" if encoding in ("utf-8", "utf8") else encoding)
    except LookupError:
        raise PayloadError(f"unknown charset {charset!r} in Content-Type: send UTF-8") from None
    except UnicodeDecodeError as exc:
        raise PayloadError(f"body is not valid {encoding} text (byte {exc.start}): send UTF-8") from None


def _parse_json(body: bytes, charset: str | None, headers: Mapping[str, str]) -> ParsedSubmission:
    text = _decode(body, charset)
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PayloadError(f"body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    if not isinstance(document, dict):
        raise PayloadError(f"expected a JSON object ({{...}}) with the submission's fields, got a JSON "
                           f"{type(document).__name__}")
    if "form_response" in document:
        return _typeform(document, headers, body)
    if "rawRequest" in document and ("submissionID" in document or "formID" in document):
        return _jotform({k: _text(v) for k, v in document.items()}, headers, body)
    fields = _flatten(document)
    _check_size(fields)
    return ParsedSubmission("json", _pick_id(document, headers, body), fields)


def _typeform(document: Mapping[str, Any], headers: Mapping[str, str], body: bytes) -> ParsedSubmission:
    response = document.get("form_response")
    if not isinstance(response, Mapping):
        raise PayloadError("Typeform payload: form_response must be an object")
    try:
        fields = flatten_response(response)
    except TypeformShapeError as exc:
        raise PayloadError(f"Typeform payload: {exc}") from None
    if document.get("event_id"):
        fields["event_id"] = _text(document["event_id"])
    token = response.get("token")
    submission_id = str(token) if token else _pick_id(document, headers, body)
    _check_size(fields)
    return ParsedSubmission("typeform", submission_id, fields)


def _jotform(values: Mapping[str, str | None], headers: Mapping[str, str], body: bytes) -> ParsedSubmission:
    raw = values.get("rawRequest") or "{}"
    try:
        request = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise PayloadError(f"JotForm payload: rawRequest is not valid JSON ({exc.msg})") from None
    if not isinstance(request, dict):
        raise PayloadError("JotForm payload: rawRequest must be a JSON object")
    try:
        fields = flatten_raw_request(request)
    except JotformShapeError as exc:
        raise PayloadError(f"JotForm payload: {exc}") from None
    for key, target in (("formID", "form_id"), ("submissionID", "id"), ("ip", "ip"), ("formTitle", "form_title")):
        if values.get(key):
            fields[target] = values[key]
    submission_id = values.get("submissionID") or _pick_id(values, headers, body)
    _check_size(fields)
    return ParsedSubmission("jotform", str(submission_id), fields)


def _form_fields(pairs: list[tuple[str, str]]) -> dict[str, str | None]:
    values: dict[str, list[str]] = {}
    for key, value in pairs:
        values.setdefault(key, []).append(value)
    return {key: ", ".join(v for v in items if v) or None for key, items in values.items()}


def _from_form(values: dict[str, str | None], headers: Mapping[str, str], body: bytes) -> ParsedSubmission:
    _check_size(values)
    if "rawRequest" in values and ("submissionID" in values or "formID" in values):
        return _jotform(values, headers, body)
    if values == {"test": "test"}:
        return ParsedSubmission("tilda", "test", {}, test=True)
    if "tranid" in values or "formid" in values:
        submission_id = values.get("tranid") or _pick_id(values, headers, body)
        return ParsedSubmission("tilda", str(submission_id), values)
    return ParsedSubmission("form", _pick_id(values, headers, body), values)


def _parse_urlencoded(body: bytes, charset: str | None, headers: Mapping[str, str]) -> ParsedSubmission:
    text = _decode(body, charset)
    try:
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text.strip()),
                          encoding=charset or "utf-8", errors="strict", max_num_fields=_MAX_FIELDS)
    except UnicodeDecodeError:
        raise PayloadError("form body has %-escapes that are not valid UTF-8: send UTF-8") from None
    except ValueError as exc:
        raise PayloadError(f"body is not valid application/x-www-form-urlencoded: {exc}") from None
    if not pairs:
        raise PayloadError("form body is empty: send the submission's fields as name=value pairs")
    return _from_form(_form_fields(pairs), headers, body)


def _parse_multipart(body: bytes, options: Mapping[bytes, bytes], headers: Mapping[str, str]) -> ParsedSubmission:
    boundary = options.get(b"boundary")
    if not boundary:
        raise PayloadError("multipart/form-data without a boundary parameter in Content-Type")
    parts: list[dict[str, Any]] = []
    current: dict[str, Any] = {}
    header_name = bytearray()
    header_value = bytearray()

    def on_part_begin() -> None:
        current.clear()
        current.update(headers={}, data=bytearray())

    def on_header_field(data: bytes, start: int, end: int) -> None:
        header_name.extend(data[start:end])

    def on_header_value(data: bytes, start: int, end: int) -> None:
        header_value.extend(data[start:end])

    def on_header_end() -> None:
        current["headers"][bytes(header_name).lower()] = bytes(header_value)
        header_name.clear()
        header_value.clear()

    def on_part_data(data: bytes, start: int, end: int) -> None:
        current["data"].extend(data[start:end])

    def on_part_end() -> None:
        parts.append(dict(current))

    parser = MultipartParser(boundary, {
        "on_part_begin": on_part_begin, "on_header_field": on_header_field, "on_header_value": on_header_value,
        "on_header_end": on_header_end, "on_part_data": on_part_data, "on_part_end": on_part_end})
    try:
        parser.write(body)
        parser.finalize()
    except FormParserError as exc:
        reason = exc.args[0] if exc.args else type(exc).__name__
        raise PayloadError(f"body is not valid multipart/form-data: {reason}") from None
    pairs: list[tuple[str, str]] = []
    for part in parts[:_MAX_FIELDS + 1]:
        _, disposition = parse_options_header(part["headers"].get(b"content-disposition", b""))
        name = disposition.get(b"name")
        if name is None:
            raise PayloadError("a multipart part has no Content-Disposition name")
        if b"filename" in disposition:  # uploads are not kept in the inbox; their name is
            pairs.append((name.decode("utf-8", "replace"), disposition[b"filename"].decode("utf-8", "replace")))
            continue
        try:
            pairs.append((name.decode("utf-8"), bytes(part["data"]).decode("utf-8")))
        except UnicodeDecodeError:
            raise PayloadError(f"multipart field {name.decode('utf-8', 'replace')!r} is not UTF-8 text") from None
    if not pairs:
        raise PayloadError("multipart body has no fields")
    return _from_form(_form_fields(pairs), headers, body)


def _check_size(fields: Mapping[str, Any]) -> None:
    if len(fields) > _MAX_FIELDS:
        raise PayloadError(f"submission has {len(fields)} fields; at most {_MAX_FIELDS} are accepted")


def parse_submission(content_type: str | None, body: bytes, headers: Mapping[str, str]) -> ParsedSubmission:
    """Read a post's body by its Content-Type; raises PayloadError or UnsupportedMediaType."""
    if not body.strip():
        raise PayloadError("body is empty: send the submission as JSON or form fields")
    media, options = parse_options_header(content_type or "")
    media_type = media.decode("latin-1").lower()
    charset = options.get(b"charset", b"").decode("latin-1") or None
    if media_type in ("application/json", "text/json") or media_type.endswith("+json"):
        return _parse_json(body, charset, headers)
    if media_type == "application/x-www-form-urlencoded":
        return _parse_urlencoded(body, charset, headers)
    if media_type == "multipart/form-data":
        return _parse_multipart(body, options, headers)
    shown = media_type or "(none)"
    raise UnsupportedMediaType(f"unsupported Content-Type {shown}: send application/json, "
                               "application/x-www-form-urlencoded or multipart/form-data")
