"""The run summary every flow publishes: a markdown table as a Prefect artifact, and the same counts in sync_runs."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass

from sync.ingest import IngestReport
from sync.match import MatchReport
from sync.push.apply import PushReport

__all__ = ["SummaryRow", "publish_summary", "summary_markdown", "summary_rows"]

log = logging.getLogger(__name__)
COLUMNS = ("read", "new", "changed", "merged", "suggested", "pushed", "failed")


@dataclass(frozen=True)
class SummaryRow:
    """One line of the table: a source, the match step or a destination."""

    kind: str  # "source" | "match" | "destination"
    name: str
    read: int = 0
    new: int = 0
    changed: int = 0
    merged: int = 0
    suggested: int = 0
    pushed: int = 0
    failed: int = 0
    status: str = "ok"

    def counts(self) -> dict[str, int | str]:
        return {"kind": self.kind, "name": self.name, **{c: getattr(self, c) for c in COLUMNS},
                "status": self.status}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")[:300]


def summary_rows(ingest: Sequence[IngestReport] = (), match: MatchReport | None = None,
                 push: Sequence[PushReport] = ()) -> list[SummaryRow]:
    """Per source and destination: read / new / changed / merged / suggested / pushed / failed."""
    rows = []
    for report in ingest:
        streams = list(report.streams.values())
        errors = [e for e in [report.error, *(s.error for s in streams)] if e]
        rows.append(SummaryRow(
            "source", report.source, read=sum(s.read for s in streams), new=sum(s.new for s in streams),
            changed=sum(s.changed + s.restored for s in streams), failed=sum(s.quarantined for s in streams),
            status="failed: " + "; ".join(errors) if errors else "ok"))
    if match is not None:
        rows.append(SummaryRow("match", "golden records", read=match.records, new=match.golden_new,
                               changed=match.golden_changed, merged=match.merged_records,
                               suggested=match.suggestions_new))
    for report in push:
        rows.append(SummaryRow(
            "destination", report.destination, new=report.created, changed=report.updated, merged=report.merged,
            pushed=report.delivered + report.merged, failed=report.dead_lettered,
            status=f"failed: {report.error}" if report.error else "ok"))
    return rows


def summary_markdown(title: str, rows: Sequence[SummaryRow], footer: str = "") -> str:
    """A markdown table a person reads in the Prefect UI (no record contents, only counts)."""
    lines = [f"## {_cell(title)}", "", "| | name | " + " | ".join(COLUMNS) + " | status |",
             "|---|---|" + "---:|" * len(COLUMNS) + "---|"]
    for row in rows:
        numbers = " | ".join(str(getattr(row, c)) for c in COLUMNS)
        lines.append(f"| {row.kind} | {_cell(row.name)} | {numbers} | {_cell(row.status)} |")
    if footer:
        lines += ["", footer]
    return "\n".join(lines) + "\n"


def artifact_key(project: str, flow: str) -> str:
    """Artifact keys allow lowercase letters, digits and dashes; one key per project and flow keeps history."""
    return re.sub(r"[^a-z0-9-]+", "-", f"crmsync-{project}-{flow}".lower()).strip("-")


def publish_summary(project: str, flow: str, rows: Sequence[SummaryRow], footer: str = "") -> str:
    """Create the markdown artifact for the current flow run; returns the markdown."""
    from prefect.artifacts import create_markdown_artifact

    markdown = summary_markdown(f"{project} · {flow}", rows, footer)
    create_markdown_artifact(markdown, key=artifact_key(project, flow),
                             description=f"crmsync {flow}: read/new/changed/merged/suggested/pushed/failed")
    return markdown
