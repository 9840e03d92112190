"""Charts of the published tables, drawn with matplotlib (no browser), saved as PNG and SVG.

Each function takes tables and returns a figure whose caption names the documents its
data comes from; `save` writes the files with fixed metadata so that the same data
gives the same SVG.
"""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display

import matplotlib.pyplot as plt
import polars as pl
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

matplotlib.rcParams["svg.hashsalt"] = "ai-footprints"  # stable ids inside the SVG
matplotlib.rcParams["font.size"] = 9
WIDTH_IN = 10.0
CAPTION_SOURCES = 6


# A chart shows at most this many rows (runs, or subjects per source): beyond it labels
# overlap and drawing time grows with the data; the tables hold every row.
MAX_CHART_ROWS = 50
MAX_CHART_LINES = 16  # series per panel of a line chart, the largest first


def _caption(figure: Figure, source_ids: list[str], what: str) -> None:
    names = sorted(set(source_ids))
    shown = ", ".join(names[:CAPTION_SOURCES]) + (
        f" and {len(names) - CAPTION_SOURCES} more" if len(names) > CAPTION_SOURCES else ""
    )
    figure.text(0.01, 0.005, f"{what}. Sources: {shown}.", fontsize=7, wrap=True, va="bottom")


def company_water_and_electricity(annual: pl.DataFrame) -> Figure:
    """Organisations' water and electricity by year, one line per subject, metric and boundary;
    the MAX_CHART_LINES largest series per panel."""
    figure, axes = plt.subplots(1, 2, figsize=(WIDTH_IN, 4.8))
    used: list[str] = []
    panels = [
        (axes[0], ["water_consumption", "water_withdrawal", "water_use"], 1e6, "water (million m³)"),
        (axes[1], ["electricity_consumption"], 1e6, "electricity (TWh)"),
    ]
    for axis, metrics, scale, label in panels:
        data = annual.filter(pl.col("metric").is_in(metrics) & (pl.col("subject") != ""))
        lines = (
            data.group_by("subject", "metric", "boundary", maintain_order=True)
            .agg(pl.len().alias("n"), pl.col("value").max().alias("largest"))
            .filter(pl.col("n") >= 2)
            .sort("largest", "subject", "metric", "boundary", descending=[True, False, False, False], nulls_last=True)
            .head(MAX_CHART_LINES)
        )
        for subject, metric, boundary, _, _ in lines.sort("subject", "metric", "boundary").iter_rows():
            series = data.filter(
                (pl.col("subject") == subject) & (pl.col("metric") == metric) & (pl.col("boundary") == boundary)
            ).sort("year")
            axis.plot(
                series["year"],
                series["value"] / scale,
                marker="o",
                label=f"{subject}: {metric.replace('_', ' ')} ({boundary.replace('_', ' ')})",
            )
            used += series["source_id"].to_list()
        axis.set_ylabel(label)
        axis.set_xlabel("year (end of the reporting period)")
        axis.xaxis.set_major_locator(MaxNLocator(integer=True))
        if axis.get_lines():
            axis.legend(fontsize=6, loc="upper left")
        axis.grid(alpha=0.3)
    axes[0].set_title("Water by organisation")
    axes[1].set_title("Electricity by organisation")
    figure.tight_layout(rect=(0, 0.06, 1, 1))
    _caption(figure, used, "Series of two or more years from annual_metrics (latest document per year)")
    return figure


def training_energy(runs: pl.DataFrame) -> Figure:
    """Training runs by energy on a log scale (the largest MAX_CHART_ROWS): computed (with range) and reported."""
    rows = (
        runs.with_columns(
            pl.coalesce(
                "energy_mwh", "energy_mwh_reported", "accelerator_energy_mwh", "accelerator_energy_mwh_reported"
            ).alias("shown")
        )
        .filter(pl.col("shown").is_not_null() & (pl.col("shown") > 0))
        .sort("shown")
        .tail(MAX_CHART_ROWS)
    )
    figure, axis = plt.subplots(figsize=(WIDTH_IN, max(3.0, 0.28 * rows.height + 1.2)))
    labels = [f"{model} ({source[:38]})" for model, source in rows.select("model", "source_id").iter_rows()]
    positions = list(range(rows.height))
    computed = rows["energy_mwh"].to_list()
    low = [
        c - lo if c is not None and lo is not None else 0
        for c, lo in zip(computed, rows["energy_mwh_low"].to_list(), strict=True)
    ]
    high = [
        hi - c if c is not None and hi is not None else 0
        for c, hi in zip(computed, rows["energy_mwh_high"].to_list(), strict=True)
    ]
    axis.errorbar(
        [c if c is not None else math.nan for c in computed],
        positions,
        xerr=[low, high],
        fmt="o",
        label="computed (× PUE)",
        capsize=3,
    )
    axis.plot(
        [v if v is not None else math.nan for v in rows["energy_mwh_reported"].to_list()],
        positions,
        "s",
        label="reported",
        alpha=0.8,
    )
    axis.plot(
        [v if v is not None else math.nan for v in rows["accelerator_energy_mwh_reported"].to_list()],
        positions,
        "^",
        label="reported, accelerators only",
        alpha=0.8,
    )
    axis.set_yticks(positions, labels, fontsize=7)
    axis.set_xscale("log")
    axis.set_xlabel("training energy (MWh, log scale)")
    axis.set_title("Training runs by energy")
    axis.grid(alpha=0.3, which="both", axis="x")
    axis.legend(fontsize=7, loc="lower right")
    figure.tight_layout(rect=(0, 0.05, 1, 1))
    _caption(
        figure,
        rows["source_id"].to_list(),
        "training_runs; ranges where inputs give them; defaults flagged in the table",
    )
    return figure


