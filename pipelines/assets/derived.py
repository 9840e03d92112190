"""Derived layer: training runs, annual series, ratios, claim checks, and the figures with
the status of the checks they take part in."""

from __future__ import annotations

import dagster as dg
import polars as pl

from pipelines.lib import annual, claims, derive, ratios
from pipelines.lib import grid as grid_lib
from pipelines.metadata import frame_metadata, markdown_table
from schemas.tables import (
    ANNUAL_METRICS,
    CLAIM_CHECKS,
    FIGURES,
    GRID,
    GRID_COVERAGE,
    INTENSITIES,
    PER_REQUEST,
    TRAINING_RUNS,
)

LAYER = "derived"
FIGURES_IN = {"figures": dg.AssetIn(key=["normalised", "figures"])}
METRICS_IN = {"metrics": dg.AssetIn(key=["normalised", "metrics"])}


@dg.asset(
    key=[LAYER, "training_runs"],
    group_name=LAYER,
    ins={
        **FIGURES_IN,
        **METRICS_IN,
        "factors": dg.AssetIn(key=["normalised", "factors"]),
        "run_locations": dg.AssetIn(key=["normalised", "run_locations"]),
        "grid_intensity": dg.AssetIn(key=["normalised", "grid_intensity"]),
    },
    description=TRAINING_RUNS.description,
    kinds={"polars"},
)
def training_runs(
    figures: pl.DataFrame,
    metrics: pl.DataFrame,
    factors: pl.DataFrame,
    run_locations: pl.DataFrame,
    grid_intensity: pl.DataFrame,
) -> dg.Output[pl.DataFrame]:
    frame = derive.training_runs(figures, metrics, factors, run_locations, grid_intensity)
    return dg.Output(frame, metadata=frame_metadata(frame, TRAINING_RUNS))


@dg.asset(
    key=[LAYER, "annual_metrics"],
    group_name=LAYER,
    ins={**FIGURES_IN, **METRICS_IN, "sources": dg.AssetIn(key=["normalised", "sources"])},
    description=ANNUAL_METRICS.description,
    kinds={"polars"},
)
def annual_metrics(figures: pl.DataFrame, metrics: pl.DataFrame, sources: pl.DataFrame) -> dg.Output[pl.DataFrame]:
    frame = annual.annual_metrics(figures, metrics, sources)
    return dg.Output(frame, metadata=frame_metadata(frame, ANNUAL_METRICS))


@dg.asset(
    key=[LAYER, "per_request"],
    group_name=LAYER,
    ins={**FIGURES_IN, **METRICS_IN},
    description=PER_REQUEST.description,
    kinds={"polars"},
)
def per_request(figures: pl.DataFrame, metrics: pl.DataFrame) -> dg.Output[pl.DataFrame]:
    frame = ratios.per_request(figures, metrics)
    return dg.Output(frame, metadata=frame_metadata(frame, PER_REQUEST))


@dg.asset(
    key=[LAYER, "intensities"],
    group_name=LAYER,
    ins={"annual_metrics": dg.AssetIn(key=[LAYER, "annual_metrics"]), **METRICS_IN},
    description=INTENSITIES.description,
    kinds={"polars"},
)
def intensities(annual_metrics: pl.DataFrame, metrics: pl.DataFrame) -> dg.Output[pl.DataFrame]:
    frame = ratios.intensities(annual_metrics, metrics)
    return dg.Output(frame, metadata=frame_metadata(frame, INTENSITIES))


