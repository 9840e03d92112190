"""Site layer: the static website over the published warehouse (pipelines.lib.site)."""

import dagster as dg

from pipelines.lib.site import SITE_DIR, build_site
from pipelines.resources import WarehouseResource


@dg.asset(
    key=["site", "website"],
    group_name="site",
    deps=[dg.AssetKey(["published", "warehouse"])],
    description=(
        f"`{SITE_DIR}/` under the warehouse root: a static website of the published tables (home, organisation, "
        "model, hardware, per-request, claim-check and source pages, SVG charts, an offline search index) that "
        "works from disk and on any static host. `make site` rebuilds it alone (after `make release`, to list the "
        "new release)."
    ),
    kinds={"html", "svg"},
)
def website(warehouse_root: WarehouseResource) -> dg.MaterializeResult:
    summary = build_site(warehouse_root.root, warehouse_root.path)
    return dg.MaterializeResult(
        metadata={
            "dagster/uri": dg.MetadataValue.path(str(summary.path / "index.html")),
            "pages": summary.pages,
            "files": summary.files,
            "megabytes": round(summary.bytes / 1e6, 2),
            "seconds": round(summary.seconds, 1),
        }
    )
