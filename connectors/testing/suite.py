"""The shared connector test suite: every crmsync source passes the same tests.

A connector's test module subclasses `ConnectorSuite` and provides a `harness` fixture (a
`Harness`: the source, a good and a bad config, a way to make new records appear, and the
emulator when the source talks HTTP). pytest then runs every `test_*` below for it:

    class TestTwilio(ConnectorSuite):
        @pytest.fixture
        def harness(self) -> Iterator[Harness]: ...
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from airbyte_cdk.models import AirbyteMessage, Status, Type
from airbyte_cdk.sources import AbstractSource
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from connectors.common.stream import RECORD_ID_KEY, read_in_process
from connectors.testing.emulator import Emulator

__all__ = ["ConnectorSuite", "Harness", "ReadResult", "read"]

LOGGER = logging.getLogger("airbyte")
ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Harness:
    """What the suite needs to know about one connector under test."""

    source: AbstractSource
    module: str  # e.g. "connectors.twilio", run as `python -m` for the protocol test
    stream: str  # the stream the record tests read
    config: dict[str, Any]  # good credentials, fast retries, small pages
    add_records: Callable[[int], list[str]]  # make n new records exist at the source; their `_record_id`s
    bad_config: dict[str, Any] | None = None  # wrong credentials (None: the source has none)
    secrets: list[str] = field(default_factory=list)  # must never appear in any message
    secret_fields: list[str] = field(default_factory=list)  # spec properties that must be airbyte_secret
    emulator: Emulator | None = None  # None: no HTTP, the fault tests are skipped
    fault_group: str | None = None  # the emulator route group the stream's reads go to
    max_reemitted: int = 0  # records of a finished read a later incremental read may repeat (ties, look-back)
    credential_words: tuple[str, ...] = ("credentials",)


@dataclass
class ReadResult:
    """Everything one read produced."""

    messages: list[AirbyteMessage]
    errors: list[str]

    @property
    def records(self) -> list[Mapping[str, Any]]:
        return [m.record.data for m in self.messages if m.type == Type.RECORD and m.record]

    @property
    def ids(self) -> list[str]:
        return [str(r[RECORD_ID_KEY]) for r in self.records]

    @property
    def states(self) -> list[dict[str, Any]]:
        found = []
        for m in self.messages:
            if m.type == Type.STATE and m.state and m.state.stream and m.state.stream.stream_state is not None:
                found.append(dict(vars(m.state.stream.stream_state)))
        return found

    @property
    def final_state(self) -> dict[str, Any]:
        return self.states[-1] if self.states else {}

    def text(self) -> str:
        """Every message as JSON text, to look for leaked secrets."""
        return "\n".join(repr(m) for m in self.messages) + "\n" + "\n".join(self.errors)


def read(harness: Harness, state: dict[str, Any] | None = None, config: dict[str, Any] | None = None) -> ReadResult:
    """An incremental read of the harness's stream, collecting errors instead of raising."""
    messages: list[AirbyteMessage] = []
    errors: list[str] = []
    saved = {harness.stream: state} if state else None
    try:
        for message in read_in_process(harness.source, config or harness.config, [harness.stream], saved):
            messages.append(message)
            if message.type == Type.TRACE and message.trace and message.trace.error:
                errors.append(message.trace.error.message or "")
    except AirbyteTracedException as exc:
        errors.append(exc.message or str(exc))
    return ReadResult(messages, errors)