@dg.asset(
    key=[LAYER, "claim_checks"],
    group_name=LAYER,
    ins={
        **FIGURES_IN,
        **METRICS_IN,
        "sources": dg.AssetIn(key=["normalised", "sources"]),
        "entities": dg.AssetIn(key=["normalised", "entities"]),
        "training_runs": dg.AssetIn(key=[LAYER, "training_runs"]),
        "annual_metrics": dg.AssetIn(key=[LAYER, "annual_metrics"]),
        "grid_intensity": dg.AssetIn(key=["normalised", "grid_intensity"]),
        "run_locations": dg.AssetIn(key=["normalised", "run_locations"]),
    },
    description=CLAIM_CHECKS.description,
    kinds={"polars"},
)
def claim_checks(
    figures: pl.DataFrame,
    metrics: pl.DataFrame,
    sources: pl.DataFrame,
    entities: pl.DataFrame,
    training_runs: pl.DataFrame,
    annual_metrics: pl.DataFrame,
    grid_intensity: pl.DataFrame,
    run_locations: pl.DataFrame,
) -> dg.Output[pl.DataFrame]:
    frame = claims.claim_checks(
        figures, metrics, sources, entities, training_runs, annual_metrics, grid_intensity, run_locations
    )
    by_kind = frame.group_by("kind", "status").len().sort("kind", "status")
    return dg.Output(
        frame,
        metadata={
            **frame_metadata(frame, CLAIM_CHECKS),
            "inconsistent": frame.filter(pl.col("status") == "inconsistent").height,
            "by_kind": dg.MetadataValue.md(markdown_table(by_kind)),
        },
    )


@dg.asset(
    key=[LAYER, "figures"],
    group_name=LAYER,
    ins={**FIGURES_IN, "claim_checks": dg.AssetIn(key=[LAYER, "claim_checks"])},
    description=FIGURES.description,
    kinds={"polars"},
)
def checked_figures(figures: pl.DataFrame, claim_checks: pl.DataFrame) -> dg.Output[pl.DataFrame]:
    frame = claims.figure_check_status(figures, claim_checks)
    by_status = frame.group_by("check_status").len().sort("check_status")
    return dg.Output(
        frame,
        metadata={**frame_metadata(frame, FIGURES), "by_check_status": dg.MetadataValue.md(markdown_table(by_status))},
    )


@dg.asset(
    key=[LAYER, "grid"],
    group_name=LAYER,
    ins={
        "annual_metrics": dg.AssetIn(key=[LAYER, "annual_metrics"]),
        "grid_measures": dg.AssetIn(key=["normalised", "grid_measures"]),
        "sources": dg.AssetIn(key=["normalised", "sources"]),
        "entities": dg.AssetIn(key=["normalised", "entities"]),
    },
    description=GRID.description,
    kinds={"polars"},
)
def grid_values(
    annual_metrics: pl.DataFrame, grid_measures: pl.DataFrame, sources: pl.DataFrame, entities: pl.DataFrame
) -> dg.Output[pl.DataFrame]:
    frame = grid_lib.grid_table(annual_metrics, grid_measures, sources, entities)
    return dg.Output(frame, metadata=frame_metadata(frame, GRID))


@dg.asset(
    key=[LAYER, "grid_coverage"],
    group_name=LAYER,
    ins={
        "grid": dg.AssetIn(key=[LAYER, "grid"]),
        "grid_measures": dg.AssetIn(key=["normalised", "grid_measures"]),
        "grid_cells": dg.AssetIn(key=["normalised", "grid_cells"]),
        "gaps": dg.AssetIn(key=["normalised", "gaps"]),
    },
    description=GRID_COVERAGE.description,
    kinds={"polars"},
)
def grid_coverage(
    grid: pl.DataFrame, grid_measures: pl.DataFrame, grid_cells: pl.DataFrame, gaps: pl.DataFrame
) -> dg.Output[pl.DataFrame]:
    frame = grid_lib.grid_coverage(grid, grid_measures, grid_cells, gaps)
    filled = frame.filter(pl.col("status") == "filled")
    return dg.Output(
        frame,
        metadata={
            **frame_metadata(frame, GRID_COVERAGE),
            "filled": dg.MetadataValue.int(filled.height),
            "own_report": dg.MetadataValue.int(filled.filter(pl.col("own_report")).height),
        },
    )
