"""`crmsync migrate FILE --to CRM`: a spreadsheet into a CRM in one command, for people leaving Excel.

Thin: guessing is `mappings.guess`, the migration is `sync.migrate`; this verb shows, asks and reports.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from crmsync.cli import _fail, app, console, err
from crmsync.config import DEFAULT_PROJECT_FILE, ConfigError, load_project

if TYPE_CHECKING:
    from mappings.guess import MappingGuess
    from sync.push.destination import DestinationSettings
    from sync.push.plan import Plan

_SAMPLE_ROWS = 10


def _destination(to: str, config: Path | None, base_url: str | None,
                 token_env: str | None) -> tuple[DestinationSettings, Path | None]:
    """The CRM to write to: a destination of the project file, else a connector named on the command line."""
    from pydantic import SecretStr, ValidationError

    from sync.push.destination import DestinationSettings, available_destinations

    project_file = config or (Path(DEFAULT_PROJECT_FILE) if Path(DEFAULT_PROJECT_FILE).exists() else None)
    if project_file is not None and not (base_url or token_env):
        try:
            project = load_project(project_file, check_mappings=False)
        except ConfigError as exc:
            raise _fail(str(exc)) from None
        for destination in project.destinations:
            if destination.name == to:
                return destination, project.base_dir
        if config is not None:
            known = ", ".join(d.name for d in project.destinations) or "none"
            raise _fail(f"{project_file}: no destination named {to!r} (destinations: {known})")
    if to not in available_destinations():
        raise _fail(f"--to {to!r}: not a destination in {DEFAULT_PROJECT_FILE} and not a CRM crmsync can write to "
                    f"({', '.join(available_destinations())})")
    variable = token_env or f"{to.upper()}_TOKEN"
    token = os.environ.get(variable)
    if not token:
        raise _fail(f"set the {to} access token in the environment first: export {variable}=... "
                    "(a token is never passed on the command line, so it stays out of shell history)")
    from sync.redaction import register_secret

    register_secret(token)
    try:
        return DestinationSettings(name=to, connector=to, base_url=base_url, token=SecretStr(token)), None
    except ValidationError as exc:
        raise _fail(f"--to {to}: {exc.errors()[0]['msg']}") from None


def _show_mapping(guess: MappingGuess, title: str) -> None:
    from mappings.guess import SKIP, TARGET_LABELS

    table = Table(title=title, title_justify="left")
    for column in ("#", "Column", "Sample values", "→ Field", "Why"):
        table.add_column(column)
    for number, column in enumerate(guess.columns, start=1):
        target = column.target
        label = TARGET_LABELS.get(target) or ("not imported" if target == SKIP else f"{target} (kept, not pushed)")
        colour = "dim" if target == SKIP else ("yellow" if target.startswith("custom.") else "green")
        table.add_row(str(number), column.column, "; ".join(column.samples)[:60], f"[{colour}]{label}",
                      column.reason)
    console.print(table)
    if guess.phone_region:
        console.print(f"Phone numbers without a country code are read as {guess.phone_region} numbers "
                      "(--phone-region to change).", highlight=False)


def _edit(guess: MappingGuess) -> None:
    from mappings.guess import SKIP, TARGET_LABELS

    fields = ", ".join([*TARGET_LABELS, "custom.<name>", SKIP])
    while True:
        answer = typer.prompt("Column number to change (Enter when done)", default="", show_default=False).strip()
        if not answer:
            return
        if not answer.isdigit() or not 1 <= int(answer) <= len(guess.columns):
            err.print(f"type a number from 1 to {len(guess.columns)}")
            continue
        column = guess.columns[int(answer) - 1].column
        target = typer.prompt(f"Field for {column!r} ({fields})")
        try:
            guess.set_target(column, target)
        except ValueError as exc:
            err.print(str(exc), highlight=False, markup=False)


def _confirm_mapping(guess: MappingGuess, yes: bool, title: str) -> None:
    _show_mapping(guess, title)
    while not yes:
        answer = typer.prompt("Use this mapping? [y]es / [e]dit / [n]o", default="y").strip().lower()
        if answer in ("y", "yes"):
            return
        if answer in ("n", "no"):
            console.print("Nothing was imported. Edit the mapping (e) next time, or pass --map FILE.")
            raise typer.Exit(1)
        if answer in ("e", "edit"):
            _edit(guess)
            _show_mapping(guess, "Mapping (edited)")


def _show_plan(plan: Plan, to: str) -> None:
    from sync.migrate import customer_label

    counts = plan.counts()
    console.print(f"[bold]Plan for {to}[/]: {counts['create']} new contacts, {counts['update']} updates of "
                  f"contacts already there, {counts['noop']} unchanged, {counts['reject']} refused",
                  highlight=False)
    changing = [r for r in plan.rows if r.action in ("create", "update", "reject")]
    if not changing:
        return
    table = Table(title=f"First {min(len(changing), _SAMPLE_ROWS)} of {len(changing)} changes",
                  title_justify="left")
    for column in ("Action", "Contact", "In the CRM", "Why"):
        table.add_column(column)
    for row in changing[:_SAMPLE_ROWS]:
        table.add_row(row.action, customer_label(row.payload), row.remote_id or "", row.reason)
    console.print(table)


@app.command()
def migrate(
    file: Annotated[Path, typer.Argument(help="The spreadsheet: .xlsx, .xls, .ods, .csv or .json.")],
    to: Annotated[str, typer.Option("--to", help="A destination of crmsync.yaml, or a CRM: hubspot, ...")],
    mapping: Annotated[Path | None, typer.Option(
        "--map", help="Use this mapping file (columns → fields) instead of guessing one.")] = None,
    sheet: Annotated[str | None, typer.Option(help="Workbook sheet (default: the first).")] = None,
    base_url: Annotated[str | None, typer.Option(
        help="The CRM's API root (default: its public API; a local emulator for trying things out).")] = None,
    token_env: Annotated[str | None, typer.Option(
        help="Environment variable holding the access token (default: <CRM>_TOKEN, e.g. HUBSPOT_TOKEN).")] = None,
    config: Annotated[Path | None, typer.Option(
        "--config", "-c", help="Project file whose destinations --to may name (default: ./crmsync.yaml).")] = None,
    phone_region: Annotated[str | None, typer.Option(
        help="Country of phone numbers written without a country code (e.g. RU, US).")] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask: accept the mapping and push.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the plan; push nothing.")] = False,
    xlsx: Annotated[Path | None, typer.Option(
        help="Also write the merged customers (the file's and the CRM's) and quarantined rows to a workbook.")] = None,
) -> None:
    """Move a spreadsheet's customers into a CRM: guess the columns, merge duplicates, push once."""
    from connectors.files import FileReadError, Row, read_table
    from mappings import MappingError, load_mapping
    from mappings.guess import guess_from_spec, guess_mapping
    from sync.migrate import Migration, mapping_path_for, store_url_for
    from sync.store import StoreError

    if not file.exists():
        raise _fail(f"{file}: no such file")
    if phone_region is not None:
        phone_region = phone_region.strip().upper()
        if len(phone_region) != 2 or not phone_region.isalpha():
            raise _fail(f"--phone-region {phone_region!r}: use a two-letter country code such as RU, US, GB")
    destination, project_dir = _destination(to, config, base_url, token_env)
    try:
        table = read_table(file, sheet=sheet)
    except FileReadError as exc:
        raise _fail(str(exc)) from None
    rows = [r.values for r in table.rows if isinstance(r, Row)]
    saved = mapping_path_for(file)
    try:
        if mapping is None and saved.exists():
            mapping = saved
            console.print(f"Using the mapping you confirmed before: {saved} (pass --map to use another, or "
                          "delete it to guess again)", highlight=False)
        if mapping is not None:
            spec = load_mapping(mapping)
            _show_mapping(guess_from_spec(spec, table.columns, rows), f"Mapping from {mapping.name}")
            if phone_region:
                spec = spec.model_copy(update={"defaults": {**spec.defaults, "phone_region": phone_region}})
        else:
            guess = guess_mapping(table.columns, rows, phone_region=phone_region)
            _confirm_mapping(guess, yes, f"Columns of {file.name} (guessed from headers and values)")
            spec = guess.spec()
            saved.write_text(guess.to_yaml(file.name), encoding="utf-8")
            console.print(f"Saved the mapping to {saved} (use it with crmsync dedupe --map, or edit it and "
                          "re-run with --map)", highlight=False)
            mapping = saved
    except MappingError as exc:
        raise _fail(str(exc)) from None

    from crmsync.config import MatchConfig

    outbound = None
    if project_dir is not None and hasattr(destination, "outbound"):
        try:
            outbound = destination.outbound(project_dir)
        except MappingError as exc:
            raise _fail(str(exc)) from None
    try:
        migration = Migration(file, spec, destination, matcher=MatchConfig().matcher(), sheet=sheet,
                              mapping_name=mapping.name, outbound=outbound)
    except (StoreError, MappingError, LookupError) as exc:
        raise _fail(str(exc)) from None
    with migration:
        try:
            gathered = migration.gather(lambda message: err.print(f"… {message}", highlight=False))
        except MappingError as exc:
            raise _fail(str(exc)) from None
        if gathered.failed:
            raise _fail(gathered.failed, code=1)
        from crmsync.report import print_ingest_reports

        print_ingest_reports(console, [gathered.file, gathered.crm])
        duplicates = gathered.file_rows - gathered.customers_in_file
        console.print(
            f"[bold]{file.name}[/]: {gathered.file_rows} rows → {gathered.customers_in_file} customers "
            f"({duplicates} duplicate rows merged); {gathered.already_in_crm} of them are already in {to} "
            f"(matched against its {gathered.crm_contacts} contacts); "
            f"{gathered.match.suggestions_pending} uncertain pairs kept apart", highlight=False)
        if xlsx is not None:
            from sync.export import export_xlsx

            exported = export_xlsx(migration.store, xlsx)
            console.print(f"Wrote {exported.path}: {exported.golden} customers, {exported.quarantined} rows in "
                          "quarantine", highlight=False)
        plan = migration.plan()
        _show_plan(plan, to)
        state = store_url_for(file).removeprefix("sqlite:///")
        if plan.writes == 0:
            console.print(f"Nothing to push: {to} already has everything in {file.name}.", highlight=False)
            return
        if dry_run:
            console.print(f"Dry run: nothing was sent to {to}.", highlight=False)
            return
        if not yes and not typer.confirm(f"Push {plan.writes} changes to {to}?", default=False):
            console.print("Nothing was pushed. Re-run the same command when you are ready.")
            raise typer.Exit(1)
        report = migration.push(plan)
    for line in report.summary():
        console.print(line, highlight=False, markup=False)
    if report.error or report.dead_lettered:
        console.print(f"Progress is kept in {state}: fix what was refused (or wait for the CRM) and re-run "
                      "the same command; nothing is pushed twice.", highlight=False)
    if report.error:
        raise typer.Exit(1)