def _airbyte(harness: Harness, tmp: Path, *args: str, config: dict[str, Any] | None = None,
             catalog: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    argv = [sys.executable, "-m", harness.module, *args]
    for flag, value in (("--config", config), ("--catalog", catalog)):
        if value is not None:
            path = tmp / f"{flag.strip('-')}.json"
            path.write_text(json.dumps(value), encoding="utf-8")
            argv += [flag, str(path)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(argv, cwd=tmp, env=env, capture_output=True, text=True, timeout=120, check=False)
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]


class ConnectorSuite:
    """The tests every source passes; subclasses provide the `harness` fixture."""

    # ------------------------------------------------------------ protocol

    def test_spec_describes_the_config_and_masks_secrets(self, harness: Harness) -> None:
        spec = harness.source.spec(LOGGER)
        schema = spec.connectionSpecification
        assert schema["type"] == "object" and schema["properties"]
        for name in harness.secret_fields:
            assert schema["properties"][name].get("airbyte_secret") is True, name
        assert spec.supportsIncremental

    def test_check_accepts_good_credentials(self, harness: Harness) -> None:
        status = harness.source.check(LOGGER, harness.config)
        assert status.status == Status.SUCCEEDED, status.message

    def test_check_rejects_bad_credentials_clearly(self, harness: Harness) -> None:
        if harness.bad_config is None:
            pytest.skip("this source has no credentials")
        status = harness.source.check(LOGGER, harness.bad_config)
        assert status.status == Status.FAILED
        message = status.message or ""
        assert any(word in message for word in harness.credential_words), message
        for secret in harness.secrets:
            assert secret not in message

    def test_check_names_a_bad_config_key(self, harness: Harness) -> None:
        status = harness.source.check(LOGGER, {**harness.config, "no_such_key": 1})
        assert status.status == Status.FAILED
        assert "no_such_key" in (status.message or "")

    def test_discover_lists_incremental_streams(self, harness: Harness) -> None:
        catalog = harness.source.discover(LOGGER, harness.config)
        streams = {s.name: s for s in catalog.streams}
        assert harness.stream in streams
        stream = streams[harness.stream]
        assert stream.source_defined_cursor and stream.default_cursor_field
        assert stream.source_defined_primary_key == [[RECORD_ID_KEY]]

    def test_protocol_over_the_command_line(self, harness: Harness, tmp_path: Path) -> None:
        harness.add_records(3)
        assert any(m["type"] == "SPEC" for m in _airbyte(harness, tmp_path, "spec"))
        checked = [m for m in _airbyte(harness, tmp_path, "check", config=harness.config)
                   if m["type"] == "CONNECTION_STATUS"]
        assert checked and checked[0]["connectionStatus"]["status"] == "SUCCEEDED", checked
        streams = [s for s in harness.source.streams(harness.config) if s.name == harness.stream]
        catalog = _catalog_dict(streams)
        records = [m for m in _airbyte(harness, tmp_path, "read", config=harness.config, catalog=catalog)
                   if m["type"] == "RECORD"]
        assert len(records) == 3

    # ------------------------------------------------------------ reading

    def test_full_read_returns_every_record_once(self, harness: Harness) -> None:
        made = harness.add_records(23)
        result = read(harness)
        assert not result.errors, result.errors
        assert sorted(result.ids) == sorted(made)
        assert result.final_state

    def test_incremental_read_resumes_from_saved_state(self, harness: Harness) -> None:
        first_ids = harness.add_records(12)
        first = read(harness)
        assert sorted(first.ids) == sorted(first_ids)
        new_ids = harness.add_records(7)
        second = read(harness, first.final_state)
        assert not second.errors, second.errors
        assert set(new_ids) <= set(second.ids)
        assert len(set(second.ids) & set(first_ids)) <= harness.max_reemitted
        third = read(harness, second.final_state)
        assert len(third.ids) <= harness.max_reemitted

    def test_a_read_killed_midway_resumes_without_loss(self, harness: Harness) -> None:
        made = harness.add_records(40)
        full = read(harness)
        assert len(full.states) >= 2, "the harness config should checkpoint several times in 40 records"
        # Kill after the first checkpoint: what the store committed is the records before it, with it.
        committed: list[str] = []
        checkpoint: dict[str, Any] | None = None
        for message in full.messages:
            if message.type == Type.RECORD and message.record:
                committed.append(str(message.record.data[RECORD_ID_KEY]))
            elif message.type == Type.STATE and message.state and message.state.stream:
                checkpoint = dict(vars(message.state.stream.stream_state))
                break
        resumed = read(harness, checkpoint)
        assert not resumed.errors, resumed.errors
        assert set(committed) | set(resumed.ids) == set(made)

    # ------------------------------------------------------------ errors

    def _emulator(self, harness: Harness) -> Emulator:
        if harness.emulator is None:
            pytest.skip("no HTTP emulator for this source")
        return harness.emulator

    def test_bad_credentials_fail_the_read_clearly(self, harness: Harness) -> None:
        if harness.bad_config is None:
            pytest.skip("this source has no credentials")
        harness.add_records(2)
        result = read(harness, config=harness.bad_config)
        assert result.errors and not result.records
        assert any(any(word in e for word in harness.credential_words) for e in result.errors), result.errors
        for secret in harness.secrets:
            assert secret not in result.text()

    @pytest.mark.parametrize("fault", ["429", "503", "500", "drop", "timeout"])
    def test_transient_faults_are_retried(self, harness: Harness, fault: str) -> None:
        emulator = self._emulator(harness)
        made = harness.add_records(6)
        before = emulator.count(harness.fault_group)
        retry_after = 1.0 if fault == "429" else None
        delay = float(harness.config.get("timeout_seconds", 1.0)) * 3
        emulator.inject(fault, count=2, retry_after=retry_after, delay=delay, group=harness.fault_group)  # type: ignore[arg-type]
        started = time.monotonic()
        result = read(harness)
        assert not result.errors, result.errors
        assert sorted(set(result.ids)) == sorted(made)
        assert emulator.count(harness.fault_group) - before >= 3
        if fault == "429":
            assert time.monotonic() - started >= 2.0, "Retry-After: 1 was not honoured"

    def test_persistent_server_errors_fail_clearly_after_bounded_retries(self, harness: Harness) -> None:
        emulator = self._emulator(harness)
        harness.add_records(2)
        before = emulator.count(harness.fault_group)
        emulator.inject("500", count=1000, group=harness.fault_group)
        result = read(harness)
        emulator.clear_faults()
        assert result.errors
        assert any("500" in e for e in result.errors), result.errors
        attempts = emulator.count(harness.fault_group) - before
        assert attempts == int(harness.config.get("max_retries", 5)) + 1
        for secret in harness.secrets:
            assert secret not in result.text()

    def test_rate_limits_are_respected(self, harness: Harness) -> None:
        emulator = self._emulator(harness)
        made = harness.add_records(12)
        emulator.limit_rate(2, window=1.0, group=harness.fault_group)
        result = read(harness)
        emulator.clear_faults()
        assert not result.errors, result.errors
        assert sorted(set(result.ids)) == sorted(made)


def _catalog_dict(streams: list[Any]) -> dict[str, Any]:
    return {"streams": [{
        "stream": {"name": s.name, "json_schema": {"type": "object"},
                   "supported_sync_modes": ["full_refresh", "incremental"], "source_defined_cursor": True,
                   "default_cursor_field": [str(s.cursor_field)]},
        "sync_mode": "incremental", "destination_sync_mode": "append",
        "cursor_field": [str(s.cursor_field)], "primary_key": [[RECORD_ID_KEY]],
    } for s in streams]}

