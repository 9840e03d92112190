"""Every error a contributor can make is reported with file, figure and field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pipelines.lib.errors import SourceProblem
from pipelines.lib.normalise import check_source_tree
from tests.conftest import figure, write_document

FILE = "sources/documents/test-doc.yaml"


def problems_for(tree: Path, figures: list[dict[str, Any]], **header: Any) -> list[SourceProblem]:
    write_document(tree, figures, **header)
    return [problem for problem in check_source_tree(tree) if problem.file == FILE]


def test_a_valid_document_has_no_problems(source_tree: Path) -> None:
    assert problems_for(source_tree, [figure()]) == []
    assert check_source_tree(source_tree) == []


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"metric": "training_enrgy"}, "metric", "'training_enrgy' is not a metric"),
        ({"subject": "GPT-5000"}, "subject", "'GPT-5000' is not an entity name or alias"),
        ({"hardware": "Abacus"}, "hardware", "'Abacus' is not a hardware entity"),
        ({"hardware": "Google"}, "hardware", "'Google' is not a hardware entity"),
        ({"unit": "万度x"}, "unit", "is not a unit the registry knows"),
        ({"unit": "GW"}, "unit", "cannot convert to the canonical unit 'MWh'"),
        ({"unit": "1/0"}, "unit", "'1/0' is not a unit the registry knows"),
        ({"unit": "kWh)"}, "unit", "'kWh)' is not a unit the registry knows"),
        ({"unit": "("}, "unit", "'(' is not a unit the registry knows"),
        ({"value": "1e308"}, "value", "1e308 万度 is too large to convert to MWh"),
        ({"value": "nan"}, "value", "'nan' is not a finite number"),
        ({"value": "inf"}, "value", "'inf' is not a finite number"),
        ({"value": "1,000"}, "value", "thousands separators"),
        ({"value": "about 5"}, "value", "'about 5' is not a finite number"),
        ({"value": "-5"}, "value", "-5 is negative, but training_energy is not a signed metric"),
        ({"value": None, "low": "5", "high": "2"}, "low", "5 is greater than high (2)"),
        ({"value": None, "low": "5"}, "value", "is required unless both low and high are given"),
        ({"value": "9", "low": "1", "high": "5"}, "value", "9 is above high (5)"),
        ({"period": "2023-13"}, "period", "'2023-13' is not a real date"),
        ({"period": "2024/2023"}, "period", "ends before it starts"),
        ({"period": "last year"}, "period", "is not YYYY, YYYY-MM or YYYY-MM-DD"),
        ({"quote": "字" * 201}, "quote", "at most 200 characters"),
        ({"basis": "guessed"}, "basis", "Input should be 'reported', 'estimated', 'projected' or 'claimed'"),
        ({"qualifier": "about"}, "qualifier", "Input should be"),
        ({"colour": "red"}, "colour", "is not a key the contract knows"),
        ({"equals": "f9"}, "equals", "'f9' is not a figure of this document"),
        ({"equals": "f1"}, "equals", "names the figure itself"),
        ({"metric": "year_on_year_change", "unit": "%"}, "relative_to", "is required for year_on_year_change"),
        ({"relative_to": "water_use"}, "relative_to", "belongs only to shares, changes and multiples"),
        ({"id": "has space"}, "id", "String should match pattern"),
        ({"id": "a/b"}, "id", "String should match pattern"),
    ],
)
def test_figure_errors_name_file_figure_and_field(
    source_tree: Path, change: dict[str, Any], field: str, message: str
) -> None:
    bad = {key: value for key, value in {**figure(), **change}.items() if value is not None}
    problems = problems_for(source_tree, [bad])
    assert any(p.field == field and message in p.message and p.item == bad["id"] for p in problems), problems
    assert all(str(p).startswith(FILE) for p in problems)


@pytest.mark.parametrize("missing", ["id", "subject", "metric", "unit"])
def test_a_missing_required_key_is_named(source_tree: Path, missing: str) -> None:
    bad = figure()
    del bad[missing]
    problems = problems_for(source_tree, [bad])
    assert any(p.field == missing and p.message == "is required" for p in problems), problems


def test_duplicate_figure_ids_are_reported(source_tree: Path) -> None:
    problems = problems_for(source_tree, [figure(), figure(value="3")])
    assert [(p.item, p.field, p.message) for p in problems] == [
        ("f1", "id", "is used by another figure in this document")
    ]


@pytest.mark.parametrize(
    ("header", "field", "message"),
    [
        ({"published": "2024-02-30"}, "published", "is not a real date"),
        ({"published": "yesterday"}, "published", "is not a date written YYYY"),
        ({"kind": "tweet"}, "kind", "Input should be"),
        ({"language": "Chinese"}, "language", "String should match pattern"),
        ({"cites": ["no-such-document"]}, "cites", "is not the id of a document"),
        ({"title": ""}, "title", "at least 1 character"),
    ],
)
def test_document_errors_name_the_field(source_tree: Path, header: dict[str, Any], field: str, message: str) -> None:
    problems = problems_for(source_tree, [figure()], **header)
    assert any(p.field == field and message in p.message for p in problems), problems


def test_id_must_equal_the_file_stem(source_tree: Path) -> None:
    write_document(source_tree, [figure()], id="another-id", file_stem="test-doc")
    problems = check_source_tree(source_tree)
    assert [str(p) for p in problems] == [f"{FILE}, field 'id': 'another-id' must equal the file name 'test-doc'"]


def test_missing_title_is_named(source_tree: Path) -> None:
    path = write_document(source_tree, [figure()])
    path.write_text(path.read_text(encoding="utf-8").replace("title: A test document\n", ""), encoding="utf-8")
    problems = check_source_tree(source_tree)
    assert [(p.field, p.message) for p in problems] == [("title", "is required")]


def test_a_physical_equivalence_must_point_from_the_equivalence_to_the_energy(source_tree: Path) -> None:
    write_document(
        source_tree,
        [figure(equals="water"), figure(id="water", metric="water_heated_to_boiling", value="20", unit="万立方米")],
    )
    (problem,) = check_source_tree(source_tree)
    assert (problem.item, problem.field) == ("f1", "equals")
    assert "put `equals: f1` on 'water'" in problem.message


def test_every_problem_is_reported_at_once(source_tree: Path) -> None:
    problems = problems_for(
        source_tree,
        [figure(id="a", metric="nope"), figure(id="b", unit="furlong"), figure(id="c", value="-1")],
        published="2024-99",
    )
    assert {(p.item, p.field) for p in problems} == {
        (None, "published"),
        ("a", "metric"),
        ("b", "unit"),
        ("c", "value"),
    }


def test_qualifier_tilde_is_kept_not_read_as_null(source_tree: Path) -> None:
    path = write_document(source_tree, [figure(qualifier="QUAL")])
    path.write_text(path.read_text(encoding="utf-8").replace("QUAL", "~"), encoding="utf-8")
    assert check_source_tree(source_tree) == []


def test_vocabulary_errors_name_the_item(source_tree: Path) -> None:
    entities = source_tree / "entities.yaml"
    entities.write_text(
        entities.read_text(encoding="utf-8")
        + "- name: Google Cloud\n  type: organization\n  aliases: [谷歌]\n  parent: Alphabet Inc\n",
        encoding="utf-8",
    )
    metrics = source_tree / "metrics.yaml"
    metrics.write_text(
        metrics.read_text(encoding="utf-8")
        + "- id: bad_metric\n  description: x\n  unit: parsecs per fortnightx\n  kind: amount\n",
        encoding="utf-8",
    )
    entities.write_text(
        entities.read_text(encoding="utf-8") + "- name: openai\n  type: organization\n", encoding="utf-8"
    )
    metrics.write_text(
        metrics.read_text(encoding="utf-8").replace("  unit: MWh\n", "  unit: megawatt_hourz\n", 1), encoding="utf-8"
    )
    messages = [str(p) for p in check_source_tree(source_tree)]
    assert (
        "sources/entities.yaml, entity 'Google Cloud', field 'parent': 'Alphabet Inc' is not an entity name" in messages
    )
    assert any(
        m.startswith("sources/entities.yaml, entity 'Google', field 'aliases': '谷歌' names more than one")
        for m in messages
    )
    assert any(m.startswith("sources/metrics.yaml, metric 'bad_metric', field 'unit'") for m in messages)
    assert (
        "sources/entities.yaml, entity 'openai', field 'aliases': 'openai' names more than one entity (OpenAI, openai)"
        in messages
    )
    # A wrong canonical unit is reported once, for the metric, not for each of its figures.
    assert [m for m in messages if "megawatt_hourz" in m] == [
        "sources/metrics.yaml, metric 'training_energy', field 'unit': 'megawatt_hourz' is not a unit the "
        "registry knows (UndefinedUnitError: 'megawatt_hourz' is not defined in the unit registry)"
    ]
