"""The published tables made from upstream snapshots (`pipelines.lib.snapshots` reads them):
grid intensity by zone, cloud regions, measured inference energy and a model catalogue. Each
row keeps its snapshot and the upstream's own file and row key, which stand where a figure has
its document, locator and quote. Units are converted here, once, through the unit registry.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from pipelines.lib.entities import entity_lookup, name_key
from pipelines.lib.errors import SourceProblem
from pipelines.lib.snapshots import load_snapshots
from pipelines.lib.units import conversion_factor

PROVENANCE = ["snapshot", "upstream_file", "upstream_key"]
UPSTREAM_TABLES = ["snapshots", "grid_intensity", "cloud_regions", "inference_measurements", "models"]
# EcoLogits' warnings that say a zone's value is the world average standing in for it.
WORLD_STAND_INS = {
    "electricity-mix-wue-world": "wue",
    "electricity-mix-pe-world": "primary_energy",
}
# ML.ENERGY's tasks by what one output is.
OUTPUT_KINDS = {"text-to-image": "image", "text-to-video": "video"}
# CodeCarbon's provider codes -> the provider's name.
PROVIDERS = {"gcp": "Google Cloud", "aws": "Amazon Web Services", "azure": "Microsoft Azure"}


def grid_intensity(raw: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """One row per zone and snapshot: the carbon intensity of its electricity (kg CO2e/kWh)
    with the year it is for (where the upstream says), and the other factors the upstream gives
    (water and primary energy of generation, generation by source), marking values that are the
    world average standing in for the zone."""
    g_to_kg = conversion_factor("g/kWh", "kg/kWh")
    codecarbon = raw["codecarbon_energy_mix"].select(
        pl.col("iso_code").alias("zone"),
        pl.col("country_name").alias("zone_name"),
        pl.col("year").cast(pl.Int32),
        (pl.col("carbon_intensity") * g_to_kg).alias("co2e_kg_per_kwh"),
        pl.lit(None, pl.Float64).alias("wue_l_per_kwh"),
        pl.lit(None, pl.Float64).alias("primary_energy_mj_per_kwh"),
        pl.col("total_TWh").alias("generation_twh"),
        pl.col("renewables_TWh").alias("renewables_twh"),
        pl.col("low_carbon_TWh").alias("low_carbon_twh"),
        pl.lit([], pl.List(pl.String)).alias("world_stand_ins"),
        *PROVENANCE,
    )
    ecologits = raw["ecologits_electricity_mixes"].select(
        pl.col("name").alias("zone"),
        pl.lit(None, pl.String).alias("zone_name"),
        pl.lit(None, pl.Int32).alias("year"),
        pl.col("gwp").alias("co2e_kg_per_kwh"),  # EcoLogits' units are the columns' (kg/kWh, L/kWh, MJ/kWh)
        pl.col("wue").alias("wue_l_per_kwh"),
        pl.col("pe").alias("primary_energy_mj_per_kwh"),
        pl.lit(None, pl.Float64).alias("generation_twh"),
        pl.lit(None, pl.Float64).alias("renewables_twh"),
        pl.lit(None, pl.Float64).alias("low_carbon_twh"),
        pl.col("warnings")
        .fill_null("")
        .str.extract_all("electricity-mix-[a-z]+-world")
        .list.eval(pl.element().replace_strict(WORLD_STAND_INS, default=None))
        .list.drop_nulls()
        .alias("world_stand_ins"),
        *PROVENANCE,
    )
    return pl.concat([codecarbon, ecologits]).sort("zone", "snapshot")


def cloud_regions(raw: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """One row per cloud region, year (where given) and snapshot: where it is, Google's hourly
    carbon-free energy share, and the grid's carbon intensity with how it is counted."""
    g_to_kg = conversion_factor("g/kWh", "kg/kWh")
    google = raw["google_region_carbon"]
    direct, life_cycle = "Grid carbon intensity (gCO2eq / kWh)", "Lifecycle grid carbon intensity (gCO2eq / kWh)"
    google = google.select(
        pl.lit("Google Cloud").alias("provider"),
        pl.col("Google Cloud Region").alias("region"),
        pl.col("Location").alias("location"),
        pl.lit(None, pl.String).alias("country"),
        pl.col("year").cast(pl.Int32),
        (pl.col("Google CFE") * conversion_factor("dimensionless", "percent")).alias("carbon_free_energy_pct"),
        (pl.coalesce(direct, life_cycle) * g_to_kg).alias("co2e_kg_per_kwh"),
        pl.when(pl.col(direct).is_not_null())
        .then(pl.lit("operational"))
        .when(pl.col(life_cycle).is_not_null())
        .then(pl.lit("life_cycle"))
        .alias("intensity_basis"),
        pl.lit(None, pl.String).alias("upstream_source"),
        *PROVENANCE,
    )
    codecarbon = raw["codecarbon_cloud_regions"].select(
        pl.col("provider").replace_strict(PROVIDERS, default=pl.col("provider")).alias("provider"),
        "region",
        pl.coalesce("city", "country_name").alias("location"),
        pl.col("countryIsoCode").alias("country"),
        pl.lit(None, pl.Int32).alias("year"),
        pl.lit(None, pl.Float64).alias("carbon_free_energy_pct"),
        (pl.col("impact") * g_to_kg).alias("co2e_kg_per_kwh"),
        pl.lit("unstated").alias("intensity_basis"),
        pl.col("source").alias("upstream_source"),
        *PROVENANCE,
    )
    return pl.concat([google, codecarbon]).sort("provider", "region", "year", "snapshot", nulls_last=True)


