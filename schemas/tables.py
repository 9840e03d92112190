"""Pandera schemas of the published tables (contract section 2).

One schema per table: column types, nullability, allowed values, keys, and a
description and unit per column. The asset checks, the DuckDB column comments and
docs/data-dictionary.md are generated from these, so they are written once.
"""

from __future__ import annotations

from typing import get_args

import pandera.polars as pa
import polars as pl

from schemas.inputs import QUOTE_MAX_CHARS, Basis, DocumentKind, EntityType, MetricKind, Qualifier

Strings = pl.List(pl.String)
BASES = list(get_args(Basis))
METRIC_KINDS = list(get_args(MetricKind))
QUALIFIERS = list(get_args(Qualifier))
ENTITY_TYPES = list(get_args(EntityType))
CLAIM_KINDS = ["restatement", "physics", "specification", "bottom_up", "reported_change", "cross_source"]
DOCUMENT_KINDS = list(get_args(DocumentKind))


def column(
    dtype: pl.DataType | type[pl.DataType],
    description: str,
    *,
    unit: str | None = None,
    nullable: bool = False,
    checks: list[pa.Check] | None = None,
) -> pa.Column:
    """A column with its description and (where it has one) unit."""
    return pa.Column(dtype, checks=checks, nullable=nullable, description=description, metadata={"unit": unit})


def non_negative(description: str, unit: str, *, nullable: bool = True) -> pa.Column:
    return column(pl.Float64, description, unit=unit, nullable=nullable, checks=[pa.Check.ge(0)])


def table(name: str, description: str, key: list[str], columns: dict[str, pa.Column]) -> pa.DataFrameSchema:
    return pa.DataFrameSchema(
        columns,
        name=name,
        description=description,
        unique=key,
        strict=True,
        ordered=True,
        metadata={"primary_key": key},
    )


SOURCES = table(
    "sources",
    "One row per source document: who published it, when, where, and how many figures it gives.",
    ["source_id"],
    {
        "source_id": column(pl.String, "Document id, the stem of sources/documents/<id>.yaml."),
        "title": column(pl.String, "Title as the document gives it."),
        "publisher": column(pl.String, "Publisher as the document gives it."),
        "published": column(pl.String, "Publication date as written: YYYY, YYYY-MM or YYYY-MM-DD."),
        "kind": column(pl.String, "Kind of document.", checks=[pa.Check.isin(DOCUMENT_KINDS)]),
        "language": column(pl.String, "ISO 639-1 language code.", checks=[pa.Check.str_matches(r"^[a-z]{2}$")]),
        "url": column(pl.String, "Where the document can be read.", nullable=True),
        "authors": column(Strings, "Authors, where the document names them.", nullable=True),
        "license": column(pl.String, "The document's licence, where known.", nullable=True),
        "accessed": column(pl.String, "When the document was read, where recorded.", nullable=True),
        "notes": column(pl.String, "Curator's notes: version, boundary, what was left out and why.", nullable=True),
        "cites": column(Strings, "Ids of documents this one takes figures from."),
        "work": column(
            pl.String,
            "The work the document is a version, edition or copy of (arxiv:…, doi:…, url:…), or source:<source_id> "
            "where it is its own: documents of one work are not independent sources.",
        ),
        "figure_count": column(pl.Int64, "Number of figures entered from the document.", checks=[pa.Check.ge(0)]),
        "source_file": column(pl.String, "The source file the row comes from."),
    },
)

ENTITIES = table(
    "entities",
    "Who and what figures are about: organisations, models, hardware, facilities, regions.",
    ["entity"],
    {
        "entity": column(pl.String, "Canonical entity name."),
        "entity_type": column(pl.String, "Kind of entity.", checks=[pa.Check.isin(ENTITY_TYPES)]),
        "parent": column(
            pl.String, "The entity this one belongs to (a model's developer, a chip's maker).", nullable=True
        ),
        "aliases": column(Strings, "Other names that sources use; matched exactly after trimming, case-insensitive."),
        "zone": column(
            pl.String, "A country's ISO 3166-1 alpha-3 code, the zone of grid_intensity (regions only).", nullable=True
        ),
    },
)

