"""Every published table from the normalised ones, as plain function calls: what the
derived assets compute, in one place, for the benchmark's bare build and the tests."""

from __future__ import annotations

import polars as pl

from pipelines.lib.annual import annual_metrics
from pipelines.lib.claims import claim_checks, figure_check_status
from pipelines.lib.derive import training_runs
from pipelines.lib.grid import grid_coverage, grid_table
from pipelines.lib.ratios import intensities, per_request
from schemas.tables import PUBLISHED_TABLES


def derived_tables(normalised: dict[str, pl.DataFrame], upstream: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    """Every published table (schemas.tables.PUBLISHED_TABLES, in its order): the normalised
    ones users see, the derived ones (`figures` carrying its check status), and the tables made
    from upstream snapshots (pipelines.lib.upstream.snapshot_tables)."""
    figures, metrics = normalised["figures"], normalised["metrics"]
    runs = training_runs(
        figures, metrics, normalised["factors"], normalised["run_locations"], upstream["grid_intensity"]
    )
    annual = annual_metrics(figures, metrics, normalised["sources"])
    checks = claim_checks(
        figures,
        metrics,
        normalised["sources"],
        normalised["entities"],
        runs,
        annual,
        upstream["grid_intensity"],
        normalised["run_locations"],
    )
    grid = grid_table(annual, normalised["grid_measures"], normalised["sources"], normalised["entities"])
    tables = {
        **normalised,
        **upstream,
        "figures": figure_check_status(figures, checks),
        "training_runs": runs,
        "annual_metrics": annual,
        "grid": grid,
        "grid_coverage": grid_coverage(grid, normalised["grid_measures"], normalised["grid_cells"], normalised["gaps"]),
        "per_request": per_request(figures, metrics),
        "intensities": intensities(annual, metrics),
        "claim_checks": checks,
    }
    return {name: tables[name] for name in PUBLISHED_TABLES}
