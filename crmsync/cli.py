"""The `crmsync` command: thin verbs over the stage functions and flows."""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import shutil
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

from flows.server import start_for_command

# `run`, `demo` and `reconcile` need a Prefect API: find or start the local one now, so that a start
# overlaps our imports.
start_for_command(sys.argv)

import typer  # noqa: E402
from rich.console import Console  # noqa: E402

from crmsync.config import DEFAULT_PROJECT_FILE, ConfigError, Project, load_project  # noqa: E402

_STARTED = time.perf_counter()
# Piped output (CI logs, `| less`) gets a fixed width wide enough for the summary tables.
console = Console(width=None if sys.stdout.isatty() else 140)
err = Console(stderr=True, width=None if sys.stderr.isatty() else 140)

app = typer.Typer(
    help="crmsync: pull customer data from spreadsheets, forms, calls and CRMs, keep one golden "
    "record per customer, push it back.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Manage the store's schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")

ConfigOption = Annotated[
    Path, typer.Option("--config", "-c", help="Project file.", envvar="CRMSYNC_CONFIG")
]
PACKAGE_DIR = Path(__file__).parent


_VERBOSE = False


def _configure_logging() -> None:
    """Our log format and redaction (connectors/__init__ keeps airbyte-cdk from taking them over)."""
    from rich.logging import RichHandler

    from sync.redaction import install_log_redaction

    level = logging.INFO if _VERBOSE else logging.WARNING
    logging.basicConfig(level=level, format="%(name)s: %(message)s",
                        handlers=[RichHandler(console=err, show_path=False)], force=True)
    logging.getLogger("airbyte").setLevel(level)  # the CDK logs every stream's start and stop at INFO
    install_log_redaction()


@app.callback()
def _main(verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show INFO logs.")] = False) -> None:
    global _VERBOSE
    _VERBOSE = verbose
    _configure_logging()
    # Prefect reads its settings on import; keep its console chatter at our level.
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "INFO" if verbose else "WARNING")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")  # no network here, no telemetry


def _fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(code)


def _project(config: Path) -> Project:
    try:
        return load_project(config)
    except ConfigError as exc:
        raise _fail(str(exc)) from None


def _store(project: Project):  # noqa: ANN202 - the Store type lives in sync.store
    from sync.store import StoreError, open_store

    try:
        return open_store(project.database_url())
    except StoreError as exc:
        raise _fail(str(exc)) from None


@app.command()
def init(
    directory: Annotated[Path, typer.Argument(help="Where to write the project.")] = Path("."),
    force: Annotated[bool, typer.Option(help="Overwrite existing files.")] = False,
) -> None:
    """Write a commented starter crmsync.yaml and an example mapping."""
    target = directory / DEFAULT_PROJECT_FILE
    mapping = directory / "mappings" / "customers.yaml"
    for path, template in ((target, "crmsync.yaml"), (mapping, "customers.yaml")):
        if path.exists() and not force:
            console.print(f"kept existing {path} (use --force to overwrite)")
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(PACKAGE_DIR / "templates" / template, path)
        console.print(f"wrote {path}")
    console.print("Next: put your files under data/, edit the mapping, then [bold]crmsync run[/].")


@app.command()
def check(config: ConfigOption = Path(DEFAULT_PROJECT_FILE)) -> None:
    """Validate the project file and every mapping it names."""
    project = _project(config)
    streams = sum(len(s.streams) for s in project.sources)
    console.print(f"{config}: OK ({len(project.sources)} sources, {streams} streams)")


def _local_prefect_api():  # noqa: ANN202 - LocalApi | None, from flows.local_api
    """The long-lived local Prefect API (unless PREFECT_API_URL names one), found or started."""
    from flows.server import local_api

    try:
        api = local_api()
    except (OSError, ValueError) as exc:
        raise _fail(f"could not start the local Prefect API: {exc}; set PREFECT_API_URL to a running "
                    "server (`prefect server start`)") from None
    if api is not None and api.started_now:
        idle = f"stops after {api.idle_minutes:g} idle minutes" if api.idle_minutes else "runs until stopped"
        err.print(f"started a local Prefect API at {api.api_url} for this and later runs ({idle}; "
                  "`crmsync prefect status|stop`)", highlight=False)
    return api


