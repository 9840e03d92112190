"""The derived layer: training runs by the contract's formulas, and claim checks.

Inputs are normalised figures (canonical units). Formulas (contract section 3):
accelerator-hours = hours, else count × duration; energy = hours × power × PUE;
CO2e = energy × grid intensity; on-site water = (energy / PUE) × WUE; off-site
water = energy × EWIF. Ranges (low/high) go through the same formulas.
"""

from __future__ import annotations

import math

import polars as pl

from pipelines.lib.physics import EQUIVALENCES
from pipelines.lib.units import conversion_factor, dimensionality

# Metrics that describe a training run of a model, and the column stem each becomes.
RUN_INPUTS = {
    "accelerator_count": "accelerator_count",
    "training_duration": "training_duration_h",
    "accelerator_hours": "accelerator_hours_reported",
    "power_per_accelerator": "power_per_accelerator_reported_w",
    "pue": "pue",
    "grid_carbon_intensity": "carbon_intensity_kg_per_kwh",
    "wue": "wue_l_per_kwh",
    "ewif": "ewif_l_per_kwh",
    "training_energy": "energy_mwh_reported",
    "accelerator_energy": "accelerator_energy_mwh_reported",
    "training_emissions": "co2e_t_reported",
    "training_water": "water_m3_reported",
}
# Inputs a cited default factor (sources/factors.yaml) may stand in for.
DEFAULTABLE_INPUTS = {
    "pue": "pue",
    "grid_carbon_intensity": "carbon_intensity_kg_per_kwh",
    "wue": "wue_l_per_kwh",
    "ewif": "ewif_l_per_kwh",
}
INPUT_STRUCT = pl.Struct({"input": pl.String, "figure_id": pl.String, "origin": pl.String})
# Inputs without which an output cannot be computed; listed per row when missing.
NEEDED_INPUTS = ["accelerator_hours", "power_per_accelerator", "pue", "grid_carbon_intensity", "wue", "ewif"]

TRAINING_RUN_COLUMNS = [
    "model",
    "source_id",
    "hardware",
    "accelerator_count",
    "training_duration_h",
    "accelerator_hours",
    "accelerator_hours_low",
    "accelerator_hours_high",
    "power_per_accelerator_w",
    "power_from_tdp",
    "pue",
    "carbon_intensity_kg_per_kwh",
    "wue_l_per_kwh",
    "ewif_l_per_kwh",
    "accelerator_energy_mwh",
    "accelerator_energy_mwh_reported",
    "energy_mwh",
    "energy_mwh_low",
    "energy_mwh_high",
    "energy_mwh_reported",
    "co2e_t",
    "co2e_t_low",
    "co2e_t_high",
    "co2e_t_reported",
    "water_onsite_m3",
    "water_onsite_m3_low",
    "water_onsite_m3_high",
    "water_offsite_m3",
    "water_offsite_m3_low",
    "water_offsite_m3_high",
    "water_m3_reported",
    "missing_inputs",
    "defaulted_inputs",
    "inputs",
]

_BOUNDS = ("", "_low", "_high")


def _bound(stem: str, bound: str) -> pl.Expr:
    """An input at one bound: low/high fall back to the value where no range is given."""
    if bound == "":
        return pl.col(stem)
    return pl.coalesce(pl.col(f"{stem}{bound}"), pl.col(stem))


