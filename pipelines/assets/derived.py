"""Derived layer: training runs by the contract's formulas, and claim checks."""

from __future__ import annotations

import dagster as dg
import polars as pl

from pipelines.lib import derive
from pipelines.metadata import frame_metadata
from schemas.tables import CLAIM_CHECKS, TRAINING_RUNS

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
    key=[LAYER, "claim_checks"],
    group_name=LAYER,
    ins=FIGURES_IN,
    description=CLAIM_CHECKS.description,
    kinds={"polars"},
)
def claim_checks(figures: pl.DataFrame) -> dg.Output[pl.DataFrame]:
    frame = derive.claim_checks(figures)
    inconsistent = frame.filter(pl.col("status") == "inconsistent").height
    return dg.Output(frame, metadata={**frame_metadata(frame, CLAIM_CHECKS), "inconsistent": inconsistent})