METRICS = table(
    "metrics",
    "The metric vocabulary: what each metric measures and its canonical unit.",
    ["metric"],
    {
        "metric": column(pl.String, "Metric id (snake_case)."),
        "description": column(pl.String, "What is measured and its boundary."),
        "unit": column(pl.String, "Canonical unit that every figure of the metric is converted to (pint syntax)."),
        "dimension": column(pl.String, "Physical dimension of the canonical unit."),
        "kind": column(
            pl.String,
            "amount (over a period or run), rate (per time), intensity (per unit of something else), share, change, "
            "multiple, count or property.",
            checks=[pa.Check.isin(METRIC_KINDS)],
        ),
        "relative_to": column(
            pl.String,
            "For a share, change or multiple whose whole is fixed: the metric it is relative to.",
            nullable=True,
        ),
        "baseline": column(pl.Boolean, "Whether each figure names a baseline period (a change from a baseline)."),
        "substance": column(pl.String, "'water' where a mass as written converts to volume at 1 kg/L.", nullable=True),
        "signed": column(pl.Boolean, "Whether negative values are allowed."),
        "accounting": column(pl.Boolean, "Whether its figures say how emissions are accounted (market/location)."),
        "training_column": column(
            pl.String, "The training_runs column its figures supply (an input or a reported output).", nullable=True
        ),
        "annual_series": column(pl.Boolean, "Whether its figures of organisations form annual_metrics series."),
        "per_request": column(pl.String, "Quantity of per_request it gives for one request.", nullable=True),
        "per_requests": column(
            pl.String, "Quantity of per_request it gives for a stated number of requests.", nullable=True
        ),
        "intensity_per": column(pl.String, "The metric it is divided by in intensities.", nullable=True),
        "intensity_unit": column(pl.String, "Unit of that intensity.", nullable=True),
        "specification": column(pl.Boolean, "Whether it is a hardware specification compared across documents."),
        "impossible_below": column(pl.Float64, "Figures below this are refused (canonical unit).", nullable=True),
        "impossible_above": column(pl.Float64, "Figures above this are refused (canonical unit).", nullable=True),
        "implausible_below": column(pl.Float64, "Figures below this are marked implausible.", nullable=True),
        "implausible_above": column(pl.Float64, "Figures above this are marked implausible.", nullable=True),
    },
)

BOUNDARIES = table(
    "boundaries",
    "What a figure counts (figures.boundary): which operations, how much of the machinery, which water, how much "
    "of a device.",
    ["boundary"],
    {
        "boundary": column(pl.String, "Boundary id."),
        "description": column(pl.String, "What it counts."),
        "applies_to": column(Strings, "Entity types whose figures may use it."),
    },
)


def vocabulary(name: str, key: str, description: str) -> pa.DataFrameSchema:
    """The table of one figure dimension's values: each id and what it means."""
    return table(
        name,
        description,
        [key],
        {key: column(pl.String, f"The {key} id (figures.{key})."), "description": column(pl.String, "What it means.")},
    )


ACCOUNTING_METHODS = vocabulary(
    "accounting_methods", "accounting", "How an emissions figure is accounted (figures.accounting)."
)
STATISTICS = vocabulary(
    "statistics",
    "statistic",
    "What kind of number a figure is (figures.statistic): a total, a mean, a peak, a rating ...",
)
PERIOD_KINDS = vocabulary(
    "period_kinds",
    "period_kind",
    "What time a figure covers (figures.period_kind): a calendar or fiscal year, a run, a target ...",
)

FIGURES = table(
    "figures",
    "Every figure of every source document, as written and in its metric's canonical unit, with provenance.",
    ["figure_id"],
    {
        "figure_id": column(pl.String, "<source_id>/<figure id>."),
        "source_id": column(pl.String, "Document the figure comes from (sources.source_id)."),
        "subject": column(pl.String, "Canonical name of the entity the figure is about (entities.entity)."),
        "subject_type": column(pl.String, "Type of the subject entity.", checks=[pa.Check.isin(ENTITY_TYPES)]),
        "metric": column(pl.String, "Metric id (metrics.metric)."),
        "value": column(
            pl.Float64, "The figure in the canonical unit; null where only a range is given.", nullable=True
        ),
        "low": column(pl.Float64, "Low end of a range, canonical unit.", nullable=True),
        "high": column(pl.Float64, "High end of a range, canonical unit.", nullable=True),
        "unit": column(pl.String, "The metric's canonical unit, pint-parseable."),
        "value_as_written": column(
            pl.String, "The value exactly as the contributor wrote it, before conversion.", nullable=True
        ),
        "low_as_written": column(pl.String, "Low end as written.", nullable=True),
        "high_as_written": column(pl.String, "High end as written.", nullable=True),
        "unit_as_written": column(pl.String, "Unit as the source writes it, e.g. 万度, billion gallon."),
        "conversion_factor": column(
            pl.Float64,
            "Factor from unit_as_written to unit (value = value_as_written × factor).",
            checks=[pa.Check.gt(0)],
        ),
        "period": column(pl.String, "Period as written: YYYY, YYYY-MM, YYYY-MM-DD or START/END.", nullable=True),
        "period_start": column(pl.Date, "First day the period covers.", nullable=True),
        "period_end": column(pl.Date, "Last day the period covers.", nullable=True),
        "basis": column(pl.String, "reported, estimated, projected or claimed.", checks=[pa.Check.isin(BASES)]),
        "qualifier": column(pl.String, "= exact, ~ approximate, > < >= <= bounds.", checks=[pa.Check.isin(QUALIFIERS)]),
        "hardware": column(pl.String, "Hardware entity a count, hours or per-device figure refers to.", nullable=True),
        "boundary": column(pl.String, "What the figure counts (boundaries.boundary); unknown where not stated."),
        "accounting": column(
            pl.String,
            "How emissions are accounted (accounting_methods.accounting): market_based, location_based, unstated; "
            "not_applicable for figures that are not (changes or shares of) emissions.",
        ),
        "statistic": column(
            pl.String, "What kind of number it is (statistics.statistic): total, mean, peak, rated ..."
        ),
        "period_kind": column(
            pl.String, "What time it covers (period_kinds.period_kind): calendar_year, fiscal_year, run, target ..."
        ),
        "fiscal_year_end_month": column(pl.Int64, "For a fiscal year: the month it ends (1-12).", nullable=True),
        "relative_to_metric": column(
            pl.String,
            "For a share, change or multiple: the metric it is a share, change or multiple of.",
            nullable=True,
        ),
        "part_metric": column(
            pl.String,
            "For a share whose part is measured by another metric than the whole (scope 3 of total emissions): "
            "the part's metric.",
            nullable=True,
        ),
        "baseline_period": column(
            pl.String, "For a change from a baseline: the baseline period as written.", nullable=True
        ),
        "baseline_start": column(pl.Date, "First day of the baseline period.", nullable=True),
        "baseline_end": column(pl.Date, "Last day of the baseline period.", nullable=True),
        "reference_figure_id": column(
            pl.String, "The figure of the same document this one is relative to, where given.", nullable=True
        ),
        "implausible": column(
            pl.String,
            "Why the value is implausible for its metric (outside its plausible bounds); null if not.",
            nullable=True,
        ),
        "check_status": column(
            pl.String,
            "consistent, inconsistent (at least one claim check it takes part in fails) or unchecked.",
            checks=[pa.Check.isin(["consistent", "inconsistent", "unchecked"])],
        ),
        "check_ids": column(Strings, "The claim_checks this figure takes part in."),
        "scope": column(pl.String, "The figure's boundary in the curator's words: a note, not a key.", nullable=True),
        "equals_figure_id": column(pl.String, "Figure of the same document that this one restates.", nullable=True),
        "locator": column(pl.String, "Page, section or table where the figure stands.", nullable=True),
        "quote": column(
            pl.String,
            f"Short excerpt (at most {QUOTE_MAX_CHARS} characters) in the source's language.",
            nullable=True,
            checks=[pa.Check.str_length(max_value=QUOTE_MAX_CHARS)],
        ),
        "subject_as_written": column(pl.String, "The subject name or alias as the contributor wrote it."),
        "source_file": column(pl.String, "The source file the figure was entered in."),
        "figure_order": column(pl.Int64, "Position of the figure in its source file, from 0.", checks=[pa.Check.ge(0)]),
    },
)

