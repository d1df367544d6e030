"""One spreadsheet into one CRM (`crmsync migrate`): ingest, dedupe against itself and the CRM, plan, push.

The migration keeps its own store next to the file (`customers.xlsx.crmsync.db`), so a re-run
after a partial failure starts where the last one stopped: the file and the CRM's contacts are
re-read idempotently, golden ids are stable, and what was pushed is recorded with its remote id.

Contacts already in the CRM are read through the CRM's own source connector (source `crm`) and
matched with the file's rows (source `spreadsheet`). A golden record holding a CRM contact
*adopts* it: its cross-reference points at that contact and its "last pushed" hash is what the
contact holds now, so the plan updates it only when the file adds something and never creates
a second contact for the same person. Survivorship prefers the CRM's values: the file fills
gaps and adds phones and e-mails, it does not overwrite what people keep in the CRM.
"""

from __future__ import annotations

import importlib
import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from connectors.files import list_sheets
from connectors.files.model import WORKBOOK_FORMATS, format_from_extension
from dedupe import Matcher, MatchRecord
from dedupe.golden import survive
from dedupe.survivorship import SurvivorshipRules
from mappings import Customer, MappingError, MappingSpec, content_hash, load_mapping
from mappings.outbound import OutboundSpec, load_outbound
from mappings.outbound import template as mapping_template
from sync.ingest import IngestReport, ingest_source
from sync.match import MatchReport, match_store
from sync.push.apply import PushReport, apply_plan
from sync.push.budgets import BudgetExhausted
from sync.push.destination import Destination, DestinationSettings, load_destination
from sync.push.plan import Plan, PlanRow, plan_push
from sync.push.retries import ApiError, TransportError
from sync.redaction import redact
from sync.runs import recorded_run
from sync.store import (
    PushedRecord,
    Store,
    StoredCustomer,
    current_links,
    load_customer_records,
    load_xrefs,
    open_store,
    record_pushes,
)

__all__ = ["CRM_SOURCE", "FILE_SOURCE", "Gathered", "Migration", "customer_label", "mapping_path_for",
           "store_url_for"]

log = logging.getLogger(__name__)

FILE_SOURCE = "spreadsheet"
CRM_SOURCE = "crm"
_FILE_STREAM = "rows"
# the CRM keeps its values; the file fills the gaps (lists are unions either way)
MIGRATION_RULES = SurvivorshipRules(default="source_priority", source_priority=(CRM_SOURCE, FILE_SOURCE))


def store_url_for(file: Path) -> str:
    """The migration's own store: `FILE.crmsync.db` beside the file."""
    return f"sqlite:///{file.resolve().with_name(file.name + '.crmsync.db')}"


def mapping_path_for(file: Path) -> Path:
    """Where the confirmed mapping is saved: `FILE-stem.mapping.yaml` beside the file."""
    return file.resolve().with_name(f"{file.stem}.mapping.yaml")


def _source_spec(connector: str) -> dict[str, Any]:
    """The JSON schema of a connector source's config (its Airbyte `spec`)."""
    module = importlib.import_module(f"connectors.{connector}")
    names = [n for n in getattr(module, "__all__", ()) if n.endswith("Source")]
    if not names:
        raise LookupError(f"connectors.{connector} has no source to read the CRM's contacts with")
    source = getattr(module, names[0])()
    spec = source.spec(log)
    return dict(spec.connectionSpecification)


@dataclass
class Gathered:
    """What reading and matching found: the file, the CRM's contacts, the golden records."""

    file: IngestReport
    crm: IngestReport
    match: MatchReport
    file_rows: int = 0  # rows of the file that became customers
    customers_in_file: int = 0  # golden records holding at least one file row
    already_in_crm: int = 0  # ... of which also hold a CRM contact
    crm_contacts: int = 0
    adopted: int = 0  # CRM contacts newly linked to a customer of the file this run

    @property
    def failed(self) -> str | None:
        """Why the migration cannot go on (a source that could not be read), else None."""
        for name, report in (("reading the file", self.file), ("reading the CRM's contacts", self.crm)):
            if report.error:
                return f"{name}: {report.error}"
            for stream in report.streams.values():
                if stream.error:
                    return f"{name}: {stream.error}"
        return None


@dataclass
class _Membership:
    from_file: set[str] = field(default_factory=set)
    crm_records: dict[str, list[StoredCustomer]] = field(default_factory=lambda: defaultdict(list))


