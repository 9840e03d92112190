"""The website over a published warehouse: static HTML pages, SVG charts and a search index.

`build_site` reads the published Parquet tables of a local warehouse and writes
`<warehouse>/site/`: plain files that work from disk and on any static host, with nothing
fetched from another host when a page is viewed. Pages are Jinja2 templates
(pipelines/site/templates) filled from plain rows made here; charts are drawn with
matplotlib as SVG; the search index is a script, because browsers do not let a page opened
from disk read a JSON file. The site is written aside and swapped in whole.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import shutil
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import matplotlib.pyplot as plt
import polars as pl
import pyarrow.fs as pafs

from pipelines.lib.charts import CHARTS
from pipelines.lib.locations import local_path
from pipelines.lib.publish import PARQUET_DIR, published_parquet, read_parquet_folder
from pipelines.lib.release import RELEASES_DIR, latest_version, release_versions

SITE_DIR = "site"
TEMPLATES = Path(__file__).resolve().parents[1] / "site" / "templates"
STATIC = Path(__file__).resolve().parents[1] / "site" / "static"
CHART_DIR = "charts"  # the build's charts, under the warehouse root
# Entity type -> the folder of its pages and the heading of its list.
ENTITY_FOLDERS = {
    "organization": ("organisations", "Organisations"),
    "model": ("models", "Models"),
    "hardware": ("hardware", "Hardware"),
    "facility": ("facilities", "Facilities"),
    "region": ("regions", "Regions"),
    "technology": ("technologies", "Technologies"),
    "reference": ("references", "References"),
}
UNSAID = {"unstated", "not_applicable"}  # accounting values a series label leaves out
SERIES_PANELS = 12  # at most this many series charted on an entity's page (the longest)
TRAINING_OUTPUTS = [
    ("Accelerator energy", "accelerator_energy_mwh", "MWh"),
    ("Energy", "energy_mwh", "MWh"),
    ("Emissions", "co2e_t", "t CO2e"),
    ("On-site water", "water_onsite_m3", "m³"),
    ("Off-site water", "water_offsite_m3", "m³"),
]
TRAINING_REPORTED = [
    ("Energy reported", "energy_mwh_reported", "MWh"),
    ("Accelerator energy reported", "accelerator_energy_mwh_reported", "MWh"),
    ("Emissions reported", "co2e_t_reported", "t CO2e"),
    ("Water reported", "water_m3_reported", "m³"),
]


@dataclass(frozen=True)
class SiteSummary:
    """What a site build wrote."""

    path: Path
    pages: int
    files: int
    bytes: int
    seconds: float


def slug(text: str) -> str:
    """A file name for a name: lower-case letters and digits joined by hyphens."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "item"


def number(value: float | None) -> str:
    """A value for reading: up to 4 significant digits, thousands separated."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if value == 0:
        return "0"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.4g}"


def span(value: float | None, low: float | None, high: float | None) -> str:
    """A value with its range, or the range alone."""
    if low is not None and high is not None and low != high:
        middle = f"{number(value)} " if value is not None else ""
        return f"{middle}({number(low)}–{number(high)})"
    return number(value)


def written(row: dict[str, Any]) -> str:
    """A figure's value as its document writes it."""
    qualifier = "" if row["qualifier"] in (None, "=") else f"{row['qualifier']} "
    value = row["value_as_written"] or f"{row['low_as_written']}–{row['high_as_written']}"
    return f"{qualifier}{value} {row['unit_as_written']}".strip()


def check_anchor(check_id: str) -> str:
    """The id of a check's entry on the claim-check page (check ids hold characters a URL would escape)."""
    return "check-" + hashlib.sha256(check_id.encode()).hexdigest()[:12]


def figure_anchor(figure_id: str) -> str:
    """The id of a figure's row on its document's page."""
    return "f-" + figure_id.split("/", 1)[1]


class Links:
    """Where each page is, relative to the site's root (an entity has a page if it has figures)."""

    def __init__(self, entities: pl.DataFrame) -> None:
        self.entity: dict[str, str] = {}
        taken: set[str] = set()
        for name, kind in entities.select("entity", "entity_type").sort("entity").iter_rows():
            folder = ENTITY_FOLDERS[kind][0]
            base = slug(name)
            candidate, count = base, 1
            while f"{folder}/{candidate}" in taken or candidate == "index":
                count += 1
                candidate = f"{base}-{count}"
            taken.add(f"{folder}/{candidate}")
            self.entity[name] = f"{folder}/{candidate}.html"

    @staticmethod
    def source(source_id: str) -> str:
        return f"sources/{source_id}.html"

    @staticmethod
    def figure(figure_id: str) -> str:
        return f"sources/{figure_id.split('/', 1)[0]}.html#{figure_anchor(figure_id)}"


