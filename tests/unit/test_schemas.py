"""The pandera schemas catch bad values, and the generated Dagster checks block on them."""

from __future__ import annotations

import dagster as dg
import polars as pl
import pytest

from pipelines.checks import SCHEMA_CHECKS, validate_frame
from schemas.tables import FIGURES, PUBLISHED_TABLES


def test_every_published_table_matches_its_schema(tables: dict[str, pl.DataFrame]) -> None:
    assert set(tables) == set(PUBLISHED_TABLES)
    for name, schema in PUBLISHED_TABLES.items():
        assert validate_frame(tables[name], schema).is_empty(), name


@pytest.mark.parametrize(
    ("column", "bad_value", "check"),
    [
        ("basis", "rumoured", "isin"),
        ("conversion_factor", -1.0, "greater_than"),
        ("quote", "x" * 201, "str_length"),
        ("figure_id", "DUPLICATE", "uniqueness"),
    ],
)
def test_a_bad_value_fails_the_figures_schema(
    tables: dict[str, pl.DataFrame], column: str, bad_value, check: str
) -> None:
    bad = tables["figures"].with_columns(pl.lit(bad_value).cast(tables["figures"][column].dtype).alias(column))
    failures = validate_frame(bad, FIGURES)
    assert not failures.is_empty()
    assert failures["check"].str.contains(check).any(), failures


def test_a_missing_column_fails_the_schema(tables: dict[str, pl.DataFrame]) -> None:
    failures = validate_frame(tables["figures"].drop("quote"), FIGURES)
    assert failures["failure_case"].str.contains("quote").any()


def test_the_generated_blocking_check_fails_and_stops_downstream(tables: dict[str, pl.DataFrame]) -> None:
    bad_figures = tables["figures"].with_columns(pl.lit("rumoured").alias("basis"))

    @dg.asset(key=["derived", "figures"])
    def figures() -> pl.DataFrame:
        return bad_figures

    @dg.asset(key=["downstream"], ins={"figures": dg.AssetIn(key=["derived", "figures"])})
    def downstream(figures: pl.DataFrame) -> int:
        return figures.height

    check = next(c for c in SCHEMA_CHECKS if any(key.name == "figures_matches_schema" for key in c.check_keys))
    result = dg.materialize([figures, downstream, check], raise_on_error=False)
    assert not result.success
    (evaluation,) = result.get_asset_check_evaluations()
    assert evaluation.passed is False
    assert evaluation.metadata["failure_count"].value == bad_figures.height
    assert "rumoured" in evaluation.metadata["failure_cases"].value
    materialized = {event.asset_key for event in result.get_asset_materialization_events()}
    assert dg.AssetKey(["downstream"]) not in materialized
