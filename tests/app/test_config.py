from __future__ import annotations

from pathlib import Path

import pytest

from crmsync.config import ConfigError, load_project
from sync.redaction import redact

MAPPING = "fields: [{from: Email, to: emails}]\n"


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "m.yaml").write_text(MAPPING, encoding="utf-8")
    path = tmp_path / "crmsync.yaml"
    path.write_text(text, encoding="utf-8")
    return path


GOOD = """
defaults: {phone_region: RU}
sources:
  - name: sheet
    connector: files
    config: {files: [{path: data.csv}], token: "${CRMSYNC_TEST_TOKEN}"}
    streams: {data: m.yaml}
"""


def test_loads_interpolates_secrets_and_resolves_paths(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("CRMSYNC_TEST_TOKEN", "s3cr3t-token-value")
    monkeypatch.delenv("CRMSYNC_DATABASE_URL", raising=False)
    project = load_project(write(tmp_path, GOOD))
    source = project.source("sheet")
    assert source.config["token"] == "s3cr3t-token-value"
    assert project.database_url() == f"sqlite:///{tmp_path.resolve()}/crmsync.db"
    assert project.mappings_for(source)["data"].defaults == {"phone_region": "RU"}
    # an interpolated secret is masked wherever text passes the redaction filter
    assert redact("calling with s3cr3t-token-value") == "calling with ***"


def test_database_url_from_environment_wins(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("CRMSYNC_TEST_TOKEN", "x" * 8)
    monkeypatch.setenv("CRMSYNC_DATABASE_URL", "postgresql://u@h/db")
    assert load_project(write(tmp_path, GOOD)).database_url() == "postgresql://u@h/db"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (GOOD, "sources[0].config.token: environment variable CRMSYNC_TEST_TOKEN is not set"),
        ("sources: [{name: a, connector: hubspt, streams: {}}]", "unknown connector 'hubspt'; available:"),
        ("defaults: {phone_region: russia}", "defaults.phone_region: 'russia' is not a two-letter ISO"),
        ("sourcez: []", "sourcez: unknown key"),
        ("sources: [{name: A B, connector: files, streams: {}}]", "sources.0.name: 'A B': use lowercase"),
        ("sources: [{name: a, connector: files}]", "sources.0.streams: required key is missing"),
        ("match: {rules: [[emial]]}", "match.rules: rule ['emial']"),
        ("sources: [{name: a, connector: files, streams: {x: nope.yaml}}]", "mapping 'nope.yaml': file not found"),
        ("sources: [\n", "not valid YAML"),
        ("- just a list", "the top level must be a mapping"),
    ],
)
def test_errors_name_the_file_the_key_and_the_fix(tmp_path: Path, monkeypatch, text: str, message: str) -> None:
    monkeypatch.delenv("CRMSYNC_TEST_TOKEN", raising=False)
    with pytest.raises(ConfigError) as info:
        load_project(write(tmp_path, text))
    assert str(info.value).startswith("crmsync.yaml: ")
    assert message in str(info.value)


def test_missing_project_file_says_how_to_start(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="crmsync init"):
        load_project(tmp_path / "crmsync.yaml")


def test_starter_and_demo_projects_are_valid(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("CRMSYNC_DATABASE_URL", raising=False)
    root = Path(__file__).parents[2] / "crmsync"
    demo = load_project(root / "demo" / "crmsync.yaml")
    assert [s.name for s in demo.sources] == ["workbook", "legacy", "webforms", "calls"]
    starter = load_project(root / "templates" / "crmsync.yaml", check_mappings=False)
    assert starter.sources[0].connector == "files"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("match: {auto_merge: 0.6, review: 0.9}", "review (0.9) must not be above auto_merge (0.6)"),
        ("match: {blocking: [emial]}", "unknown blocking key(s) ['emial']"),
        ("match: {comparisons: [phones]}", "unknown comparison(s) ['phones']"),
        ("match: {engine: fuzzy}", "match.engine: Input should be 'probabilistic' or 'exact'"),
    ],
)
def test_match_settings_are_validated(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_project(write(tmp_path, text))
    assert message in str(info.value)


def test_match_settings_build_the_engine(tmp_path: Path) -> None:
    from dedupe import BaselineMatcher
    from dedupe.engine import ProbabilisticMatcher

    project = load_project(write(tmp_path, "match: {auto_merge: 0.9, review: 0.5, identifiers: [inn]}"))
    matcher = project.match.matcher()
    assert isinstance(matcher, ProbabilisticMatcher)
    assert (matcher.settings.auto_merge, matcher.settings.review, matcher.settings.identifiers) == (0.9, 0.5, ["inn"])
    exact = load_project(write(tmp_path, "match: {engine: exact, rules: [[email]]}")).match.matcher()
    assert isinstance(exact, BaselineMatcher) and list(exact.rules) == [("email",)]