def figure_rows(
    figures: pl.DataFrame, sources: pl.DataFrame, checks: pl.DataFrame, links: Links
) -> list[dict[str, Any]]:
    """Every figure as a row for the pages: written and canonical values, what it counts, links
    (an inconsistent figure's to the first check it fails)."""
    titles = dict(sources.select("source_id", "title").iter_rows())
    failed = set(checks.filter(pl.col("status") == "inconsistent")["check_id"].to_list())
    rows = []
    for row in figures.sort("source_id", "figure_order").iter_rows(named=True):
        counts = [
            row[key].replace("_", " ")
            for key in ("boundary", "accounting", "statistic", "period_kind")
            if row[key] and row[key] != "not_applicable"
        ]
        rows.append(
            {
                **row,
                "written": written(row),
                "canonical": f"{span(row['value'], row['low'], row['high'])} {row['unit']}",
                "counts": ", ".join(counts),
                "anchor": figure_anchor(row["figure_id"]),
                "href": links.figure(row["figure_id"]),
                "subject_href": links.entity.get(row["subject"]),
                "source_title": titles.get(row["source_id"], row["source_id"]),
                "check_href": next(
                    (f"claim-checks.html#{check_anchor(c)}" for c in row["check_ids"] or [] if c in failed), None
                ),
            }
        )
    return rows


def search_index(rows: list[dict[str, Any]]) -> str:
    """The search index as a script: [url, subject, metric, value, period, quote, document] per figure."""
    entries = [
        [row["href"], row["subject"], row["metric"], row["written"], row["period"] or "", row["quote"] or "",
         row["source_title"]]
        for row in rows
    ]  # fmt: skip
    return "window.AIF_FIGURES = " + json.dumps(entries, ensure_ascii=False, separators=(",", ":")) + ";\n"


def _year_rows(first: int, cells: list[dict[str, Any] | None]) -> list[dict[str, Any]]:
    """A table's rows: one per year with a value, one per run of years without ("2009–2018")."""
    rows: list[dict[str, Any]] = []
    for offset, cell in enumerate(cells):
        year = first + offset
        if cell is None and rows and rows[-1]["cell"] is None:
            rows[-1]["years"] = f"{rows[-1]['years'].split('–')[0]}–{year}"
        else:
            rows.append({"years": str(year), "cell": cell})
    return rows


def series_of(annual: pl.DataFrame, subject: str) -> list[dict[str, Any]]:
    """An entity's annual series (one per metric, boundary, accounting and statistic), longest
    first, each with a cell per year from its first to its last (None where no figure)."""
    rows = annual.filter(pl.col("subject") == subject)
    series = []
    keys = ["metric", "boundary", "accounting", "statistic"]
    for key, group in rows.sort("year").group_by(keys, maintain_order=True):
        years = group["year"].to_list()
        by_year = {r["year"]: r for r in group.iter_rows(named=True)}
        cells = [by_year.get(year) for year in range(min(years), max(years) + 1)]
        series.append(
            {
                "metric": key[0],
                "label": " · ".join(part.replace("_", " ") for part in key[:3] if part and part not in UNSAID),
                "unit": group["unit"][0],
                "cells": cells,
                "first": min(years),
                "rows": _year_rows(min(years), cells),
            }
        )
    return sorted(series, key=lambda s: (-sum(c is not None for c in s["cells"]), s["label"]))


def series_chart(name: str, series: list[dict[str, Any]], target: Path) -> str:
    """Small multiples of an entity's annual series as an SVG file; returns its alt text.
    A missing year is a gap in the line; a value a later report restated is a red cross."""
    shown = series[:SERIES_PANELS]
    columns = min(3, len(shown))
    rows = math.ceil(len(shown) / columns)
    figure, axes = plt.subplots(rows, columns, figsize=(3.4 * columns, 2.3 * rows), squeeze=False)
    for axis in axes.flat[len(shown) :]:
        axis.set_visible(False)
    for axis, one in zip(axes.flat, shown, strict=False):
        years = [one["first"] + i for i in range(len(one["cells"]))]
        values = [c["value"] if c else math.nan for c in one["cells"]]
        axis.plot(years, values, color="#1f5f99", linewidth=1.2, marker="o", markersize=3)
        restated = [(y, c["value"]) for y, c in zip(years, one["cells"], strict=True) if c and c["restated"]]
        if restated:
            axis.plot(*zip(*restated, strict=True), linestyle="", marker="x", color="#b03a2e", markersize=6)
        axis.set_title(f"{one['label']} ({one['unit']})", fontsize=8)
        axis.tick_params(labelsize=7)
        axis.ticklabel_format(axis="y", style="sci", scilimits=(-3, 4))
        axis.xaxis.get_major_locator().set_params(integer=True)
        axis.grid(alpha=0.3)
    figure.tight_layout()
    target.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(target, format="svg", metadata={"Date": None, "Creator": None})
    plt.close(figure)
    labels = "; ".join(f"{one['label']}, {one['first']}–{one['first'] + len(one['cells']) - 1}" for one in shown)
    return f"Line charts of {name}'s annual series by year: {labels}. Red crosses mark values a later report restated."