TRAINING_RUNS = table(
    "training_runs",
    "One row per (model, source document) that gives accelerator-hours or a reported training footprint; "
    "computed by the formulas of docs/methods.md beside what the document reports.",
    ["model", "source_id"],
    {
        "model": column(pl.String, "Model entity."),
        "source_id": column(pl.String, "Document all of the row's own inputs come from."),
        "hardware": column(pl.String, "Accelerator the run used, as the document names it.", nullable=True),
        "accelerator_count": non_negative("Number of accelerators.", "count"),
        "training_duration_h": non_negative("Wall-clock training time.", "hour"),
        "accelerator_hours": non_negative("Accelerator-hours: as reported, else count × duration.", "hour"),
        "accelerator_hours_low": non_negative("Low end of accelerator-hours.", "hour"),
        "accelerator_hours_high": non_negative("High end of accelerator-hours.", "hour"),
        "power_per_accelerator_w": non_negative("Power per accelerator: as reported, else the hardware's TDP.", "W"),
        "power_from_tdp": column(pl.Boolean, "True where power_per_accelerator_w is the hardware's TDP figure."),
        "power_statistic": column(
            pl.String,
            "What power_per_accelerator_w is: mean (a measured average), peak or rated (a TDP): energies from a peak "
            "or a rating are upper bounds of the draw.",
            nullable=True,
        ),
        "power_boundary": column(
            pl.String,
            "What power_per_accelerator_w counts: accelerators, it_equipment, or facility (the overhead already in: "
            "then energy_mwh is hours × power, with no PUE, and accelerator_energy_mwh is null).",
            nullable=True,
        ),
        "pue": non_negative("Power usage effectiveness: the document's, else the default factor.", "dimensionless"),
        "carbon_intensity_kg_per_kwh": non_negative(
            "Grid carbon intensity: the document's, else the default factor.", "kg/kWh"
        ),
        "wue_l_per_kwh": non_negative("On-site water usage effectiveness: the document's, else the default.", "L/kWh"),
        "ewif_l_per_kwh": non_negative(
            "Off-site water intensity of electricity: the document's, else the default.", "L/kWh"
        ),
        "accelerator_energy_mwh": non_negative("accelerator_hours × power_per_accelerator_w (before PUE).", "MWh"),
        "accelerator_energy_mwh_reported": non_negative(
            "Energy of the accelerators alone that the document reports for the run.", "MWh"
        ),
        "energy_mwh": non_negative("accelerator_energy_mwh × pue.", "MWh"),
        "energy_mwh_low": non_negative("Low end of energy_mwh.", "MWh"),
        "energy_mwh_high": non_negative("High end of energy_mwh.", "MWh"),
        "energy_mwh_reported": non_negative("Training energy the document reports for the model.", "MWh"),
        "co2e_t": non_negative("energy_mwh × carbon_intensity_kg_per_kwh (kg/kWh = t/MWh).", "t"),
        "co2e_t_low": non_negative("Low end of co2e_t.", "t"),
        "co2e_t_high": non_negative("High end of co2e_t.", "t"),
        "co2e_t_reported": non_negative("Training emissions the document reports.", "t"),
        "water_onsite_m3": non_negative("(energy_mwh / pue) × wue_l_per_kwh (L/kWh = m³/MWh).", "m³"),
        "water_onsite_m3_low": non_negative("Low end of water_onsite_m3.", "m³"),
        "water_onsite_m3_high": non_negative("High end of water_onsite_m3.", "m³"),
        "water_offsite_m3": non_negative("energy_mwh × ewif_l_per_kwh.", "m³"),
        "water_offsite_m3_low": non_negative("Low end of water_offsite_m3.", "m³"),
        "water_offsite_m3_high": non_negative("High end of water_offsite_m3.", "m³"),
        "water_m3_reported": non_negative("Training water the document reports.", "m³"),
        "missing_inputs": column(
            Strings, "Inputs neither the document nor a default gives; outputs that need them are null."
        ),
        "defaulted_inputs": column(
            Strings, "Inputs taken from a default factor (see factors) rather than the document."
        ),
        "inputs": column(
            pl.List(pl.Struct({"input": pl.String, "figure_id": pl.String, "origin": pl.String})),
            "Each input's figure and origin: document, hardware_tdp or default (view training_run_inputs unnests it).",
        ),
        "inputs_with_alternatives": column(
            Strings, "Inputs the document gives more than once (another scope, a total); the first figure is used."
        ),
        "location": column(
            pl.String,
            "Where the document says the run ran (run_locations): a region entity; null: not stated.",
            nullable=True,
        ),
        "zone": column(pl.String, "ISO 3166-1 alpha-3 zone of location (a state's country).", nullable=True),
        "carbon_intensity_origin": column(
            pl.String,
            "Where carbon_intensity_kg_per_kwh comes from: document, zone_default (the zone's snapshot row, for a run "
            "whose document says where it ran but gives no intensity) or default (the default factor); null: none.",
            nullable=True,
        ),
        "carbon_intensity_year": column(
            pl.Int32,
            "For a zone default: the year of the snapshot row, the nearest to the run's year (run_locations.year).",
            nullable=True,
        ),
        "carbon_intensity_snapshot": column(
            pl.String, "For a zone default: the snapshot (snapshots.snapshot).", nullable=True
        ),
        "carbon_intensity_upstream_key": column(
            pl.String, "For a zone default: the upstream's key of the row (grid_intensity.upstream_key).", nullable=True
        ),
    },
)

