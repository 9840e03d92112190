"""Asset checks: one blocking check per published table, generated from its pandera schema.

A failing check stops the build before anything is published; its failure cases
are attached as check metadata so the UI shows which rows and columns broke.
"""

from __future__ import annotations

import dagster as dg
import pandera.polars as pa
import polars as pl

from pipelines.assets.published import TABLE_ASSETS
from pipelines.metadata import markdown_table
from schemas.tables import PUBLISHED_TABLES

MAX_FAILURE_ROWS = 50


def validate_frame(frame: pl.DataFrame, schema: pa.DataFrameSchema) -> pl.DataFrame:
    """Failure cases of `frame` against `schema` (empty when it passes).

    The frame is eager, so pandera checks values as well as column types.
    """
    try:
        schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as errors:
        return errors.failure_cases
    return pl.DataFrame()


def schema_check(asset_key: dg.AssetKey, schema: pa.DataFrameSchema) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=asset_key,
        name=f"{schema.name}_matches_schema",
        blocking=True,
        description=f"Every row of {schema.name} matches its pandera schema (types, nulls, allowed values, keys).",
    )
    def _check(table: pl.DataFrame) -> dg.AssetCheckResult:
        failures = validate_frame(table, schema)
        return dg.AssetCheckResult(
            passed=failures.is_empty(),
            metadata={
                "failure_count": failures.height,
                "failure_cases": dg.MetadataValue.md(
                    markdown_table(failures.head(MAX_FAILURE_ROWS)) if failures.height else "none"
                ),
            },
        )

    return _check


SCHEMA_CHECKS = [schema_check(dg.AssetKey(key), PUBLISHED_TABLES[name]) for name, key in TABLE_ASSETS.items()]
