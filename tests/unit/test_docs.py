"""The docs state what the code does: the data dictionary and coverage page are generated and
current, the README is a front door whose links lead somewhere, and no doc points outside
the repository."""

from __future__ import annotations

import re

from pipelines.docs import COVERAGE, DICTIONARY, coverage, data_dictionary
from pipelines.lib.locations import PROJECT_ROOT
from schemas.tables import PUBLISHED_TABLES

README = PROJECT_ROOT / "README.md"
DOCS = [README, *sorted((PROJECT_ROOT / "docs").glob("*.md"))]


def test_the_data_dictionary_is_current() -> None:
    assert DICTIONARY.read_text(encoding="utf-8") == data_dictionary(), "run `make docs` and commit it"


def test_data_dictionary_names_every_column_of_every_table() -> None:
    dictionary = data_dictionary()
    for name, schema in PUBLISHED_TABLES.items():
        assert f"## `{name}`" in dictionary
        for column in schema.columns:
            assert f"| `{column}` |" in dictionary


def test_the_readme_first_says_what_the_data_answers_then_how_to_get_and_open_it() -> None:
    text = README.read_text(encoding="utf-8")
    headings = re.findall(r"^## (.+)$", text, re.MULTILINE)
    assert headings[:3] == ["Get the data", "Open it", "Questions and their queries"]
    first_screen = text[: text.index("## Open it")]
    assert "make build" in first_screen and "make test" in first_screen and "release" in first_screen
    assert len(text.splitlines()) <= 200, "keep the README short enough to read; put the rest in docs/"


def test_every_relative_link_in_the_docs_leads_to_a_file() -> None:
    for page in DOCS:
        for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", page.read_text(encoding="utf-8")):
            assert (page.parent / target).exists(), f"{page.name} links to {target}, which does not exist"


def test_no_doc_sends_a_reader_outside_the_repository() -> None:
    for page in DOCS:
        assert "../shared" not in page.read_text(encoding="utf-8"), page.name


def test_coverage_page_is_current() -> None:
    assert COVERAGE.read_text(encoding="utf-8") == coverage(), "run `make docs` and commit docs/coverage.md"


def test_citation_and_licences_are_there() -> None:
    import yaml

    citation = yaml.safe_load((README.parent / "CITATION.cff").read_text(encoding="utf-8"))
    assert citation["cff-version"] == "1.2.0" and citation["type"] == "dataset"
    assert citation["license"] == "CC-BY-4.0" and citation["authors"] and citation["title"]
    assert "MIT License" in (README.parent / "LICENSE").read_text(encoding="utf-8")
    assert "CC BY 4.0" in (README.parent / "LICENSE-DATA.md").read_text(encoding="utf-8")