RUN_LOCATIONS = table(
    "run_locations",
    "Where training runs ran, as their documents state it (sources/run_locations.yaml), with the zone whose grid "
    "intensity a run without one of its own takes.",
    ["model", "source_id"],
    {
        "model": column(pl.String, "Model entity of the run."),
        "source_id": column(pl.String, "The run's document, which states the location."),
        "location": column(pl.String, "Region entity: a country, or a state of one."),
        "zone": column(pl.String, "ISO 3166-1 alpha-3 code of the location's country."),
        "year": column(pl.Int32, "When the run ran: as the document states it, else the document's publication year."),
        "year_stated": column(pl.Boolean, "True where the document states the year."),
        "locator": column(pl.String, "Where in the document the location is stated."),
        "quote": column(pl.String, "The document's words (at most 200 characters)."),
    },
)

FACTORS = table(
    "factors",
    "Default factors: the figure each training-run input falls back to when the run's document lacks it.",
    ["factor"],
    {
        "factor": column(pl.String, "pue, grid_carbon_intensity, wue or ewif."),
        "figure_id": column(pl.String, "The figure the default is (figures.figure_id)."),
        "source_id": column(pl.String, "Document of that figure."),
        "subject": column(pl.String, "What the figure is about (an industry, a region)."),
        "value": column(pl.Float64, "The default, in unit."),
        "low": column(pl.Float64, "Low end where the figure gives a range.", nullable=True),
        "high": column(pl.Float64, "High end where the figure gives a range.", nullable=True),
        "unit": column(pl.String, "Canonical unit of the factor's metric."),
        "period": column(pl.String, "Period of the figure as written.", nullable=True),
        "reason": column(pl.String, "Why this figure is the default (sources/factors.yaml)."),
    },
)

