"""Release layer: a versioned, verifiable bundle made from the published warehouse."""

from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import polars as pl

from pipelines.lib import sql
from pipelines.lib.publish import PARQUET_DIR
from pipelines.lib.release import (
    RELEASES_DIR,
    check_version,
    next_version,
    previous_release,
    release_info,
    write_release,
)
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
        "warehouse/releases/<version>/: every table as Parquet, the DuckDB file with release_info, "
        "datapackage.json, CHANGELOG.md against the previous release, SHA256SUMS and one zip."
    ),
    kinds={"parquet", "duckdb"},
)
def release(
    config: ReleaseConfig, warehouse_root: WarehouseResource, source_tree: SourcesResource
) -> dg.MaterializeResult:
    releases = warehouse_root.path / RELEASES_DIR
    version = check_version(config.version) if config.version else next_version(releases, datetime.now(UTC).date())
    tables = {name: pl.read_parquet(warehouse_root.path / PARQUET_DIR / f"{name}.parquet") for name in PUBLISHED_TABLES}
    # The warehouse says which sources it was built from; a release describes that, not today's tree.
    built_from = pl.read_parquet(warehouse_root.path / PARQUET_DIR / "release_info.parquet")["source_tree_hash"][0]
    info = release_info(PROJECT_ROOT, source_tree.path, version, config.build_time or None, built_from)
    previous = Path(config.previous) if config.previous else previous_release(releases, version)
    folder = write_release(
        tables, {**PUBLISHED_TABLES, "release_info": RELEASE_INFO}, sql.statements(), releases, info, previous
    )
    return dg.MaterializeResult(
        metadata={
            "dagster/uri": dg.MetadataValue.path(str(folder)),
            "version": version,
            "previous": str(previous) if previous else "none",
            "built_at": info.built_at.isoformat(),
            "changelog": dg.MetadataValue.md((folder / "CHANGELOG.md").read_text(encoding="utf-8")[:20000]),
        }
    )
