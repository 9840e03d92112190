"""Ratios of figures: per-request inference footprints and intensities of annual series.

Per request: figures given per prompt as they stand, and figures given for a stated
number of requests divided by that number (a range of requests gives a range per
request) where the document gives one request count for the subject. Intensities:
water or emissions per unit of electricity, where one subject's series gives both for
the same period and boundary.
"""

from __future__ import annotations

import polars as pl

from pipelines.lib.annual import scope_key
from pipelines.lib.units import conversion_factor

# Metric given per request -> (quantity, unit of the per_request table).
PER_REQUEST = {
    "inference_energy_per_request": ("energy", "Wh"),
    "inference_water_per_request": ("water", "mL"),
    "inference_emissions_per_request": ("emissions", "g"),
}
# Metric given for a stated number of requests -> (quantity, unit of the per_request table).
PER_BATCH = {
    "inference_energy": ("energy", "Wh"),
    "inference_water": ("water", "mL"),
    "inference_emissions": ("emissions", "g"),
}
PER_REQUEST_COLUMNS = [
    "figure_id",
    "subject",
    "source_id",
    "quantity",
    "value",
    "low",
    "high",
    "unit",
    "derived",
    "figure_ids",
    "scope",
]

# (numerator metric, denominator metric) -> unit of the intensity.
INTENSITIES = {
    ("water_consumption", "electricity_consumption"): "L/kWh",
    ("water_withdrawal", "electricity_consumption"): "L/kWh",
    ("water_use", "electricity_consumption"): "L/kWh",
    ("total_emissions", "electricity_consumption"): "kg/kWh",
    ("scope2_emissions_market_based", "electricity_consumption"): "kg/kWh",
    ("scope2_emissions_location_based", "electricity_consumption"): "kg/kWh",
}
INTENSITY_COLUMNS = [
    "subject",
    "numerator",
    "denominator",
    "scope",
    "period_start",
    "period_end",
    "value",
    "unit",
    "figure_ids",
]


def per_request(figures: pl.DataFrame) -> pl.DataFrame:
    """Inference footprints per request, given or derived, each with its figures."""
    direct = figures.filter(pl.col("metric").is_in(list(PER_REQUEST))).with_columns(
        pl.col("metric").replace_strict({k: v[0] for k, v in PER_REQUEST.items()}).alias("quantity"),
        pl.col("metric").replace_strict({k: v[1] for k, v in PER_REQUEST.items()}).alias("target_unit"),
        pl.lit(False).alias("derived"),
        pl.concat_list(pl.col("figure_id")).alias("figure_ids"),
    )
    direct = _to_units(direct)
    batches = figures.filter(pl.col("metric").is_in(list(PER_BATCH)))
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
        batches.join(requests, on=["source_id", "subject"])
        .with_columns(
            pl.col("metric").replace_strict({k: v[0] for k, v in PER_BATCH.items()}).alias("quantity"),
            pl.col("metric").replace_strict({k: v[1] for k, v in PER_BATCH.items()}).alias("target_unit"),
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
    derived = _to_units(derived)
    return pl.concat([direct.select(PER_REQUEST_COLUMNS), derived.select(PER_REQUEST_COLUMNS)]).sort(
        "quantity", "subject", "source_id", "figure_ids"
    )


def _to_units(frame: pl.DataFrame) -> pl.DataFrame:
    """Convert value/low/high from each row's canonical unit to its target unit."""
    pairs = frame.select("unit", "target_unit").unique().iter_rows()
    factors = pl.DataFrame(
        [(unit, target, conversion_factor(unit, target)) for unit, target in pairs],
        schema={"unit": pl.String, "target_unit": pl.String, "factor": pl.Float64},
        orient="row",
    )
    return (
        frame.join(factors, on=["unit", "target_unit"], how="left")
        .with_columns(
            *(pl.col(name) * pl.col("factor") for name in ("value", "low", "high")), pl.col("target_unit").alias("unit")
        )
        .drop("factor", "target_unit")
    )


def intensities(annual: pl.DataFrame) -> pl.DataFrame:
    """Water or emissions per unit of electricity for one subject, period and boundary."""
    cells = annual.with_columns(scope_key().alias("scope_key"))
    key = ["subject", "scope_key", "period_start", "period_end"]
    parts = []
    for (numerator, denominator), unit in INTENSITIES.items():
        top = cells.filter(pl.col("metric") == numerator)
        bottom = cells.filter(pl.col("metric") == denominator).select(
            *key, pl.col("value").alias("denominator_value"), pl.col("unit").alias("denominator_unit"),
            pl.col("figure_id").alias("denominator_figure_id"),
        )  # fmt: skip
        joined = top.join(bottom, on=key)
        if joined.is_empty():
            continue
        factor = conversion_factor(f"{joined['unit'][0]}/({joined['denominator_unit'][0]})", unit)
        parts.append(
            joined.filter(pl.col("denominator_value") > 0).select(
                "subject",
                pl.lit(numerator).alias("numerator"),
                pl.lit(denominator).alias("denominator"),
                "scope",
                "period_start",
                "period_end",
                (pl.col("value") / pl.col("denominator_value") * factor).alias("value"),
                pl.lit(unit).alias("unit"),
                pl.concat_list("figure_id", "denominator_figure_id").alias("figure_ids"),
            )
        )
    if not parts:
        return pl.DataFrame(
            schema={
                "subject": pl.String,
                "numerator": pl.String,
                "denominator": pl.String,
                "scope": pl.String,
                "period_start": pl.Date,
                "period_end": pl.Date,
                "value": pl.Float64,
                "unit": pl.String,
                "figure_ids": pl.List(pl.String),
            }
        )
    return pl.concat(parts).select(INTENSITY_COLUMNS).sort("subject", "numerator", "period_end")
