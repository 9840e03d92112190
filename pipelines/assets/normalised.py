"""Normalised layer: vocabularies resolved, canonical units, parsed periods."""

from __future__ import annotations

from collections.abc import Iterator

import dagster as dg
import polars as pl

from pipelines.lib.errors import raise_if_any
from pipelines.lib.grid import normalise_grid
from pipelines.lib.meaning import DIMENSION_TABLES, dimension_tables
from pipelines.lib.normalise import (
    Stage,
    normalise_entities,
    normalise_equivalences,
    normalise_factors,
    normalise_figures,
    normalise_metrics,
    normalise_run_locations,
    normalise_sources,
)
from pipelines.lib.snapshots import RAW_TABLES
from pipelines.lib.upstream import UPSTREAM_TABLES, upstream_tables
from pipelines.metadata import frame_metadata
from schemas.tables import PUBLISHED_TABLES

LAYER = "normalised"


def _result(stage: Stage, table: str) -> dg.Output[pl.DataFrame]:
    raise_if_any(stage.problems)
    return dg.Output(stage.frame, metadata=frame_metadata(stage.frame, PUBLISHED_TABLES[table]))


@dg.asset(
    key=[LAYER, "metrics"],
    group_name=LAYER,
    ins={"raw_metrics": dg.AssetIn(key=["raw", "metrics"])},
    description=PUBLISHED_TABLES["metrics"].description,
    kinds={"polars"},
)
def metrics(raw_metrics: pl.DataFrame) -> dg.Output[pl.DataFrame]:
    return _result(normalise_metrics(raw_metrics), "metrics")


@dg.asset(
    key=[LAYER, "entities"],
    group_name=LAYER,
    ins={"raw_entities": dg.AssetIn(key=["raw", "entities"])},
    description=PUBLISHED_TABLES["entities"].description,
    kinds={"polars"},
)
def entities(raw_entities: pl.DataFrame) -> dg.Output[pl.DataFrame]:
    return _result(normalise_entities(raw_entities), "entities")


@dg.asset(
    key=[LAYER, "sources"],
    group_name=LAYER,
    ins={"raw_documents": dg.AssetIn(key=["raw", "documents"]), "raw_figures": dg.AssetIn(key=["raw", "figures"])},
    description=PUBLISHED_TABLES["sources"].description,
    kinds={"polars"},
)
def sources(raw_documents: pl.DataFrame, raw_figures: pl.DataFrame) -> dg.Output[pl.DataFrame]:
    return _result(normalise_sources(raw_documents, raw_figures), "sources")


@dg.multi_asset(
    outs={
        table: dg.AssetOut(
            key=[LAYER, table], group_name=LAYER, description=PUBLISHED_TABLES[table].description, kinds={"polars"}
        )
        for table in DIMENSION_TABLES.values()
    },
    ins={"raw_dimension_values": dg.AssetIn(key=["raw", "dimension_values"])},
    description="The vocabulary of each figure dimension: boundaries, accounting methods, statistics, period kinds.",
)
def dimensions(raw_dimension_values: pl.DataFrame) -> Iterator[dg.Output[pl.DataFrame]]:
    tables, problems = dimension_tables(raw_dimension_values)
    raise_if_any(problems)
    for table, frame in tables.items():
        yield dg.Output(frame, output_name=table, metadata=frame_metadata(frame, PUBLISHED_TABLES[table]))


@dg.asset(
    key=[LAYER, "figures"],
    group_name=LAYER,
    ins={
        "raw_figures": dg.AssetIn(key=["raw", "figures"]),
        "raw_entities": dg.AssetIn(key=["raw", "entities"]),
        "raw_dimension_values": dg.AssetIn(key=["raw", "dimension_values"]),
        "metrics": dg.AssetIn(key=[LAYER, "metrics"]),
    },
    description="Every figure, as written and in canonical units, with what it means; before its claim checks.",
    kinds={"polars"},
)
def figures(
    raw_figures: pl.DataFrame, raw_entities: pl.DataFrame, raw_dimension_values: pl.DataFrame, metrics: pl.DataFrame
) -> dg.Output[pl.DataFrame]:
    return _result(normalise_figures(raw_figures, metrics, raw_entities, raw_dimension_values), "figures")


@dg.asset(
    key=[LAYER, "factors"],
    group_name=LAYER,
    ins={"raw_factors": dg.AssetIn(key=["raw", "factors"]), "figures": dg.AssetIn(key=[LAYER, "figures"])},
    description=PUBLISHED_TABLES["factors"].description,
    kinds={"polars"},
)
def factors(raw_factors: pl.DataFrame, figures: pl.DataFrame) -> dg.Output[pl.DataFrame]:
    return _result(normalise_factors(raw_factors, figures), "factors")


