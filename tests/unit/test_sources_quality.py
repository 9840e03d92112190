"""Keeps sources/ honest: provenance on every document and figure, no figure entered twice."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from pipelines.lib.sources import load_sources
from tests.conftest import SOURCES

LOADED = load_sources(SOURCES)
DOCUMENTS = {document.id: document for _, document in LOADED.documents}
FIGURES = {
    document_id: figures.to_dicts()
    for (document_id,), figures in LOADED.figures.partition_by("source_id", as_dict=True).items()
}
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
    missing = [f["id"] for f in FIGURES.get(document_id, []) if not (f["locator"] and f["quote"])]
    assert missing == []


@pytest.mark.parametrize("document_id", sorted(DOCUMENTS))
def test_no_two_figures_of_a_document_say_the_same_thing(document_id: str) -> None:
    keys = Counter(
        (
            f["subject"].lower(),
            *(f[key] for key in ("metric", "period", "scope", "hardware", "value", "low", "high", "unit")),
        )
        for f in FIGURES.get(document_id, [])
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


def _normalised(name: str) -> str:
    """A name without case, spaces, punctuation or a company-form suffix: "Amazon.com, Inc." -> "amazoncom"."""
    text = re.sub(r"\b(inc|corp|corporation|ltd|llc|plc|co|company|group|holdings)\b\.?", "", name.lower())
    return re.sub(r"[\W_]+", "", text)


def test_no_two_entities_are_one_thing() -> None:
    """Names and aliases that differ only in case, spacing, punctuation or a company form name
    one entity: they must be its aliases, not two entities."""
    owners: dict[str, set[str]] = {}
    for entity in LOADED.entities:
        for name in (entity.name, *entity.aliases):
            owners.setdefault(_normalised(name), set()).add(entity.name)
    assert {key: names for key, names in owners.items() if len(names) > 1} == {}


_ARXIV = re.compile(r"arxiv\.org/(?:abs|pdf|html)/(\d{4}\.\d{4,5})")
_DOI = re.compile(r"\b(10\.\d{4,9}/[^\s?#]+)")


def _canonical_ids(url: str | None) -> set[str]:
    """arxiv:…, doi:… and the address itself (without tracking parameters) a url names."""
    if not url:
        return set()
    found = {f"arxiv:{m}" for m in _ARXIV.findall(url)} | {f"doi:{m.lower()}" for m in _DOI.findall(url)}
    address = re.sub(r"[?&](ref|authuser|utm_[a-z]+)=[^&#]*", "", url.split("#")[0]).rstrip("?/")
    return found | {f"url:{address.removeprefix('https://').removeprefix('http://')}"}


def test_documents_of_one_work_say_so() -> None:
    """Two documents that share an arXiv id, a DOI or an address are versions, editions or copies
    of one work: both must name it in `work`, so that nothing counts twice."""
    by_id: dict[str, set[str]] = {}
    for document in DOCUMENTS.values():
        for canonical in _canonical_ids(document.url):
            by_id.setdefault(canonical, set()).add(document.id)
    unlinked = {
        canonical: sorted(ids)
        for canonical, ids in by_id.items()
        if len(ids) > 1 and (None in {DOCUMENTS[i].work for i in ids} or len({DOCUMENTS[i].work for i in ids}) > 1)
    }
    assert unlinked == {}


def test_the_same_quantity_sits_under_one_metric(tables: dict) -> None:
    """The rule for "the same quantity under two metric ids": two figures of one subject, period and
    boundary with the same value and dimension, from different documents, under two metrics, are
    one quantity entered twice (Google's water as consumption and as use; Meta's 8.5 Mt as scope 3
    and as total). A figure takes the metric of what its origin reports (docs/contributing.md)."""
    import polars as pl

    figures = tables["figures"].join(tables["metrics"].select("metric", "dimension"), on="metric")
    keyed = figures.filter(pl.col("value").is_not_null() & (pl.col("value") != 0) & pl.col("period").is_not_null())
    # The same value (to float noise), not merely a close one: 11.2 Mt of scope 3 in one report
    # and 11.164 Mt of total emissions in another are two quantities.
    keyed = keyed.with_columns(pl.col("value").round_sig_figs(9).alias("rounded"))
    key = ["subject", "period_start", "period_end", "boundary", "dimension", "rounded"]
    pairs = keyed.join(keyed, on=key, suffix="_b").filter(
        (pl.col("metric") != pl.col("metric_b"))
        & (pl.col("source_id") != pl.col("source_id_b"))
        & (pl.col("figure_id") < pl.col("figure_id_b"))
    )
    assert pairs.select("figure_id", "metric", "figure_id_b", "metric_b").to_dicts() == []


def test_every_gap_of_the_grid_says_why_and_no_filled_cell_is_listed_as_a_gap(tables: dict) -> None:
    """A cell of the headline grid no stored document fills is listed in gaps.yaml with its
    reason, not left silently empty; and a cell a figure fills is not listed there."""
    import polars as pl

    coverage = tables["grid_coverage"]
    assert coverage.filter(pl.col("gap_reason") == "unexplained").select("subject", "measure", "year").rows() == []
    filled = set(coverage.filter(pl.col("status") == "filled").select("subject", "measure", "year").iter_rows())
    listed = {(gap.subject, measure, year) for gap in LOADED.gaps for measure, year in gap.cells()}
    assert listed & filled == set()
