"""The README states what the code does: its data dictionary is generated and current."""

from __future__ import annotations

from pipelines.docs import COVERAGE, README, coverage, data_dictionary, render_readme
from schemas.tables import PUBLISHED_TABLES


def test_readme_data_dictionary_is_current() -> None:
    text = README.read_text(encoding="utf-8")
    assert render_readme(text, data_dictionary()) == text, "run `make docs` and commit README.md"


def test_data_dictionary_names_every_column_of_every_table() -> None:
    dictionary = data_dictionary()
    for name, schema in PUBLISHED_TABLES.items():
        assert f"#### `{name}`" in dictionary
        for column in schema.columns:
            assert f"| `{column}` |" in dictionary


def test_readme_opens_with_the_two_commands() -> None:
    opening = README.read_text(encoding="utf-8").split("\n\n")[1]
    assert "make build" in opening and "make test" in opening


def test_coverage_page_is_current() -> None:
    assert COVERAGE.read_text(encoding="utf-8") == coverage(), "run `make docs` and commit docs/coverage.md"


def test_citation_and_licences_are_there() -> None:
    import yaml

    citation = yaml.safe_load((README.parent / "CITATION.cff").read_text(encoding="utf-8"))
    assert citation["cff-version"] == "1.2.0" and citation["type"] == "dataset"
    assert citation["license"] == "CC-BY-4.0" and citation["authors"] and citation["title"]
    assert "MIT License" in (README.parent / "LICENSE").read_text(encoding="utf-8")
    assert "CC BY 4.0" in (README.parent / "LICENSE-DATA.md").read_text(encoding="utf-8")
