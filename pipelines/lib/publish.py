"""Publishing: the DuckDB file and Parquet files, written aside and swapped in whole.

A build writes every table into a staging folder under the warehouse root, reads
it back to verify, and only then replaces the published files. A failure at any
earlier point leaves the previous warehouse exactly as it was.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandera.polars as pa
import polars as pl

DUCKDB_FILE = "ai_footprints.duckdb"
PARQUET_DIR = "parquet"
STAGING_PREFIX = ".staging-"
# Written in the oldest storage format so that DuckDB 1.x clients (the CLI on PyPI
# is still 1.x) can open the file too.
DUCKDB_STORAGE_COMPATIBILITY = "v1.0.0"
# The same tables give the same bytes: one thread writes row groups in one order, and
# columns are stored uncompressed (FSST samples at random, and compressed string blocks
# can carry unset padding bytes). The data is small; the file stays a few MB.
DUCKDB_CONFIG = {"storage_compatibility_version": DUCKDB_STORAGE_COMPATIBILITY, "threads": 1}
DUCKDB_SETTINGS = ["PRAGMA force_compression = 'uncompressed'"]


@dataclass(frozen=True)
class PublishedWarehouse:
    root: Path
    duckdb_path: Path
    parquet_dir: Path
    row_counts: dict[str, int]


def _sql_text(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def write_duckdb(
    tables: dict[str, pl.DataFrame], schemas: dict[str, pa.DataFrameSchema], path: Path, statements: list[str]
) -> None:
    """One table per frame, with table and column comments from the schemas, then the
    given statements (macros, views)."""
    with duckdb.connect(str(path), config=DUCKDB_CONFIG) as connection:
        for setting in DUCKDB_SETTINGS:
            connection.execute(setting)
        for name, frame in tables.items():
            connection.register("frame_to_publish", frame.to_arrow())
            connection.execute(f'CREATE TABLE "{name}" AS SELECT * FROM frame_to_publish')
            connection.unregister("frame_to_publish")
            schema = schemas.get(name)
            if schema is None:
                continue
            if schema.description:
                connection.execute(f'COMMENT ON TABLE "{name}" IS {_sql_text(schema.description)}')
            for column_name, column in schema.columns.items():
                unit = (column.metadata or {}).get("unit")
                text = f"{column.description} [{unit}]" if unit else column.description
                if text:
                    connection.execute(f'COMMENT ON COLUMN "{name}"."{column_name}" IS {_sql_text(text)}')
        for statement in statements:
            connection.execute(statement)
        connection.execute("CHECKPOINT")


def write_duckdb_in_fresh_process(
    tables: dict[str, pl.DataFrame], schemas: dict[str, pa.DataFrameSchema], path: Path, statements: list[str]
) -> None:
    """write_duckdb in a new interpreter, whose memory holds nothing from earlier writes, so
    that the file's bytes depend only on the tables (used for releases)."""
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        pool.submit(write_duckdb, tables, schemas, path, statements).result()


def write_parquet(tables: dict[str, pl.DataFrame], directory: Path) -> None:
    directory.mkdir(parents=True)
    for name, frame in tables.items():
        frame.write_parquet(directory / f"{name}.parquet", statistics=True)


def _verify(staging: Path, tables: dict[str, pl.DataFrame]) -> dict[str, int]:
    """Read the staged files back; every table must hold the rows it was given."""
    counts = {}
    with duckdb.connect(str(staging / DUCKDB_FILE), read_only=True) as connection:
        for name, frame in tables.items():
            (in_duckdb,) = connection.execute(f'SELECT count(*) FROM "{name}"').fetchone()  # type: ignore[misc]
            in_parquet = pl.scan_parquet(staging / PARQUET_DIR / f"{name}.parquet").select(pl.len()).collect().item()
            if not in_duckdb == in_parquet == frame.height:
                raise RuntimeError(
                    f"staged table {name} has {in_duckdb} rows in DuckDB and {in_parquet} in Parquet, "
                    f"expected {frame.height}"
                )
            counts[name] = frame.height
    return counts


def publish(
    tables: dict[str, pl.DataFrame],
    schemas: dict[str, pa.DataFrameSchema],
    root: Path,
    statements: list[str] | None = None,
) -> PublishedWarehouse:
    """Write all tables aside, verify them, then swap them in for the old ones."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    # Staging left behind by a build that was killed; builds do not run concurrently.
    for leftover in root.glob(f"{STAGING_PREFIX}*"):
        shutil.rmtree(leftover, ignore_errors=True)
    staging = root / f"{STAGING_PREFIX}{uuid.uuid4().hex}"
    staging.mkdir()
    try:
        write_duckdb(tables, schemas, staging / DUCKDB_FILE, statements or [])
        write_parquet(tables, staging / PARQUET_DIR)
        counts = _verify(staging, tables)
        _swap_in(staging, root)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return PublishedWarehouse(root, root / DUCKDB_FILE, root / PARQUET_DIR, counts)


def _swap_in(staging: Path, root: Path) -> None:
    """Replace the published files with the staged ones.

    The DuckDB file is replaced atomically (rename on one file system). The Parquet
    folder cannot be, so the old one is moved aside first, moved back if anything
    fails, and removed (with the staging folder) only after both are in place.
    """
    published_parquet = root / PARQUET_DIR
    old_parquet = staging / "previous-parquet"
    had_parquet = published_parquet.exists()
    if had_parquet:
        published_parquet.replace(old_parquet)
    try:
        (staging / PARQUET_DIR).replace(published_parquet)
        (staging / DUCKDB_FILE).replace(root / DUCKDB_FILE)
    except OSError:
        if had_parquet:
            if published_parquet.exists():
                shutil.rmtree(published_parquet)
            old_parquet.replace(published_parquet)
        raise