ANNUAL_METRICS = table(
    "annual_metrics",
    "Organisation or facility × metric × boundary × accounting × statistic × calendar or fiscal year, from the "
    "latest report that gives it, with the change from the year before.",
    ["subject", "metric", "boundary", "accounting", "statistic", "period_start", "period_end"],
    {
        "subject": column(pl.String, "Organisation or facility (entities.entity)."),
        "metric": column(pl.String, "Metric id."),
        "boundary": column(pl.String, "What is counted (boundaries.boundary)."),
        "accounting": column(pl.String, "How emissions are accounted (accounting_methods.accounting)."),
        "statistic": column(pl.String, "What kind of number (statistics.statistic)."),
        "period_kind": column(pl.String, "calendar_year or fiscal_year."),
        "period_start": column(pl.Date, "First day of the twelve-month period (a fiscal year where reported so)."),
        "period_end": column(pl.Date, "Last day of the period."),
        "year": column(pl.Int32, "Calendar year the period ends in."),
        "value": column(pl.Float64, "The value, in unit: from the most recently published document giving this cell."),
        "unit": column(pl.String, "Canonical unit."),
        "figure_id": column(pl.String, "The figure the value is."),
        "source_id": column(pl.String, "Its document."),
        "scope": column(pl.String, "The chosen figure's note on its boundary.", nullable=True),
        "documents": column(pl.UInt32, "How many documents give this cell."),
        "min_value": column(pl.Float64, "Smallest value any document gives for the cell."),
        "max_value": column(pl.Float64, "Largest value any document gives for the cell."),
        "restated": column(
            pl.Boolean, "Whether an earlier-published document gave another value (the later report restates it)."
        ),
        "previous_value": column(pl.Float64, "The same series' value for the period a year earlier.", nullable=True),
        "previous_figure_id": column(pl.String, "The figure previous_value is.", nullable=True),
        "yoy_change_pct": column(
            pl.Float64,
            "(value − previous_value) / previous_value × 100; null for shares.",
            unit="percent",
            nullable=True,
        ),
        "yoy_change_points": column(
            pl.Float64, "For shares (unit percent): value − previous_value.", unit="percentage points", nullable=True
        ),
    },
)

EQUIVALENCES = table(
    "equivalences",
    "Human-scale references any volume or energy can be expressed in, each the figure of a cited document.",
    ["equivalence"],
    {
        "equivalence": column(pl.String, "Name of the reference, e.g. olympic_pool."),
        "description": column(pl.String, "What one unit of the reference is."),
        "value": column(pl.Float64, "Size of one reference, in unit (divide a quantity in unit by this)."),
        "unit": column(pl.String, "Canonical unit of the reference's figure (m³, MWh)."),
        "figure_id": column(pl.String, "The figure giving the size."),
        "source_id": column(pl.String, "Its document."),
        "period": column(pl.String, "Period of the figure as written.", nullable=True),
    },
)

PER_REQUEST = table(
    "per_request",
    "Inference energy, water and emissions per request: as documents give them, or divided from a stated "
    "number of requests.",
    ["figure_id"],
    {
        "figure_id": column(pl.String, "The figure of the quantity (per request, or for a stated number of requests)."),
        "subject": column(pl.String, "Model or service."),
        "source_id": column(pl.String, "Document."),
        "quantity": column(
            pl.String, "energy, water or emissions.", checks=[pa.Check.isin(["energy", "water", "emissions"])]
        ),
        "value": column(pl.Float64, "Per request, in unit.", nullable=True),
        "low": column(pl.Float64, "Low end per request.", nullable=True),
        "high": column(pl.Float64, "High end per request.", nullable=True),
        "unit": column(pl.String, "Wh, mL or g (CO2e)."),
        "boundary": column(
            pl.String, "What the figure counts: accelerators, it_equipment, full_stack, water_onsite ..."
        ),
        "accounting": column(pl.String, "How emissions are accounted (not_applicable for energy and water)."),
        "statistic": column(pl.String, "mean, median, total ... (statistics.statistic)."),
        "derived": column(pl.Boolean, "True where divided from a figure for a stated number of requests."),
        "figure_ids": column(Strings, "Figures used (the quantity, then the request count)."),
        "scope": column(pl.String, "Boundary of the quantity's figure.", nullable=True),
    },
)

INTENSITIES = table(
    "intensities",
    "Water or emissions per unit of electricity for one subject, year, boundary and statistic of annual_metrics "
    "(which metrics divide by which: metrics.intensity_per).",
    ["subject", "numerator", "denominator", "boundary", "accounting", "period_start", "period_end"],
    {
        "subject": column(pl.String, "Organisation or facility."),
        "numerator": column(pl.String, "Metric divided (water or emissions)."),
        "denominator": column(pl.String, "Metric divided by (electricity_consumption)."),
        "boundary": column(pl.String, "Boundary shared by both."),
        "accounting": column(pl.String, "The numerator's accounting (not_applicable for water)."),
        "period_start": column(pl.Date, "First day of the period."),
        "period_end": column(pl.Date, "Last day of the period."),
        "year": column(pl.Int32, "Calendar year the period ends in."),
        "value": column(pl.Float64, "The intensity, in unit."),
        "unit": column(pl.String, "L/kWh or kg/kWh."),
        "figure_ids": column(Strings, "Numerator figure, then denominator figure."),
    },
)

GRID_MEASURES = table(
    "grid_measures",
    "The measures of the grid (sources/grid.yaml): which metrics and accounting each takes, its boundaries in "
    "order of preference, its column in the grid_wide view, and whether it is a measure of the headline grid.",
    ["measure"],
    {
        "measure": column(pl.String, "Measure id."),
        "metrics": column(Strings, "The metrics it takes, the first preferred."),
        "accounting": column(Strings, "The accounting methods it takes, in order of preference (null: any).",
                             nullable=True),
        "boundaries": column(Strings, "Its boundaries in order of preference for grid_wide and grid_coverage."),
        "wide_column": column(pl.String, "Its column in the grid_wide view, named with its unit."),
        "headline": column(pl.Boolean, "Whether it is one of the headline grid's nine measures."),
        "position": column(pl.Int64, "Its order in grid.yaml."),
    },
)  # fmt: skip

