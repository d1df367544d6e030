"""The webforms source's configuration, shared by the webhook (crmsync.web) and the inbox reader."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from connectors.common.config import connection_spec, parse_config

__all__ = ["CONNECTION_SPECIFICATION", "SignatureMode", "WebformsConfig", "parse_webforms_config"]

SignatureMode = Literal["auto", "typeform", "standard", "token", "none"]
DATABASE_URL_ENV = "CRMSYNC_DATABASE_URL"


class WebformsConfig(BaseModel):
    """One web-form source: how its webhook authenticates posts, and which inbox it reads."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source: str | None = Field(
        None, description="inbox to read: the {source} of POST /hooks/forms/{source}; default: every inbox")
    database_url: SecretStr | None = Field(
        None, description="store holding the inbox; default: CRMSYNC_DATABASE_URL, else crmsync.db in base_dir",
        json_schema_extra={"airbyte_secret": True})
    secret: SecretStr | None = Field(
        None, description="shared secret for HMAC signatures (or the URL token when signature is 'token')",
        json_schema_extra={"airbyte_secret": True})
    signature: SignatureMode = Field(
        "auto", description="auto: Typeform-Signature or Standard Webhooks headers; typeform; standard; "
        "token: ?token=<secret> in the URL (Tilda); none: accept unsigned posts")
    max_body_bytes: int = Field(1_048_576, ge=1024, le=64 * 1_048_576, description="larger bodies get 413")
    replay_window_seconds: int = Field(300, ge=1, le=86_400,
                                       description="Standard Webhooks timestamps further from now get 401")
    batch_size: int = Field(500, ge=1, le=10_000, description="inbox rows per read and per checkpoint")
    base_dir: str | None = Field(None, description="project folder (set by crmsync)")

    def resolved_database_url(self) -> str:
        """`database_url`, else CRMSYNC_DATABASE_URL, else sqlite crmsync.db in base_dir (or the cwd)."""
        if self.database_url is not None:
            return self.database_url.get_secret_value()
        configured = os.environ.get(DATABASE_URL_ENV, "").strip()
        if configured:
            return configured
        folder = Path(self.base_dir).expanduser() if self.base_dir else Path.cwd()
        return f"sqlite:///{(folder / 'crmsync.db').resolve()}"

    def webhook_problem(self) -> str | None:
        """Why the webhook cannot accept posts with these settings, or None."""
        if self.signature != "none" and self.secret is None:
            return ("secret is missing: set `secret: ${FORMS_SECRET}` (from the environment), or "
                    "`signature: none` to accept unsigned posts")
        if self.signature == "none" and self.secret is not None:
            return "signature is 'none' but a secret is set: choose auto, typeform, standard or token"
        return None


def parse_webforms_config(raw: Any) -> WebformsConfig:
    """Validate a webforms config mapping; raises ConnectorConfigError naming the key."""
    return parse_config(WebformsConfig, raw, "webforms")


CONNECTION_SPECIFICATION: dict[str, Any] = connection_spec(WebformsConfig, "Web-form inbox (crmsync webhook)")