def training_runs(figures: pl.DataFrame, factors: pl.DataFrame | None = None) -> pl.DataFrame:
    """One row per (model, document) that gives accelerator-hours or a reported footprint.

    Inputs come from the run's own document; power falls back to the hardware's TDP
    figure, and PUE, grid intensity, WUE and EWIF to the default `factors`.
    """
    run_figures = (
        figures.filter((pl.col("subject_type") == "model") & pl.col("metric").is_in(list(RUN_INPUTS)))
        .sort("source_id", "figure_order")
        .unique(["source_id", "subject", "metric"], keep="first", maintain_order=True)
    )
    runs = run_figures.select("source_id", pl.col("subject").alias("model")).unique(maintain_order=True)
    hardware = (
        run_figures.drop_nulls("hardware")
        .group_by("source_id", pl.col("subject").alias("model"), maintain_order=True)
        .agg(pl.col("hardware").first())
    )
    runs = runs.join(hardware, on=["source_id", "model"], how="left")
    for metric, stem in RUN_INPUTS.items():
        values = run_figures.filter(pl.col("metric") == metric).select(
            "source_id",
            pl.col("subject").alias("model"),
            pl.col("value").alias(stem),
            pl.col("low").alias(f"{stem}_low"),
            pl.col("high").alias(f"{stem}_high"),
            pl.col("figure_id").alias(f"{stem}_figure_id"),
        )
        runs = runs.join(values, on=["source_id", "model"], how="left")

    runs = runs.join(_tdp_for_runs(runs, figures), on=["source_id", "model"], how="left")
    runs = _apply_defaults(runs, factors)
    power = "power_per_accelerator_w"
    runs = runs.rename({"power_per_accelerator_reported_w_figure_id": "power_figure_id"}).with_columns(
        (pl.col("power_figure_id").is_null() & pl.col("tdp_w_figure_id").is_not_null()).alias("power_from_tdp"),
        # A TDP figure is an input only where the document gives no power of its own.
        pl.when(pl.col("power_figure_id").is_null()).then(pl.col("tdp_w_figure_id")).alias("tdp_w_figure_id"),
        *(
            pl.coalesce(_bound("power_per_accelerator_reported_w", b), _bound("tdp_w", b)).alias(f"{power}{b}")
            for b in _BOUNDS
        ),
        *(
            pl.coalesce(
                _bound("accelerator_hours_reported", b),
                _bound("accelerator_count", b) * _bound("training_duration_h", b),
            ).alias(f"accelerator_hours{b}")
            for b in _BOUNDS
        ),
    )
    runs = runs.with_columns(
        (pl.col(f"accelerator_hours{b}") * pl.col(f"{power}{b}") / 1e6).alias(f"accelerator_energy_mwh{b}")
        for b in _BOUNDS
    )
    runs = runs.with_columns(
        (pl.col(f"accelerator_energy_mwh{b}") * _bound("pue", b)).alias(f"energy_mwh{b}") for b in _BOUNDS
    )
    runs = runs.with_columns(
        *((pl.col(f"energy_mwh{b}") * _bound("carbon_intensity_kg_per_kwh", b)).alias(f"co2e_t{b}") for b in _BOUNDS),
        # L/kWh equals m³/MWh, so no factor is needed.
        *(
            (pl.col(f"accelerator_energy_mwh{b}") * _bound("wue_l_per_kwh", b)).alias(f"water_onsite_m3{b}")
            for b in _BOUNDS
        ),
        *((pl.col(f"energy_mwh{b}") * _bound("ewif_l_per_kwh", b)).alias(f"water_offsite_m3{b}") for b in _BOUNDS),
    )
    available = {
        "accelerator_hours": pl.col("accelerator_hours_low").is_not_null(),
        "power_per_accelerator": pl.col(f"{power}_low").is_not_null(),
        "pue": _bound("pue", "_low").is_not_null(),
        "grid_carbon_intensity": _bound("carbon_intensity_kg_per_kwh", "_low").is_not_null(),
        "wue": _bound("wue_l_per_kwh", "_low").is_not_null(),
        "ewif": _bound("ewif_l_per_kwh", "_low").is_not_null(),
    }
    runs = runs.with_columns(
        pl.concat_list(pl.when(~present).then(pl.lit(name)) for name, present in available.items())
        .list.drop_nulls()
        .alias("missing_inputs"),
        pl.concat_list(pl.col(f"_default_{name}") for name in DEFAULTABLE_INPUTS)
        .list.drop_nulls()
        .alias("defaulted_inputs"),
        _inputs_column().alias("inputs"),
    )
    enough = (
        pl.col("accelerator_hours_low").is_not_null()
        | pl.col("energy_mwh_reported").is_not_null()
        | pl.col("accelerator_energy_mwh_reported").is_not_null()
        | pl.col("co2e_t_reported").is_not_null()
        | pl.col("water_m3_reported").is_not_null()
    )
    return runs.filter(enough).select(TRAINING_RUN_COLUMNS).sort("model", "source_id")


def _apply_defaults(runs: pl.DataFrame, factors: pl.DataFrame | None) -> pl.DataFrame:
    """Fill PUE, grid intensity, WUE and EWIF from the default factors where the run's
    document gives neither a value nor a range; `_default_<input>` marks each use."""
    defaults = {} if factors is None else {row["factor"]: row for row in factors.iter_rows(named=True)}
    for name, stem in DEFAULTABLE_INPUTS.items():
        default = defaults.get(name)
        if default is None:
            runs = runs.with_columns(pl.lit(None, dtype=pl.String).alias(f"_default_{name}"))
            continue
        missing = pl.col(stem).is_null() & pl.col(f"{stem}_low").is_null() & pl.col(f"{stem}_high").is_null()
        runs = runs.with_columns(
            pl.when(missing).then(pl.lit(name)).alias(f"_default_{name}"),
            *(
                pl.when(missing).then(pl.lit(default[key], dtype=pl.Float64)).otherwise(pl.col(column)).alias(column)
                for key, column in (("value", stem), ("low", f"{stem}_low"), ("high", f"{stem}_high"))
            ),
            pl.when(missing)
            .then(pl.lit(default["figure_id"]))
            .otherwise(pl.col(f"{stem}_figure_id"))
            .alias(f"{stem}_figure_id"),
        )
    return runs


