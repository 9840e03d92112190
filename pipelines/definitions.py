"""The Dagster code location: assets, checks, resources and the in-process executor."""

from __future__ import annotations

import dagster as dg

from pipelines.assets import ALL_ASSETS
from pipelines.assets.release import release
from pipelines.checks import SCHEMA_CHECKS
from pipelines.resources import SourcesResource, WarehouseResource


def resources(sources_root: str | None = None, warehouse_root: str | None = None) -> dict[str, dg.ConfigurableResource]:
    """Resources with defaults from the environment (AI_FOOTPRINTS_SOURCES/WAREHOUSE)."""
    return {
        "source_tree": SourcesResource(root=sources_root) if sources_root else SourcesResource(),
        "warehouse_root": WarehouseResource(root=warehouse_root) if warehouse_root else WarehouseResource(),
    }


build_everything = dg.define_asset_job(
    "build_everything",
    selection=dg.AssetSelection.all() - dg.AssetSelection.assets(release),
    description="Materialise every asset and publish the warehouse (no release).",
)
make_release = dg.define_asset_job(
    "release", selection=dg.AssetSelection.all(), description="Build everything, then write a release."
)

defs = dg.Definitions(
    assets=[*ALL_ASSETS, release],
    asset_checks=SCHEMA_CHECKS,
    jobs=[build_everything, make_release],
    resources=resources(),
    executor=dg.in_process_executor,
)
