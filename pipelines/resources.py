"""Dagster resources: where the sources are read from and the warehouse is written to."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

import dagster as dg

from pipelines.lib.locations import DEFAULT_SOURCES, DEFAULT_WAREHOUSE, PROJECT_ROOT, local_path

__all__ = ["DEFAULT_SOURCES", "DEFAULT_WAREHOUSE", "PROJECT_ROOT", "SourcesResource", "WarehouseResource"]


class SourcesResource(dg.ConfigurableResource):
    """The folder of curated inputs (metrics.yaml, entities.yaml, documents/)."""

    root: str = os.environ.get("AI_FOOTPRINTS_SOURCES", str(DEFAULT_SOURCES))

    @property
    def path(self) -> Path:
        return Path(self.root)


class WarehouseResource(dg.ConfigurableResource):
    """The warehouse root that receives ai_footprints.duckdb and parquet/: a path, a file://
    URI, or an object-store URI (s3://, gs://); and, optionally, another DuckDB database
    (a path, or MotherDuck's `md:<database>`) that receives a copy of the tables."""

    root: str = os.environ.get("AI_FOOTPRINTS_WAREHOUSE", str(DEFAULT_WAREHOUSE))
    duckdb_target: str = os.environ.get("AI_FOOTPRINTS_DUCKDB", "")

    @property
    def path(self) -> Path:
        """The local folder for charts and releases: the root itself when it is local, else
        a folder named after the URI under the system's temporary folder."""
        local = local_path(self.root)
        if local is not None:
            return local
        return Path(tempfile.gettempdir()) / "ai-footprints" / hashlib.sha256(self.root.encode()).hexdigest()[:16]
