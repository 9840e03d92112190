"""Shared fixtures: the project's real source tree, and small trees built in tmp folders."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import yaml

from pipelines.lib.annual import annual_metrics
from pipelines.lib.claims import claim_checks
from pipelines.lib.derive import training_runs
from pipelines.lib.normalise import normalise_all
from pipelines.lib.ratios import intensities, per_request
from pipelines.lib.sources import load_sources, raw_frames

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SOURCES = PROJECT_ROOT / "sources"
SEEDS = PROJECT_ROOT.parent / "shared" / "seeds"


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
    figures = normalised["figures"]
    runs = training_runs(figures, normalised["factors"])
    annual = annual_metrics(figures, normalised["sources"])
    checks = claim_checks(figures, normalised["sources"], normalised["entities"], runs, annual)
    return {
        **normalised,
        "training_runs": runs,
        "annual_metrics": annual,
        "per_request": per_request(figures),
        "intensities": intensities(annual),
        "claim_checks": checks,
    }


@pytest.fixture
def source_tree(tmp_path: Path) -> Path:
    """A source tree with the real vocabularies (metrics, entities) and no documents yet."""
    tree = tmp_path / "sources"
    (tree / "documents").mkdir(parents=True)
    for name in ("metrics.yaml", "entities.yaml"):
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


def figure(**overrides: Any) -> dict[str, Any]:
    """A valid figure; tests change one field to make it wrong."""
    return {
        "id": "f1",
        "subject": "GPT-4",
        "metric": "training_energy",
        "value": "2400",
        "unit": "万度",
        **overrides,
    }