GRID = table(
    "grid",
    "Each organisation's annual values of the grid's measures (electricity, water, emissions by scope and method, "
    "clean energy, PUE), one row per organisation × year × measure × boundary × accounting, from annual_metrics.",
    ["organisation", "subject", "year", "measure", "metric", "boundary", "accounting", "statistic"],
    {
        "organisation": column(pl.String, "Organisation: the subject, or its parent (Amazon for Amazon Web Services)."),
        "subject": column(pl.String, "The entity the figure is about."),
        "year": column(pl.Int32, "Calendar year the reporting period ends in (a fiscal year where reported so)."),
        "measure": column(pl.String, "Grid measure (grid_measures.measure)."),
        "metric": column(pl.String, "Metric of the value."),
        "boundary": column(pl.String, "What is counted."),
        "accounting": column(pl.String, "How emissions are accounted (not_applicable otherwise)."),
        "statistic": column(pl.String, "total, or mean for PUE."),
        "period_start": column(pl.Date, "First day of the reporting period."),
        "period_end": column(pl.Date, "Last day of the reporting period."),
        "value": column(pl.Float64, "The value, in unit: from the latest report that gives it."),
        "unit": column(pl.String, "Canonical unit."),
        "figure_id": column(pl.String, "The figure the value is."),
        "source_id": column(pl.String, "Its document."),
        "documents": column(pl.UInt32, "How many documents give this cell."),
        "min_value": column(pl.Float64, "Smallest value any document gives."),
        "max_value": column(pl.Float64, "Largest value any document gives."),
        "restated": column(pl.Boolean, "Whether an earlier-published document gave another value."),
        "own_report": column(pl.Boolean, "Whether the value comes from the organisation's own sustainability report."),
        "preferred": column(
            pl.Boolean, "The row grid_wide and grid_coverage show for this organisation, year and measure."
        ),
    },
)

GRID_COVERAGE = table(
    "grid_coverage",
    "Each cell of the grid (grid.yaml: organisations × measures × years): filled, with its preferred value, or a "
    "gap with the reason sources/gaps.yaml gives (unexplained where it gives none). headline marks the cells of "
    "the headline grid (four organisations, nine measures).",
    ["subject", "measure", "year"],
    {
        "subject": column(pl.String, "Organisation."),
        "measure": column(pl.String, "Grid measure."),
        "year": column(pl.Int32, "Year."),
        "headline": column(
            pl.Boolean, "Whether the cell is one of the headline grid's (a headline organisation and measure)."
        ),
        "status": column(pl.String, "filled or gap.", checks=[pa.Check.isin(["filled", "gap"])]),
        "reported_for": column(
            pl.String, "The entity the value is about (the organisation, or a subsidiary such as AWS).", nullable=True
        ),
        "boundary": column(pl.String, "Boundary of the value shown.", nullable=True),
        "accounting": column(
            pl.String, "How the value shown accounts emissions (not_applicable for other measures).", nullable=True
        ),
        "value": column(pl.Float64, "The preferred value, in unit.", nullable=True),
        "unit": column(pl.String, "Canonical unit.", nullable=True),
        "figure_id": column(pl.String, "The figure the value is.", nullable=True),
        "own_report": column(pl.Boolean, "Whether from the organisation's own report.", nullable=True),
        "restated": column(pl.Boolean, "Whether a later report restates an earlier value.", nullable=True),
        "gap_reason": column(
            pl.String,
            "For a gap: not_published, image_only, no_stored_copy, or unexplained.",
            nullable=True,
            checks=[pa.Check.isin(["not_published", "image_only", "no_stored_copy", "unexplained"])],
        ),
        "gap_note": column(pl.String, "For a gap: what was searched, where it stands.", nullable=True),
    },
)

CLAIM_CHECKS = table(
    "claim_checks",
    "Checks of what sources claim, against each other and against physics: restatements, physical "
    "equivalences, hardware specifications, bottom-up training footprints, stated changes and cross-source "
    "agreement.",
    ["check_id"],
    {
        "check_id": column(
            pl.String,
            "<kind>:<what is checked>: the claim's figure_id (restatement, physics, specification, "
            "reported_change), <model>@<source_id>:<output column> (bottom_up), or both figure_ids joined by | "
            "(cross_source).",
        ),
        "kind": column(
            pl.String,
            "restatement, physics, specification, bottom_up, reported_change or cross_source.",
            checks=[pa.Check.isin(CLAIM_KINDS)],
        ),
        "figure_ids": column(Strings, "The claim's figure first, then the figures it is checked against."),
        "claimed_value": column(
            pl.Float64, "The claim, in unit (midpoint of a range, finite end of a bound).", nullable=True
        ),
        "expected_value": column(pl.Float64, "What the check expects, in unit (midpoint of a range).", nullable=True),
        "unit": column(pl.String, "Canonical unit of both values."),
        "relative_error": column(
            pl.Float64,
            "Relative distance between claim and expectation (0 where ranges overlap).",
            checks=[pa.Check.ge(0)],
        ),
        "tolerance": column(
            pl.Float64, "Largest relative_error that counts as consistent for this check.", checks=[pa.Check.ge(0)]
        ),
        "status": column(
            pl.String, "consistent or inconsistent.", checks=[pa.Check.isin(["consistent", "inconsistent"])]
        ),
        "explanation": column(pl.String, "The comparison in words."),
    },
)


