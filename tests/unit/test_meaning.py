"""What a figure means, checked: dimensions against their vocabularies, relative keys,
bounds (impossible refused, implausible marked), and numbers that stand in their quotes."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.cli import main
from pipelines.lib.meaning import number_tokens, quote_problems, stands_in
from pipelines.lib.normalise import normalise_all, review_source_tree
from pipelines.lib.sources import load_sources, raw_frames
from tests.conftest import figure, write_document

FILE = "sources/documents/test-doc.yaml"


def problems_of(tree: Path, figures: list[dict[str, Any]]) -> list[tuple[str | None, str | None, str]]:
    write_document(tree, figures)
    problems, _ = review_source_tree(tree)
    assert all(problem.file == FILE for problem in problems), problems
    return [(problem.item, problem.field, problem.message) for problem in problems]


def figures_of(tree: Path, figures: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    write_document(tree, figures)
    tables, problems = normalise_all(raw_frames(load_sources(tree)))
    assert problems == []
    return {row["figure_id"].split("/")[1]: row for row in tables["figures"].iter_rows(named=True)}


@pytest.mark.parametrize(
    ("quote", "number", "found"),
    [
        ("investments of $500 billion", "5", False),  # 5 is inside 500, not a number of its own
        ("investments of $500 billion", "500", True),
        ("Energy Consumption (MWh) | 7.5 | 85.7 | 1,287", "1287", True),
        ("Energy Consumption (MWh) | 7.5 | 85.7 | 1,287", "287", False),
        ("At about 13 800 million tonnes of CO2", "13800", True),
        ("其中数据中心用水用水量61亿加仑,同比增加17%", "61", True),
        ("其中数据中心用水用水量61亿加仑,同比增加17%", "6100000000", True),
        ("其中数据中心用水用水量61亿加仑,同比增加17%", "1", False),
        ("Half of Digital Realty's global portfolio", "50", True),
        ("an estimate written four million MWh", "4", True),
        ("1.0 × 10<sup>−4</sup> kWh", "1.0e-4", True),
        ("足足可以装满一个半西湖", "1.5", True),
        ("GPT-3,15天就用掉了70万升水", "15", True),
        ("a 19.5% rise", "-19.5", True),  # a fall written as a positive number with its direction in words
        ("PUE of 1.10", "1.1", True),
        ("PUE of 1.10", "1.0", False),
    ],
)
def test_a_number_stands_in_a_quote_only_as_a_token_of_its_own(quote: str, number: str, found: bool) -> None:
    assert stands_in(number, number_tokens(quote)) is found


def test_check_refuses_a_value_that_is_not_in_its_quote(source_tree: Path) -> None:
    found = problems_of(source_tree, [figure(value="5", unit="GWh", quote="a budget of $500 billion and 50 GWh")])
    assert found == [("f1", "value", "5 does not stand in the quote as a number: quote the passage that gives it")]


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"metric": "pue", "value": "0.9", "unit": "dimensionless"}, "value",
         "0.9 dimensionless is impossible for pue: it is below 1 dimensionless"),
        ({"metric": "share", "relative_to": "electricity_consumption", "value": "120", "unit": "%"}, "value",
         "120 % is impossible for share: it is above 100 percent"),
        ({"metric": "training_energy", "value": "-5", "unit": "MWh"}, "value", "is not a signed metric"),
    ],
)  # fmt: skip
def test_impossible_values_are_refused_with_file_figure_and_field(
    source_tree: Path, changes: dict[str, str], field: str, message: str
) -> None:
    found = problems_of(source_tree, [figure(**changes)])
    assert any(item == "f1" and f == field and message in text for item, f, text in found), found


def test_an_implausible_value_is_marked_and_reported_but_kept(
    source_tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    row = figures_of(
        source_tree,
        [figure(subject="United States", metric="grid_carbon_intensity", value="2", unit="kg/kWh", period="2023")],
    )["f1"]
    assert row["implausible"] == "implausible for grid_carbon_intensity: value above 1.3 kg/kWh"
    assert main(["--sources", str(source_tree), "check"]) == 0
    out = capsys.readouterr().out
    assert f"1 figure marked implausible (kept; check them):\n  {FILE}, figure 'f1': implausible for" in out


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"boundary": "everything"}, "boundary", "'everything' is not one of organization, data_centres"),
        ({"boundary": None}, "boundary", "is required: one of organization"),
        ({"boundary": "rack"}, "boundary", "'rack' is not a boundary for a figure about a model"),
        ({"statistic": "typical"}, "statistic", "'typical' is not one of total, mean"),
        ({"period_kind": None}, "period_kind", "is required"),
        ({"metric": "training_emissions", "unit": "t"}, "accounting", "say how the emissions (training_emissions)"),
        ({"accounting": "market_based"}, "accounting", "belongs only to emissions figures"),
        ({"period": "2023", "period_kind": "fiscal_year"}, "period_kind", "2023 runs January to December"),
        ({"period": "2022-07/2023-06", "period_kind": "calendar_year"}, "period_kind", "a fiscal year is fiscal_year"),
        ({"period": "2023-06", "period_kind": "calendar_year"}, "period_kind", "is not twelve whole months"),
        ({"period": "2019/2023", "period_kind": "part_year"}, "period_kind", "shorter than a year"),
        ({"period": "2023", "period_kind": "not_applicable"}, "period_kind", "but the figure has a period (2023)"),
        ({"period_kind": "projection"}, "period_kind", "a projection has basis projected"),
        ({"basis": "projected", "period_kind": "run"}, "period_kind", "that is a projection or a target"),
    ],
)
def test_a_dimension_that_is_missing_unknown_or_contradicted_is_refused(
    source_tree: Path, changes: dict[str, Any], field: str, message: str
) -> None:
    written = {key: value for key, value in figure(**changes).items() if value is not None}
    if "accounting" in changes and changes["accounting"] is not None:
        written["accounting"] = changes["accounting"]
    if changes.get("metric") == "training_emissions":
        written.pop("accounting", None)
    found = problems_of(source_tree, [written])
    assert any(item == "f1" and f == field and message in text for item, f, text in found), found


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"metric": "share", "unit": "%", "value": "5"}, "relative_to", "is required for share"),
        ({"metric": "share", "unit": "%", "value": "5", "relative_to": "cake"}, "relative_to",
         "'cake' is not a metric"),
        ({"relative_to": "electricity_consumption"}, "relative_to", "belongs only to shares, changes and multiples"),
        ({"metric": "renewable_energy_share", "unit": "%", "value": "5", "relative_to": "electricity_consumption"},
         "relative_to", "is fixed by renewable_energy_share (electricity_consumption): leave it out"),
        ({"metric": "change_from_baseline", "unit": "%", "value": "5", "relative_to": "water_use"}, "baseline",
         "is required for change_from_baseline"),
        ({"metric": "share", "unit": "%", "value": "5", "relative_to": "water_use", "reference": "f9"}, "reference",
         "'f9' is not a figure of this document"),
    ],
)  # fmt: skip
def test_a_relative_figure_says_what_it_is_relative_to(
    source_tree: Path, changes: dict[str, Any], field: str, message: str
) -> None:
    found = problems_of(source_tree, [figure(**changes)])
    assert any(item == "f1" and f == field and message in text for item, f, text in found), found


def test_the_meaning_is_published_in_columns(source_tree: Path) -> None:
    rows = figures_of(
        source_tree,
        [
            figure(id="use", subject="Microsoft", metric="water_consumption", value="6.4", unit="billion litre",
                   period="2022-07/2023-06", boundary="organization"),
            figure(id="up", subject="Microsoft", metric="change_from_baseline", relative_to="scope2_emissions",
                   value="-6", unit="%", period="2022-07/2023-06", baseline="2019-07/2020-06", reference="use",
                   statistic="point"),
        ],
    )  # fmt: skip
    use, up = rows["use"], rows["up"]
    assert (use["boundary"], use["accounting"], use["period_kind"], use["fiscal_year_end_month"]) == (
        "organization", "not_applicable", "fiscal_year", 6,
    )  # fmt: skip
    # A change of an emissions metric says how those emissions are accounted.
    assert (up["relative_to_metric"], up["accounting"], up["baseline_period"]) == (
        "scope2_emissions", "unstated", "2019-07/2020-06",
    )  # fmt: skip
    assert (up["baseline_start"], up["baseline_end"]) == (date(2019, 7, 1), date(2020, 6, 30))
    assert up["reference_figure_id"] == "test-doc/use"


# Quotes made of what numbers are written with and what may touch them: digits, separators,
# exponents, signs, magnitudes, Han numerals, full-width and superscript forms that
# normalisation turns into ASCII, and the characters the columnar search lets through.
QUOTE_PARTS = st.sampled_from(
    ["0", "1", "2", "5", "9", "13", "2379", "1,000", "12,307", ".", ",", " ", "e", "E", "+", "-", "~", "e+06", "e-3",
     "万", "亿", "三", "一个半", "，", "２", "²", "…", "–", "×", " million", " billion", "half", "twice", "%", "|",
     "\n", "x", "　"]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(st.lists(QUOTE_PARTS, max_size=12).map("".join), st.sampled_from(
        ["0", "1", "2", "5", "13", "1000", "2379", "0.5", "50", "12307", "2379.0", "6031660", "0.001", "20000"]
    )), min_size=1, max_size=20)
)  # fmt: skip
def test_the_columnar_quote_check_agrees_with_number_tokens(cases: list[tuple[str, str]]) -> None:
    """quote_problems finds most numbers with polars over all quotes at once and looks for the
    rest with number_tokens: its answer must be number_tokens' answer for every figure."""
    frame = pl.DataFrame(
        {
            "file": ["f"] * len(cases),
            "id": [str(i) for i in range(len(cases))],
            "quote": [quote for quote, _ in cases],
            "value": [number for _, number in cases],
            "low": [None] * len(cases),
            "high": [None] * len(cases),
        },
        schema_overrides={"low": pl.String, "high": pl.String},
    )
    refused = {problem.item for problem in quote_problems(frame)}
    expected = {str(i) for i, (quote, number) in enumerate(cases) if not stands_in(number, number_tokens(quote))}
    assert refused == expected