def per_request_footprints(per_request: pl.DataFrame) -> Figure:
    """Per-request water and energy estimates by subject and source (the largest MAX_CHART_ROWS), with ranges."""
    figure, axes = plt.subplots(1, 2, figsize=(WIDTH_IN * 1.25, 5.0))
    used: list[str] = []
    for axis, quantity, unit in ((axes[0], "water", "mL"), (axes[1], "energy", "Wh")):
        rows = (
            per_request.filter(pl.col("quantity") == quantity)
            .with_columns(pl.coalesce("value", (pl.col("low") + pl.col("high")) / 2).alias("shown"))
            .filter(pl.col("shown") > 0)
        )
        # One point per subject and source: the median where a source gives many (e.g. per location).
        points = (
            rows.group_by("subject", "source_id")
            .agg(pl.col("shown").median(), pl.col("low").min(), pl.col("high").max(), pl.len().alias("n"))
            .sort("shown", "subject", "source_id")  # ties in a fixed order: the chart reproduces
            .tail(MAX_CHART_ROWS)
        )
        positions = list(range(points.height))
        shown = points["shown"].to_list()
        axis.errorbar(
            shown,
            positions,
            xerr=[
                [s - lo if lo is not None else 0 for s, lo in zip(shown, points["low"].to_list(), strict=True)],
                [hi - s if hi is not None else 0 for s, hi in zip(shown, points["high"].to_list(), strict=True)],
            ],
            fmt="o",
            capsize=3,
        )
        labels = [
            f"{subject} ({source[:30]}{f', median of {n}' if n > 1 else ''})"
            for subject, source, _, _, _, n in points.iter_rows()
        ]
        axis.set_yticks(positions, labels, fontsize=6)
        axis.set_xscale("log")
        axis.set_xlabel(f"{quantity} per request ({unit}, log scale)")
        axis.set_title(f"{quantity.capitalize()} per request")
        axis.grid(alpha=0.3, which="both", axis="x")
        used += points["source_id"].to_list()
    figure.tight_layout(rect=(0, 0.05, 1, 1))
    _caption(figure, used, "per_request; ranges where a source gives one or divides by a range of requests")
    return figure


def claim_check_status(checks: pl.DataFrame) -> Figure:
    """How many checks of each kind are consistent or inconsistent."""
    counts = checks.group_by("kind", "status").len().sort("kind")
    kinds = sorted(set(counts["kind"]))
    figure, axis = plt.subplots(figsize=(WIDTH_IN * 0.7, 3.6))
    left = [0] * len(kinds)
    for status, colour in (("consistent", "#4c9a2a"), ("inconsistent", "#c0392b")):
        values = [counts.filter((pl.col("kind") == kind) & (pl.col("status") == status))["len"].sum() for kind in kinds]
        bars = axis.barh(kinds, values, left=left, color=colour, label=status)
        axis.bar_label(
            bars, labels=[str(v) if v else "" for v in values], label_type="center", fontsize=7, color="white"
        )
        left = [a + b for a, b in zip(left, values, strict=True)]
    axis.set_xlabel("checks")
    axis.set_title("Claim checks by kind and status")
    axis.legend(fontsize=7)
    figure.tight_layout(rect=(0, 0.16, 1, 1))
    sources = [figure_id.split("/")[0] for ids in checks["figure_ids"].to_list() for figure_id in ids]
    _caption(figure, sources, "claim_checks; tolerances per kind in docs/methods.md")
    return figure


# Scale and label of each grid measure's panel, by the unit of its values.
_GRID_SCALES = {
    "MWh": (1e6, "TWh"),
    "m³": (1e6, "million m³"),
    "t": (1e6, "Mt CO2e"),
    "percent": (1, "%"),
    "dimensionless": (1, ""),
}


