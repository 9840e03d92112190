"""Publishing swaps whole warehouses: a fault mid-swap puts the old files back."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from pipelines.lib.publish import DUCKDB_FILE, PARQUET_DIR, publish
from schemas.tables import PUBLISHED_TABLES
from tests.integration.test_build import file_hashes

pytestmark = pytest.mark.integration


def test_a_fault_while_swapping_restores_the_old_parquet(tables: dict[str, pl.DataFrame], tmp_path: Path) -> None:
    publish(tables, PUBLISHED_TABLES, tmp_path)
    # A directory where the DuckDB file should go makes the final rename fail.
    (tmp_path / DUCKDB_FILE).unlink()
    (tmp_path / DUCKDB_FILE).mkdir()
    (tmp_path / DUCKDB_FILE / "keep").write_text("in the way", encoding="utf-8")
    before = file_hashes(tmp_path)
    smaller = {**tables, "figures": tables["figures"].head(1)}
    with pytest.raises(OSError):
        publish(smaller, PUBLISHED_TABLES, tmp_path)
    assert file_hashes(tmp_path) == before
    assert pl.read_parquet(tmp_path / PARQUET_DIR / "figures.parquet").height == tables["figures"].height


def test_staging_left_by_a_killed_build_is_cleared(tables: dict[str, pl.DataFrame], tmp_path: Path) -> None:
    leftover = tmp_path / ".staging-killed"
    leftover.mkdir(parents=True)
    (leftover / "partial.parquet").write_bytes(b"partial")
    published = publish(tables, PUBLISHED_TABLES, tmp_path)
    assert not leftover.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [DUCKDB_FILE, PARQUET_DIR]
    assert published.row_counts == {name: frame.height for name, frame in tables.items()}
