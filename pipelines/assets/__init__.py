"""Dagster assets by layer: raw -> normalised -> derived -> published.

Each asset is a thin wrapper: it calls one library function and reports metadata.
"""

from pipelines.assets.charts import CHART_ASSETS
from pipelines.assets.derived import (
    annual_metrics,
    checked_figures,
    claim_checks,
    grid_coverage,
    grid_values,
    intensities,
    per_request,
    training_runs,
)
from pipelines.assets.normalised import (
    dimensions,
    entities,
    equivalences,
    factors,
    figures,
    grid_definition,
    metrics,
    run_locations,
    sources,
    upstream,
)
from pipelines.assets.published import warehouse
from pipelines.assets.raw import raw_snapshots, raw_sources

ALL_ASSETS = [
    raw_sources,
    raw_snapshots,
    upstream,
    metrics,
    dimensions,
    grid_definition,
    entities,
    sources,
    figures,
    factors,
    equivalences,
    run_locations,
    training_runs,
    annual_metrics,
    per_request,
    intensities,
    claim_checks,
    checked_figures,
    grid_values,
    grid_coverage,
    warehouse,
    *CHART_ASSETS,
]
