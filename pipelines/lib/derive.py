"""The derived layer: training runs by the formulas of docs/methods.md.

Inputs are normalised figures (canonical units); which metric supplies which column is
data (`metrics.yaml`, `uses.training_runs`). Formulas: accelerator-hours = hours, else
count × duration; energy = hours × power × PUE; CO2e = energy × grid intensity; on-site
water = (energy / PUE) × WUE; off-site water = energy × EWIF. Ranges (low/high) go
through the same formulas, and every unit step through the unit registry, from the
metrics' canonical units to the columns' units.
"""

from __future__ import annotations

import polars as pl

from pipelines.lib.units import conversion_factor

# The column stem of each input whose formula the code spells out; `metrics.yaml` names
# the metric that supplies it (uses.training_runs), so the two must agree.
TDP_STEM = "tdp_w"
POWER_STEM = "power_per_accelerator_reported_w"
# Inputs a cited default factor (sources/factors.yaml) may stand in for: factor -> stem.
DEFAULTABLE_INPUTS = {
    "pue": "pue",
    "grid_carbon_intensity": "carbon_intensity_kg_per_kwh",
    "wue": "wue_l_per_kwh",
    "ewif": "ewif_l_per_kwh",
}
# Stem -> the unit its column holds (where the stem's name does not say it is dimensionless).
STEM_UNITS = {
    "accelerator_hours_reported": "hour",
    "training_duration_h": "hour",
    POWER_STEM: "W",
    TDP_STEM: "W",
    "carbon_intensity_kg_per_kwh": "kg/kWh",
    "wue_l_per_kwh": "L/kWh",
    "ewif_l_per_kwh": "L/kWh",
    "energy_mwh_reported": "MWh",
    "accelerator_energy_mwh_reported": "MWh",
    "co2e_t_reported": "t",
    "water_m3_reported": "m³",
}

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
    "power_statistic",
    "power_boundary",
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
    "inputs_with_alternatives",
    "location",
    "zone",
    "carbon_intensity_origin",
    "carbon_intensity_year",
    "carbon_intensity_snapshot",
    "carbon_intensity_upstream_key",
]
INTENSITY_STEM = DEFAULTABLE_INPUTS["grid_carbon_intensity"]

_BOUNDS = ("", "_low", "_high")


def _bound(stem: str, bound: str) -> pl.Expr:
    """An input at one bound: low/high fall back to the value where no range is given."""
    if bound == "":
        return pl.col(stem)
    return pl.coalesce(pl.col(f"{stem}{bound}"), pl.col(stem))


def run_inputs(metrics: pl.DataFrame) -> dict[str, str]:
    """Metric -> the training_runs column stem it supplies (TDP, a hardware figure, aside)."""
    return {
        metric: stem
        for metric, stem in metrics.filter(pl.col("training_column").is_not_null())
        .select("metric", "training_column")
        .iter_rows()
        if stem != TDP_STEM
    }


def _stem_factors(metrics: pl.DataFrame) -> dict[str, float]:
    """Stem -> factor from its metric's canonical unit to the unit its column holds."""
    units = dict(metrics.select("training_column", "unit").drop_nulls().iter_rows())
    return {stem: conversion_factor(units[stem], unit) for stem, unit in STEM_UNITS.items() if stem in units}