def _wait_for(api) -> None:  # noqa: ANN001
    if api is not None and api.started_now:
        try:
            api.wait_ready()
        except RuntimeError as exc:
            raise _fail(str(exc)) from None


@contextlib.contextmanager
def _one_off_flow() -> Iterator[None]:
    """Around one flow call from the command line: the local Prefect API (unless one is configured),
    ready, and the one-off settings (no heartbeats)."""
    from flows.server import one_off_settings

    _wait_for(_local_prefect_api())
    with one_off_settings():
        yield


def _run_pipeline(config: Path) -> None:
    from flows.server import one_off_settings

    api = _local_prefect_api()
    from crmsync.report import print_pipeline_report, progress_bars
    from flows import pipeline_flow, progress_sink

    # The modules loaded so far live until exit: keep the collector from walking them again and again
    # (during the run, and once more at exit, where it cost about 1 s of CPU per run).
    gc.freeze()
    project = _project(config)
    _store(project).dispose()  # applies migrations up front, with a clear error if the store is unreachable
    _wait_for(api)
    with progress_bars(console) as progress:
        token = progress_sink.set(progress)
        try:
            flow_started = time.perf_counter()
            with one_off_settings():
                report = pipeline_flow(str(config.resolve()))
            flow_seconds = time.perf_counter() - flow_started
        finally:
            progress_sink.reset(token)
    if report.skipped:
        console.print(f"skipped: {report.skipped}", highlight=False)
        return
    wall = time.perf_counter() - _STARTED
    print_pipeline_report(console, project, report, wall_seconds=wall, flow_seconds=flow_seconds)
    gc.freeze()  # what is left is freed by reference counts at exit; no last full collection
    if report.failed:
        raise typer.Exit(1)


@app.command()
def run(config: ConfigOption = Path(DEFAULT_PROJECT_FILE)) -> None:
    """Run the whole pipeline (every source → match → export) as a Prefect flow."""
    _run_pipeline(config)


@app.command()
def demo(
    directory: Annotated[Path, typer.Argument(help="Where to put the demo project.")] = Path("crmsync-demo"),
) -> None:
    """Copy the bundled sample project (messy workbook, cp1251 CSV, form export, call log) and run it."""
    from crmsync.samples import SAMPLES_DIR

    demo_dir = PACKAGE_DIR / "demo"
    (directory / "data").mkdir(parents=True, exist_ok=True)
    for sample in SAMPLES_DIR.iterdir():
        if sample.suffix in {".xlsx", ".csv", ".json"} and sample.name != "truth.json":
            shutil.copyfile(sample, directory / "data" / sample.name)
    shutil.copytree(demo_dir / "mappings", directory / "mappings", dirs_exist_ok=True)
    project_file = directory / DEFAULT_PROJECT_FILE
    if not project_file.exists():
        shutil.copyfile(demo_dir / DEFAULT_PROJECT_FILE, project_file)
    console.print(f"Demo project in [bold]{directory}/[/] (edit {project_file} and re-run with "
                  f"[bold]crmsync run -c {project_file}[/])")
    from crmsync.demo import STATE_FILE, local_hubspot

    with local_hubspot(directory) as hubspot:
        console.print(f"Pushing to a [bold]local HubSpot emulator[/] at {hubspot.url}, not a real portal "
                      f"(its contacts are kept in {directory / STATE_FILE}).", highlight=False)
        try:
            _run_pipeline(project_file)
        finally:
            console.print(f"The push went to the local HubSpot emulator ({len(hubspot.contacts())} contacts "
                          f"there now). To push to a real HubSpot portal, set base_url, the token "
                          f"and enabled: true for the "
                          f"'hubspot' destination in {project_file}.", highlight=False)


