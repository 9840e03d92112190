"""Keeps sources/ honest: provenance on every document and figure, no figure entered twice."""

from __future__ import annotations

from collections import Counter

import pytest

from pipelines.lib.sources import load_sources
from tests.conftest import SOURCES

LOADED = load_sources(SOURCES)
DOCUMENTS = {document.id: document for _, document in LOADED.documents}
# The seed articles' pages print no address; their notes name the seed file instead.
NO_URL = {"nqfzw-2025-ai-energy-limit-2", "kepu-2024-training-24-million-kwh"}


def test_the_source_tree_loads_without_problems() -> None:
    assert LOADED.problems == []


@pytest.mark.parametrize("document_id", sorted(DOCUMENTS))
def test_every_document_has_a_url_and_a_date(document_id: str) -> None:
    document = DOCUMENTS[document_id]
    assert document.published
    if document_id in NO_URL:
        assert "seeds/" in (document.notes or "")
    else:
        assert document.url and document.url.startswith(("https://", "http://")), document.url


@pytest.mark.parametrize("document_id", sorted(DOCUMENTS))
def test_every_figure_has_a_locator_and_a_quote(document_id: str) -> None:
    missing = [f.id for f in DOCUMENTS[document_id].figures if not (f.locator and f.quote)]
    assert missing == []


@pytest.mark.parametrize("document_id", sorted(DOCUMENTS))
def test_no_two_figures_of_a_document_say_the_same_thing(document_id: str) -> None:
    keys = Counter(
        (f.subject.strip().lower(), f.metric, f.period, f.scope, f.hardware, f.value, f.low, f.high, f.unit)
        for f in DOCUMENTS[document_id].figures
    )
    assert [key for key, count in keys.items() if count > 1] == []


def test_entity_names_and_aliases_never_collide() -> None:
    keys = Counter(
        key for entity in LOADED.entities for key in {name.strip().lower() for name in (entity.name, *entity.aliases)}
    )
    assert [key for key, count in keys.items() if count > 1] == []


# Models built jointly by several institutions, with no single developer to name.
JOINT_WORK = {"CroissantLLM"}


def test_models_and_hardware_name_their_parent() -> None:
    orphans = {e.name for e in LOADED.entities if e.type in {"model", "hardware"} and e.parent is None}
    assert orphans == JOINT_WORK


def test_cited_documents_exist() -> None:
    unknown = {(d.id, c) for d in DOCUMENTS.values() for c in d.cites if c not in DOCUMENTS}
    assert unknown == set()
