"""Publishing: the DuckDB file and Parquet files of one build, switched in whole.

Layout of a warehouse root (the paths users open never change):

    builds/<build id>/ai_footprints.duckdb, parquet/   one complete, verified build each
    current -> builds/<build id>                       the published build
    ai_footprints.duckdb -> current/ai_footprints.duckdb
    parquet -> current/parquet

The root may also be a file:// URI, or an object-store URI (s3://, gs://, any filesystem
pyarrow knows): there the verified build is uploaded (`upload_build`). A DuckDB target
other than the warehouse's own file (another path, or a MotherDuck `md:` database) gets a
copy of the tables in one transaction (`copy_to_duckdb`).

A build is written into `builds/.staging-*`, read back and verified, renamed to
`builds/<build id>`, and published by replacing the `current` link in one atomic
rename. Whenever a build is killed, `current` names either the previous complete
build or the new one; the next build clears what the killed one left. Readers
that opened the previous build keep reading it (its files are kept until the
build after next), and readers that open the warehouse afterwards see the new one.
"""

from __future__ import annotations

import concurrent.futures
import fcntl
import multiprocessing
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

import duckdb
import polars as pl
import pyarrow.fs as pafs

from pipelines.lib.locations import local_path

if TYPE_CHECKING:  # pandera takes a second to import; readers of the warehouse do not need it
    import pandera.polars as pa

DUCKDB_FILE = "ai_footprints.duckdb"
PARQUET_DIR = "parquet"
BUILDS_DIR = "builds"
CURRENT_LINK = "current"
CURRENT_FILE = "CURRENT"  # an object store's stand-in for the link: the published build's id
STAGING_PREFIX = ".staging-"
LOCK_FILE = ".publish.lock"
# Written in the oldest storage format so that DuckDB 1.x clients (the CLI on PyPI
# is still 1.x) can open the file too.
DUCKDB_STORAGE_COMPATIBILITY = "v1.0.0"
# The same tables give the same bytes: one thread writes row groups in one order, and
# columns are stored uncompressed (FSST samples at random, and compressed string blocks
# can carry unset padding bytes). The data is small; the file stays a few MB.
DUCKDB_CONFIG = {"storage_compatibility_version": DUCKDB_STORAGE_COMPATIBILITY, "threads": 1}
DUCKDB_SETTINGS = ["PRAGMA force_compression = 'uncompressed'"]


class PublishError(Exception):
    """The warehouse could not be written; the previous one is still published."""


@dataclass(frozen=True)
class PublishedWarehouse:
    root: Path  # for an object-store warehouse, the local folder the build was verified in (removed since)
    build_id: str
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
                raise PublishError(
                    f"staged table {name} has {in_duckdb} rows in DuckDB and {in_parquet} in Parquet, "
                    f"expected {frame.height}"
                )
            counts[name] = frame.height
    return counts


def _fsync(path: Path) -> None:
    """Flush one file or folder (its entries) to disk."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _sync(folder: Path) -> None:
    """Flush a build's files and folders to disk before it is published."""
    for path in [*sorted(folder.rglob("*"), reverse=True), folder]:
        _fsync(path)


@contextmanager
def _publish_lock(root: Path) -> Iterator[None]:
    """One publisher per warehouse root at a time; the lock dies with its process."""
    with (root / LOCK_FILE).open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _new_build_id() -> str:
    return f"{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}-{uuid.uuid4().hex[:8]}"


def published_build(root: Path) -> str | None:
    """The id of the published build, or None when nothing is published yet."""
    link = Path(root) / CURRENT_LINK
    return link.readlink().name if link.is_symlink() else None


def publish(
    tables: dict[str, pl.DataFrame],
    schemas: dict[str, pa.DataFrameSchema],
    root: Path,
    statements: list[str] | None = None,
) -> PublishedWarehouse:
    """Write all tables as a new build, verify it, then switch `current` to it.

    A failure to write (no space, a read-only folder) raises PublishError and leaves
    the published build as it was.
    """
    root = Path(root)
    try:
        root.mkdir(parents=True, exist_ok=True)
        with _publish_lock(root):
            builds = root / BUILDS_DIR
            builds.mkdir(exist_ok=True)
            _clear_leftovers(root)
            build_id = _new_build_id()
            staging = builds / f"{STAGING_PREFIX}{build_id}"
            staging.mkdir()
            try:
                write_duckdb(tables, schemas, staging / DUCKDB_FILE, statements or [])
                write_parquet(tables, staging / PARQUET_DIR)
                counts = _verify(staging, tables)
                _sync(staging)
                staging.rename(builds / build_id)
            finally:
                shutil.rmtree(staging, ignore_errors=True)
            previous = published_build(root)
            _switch_current(root, build_id)
            _link_entry_points(root)
            _prune(root, keep={build_id, *([previous] if previous else [])})
    except (OSError, duckdb.Error) as exc:
        reason = " ".join(str(exc).split())
        raise PublishError(
            f"could not write the warehouse at {root}: {reason}; the published warehouse is unchanged"
        ) from exc
    return PublishedWarehouse(root, build_id, counts)


