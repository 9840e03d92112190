"""Publishing under faults: killed builds, full or read-only disks, readers holding the old build.

After any of these the warehouse is a complete build, the previous one or the new one,
that opens and passes its checks. The kill loop runs FAULT_ITERATIONS times (a few in
CI); run the long version with
    AI_FOOTPRINTS_FAULT_ITERATIONS=500 .venv/bin/pytest -m fault_injection
"""

from __future__ import annotations

import os
import random
import resource
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from pipelines.lib import sql
from pipelines.lib.publish import (
    BUILDS_DIR,
    CURRENT_LINK,
    DUCKDB_FILE,
    PARQUET_DIR,
    PublishError,
    publish,
    published_build,
    verify_warehouse,
)
from pipelines.lib.reading import connect
from schemas.tables import PUBLISHED_TABLES
from tests.conftest import PROJECT_ROOT
from tests.integration.test_build import file_hashes

pytestmark = pytest.mark.integration

FAULT_ITERATIONS = int(os.environ.get("AI_FOOTPRINTS_FAULT_ITERATIONS", "12"))
PUBLISHER = [sys.executable, "-m", "tests.integration.publish_tables"]


@pytest.fixture(scope="module")
def two_builds(tables: dict[str, pl.DataFrame], tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Two saved sets of tables that publish different warehouses (all figures, and 100)."""
    folders = []
    for name, figures in (("all", tables["figures"]), ("fewer", tables["figures"].head(100))):
        folder = tmp_path_factory.mktemp(name)
        for table, frame in {**tables, "figures": figures}.items():
            frame.write_parquet(folder / f"{table}.parquet")
        folders.append(folder)
    return folders[0], folders[1]


def figure_count(root: Path) -> int:
    return verify_warehouse(root, PUBLISHED_TABLES)["figures"]


def leftovers(root: Path) -> list[str]:
    """Anything a finished publish should not leave: staging folders and half-made links."""
    names = [p.name for p in (root / BUILDS_DIR).iterdir() if p.name.startswith(".")]
    return names + [p.name for p in root.iterdir() if p.name.startswith(".") and p.name != ".publish.lock"]


def test_a_build_is_published_by_switching_one_link(tables: dict[str, pl.DataFrame], tmp_path: Path) -> None:
    first = publish(tables, PUBLISHED_TABLES, tmp_path, sql.statements())
    second = publish(tables, PUBLISHED_TABLES, tmp_path, sql.statements())
    third = publish({**tables, "figures": tables["figures"].head(5)}, PUBLISHED_TABLES, tmp_path, sql.statements())
    assert published_build(tmp_path) == third.build_id
    assert (tmp_path / CURRENT_LINK).readlink() == Path(BUILDS_DIR) / third.build_id
    assert (tmp_path / DUCKDB_FILE).resolve() == (tmp_path / BUILDS_DIR / third.build_id / DUCKDB_FILE)
    # The published build and the one before it are kept; older ones are removed.
    assert sorted(p.name for p in (tmp_path / BUILDS_DIR).iterdir()) == sorted([second.build_id, third.build_id])
    assert first.build_id not in {second.build_id, third.build_id}
    assert figure_count(tmp_path) == 5
    assert leftovers(tmp_path) == []


def test_a_warehouse_from_before_builds_is_taken_over(tables: dict[str, pl.DataFrame], tmp_path: Path) -> None:
    (tmp_path / PARQUET_DIR).mkdir()
    (tmp_path / PARQUET_DIR / "figures.parquet").write_bytes(b"old layout")
    (tmp_path / DUCKDB_FILE).write_bytes(b"old layout")
    publish(tables, PUBLISHED_TABLES, tmp_path, sql.statements())
    assert (tmp_path / PARQUET_DIR).is_symlink() and (tmp_path / DUCKDB_FILE).is_symlink()
    assert figure_count(tmp_path) == tables["figures"].height
    publish(tables, PUBLISHED_TABLES, tmp_path, sql.statements())
    assert leftovers(tmp_path) == []


def test_what_a_killed_build_left_is_cleared_by_the_next(tables: dict[str, pl.DataFrame], tmp_path: Path) -> None:
    publish(tables, PUBLISHED_TABLES, tmp_path)
    staging = tmp_path / BUILDS_DIR / ".staging-killed"
    staging.mkdir()
    (staging / "partial.parquet").write_bytes(b"partial")
    (tmp_path / f".{CURRENT_LINK}-killed").symlink_to("nowhere")
    (tmp_path / ".staging-from-the-old-layout").mkdir()
    publish(tables, PUBLISHED_TABLES, tmp_path)
    assert leftovers(tmp_path) == []
    assert not staging.exists()


def test_a_reader_keeps_its_build_while_new_ones_are_published(tables: dict[str, pl.DataFrame], tmp_path: Path) -> None:
    publish(tables, PUBLISHED_TABLES, tmp_path, sql.statements())
    everything = tables["figures"].height
    reader = connect(tmp_path)
    count = "SELECT count(*) FROM figures"
    assert reader.execute(count).fetchone() == (everything,)
    # Two more builds: the reader's build is first kept, then deleted from the folder.
    publish({**tables, "figures": tables["figures"].head(7)}, PUBLISHED_TABLES, tmp_path, sql.statements())
    assert reader.execute(count).fetchone() == (everything,)
    publish({**tables, "figures": tables["figures"].head(3)}, PUBLISHED_TABLES, tmp_path, sql.statements())
    assert reader.execute(count).fetchone() == (everything,)
    assert reader.execute("SELECT sum(value) IS NOT NULL FROM figures").fetchone() == (True,)
    with connect(tmp_path) as new_reader:
        assert new_reader.execute(count).fetchone() == (3,)
    reader.close()


def test_a_full_file_system_fails_with_a_clear_message(two_builds: tuple[Path, Path], tmp_path: Path) -> None:
    """No space: the file size limit (RLIMIT_FSIZE) makes writes fail as a full disk does, even for root."""
    full, fewer = two_builds
    root = tmp_path / "warehouse"
    subprocess.run([*PUBLISHER, str(fewer), str(root)], check=True, cwd=PROJECT_ROOT, capture_output=True)
    before = file_hashes(root)

    def small_files() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, 200_000))

    result = subprocess.run(
        [*PUBLISHER, str(full), str(root)], cwd=PROJECT_ROOT, capture_output=True, text=True, preexec_fn=small_files
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(f"could not write the warehouse at {root}: ")
    assert "File too large" in result.stderr and "the published warehouse is unchanged" in result.stderr
    assert "Traceback" not in result.stderr
    assert file_hashes(root) == before
    assert figure_count(root) == 100


def _in_private_tmpfs(script: str, tmp_path: Path, size: str) -> subprocess.CompletedProcess[str]:
    """Run a shell script with a small tmpfs mounted at tmp_path/mnt in a private mount namespace."""
    mount = tmp_path / "mnt"
    mount.mkdir()
    probe = (
        subprocess.run(
            ["unshare", "-m", "sh", "-c", f"mount -t tmpfs -o size={size} tmpfs {mount}"],
            capture_output=True,
            check=False,
        )
        if shutil.which("unshare")
        else None
    )
    if probe is None or probe.returncode != 0:
        pytest.skip("needs a private mount namespace (unshare -m) to mount a small tmpfs")
    return subprocess.run(
        ["unshare", "-m", "sh", "-c", f"set -e; mount -t tmpfs -o size={size} tmpfs {mount}; {script}"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )


def test_no_space_left_on_a_small_disk(two_builds: tuple[Path, Path], tmp_path: Path) -> None:
    full, _ = two_builds
    root = tmp_path / "mnt" / "warehouse"
    publisher = " ".join(PUBLISHER)
    # Room for one build but not for a second beside it: one and a half builds' bytes.
    reference = tmp_path / "reference"
    subprocess.run([*PUBLISHER, str(full), str(reference)], check=True, cwd=PROJECT_ROOT, capture_output=True)
    build_bytes = sum(path.stat().st_size for path in (reference / BUILDS_DIR).rglob("*") if path.is_file())
    script = f"""
{publisher} {full} {root}
{publisher} {full} {root} 2> {tmp_path}/error.txt || echo "exit $?" > {tmp_path}/exit.txt
{sys.executable} -c "from pipelines.lib.publish import verify_warehouse; from schemas.tables import PUBLISHED_TABLES; \\
print(verify_warehouse('{root}', PUBLISHED_TABLES)['figures'])" > {tmp_path}/count.txt
ls -A {root}/{BUILDS_DIR} > {tmp_path}/builds.txt
"""
    result = _in_private_tmpfs(script, tmp_path, f"{build_bytes * 3 // 2 // 1024}k")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "exit.txt").read_text() == "exit 2\n"
    error = (tmp_path / "error.txt").read_text()
    assert "No space left on device" in error and "the published warehouse is unchanged" in error, error
    assert int((tmp_path / "count.txt").read_text()) == pl.read_parquet(full / "figures.parquet").height
    assert len((tmp_path / "builds.txt").read_text().split()) == 1  # the failed build's files are gone


def test_a_read_only_folder_fails_with_a_clear_message(two_builds: tuple[Path, Path], tmp_path: Path) -> None:
    full, fewer = two_builds
    mount = tmp_path / "mnt"
    root = mount / "warehouse"
    publisher = " ".join(PUBLISHER)
    script = f"""
{publisher} {fewer} {root}
mount -o remount,ro {mount}
{publisher} {full} {root} 2> {tmp_path}/error.txt || echo "exit $?" > {tmp_path}/exit.txt
{sys.executable} -c "from pipelines.lib.publish import verify_warehouse; from schemas.tables import PUBLISHED_TABLES; \\
print(verify_warehouse('{root}', PUBLISHED_TABLES)['figures'])" > {tmp_path}/count.txt
"""
    result = _in_private_tmpfs(script, tmp_path, "16m")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "exit.txt").read_text() == "exit 2\n"
    error = (tmp_path / "error.txt").read_text()
    assert error.startswith(f"could not write the warehouse at {root}: ") and "Read-only file system" in error, error
    assert (tmp_path / "count.txt").read_text() == "100\n"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into folders without write permission")
def test_a_folder_without_write_permission_fails_with_a_clear_message(
    tables: dict[str, pl.DataFrame], tmp_path: Path
) -> None:
    publish(tables, PUBLISHED_TABLES, tmp_path)
    before = file_hashes(tmp_path)
    (tmp_path / BUILDS_DIR).chmod(0o555)
    try:
        with pytest.raises(PublishError, match=r"Permission denied.*the published warehouse is unchanged"):
            publish(tables, PUBLISHED_TABLES, tmp_path)
    finally:
        (tmp_path / BUILDS_DIR).chmod(0o755)
    assert file_hashes(tmp_path) == before


@pytest.mark.fault_injection
def test_killing_a_build_mid_publish_leaves_a_complete_warehouse(two_builds: tuple[Path, Path], tmp_path: Path) -> None:
    """SIGKILL the publisher at a random moment, many times: the warehouse is always the
    previous complete build or the new one, and it opens and passes its checks."""
    full, fewer = two_builds
    counts = {full: pl.read_parquet(full / "figures.parquet").height, fewer: 100}
    root = tmp_path / "warehouse"
    subprocess.run([*PUBLISHER, str(fewer), str(root)], check=True, cwd=PROJECT_ROOT, capture_output=True)
    published = fewer
    seed = int(os.environ.get("AI_FOOTPRINTS_FAULT_SEED", "0")) or random.randrange(1, 2**32)
    chance = random.Random(seed)
    outcomes = {"kept the previous build": 0, "published the new build": 0}
    for _ in range(FAULT_ITERATIONS):
        new = full if published == fewer else fewer
        process = subprocess.Popen([*PUBLISHER, str(new), str(root)], cwd=PROJECT_ROOT, stdout=subprocess.PIPE)
        assert process.stdout is not None and process.stdout.readline() == b"ready\n"
        # A publish takes about 0.2-0.5 s here; some kills land after it has finished.
        try:
            process.wait(timeout=chance.uniform(0, 0.6))
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGKILL)
            process.wait()
        process.stdout.close()
        count = figure_count(root)
        assert count in {counts[published], counts[new]}, f"seed {seed}: {count} figures"
        if count == counts[new]:
            published = new
            outcomes["published the new build"] += 1
        else:
            outcomes["kept the previous build"] += 1
    print(f"seed {seed}, {FAULT_ITERATIONS} kills: {outcomes}")
    subprocess.run([*PUBLISHER, str(full), str(root)], check=True, cwd=PROJECT_ROOT, capture_output=True)
    assert figure_count(root) == counts[full]
    assert leftovers(root) == []
    assert len(list((root / BUILDS_DIR).iterdir())) <= 2
