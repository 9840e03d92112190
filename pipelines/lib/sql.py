"""SQL published inside the DuckDB warehouse: macros that apply the training formulas, and views.

The macros are the training formulas (docs/methods.md) for people estimating their own
runs; tests check that they give what the `training_runs` asset computes. The view
`grid_wide` has one column per measure of the headline grid, as `grid_measures` defines them.
"""

from __future__ import annotations

import polars as pl

# name -> (parameters, body, description with an example)
MACROS: dict[str, tuple[str, str, str]] = {
    "training_energy_mwh": (
        "accelerator_hours, watts, pue",
        "accelerator_hours * watts * pue / 1e6",
        "Training energy in MWh: accelerator-hours × average watts per accelerator × PUE. "
        "Example: training_energy_mwh(1e6, 400, 1.1) = 440.",
    ),
    "training_co2e_t": (
        "energy_mwh, kg_per_kwh",
        "energy_mwh * kg_per_kwh",
        "Training emissions in t CO2e: energy (MWh) × grid intensity (kg/kWh equals t/MWh). "
        "Example: training_co2e_t(440, 0.4) = 176.",
    ),
    "training_water_onsite_m3": (
        "energy_mwh, pue, wue_l_per_kwh",
        "energy_mwh / pue * wue_l_per_kwh",
        "On-site (cooling) water in m³: IT energy (energy / PUE) × WUE (L/kWh equals m³/MWh). "
        "Example: training_water_onsite_m3(440, 1.1, 1.8) = 720.",
    ),
    "training_water_offsite_m3": (
        "energy_mwh, ewif_l_per_kwh",
        "energy_mwh * ewif_l_per_kwh",
        "Off-site (electricity generation) water in m³: energy × EWIF. "
        "Example: training_water_offsite_m3(440, 3.1) = 1364.",
    ),
    "training_water_m3": (
        "energy_mwh, pue, wue_l_per_kwh, ewif_l_per_kwh",
        "energy_mwh / pue * wue_l_per_kwh + energy_mwh * ewif_l_per_kwh",
        "On-site plus off-site water in m³. Example: training_water_m3(440, 1.1, 1.8, 3.1) = 2084.",
    ),
}

VIEWS: dict[str, tuple[str, str]] = {
    "training_run_inputs": (
        "SELECT model, source_id, unnest(inputs, recursive := true) FROM training_runs",
        "One row per input of each training run: which figure it is and whether it came from the run's "
        "document, the hardware's TDP or a default factor.",
    ),
    "per_request_compared": (
        "SELECT subject AS model, 'document' AS kind, quantity, NULL AS output_kind, value, low, high, unit, boundary,"
        " statistic, source_id AS source, figure_id AS reference, NULL AS gpu_model, NULL AS num_gpus,"
        " NULL AS batch_size, scope AS setting FROM per_request"
        " UNION ALL "
        "SELECT model, 'measured', 'energy', output_kind, energy_per_output_wh, NULL, NULL, 'Wh', boundary,"
        " statistic, snapshot, upstream_file || '#' || upstream_key, gpu_model, num_gpus, batch_size, task"
        " FROM inference_measurements WHERE model IS NOT NULL",
        "Every per-request figure of a model side by side: what documents disclose or estimate (per_request) and "
        "what was measured (inference_measurements, GPU energy per response, image or video), each with its "
        "boundary: measured GPU energy is the accelerators; a provider's figure may be the full stack.",
    ),
}


def _text(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def grid_wide_view(grid_measures: pl.DataFrame) -> str:
    """grid_wide: one row per organisation and year of `grid`, one column per measure (its
    preferred row's value, in the column's unit)."""
    columns = ",\n  ".join(
        f'max(value) FILTER (WHERE measure = {_text(measure)}) AS "{column}"'
        for measure, column in grid_measures.sort("position").select("measure", "wide_column").iter_rows()
    )
    return (
        f"SELECT organisation, year,\n  {columns}\nFROM grid WHERE preferred\n"
        "GROUP BY organisation, year ORDER BY organisation, year"
    )


GRID_WIDE_DESCRIPTION = (
    "One row per organisation and year of the grid table, one column per measure (grid_measures.wide_column): "
    "the value of the preferred boundary and metric."
)


def statements(grid_measures: pl.DataFrame | None = None) -> list[str]:
    """CREATE statements for every macro and view, with their comments; with the grid's
    measures, also the grid_wide view."""
    result = []
    for name, (parameters, body, _) in MACROS.items():
        result.append(f"CREATE MACRO {name}({parameters}) AS {body}")
    views = dict(VIEWS)
    if grid_measures is not None:
        views["grid_wide"] = (grid_wide_view(grid_measures), GRID_WIDE_DESCRIPTION)
    for name, (query, description) in views.items():
        result.append(f"CREATE VIEW {name} AS {query}")
        result.append(f"COMMENT ON VIEW {name} IS {_text(description)}")
    return result