def _with_entity(frame: pl.DataFrame, column: str, entities: pl.DataFrame) -> pl.DataFrame:
    """The frame with `entity`: the one whose name or alias `column` is, where there is one."""
    lookup = entity_lookup(entities).select("key", "entity")
    return frame.with_columns(name_key(column).alias("key")).join(lookup, on="key", how="left").drop("key")


def inference_measurements(raw: dict[str, pl.DataFrame], entities: pl.DataFrame) -> pl.DataFrame:
    """One row per measured configuration: the model (its entity where an entity's name or
    alias is the model's id), the hardware and batch, and the GPU energy per output (a
    response, an image or a video) in Wh, per token in J, and the average GPU power."""
    runs = raw["ml_energy_runs"]
    j_to_wh = conversion_factor("J", "Wh")
    return (
        _with_entity(runs, "model_id", entities)
        .select(
            pl.col("entity").alias("model"),
            "model_id",
            "nickname",
            "task",
            pl.col("task").replace_strict(OUTPUT_KINDS, default="response").alias("output_kind"),
            "architecture",
            "total_params_billions",
            pl.col("activated_params_billions").alias("active_params_billions"),
            "weight_precision",
            "gpu_model",
            pl.col("num_gpus").cast(pl.Int32),
            pl.coalesce("max_num_seqs", "batch_size").cast(pl.Int32).alias("batch_size"),
            "avg_batch_size",
            pl.col("avg_output_len").alias("avg_output_tokens"),
            (pl.coalesce("energy_per_request_joules", "energy_per_image_joules", "energy_per_video_joules") * j_to_wh)
            .alias("energy_per_output_wh"),
            pl.col("energy_per_token_joules").alias("energy_per_token_j"),
            pl.col("avg_power_watts").alias("avg_power_w"),
            pl.col("output_throughput_tokens_per_sec").alias("output_tokens_per_s"),
            "median_itl_ms",
            pl.col("tensor_parallel").cast(pl.Int32),
            pl.lit("accelerators").alias("boundary"),
            pl.lit("mean").alias("statistic"),
            *PROVENANCE,
        )
        .sort("model_id", "task", "gpu_model", "num_gpus", "batch_size", "upstream_key")
    )  # fmt: skip


def models(raw: dict[str, pl.DataFrame], entities: pl.DataFrame) -> pl.DataFrame:
    """EcoLogits' catalogue: one row per provider and model name, joined to our entity where
    an entity's name or alias is the model's name; parameter counts in billions as low and high
    ends (equal where the catalogue gives one number)."""
    return (
        _with_entity(raw["ecologits_models"], "name", entities)
        .select(
            "provider",
            "name",
            pl.col("entity").alias("model"),
            "architecture",
            pl.col("total_params_low").alias("total_params_low_billions"),
            pl.col("total_params_high").alias("total_params_high_billions"),
            pl.col("active_params_low").alias("active_params_low_billions"),
            pl.col("active_params_high").alias("active_params_high_billions"),
            pl.col("warnings").fill_null("").str.split(";").list.eval(pl.element().filter(pl.element() != "")),
            pl.col("sources").fill_null("").str.split(" ").list.eval(pl.element().filter(pl.element() != "")),
            *PROVENANCE,
        )
        .sort("provider", "name")
    )


def upstream_tables(raw: dict[str, pl.DataFrame], entities: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """Every published table made from snapshots."""
    return {
        "snapshots": raw["snapshots"],
        "grid_intensity": grid_intensity(raw),
        "cloud_regions": cloud_regions(raw),
        "inference_measurements": inference_measurements(raw, entities),
        "models": models(raw, entities),
    }


def snapshot_tables(root: Path, entities: pl.DataFrame) -> tuple[dict[str, pl.DataFrame], list[SourceProblem]]:
    """The published tables of every snapshot under root/snapshots, and every problem found
    (in metadata, checksums, columns, values or zone codes)."""
    raw, problems = load_snapshots(root)
    return upstream_tables(raw, entities), problems