def _switch_current(root: Path, build_id: str) -> None:
    """Point `current` at the build with one atomic rename of a new link over the old."""
    link = root / f".{CURRENT_LINK}-{uuid.uuid4().hex}"
    link.symlink_to(Path(BUILDS_DIR) / build_id, target_is_directory=True)
    link.replace(root / CURRENT_LINK)
    _fsync(root)


def _link_entry_points(root: Path) -> None:
    """Make ai_footprints.duckdb and parquet/ links through `current` (once per root).

    A warehouse written before builds existed has real files there; they are moved
    into builds/ (and pruned with the other old builds).
    """
    for name in (DUCKDB_FILE, PARQUET_DIR):
        entry = root / name
        target = Path(CURRENT_LINK) / name
        if entry.is_symlink() and entry.readlink() == target:
            continue
        if entry.exists() and not entry.is_symlink():
            entry.rename(root / BUILDS_DIR / f"{STAGING_PREFIX}before-builds-{uuid.uuid4().hex}")
        link = root / f".{name}-{uuid.uuid4().hex}"
        link.symlink_to(target, target_is_directory=name == PARQUET_DIR)
        link.replace(entry)


def _clear_leftovers(root: Path) -> None:
    """Remove what killed builds left: staging folders and half-made links."""
    for leftover in (root / BUILDS_DIR).glob(f"{STAGING_PREFIX}*"):
        if leftover.is_dir() and not leftover.is_symlink():
            shutil.rmtree(leftover, ignore_errors=True)
        else:
            leftover.unlink(missing_ok=True)
    for name in (CURRENT_LINK, DUCKDB_FILE, PARQUET_DIR):
        for link in root.glob(f".{name}-*"):
            link.unlink(missing_ok=True)
    for leftover in root.glob(f"{STAGING_PREFIX}*"):  # staging folders of the layout before builds/
        shutil.rmtree(leftover, ignore_errors=True)


def _prune(root: Path, keep: set[str]) -> None:
    """Delete builds that are neither published nor the one before it (readers may still
    hold that one open; on POSIX they keep reading even after this deletes it)."""
    for build in (root / BUILDS_DIR).iterdir():
        if build.name not in keep and not build.name.startswith(STAGING_PREFIX):
            shutil.rmtree(build, ignore_errors=True)


def verify_warehouse(root: Path, schemas: dict[str, pa.DataFrameSchema]) -> dict[str, int]:
    """Open a published warehouse as a reader would and check it: every table is in
    DuckDB and in Parquet with the same rows, and passes its schema. Row counts by table."""
    root = Path(root)
    counts = {}
    with duckdb.connect(str(root / DUCKDB_FILE), read_only=True) as connection:
        for name, schema in schemas.items():
            in_duckdb = pl.from_arrow(connection.sql(f'SELECT * FROM "{name}"').to_arrow_table())
            in_parquet = pl.read_parquet(root / PARQUET_DIR / f"{name}.parquet")
            if not in_duckdb.equals(in_parquet):  # type: ignore[union-attr]
                raise PublishError(f"table {name} differs between DuckDB and Parquet in {root}")
            schema.validate(in_parquet, lazy=True)
            counts[name] = in_parquet.height
    return counts


def publish_to(
    location: str | Path,
    tables: dict[str, pl.DataFrame],
    schemas: dict[str, pa.DataFrameSchema],
    statements: list[str] | None = None,
    duckdb_target: str | None = None,
) -> PublishedWarehouse:
    """Publish to a warehouse location (a path, a file:// URI or an object-store URI), then
    copy the tables to the DuckDB target when one is given."""
    local = local_path(location)
    # An object-store warehouse is built and verified in a local folder, then uploaded.
    with nullcontext(str(local)) if local else tempfile.TemporaryDirectory(prefix="ai-footprints-") as folder:
        published = publish(tables, schemas, Path(folder), statements)
        if local is None:
            filesystem, root = warehouse_filesystem(location)
            upload_build(published.root / BUILDS_DIR / published.build_id, filesystem, root)
        if duckdb_target:
            copy_to_duckdb(published.root / DUCKDB_FILE, duckdb_target, list(tables), statements or [])
    return published