@app.command()
def ingest(
    source: Annotated[str, typer.Argument(help="Source name from the project file.")],
    config: ConfigOption = Path(DEFAULT_PROJECT_FILE),
) -> None:
    """Ingest one source into the store."""
    from crmsync.report import print_ingest_reports, progress_bars
    from flows import ingest_flow, progress_sink

    project = _project(config)
    try:
        project.source(source)
    except ConfigError as exc:
        raise _fail(str(exc)) from None
    with progress_bars(console) as progress, _one_off_flow():
        token = progress_sink.set(progress)
        try:
            report = ingest_flow(str(config.resolve()), source)
        finally:
            progress_sink.reset(token)
    print_ingest_reports(console, [report])
    if report.failed:
        raise typer.Exit(1)


@app.command()
def match(config: ConfigOption = Path(DEFAULT_PROJECT_FILE)) -> None:
    """Match all records in the store into golden records."""
    from crmsync.report import print_match_report
    from flows import match_flow

    _project(config)
    with _one_off_flow():
        report = match_flow(str(config.resolve()))
    print_match_report(console, report)


@app.command()
def dedupe(
    file: Annotated[Path, typer.Argument(help="A CSV, XLSX, XLS, ODS or JSON file.")],
    mapping: Annotated[Path, typer.Option("--map", help="Mapping YAML: the file's columns → customer fields.")],
    out: Annotated[Path, typer.Option(help="Where to write record_id,cluster_id,match_probability.")] = Path(
        "clusters.csv"),
    xlsx: Annotated[Path | None, typer.Option(help="Also write a workbook to review, clusters grouped.")] = None,
    id_column: Annotated[str | None, typer.Option(help="Column identifying a row (default: row number).")] = None,
    sheet: Annotated[str | None, typer.Option(help="Workbook sheet (default: the first).")] = None,
    auto_merge: Annotated[float, typer.Option(help="Merge at or above this probability.")] = 0.95,
    review: Annotated[float, typer.Option(help="Suggest at or above this probability.")] = 0.70,
    identifier: Annotated[list[str] | None, typer.Option(
        help="A custom field (custom.<name> in the mapping) that identifies a person exactly; repeatable.")] = None,
) -> None:
    """Find the duplicates in one file: clusters.csv, and with --xlsx a workbook a person can review."""
    from connectors.files import FileReadError
    from crmsync.config import MatchConfig
    from mappings import MappingError
    from sync.dedupe_file import dedupe_file

    try:
        matcher = MatchConfig(auto_merge=auto_merge, review=review, identifiers=identifier or []).matcher()
        result = dedupe_file(file, mapping, out, matcher=matcher, id_column=id_column, sheet=sheet, xlsx=xlsx,
                             progress=lambda message: err.print(message, highlight=False))
    except (FileReadError, MappingError, ValueError) as exc:
        raise _fail(str(exc)) from None
    console.print(f"{result.rows} rows → {result.clusters} customers "
                  f"({result.multi_record_clusters} with duplicates); {result.suggestions} pairs to review; "
                  f"wrote {out}" + (f" and {xlsx}" if xlsx else ""))
    for line in result.unmapped[:10]:
        console.print(f"  • {line}", highlight=False, markup=False)
    if len(result.unmapped) > 10:
        console.print(f"  … and {len(result.unmapped) - 10} more rows that could not be mapped")


@app.command()
def export(
    config: ConfigOption = Path(DEFAULT_PROJECT_FILE),
    out: Annotated[Path | None, typer.Option(help="Workbook to write (default: export.xlsx).")] = None,
) -> None:
    """Write the golden records (and rows in quarantine) to an Excel workbook."""
    from sync.export import export_xlsx

    project = _project(config)
    path = out or (project.resolve(project.export.xlsx) if project.export.xlsx else Path("golden.xlsx"))
    store = _store(project)
    try:
        report = export_xlsx(store, path)
    finally:
        store.dispose()
    console.print(f"wrote {report.path}: {report.golden} golden records, {report.quarantined} in quarantine")


