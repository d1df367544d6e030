"""`crmsync reconcile`: compare every source's keys with the store, as a Prefect flow run.

Exit codes, for cron jobs and monitoring: 0 when every stream matches the store, 1 when records are
missing from the store, gone from the source, or a source could not be read (the table says which),
2 when the project file is wrong.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from crmsync.cli import ConfigOption, _local_prefect_api, _project, _store, _wait_for, app, console
from crmsync.config import DEFAULT_PROJECT_FILE


@app.command()
def reconcile(config: ConfigOption = Path(DEFAULT_PROJECT_FILE)) -> None:
    """Read each source in full and compare its keys with the store (missed and deleted records).

    Exits 1 when any stream differs or could not be read, so a scheduler can alert on it.
    """
    _store(_project(config)).dispose()  # migrations up front, with a clear error if the store is unreachable
    api = _local_prefect_api()
    from flows.reconcile import reconcile_flow
    from flows.server import one_off_settings

    _wait_for(api)
    with one_off_settings():
        diffs = reconcile_flow(str(config.resolve()))
    table = Table(title="Reconcile: source keys against the store", title_justify="left")
    for column in ("Source", "Stream", "In source", "In store", "Quarantined", "Missing in store",
                   "Gone from source", "Status"):
        table.add_column(column, justify="right" if column[0] in "IQMG" else "left")
    for d in diffs:
        status = f"[red]failed: {d.error}" if d.error else ("[green]ok" if d.matches else "[yellow]differs")
        table.add_row(d.source, d.stream, str(d.in_source), str(d.in_store), str(d.quarantined),
                      str(d.missing_in_store), str(d.gone_from_source), status)
    console.print(table)
    for d in diffs:
        if d.missing_sample:
            more = f" (and {d.missing_in_store - len(d.missing_sample)} more)" if d.missing_in_store > len(
                d.missing_sample) else ""
            console.print(f"missing in store, {d.source}/{d.stream}: {', '.join(d.missing_sample)}{more}",
                          highlight=False, markup=False)
        if d.gone_sample:
            more = f" (and {d.gone_from_source - len(d.gone_sample)} more)" if d.gone_from_source > len(
                d.gone_sample) else ""
            console.print(f"gone from source, {d.source}/{d.stream}: {', '.join(d.gone_sample)}{more}",
                          highlight=False, markup=False)
    differing = [d for d in diffs if not d.matches]
    if differing:
        console.print(f"{len(differing)} of {len(diffs)} streams differ from the store; `crmsync run` ingests "
                      "what was missed and marks what is gone as deleted", highlight=False)
        raise typer.Exit(1)
    console.print(f"all {len(diffs)} streams match the store", highlight=False)
