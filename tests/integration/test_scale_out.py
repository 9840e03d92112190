"""The scale-out path: warehouse URIs, another DuckDB target, object-store warehouses and
releases (over S3's protocol, against a local S3 server), the multiprocess executor."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import duckdb
import polars as pl
import pyarrow.fs as pafs
import pytest
from moto.server import ThreadedMotoServer

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


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A local S3 server (moto) with a new, empty bucket; the warehouse URI, the endpoint in its query.
    (moto keeps its buckets in this process, shared by every server it starts: a bucket per test.)"""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
    }.items():
        monkeypatch.setenv(name, value)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    bucket = f"bucket-{uuid.uuid4().hex[:12]}"
    pafs.S3FileSystem(endpoint_override=f"{host}:{port}", scheme="http", allow_bucket_creation=True).create_dir(bucket)
    try:
        yield f"s3://{bucket}/ai-footprints?endpoint_override={host}:{port}&scheme=http"
    finally:
        server.stop()


def _release(sources: Path, warehouse: str, version: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "pipelines.cli", "--sources", str(sources), "release", "--warehouse", warehouse]
    return subprocess.run([*command, "--version", version], cwd=PROJECT_ROOT, capture_output=True, text=True)


def _read(filesystem: pafs.FileSystem, path: str) -> bytes:
    with filesystem.open_input_stream(path) as stream:
        return stream.read()


def test_an_object_store_warehouse_is_built_and_released_over_s3(source_tree: Path, s3: str) -> None:
    filesystem, root = pafs.FileSystem.from_uri(s3)
    write_document(source_tree, [figure(value="2400"), figure(id="f2", value="5", unit="GWh")])
    first = _release(source_tree, s3, "v2026.01.01")
    assert first.returncode == 0, first.stderr[-3000:]
    write_document(source_tree, [figure(value="2500"), figure(id="f2", value="5", unit="GWh")])
    second = _release(source_tree, s3, "v2026.01.02")
    assert second.returncode == 0, second.stderr[-3000:]

    # The build: CURRENT names the second build, whose Parquet the stable names hold too.
    build = _read(filesystem, f"{root}/CURRENT").decode().strip()
    stable = _read(filesystem, f"{root}/parquet/figures.parquet")
    assert _read(filesystem, f"{root}/builds/{build}/parquet/figures.parquet") == stable
    assert pl.read_parquet(stable).sort("figure_id")["value"].to_list() == [25_000.0, 5_000.0]  # 2500万度, 5 GWh

    # The releases sit beside it, each whole: every file listed in SHA256SUMS, with its checksum.
    release = f"{root}/releases/v2026.01.02"
    sums = _read(filesystem, f"{release}/SHA256SUMS").decode().splitlines()
    assert len(sums) >= 15
    for line in sums:
        digest, name = line.split("  ", 1)
        assert hashlib.sha256(_read(filesystem, f"{release}/{name}")).hexdigest() == digest, name
    assert _read(filesystem, f"{release}/ai-footprints-v2026.01.02.zip")[:2] == b"PK"
    changelog = _read(filesystem, f"{release}/CHANGELOG.md").decode()
    # Compared with the first release, read back from the bucket: 2400万度 = 24,000 MWh became 25,000 MWh.
    assert "Compared with v2026.01.01." in changelog
    assert "- changed: `test-doc/f1`: 24000 MWh → 25000 MWh" in changelog


def test_a_release_version_that_exists_in_the_bucket_is_refused(source_tree: Path, s3: str) -> None:
    write_document(source_tree, [figure()])
    assert _release(source_tree, s3, "v2026.01.01").returncode == 0
    again = _release(source_tree, s3, "v2026.01.01")
    assert again.returncode == 1
    assert again.stderr.startswith("error: release v2026.01.01 exists already at s3://"), again.stderr
    assert "give another --version" in again.stderr and "built" not in again.stdout  # refused before building