@app.command()
def status(
    config: ConfigOption = Path(DEFAULT_PROJECT_FILE),
    limit: Annotated[int, typer.Option(help="How many runs to show.")] = 20,
) -> None:
    """Recent sync runs with their counts, newest first."""
    from dataclasses import replace

    from crmsync.report import print_status
    from sync.runs import pipeline_totals
    from sync.store import count_golden, open_quarantine, recent_runs

    project = _project(config)
    store = _store(project)
    try:
        with store.session() as session:
            runs = [replace(r, counts=pipeline_totals(r.counts)) if r.flow == "pipeline" else r
                    for r in recent_runs(session, limit)]
            golden = count_golden(session)
            quarantined = len(open_quarantine(session))
    finally:
        store.dispose()
    print_status(console, runs, golden=golden, quarantined=quarantined)


@app.command()
def push(
    destination: Annotated[str, typer.Argument(help="Destination name from the project file.")],
    config: ConfigOption = Path(DEFAULT_PROJECT_FILE),
    plan: Annotated[bool, typer.Option("--plan", help="Only show and save what would change; write nothing.")] = False,
    out: Annotated[Path | None, typer.Option(help="Plan file: .csv or .json (default: push-plan-DEST.csv).")] = None,
) -> None:
    """Push golden records to a CRM: plan (create/update/merge/delete per record), then apply."""
    from flows.push import destination_config
    from mappings import MappingError
    from sync.store import StoreError, open_store

    project = _project(config)
    try:
        target = destination_config(project, destination)
        spec = target.outbound(project.base_dir)
    except (ConfigError, MappingError) as exc:
        raise _fail(str(exc)) from None
    if not plan:
        from flows.push import push_flow

        _store(project).dispose()  # migrations up front, with a clear error if the store is unreachable
        with _one_off_flow():
            report = push_flow(str(config.resolve()), destination)
        for line in report.summary():
            console.print(line, highlight=False, markup=False)
        if report.error:
            raise typer.Exit(1)
        return
    from sync.push.run import plan_destination

    try:  # a plan writes nothing: not even a schema upgrade
        store = open_store(project.database_url(), upgrade_schema=False)
    except StoreError as exc:
        raise _fail(str(exc)) from None
    try:
        result = plan_destination(store, target, spec)
    except (LookupError, ValueError) as exc:
        raise _fail(str(exc)) from None
    finally:
        store.dispose()
    for line in result.summary():
        console.print(line, highlight=False, markup=False)
    written = result.write(out or Path(f"push-plan-{destination}.csv"))
    console.print(f"wrote {written} (nothing was sent to {destination} and the store was not changed)",
                  highlight=False)


@db_app.command("upgrade")
def db_upgrade(config: ConfigOption = Path(DEFAULT_PROJECT_FILE)) -> None:
    """Apply the store's schema migrations (new databases get them automatically)."""
    from sqlalchemy.engine import make_url

    from sync.store import current_revision

    project = _project(config)
    store = _store(project)
    try:
        revision = current_revision(store.engine)
    finally:
        store.dispose()
    url = make_url(project.database_url()).render_as_string(hide_password=True)
    console.print(f"{url}: at revision {revision}")



# Verbs that live in their own modules register themselves on `app` when imported.
from crmsync.commands import deploy as _deploy_verbs  # noqa: E402,F401
from crmsync.commands import migrate as _migrate_verbs  # noqa: E402,F401
from crmsync.commands import recluster as _recluster_verbs  # noqa: E402,F401
from crmsync.commands import reconcile as _reconcile_verbs  # noqa: E402,F401
from crmsync.commands import review as _review_verbs  # noqa: E402,F401
from crmsync.commands import serve as _serve_verbs  # noqa: E402,F401
from crmsync.commands import users as _user_verbs  # noqa: E402,F401


def main() -> None:
    """Entry point for `python -m crmsync`."""
    app(prog_name="crmsync")


if __name__ == "__main__":  # pragma: no cover
    main()
    sys.exit(0)
