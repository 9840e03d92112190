"""Ratios of figures: per-request inference footprints and intensities of annual series.

Which metrics take part is data (`metrics.yaml`, `uses`): `per_request` (given for one
request), `per_requests` (given for a stated number of requests) and `intensity` (divided
by another metric of the same subject, year, boundary and statistic, in a stated unit).

Per request: figures given per prompt as they stand, and figures given for a stated
number of requests divided by that number (a range of requests gives a range per
request) where the document gives one request count for the subject. Every unit step
goes through the unit registry.
"""

from __future__ import annotations

import polars as pl

from pipelines.lib.units import conversion_factor

# The unit of each quantity in per_request.
PER_REQUEST_UNITS = {"energy": "Wh", "water": "mL", "emissions": "g"}
PER_REQUEST_COLUMNS = [
    "figure_id",
    "subject",
    "source_id",
    "quantity",
    "value",
    "low",
    "high",
    "unit",
    "boundary",
    "accounting",
    "statistic",
    "derived",
    "figure_ids",
    "scope",
]
INTENSITY_SCHEMA = {
    "subject": pl.String,
    "numerator": pl.String,
    "denominator": pl.String,
    "boundary": pl.String,
    "accounting": pl.String,
    "period_start": pl.Date,
    "period_end": pl.Date,
    "year": pl.Int32,
    "value": pl.Float64,
    "unit": pl.String,
    "figure_ids": pl.List(pl.String),
}


def per_request(figures: pl.DataFrame, metrics: pl.DataFrame) -> pl.DataFrame:
    """Inference footprints per request, given or derived, each with its figures."""
    one = metrics.filter(pl.col("per_request").is_not_null()).select("metric", pl.col("per_request").alias("quantity"))
    many = metrics.filter(pl.col("per_requests").is_not_null()).select(
        "metric", pl.col("per_requests").alias("quantity")
    )
    direct = figures.join(one, on="metric").with_columns(
        pl.lit(False).alias("derived"), pl.concat_list(pl.col("figure_id")).alias("figure_ids")
    )
    # Only where a document gives one request count for the subject: with several, which
    # batch each count belongs to is not recorded.
    requests = (
        figures.filter(pl.col("metric") == "inference_requests")
        .filter(pl.len().over("source_id", "subject") == 1)
        .select(
            "source_id",
            "subject",
            pl.col("value").alias("requests"),
            pl.col("low").alias("requests_low"),
            pl.col("high").alias("requests_high"),
            pl.col("figure_id").alias("requests_figure_id"),
        )
    )
    derived = (
        figures.join(many, on="metric")
        .join(requests, on=["source_id", "subject"])
        .with_columns(
            pl.lit(True).alias("derived"),
            pl.concat_list("figure_id", "requests_figure_id").alias("figure_ids"),
            # More requests per batch make less per request: the low end divides by the high count.
            (pl.col("value") / pl.col("requests")).alias("value_per"),
            (pl.coalesce("low", "value") / pl.coalesce("requests_high", "requests")).alias("low_per"),
            (pl.coalesce("high", "value") / pl.coalesce("requests_low", "requests")).alias("high_per"),
        )
        .with_columns(
            pl.col("value_per").alias("value"),
            pl.when(pl.col("low_per") != pl.col("high_per")).then(pl.col("low_per")).alias("low"),
            pl.when(pl.col("low_per") != pl.col("high_per")).then(pl.col("high_per")).alias("high"),
        )
    )
    frame = pl.concat([direct.select(PER_REQUEST_COLUMNS), derived.select(PER_REQUEST_COLUMNS)])
    return _to_units(frame.with_columns(pl.col("quantity").replace_strict(PER_REQUEST_UNITS).alias("target"))).sort(
        "quantity", "subject", "source_id", "figure_ids"
    )


def _to_units(frame: pl.DataFrame) -> pl.DataFrame:
    """Convert value/low/high from each row's unit to its `target` unit."""
    pairs = frame.select("unit", "target").unique().iter_rows()
    factors = pl.DataFrame(
        [(unit, target, conversion_factor(unit, target)) for unit, target in pairs],
        schema={"unit": pl.String, "target": pl.String, "factor": pl.Float64},
        orient="row",
    )
    return (
        frame.join(factors, on=["unit", "target"], how="left")
        .with_columns(
            *(pl.col(name) * pl.col("factor") for name in ("value", "low", "high")), pl.col("target").alias("unit")
        )
        .drop("factor", "target")
    )


def intensities(annual: pl.DataFrame, metrics: pl.DataFrame) -> pl.DataFrame:
    """Each series value of an intensity numerator (water, emissions) divided by its
    denominator (electricity) of the same subject, year, boundary and statistic; the
    numerator's accounting is kept."""
    roles = metrics.filter(pl.col("intensity_per").is_not_null()).select(
        pl.col("metric").alias("numerator"), pl.col("intensity_per").alias("denominator"), "intensity_unit"
    )
    key = ["subject", "boundary", "statistic", "period_start", "period_end"]
    top = annual.rename({"metric": "numerator"}).join(roles, on="numerator")
    bottom = annual.select(
        *key,
        pl.col("metric").alias("denominator"),
        pl.col("value").alias("denominator_value"),
        pl.col("unit").alias("denominator_unit"),
        pl.col("figure_id").alias("denominator_figure_id"),
    )
    joined = top.join(bottom, on=[*key, "denominator"]).filter(pl.col("denominator_value") > 0)
    factors = pl.DataFrame(
        [
            (unit, under, target, conversion_factor(f"({unit})/({under})", target))
            for unit, under, target in joined.select("unit", "denominator_unit", "intensity_unit").unique().iter_rows()
        ],
        schema={"unit": pl.String, "denominator_unit": pl.String, "intensity_unit": pl.String, "factor": pl.Float64},
        orient="row",
    )
    return (
        joined.join(factors, on=["unit", "denominator_unit", "intensity_unit"])
        .select(
            "subject",
            "numerator",
            "denominator",
            "boundary",
            "accounting",
            "period_start",
            "period_end",
            "year",
            (pl.col("value") / pl.col("denominator_value") * pl.col("factor")).alias("value"),
            pl.col("intensity_unit").alias("unit"),
            pl.concat_list("figure_id", "denominator_figure_id").alias("figure_ids"),
        )
        .cast(INTENSITY_SCHEMA)  # type: ignore[arg-type]
        .sort("subject", "numerator", "boundary", "accounting", "period_end")
    )