class Migration:
    """One file → one CRM destination, with its state in a store (by default beside the file)."""

    def __init__(self, file: Path, mapping: MappingSpec, destination: DestinationSettings, *,
                 matcher: Matcher, sheet: str | None = None, store_url: str | None = None,
                 mapping_name: str = "migrate mapping", outbound: OutboundSpec | None = None) -> None:
        self.file = file.resolve()
        self.mapping = mapping
        self.mapping_name = mapping_name
        self.settings = destination
        self.matcher = matcher
        self.sheet = sheet
        self.outbound: OutboundSpec = outbound or load_outbound(
            mapping_template(f"{destination.connector}_{destination.object}_out"))
        self.store: Store = open_store(store_url or store_url_for(file))
        self._writer: Destination | None = None
        self._membership = _Membership()

    # ------------------------------------------------------------ set-up

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        self.store.dispose()

    def __enter__(self) -> Migration:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @property
    def writer(self) -> Destination:
        if self._writer is None:
            self._writer = load_destination(self.settings)
        return self._writer

    def _file_stream(self) -> tuple[str, dict[str, Any]]:
        entry: dict[str, Any] = {"path": str(self.file), "name": _FILE_STREAM}
        if format_from_extension(self.file) in WORKBOOK_FORMATS:
            sheet = self.sheet or list_sheets(self.file)[0]
            entry["sheets"] = [sheet]
            return f"{_FILE_STREAM}:{sheet}", entry
        return _FILE_STREAM, entry

    def _crm_mapping(self) -> MappingSpec:
        name = f"{self.settings.connector}_{self.settings.object}_in"
        try:
            spec = load_mapping(mapping_template(name))
        except MappingError as exc:
            raise MappingError(f"crmsync cannot read the contacts already in {self.settings.connector!r} yet "
                               f"(no inbound mapping template): {exc}") from None
        defaults = {k: v for k, v in self.mapping.defaults.items() if k.startswith("phone")}
        return spec.model_copy(update={"defaults": {**defaults, **spec.defaults}})

    def _crm_config(self) -> dict[str, Any]:
        """The CRM source's config from the destination's settings, by the source's own spec.

        The credential goes to the spec's secret field (a token, an API key, a webhook URL); the
        connection settings go where the spec has them; `options.source` adds or overrides keys.
        """
        s = self.settings
        schema = _source_spec(s.connector)
        known = schema.get("properties", {})
        secret = next((name for name, prop in known.items() if prop.get("airbyte_secret")), "token")
        config: dict[str, Any] = {}
        credential = s.token.get_secret_value() if s.token is not None else None
        if "base_url" in known and s.base_url:
            config["base_url"] = s.base_url
        elif credential is None and s.base_url:  # a URL that is itself the credential (Bitrix24 webhooks)
            credential = s.base_url
        if credential is not None:
            config[secret] = credential
        for name, value in (("objects", [s.object]), ("rate_limit", s.rate_limit.model_dump()),
                            ("account", s.account), ("timeout_seconds", s.timeout_seconds)):
            if name in known and value is not None:
                config[name] = value
        return {**config, **dict(s.options.get("source", {}))}

    # ------------------------------------------------------------ steps

    def _ingest(self, source: str, connector: str, config: dict[str, Any], stream: str, spec: MappingSpec,
                mapping_name: str) -> IngestReport:
        with recorded_run(self.store, "ingest", source) as run:
            report = ingest_source(self.store, source=source, connector=connector, config=config,
                                   mappings={stream: spec}, mapping_names={stream: mapping_name})
            run.counts = {name: asdict(s) for name, s in report.streams.items()}
            run.error = report.error or "; ".join(s.error for s in report.streams.values() if s.error) or None
        return report

    def gather(self, progress: Callable[[str], None] | None = None) -> Gathered:
        """Read the file and the CRM's contacts, match them, adopt the CRM contacts of the file's customers."""
        say = progress or (lambda _message: None)
        stream, entry = self._file_stream()
        say(f"reading {self.file.name}")
        file_report = self._ingest(FILE_SOURCE, "files", {"base_dir": str(self.file.parent), "files": [entry]},
                                   stream, self.mapping, self.mapping_name)
        say(f"reading the contacts already in {self.settings.name}")
        crm_report = self._ingest(CRM_SOURCE, self.settings.connector, self._crm_config(), self.settings.object,
                                  self._crm_mapping(), f"{self.settings.connector}_{self.settings.object}_in.yaml")
        gathered = Gathered(file_report, crm_report, MatchReport())
        if gathered.failed:
            return gathered
        say("finding duplicates (inside the file and against the CRM)")
        with recorded_run(self.store, "match", None) as run:
            gathered.match = match_store(self.store, self.matcher, run_id=run.run_id, survivorship=MIGRATION_RULES)
            run.counts = asdict(gathered.match)
        self._adopt(gathered)
        return gathered

    def _adopt(self, gathered: Gathered) -> None:
        """Point each golden record holding a CRM contact at that contact (once; later runs keep the xref)."""
        now = datetime.now(UTC)
        membership = _Membership()
        with self.store.session() as session:
            links = current_links(session)
            records = load_customer_records(session)
            for record in records:
                golden_id = links.get(record.pk)
                if golden_id is None:
                    continue
                if record.source == FILE_SOURCE:
                    membership.from_file.add(golden_id)
                    gathered.file_rows += 1
                elif record.source == CRM_SOURCE:
                    membership.crm_records[golden_id].append(record)
                    gathered.crm_contacts += 1
            xrefs = load_xrefs(session, self.settings.name)
            taken = {x.remote_id for x in xrefs.values()}
            adopt: list[PushedRecord] = []
            for golden_id, held in sorted(membership.crm_records.items()):
                # people only in the CRM are left alone: no xref, so a contact this migration created and
                # lost track of (killed before recording it) is found again by the writer's own look-up
                if golden_id in xrefs or golden_id not in membership.from_file:
                    continue
                held.sort(key=lambda r: (len(r.source_record_id), r.source_record_id))  # the oldest contact
                remote_id = held[0].source_record_id
                if remote_id in taken:
                    continue
                # what the CRM holds now, as the push would render it: unchanged people stay no-ops
                view = survive([MatchRecord(r.pk, Customer.model_validate(r.canonical), r.first_seen_at)
                                for r in held], MIGRATION_RULES)
                payload = self.outbound.render(golden_id, view.fields)
                adopt.append(PushedRecord(golden_id, remote_id, content_hash(payload), "adopt",
                                          {"adopted": remote_id}))
                taken.add(remote_id)
            clashes = record_pushes(session, self.settings.name, adopt, now=now, run_id=None)
            gathered.adopted = len(adopt) - len(clashes)
        self._membership = membership
        gathered.customers_in_file = len(membership.from_file)
        gathered.already_in_crm = len(membership.from_file & set(membership.crm_records))

    def plan(self) -> Plan:
        """The push plan for the file's customers; CRM-only people and merges inside the CRM are left alone."""
        writer = self.writer
        plan = plan_push(self.store, self.settings.name, self.outbound,
                         merge_mode=self.settings.merge if writer.supports_merge else "archive",
                         on_retired="keep", unique_fields=getattr(writer, "unique_fields", ()))
        rows: list[PlanRow] = []
        for row in plan.rows:
            if row.action in ("merge", "delete"):
                row = replace(row, action="noop", how="", reason=f"{row.reason}; migrate leaves this to "
                              "`crmsync push`")
            elif row.golden_id not in self._membership.from_file and row.action in ("create", "update", "reject"):
                row = replace(row, action="noop", how="", reason="only in the CRM: migrate leaves it as it is")
            rows.append(row)
        return Plan(plan.destination, rows, plan.generated_at)

    def push(self, plan: Plan) -> PushReport:
        """Apply the plan in a recorded run; what fails stays pending for the next run."""
        with recorded_run(self.store, "push", self.settings.name) as run:
            try:
                self.writer.prepare(self.outbound.targets)
            except (ValueError, ApiError, TransportError, BudgetExhausted) as exc:
                report = PushReport(self.settings.name,
                                    error=redact(f"{self.settings.name} is not ready: {exc}"))
            else:
                report = apply_plan(self.store, self.writer, plan, run_id=run.run_id, workers=self.settings.workers)
            run.counts = {k: v for k, v in asdict(report).items() if k not in ("problems", "destination")}
            run.error = report.error
        return report


def customer_label(payload: dict[str, Any], limit: int = 4) -> str:
    """A short label for a plan row: the first few values it would write (never the golden id)."""
    values = [str(v) for k, v in payload.items() if v not in (None, "") and not k.startswith("crmsync")]
    return ", ".join(values[:limit])
