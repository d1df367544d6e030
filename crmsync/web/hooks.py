"""Which sources accept form webhooks, with their settings checked once when the app starts."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from connectors.common.config import ConnectorConfigError
from connectors.webforms.config import SignatureMode, WebformsConfig, parse_webforms_config
from crmsync.config import ConfigError, Project

__all__ = ["HookSource", "hook_sources"]

log = logging.getLogger(__name__)
WEBFORMS = "webforms"


@dataclass(frozen=True)
class HookSource:
    """One source's webhook settings: `POST /hooks/forms/{name}`."""

    name: str
    signature: SignatureMode
    secret: str | None
    max_body_bytes: int
    replay_window_seconds: int

    def __repr__(self) -> str:  # the secret never reaches logs or tracebacks
        return f"HookSource(name={self.name!r}, signature={self.signature!r})"


def _settings(name: str, raw: Mapping[str, object]) -> WebformsConfig:
    where = f"sources.{name}.config"
    try:
        config = parse_webforms_config({k: v for k, v in raw.items() if k != "base_dir"})
    except ConnectorConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    problem = config.webhook_problem()
    if problem:
        raise ConfigError(f"{where}: {problem}")
    if config.source is not None and config.source != name:
        raise ConfigError(f"{where}.source: is {config.source!r}, but this source's webhook is "
                          f"/hooks/forms/{name} and stores its posts under {name!r}; set `source: {name}` "
                          "or remove it")
    return config


def hook_sources(project: Project) -> dict[str, HookSource]:
    """Every enabled webforms source of the project, by name; ConfigError names a bad setting."""
    found: dict[str, HookSource] = {}
    unscoped: list[str] = []
    for source in project.sources:
        if source.connector != WEBFORMS or not source.enabled:
            continue
        config = _settings(source.name, source.config)
        if config.source is None:
            unscoped.append(source.name)
        if project.store.url and config.database_url is None:
            log.warning("sources.%s.config: the project sets store.url but this source has no database_url; "
                        "ingest reads CRMSYNC_DATABASE_URL or crmsync.db, so set database_url to the store URL",
                        source.name)
        found[source.name] = HookSource(
            name=source.name, signature=config.signature,
            secret=config.secret.get_secret_value() if config.secret else None,
            max_body_bytes=config.max_body_bytes, replay_window_seconds=config.replay_window_seconds)
    if len(found) > 1 and unscoped:
        names = ", ".join(unscoped)
        raise ConfigError(f"sources {names}: with several webforms sources each must read only its own "
                          f"inbox; set `source: <its name>` in the config of {names}")
    return found
