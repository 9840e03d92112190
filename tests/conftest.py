"""Shared fixtures: the project's real source tree, and small trees built in tmp folders."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import yaml

from pipelines.lib.normalise import normalise_all
from pipelines.lib.sources import DIMENSION_FILES, load_sources, raw_frames
from pipelines.lib.tables import derived_tables
from pipelines.lib.upstream import snapshot_tables

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SOURCES = PROJECT_ROOT / "sources"
SEEDS = PROJECT_ROOT.parent / "shared" / "seeds"
# Debian's Chromium for the browser tests (.ci/run installs it), with the flags this machine's
# closed network needs (no background networking); headless is added by each test's launcher.
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session", autouse=True)
def dagster_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Builds run by the tests (and their subprocesses) record their runs in a Dagster
    instance of their own, never in the project's .dagster/."""
    home = tmp_path_factory.mktemp("dagster_home")
    os.environ["DAGSTER_HOME"] = str(home)
    return home


@pytest.fixture(scope="session")
def tables() -> dict[str, pl.DataFrame]:
    """Every published table built in memory from the real sources (no Dagster)."""
    normalised, problems = normalise_all(raw_frames(load_sources(SOURCES)))
    assert problems == []
    upstream, problems = snapshot_tables(SOURCES, normalised["entities"])
    assert problems == [], problems
    return derived_tables(normalised, upstream)


@pytest.fixture
def source_tree(tmp_path: Path) -> Path:
    """A source tree with the real vocabularies (metrics, entities, dimensions) and no documents yet."""
    tree = tmp_path / "sources"
    (tree / "documents").mkdir(parents=True)
    for name in ("metrics.yaml", "entities.yaml", *DIMENSION_FILES.values()):
        shutil.copy(SOURCES / name, tree / name)
    return tree


def write_document(tree: Path, figures: list[dict[str, Any]], **header: Any) -> Path:
    """Write sources/documents/<id>.yaml with a valid header unless overridden."""
    document = {
        "id": "test-doc",
        "title": "A test document",
        "publisher": "Tests",
        "published": "2024-01-02",
        "kind": "paper",
        "language": "en",
        **header,
        "figures": figures,
    }
    path = tree / "documents" / f"{header.get('file_stem', document['id'])}.yaml"
    document.pop("file_stem", None)
    path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


EMISSIONS_METRICS = {
    metric["id"]
    for metric in yaml.safe_load((SOURCES / "metrics.yaml").read_text(encoding="utf-8"))
    if metric.get("accounting")
}


def _period_kind(period: str | None, basis: str | None) -> str:
    """The period kind a period as written implies (a fiscal year where twelve months do
    not start in January)."""
    if basis == "projected":
        return "projection"
    if period is None:
        return "run"
    first, _, last = period.partition("/")
    if not last:
        return {1: "calendar_year", 2: "part_year", 3: "point_in_time"}[len(first.split("-"))]
    start, end = (tuple(int(part) for part in text.split("-")[:2]) for text in (first, last))
    months = (end[0] - start[0]) * 12 + (end[1] if len(end) > 1 else 12) - (start[1] if len(start) > 1 else 1) + 1
    if months == 12:
        return "calendar_year" if len(start) == 1 or start[1] == 1 else "fiscal_year"
    return "part_year" if months < 12 else "multi_year"


def figure(**overrides: Any) -> dict[str, Any]:
    """A valid figure; tests change one field to make it wrong. Its meaning keys default to
    boundary unknown, statistic total, the period kind its period implies, and accounting
    unstated for (changes of) emissions."""
    written = {
        "id": "f1",
        "subject": "GPT-4",
        "metric": "training_energy",
        "value": "2400",
        "unit": "万度",
        **overrides,
    }
    defaults: dict[str, Any] = {
        "boundary": "unknown",
        "statistic": "total",
        "period_kind": _period_kind(written.get("period"), written.get("basis")),
    }
    if {written["metric"], written.get("relative_to")} & EMISSIONS_METRICS:
        defaults["accounting"] = "unstated"
    return {**written, **{key: value for key, value in defaults.items() if key not in written}}