def _grid_table(coverage: pl.DataFrame, subject: str, links: Links) -> dict[str, Any] | None:
    """The grid's measures × years for one organisation: each cell a value or a gap and its reason."""
    cells = coverage.filter(pl.col("subject") == subject)
    if cells.is_empty():
        return None
    years = sorted(cells["year"].unique().to_list())
    rows = []
    for measure, group in cells.group_by("measure", maintain_order=True):
        by_year = {r["year"]: r for r in group.iter_rows(named=True)}
        row = []
        for year in years:
            cell = by_year.get(year)
            if cell is None or cell["status"] != "filled":
                reason = (cell or {}).get("gap_reason") or "no figure"
                row.append({"gap": reason.replace("_", " "), "note": (cell or {}).get("gap_note") or ""})
            else:
                row.append(
                    {
                        "gap": None,
                        "value": number(cell["value"]),
                        "unit": cell["unit"],
                        "href": links.figure(cell["figure_id"]),
                        "restated": cell["restated"],
                        "own": cell["own_report"],
                    }
                )
        rows.append({"measure": measure[0], "cells": row})
    return {"years": years, "rows": rows}


def _training_runs(
    runs: pl.DataFrame, model: str, figures_by_id: dict[str, dict[str, Any]], links: Links
) -> list[dict[str, Any]]:
    out = []
    for run in runs.filter(pl.col("model") == model).iter_rows(named=True):
        inputs = []
        for item in run["inputs"]:
            figure = figures_by_id.get(item["figure_id"]) if item["figure_id"] else None
            if item["origin"] == "zone_default":
                value = f"{number(run['carbon_intensity_kg_per_kwh'])} kg/kWh"
                where = (
                    f"{run['zone']} {run['carbon_intensity_year'] or ''}, snapshot {run['carbon_intensity_snapshot']}"
                )
            else:
                value = figure["written"] if figure else ""
                where = figure["source_title"] if figure else ""
            inputs.append(
                {
                    "input": item["input"].replace("_", " "),
                    "origin": item["origin"].replace("_", " "),
                    "value": value,
                    "where": where,
                    "href": links.figure(item["figure_id"]) if item["figure_id"] else None,
                }
            )
        out.append(
            {
                **run,
                "source_href": links.source(run["source_id"]),
                "hardware_href": links.entity.get(run["hardware"] or ""),
                "inputs_shown": inputs,
                "outputs": [
                    (label, span(run[column], run.get(f"{column}_low"), run.get(f"{column}_high")), unit)
                    for label, column, unit in TRAINING_OUTPUTS
                ],
                "reported": [
                    (label, number(run[column]), unit) for label, column, unit in TRAINING_REPORTED if run[column]
                ],
            }
        )
    return out


def _checks(checks: pl.DataFrame, figure_ids: set[str], figures_by_id: dict[str, dict[str, Any]]) -> list[dict]:
    """Claim checks that involve any of these figures, each side with its value and link."""
    rows = []
    for check in checks.filter(
        pl.col("figure_ids").list.eval(pl.element().is_in(list(figure_ids))).list.any()
    ).iter_rows(named=True):
        rows.append(
            {
                **check,
                "anchor": check_anchor(check["check_id"]),
                "sides": [figures_by_id[f] for f in check["figure_ids"] if f in figures_by_id],
            }
        )
    return rows


def _measured(measurements: pl.DataFrame, model: str) -> list[dict[str, Any]]:
    """The ML.ENERGY leaderboard's measurements of a model, summarised per task and GPU."""
    rows = measurements.filter(pl.col("model") == model)
    if rows.is_empty():
        return []
    summary = (
        rows.group_by("task", "gpu_model", "output_kind")
        .agg(
            pl.len().alias("configurations"),
            pl.col("energy_per_output_wh").min().alias("low"),
            pl.col("energy_per_output_wh").median().alias("median"),
            pl.col("energy_per_output_wh").max().alias("high"),
        )
        .sort("task", "gpu_model")
    )
    return [
        {**row, "low": number(row["low"]), "median": number(row["median"]), "high": number(row["high"])}
        for row in summary.iter_rows(named=True)
    ]


