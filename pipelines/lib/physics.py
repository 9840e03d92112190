"""Physical equivalences that sources draw between quantities of different kinds.

A figure may restate another (`equals`) in a different dimension when physics links
them, e.g. "this much electricity could bring that much ice water to the boil".
Each equivalence names the metric it applies to, how to turn the other figure into
that metric's canonical unit, and the tolerance its assumptions allow.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipelines.lib.units import unit_registry

# Specific heat capacity of liquid water: "water has a specific heat of 4186 J/(kg C°)"
# (LibreTexts Physics, phys.libretexts.org); it varies by under 1 % between 0 and 100 °C.
WATER_SPECIFIC_HEAT_KJ_PER_KG_K = 4.186
WATER_DENSITY_KG_PER_M3 = 1000.0
# "Ice water to boiling": from 0 °C to 100 °C.
ICE_WATER_TO_BOILING_K = 100.0


@dataclass(frozen=True)
class Equivalence:
    """How a figure of `metric` restates an energy figure."""

    metric: str
    from_dimension: str
    canonical_unit: str
    explanation: str
    # Beyond rounding: sources rarely say the starting temperature (0-20 °C), so the
    # temperature rise may be 80-100 K; 25 % covers that.
    tolerance: float

    def convert(self, energy_mwh: float) -> float:
        """The energy (MWh) as a volume of water heated to boiling, in m³."""
        energy_kj = unit_registry().Quantity(energy_mwh, "MWh").to("kJ").magnitude
        mass_kg = energy_kj / (WATER_SPECIFIC_HEAT_KJ_PER_KG_K * ICE_WATER_TO_BOILING_K)
        return mass_kg / WATER_DENSITY_KG_PER_M3


WATER_HEATED_TO_BOILING = Equivalence(
    metric="water_heated_to_boiling",
    from_dimension=str(unit_registry().Quantity(1, "MWh").dimensionality),
    canonical_unit="m³",
    explanation=(
        f"energy / ({WATER_SPECIFIC_HEAT_KJ_PER_KG_K} kJ/(kg·K) × {ICE_WATER_TO_BOILING_K:g} K)"
        f" at {WATER_DENSITY_KG_PER_M3:g} kg/m³"
    ),
    tolerance=0.25,
)

EQUIVALENCES = {WATER_HEATED_TO_BOILING.metric: WATER_HEATED_TO_BOILING}
