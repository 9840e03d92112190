"""SQL published inside the DuckDB warehouse: macros that apply the training formulas, and views.

The macros are the contract's formulas (section 3) for people estimating their own
runs; tests check that they give what the `training_runs` asset computes.
"""

from __future__ import annotations

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
}


def statements() -> list[str]:
    """CREATE statements for every macro and view, with their comments."""
    result = []
    for name, (parameters, body, _) in MACROS.items():
        result.append(f"CREATE MACRO {name}({parameters}) AS {body}")
    for name, (query, description) in VIEWS.items():
        result.append(f"CREATE VIEW {name} AS {query}")
        result.append(f"COMMENT ON VIEW {name} IS '{description.replace(chr(39), chr(39) * 2)}'")
    return result