def _downloads(
    warehouse: Path | None, published: tuple[pafs.FileSystem, str], tables: list[str], target: Path
) -> dict[str, Any]:
    """Copy the latest release (its zip, tables, datapackage.json, changelog and checksums; the
    DuckDB file only inside the zip) into target/data/, or before any release this build's
    tables with their checksums."""
    data = target / "data"
    data.mkdir(parents=True)
    version = latest_version(release_versions(warehouse)) if warehouse is not None else None
    files: list[dict[str, Any]] = []
    if warehouse is not None and version is not None:
        release = warehouse / RELEASES_DIR / version
        for path in sorted(release.rglob("*")):
            if path.is_file() and path.suffix != ".duckdb":
                copy = data / path.relative_to(release)
                copy.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, copy)
        sums = (data / "SHA256SUMS").read_text(encoding="utf-8").splitlines() if (data / "SHA256SUMS").exists() else []
        sums += [f"{hashlib.sha256(path.read_bytes()).hexdigest()}  {path.name}" for path in sorted(data.glob("*.zip"))]
        for line in sums:
            digest, _, name = line.partition("  ")
            if (data / name).exists():
                files.append(
                    {"name": name, "sha256": digest, "href": f"data/{name}", "bytes": (data / name).stat().st_size}
                )
        return {"version": version, "files": files}
    (data / PARQUET_DIR).mkdir()
    filesystem, folder = published
    for table in sorted(tables):
        name = f"{PARQUET_DIR}/{table}.parquet"
        with filesystem.open_input_file(f"{folder}/{table}.parquet") as handle:
            content = handle.read()
        (data / name).write_bytes(content)
        files.append({"name": name, "sha256": hashlib.sha256(content).hexdigest(), "href": f"data/{name}",
                      "bytes": len(content)})  # fmt: skip
    (data / "SHA256SUMS").write_text("".join(f"{f['sha256']}  {f['name']}\n" for f in files), encoding="utf-8")
    return {"version": None, "files": files}


def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["number"] = number
    environment.filters["figure_href"] = Links.figure
    return environment


def build_site(location: str | Path, local_root: Path | None = None) -> SiteSummary:
    """Write the website of a warehouse's published tables to <local root>/site: the
    warehouse's own folder, or for an object store the local folder of its charts."""
    started = time.perf_counter()
    published = published_parquet(location)  # PublishError when nothing is published
    tables = read_parquet_folder(*published)
    warehouse = local_path(location)
    root = local_root if local_root is not None else warehouse
    if root is None:
        raise ValueError(f"{location} is not a local folder: give the local folder to write the site to")
    final = Path(root) / SITE_DIR
    staging = final.with_name(f".{final.name}-staging")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        pages = _write_pages(tables, published, warehouse, Path(root), staging)
        old = final.with_name(f".{final.name}-old")
        shutil.rmtree(old, ignore_errors=True)
        if final.exists():
            final.rename(old)
        staging.rename(final)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    files = [path for path in final.rglob("*") if path.is_file()]
    return SiteSummary(final, pages, len(files), sum(path.stat().st_size for path in files),
                       time.perf_counter() - started)  # fmt: skip


