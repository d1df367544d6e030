"""`crmsync recluster`: cluster every record again, e.g. after the matching settings changed.

A thin verb over `sync.match.match_store(full=True)`: golden ids are kept where clusters persist
(each new cluster takes the id most of its records had, largest clusters first), people's merges,
splits, pins and cannot-links hold, and every record that moves is in the audit log.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from crmsync.cli import ConfigOption, _project, _store, app, console
from crmsync.config import DEFAULT_PROJECT_FILE


@app.command()
def recluster(
    config: ConfigOption = Path(DEFAULT_PROJECT_FILE),
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would change; write nothing.")] = False,
) -> None:
    """Re-cluster every record with the current settings, keeping golden ids where clusters persist."""
    from crmsync.report import print_match_report
    from sync.match import match_store
    from sync.runs import recorded_run

    project = _project(config)
    store = _store(project)
    try:
        matcher, rules = project.match.matcher(), project.survivorship.rules()
        if dry_run:
            report = match_store(store, matcher, survivorship=rules, full=True, dry_run=True)
        else:
            with recorded_run(store, "recluster") as run:
                report = match_store(store, matcher, run_id=run.run_id, survivorship=rules, full=True)
                run.counts = {"golden_new": report.golden_new, "golden_changed": report.golden_changed,
                              "golden_retired": report.golden_retired, "records_moved": report.records_moved}
    finally:
        store.dispose()
    changed = report.golden_new + report.golden_changed + report.golden_retired
    if dry_run:
        console.print(f"[bold]Dry run[/]: re-clustering would change {changed} golden records "
                      f"({report.golden_new} new, {report.golden_changed} changed, {report.golden_retired} retired) "
                      f"and move {report.records_moved} source records; nothing was written")
        return
    print_match_report(console, report)
    console.print(f"Re-clustered: {report.records_moved} source records moved to another golden record")
