"""Annual series: organisation × metric × year in canonical units, with year-on-year change.

A cell is one subject, metric, boundary (scope) and twelve-month period, from measured
figures only (no projections, no bounds). Where several
documents give the same cell, the most recently published one is the series value
(a later report restates earlier years); the others stay in `figures` and the row
counts them and keeps their spread.
"""

from __future__ import annotations

import polars as pl

# Metrics reported per period by organisations and facilities.
ANNUAL_METRICS = [
    "electricity_consumption",
    "water_withdrawal",
    "water_consumption",
    "water_discharge",
    "water_use",
    "water_replenished",
    "scope1_emissions",
    "scope2_emissions_market_based",
    "scope2_emissions_location_based",
    "scope3_emissions",
    "total_emissions",
    "renewable_energy_purchased",
    "renewable_electricity_purchased",
    "renewable_energy_share",
    "carbon_free_energy_share",
    "pue",
    "wue",
]
ANNUAL_COLUMNS = [
    "subject",
    "metric",
    "scope",
    "period_start",
    "period_end",
    "year",
    "value",
    "unit",
    "figure_id",
    "source_id",
    "documents",
    "min_value",
    "max_value",
    "previous_value",
    "previous_figure_id",
    "yoy_change_pct",
    "yoy_change_points",
]


def scope_key(column: str = "scope") -> pl.Expr:
    """Boundaries compare equal when they differ only in case, spacing and punctuation."""
    return pl.col(column).fill_null("").str.to_lowercase().str.replace_all(r"[^\p{L}\p{N}]+", " ").str.strip_chars()


def annual_metrics(figures: pl.DataFrame, sources: pl.DataFrame) -> pl.DataFrame:
    """One row per (subject, metric, scope, twelve-month period) with the change from the year before."""
    cells = (
        figures.filter(
            pl.col("subject_type").is_in(["organization", "facility"])
            & pl.col("metric").is_in(ANNUAL_METRICS)
            & pl.col("value").is_not_null()
            # Measured values only: not targets or projections, not bounds ("more than ...").
            & (pl.col("basis") != "projected")
            & pl.col("qualifier").is_in(["=", "~"])
            & ((pl.col("period_end") - pl.col("period_start")).dt.total_days().is_between(364, 365))
        )
        .join(sources.select("source_id", "published"), on="source_id")
        .with_columns(scope_key().alias("scope_key"))
    )
    cell = ["subject", "metric", "scope_key", "period_start", "period_end"]
    series = (
        cells.sort("published", "source_id", "figure_order", descending=[True, False, False])
        .group_by(cell, maintain_order=True)
        .agg(
            pl.col("scope").first(),
            pl.col("value").first(),
            pl.col("unit").first(),
            pl.col("figure_id").first(),
            pl.col("source_id").first(),
            pl.col("source_id").n_unique().alias("documents"),
            pl.col("value").min().alias("min_value"),
            pl.col("value").max().alias("max_value"),
        )
        .with_columns(pl.col("period_end").dt.year().alias("year"))
    )
    previous = series.select(
        "subject",
        "metric",
        "scope_key",
        pl.col("period_start").dt.offset_by("1y").alias("period_start"),
        pl.col("period_end").dt.offset_by("1y").dt.month_end().alias("period_end"),
        pl.col("value").alias("previous_value"),
        pl.col("figure_id").alias("previous_figure_id"),
    )
    return (
        series.with_columns(pl.col("period_end").dt.month_end())
        .join(previous, on=cell, how="left")
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
        .sort("subject", "metric", "scope", "period_end")
    )
