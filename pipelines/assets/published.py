"""Published layer: the DuckDB warehouse and Parquet files, swapped in whole."""

from __future__ import annotations

import dagster as dg
import polars as pl

from pipelines.lib import sql
from pipelines.lib.publish import DUCKDB_FILE, PARQUET_DIR, publish_to
from pipelines.lib.release import INFO_TABLE, info_frame, release_info
from pipelines.lib.upstream import UPSTREAM_TABLES
from pipelines.metadata import column_schema, markdown_table
from pipelines.resources import PROJECT_ROOT, SourcesResource, WarehouseResource
from schemas.tables import PUBLISHED_TABLES, RELEASE_INFO

# Published table name -> the asset that holds it.
TABLE_ASSETS = {
    "sources": ["normalised", "sources"],
    "entities": ["normalised", "entities"],
    "metrics": ["normalised", "metrics"],
    "boundaries": ["normalised", "boundaries"],
    "accounting_methods": ["normalised", "accounting_methods"],
    "statistics": ["normalised", "statistics"],
    "period_kinds": ["normalised", "period_kinds"],
    "figures": ["derived", "figures"],
    "factors": ["normalised", "factors"],
    "equivalences": ["normalised", "equivalences"],
    "training_runs": ["derived", "training_runs"],
    "run_locations": ["normalised", "run_locations"],
    "annual_metrics": ["derived", "annual_metrics"],
    "grid_measures": ["normalised", "grid_measures"],
    "grid": ["derived", "grid"],
    "grid_coverage": ["derived", "grid_coverage"],
    "per_request": ["derived", "per_request"],
    "intensities": ["derived", "intensities"],
    "claim_checks": ["derived", "claim_checks"],
    **{name: ["normalised", name] for name in UPSTREAM_TABLES},
}


@dg.asset(
    key=["published", "warehouse"],
    group_name="published",
    ins={name: dg.AssetIn(key=key) for name, key in TABLE_ASSETS.items()},
    description=(
        "`ai_footprints.duckdb` (tables, training macros, views) and `parquet/<table>.parquet` under the warehouse "
        "root: written as a new build, verified, and switched in whole only after every upstream asset and check "
        "has passed."
    ),
    kinds={"duckdb", "parquet"},
)
def warehouse(
    warehouse_root: WarehouseResource, source_tree: SourcesResource, **frames: pl.DataFrame
) -> dg.MaterializeResult:
    tables = {name: frames[name] for name in TABLE_ASSETS}
    # The warehouse says what it is too: an unreleased build of these sources.
    info = release_info(PROJECT_ROOT, source_tree.path, "unreleased")
    tables[INFO_TABLE] = info_frame(info, {name: frame.height for name, frame in tables.items()})
    schemas = {**PUBLISHED_TABLES, INFO_TABLE: RELEASE_INFO}
    published = publish_to(
        warehouse_root.root,
        tables,
        schemas,
        sql.statements(tables["grid_measures"]),
        duckdb_target=warehouse_root.duckdb_target or None,
    )
    preview = pl.DataFrame(
        {
            "table": list(tables),
            "rows": [published.row_counts[name] for name in tables],
            "columns": [frame.width for frame in tables.values()],
        }
    )
    return dg.MaterializeResult(
        metadata={
            "dagster/uri": dg.MetadataValue.path(f"{warehouse_root.root}/{DUCKDB_FILE}"),
            "parquet": dg.MetadataValue.path(f"{warehouse_root.root}/{PARQUET_DIR}"),
            "build": dg.MetadataValue.text(published.build_id),
            "dagster/row_count": dg.MetadataValue.int(sum(published.row_counts.values())),
            "preview": dg.MetadataValue.md(markdown_table(preview)),
            **{f"columns/{name}": column_schema(frame, schemas[name]) for name, frame in tables.items()},
        }
    )
