"""Derived layer: training runs, annual series and claim checks."""

from __future__ import annotations

import dagster as dg
import polars as pl

from pipelines.lib import annual, claims, derive, ratios
from pipelines.metadata import frame_metadata, markdown_table
from schemas.tables import ANNUAL_METRICS, CLAIM_CHECKS, INTENSITIES, PER_REQUEST, TRAINING_RUNS

LAYER = "derived"
FIGURES_IN = {"figures": dg.AssetIn(key=["normalised", "figures"])}


@dg.asset(
    key=[LAYER, "training_runs"],
    group_name=LAYER,
    ins={**FIGURES_IN, "factors": dg.AssetIn(key=["normalised", "factors"])},
    description=TRAINING_RUNS.description,
    kinds={"polars"},
)
def training_runs(figures: pl.DataFrame, factors: pl.DataFrame) -> dg.Output[pl.DataFrame]:
    frame = derive.training_runs(figures, factors)
    return dg.Output(frame, metadata=frame_metadata(frame, TRAINING_RUNS))


@dg.asset(
    key=[LAYER, "annual_metrics"],
    group_name=LAYER,
    ins={**FIGURES_IN, "sources": dg.AssetIn(key=["normalised", "sources"])},
    description=ANNUAL_METRICS.description,
    kinds={"polars"},
)
def annual_metrics(figures: pl.DataFrame, sources: pl.DataFrame) -> dg.Output[pl.DataFrame]:
    frame = annual.annual_metrics(figures, sources)
    return dg.Output(frame, metadata=frame_metadata(frame, ANNUAL_METRICS))


@dg.asset(
    key=[LAYER, "per_request"], group_name=LAYER, ins=FIGURES_IN, description=PER_REQUEST.description, kinds={"polars"}
)
def per_request(figures: pl.DataFrame) -> dg.Output[pl.DataFrame]:
    frame = ratios.per_request(figures)
    return dg.Output(frame, metadata=frame_metadata(frame, PER_REQUEST))


@dg.asset(
    key=[LAYER, "intensities"],
    group_name=LAYER,
    ins={"annual_metrics": dg.AssetIn(key=[LAYER, "annual_metrics"])},
    description=INTENSITIES.description,
    kinds={"polars"},
)
def intensities(annual_metrics: pl.DataFrame) -> dg.Output[pl.DataFrame]:
    frame = ratios.intensities(annual_metrics)
    return dg.Output(frame, metadata=frame_metadata(frame, INTENSITIES))


@dg.asset(
    key=[LAYER, "claim_checks"],
    group_name=LAYER,
    ins={
        **FIGURES_IN,
        "sources": dg.AssetIn(key=["normalised", "sources"]),
        "entities": dg.AssetIn(key=["normalised", "entities"]),
        "training_runs": dg.AssetIn(key=[LAYER, "training_runs"]),
        "annual_metrics": dg.AssetIn(key=[LAYER, "annual_metrics"]),
    },
    description=CLAIM_CHECKS.description,
    kinds={"polars"},
)
def claim_checks(
    figures: pl.DataFrame,
    sources: pl.DataFrame,
    entities: pl.DataFrame,
    training_runs: pl.DataFrame,
    annual_metrics: pl.DataFrame,
) -> dg.Output[pl.DataFrame]:
    frame = claims.claim_checks(figures, sources, entities, training_runs, annual_metrics)
    by_kind = frame.group_by("kind", "status").len().sort("kind", "status")
    return dg.Output(
        frame,
        metadata={
            **frame_metadata(frame, CLAIM_CHECKS),
            "inconsistent": frame.filter(pl.col("status") == "inconsistent").height,
            "by_kind": dg.MetadataValue.md(markdown_table(by_kind)),
        },
    )
