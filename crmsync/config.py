"""The project file (`crmsync.yaml`): typed, validated on load, secrets from the environment."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from connectors.registry import available_connectors
from dedupe import DEFAULT_RULES, BaselineMatcher, Matcher
from dedupe.baseline import KEY_KINDS
from dedupe.blocking import BLOCKING_KEYS
from dedupe.comparisons import COMPARISONS
from dedupe.engine import MatchSettings, ProbabilisticMatcher
from dedupe.survivorship import FIELD_KINDS, FieldRule, SurvivorshipRules
from mappings import MappingError, MappingSpec, describe_validation_error, load_mapping
from mappings.outbound import OutboundSpec, load_outbound
from mappings.outbound import template as outbound_template
from sync.push.destination import DestinationSettings, available_destinations
from sync.redaction import register_secret

__all__ = [
    "AlertsConfig",
    "ConfigError",
    "DestinationConfig",
    "OrchestrationConfig",
    "Project",
    "ScheduleConfig",
    "SourceConfig",
    "load_project",
    "DEFAULT_PROJECT_FILE",
]

DEFAULT_PROJECT_FILE = "crmsync.yaml"
_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class ConfigError(ValueError):
    """The project file is missing or invalid; the message names the file, the key and the fix."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StoreConfig(_Model):
    url: str | None = Field(None, description="SQLAlchemy URL; CRMSYNC_DATABASE_URL overrides it")


def _check_region(value: str) -> str:
    if not re.fullmatch(r"[A-Z]{2}", value):
        raise ValueError(f"{value!r} is not a two-letter ISO country code such as RU, US, IN")
    return value


class Defaults(_Model):
    phone_region: str | None = Field(None, description="ISO country for national phone numbers")
    phone_fallback_regions: list[str] = Field(
        default_factory=list, description="countries to try, in order, when a national number is invalid"
    )

    @field_validator("phone_region")
    @classmethod
    def _region(cls, value: str | None) -> str | None:
        return None if value is None else _check_region(value)

    @field_validator("phone_fallback_regions")
    @classmethod
    def _fallbacks(cls, value: list[str]) -> list[str]:
        return [_check_region(v) for v in value]


_DURATION = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|d)?\s*")
_UNIT_SECONDS = {None: 1, "s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "d": 86400}


class ScheduleConfig(_Model):
    """When a flow runs: `cron: "0 6 * * 1-5"` or `interval: 15m` (s, m, h, d), in a time zone."""

    cron: str | None = Field(None, description="five-field cron expression, read in `timezone`")
    interval: float | None = Field(None, description="seconds between runs; also '90s', '15m', '1h', '1d'")
    timezone: str = Field("UTC", description="IANA time zone, e.g. Europe/Moscow")
    active: bool = True

    @field_validator("interval", mode="before")
    @classmethod
    def _interval(cls, value: Any) -> Any:
        if isinstance(value, str):
            found = _DURATION.fullmatch(value)
            if not found:
                raise ValueError(f"{value!r} is not a duration; write seconds (300) or 90s, 15m, 1h, 1d")
            value = float(found.group(1)) * _UNIT_SECONDS[found.group(2)]
        if isinstance(value, int | float) and not isinstance(value, bool) and value <= 0:
            raise ValueError(f"interval must be positive, not {value}")
        return value

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        if value is None:
            return None
        from datetime import datetime

        from cronsim import CronSim, CronSimError

        try:
            CronSim(value, datetime(2024, 1, 1))
        except CronSimError as exc:
            raise ValueError(f"{value!r} is not a cron expression ({exc}); e.g. '0 6 * * 1-5' is 06:00 "
                             "on weekdays") from None
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}; use an IANA name such as UTC, Europe/Moscow, "
                             "America/New_York") from None
        return value

    @model_validator(mode="after")
    def _one_kind(self) -> ScheduleConfig:
        if (self.cron is None) == (self.interval is None):
            raise ValueError("give exactly one of `cron` (e.g. '*/15 * * * *') or `interval` (e.g. 15m)")
        return self


