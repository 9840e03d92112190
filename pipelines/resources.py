"""Dagster resources: where the sources are read from and the warehouse is written to."""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SOURCES = PROJECT_ROOT / "sources"
DEFAULT_WAREHOUSE = PROJECT_ROOT / "warehouse"


class SourcesResource(dg.ConfigurableResource):
    """The folder of curated inputs (metrics.yaml, entities.yaml, documents/)."""

    root: str = os.environ.get("AI_FOOTPRINTS_SOURCES", str(DEFAULT_SOURCES))

    @property
    def path(self) -> Path:
        return Path(self.root)


class WarehouseResource(dg.ConfigurableResource):
    """The warehouse root that receives ai_footprints.duckdb and parquet/."""

    root: str = os.environ.get("AI_FOOTPRINTS_WAREHOUSE", str(DEFAULT_WAREHOUSE))

    @property
    def path(self) -> Path:
        return Path(self.root)
