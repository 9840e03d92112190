"""The scale-out path: warehouse URIs, another DuckDB target, object-store uploads, the
multiprocess executor."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import duckdb
import polars as pl
import pyarrow.fs as pafs
import pytest

from pipelines.lib import sql
from pipelines.lib.publish import BUILDS_DIR, publish, publish_to, upload_build, verify_warehouse
from schemas.tables import PUBLISHED_TABLES
from tests.conftest import PROJECT_ROOT, figure, write_document

pytestmark = pytest.mark.integration


def parquet_checksums(root: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted((root / "parquet").glob("*.parquet"))}


def build(sources: Path, *options: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "pipelines.cli", "--sources", str(sources), "build", *options]
    return subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True, check=False)


def test_the_multiprocess_executor_builds_a_file_uri_warehouse_like_the_default(
    source_tree: Path, tmp_path: Path
) -> None:
    write_document(source_tree, [figure(), figure(id="f2", value="5", unit="GWh", period="2023")])
    in_process, multiprocess, copy = tmp_path / "in-process", tmp_path / "multiprocess", tmp_path / "copy.duckdb"
    result = build(source_tree, "--warehouse", str(in_process))
    assert result.returncode == 0, result.stderr
    result = build(
        source_tree, "--warehouse", multiprocess.as_uri(), "--executor", "multiprocess", "--duckdb", str(copy)
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"built {multiprocess.as_uri()}" in result.stdout
    counts = verify_warehouse(multiprocess, PUBLISHED_TABLES)
    assert counts["figures"] == 2
    assert parquet_checksums(multiprocess) == parquet_checksums(in_process)
    with _open(copy) as target:
        assert target.execute("SELECT count(*) FROM figures").fetchone() == (2,)


def _open(path: Path) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(path), read_only=True)


def test_a_duckdb_target_gets_the_tables_macros_and_views(tables: dict[str, pl.DataFrame], tmp_path: Path) -> None:
    target = tmp_path / "elsewhere.duckdb"
    publish_to(tmp_path.as_uri() + "/warehouse", tables, PUBLISHED_TABLES, sql.statements(), duckdb_target=str(target))
    with _open(target) as connection:
        for name, frame in tables.items():
            assert connection.execute(f'SELECT count(*) FROM "{name}"').fetchone() == (frame.height,)
        assert connection.execute("SELECT round(training_energy_mwh(1e6, 400, 1.1))").fetchone() == (440,)
        assert connection.execute("SELECT count(*) FROM training_run_inputs").fetchone()[0] > 0  # type: ignore[index]


def test_an_object_store_upload_holds_the_build_and_names_it(tables: dict[str, pl.DataFrame], tmp_path: Path) -> None:
    """upload_build writes through pyarrow's filesystem API, the one S3 and GCS implement;
    here the filesystem is a second local folder."""
    published = publish(tables, PUBLISHED_TABLES, tmp_path / "local", sql.statements())
    bucket = tmp_path / "bucket"
    bucket.mkdir()
    upload_build(tmp_path / "local" / BUILDS_DIR / published.build_id, pafs.LocalFileSystem(), str(bucket / "wh"))
    assert (bucket / "wh" / "CURRENT").read_text() == f"{published.build_id}\n"
    assert (bucket / "wh" / BUILDS_DIR / published.build_id / "ai_footprints.duckdb").is_file()
    assert verify_warehouse(bucket / "wh", PUBLISHED_TABLES) == published.row_counts
