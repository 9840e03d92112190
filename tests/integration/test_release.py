"""Releases: reproducible bytes, a valid Data Package, a changelog of values, old clients."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import zipfile
from datetime import date
from pathlib import Path

import duckdb
import pytest
from frictionless import validate

from pipelines.cli import main
from tests.conftest import SOURCES, figure, write_document

pytestmark = pytest.mark.integration
VERSION = "v2026.01.01"


def release(sources: Path, warehouse: Path, *options: str) -> None:
    """`ai-footprints release` in its own process, as `make release` runs it."""
    command = [
        sys.executable,
        "-m",
        "pipelines.cli",
        "--sources",
        str(sources),
        "release",
        "--warehouse",
        str(warehouse),
    ]
    result = subprocess.run([*command, *options], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr[-2000:]


@pytest.fixture(scope="module")
def released(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """The same release made twice from the real sources."""
    folders = []
    for name in ("first", "second"):
        warehouse = tmp_path_factory.mktemp(name)
        release(SOURCES, warehouse, "--version", VERSION)
        folders.append(warehouse / "releases" / VERSION)
    return folders


def test_two_releases_of_one_commit_are_byte_identical(released: list[Path]) -> None:
    first, second = released
    assert (first / "SHA256SUMS").read_text() == (second / "SHA256SUMS").read_text()
    zip_name = f"ai-footprints-{VERSION}.zip"
    assert (first / zip_name).read_bytes() == (second / zip_name).read_bytes()


def test_two_builds_of_the_same_sources_give_byte_identical_parquet(released: list[Path]) -> None:
    def checksums(release_folder: Path) -> dict[str, str]:
        parquet = release_folder.parents[1] / "parquet"  # the warehouse the release was built into
        return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(parquet.glob("*.parquet"))}

    first, second = (checksums(folder) for folder in released)
    assert len(first) >= 12 and first == second


def test_the_zip_holds_only_paths_inside_its_folder(released: list[Path], tmp_path: Path) -> None:
    with zipfile.ZipFile(released[0] / f"ai-footprints-{VERSION}.zip") as archive:
        names = archive.namelist()
        assert all(name.startswith(f"{VERSION}/") and ".." not in Path(name).parts for name in names), names
        archive.extractall(tmp_path)
    extracted = {p.resolve() for p in tmp_path.rglob("*")}
    assert all(path.is_relative_to(tmp_path.resolve() / VERSION) for path in extracted - {tmp_path / VERSION})


@pytest.mark.parametrize("version", ["../escape", "v2026.01.01/../../escape", "/tmp/escape", "v2026.01.01\n"])
def test_a_release_version_cannot_name_a_path(tmp_path: Path, version: str, capsys: pytest.CaptureFixture[str]) -> None:
    warehouse = tmp_path / "warehouse"
    assert main(["release", "--warehouse", str(warehouse), "--version", version]) == 1
    assert "is not a release version: write vYYYY.MM.DD or vYYYY.MM.DD-N" in capsys.readouterr().err
    assert not warehouse.exists() and not (tmp_path / "escape").exists()


def test_the_checksums_cover_every_file_and_match(released: list[Path]) -> None:
    folder = released[0]
    listed = {line.split("  ", 1)[1] for line in (folder / "SHA256SUMS").read_text().splitlines()}
    on_disk = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    assert on_disk - listed == {"SHA256SUMS", f"ai-footprints-{VERSION}.zip"}
    result = subprocess.run(
        ["sha256sum", "--check", "--quiet", "SHA256SUMS"], cwd=folder, capture_output=True, check=False
    )
    assert result.returncode == 0, result.stdout


def test_the_data_package_validates_with_frictionless(released: list[Path]) -> None:
    report = validate(released[0] / "datapackage.json")
    assert report.valid, report.flatten(["resourceName", "rowNumber", "fieldName", "type", "note"])[:10]


def test_release_info_says_what_the_file_is(released: list[Path]) -> None:
    with duckdb.connect(str(released[0] / "ai_footprints.duckdb"), read_only=True) as connection:
        rows = dict(connection.execute("SELECT table_name, rows FROM release_info").fetchall())
        (version,) = connection.execute("SELECT DISTINCT version FROM release_info").fetchone()
        (figures,) = connection.execute("SELECT count(*) FROM figures").fetchone()
    assert version == VERSION
    assert rows["figures"] == figures


def test_the_duckdb_command_line_client_reads_the_release(released: list[Path]) -> None:
    client = Path(sys.executable).with_name("duckdb")
    if not client.exists():
        pytest.skip("the duckdb-cli package (a dev dependency) is not installed in this environment")
    database = released[0] / "ai_footprints.duckdb"
    query = "SELECT version, sum(rows) FROM release_info GROUP BY version"
    result = subprocess.run(
        [str(client), "-readonly", "-csv", str(database), "-c", query], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[1].startswith(VERSION)


def test_the_changelog_names_a_changed_figure_with_old_and_new_values(source_tree: Path, tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse"
    write_document(source_tree, [figure(value="2400"), figure(id="f2", value="5", unit="GWh")])
    assert main(["--sources", str(source_tree), "release", "--warehouse", str(warehouse), "--version", VERSION]) == 0
    write_document(source_tree, [figure(value="2500"), figure(id="f3", value="7", unit="GWh")])
    assert (
        main(["--sources", str(source_tree), "release", "--warehouse", str(warehouse), "--version", "v2026.01.02"]) == 0
    )
    changelog = (warehouse / "releases" / "v2026.01.02" / "CHANGELOG.md").read_text(encoding="utf-8")
    assert f"Compared with {VERSION}." in changelog
    # 2400万度 = 24,000 MWh became 2500万度 = 25,000 MWh.
    assert "- changed: `test-doc/f1`: 24000 MWh → 25000 MWh" in changelog
    assert "- added: `test-doc/f3`" in changelog
    assert "- removed: `test-doc/f2`" in changelog
    assert "| figures | 2 | 2 |" in changelog


def test_a_second_release_on_one_day_gets_a_suffix(source_tree: Path, tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse"
    write_document(source_tree, [figure()])
    for _ in range(2):
        assert main(["--sources", str(source_tree), "release", "--warehouse", str(warehouse)]) == 0
    names = sorted(p.name for p in (warehouse / "releases").iterdir())
    if names[0][:11] != names[1][:11]:
        pytest.skip("the two releases straddled midnight, so both are first releases of their day")
    assert len(names) == 2 and names[1] == f"{names[0]}-2"


def test_the_previous_release_is_found_by_version_order() -> None:
    from pipelines.lib.release import next_version, previous_version

    existing = {"v2026.01.01", "v2026.01.01-2", "v2026.01.01-9", "v2026.01.01-10", "v2026.01.02", "notes"}
    assert previous_version(existing, "v2026.01.01-11") == "v2026.01.01-10"
    assert previous_version(existing, "v2026.01.02") == "v2026.01.01-10"
    assert previous_version(existing, "v2026.01.01") is None
    assert next_version(existing, date(2026, 1, 2)) == "v2026.01.02-2"
    assert next_version({"v2026.01.01", "v2026.01.01-2"}, date(2026, 1, 1)) == "v2026.01.01-3"
    assert next_version(existing, date(2026, 1, 3)) == "v2026.01.03"


def test_each_upstream_table_carries_its_snapshots_licences(released: list[Path]) -> None:
    descriptor = json.loads((released[0] / "datapackage.json").read_text(encoding="utf-8"))
    resources = {resource["name"]: resource for resource in descriptor["resources"]}
    assert [licence["name"] for licence in resources["grid_intensity"]["licenses"]] == ["MIT", "MPL-2.0"]
    assert [licence["name"] for licence in resources["inference_measurements"]["licenses"]] == ["Apache-2.0"]
    assert "licenses" not in resources["figures"]  # the dataset's own licence covers it


def test_the_release_holds_the_grid_its_coverage_and_the_wide_view(released: list[Path]) -> None:
    with duckdb.connect(str(released[0] / "ai_footprints.duckdb"), read_only=True) as connection:
        (cells,) = connection.execute("SELECT count(*) FROM grid_coverage WHERE headline").fetchone()  # type: ignore[misc]
        (rows,) = connection.execute(
            "SELECT count(*) FROM grid_wide WHERE organisation = 'Google' AND year BETWEEN 2019 AND 2024"
        ).fetchone()  # type: ignore[misc]
    assert cells == 4 * 9 * 6  # the headline grid: four organisations, nine measures, 2019-2024
    assert rows == 6
    assert (released[0] / "parquet" / "grid.parquet").is_file()
