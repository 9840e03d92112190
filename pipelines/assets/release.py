"""Release layer: a versioned, verifiable bundle made from the published warehouse."""

from pathlib import Path

import dagster as dg

from pipelines.lib.release import INFO_TABLE, release_warehouse
from pipelines.resources import PROJECT_ROOT, SourcesResource, WarehouseResource
from schemas.tables import PUBLISHED_TABLES, RELEASE_INFO


class ReleaseConfig(dg.Config):
    """Leave empty for today's CalVer, the previous release, and the commit's time."""

    version: str = ""
    previous: str = ""
    build_time: str = ""


@dg.asset(
    key=["published", "release"],
    group_name="published",
    deps=[dg.AssetKey(["published", "warehouse"])],
    description=(
        "`warehouse/releases/<version>/`: every table as Parquet, the DuckDB file with release_info, "
        "datapackage.json, CHANGELOG.md against the previous release, SHA256SUMS and one zip."
    ),
    kinds={"parquet", "duckdb"},
)
def release(
    config: ReleaseConfig, warehouse_root: WarehouseResource, source_tree: SourcesResource
) -> dg.MaterializeResult:
    released = release_warehouse(
        warehouse_root.root,
        {**PUBLISHED_TABLES, INFO_TABLE: RELEASE_INFO},
        PROJECT_ROOT,
        source_tree.path,
        version=config.version,
        previous=Path(config.previous) if config.previous else None,
        build_time=config.build_time,
    )
    return dg.MaterializeResult(
        metadata={
            "dagster/uri": dg.MetadataValue.path(released.location),
            "version": released.info.version,
            "previous": released.previous or "none",
            "built_at": released.info.built_at.isoformat(),
            "changelog": dg.MetadataValue.md(released.changelog[:20000]),
        }
    )