def provenance() -> dict[str, pa.Column]:
    """The columns that say where an upstream row comes from (instead of a quote and locator)."""
    return {
        "snapshot": column(pl.String, "The snapshot the row comes from (snapshots.snapshot)."),
        "upstream_file": column(pl.String, "The snapshot's file it is read from, as the upstream names it."),
        "upstream_key": column(pl.String, "The upstream's own key of the row in that file."),
    }


SNAPSHOTS = table(
    "snapshots",
    "One row per upstream dataset kept as a snapshot under sources/snapshots/: where its files come from, its "
    "licence, and the sha256 of every file.",
    ["snapshot"],
    {
        "snapshot": column(pl.String, "Snapshot name: its folder under sources/snapshots/."),
        "title": column(pl.String, "What the upstream is."),
        "description": column(pl.String, "What its files' rows are."),
        "origin": column(pl.String, "Pinned origin: <PyPI package>==<version>, or <repository>@<commit>."),
        "url": column(pl.String, "Where the upstream is published."),
        "licence": column(pl.String, "Licence id (sources/licences.yaml; SPDX where there is one)."),
        "licence_url": column(pl.String, "The licence's text.", nullable=True),
        "licence_source": column(pl.String, "Where the upstream states its licence."),
        "retrieved": column(pl.Date, "When the files were taken from the origin."),
        "files": column(Strings, "The files kept, by their path in the upstream."),
        "sha256": column(Strings, "The sha256 of each file, in the order of files."),
        "rows": column(pl.Int64, "Rows read from its files.", checks=[pa.Check.ge(0)]),
    },
)

GRID_INTENSITY = table(
    "grid_intensity",
    "The carbon intensity of electricity by zone (ISO 3166-1 alpha-3 country), one row per zone and snapshot, "
    "with the other factors of generation the upstream gives: from CodeCarbon (Our World in Data: Ember and the "
    "Energy Institute) and EcoLogits.",
    ["zone", "snapshot"],
    {
        "zone": column(pl.String, "ISO 3166-1 alpha-3 code.", checks=[pa.Check.str_matches(r"^[A-Z]{3}$")]),
        "zone_name": column(pl.String, "Its name, where the upstream gives one.", nullable=True),
        "year": column(pl.Int32, "Year of the values, where the upstream says.", nullable=True),
        "co2e_kg_per_kwh": non_negative("Life-cycle or direct emissions per kWh generated, as the upstream counts.",
                                        "kg CO2e/kWh", nullable=False),
        "wue_l_per_kwh": non_negative("Water consumed per kWh generated (EcoLogits).", "L/kWh"),
        "primary_energy_mj_per_kwh": non_negative("Primary energy per kWh (EcoLogits).", "MJ/kWh"),
        "generation_twh": non_negative("Electricity generated in the year (CodeCarbon).", "TWh"),
        "renewables_twh": non_negative("Of which from renewable sources.", "TWh"),
        "low_carbon_twh": non_negative("Of which low-carbon (renewable and nuclear).", "TWh"),
        "world_stand_ins": column(
            Strings, "The values that are the world average standing in for the zone's (wue, primary_energy)."
        ),
        **provenance(),
    },
)  # fmt: skip

CLOUD_REGIONS = table(
    "cloud_regions",
    "Cloud regions: where each is, Google's hourly carbon-free energy share and the grid's carbon intensity, by "
    "year where the upstream gives one (Google Cloud's region carbon data; CodeCarbon's cloud impacts).",
    ["provider", "region", "year", "snapshot"],
    {
        "provider": column(pl.String, "Cloud provider."),
        "region": column(pl.String, "Region id, as the provider names it (europe-west1, us-east-1)."),
        "location": column(pl.String, "City or area.", nullable=True),
        "country": column(pl.String, "ISO 3166-1 alpha-3 code, where the upstream gives it.", nullable=True),
        "year": column(pl.Int32, "Year of the values, where the upstream says.", nullable=True),
        "carbon_free_energy_pct": column(
            pl.Float64, "Google's hourly carbon-free energy share (CFE%).", unit="percent", nullable=True,
            checks=[pa.Check.in_range(0, 100)],
        ),
        "co2e_kg_per_kwh": non_negative("Average carbon intensity of the region's grid.", "kg CO2e/kWh"),
        "intensity_basis": column(
            pl.String, "operational (direct emissions of generation), life_cycle, or unstated.",
            checks=[pa.Check.isin(["operational", "life_cycle", "unstated"])],
        ),
        "upstream_source": column(pl.String, "Where the upstream says it took the value, where it does.",
                                  nullable=True),
        **provenance(),
    },
)  # fmt: skip

