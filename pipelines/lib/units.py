"""The project's one pint unit registry and vectorised unit conversion.

Everything that parses or converts a unit goes through here. Conversion is done
once per distinct (unit as written -> canonical unit) pair with pint, and the
resulting factors are applied to whole columns with polars.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pint
import polars as pl

DEFINITIONS_FILE = Path(__file__).with_name("unit_definitions.txt")

# Water written as a mass ("4.3万吨" of water) converts to volume at 1 kg per litre,
# the convention Chinese and industry sources use when they give water in tonnes.
WATER_DENSITY_KG_PER_L = 1.0

# A Chinese magnitude and the unit name (with its exponent) that follows it.
# 万亿 comes before 万 and 亿 so that the longest magnitude wins.
_CHINESE_MAGNITUDE = re.compile(r"(万亿|万|亿)\s*([^\s*/()^²³]*(?:\*\*-?\d+|\^-?\d+|[²³])?)")


def _group_chinese_magnitudes(text: str) -> str:
    """Make '2400万度'-style units parseable as one factor: '万度' -> '(万*度)',
    'L/万度' -> 'L/(万*度)', '亿/平方毫米' -> '(亿)/平方毫米'."""
    return _CHINESE_MAGNITUDE.sub(lambda m: f"({m[1]}*{m[2]})" if m[2] else f"({m[1]})", text)


@cache
def unit_registry() -> pint.UnitRegistry:
    """The single registry, extended with the units the sources write."""
    # cache_folder: pint keeps the parsed definitions in the user cache (a third of a second per start).
    registry = pint.UnitRegistry(autoconvert_offset_to_baseunit=True, cache_folder=":auto:")
    registry.load_definitions(str(DEFINITIONS_FILE))
    registry.preprocessors.append(_group_chinese_magnitudes)
    return registry


class UnitError(ValueError):
    """A unit that does not parse or cannot convert to the canonical unit."""


def parse_unit(text: str) -> pint.Unit:
    """Parse a unit string with the project registry, or raise UnitError."""
    if not text or not text.strip():
        raise UnitError("the unit is empty")
    try:
        return unit_registry().Quantity(1, text).units
    except Exception as exc:
        # pint's parser fails in several ways (some with an empty message); say which only when it says something.
        detail = f" ({type(exc).__name__}: {exc})" if str(exc).strip() else ""
        raise UnitError(f"'{text}' is not a unit the registry knows{detail}") from None


def conversion_factor(unit_as_written: str, canonical_unit: str, *, water: bool = False) -> float:
    """Multiply a value in `unit_as_written` by this to get `canonical_unit`.

    With `water=True` a mass converts to a volume (and back) at the density of water.
    """
    registry = unit_registry()
    source = registry.Quantity(1, parse_unit(unit_as_written))
    try:
        target = registry.Quantity(1, parse_unit(canonical_unit))
    except UnitError as exc:
        raise UnitError(f"the metric's canonical unit is wrong: {exc}") from None
    ratio = (source / target).to_base_units()
    if water and not ratio.dimensionless:
        # Divide out one density of water for each power of mass standing for a volume.
        density = registry.Quantity(WATER_DENSITY_KG_PER_L, "kg/L")
        power = ratio.dimensionality.get("[mass]", 0)
        adjusted = (ratio / density**power).to_base_units()
        if adjusted.dimensionless:
            ratio = adjusted
    if not ratio.dimensionless:
        raise UnitError(
            f"'{unit_as_written}' ({source.dimensionality}) cannot convert to "
            f"the canonical unit '{canonical_unit}' ({target.dimensionality})"
        )
    # 12 significant digits drop float noise (1e4 rather than 10000.000000000002).
    return float(f"{ratio.magnitude:.12g}")


@dataclass(frozen=True)
class FactorTable:
    """One row per distinct conversion pair: its factor, or why there is none."""

    frame: pl.DataFrame  # unit_as_written, unit, water, conversion_factor, unit_error


def conversion_factors(pairs: pl.DataFrame) -> FactorTable:
    """Compute the factor for each distinct (unit_as_written, unit, water) pair.

    `pairs` needs the columns `unit_as_written` (str), `unit` (canonical, str) and
    `water` (bool). Duplicates are fine; each pair is converted once.
    """
    distinct = pairs.select("unit_as_written", "unit", "water").unique().sort(pl.all())
    factors: list[float | None] = []
    errors: list[str | None] = []
    for written, canonical, water in distinct.iter_rows():
        try:
            factors.append(conversion_factor(written, canonical, water=water))
            errors.append(None)
        except UnitError as exc:
            factors.append(None)
            errors.append(str(exc))
    return FactorTable(
        distinct.with_columns(
            pl.Series("conversion_factor", factors, dtype=pl.Float64),
            pl.Series("unit_error", errors, dtype=pl.String),
        )
    )


# A float64 holds 15 significant decimal digits exactly; past them a product carries only
# binary noise (4.07 × 10⁶ = 4070000.0000000005).
SIGNIFICANT_DIGITS = 15


def _to_significant_digits(values: pl.Series) -> pl.Series:
    return pl.Series(
        values.name,
        [None if v is None else float(f"{v:.{SIGNIFICANT_DIGITS}g}") for v in values.to_list()],
        dtype=pl.Float64,
    )


def apply_factor(value: pl.Expr, factor: pl.Expr) -> pl.Expr:
    """`value` × `factor` (a column of factors from `conversion_factors`), kept to the digits a
    float holds exactly: 4.07 Mt is 4,070,000 t, not 4,070,000.0000000005."""
    return (value * factor).map_batches(_to_significant_digits, return_dtype=pl.Float64)


def dimensionality(unit: str) -> str:
    """The unit's physical dimension as text, e.g. '[length] ** 3'; UnitError if it does not parse."""
    return str(unit_registry().Quantity(1, parse_unit(unit)).dimensionality)