def training_runs(
    figures: pl.DataFrame,
    metrics: pl.DataFrame,
    factors: pl.DataFrame | None = None,
    run_locations: pl.DataFrame | None = None,
    grid_intensity: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """One row per (model, document) that gives accelerator-hours or a reported footprint.

    Inputs come from the run's own document; power falls back to the hardware's TDP
    figure; grid intensity to the zone's where the document says where the run ran
    (`run_locations`, the upstream `grid_intensity` nearest the run's year); then PUE,
    grid intensity, WUE and EWIF to the default `factors`.
    """
    inputs = run_inputs(metrics)
    scale = _stem_factors(metrics)
    all_run_figures = figures.filter((pl.col("subject_type") == "model") & pl.col("metric").is_in(list(inputs)))
    # Where a document gives one input twice (another scope, a total), the first figure is used
    # and the input is listed in `inputs_with_alternatives`; the others stay in `figures`.
    alternatives = (
        all_run_figures.group_by("source_id", pl.col("subject").alias("model"), "metric")
        .len()
        .filter(pl.col("len") > 1)
        .group_by("source_id", "model")
        .agg(pl.col("metric").sort().alias("inputs_with_alternatives"))
    )
    run_figures = all_run_figures.sort("source_id", "figure_order").unique(
        ["source_id", "subject", "metric"], keep="first", maintain_order=True
    )
    runs = run_figures.select("source_id", pl.col("subject").alias("model")).unique(maintain_order=True)
    hardware = (
        run_figures.drop_nulls("hardware")
        .group_by("source_id", pl.col("subject").alias("model"), maintain_order=True)
        .agg(pl.col("hardware").first())
    )
    runs = runs.join(hardware, on=["source_id", "model"], how="left").join(
        alternatives, on=["source_id", "model"], how="left"
    )
    for metric, stem in inputs.items():
        factor = scale.get(stem, 1.0)
        values = run_figures.filter(pl.col("metric") == metric).select(
            "source_id",
            pl.col("subject").alias("model"),
            (pl.col("value") * factor).alias(stem),
            (pl.col("low") * factor).alias(f"{stem}_low"),
            (pl.col("high") * factor).alias(f"{stem}_high"),
            pl.col("figure_id").alias(f"{stem}_figure_id"),
            *(
                [pl.col("statistic").alias("power_statistic"), pl.col("boundary").alias("power_boundary")]
                if stem == POWER_STEM
                else []
            ),
        )
        runs = runs.join(values, on=["source_id", "model"], how="left")

    runs = runs.join(
        _tdp_for_runs(runs, figures, metrics, scale.get(TDP_STEM, 1.0)), on=["source_id", "model"], how="left"
    )
    power = "power_per_accelerator_w"
    runs = runs.rename({f"{POWER_STEM}_figure_id": "power_figure_id"}).with_columns(
        (pl.col("power_figure_id").is_null() & pl.col("tdp_w_figure_id").is_not_null()).alias("power_from_tdp"),
        # What kind of power the energy rests on: a measured average, a peak, a rating (TDP).
        pl.when(pl.col("power_figure_id").is_not_null())
        .then(pl.col("power_statistic"))
        .when(pl.col("tdp_w_figure_id").is_not_null())
        .then(pl.lit("rated"))
        .alias("power_statistic"),
        pl.when(pl.col("power_figure_id").is_not_null())
        .then(pl.col("power_boundary"))
        .when(pl.col("tdp_w_figure_id").is_not_null())
        .then(pl.col("tdp_boundary"))
        .alias("power_boundary"),
        # A TDP figure is an input only where the document gives no power of its own.
        pl.when(pl.col("power_figure_id").is_null()).then(pl.col("tdp_w_figure_id")).alias("tdp_w_figure_id"),
        *(pl.coalesce(_bound(POWER_STEM, b), _bound(TDP_STEM, b)).alias(f"{power}{b}") for b in _BOUNDS),
        *(
            pl.coalesce(
                _bound("accelerator_hours_reported", b),
                _bound("accelerator_count", b) * _bound("training_duration_h", b),
            ).alias(f"accelerator_hours{b}")
            for b in _BOUNDS
        ),
    )
    runs = _zone_default(runs, run_locations, grid_intensity)
    runs = _apply_defaults(runs, factors)
    gci = "_default_grid_carbon_intensity"
    runs = runs.with_columns(
        pl.when(pl.col("_zone_default")).then(pl.lit("grid_carbon_intensity")).otherwise(pl.col(gci)).alias(gci),
        pl.when(pl.col("_zone_default"))
        .then(pl.lit("zone_default"))
        .when(pl.col(gci).is_not_null())
        .then(pl.lit("default"))
        .when(pl.col(f"{INTENSITY_STEM}_figure_id").is_not_null())
        .then(pl.lit("document"))
        .alias("carbon_intensity_origin"),
    )
    to_mwh = conversion_factor("hour * W", "MWh")
    to_t = conversion_factor("MWh * kg/kWh", "t")
    to_m3 = conversion_factor("MWh * L/kWh", "m³")
    # A power that already includes the data centre's overhead (a model card's power "adjusted
    # for PUE") gives the facility's energy itself; any other gives the accelerators' energy, × PUE.
    with_overhead = pl.col("power_boundary") == "facility"
    drawn = {b: pl.col(f"accelerator_hours{b}") * pl.col(f"{power}{b}") * to_mwh for b in _BOUNDS}
    runs = runs.with_columns(
        pl.when(~with_overhead).then(drawn[b]).alias(f"accelerator_energy_mwh{b}") for b in _BOUNDS
    )
    runs = runs.with_columns(
        pl.when(with_overhead)
        .then(drawn[b])
        .otherwise(pl.col(f"accelerator_energy_mwh{b}") * _bound("pue", b))
        .alias(f"energy_mwh{b}")
        for b in _BOUNDS
    )
    runs = runs.with_columns(
        *(
            (pl.col(f"energy_mwh{b}") * _bound("carbon_intensity_kg_per_kwh", b) * to_t).alias(f"co2e_t{b}")
            for b in _BOUNDS
        ),
        # On-site water is per unit of IT energy: the facility's energy ÷ PUE.
        *(
            (pl.col(f"energy_mwh{b}") / _bound("pue", b) * _bound("wue_l_per_kwh", b) * to_m3).alias(
                f"water_onsite_m3{b}"
            )
            for b in _BOUNDS
        ),
        *(
            (pl.col(f"energy_mwh{b}") * _bound("ewif_l_per_kwh", b) * to_m3).alias(f"water_offsite_m3{b}")
            for b in _BOUNDS
        ),
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
        _inputs_column(inputs).alias("inputs"),
    )
    enough = (
        pl.col("accelerator_hours_low").is_not_null()
        | pl.col("energy_mwh_reported").is_not_null()
        | pl.col("accelerator_energy_mwh_reported").is_not_null()
        | pl.col("co2e_t_reported").is_not_null()
        | pl.col("water_m3_reported").is_not_null()
    )
    return (
        runs.filter(enough)
        .with_columns(pl.col("inputs_with_alternatives").fill_null([]))
        .select(TRAINING_RUN_COLUMNS)
        .sort("model", "source_id")
    )


def _computable() -> pl.Expr:
    """Runs whose accelerator energy can be computed: elsewhere a default would feed nothing."""
    return pl.col("accelerator_hours_low").is_not_null() & pl.col("power_per_accelerator_w_low").is_not_null()


def _without(stem: str) -> pl.Expr:
    """Runs whose document gives neither a value nor a range of this input."""
    return pl.col(stem).is_null() & pl.col(f"{stem}_low").is_null() & pl.col(f"{stem}_high").is_null()


def _zone_intensities(run_locations: pl.DataFrame, grid_intensity: pl.DataFrame) -> pl.DataFrame:
    """For each located run, its zone's grid intensity in the upstream snapshots: the row of the
    year nearest the run's (the later of two as near), a dated row before an undated one."""
    rows = grid_intensity.filter(pl.col("co2e_kg_per_kwh").is_not_null()).select(
        "zone",
        pl.col("year").alias("carbon_intensity_year"),
        pl.col("co2e_kg_per_kwh").alias("_zone_intensity"),
        pl.col("snapshot").alias("carbon_intensity_snapshot"),
        pl.col("upstream_key").alias("carbon_intensity_upstream_key"),
    )
    return (
        run_locations.select("model", "source_id", "location", "zone", pl.col("year").alias("_run_year"))
        .join(rows, on="zone", how="left")
        .sort(
            pl.col("carbon_intensity_year").is_null(),
            (pl.col("carbon_intensity_year") - pl.col("_run_year")).abs(),
            pl.col("carbon_intensity_year"),
            "carbon_intensity_snapshot",
            descending=[False, False, True, False],
            nulls_last=True,
        )
        .unique(["model", "source_id"], keep="first", maintain_order=True)
        .drop("_run_year")
    )


def _zone_default(
    runs: pl.DataFrame, run_locations: pl.DataFrame | None, grid_intensity: pl.DataFrame | None
) -> pl.DataFrame:
    """Grid intensity from the run's zone where its document says where it ran but gives no
    intensity (and its energy can be computed); `_zone_default` marks each use, and the
    carbon_intensity_* columns name the snapshot row."""
    zone_columns = {
        "location": pl.String,
        "zone": pl.String,
        "carbon_intensity_year": pl.Int32,
        "_zone_intensity": pl.Float64,
        "carbon_intensity_snapshot": pl.String,
        "carbon_intensity_upstream_key": pl.String,
    }
    if run_locations is None or grid_intensity is None:
        zones = pl.DataFrame(schema={"model": pl.String, "source_id": pl.String, **zone_columns})
    else:
        zones = _zone_intensities(run_locations, grid_intensity)
    runs = runs.join(zones, on=["source_id", "model"], how="left")
    use = _computable() & _without(INTENSITY_STEM) & pl.col("_zone_intensity").is_not_null()
    return runs.with_columns(
        use.alias("_zone_default"),
        *(
            pl.when(use).then(pl.col("_zone_intensity")).otherwise(pl.col(column)).alias(column)
            for column in (INTENSITY_STEM, f"{INTENSITY_STEM}_low", f"{INTENSITY_STEM}_high")
        ),
        *(
            pl.when(use).then(pl.col(column)).alias(column)
            for column in ("carbon_intensity_year", "carbon_intensity_snapshot", "carbon_intensity_upstream_key")
        ),
    )


def _apply_defaults(runs: pl.DataFrame, factors: pl.DataFrame | None) -> pl.DataFrame:
    """Fill PUE, grid intensity, WUE and EWIF from the default factors where the run's
    document gives neither a value nor a range, and only for runs whose accelerator
    energy can be computed (elsewhere a default would feed nothing); `_default_<input>`
    marks each use."""
    defaults = {} if factors is None else {row["factor"]: row for row in factors.iter_rows(named=True)}
    for name, stem in DEFAULTABLE_INPUTS.items():
        default = defaults.get(name)
        if default is None:
            runs = runs.with_columns(pl.lit(None, dtype=pl.String).alias(f"_default_{name}"))
            continue
        missing = _computable() & _without(stem)
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


def _inputs_column(inputs: dict[str, str]) -> pl.Expr:
    """Which figure each input came from, and whether from the run's own document, the
    hardware's TDP, a default factor, or (grid intensity, no figure) its zone's snapshot row."""
    columns = {
        **{f"{stem}_figure_id": metric for metric, stem in inputs.items() if stem != POWER_STEM},
        "power_figure_id": "power_per_accelerator",
        f"{TDP_STEM}_figure_id": "tdp",
    }
    entries = []
    for column, name in columns.items():
        present = pl.col(column).is_not_null()
        if name == "tdp":
            origin = pl.lit("hardware_tdp")
        elif name == "grid_carbon_intensity":
            present = present | pl.col("_zone_default")
            origin = pl.col("carbon_intensity_origin")
        elif name in DEFAULTABLE_INPUTS:
            origin = (
                pl.when(pl.col(f"_default_{name}").is_not_null()).then(pl.lit("default")).otherwise(pl.lit("document"))
            )
        else:
            origin = pl.lit("document")
        entries.append(
            pl.when(present).then(
                pl.struct(pl.lit(name).alias("input"), pl.col(column).alias("figure_id"), origin.alias("origin"))
            )
        )
    return pl.concat_list(entries).list.drop_nulls()


def _tdp_for_runs(runs: pl.DataFrame, figures: pl.DataFrame, metrics: pl.DataFrame, factor: float) -> pl.DataFrame:
    """The TDP figure for each run's hardware: the run's own document first, else the
    first other document by id, so that the choice is stable."""
    tdp_metrics = metrics.filter(pl.col("training_column") == TDP_STEM)["metric"].to_list()
    tdp = figures.filter(pl.col("metric").is_in(tdp_metrics)).select(
        pl.col("subject").alias("hardware"),
        pl.col("source_id").alias("tdp_source_id"),
        "figure_order",
        (pl.col("value") * factor).alias("tdp_w"),
        (pl.col("low") * factor).alias("tdp_w_low"),
        (pl.col("high") * factor).alias("tdp_w_high"),
        pl.col("figure_id").alias("tdp_w_figure_id"),
        pl.col("boundary").alias("tdp_boundary"),
    )
    candidates = runs.select("source_id", "model", "hardware").drop_nulls("hardware").join(tdp, on="hardware")
    return (
        candidates.sort(pl.col("tdp_source_id") != pl.col("source_id"), "tdp_source_id", "figure_order")
        .unique(["source_id", "model"], keep="first", maintain_order=True)
        .select("source_id", "model", "tdp_w", "tdp_w_low", "tdp_w_high", "tdp_w_figure_id", "tdp_boundary")
    )