INFERENCE_MEASUREMENTS = table(
    "inference_measurements",
    "Measured GPU energy of inference, one row per model, task and configuration (hardware, batch size): from the "
    "ML.ENERGY leaderboard. The boundary is the accelerators: GPU energy only, no host, network or cooling.",
    ["model_id", "task", "upstream_file", "upstream_key"],
    {
        "model": column(pl.String, "Entity of the model, where an entity's name or alias is model_id.",
                        nullable=True),
        "model_id": column(pl.String, "The model's Hugging Face id."),
        "nickname": column(pl.String, "The upstream's display name.", nullable=True),
        "task": column(pl.String, "Benchmark task (lm-arena-chat, gpqa, text-to-image ...)."),
        "output_kind": column(pl.String, "What one output is: response, image or video.",
                              checks=[pa.Check.isin(["response", "image", "video"])]),
        "architecture": column(pl.String, "Dense Transformer or MoE, where given.", nullable=True),
        "total_params_billions": non_negative("Parameters.", "billion"),
        "active_params_billions": non_negative("Parameters active per token.", "billion"),
        "weight_precision": column(pl.String, "Weight precision (bfloat16, fp8).", nullable=True),
        "gpu_model": column(pl.String, "GPU (H100, B200)."),
        "num_gpus": column(pl.Int32, "GPUs serving the model.", checks=[pa.Check.ge(1)]),
        "batch_size": column(pl.Int32, "Maximum concurrent requests (or images) per batch.", nullable=True),
        "avg_batch_size": non_negative("Average running batch size.", "requests"),
        "avg_output_tokens": non_negative("Average output length.", "tokens"),
        "energy_per_output_wh": non_negative(
            "GPU energy per response, image or video (for responses, the upstream's estimate: energy per token × "
            "average output length).", "Wh"),
        "energy_per_token_j": non_negative("GPU energy per output token, in steady state.", "J"),
        "avg_power_w": non_negative("Average GPU power in steady state (all GPUs).", "W"),
        "output_tokens_per_s": non_negative("Output throughput in steady state.", "tokens/s"),
        "median_itl_ms": non_negative("Median inter-token latency.", "ms"),
        "tensor_parallel": column(pl.Int32, "Tensor-parallel degree.", nullable=True),
        "boundary": column(pl.String, "accelerators: what the energy counts (boundaries.id)."),
        "statistic": column(pl.String, "mean: averages over the benchmark's requests."),
        **provenance(),
    },
)  # fmt: skip

MODELS = table(
    "models",
    "EcoLogits' catalogue of the models its providers serve: architecture and parameter counts, joined to our "
    "entities where an entity's name or alias is the model's name.",
    ["provider", "name"],
    {
        "provider": column(pl.String, "Provider as EcoLogits names it (openai, anthropic, huggingface_hub ...)."),
        "name": column(pl.String, "Model name at the provider."),
        "model": column(pl.String, "Entity of the model, where one matches.", nullable=True),
        "architecture": column(pl.String, "dense or moe."),
        "total_params_low_billions": non_negative("Parameters, low end (EcoLogits' estimate where not disclosed).",
                                                  "billion"),
        "total_params_high_billions": non_negative("Parameters, high end.", "billion"),
        "active_params_low_billions": non_negative("Active parameters of a mixture of experts, low end.", "billion"),
        "active_params_high_billions": non_negative("Active parameters, high end.", "billion"),
        "warnings": column(Strings, "EcoLogits' warnings on the model (model-arch-not-released ...)."),
        "sources": column(Strings, "Where EcoLogits found the figures."),
        **provenance(),
    },
)  # fmt: skip


PUBLISHED_TABLES: dict[str, pa.DataFrameSchema] = {
    schema.name: schema
    for schema in (
        SOURCES,
        ENTITIES,
        METRICS,
        BOUNDARIES,
        ACCOUNTING_METHODS,
        STATISTICS,
        PERIOD_KINDS,
        FIGURES,
        FACTORS,
        EQUIVALENCES,
        TRAINING_RUNS,
        RUN_LOCATIONS,
        ANNUAL_METRICS,
        GRID_MEASURES,
        GRID,
        GRID_COVERAGE,
        PER_REQUEST,
        INTENSITIES,
        CLAIM_CHECKS,
        SNAPSHOTS,
        GRID_INTENSITY,
        CLOUD_REGIONS,
        INFERENCE_MEASUREMENTS,
        MODELS,
    )
}

RELEASE_INFO = table(
    "release_info",
    "What a release is: its version, build time and source-tree hash, one row per table with its row count.",
    ["table_name"],
    {
        "version": column(pl.String, "Release version, vYYYY.MM.DD or vYYYY.MM.DD-N."),
        "built_at": column(pl.Datetime("us"), "Build time (UTC): the commit's time unless given."),
        "source_tree_hash": column(pl.String, "SHA-256 over every file of sources/ (path and bytes)."),
        "git_commit": column(pl.String, "Commit the release was built from, where known.", nullable=True),
        "table_name": column(pl.String, "A table of the release."),
        "rows": column(pl.Int64, "Its row count.", checks=[pa.Check.ge(0)]),
    },
)