# Figure-id column of each input -> the input's name in training_runs.inputs.
_INPUT_FIGURE_COLUMNS = {
    **{f"{stem}_figure_id": metric for metric, stem in RUN_INPUTS.items() if metric != "power_per_accelerator"},
    "power_figure_id": "power_per_accelerator",
    "tdp_w_figure_id": "tdp",
}


def _inputs_column() -> pl.Expr:
    """Which figure each input came from, and whether from the run's own document,
    the hardware's TDP or a default factor."""
    entries = []
    for column, name in _INPUT_FIGURE_COLUMNS.items():
        if name == "tdp":
            origin = pl.lit("hardware_tdp")
        elif name in DEFAULTABLE_INPUTS:
            origin = (
                pl.when(pl.col(f"_default_{name}").is_not_null()).then(pl.lit("default")).otherwise(pl.lit("document"))
            )
        else:
            origin = pl.lit("document")
        entries.append(
            pl.when(pl.col(column).is_not_null()).then(
                pl.struct(pl.lit(name).alias("input"), pl.col(column).alias("figure_id"), origin.alias("origin"))
            )
        )
    return pl.concat_list(entries).list.drop_nulls()


def _tdp_for_runs(runs: pl.DataFrame, figures: pl.DataFrame) -> pl.DataFrame:
    """The TDP figure for each run's hardware: the run's own document first, else the
    first other document by id, so that the choice is stable."""
    tdp = figures.filter(pl.col("metric") == "tdp").select(
        pl.col("subject").alias("hardware"),
        pl.col("source_id").alias("tdp_source_id"),
        "figure_order",
        pl.col("value").alias("tdp_w"),
        pl.col("low").alias("tdp_w_low"),
        pl.col("high").alias("tdp_w_high"),
        pl.col("figure_id").alias("tdp_w_figure_id"),
    )
    candidates = runs.select("source_id", "model", "hardware").drop_nulls("hardware").join(tdp, on="hardware")
    return (
        candidates.sort(pl.col("tdp_source_id") != pl.col("source_id"), "tdp_source_id", "figure_order")
        .unique(["source_id", "model"], keep="first", maintain_order=True)
        .select("source_id", "model", "tdp_w", "tdp_w_low", "tdp_w_high", "tdp_w_figure_id")
    )


CLAIM_CHECK_COLUMNS = [
    "check_id",
    "kind",
    "figure_ids",
    "claimed_value",
    "expected_value",
    "unit",
    "relative_error",
    "tolerance",
    "status",
    "explanation",
]


def rounding_tolerance(text: str | None) -> float:
    """Relative half-unit of the last significant digit a number is written with.

    "2379" -> 0.5/2379; "61" -> 0.5/61; "100" -> 50/100 (trailing zeros of an
    integer are not taken as significant); "1.50" -> 0.005/1.5.
    """
    if text is None:
        return 0.0
    # The exponent does not change relative precision: "2.4e7" is as precise as "2.4".
    mantissa = text.strip().lower().lstrip("+-").partition("e")[0]
    if "." in mantissa:
        half_unit = 0.5 * 10.0 ** -len(mantissa.split(".")[1])
    else:
        digits = mantissa.lstrip("0")
        half_unit = 0.5 * 10.0 ** (len(digits) - len(digits.rstrip("0"))) if digits else 0.5
    value = abs(float(mantissa or 0))
    return half_unit / value if value else 0.0


def _interval_error(claimed: tuple[float, float], expected: tuple[float, float]) -> float:
    """Relative distance between two intervals (points are intervals of width 0);
    0 when they overlap."""
    (claimed_low, claimed_high), (expected_low, expected_high) = claimed, expected
    if claimed_high < expected_low:
        gap, scale = expected_low - claimed_high, abs(expected_low)
    elif claimed_low > expected_high:
        gap, scale = claimed_low - expected_high, abs(expected_high)
    else:
        return 0.0
    return gap / scale if scale else math.inf


