"""Charts layer: PNG and SVG charts of the derived tables, shown in the UI and in docs/pipeline.md."""

import base64

import dagster as dg
import polars as pl

from pipelines.lib.charts import CHARTS, save
from pipelines.resources import WarehouseResource

CHART_DIR = "charts"
# Chart -> the derived asset it draws.
CHART_INPUTS = {name: ["derived", table] for name, (table, _) in CHARTS.items()}


def _chart_asset(name: str) -> dg.AssetsDefinition:
    draw = CHARTS[name][1]

    @dg.asset(
        key=["charts", name],
        group_name="charts",
        ins={"frame": dg.AssetIn(key=CHART_INPUTS[name])},
        description=(draw.__doc__ or name).strip(),
        kinds={"matplotlib", "png", "svg"},
    )
    def _asset(frame: pl.DataFrame, warehouse_root: WarehouseResource) -> dg.MaterializeResult:
        png, svg = save(draw(frame), warehouse_root.path / CHART_DIR, name)
        encoded = base64.b64encode(png.read_bytes()).decode()
        return dg.MaterializeResult(
            metadata={
                "dagster/uri": dg.MetadataValue.path(str(png)),
                "svg": dg.MetadataValue.path(str(svg)),
                "chart": dg.MetadataValue.md(f"![{name}](data:image/png;base64,{encoded})"),
            }
        )

    return _asset


CHART_ASSETS = [_chart_asset(name) for name in CHARTS]
