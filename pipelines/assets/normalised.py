"""Normalised layer: vocabularies resolved, canonical units, parsed periods."""

from __future__ import annotations

import dagster as dg
import polars as pl

from pipelines.lib.errors import raise_if_any
from pipelines.lib.normalise import Stage, normalise_entities, normalise_figures, normalise_metrics, normalise_sources
from pipelines.metadata import frame_metadata
from schemas.tables import ENTITIES, FIGURES, METRICS, SOURCES

LAYER = "normalised"


def _result(stage: Stage, schema_name: str) -> dg.Output[pl.DataFrame]:
    raise_if_any(stage.problems)
    schema = {"metrics": METRICS, "entities": ENTITIES, "sources": SOURCES, "figures": FIGURES}[schema_name]
    return dg.Output(stage.frame, metadata=frame_metadata(stage.frame, schema))


@dg.asset(
    key=[LAYER, "metrics"],
    group_name=LAYER,
    ins={"raw_metrics": dg.AssetIn(key=["raw", "metrics"])},
    description=METRICS.description,
    kinds={"polars"},
)
def metrics(raw_metrics: pl.DataFrame) -> dg.Output[pl.DataFrame]:
    return _result(normalise_metrics(raw_metrics), "metrics")


@dg.asset(
    key=[LAYER, "entities"],
    group_name=LAYER,
    ins={"raw_entities": dg.AssetIn(key=["raw", "entities"])},
    description=ENTITIES.description,
    kinds={"polars"},
)
def entities(raw_entities: pl.DataFrame) -> dg.Output[pl.DataFrame]:
    return _result(normalise_entities(raw_entities), "entities")


@dg.asset(
    key=[LAYER, "sources"],
    group_name=LAYER,
    ins={"raw_documents": dg.AssetIn(key=["raw", "documents"]), "raw_figures": dg.AssetIn(key=["raw", "figures"])},
    description=SOURCES.description,
    kinds={"polars"},
)
def sources(raw_documents: pl.DataFrame, raw_figures: pl.DataFrame) -> dg.Output[pl.DataFrame]:
    return _result(normalise_sources(raw_documents, raw_figures), "sources")


@dg.asset(
    key=[LAYER, "figures"],
    group_name=LAYER,
    ins={
        "raw_figures": dg.AssetIn(key=["raw", "figures"]),
        "raw_entities": dg.AssetIn(key=["raw", "entities"]),
        "metrics": dg.AssetIn(key=[LAYER, "metrics"]),
    },
    description=FIGURES.description,
    kinds={"polars"},
)
def figures(raw_figures: pl.DataFrame, raw_entities: pl.DataFrame, metrics: pl.DataFrame) -> dg.Output[pl.DataFrame]:
    return _result(normalise_figures(raw_figures, metrics, raw_entities), "figures")
