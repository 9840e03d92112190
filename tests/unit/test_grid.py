"""The headline grid: values from annual series by measure, a subsidiary's for its parent, the
preferred boundary, own reports, and every cell filled or a gap with its reason."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from pipelines.lib import sql
from pipelines.lib.normalise import normalise_all
from pipelines.lib.sources import load_sources, raw_frames
from pipelines.lib.tables import derived_tables
from pipelines.lib.upstream import snapshot_tables
from tests.conftest import figure, write_document

GRID = """organisations: [Amazon, Google]
first_year: 2022
last_year: 2023
measures:
  - {id: electricity, metrics: [electricity_consumption], boundaries: [organization, data_centres],
     column: electricity_mwh}
  - {id: pue, metrics: [pue], boundaries: [data_centres], column: pue}
"""


def tables_of(tree: Path) -> dict:
    tables, problems = normalise_all(raw_frames(load_sources(tree)))
    assert problems == [], problems
    return derived_tables(tables, snapshot_tables(tree, tables["entities"])[0])


@pytest.fixture
def grid_tree(source_tree: Path) -> Path:
    (source_tree / "grid.yaml").write_text(GRID, encoding="utf-8")
    (source_tree / "gaps.yaml").write_text(
        "- {subject: Amazon, measure: electricity, year: 2022, reason: not_published}\n", encoding="utf-8"
    )
    google = {"subject": "Google", "metric": "electricity_consumption", "unit": "TWh"}
    write_document(
        source_tree,
        [
            figure(id="dc", value="24", period="2023", boundary="data_centres", **google),
            figure(id="all", value="25.3", period="2023", boundary="organization", **google),
            figure(id="dc22", value="20.6", period="2022", boundary="data_centres", **google),
        ],
        id="google-report", kind="sustainability_report", publisher="Google",
    )  # fmt: skip
    write_document(
        source_tree,
        [figure(id="pue", subject="Amazon Web Services", metric="pue", value="1.15", unit="dimensionless",
                period="2023", boundary="data_centres", statistic="mean")],
        id="news", kind="news_article", publisher="DCD",
    )  # fmt: skip
    return source_tree


def test_the_grid_takes_series_values_by_measure_and_prefers_the_first_boundary(grid_tree: Path) -> None:
    grid = tables_of(grid_tree)["grid"]
    rows = {(r["organisation"], r["year"], r["boundary"]): r for r in grid.iter_rows(named=True)}
    assert rows[("Google", 2023, "organization")]["preferred"] is True
    assert rows[("Google", 2023, "data_centres")]["preferred"] is False
    assert rows[("Google", 2022, "data_centres")]["preferred"] is True  # the only boundary that year
    assert rows[("Google", 2023, "organization")]["value"] == pytest.approx(25.3e6)  # MWh
    assert rows[("Google", 2023, "organization")]["own_report"] is True
    # AWS's PUE counts for Amazon, from a news article.
    aws = rows[("Amazon", 2023, "data_centres")]
    assert (aws["subject"], aws["measure"], aws["own_report"]) == ("Amazon Web Services", "pue", False)


def test_every_cell_of_the_grid_is_filled_or_a_gap_with_its_reason(grid_tree: Path) -> None:
    coverage = tables_of(grid_tree)["grid_coverage"]
    cells = {(r["subject"], r["measure"], r["year"]): r for r in coverage.iter_rows(named=True)}
    assert len(cells) == 2 * 2 * 2  # organisations × measures × years
    assert cells[("Google", "electricity", 2023)]["status"] == "filled"
    assert cells[("Amazon", "pue", 2023)]["reported_for"] == "Amazon Web Services"
    assert cells[("Amazon", "electricity", 2022)]["gap_reason"] == "not_published"
    assert cells[("Google", "pue", 2022)]["gap_reason"] == "unexplained"
    assert [r["subject"] for r in coverage.iter_rows(named=True)][:4] == ["Amazon"] * 4  # grid.yaml's order


def test_more_organisations_and_measures_are_tracked_beside_the_headline_cells(grid_tree: Path) -> None:
    """grid.yaml's more_organisations and its measures with `headline: false` get cells of
    their own in grid_coverage, marked as outside the headline grid."""
    text = GRID.replace("first_year", "more_organisations: [Apple]\nfirst_year").replace(
        "column: pue}", "column: pue, headline: false}"
    )
    (grid_tree / "grid.yaml").write_text(text, encoding="utf-8")
    tables = tables_of(grid_tree)
    coverage = tables["grid_coverage"]
    headline = {(r["subject"], r["measure"], r["year"]) for r in coverage.filter("headline").iter_rows(named=True)}
    assert headline == {(o, "electricity", y) for o in ("Amazon", "Google") for y in (2022, 2023)}
    assert coverage.height == 3 * 2 * 2  # Amazon, Google, Apple × two measures × two years
    assert coverage["subject"].unique(maintain_order=True).to_list() == ["Amazon", "Google", "Apple"]
    measures = dict(tables["grid_measures"].select("measure", "headline").iter_rows())
    assert measures == {"electricity": True, "pue": False}


def test_a_gap_entry_may_name_several_measures_and_years(grid_tree: Path) -> None:
    (grid_tree / "gaps.yaml").write_text(
        "- {subject: Amazon, measure: electricity, year: 2022, reason: not_published}\n"
        "- {subject: Google, measure: [pue], year: [2022, 2023], reason: no_stored_copy, note: none stored}\n",
        encoding="utf-8",
    )
    coverage = tables_of(grid_tree)["grid_coverage"]
    reasons = {(r["subject"], r["measure"], r["year"]): r["gap_reason"] for r in coverage.iter_rows(named=True)}
    assert reasons[("Google", "pue", 2022)] == reasons[("Google", "pue", 2023)] == "no_stored_copy"
    assert reasons[("Amazon", "pue", 2022)] == "unexplained"


def test_an_organisation_listed_twice_is_refused(grid_tree: Path) -> None:
    (grid_tree / "grid.yaml").write_text(GRID.replace("first_year", "more_organisations: [amazon]\nfirst_year"))
    _, problems = normalise_all(raw_frames(load_sources(grid_tree)))
    assert [(p.file, p.item, p.field) for p in problems if "listed twice" in p.message] == [
        ("sources/grid.yaml", "Amazon", "organisations")
    ]


def test_the_wide_view_has_one_row_per_organisation_and_year(grid_tree: Path, tmp_path: Path) -> None:
    tables = tables_of(grid_tree)
    with duckdb.connect(str(tmp_path / "w.duckdb")) as connection:
        connection.register("grid", tables["grid"].to_arrow())
        for statement in sql.statements(tables["grid_measures"]):
            if "grid_wide" in statement:
                connection.execute(statement)
        rows = connection.execute("SELECT organisation, year, electricity_mwh, pue FROM grid_wide").fetchall()
    assert rows == [("Amazon", 2023, None, pytest.approx(1.15)), ("Google", 2022, pytest.approx(20.6e6), None),
                    ("Google", 2023, pytest.approx(25.3e6), None)]  # fmt: skip


@pytest.mark.parametrize(
    ("gaps", "message"),
    [
        ("- {subject: Nobody, measure: pue, year: 2023, reason: not_published}\n", "is not an organisation"),
        ("- {subject: Google, measure: water, year: 2023, reason: not_published}\n", "'water' is not a measure"),
        ("- {subject: Google, measure: pue, year: 2030, reason: not_published}\n", "2030 is outside the grid's years"),
        ("- {subject: Google, measure: pue, year: 2023, reason: lost}\n", "Input should be"),
    ],
)
def test_a_bad_gap_is_refused_with_its_file(grid_tree: Path, gaps: str, message: str) -> None:
    (grid_tree / "gaps.yaml").write_text(gaps, encoding="utf-8")
    _, problems = normalise_all(raw_frames(loaded := load_sources(grid_tree)))
    problems = [*loaded.problems, *problems]
    assert any(p.file == "sources/gaps.yaml" and message in p.message for p in problems), problems