def warehouse_filesystem(location: str | Path) -> tuple[pafs.FileSystem, str]:
    """The pyarrow filesystem a warehouse location is on, and the root's path on it."""
    local = local_path(location)
    if local is not None:
        return pafs.LocalFileSystem(), local.absolute().as_posix()
    return pafs.FileSystem.from_uri(str(location))


def published_parquet(location: str | Path) -> tuple[pafs.FileSystem, str]:
    """The folder of the published build's Parquet files, on its filesystem: the build that
    `current` (a local warehouse) or `CURRENT` (an object store) names, so that every table
    read from it comes from one build even while another is published."""
    filesystem, root = warehouse_filesystem(location)
    if isinstance(filesystem, pafs.LocalFileSystem):
        build = published_build(Path(root))
    else:
        try:
            with filesystem.open_input_stream(f"{root}/{CURRENT_FILE}") as stream:
                build = stream.read().decode().strip()
        except FileNotFoundError:
            build = None
    if not build:
        raise PublishError(f"nothing is published at {location}: build it first (ai-footprints build)")
    return filesystem, f"{root}/{BUILDS_DIR}/{build}/{PARQUET_DIR}"


def read_parquet_folder(filesystem: pafs.FileSystem, folder: str) -> dict[str, pl.DataFrame]:
    """Every `<table>.parquet` in a folder on any pyarrow filesystem, by table name."""
    listed = filesystem.get_file_info(pafs.FileSelector(folder))
    tables = {}
    for path in sorted(info.path for info in listed if info.path.endswith(".parquet")):
        with filesystem.open_input_file(path) as handle:
            tables[PurePosixPath(path).stem] = pl.read_parquet(handle)
    return tables


def upload_build(build: Path, filesystem: pafs.FileSystem, root: str) -> None:
    """Upload a verified build to `root` on a pyarrow filesystem (S3, GCS, local, ...).

    Object stores have no links or folder renames, so the build goes to
    `builds/<build id>/` first, then each file is copied to its stable name
    (`ai_footprints.duckdb`, `parquet/<table>.parquet`), and `CURRENT` names the build.
    Each object is replaced whole, but not all at once: a reader listing the files
    during an upload can meet two builds; read `CURRENT` and `builds/<id>/` to avoid that.
    """
    local = pafs.LocalFileSystem()
    uploaded = f"{root.rstrip('/')}/{BUILDS_DIR}/{build.name}"
    pafs.copy_files(str(build), uploaded, source_filesystem=local, destination_filesystem=filesystem)
    filesystem.create_dir(f"{root.rstrip('/')}/{PARQUET_DIR}", recursive=True)  # a no-op on object stores
    for name in (DUCKDB_FILE, PARQUET_DIR):
        pafs.copy_files(
            f"{uploaded}/{name}",
            f"{root.rstrip('/')}/{name}",
            source_filesystem=filesystem,
            destination_filesystem=filesystem,
        )
    with filesystem.open_output_stream(f"{root.rstrip('/')}/{CURRENT_FILE}") as stream:
        stream.write(f"{build.name}\n".encode())


def copy_to_duckdb(published: Path, target: str, tables: list[str], statements: list[str]) -> None:
    """Replace the tables, macros and views of another DuckDB database with the published
    ones, in one transaction. `target` is a path, or `md:<database>` for MotherDuck (which
    needs the motherduck extension and a MOTHERDUCK_TOKEN)."""
    with duckdb.connect(target) as connection:
        connection.execute(f"ATTACH {_sql_text(str(published))} AS published (READ_ONLY)")
        connection.execute("BEGIN TRANSACTION")
        for name in tables:
            connection.execute(f'CREATE OR REPLACE TABLE "{name}" AS SELECT * FROM published."{name}"')
        for statement in statements:
            if statement.startswith("CREATE "):
                connection.execute(statement.replace("CREATE ", "CREATE OR REPLACE ", 1))
        connection.execute("COMMIT")
        connection.execute("DETACH published")
