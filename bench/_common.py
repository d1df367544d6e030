"""Shared helpers for the benchmarks: a demo project in a temp folder, stage runs without Prefect."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from crmsync.config import Project, load_project
from crmsync.samples import SAMPLES_DIR
from sync.ingest import IngestReport, ingest_source
from sync.match import MatchReport, match_store
from sync.store import Store, open_store

DEMO = Path(__file__).resolve().parents[1] / "crmsync" / "demo"


def demo_project(folder: Path | None = None) -> Path:
    """Copy the demo project and its sample data into a folder; return the project file."""
    folder = folder or Path(tempfile.mkdtemp(prefix="crmsync-bench-"))
    (folder / "data").mkdir(parents=True, exist_ok=True)
    for sample in SAMPLES_DIR.iterdir():
        if sample.suffix in {".xlsx", ".csv", ".json"} and sample.name != "truth.json":
            shutil.copyfile(sample, folder / "data" / sample.name)
    shutil.copytree(DEMO / "mappings", folder / "mappings", dirs_exist_ok=True)
    shutil.copyfile(DEMO / "crmsync.yaml", folder / "crmsync.yaml")
    return folder / "crmsync.yaml"


def run_stages(project: Project, store: Store) -> tuple[list[IngestReport], MatchReport]:
    """Ingest every source and match, calling the stage functions directly (no orchestration)."""
    reports = []
    for source in project.sources:
        reports.append(ingest_source(
            store, source=source.name, connector=source.connector,
            config={"base_dir": str(project.base_dir), **source.config},
            mappings=project.mappings_for(source)))
    return reports, match_store(store, project.match.matcher())


def open_project(path: Path) -> tuple[Project, Store]:
    project = load_project(path)
    return project, open_store(project.database_url())
