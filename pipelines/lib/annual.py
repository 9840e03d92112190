"""Annual series: organisation × metric × boundary × accounting × statistic × year, in
canonical units, with the change from the year before.

A cell is one subject, metric (those whose `uses.annual_metrics` is true), boundary,
accounting, statistic and twelve-month period (a calendar or fiscal year), from measured
figures only (no projections, targets or bounds). Where several documents give the same
cell, the most recently published one is the series value: a later report restates
earlier years. The earlier values stay in `figures`, are counted and spread here, and each
is a `restatement` check against the value the series takes.
"""

from __future__ import annotations

import polars as pl

# What makes one series cell.
CELL = ["subject", "metric", "boundary", "accounting", "statistic", "period_start", "period_end"]
ANNUAL_COLUMNS = [
    "subject",
    "metric",
    "boundary",
    "accounting",
    "statistic",
    "period_kind",
    "period_start",
    "period_end",
    "year",
    "value",
    "unit",
    "figure_id",
    "source_id",
    "scope",
    "documents",
    "min_value",
    "max_value",
    "restated",
    "previous_value",
    "previous_figure_id",
    "yoy_change_pct",
    "yoy_change_points",
]


def series_figures(figures: pl.DataFrame, metrics: pl.DataFrame, sources: pl.DataFrame) -> pl.DataFrame:
    """The figures that form annual series, each with its document's publication date."""
    annual = metrics.filter(pl.col("annual_series"))["metric"].to_list()
    return figures.filter(
        pl.col("subject_type").is_in(["organization", "facility"])
        & pl.col("metric").is_in(annual)
        & pl.col("value").is_not_null()
        # Measured values only: not targets or projections, not bounds ("more than ...").
        & pl.col("period_kind").is_in(["calendar_year", "fiscal_year"])
        & (pl.col("basis") != "projected")
        & pl.col("qualifier").is_in(["=", "~"])
    ).join(sources.select("source_id", "published"), on="source_id")


def annual_metrics(figures: pl.DataFrame, metrics: pl.DataFrame, sources: pl.DataFrame) -> pl.DataFrame:
    """One row per series cell with the change from the year before."""
    series = (
        series_figures(figures, metrics, sources)
        .sort("published", "source_id", "figure_order", descending=[True, False, False])
        .group_by(CELL, maintain_order=True)
        .agg(
            pl.col("period_kind").first(),
            pl.col("value").first(),
            pl.col("unit").first(),
            pl.col("figure_id").first(),
            pl.col("source_id").first(),
            pl.col("scope").first(),
            pl.col("source_id").n_unique().alias("documents"),
            pl.col("value").min().alias("min_value"),
            pl.col("value").max().alias("max_value"),
            # The value taken differs from one an earlier-published document gave.
            ((pl.col("value") != pl.col("value").first()) & (pl.col("published") < pl.col("published").first()))
            .any()
            .alias("restated"),
        )
        .with_columns(pl.col("period_end").dt.year().alias("year"))
    )
    previous = series.select(
        *(name for name in CELL if not name.startswith("period_")),
        pl.col("period_start").dt.offset_by("1y").alias("period_start"),
        pl.col("period_end").dt.offset_by("1y").dt.month_end().alias("period_end"),
        pl.col("value").alias("previous_value"),
        pl.col("figure_id").alias("previous_figure_id"),
    )
    return (
        series.join(previous, on=CELL, how="left", nulls_equal=True)
        .with_columns(
            # A share changes in points, not in percent of itself.
            pl.when((pl.col("previous_value") != 0) & (pl.col("unit") != "percent"))
            .then((pl.col("value") - pl.col("previous_value")) / pl.col("previous_value") * 100)
            .alias("yoy_change_pct"),
            pl.when(pl.col("unit") == "percent")
            .then(pl.col("value") - pl.col("previous_value"))
            .alias("yoy_change_points"),
        )
        .select(ANNUAL_COLUMNS)
        .sort("subject", "metric", "boundary", "accounting", "statistic", "period_end")
    )