class SourceConfig(_Model):
    name: str
    connector: str
    enabled: bool = True
    schedule: ScheduleConfig | None = Field(None, description="ingest this source on its own schedule")
    config: dict[str, Any] = Field(default_factory=dict)
    streams: dict[str, Path] = Field(description="stream name → mapping file (relative to the project)")

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", value):
            raise ValueError(f"{value!r}: use lowercase letters, digits, '-' and '_' (e.g. 'workbook')")
        return value

    @field_validator("connector")
    @classmethod
    def _connector(cls, value: str) -> str:
        known = available_connectors()
        if value not in known:
            raise ValueError(f"unknown connector {value!r}; available: {', '.join(known)}")
        return value


class MatchConfig(_Model):
    """How records become customers: the probabilistic engine (default) or exact rules only."""

    engine: Literal["probabilistic", "exact"] = "probabilistic"
    auto_merge: float = Field(0.95, gt=0, lt=1, description="merge automatically at or above")
    review: float = Field(0.70, gt=0, lt=1, description="suggest a merge to a person at or above")
    blocking: list[str] | None = None  # default: every blocking key the engine knows
    comparisons: list[str] | None = None  # default: every comparison with data
    identifiers: list[str] = Field(default_factory=list, description="custom fields that identify a person")
    max_cluster: int = Field(50, ge=2)
    rules: list[list[str]] = Field(default_factory=lambda: [list(r) for r in DEFAULT_RULES])

    @field_validator("blocking")
    @classmethod
    def _blocking(cls, value: list[str] | None) -> list[str] | None:
        unknown = [k for k in value or [] if k not in BLOCKING_KEYS]
        if unknown:
            raise ValueError(f"unknown blocking key(s) {unknown}; known: {sorted(BLOCKING_KEYS)}")
        return value

    @field_validator("comparisons")
    @classmethod
    def _comparisons(cls, value: list[str] | None) -> list[str] | None:
        unknown = [k for k in value or [] if k not in COMPARISONS]
        if unknown:
            raise ValueError(f"unknown comparison(s) {unknown}; known: {sorted(COMPARISONS)}")
        return value

    @model_validator(mode="after")
    def _thresholds(self) -> MatchConfig:
        if self.review > self.auto_merge:
            raise ValueError(f"review ({self.review}) must not be above auto_merge ({self.auto_merge})")
        return self

    def matcher(self) -> Matcher:
        """The configured matcher."""
        if self.engine == "exact":
            return BaselineMatcher([tuple(rule) for rule in self.rules])
        settings = MatchSettings(auto_merge=self.auto_merge, review=self.review, identifiers=self.identifiers,
                                 max_cluster=self.max_cluster)
        if self.blocking is not None:
            settings.blocking = list(self.blocking)
        if self.comparisons is not None:
            settings.comparisons = list(self.comparisons)
        return ProbabilisticMatcher(settings)

    @field_validator("rules")
    @classmethod
    def _rules(cls, value: list[list[str]]) -> list[list[str]]:
        for rule in value:
            bad = [k for k in rule if k not in KEY_KINDS]
            if bad or not rule:
                raise ValueError(f"rule {rule}: each rule lists key kinds among {list(KEY_KINDS)}")
        return value


class FieldRuleConfig(_Model):
    """One field's survivorship rule in long form: `{rule: source_priority, sources: [crm, sheet]}`."""

    rule: str = "most_recent"
    sources: list[str] = Field(default_factory=list, description="source order for source_priority")
    primary: str = Field("most_recent", description="lists: the rule that picks the primary value")


