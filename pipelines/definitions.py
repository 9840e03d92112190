"""The Dagster code location: assets, checks, resources and the in-process executor."""

from __future__ import annotations

import dagster as dg

from pipelines.assets import ALL_ASSETS
from pipelines.assets.release import release
from pipelines.assets.site import website
from pipelines.checks import SCHEMA_CHECKS
from pipelines.lib.release import source_tree_hash
from pipelines.resources import SourcesResource, WarehouseResource


def resources(
    sources_root: str | None = None, warehouse_root: str | None = None, duckdb_target: str | None = None
) -> dict[str, dg.ConfigurableResource]:
    """Resources with defaults from the environment (AI_FOOTPRINTS_SOURCES, _WAREHOUSE, _DUCKDB)."""
    warehouse = {"root": warehouse_root} if warehouse_root else {}
    if duckdb_target:
        warehouse["duckdb_target"] = duckdb_target
    return {
        "source_tree": SourcesResource(root=sources_root) if sources_root else SourcesResource(),
        "warehouse_root": WarehouseResource(**warehouse),
    }


build_everything = dg.define_asset_job(
    "build_everything",
    selection=dg.AssetSelection.all() - dg.AssetSelection.assets(release, website),
    description="Materialise every asset and publish the warehouse (no release, no website).",
)
make_site = dg.define_asset_job(
    "site",
    selection=dg.AssetSelection.assets(website),
    description="Write the website of the published warehouse (what `make site` does).",
)
make_release = dg.define_asset_job(
    "release",
    selection=dg.AssetSelection.all() - dg.AssetSelection.assets(website),
    description="Build everything, then write a release.",
)
rebuild_published = dg.define_asset_job(
    "rebuild_published",
    selection=dg.AssetSelection.assets(dg.AssetKey(["published", "warehouse"])),
    description="Publish the warehouse again from the last materialised tables.",
)


@dg.sensor(job=build_everything, default_status=dg.DefaultSensorStatus.STOPPED, minimum_interval_seconds=30)
def sources_changed(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
    """Rebuild when anything under sources/ changes (off by default; start it in the UI)."""
    tree_hash = source_tree_hash(SourcesResource().path)
    if tree_hash == context.cursor:
        return dg.SkipReason("sources/ has not changed")
    return dg.SensorResult(run_requests=[dg.RunRequest(run_key=tree_hash)], cursor=tree_hash)


OWNERS = ["team:ai-footprints"]

defs = dg.Definitions(
    assets=dg.map_asset_specs(lambda spec: spec.replace_attributes(owners=OWNERS), [*ALL_ASSETS, release, website]),
    asset_checks=SCHEMA_CHECKS,
    jobs=[build_everything, make_release, make_site, rebuild_published],
    sensors=[sources_changed],
    resources=resources(),
    executor=dg.in_process_executor,
)