@dg.asset(
    key=[LAYER, "equivalences"],
    group_name=LAYER,
    ins={"raw_equivalences": dg.AssetIn(key=["raw", "equivalences"]), "figures": dg.AssetIn(key=[LAYER, "figures"])},
    description=PUBLISHED_TABLES["equivalences"].description,
    kinds={"polars"},
)
def equivalences(raw_equivalences: pl.DataFrame, figures: pl.DataFrame) -> dg.Output[pl.DataFrame]:
    return _result(normalise_equivalences(raw_equivalences, figures), "equivalences")


@dg.asset(
    key=[LAYER, "run_locations"],
    group_name=LAYER,
    ins={
        "raw_run_locations": dg.AssetIn(key=["raw", "run_locations"]),
        "entities": dg.AssetIn(key=[LAYER, "entities"]),
        "sources": dg.AssetIn(key=[LAYER, "sources"]),
        "figures": dg.AssetIn(key=[LAYER, "figures"]),
    },
    description=PUBLISHED_TABLES["run_locations"].description,
    kinds={"polars"},
)
def run_locations(
    raw_run_locations: pl.DataFrame, entities: pl.DataFrame, sources: pl.DataFrame, figures: pl.DataFrame
) -> dg.Output[pl.DataFrame]:
    return _result(normalise_run_locations(raw_run_locations, entities, sources, figures), "run_locations")


GRID_TABLES = {
    "grid_measures": PUBLISHED_TABLES["grid_measures"].description,
    "grid_cells": "The organisations × years of the grid (headline or not), organisations resolved to entity names.",
    "gaps": "The grid's cells that no document fills, with the reason (sources/gaps.yaml).",
}


@dg.multi_asset(
    outs={
        name: dg.AssetOut(key=[LAYER, name], group_name=LAYER, description=description, kinds={"polars"})
        for name, description in GRID_TABLES.items()
    },
    ins={
        "raw_grid_measures": dg.AssetIn(key=["raw", "grid_measures"]),
        "raw_grid_cells": dg.AssetIn(key=["raw", "grid_cells"]),
        "raw_gaps": dg.AssetIn(key=["raw", "gaps"]),
        "raw_dimension_values": dg.AssetIn(key=["raw", "dimension_values"]),
        "metrics": dg.AssetIn(key=[LAYER, "metrics"]),
        "entities": dg.AssetIn(key=[LAYER, "entities"]),
    },
    description="The headline grid as defined (grid.yaml, gaps.yaml), checked against the vocabularies.",
)
def grid_definition(
    raw_grid_measures: pl.DataFrame,
    raw_grid_cells: pl.DataFrame,
    raw_gaps: pl.DataFrame,
    raw_dimension_values: pl.DataFrame,
    metrics: pl.DataFrame,
    entities: pl.DataFrame,
) -> Iterator[dg.Output[pl.DataFrame]]:
    raw = {
        "grid_measures": raw_grid_measures,
        "grid_cells": raw_grid_cells,
        "gaps": raw_gaps,
        "dimension_values": raw_dimension_values,
    }
    tables, problems = normalise_grid(raw, metrics, entities)
    raise_if_any(problems)
    for name, frame in tables.items():
        yield dg.Output(frame, output_name=name, metadata=frame_metadata(frame, PUBLISHED_TABLES.get(name)))


@dg.multi_asset(
    outs={
        name: dg.AssetOut(
            key=[LAYER, name], group_name=LAYER, description=PUBLISHED_TABLES[name].description, kinds={"polars"}
        )
        for name in UPSTREAM_TABLES
    },
    ins={
        **{f"raw_{name}": dg.AssetIn(key=["raw", name]) for name in [*RAW_TABLES, "snapshots"]},
        "entities": dg.AssetIn(key=[LAYER, "entities"]),
    },
    description="The upstream snapshots as published tables: units converted, models joined to entities.",
)
def upstream(entities: pl.DataFrame, **raw: pl.DataFrame) -> Iterator[dg.Output[pl.DataFrame]]:
    tables = upstream_tables({name.removeprefix("raw_"): frame for name, frame in raw.items()}, entities)
    for name, frame in tables.items():
        yield dg.Output(frame, output_name=name, metadata=frame_metadata(frame, PUBLISHED_TABLES[name]))