def _write_pages(
    tables: dict[str, pl.DataFrame],
    published: tuple[pafs.FileSystem, str],
    warehouse: Path | None,
    root: Path,
    site: Path,
) -> int:
    """Every page of the site into `site`; returns how many."""
    environment = _environment()
    entities, sources, figures = tables["entities"], tables["sources"], tables["figures"]
    links = Links(entities.filter(pl.col("entity").is_in(figures["subject"].unique().to_list())))
    rows = figure_rows(figures, sources, tables["claim_checks"], links)
    figures_by_id = {row["figure_id"]: row for row in rows}
    by_source: dict[str, list[dict[str, Any]]] = defaultdict(list)
    by_subject: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_source[row["source_id"]].append(row)
        by_subject[row["subject"]].append(row)
    built = tables["release_info"].row(0, named=True)
    context = {"built_at": built["built_at"].strftime("%Y-%m-%d %H:%M UTC"), "version": built["version"]}
    pages = 0

    def page(path: str, template: str, **values: Any) -> None:
        nonlocal pages
        depth = path.count("/")
        html = environment.get_template(template).render(root="../" * depth, **context, **values)
        (site / path).parent.mkdir(parents=True, exist_ok=True)
        (site / path).write_text(html, encoding="utf-8")
        pages += 1

    (site / "assets").mkdir()
    for path in STATIC.iterdir():
        shutil.copyfile(path, site / "assets" / path.name)
    (site / "assets" / "search-index.js").write_text(search_index(rows), encoding="utf-8")
    downloads = _downloads(warehouse, published, list(tables), site)

    # The build's charts, with their descriptions as alt text.
    charts = []
    for name, (_, draw) in CHARTS.items():
        source = root / CHART_DIR / f"{name}.svg"
        if source.exists():
            (site / "charts").mkdir(exist_ok=True)
            shutil.copyfile(source, site / "charts" / f"{name}.svg")
            charts.append({"src": f"charts/{name}.svg", "alt": " ".join((draw.__doc__ or name).split())})

    # Entities with figures, by type.
    with_figures = entities.filter(pl.col("entity").is_in(list(by_subject)))
    annual, coverage = tables["annual_metrics"], tables["grid_coverage"]
    runs, checks = tables["training_runs"], tables["claim_checks"]
    per_request, measurements = tables["per_request"], tables["inference_measurements"]
    lists: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for entity in with_figures.sort("entity").iter_rows(named=True):
        name, href = entity["entity"], links.entity[entity["entity"]]
        own = by_subject[name]
        lists[entity["entity_type"]].append({"name": name, "href": href, "figures": len(own)})
        series = series_of(annual, name)
        chart = None
        if series:
            svg = f"charts/{href.removesuffix('.html')}.svg"
            chart = {"src": svg, "alt": series_chart(name, series, site / svg)}
        page(
            href,
            "entity.html",
            title=name,
            entity=entity,
            kind=ENTITY_FOLDERS[entity["entity_type"]][1],
            parent_href=links.entity.get(entity["parent"] or ""),
            figures=own,
            grid=_grid_table(coverage, name, links),
            series=series,
            chart=chart,
            runs=_training_runs(runs, name, figures_by_id, links),
            per_request=[
                {**r, "shown": span(r["value"], r["low"], r["high"]), "href": links.figure(r["figure_id"])}
                for r in per_request.filter(pl.col("subject") == name).iter_rows(named=True)
            ],
            measured=_measured(measurements, name),
            checks=_checks(checks, {row["figure_id"] for row in own}, figures_by_id),
        )
    for kind, (folder, heading) in ENTITY_FOLDERS.items():
        page(f"{folder}/index.html", "list.html", title=heading, items=lists.get(kind, []))

    for source in sources.sort("source_id").iter_rows(named=True):
        page(
            links.source(source["source_id"]),
            "source.html",
            title=source["title"],
            source=source,
            figures=by_source.get(source["source_id"], []),
            cited=[(cited, links.source(cited)) for cited in source["cites"] or []],
        )
    page(
        "sources/index.html",
        "sources.html",
        title="Sources",
        sources=[
            {**s, "href": links.source(s["source_id"])}
            for s in sources.sort("published", descending=True).iter_rows(named=True)
        ],
    )
    inconsistent = checks.filter(pl.col("status") == "inconsistent").sort("kind", "check_id")
    page(
        "claim-checks.html",
        "claim_checks.html",
        title="Claim checks",
        counts=checks.group_by("kind", "status").len().sort("kind", "status").iter_rows(named=True),
        checks=_checks(inconsistent, set(figures.get_column("figure_id").to_list()), figures_by_id),
    )
    per_request_rows = [
        {**r, "shown": span(r["value"], r["low"], r["high"]), "href": links.figure(r["figure_id"]),
         "subject_href": links.entity.get(r["subject"])}
        for r in per_request.sort("subject", "quantity", "value").iter_rows(named=True)
    ]  # fmt: skip
    page("per-request.html", "per_request.html", title="Per request", rows=per_request_rows)
    page("search.html", "search.html", title="Search")
    counts = {
        "documents": sources.height,
        "figures": figures.height,
        "documents_by_kind": sources.group_by("kind").len().sort("len", descending=True).iter_rows(),
        "entities_by_type": [
            (heading, len(lists[kind]), f"{folder}/index.html")
            for kind, (folder, heading) in ENTITY_FOLDERS.items()
            if lists.get(kind)
        ],
        "checks_by_status": checks.group_by("status").len().sort("status").iter_rows(),
        "runs": runs.height,
    }
    page("index.html", "index.html", title="AI Footprints", counts=counts, charts=charts, downloads=downloads)
    return pages