def grid_panels(coverage: pl.DataFrame) -> Figure:
    """The headline grid's organisations, every measure of the grid."""
    headline = coverage.filter(pl.col("headline").any().over("subject"))
    return _grid_panels(headline, "grid_coverage: the headline grid's organisations; a gap is a cell no stored "
                        "document fills")  # fmt: skip


def more_operators_panels(coverage: pl.DataFrame) -> Figure:
    """The further operators of the grid (grid.yaml's more_organisations), every measure."""
    more = coverage.filter(~pl.col("headline").any().over("subject"))
    return _grid_panels(more, "grid_coverage: the further operators; a gap is a cell no stored document fills")


def _grid_panels(coverage: pl.DataFrame, caption: str) -> Figure:
    """One row of panels per organisation and one panel per measure: years on the axis, gaps
    left as gaps, a filled marker for a value from the organisation's own report and an open
    one otherwise, a cross where a later report restated the value."""
    organisations = coverage["subject"].unique(maintain_order=True).to_list()
    measures = coverage["measure"].unique(maintain_order=True).to_list()
    years = sorted(coverage["year"].unique().to_list())
    figure, axes = plt.subplots(
        max(len(organisations), 1), max(len(measures), 1), figsize=(WIDTH_IN * 1.8, 1.6 * len(organisations) + 1.2),
        sharex=True, squeeze=False,
    )  # fmt: skip
    units = dict(coverage.drop_nulls("unit").group_by("measure").agg(pl.col("unit").first()).iter_rows())
    used: list[str] = []
    for row, organisation in enumerate(organisations):
        for column, measure in enumerate(measures):
            axis = axes[row][column]
            cells = coverage.filter((pl.col("subject") == organisation) & (pl.col("measure") == measure)).sort("year")
            unit = units.get(measure) or ""
            scale, label = _GRID_SCALES.get(unit, (1, unit))
            if cells["value"].null_count() == cells.height:
                axis.text(0.5, 0.5, "no figure", ha="center", va="center", fontsize=7, color="grey",
                          transform=axis.transAxes)  # fmt: skip
                axis.set_yticks([])
            values = [v / scale if v is not None else math.nan for v in cells["value"].to_list()]
            axis.plot(cells["year"].to_list(), values, color="#2c7fb8", linewidth=1)
            for year, value, own, restated in zip(
                cells["year"].to_list(), values, cells["own_report"].to_list(), cells["restated"].to_list(), strict=True
            ):
                if math.isnan(value):
                    continue
                axis.plot(
                    year, value, "o", markersize=3.5, color="#2c7fb8", markerfacecolor="#2c7fb8" if own else "white"
                )
                if restated:
                    axis.plot(year, value, "x", markersize=6, color="#c0392b")
            used += [figure_id.split("/")[0] for figure_id in cells["figure_id"].drop_nulls().to_list()]
            axis.tick_params(labelsize=6)
            axis.set_xticks(years[:: max(1, len(years) // 3)])
            if row == 0:
                axis.set_title(measure.replace("_", " ") + (f"\n({label})" if label else ""), fontsize=7)
            if column == 0:
                axis.set_ylabel(organisation, fontsize=8)
    figure.legend(
        handles=[
            plt.Line2D([], [], marker="o", color="#2c7fb8", linestyle="", label="own report"),
            plt.Line2D(
                [], [], marker="o", color="#2c7fb8", markerfacecolor="white", linestyle="", label="other document"
            ),
            plt.Line2D([], [], marker="x", color="#c0392b", linestyle="", label="restated by a later report"),
        ],
        loc="upper right", fontsize=7, ncol=3,
    )  # fmt: skip
    figure.tight_layout(rect=(0, 0.05, 1, 0.95))
    _caption(figure, used, caption)
    return figure


CHARTS = {
    "grid": ("grid_coverage", grid_panels),
    "grid_more_operators": ("grid_coverage", more_operators_panels),
    "company_water_electricity": ("annual_metrics", company_water_and_electricity),
    "training_energy": ("training_runs", training_energy),
    "per_request": ("per_request", per_request_footprints),
    "claim_checks": ("claim_checks", claim_check_status),
}


def save(figure: Figure, directory: Path, name: str) -> list[Path]:
    """name.png and name.svg in directory, with no timestamps inside."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = [directory / f"{name}.png", directory / f"{name}.svg"]
    figure.savefig(paths[0], dpi=130, metadata={"Software": None})
    figure.savefig(paths[1], metadata={"Date": None, "Creator": None})
    plt.close(figure)
    return paths
