"""Vocabulary resolution, periods and the normalised figures of small trees."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from pipelines.lib.normalise import check_source_tree, normalise_all
from pipelines.lib.periods import PeriodError, parse_period
from pipelines.lib.sources import load_sources, raw_frames
from tests.conftest import figure, write_document


def normalised_figures(tree: Path):
    tables, problems = normalise_all(raw_frames(load_sources(tree)))
    assert problems == []
    return tables["figures"].filter(source_id="test-doc")


@pytest.mark.parametrize("written", ["ChatGPT-4", "chatgpt-4", "  GPT-4 ", "gpt-4"])
def test_subjects_resolve_by_alias_trimmed_and_case_insensitive(source_tree: Path, written: str) -> None:
    write_document(source_tree, [figure(subject=written)])
    row = normalised_figures(source_tree).row(0, named=True)
    assert row["subject"] == "GPT-4"
    assert row["subject_type"] == "model"
    assert row["subject_as_written"] == written.strip()


def test_hardware_resolves_to_its_canonical_name(source_tree: Path) -> None:
    write_document(source_tree, [figure(metric="accelerator_count", value="8", unit="块", hardware="a100")])
    assert normalised_figures(source_tree)["hardware"].to_list() == ["NVIDIA A100"]


def test_values_are_converted_and_kept_as_written(source_tree: Path) -> None:
    write_document(
        source_tree,
        [figure(), figure(id="f2", metric="water_withdrawal", value=None, low="42", high="66", unit="亿立方米")],
    )
    rows = normalised_figures(source_tree).rows_by_key("figure_id", named=True, unique=True)
    energy = rows["test-doc/f1"]
    assert (energy["value"], energy["unit"], energy["value_as_written"], energy["unit_as_written"]) == (
        24_000,
        "MWh",
        "2400",
        "万度",
    )
    water = rows["test-doc/f2"]
    assert water["value"] is None
    assert (water["low"], water["high"], water["unit"]) == (4.2e9, 6.6e9, "m³")


@pytest.mark.parametrize(
    ("value", "unit", "canonical"),
    [("4.07", "MtCO2e", 4_070_000.0), ("8.2", "million tCO2e", 8_200_000.0), ("0.3", "kWh", 0.0003)],
)
def test_a_converted_value_carries_no_binary_noise(source_tree: Path, value: str, unit: str, canonical: float) -> None:
    # 4.07 × 10⁶ is 4070000.0000000005 in floating point; the published value is the decimal one.
    metric = "training_emissions" if "CO2" in unit else "training_energy"
    write_document(source_tree, [figure(metric=metric, value=value, unit=unit)])
    (converted,) = normalised_figures(source_tree)["value"].to_list()
    assert converted == canonical  # exactly, not approximately


def test_figures_keep_document_order(source_tree: Path) -> None:
    write_document(source_tree, [figure(id=name) for name in ("zeta", "alpha", "mid")])
    assert normalised_figures(source_tree)["figure_id"].to_list() == [
        "test-doc/zeta",
        "test-doc/alpha",
        "test-doc/mid",
    ]


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("2023", date(2023, 1, 1), date(2023, 12, 31)),
        ("2024-02", date(2024, 2, 1), date(2024, 2, 29)),
        ("2023-06-30", date(2023, 6, 30), date(2023, 6, 30)),
        ("2021-07/2022-06", date(2021, 7, 1), date(2022, 6, 30)),
    ],
)
def test_periods_parse_to_first_and_last_day(text: str, start: date, end: date) -> None:
    assert parse_period(text) == (start, end)


@pytest.mark.parametrize("text", ["2023-02-30", "23", "2023/", "2023/2024/2025", "2024/2023", "Q1 2023"])
def test_bad_periods_raise(text: str) -> None:
    with pytest.raises(PeriodError):
        parse_period(text)


def test_equals_between_unrelated_quantities_is_refused(source_tree: Path) -> None:
    write_document(
        source_tree, [figure(), figure(id="f2", metric="accelerator_count", value="5", unit="块", equals="f1")]
    )
    (problem,) = check_source_tree(source_tree)
    assert (problem.item, problem.field) == ("f2", "equals")
    assert "measure different quantities" in problem.message


def test_equals_through_a_physical_equivalence_is_accepted(source_tree: Path) -> None:
    write_document(
        source_tree,
        [figure(), figure(id="f2", metric="water_heated_to_boiling", value="20", unit="万立方米", equals="f1")],
    )
    assert check_source_tree(source_tree) == []


@pytest.mark.parametrize(
    ("entry", "field", "message"),
    [
        ("{model: GPT-4, document: test-doc, location: Atlantis}", "location", "'Atlantis' is not a region entity"),
        (
            "{model: GPT-4, document: test-doc, location: Europe}",
            "location",
            "'Europe' has no zone, nor has its parent",
        ),
        ("{model: Google, document: test-doc, location: France}", "model", "'Google' is not a model entity"),
        ("{model: GPT-4, document: no-such-doc, location: France}", "document", "'no-such-doc' is not a document"),
        ("{model: GPT-3, document: test-doc, location: France}", "model", "'test-doc' gives no figure of GPT-3"),
        (
            "{model: GPT-4, document: test-doc, location: France}\n- {locator: p. 2, quote: there, model: gpt-4, "
            "document: test-doc, location: Texas}",
            "model",
            "is located twice for this document",
        ),
    ],
)
def test_a_bad_run_location_names_the_file_the_run_and_the_field(
    source_tree: Path, entry: str, field: str, message: str
) -> None:
    write_document(source_tree, [figure()])
    (source_tree / "run_locations.yaml").write_text(f"- {{locator: p. 1, quote: here, {entry[1:]}\n", encoding="utf-8")
    problems = [p for p in check_source_tree(source_tree) if p.item_kind == "run location"]
    assert len(problems) == 1, problems
    problem = problems[0]
    assert problem.file == "sources/run_locations.yaml" and problem.field == field
    assert problem.item is not None and problem.item.endswith(" in " + entry.split("document: ")[1].split(",")[0])
    assert message in problem.message
