"""The unit registry: every unit the sources write, and the errors for bad ones."""

from __future__ import annotations

import polars as pl
import pytest

from pipelines.lib.sources import load_sources, raw_frames
from pipelines.lib.units import UnitError, conversion_factor, conversion_factors
from tests.conftest import SOURCES


@pytest.mark.parametrize(
    ("value", "unit", "canonical", "expected"),
    [
        (2400, "万度", "MWh", 24_000),
        (61, "亿加仑", "m³", 23_091_011.8824),
        (64, "亿加仑", "m³", 24_226_635.4176),
        (2379, "万立方米", "m³", 23_790_000),
        (70, "万升", "m³", 700),
        (700_000, "liter", "m³", 700),
        (4.2, "billion cubic meter", "m³", 4.2e9),
        (42, "亿立方米", "m³", 4.2e9),
        (1.8, "万亿", "count", 1.8e12),
        (1750, "亿", "count", 1.75e11),
        (25_000, "块", "count", 25_000),
        (10, "万块", "count", 100_000),
        (3, "个月", "hour", 2191.5),
        (15, "天", "hour", 360),
        (400, "瓦", "W", 400),
        (8.8, "GW", "MW", 8800),
        (19.5, "亿 FLOP/s", "TFLOP/s", 0.00195),
        (19.5, "TFLOP/s", "TFLOP/s", 19.5),
        (3.3, "亿/平方毫米", "1/mm²", 3.3e8),
        (1, "亿瓦/立方米", "W/cm³", 100),
        (100, "奥运会标准游泳池", "m³", 250_000),
        (1, "olympic_pool", "m³", 2500),
        (17, "%", "percent", 17),
        (500, "ml", "mL", 500),
        (250, "立方米/小时", "m³/day", 6000),
        (10, "亿度", "MWh", 1_000_000),
        (5, "L/万度", "L/kWh", 0.0005),
        (2, "亿m³", "m³", 2e8),
        (30, "倍", "dimensionless", 30),
        (2, "billion gallon", "m³", 7_570_823.5680),
        (1, "tCO2e", "t", 1),
        (0.4, "kgCO2e/kWh", "kg/kWh", 0.4),
    ],
)
def test_units_convert_to_canonical(value: float, unit: str, canonical: str, expected: float) -> None:
    assert value * conversion_factor(unit, canonical) == pytest.approx(expected, rel=1e-9)


def test_water_mass_converts_to_volume_only_for_water_metrics() -> None:
    assert 4.3 * conversion_factor("万吨/天", "m³/day", water=True) == pytest.approx(43_000)
    assert conversion_factor("公斤", "L", water=True) == pytest.approx(1)
    with pytest.raises(UnitError, match="cannot convert"):
        conversion_factor("万吨/天", "m³/day")


def test_every_unit_the_sources_write_converts_to_its_metric_unit() -> None:
    raw = raw_frames(load_sources(SOURCES))
    pairs = raw["figures"].join(raw["metrics"].rename({"id": "metric", "unit": "canonical"}), on="metric")
    assert pairs.height == raw["figures"].height
    table = conversion_factors(
        pairs.select(
            pl.col("unit").alias("unit_as_written"),
            pl.col("canonical").alias("unit"),
            (pl.col("substance") == "water").fill_null(False).alias("water"),
        )
    ).frame
    assert table.filter(pl.col("unit_error").is_not_null()).is_empty(), table
    assert (table["conversion_factor"] > 0).all()


def test_each_distinct_pair_is_converted_once() -> None:
    pairs = pl.DataFrame(
        {"unit_as_written": ["万度"] * 1000 + ["GWh"], "unit": ["MWh"] * 1001, "water": [False] * 1001}
    )
    table = conversion_factors(pairs).frame
    assert table.height == 2
    assert dict(table.select("unit_as_written", "conversion_factor").iter_rows()) == {"万度": 10.0, "GWh": 1000.0}


def test_unknown_unit_is_named_in_the_error() -> None:
    with pytest.raises(UnitError, match="'furlongz' is not a unit"):
        conversion_factor("furlongz", "m")


def test_dimension_mismatch_names_both_units() -> None:
    with pytest.raises(UnitError, match=r"'GW' .* cannot convert to the canonical unit 'MWh'"):
        conversion_factor("GW", "MWh")