def _fmt(value: float) -> str:
    return f"{value:.4g}"


def _relative(error: float) -> str:
    if error >= 10:
        return f"{error:.3g} times"
    return f"{error:.3%}" if 0 < error < 0.001 else f"{error:.1%}"


def claim_checks(figures: pl.DataFrame) -> pl.DataFrame:
    """Check every `equals` restatement: same quantity in another unit, or a physical
    equivalence (e.g. energy as water brought to the boil).

    Tolerance per kind: `restatement` allows the rounding of the claim's written
    digits; `physics` adds the equivalence's own allowance for its assumptions.
    """
    targets = figures.select(
        pl.col("figure_id").alias("equals_figure_id"),
        *(
            pl.col(c).alias(f"target_{c}")
            for c in (
                "metric",
                "value",
                "low",
                "high",
                "unit",
                "value_as_written",
                "low_as_written",
                "high_as_written",
                "unit_as_written",
            )
        ),
    )
    pairs = figures.filter(pl.col("equals_figure_id").is_not_null()).join(targets, on="equals_figure_id", how="inner")
    rows = []
    for pair in pairs.sort("source_id", "figure_order").iter_rows(named=True):
        unit = pair["unit"]
        target_bounds = [pair["target_low"], pair["target_value"], pair["target_high"]]
        equivalence = EQUIVALENCES.get(pair["metric"])
        if dimensionality(pair["target_unit"]) == dimensionality(unit):
            kind, allowance = "restatement", 0.0
            factor = conversion_factor(pair["target_unit"], unit)
            expected = [None if v is None else v * factor for v in target_bounds]
            how = "a change of unit"
        elif equivalence is not None:
            kind, allowance = "physics", equivalence.tolerance
            to_mwh = conversion_factor(pair["target_unit"], "MWh")
            to_unit = conversion_factor(equivalence.canonical_unit, unit)
            expected = [None if v is None else equivalence.convert(v * to_mwh) * to_unit for v in target_bounds]
            how = equivalence.explanation
        else:  # normalise refuses such links; nothing to compare
            continue
        claimed_interval = _interval(pair["low"], pair["value"], pair["high"])
        expected_interval = _interval(*expected)
        # A restatement converts the figure as written and rounds the result to the digits
        # it writes, so only the claim's own rounding is allowed for.
        written = [pair["value_as_written"], pair["low_as_written"], pair["high_as_written"]]
        tolerance = allowance + max(rounding_tolerance(text) for text in written)
        error = _interval_error(claimed_interval, expected_interval)
        status = "consistent" if error <= tolerance else "inconsistent"
        claimed_text = pair["value_as_written"] or f"{pair['low_as_written']}–{pair['high_as_written']}"
        target_text = (
            pair["target_value_as_written"] or f"{pair['target_low_as_written']}–{pair['target_high_as_written']}"
        )
        rows.append(
            {
                "check_id": f"{kind}:{pair['figure_id']}",
                "kind": kind,
                "figure_ids": [pair["figure_id"], pair["equals_figure_id"]],
                "claimed_value": _midpoint(claimed_interval) if pair["value"] is None else pair["value"],
                "expected_value": _midpoint(expected_interval) if expected[1] is None else expected[1],
                "unit": unit,
                "relative_error": error,
                "tolerance": tolerance,
                "status": status,
                "explanation": (
                    f"{claimed_text} {pair['unit_as_written']} = {_fmt(_midpoint(claimed_interval))} {unit}; "
                    f"{target_text} {pair['target_unit_as_written']} = {_fmt(_midpoint(expected_interval))} {unit} "
                    f"by {how}; off by {_relative(error)}, tolerance {_relative(tolerance)}"
                ),
            }
        )
    return pl.DataFrame(rows, schema=CLAIM_CHECK_SCHEMA).select(CLAIM_CHECK_COLUMNS)


def _interval(low: float | None, value: float | None, high: float | None) -> tuple[float, float]:
    if value is not None and low is None and high is None:
        return value, value
    return (low if low is not None else value), (high if high is not None else value)  # type: ignore[return-value]


def _midpoint(interval: tuple[float, float]) -> float:
    return (interval[0] + interval[1]) / 2


CLAIM_CHECK_SCHEMA = {
    "check_id": pl.String,
    "kind": pl.String,
    "figure_ids": pl.List(pl.String),
    "claimed_value": pl.Float64,
    "expected_value": pl.Float64,
    "unit": pl.String,
    "relative_error": pl.Float64,
    "tolerance": pl.Float64,
    "status": pl.String,
    "explanation": pl.String,
}