class SurvivorshipConfig(_Model):
    """Which value survives in a golden record, per field (defaults: most recent, lists unioned)."""

    default: str = Field("most_recent", description="rule for every field not listed under fields")
    source_priority: list[str] = Field(default_factory=list, description="sources, most trusted first")
    verified: dict[str, list[str]] = Field(
        default_factory=dict, description="source → fields whose values are verified ('*' for all)")
    fields: dict[str, str | FieldRuleConfig] = Field(default_factory=dict)

    def rules(self) -> SurvivorshipRules:
        """The rules as the dedupe stage runs them."""
        fields = {}
        for name, value in self.fields.items():
            if isinstance(value, str):  # short form; on a list field it names the primary's rule
                listed = FIELD_KINDS.get(name) == "list" and value != "union"
                value = FieldRuleConfig(rule="union", primary=value) if listed else FieldRuleConfig(rule=value)
            fields[name] = FieldRule(rule=value.rule, sources=tuple(value.sources), primary=value.primary)
        return SurvivorshipRules(default=self.default, source_priority=tuple(self.source_priority),
                                 verified={s: tuple(f) for s, f in self.verified.items()}, fields=fields)

    @model_validator(mode="after")
    def _valid(self) -> SurvivorshipConfig:
        problems = self.rules().problems()
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def sources_named(self) -> set[str]:
        """Every source name the rules mention."""
        named = set(self.source_priority) | set(self.verified)
        for value in self.fields.values():
            if isinstance(value, FieldRuleConfig):
                named |= set(value.sources)
        return named


class ExportConfig(_Model):
    xlsx: Path | None = Path("golden.xlsx")


def _destination_names(value: list[DestinationConfig]) -> list[DestinationConfig]:
    names = [d.name for d in value]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValueError(f"names must be unique; repeated: {', '.join(dupes)}")
    return value


class DestinationConfig(DestinationSettings):
    """A CRM to push golden records to: `destinations:` entries (connector, base_url, token, mapping)."""

    mapping: Path | None = Field(None, description="outbound mapping file; default: the connector's template")
    schedule: ScheduleConfig | None = Field(None, description="push to this destination on its own schedule")

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", value):
            raise ValueError(f"{value!r}: use lowercase letters, digits, '-' and '_' (e.g. 'hubspot')")
        return value

    @field_validator("connector")
    @classmethod
    def _connector(cls, value: str) -> str:
        known = available_destinations()
        if value not in known:
            raise ValueError(f"no destination writer for connector {value!r}; available: {', '.join(known)}")
        return value

    def outbound(self, base_dir: Path) -> OutboundSpec:
        """The outbound mapping (golden record → CRM fields); raises MappingError naming the file."""
        if self.mapping is None:
            return load_outbound(outbound_template(f"{self.connector}_{self.object}_out"))
        path = self.mapping if self.mapping.is_absolute() else (base_dir / self.mapping).resolve()
        return load_outbound(path)


class AlertsConfig(_Model):
    """Where failed runs are reported: a webhook receiving JSON and/or apprise URLs (mailto://, slack://...)."""

    webhook: str | None = Field(None, description='URL receiving a JSON POST per failed run; "${ALERT_URL}"')
    apprise: list[str] = Field(default_factory=list, description="apprise URLs, e.g. mailto://user:pass@host")
    timeout_seconds: float = Field(10.0, gt=0)

    @field_validator("webhook")
    @classmethod
    def _webhook(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"https?://[^/\s]+", value):
            raise ValueError("the webhook must be an http:// or https:// URL")
        return value


class FlowSchedule(_Model):
    schedule: ScheduleConfig | None = None


class PipelineOrchestration(FlowSchedule):
    overlap: Literal["wait", "skip"] = Field(
        "skip", description="a trigger while the pipeline runs: 'wait' for it to end, or 'skip' this one")


class OrchestrationConfig(_Model):
    """How Prefect runs the flows: schedules, retries, timeouts, alerts, the work pool for `crmsync deploy`."""

    pipeline: PipelineOrchestration = Field(default_factory=PipelineOrchestration)
    reconcile: FlowSchedule = Field(default_factory=FlowSchedule)
    retries: int = Field(3, ge=0, le=20, description="retries of a task after a transient error")
    retry_delay_seconds: float = Field(10.0, ge=0)
    task_timeout_seconds: float = Field(3600.0, gt=0, description="a stage running longer than this fails")
    account_concurrency: int = Field(1, ge=1, description="flows working on one CRM account at once")
    stale_run_minutes: float = Field(
        360.0, gt=0, description="a run still 'running' this long after its start is marked crashed")
    work_pool: str = Field("crmsync", description="Prefect work pool `crmsync deploy` targets")
    alerts: AlertsConfig = Field(default_factory=AlertsConfig)


