"""The website's plain parts: names of pages, numbers for reading, year rows, the search index."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import polars as pl
import pyarrow.fs as pafs
import pytest

from pipelines.cli import main
from pipelines.lib.site import Links, _downloads, _year_rows, check_anchor, number, search_index, slug, span


@pytest.mark.parametrize(
    ("text", "expected"),
    [("Llama 3.1 405B", "llama-3-1-405b"), ("Georgia (U.S. state)", "georgia-u-s-state"), ("谷歌", "item")],
)
def test_a_page_name_is_lower_case_letters_and_digits(text: str, expected: str) -> None:
    assert slug(text) == expected


def test_two_entities_with_one_slug_get_two_pages() -> None:
    entities = pl.DataFrame(
        {"entity": ["GPT-4", "GPT 4", "Index", "A100"], "entity_type": ["model", "model", "model", "hardware"]}
    )
    links = Links(entities)
    assert links.entity["GPT 4"] == "models/gpt-4.html"
    assert links.entity["GPT-4"] == "models/gpt-4-2.html"
    assert links.entity["Index"] == "models/index-2.html"  # models/index.html lists the models
    assert links.entity["A100"] == "hardware/a100.html"
    assert Links.figure("doc-1/f.2") == "sources/doc-1.html#f-f.2"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, ""),
        (0.0, "0"),
        (12237200.0, "12,237,200"),
        (1.0903, "1.09"),
        (0.000123456, "0.0001235"),
        (999.5, "999.5"),
    ],
)
def test_numbers_are_shown_with_four_significant_digits_or_thousands(value: float | None, expected: str) -> None:
    assert number(value) == expected


def test_a_range_is_shown_beside_its_value() -> None:
    assert span(10.0, 9.0, 11.0) == "10 (9–11)"
    assert span(None, 9.0, 11.0) == "(9–11)"
    assert span(10.0, 10.0, 10.0) == "10"


def test_years_without_a_figure_collapse_into_one_row() -> None:
    a, b = {"value": 1.0}, {"value": 2.0}
    rows = _year_rows(2008, [a, None, None, None, b, None, a])
    assert [row["years"] for row in rows] == ["2008", "2009–2011", "2012", "2013", "2014"]
    assert [row["cell"] for row in rows] == [a, None, b, None, a]


def test_the_search_index_is_a_script_holding_every_figure() -> None:
    rows = [
        {"href": "sources/d.html#f-x", "subject": "Google", "metric": "water_use", "written": "5 ML",
         "period": None, "quote": 'a "quoted" </script> word', "source_title": "Report"},
    ]  # fmt: skip
    script = search_index(rows)
    prefix = "window.AIF_FIGURES = "
    assert script.startswith(prefix) and script.endswith(";\n")
    entries = json.loads(script[len(prefix) : -2])
    assert entries == [["sources/d.html#f-x", "Google", "water_use", "5 ML", "", 'a "quoted" </script> word', "Report"]]


def test_check_anchors_are_stable_and_distinct() -> None:
    first = check_anchor("restatement:a/b|c/d")
    assert first == check_anchor("restatement:a/b|c/d") and first != check_anchor("restatement:a/b|c/e")
    assert first.startswith("check-") and len(first) == 18


def test_the_site_command_says_when_there_is_no_warehouse(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["site", "--warehouse", str(tmp_path)]) == 1
    error = capsys.readouterr().err
    assert f"nothing is published at {tmp_path}" in error and "build it first" in error
    assert not (tmp_path / "site").exists()


def _release(folder: Path, files: dict[str, bytes]) -> None:
    """A release folder as `make release` lays it out: files, and SHA256SUMS of all but the zip."""
    for name, content in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(content)
    sums = "".join(
        f"{hashlib.sha256(c).hexdigest()}  {n}\n" for n, c in sorted(files.items()) if not n.endswith(".zip")
    )
    (folder / "SHA256SUMS").write_text(sums, encoding="utf-8")


def _published(folder: Path, tables: dict[str, bytes]) -> tuple[pafs.FileSystem, str]:
    """A build's Parquet folder on the local filesystem, as publish.published_parquet names one."""
    folder.mkdir(parents=True)
    for name, content in tables.items():
        (folder / f"{name}.parquet").write_bytes(content)
    return pafs.LocalFileSystem(), folder.as_posix()


def test_the_downloads_are_the_latest_release_without_its_loose_duckdb_file(tmp_path: Path) -> None:
    releases = tmp_path / "warehouse" / "releases"
    _release(releases / "v2026.01.02", {"parquet/figures.parquet": b"old", "datapackage.json": b"{}"})
    newest = {
        "parquet/figures.parquet": b"new",
        "datapackage.json": b'{"name": "ai-footprints"}',
        "CHANGELOG.md": b"# v2026.01.02-10\n",
        "ai_footprints.duckdb": b"duckdb",
        "ai-footprints-v2026.01.02-10.zip": b"zip",
    }
    _release(releases / "v2026.01.02-10", newest)
    _release(releases / "v2026.01.02-9", {"parquet/figures.parquet": b"older"})
    (releases / ".staging-v2026.01.03").mkdir()  # a release being written is not one
    build = _published(tmp_path / "build", {"figures": b"build"})
    downloads = _downloads(tmp_path / "warehouse", build, ["figures"], tmp_path / "site")
    assert downloads["version"] == "v2026.01.02-10"  # -10 is later than -9
    data = tmp_path / "site" / "data"
    assert (data / "parquet" / "figures.parquet").read_bytes() == b"new"
    assert not (data / "ai_footprints.duckdb").exists()  # 11 MB, and inside the zip
    listed = {f["name"]: f["sha256"] for f in downloads["files"]}
    assert set(listed) == {
        "CHANGELOG.md",
        "datapackage.json",
        "parquet/figures.parquet",
        "ai-footprints-v2026.01.02-10.zip",
    }
    assert listed["ai-footprints-v2026.01.02-10.zip"] == hashlib.sha256(b"zip").hexdigest()


def test_before_any_release_the_downloads_are_this_builds_tables(tmp_path: Path) -> None:
    build = _published(tmp_path / "build", {"figures": b"one", "sources": b"two"})
    downloads = _downloads(None, build, ["sources", "figures"], tmp_path / "site")
    assert downloads["version"] is None
    sums = (tmp_path / "site" / "data" / "SHA256SUMS").read_text(encoding="utf-8")
    assert sums == (
        f"{hashlib.sha256(b'one').hexdigest()}  parquet/figures.parquet\n"
        f"{hashlib.sha256(b'two').hexdigest()}  parquet/sources.parquet\n"
    )