class Project(_Model):
    """A loaded project: its file's settings plus the directory paths resolve against."""

    version: int = 1
    name: str = "crmsync"
    store: StoreConfig = Field(default_factory=StoreConfig)
    defaults: Defaults = Field(default_factory=Defaults)
    sources: list[SourceConfig] = Field(default_factory=list)
    match: MatchConfig = Field(default_factory=MatchConfig)
    export: ExportConfig = Field(default_factory=ExportConfig)
    destinations: Annotated[list[DestinationConfig], AfterValidator(_destination_names)] = Field(
        default_factory=list, description="CRMs to push golden records to")
    survivorship: SurvivorshipConfig = Field(default_factory=SurvivorshipConfig)
    orchestration: OrchestrationConfig = Field(default_factory=OrchestrationConfig)
    base_dir: Path = Field(default=Path("."), exclude=True)

    @model_validator(mode="after")
    def _unique_sources(self) -> Project:
        names = [s.name for s in self.sources]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"sources: names must be unique; repeated: {', '.join(dupes)}")
        unknown = sorted(self.survivorship.sources_named() - set(names))
        if unknown and names:
            raise ValueError(f"survivorship: unknown source(s) {', '.join(map(repr, unknown))}; "
                             f"name sources of this project: {', '.join(names)}")
        return self

    def resolve(self, path: Path) -> Path:
        """A path from the project file, relative to the file's directory."""
        return path if path.is_absolute() else (self.base_dir / path).resolve()

    def database_url(self) -> str:
        """CRMSYNC_DATABASE_URL, else store.url, else ./crmsync.db next to the project file."""
        url = os.environ.get("CRMSYNC_DATABASE_URL") or self.store.url
        if not url:
            return f"sqlite:///{(self.base_dir / 'crmsync.db').resolve()}"
        if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
            relative = url.removeprefix("sqlite:///")
            if relative and relative != ":memory:":
                return f"sqlite:///{self.resolve(Path(relative))}"
        return url

    def source(self, name: str) -> SourceConfig:
        """The named source, or a ConfigError listing the known ones."""
        for source in self.sources:
            if source.name == name:
                return source
        known = ", ".join(s.name for s in self.sources) or "none"
        raise ConfigError(f"no source named {name!r} in the project (sources: {known})")

    def mappings_for(self, source: SourceConfig) -> dict[str, MappingSpec]:
        """Load the source's mapping files, with the project's defaults under the mapping's own."""
        specs = {}
        for stream, path in source.streams.items():
            spec = load_mapping(self.resolve(path))
            defaults = {k: v for k, v in self.defaults.model_dump().items() if v not in (None, [])}
            specs[stream] = spec.model_copy(update={"defaults": {**defaults, **spec.defaults}})
        return specs


def _interpolate(value: Any, where: str, file: str) -> Any:
    if isinstance(value, dict):
        return {k: _interpolate(v, f"{where}.{k}" if where else str(k), file) for k, v in value.items()}
    if isinstance(value, list):
        return [_interpolate(v, f"{where}[{i}]", file) for i, v in enumerate(value)]
    if not isinstance(value, str):
        return value

    def substitute(match: re.Match[str]) -> str:
        name, fallback = match.group(1), match.group(2)
        found = os.environ.get(name)
        if found is None:
            if fallback is not None:
                return fallback
            raise ConfigError(
                f"{file}: {where}: environment variable {name} is not set; "
                f"export {name}=... before running (secrets never go in the file itself)"
            )
        register_secret(found)
        return found

    return _ENV_REF.sub(substitute, value)


def load_project(path: Path, *, check_mappings: bool = True) -> Project:
    """Read, interpolate and validate a project file; every error names the file, key and fix."""
    file = path.name
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: project file not found; run `crmsync init` to write a starter file "
            "or pass --config PATH"
        ) from None
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{file}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{file}: the top level must be a mapping of keys (sources:, store:, ...)")
    data = {key: value for key, value in _interpolate(data, "", file).items() if value is not None}
    try:
        project = Project.model_validate({**data, "base_dir": path.parent.resolve()})
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(file, exc)) from None
    if check_mappings:
        for source in project.sources:
            try:
                project.mappings_for(source)
            except MappingError as exc:
                raise ConfigError(f"{file}: sources.{source.name}.streams: {exc}") from None
    return project
