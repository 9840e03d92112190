"""The normalised layer: vocabularies resolved, units canonical, periods parsed.

Functions take the raw frames (as written) and return the normalised tables with
every cross-file problem found: unknown metrics, entities or hardware, units that
do not parse or convert, negative quantities, bad periods, `equals` that cannot
be compared, `cites` of unknown documents.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from pipelines.lib.entities import entity_lookup, entity_zones, name_key
from pipelines.lib.errors import SourceError, SourceProblem
from pipelines.lib.grid import normalise_grid
from pipelines.lib.meaning import (
    RELATIVE_KINDS,
    check_bounds,
    check_dimensions,
    check_relative,
    dimension_tables,
    quote_problems,
)
from pipelines.lib.periods import PeriodError, parse_period
from pipelines.lib.physics import EQUIVALENCES
from pipelines.lib.snapshots import load_snapshots
from pipelines.lib.sources import load_sources, raw_frames
from pipelines.lib.units import UnitError, apply_factor, conversion_factors, dimensionality


@dataclass
class Stage:
    """A normalised table and the problems found while making it."""

    frame: pl.DataFrame
    problems: list[SourceProblem] = field(default_factory=list)


def _problems(
    rows: pl.DataFrame, *, field: str, message: pl.Expr, item: str = "id", kind: str = "figure"
) -> list[SourceProblem]:
    """One problem per row of `rows`, message built by a polars expression."""
    frame = rows.select(pl.col("file"), pl.col(item).alias("item"), message.alias("message"))
    return [SourceProblem(file, item_, field, text, kind) for file, item_, text in frame.iter_rows()]


def normalise_metrics(raw: pl.DataFrame) -> Stage:
    problems = _problems(
        raw.filter(pl.col("id").is_duplicated()),
        field="id",
        message=pl.lit("is defined more than once"),
        kind="metric",
    )
    known = raw["id"].to_list()
    for column, key in (("relative_to", "relative_to"), ("intensity_per", "uses.intensity.per")):
        problems += _problems(
            raw.filter(pl.col(column).is_not_null() & ~pl.col(column).is_in(known)),
            field=key,
            message=pl.format("'{}' is not a metric in metrics.yaml", pl.col(column)),
            kind="metric",
        )
    problems += _problems(
        raw.filter(pl.col("relative_to").is_not_null() & ~pl.col("kind").is_in(RELATIVE_KINDS)),
        field="relative_to",
        message=pl.format("belongs only to shares, changes and multiples; this is a {}", "kind"),
        kind="metric",
    )
    dimensions: list[str | None] = []
    for file, metric, unit in raw.select("file", "id", "unit").iter_rows():
        try:
            dimensions.append(dimensionality(unit))
        except UnitError as exc:
            dimensions.append(None)
            problems.append(SourceProblem(file, metric, "unit", str(exc), "metric"))
    frame = raw.select(
        pl.col("id").alias("metric"),
        "description",
        "unit",
        pl.Series("dimension", dimensions, dtype=pl.String),
        "kind",
        "relative_to",
        "baseline",
        "substance",
        "signed",
        "accounting",
        "training_column",
        "annual_series",
        "per_request",
        "per_requests",
        "intensity_per",
        "intensity_unit",
        "specification",
        *(pl.col(name).cast(pl.Float64) for name in BOUND_COLUMNS),
    ).sort("metric")
    return Stage(frame, problems)


BOUND_COLUMNS = ["impossible_below", "impossible_above", "implausible_below", "implausible_above"]


def normalise_entities(raw: pl.DataFrame) -> Stage:
    duplicates = _problems(
        raw.filter(name_key("name").is_duplicated()).unique("name", maintain_order=True),
        field="name",
        item="name",
        kind="entity",
        message=pl.lit("is defined more than once (names are matched case-insensitively)"),
    )
    names = raw.select("file", pl.col("name").alias("item"), name_key("name").alias("key")).unique(maintain_order=True)
    aliases = (
        raw.explode("aliases")
        .drop_nulls("aliases")
        .select("file", pl.col("name").alias("item"), name_key("aliases").alias("key"))
    )
    keys = pl.concat([names, aliases]).unique(maintain_order=True)
    clashes = (
        keys.filter(pl.col("key").is_duplicated())
        .with_columns(others=pl.col("item").unique().sort().str.join(", ").over("key"))
        .filter(pl.col("others").str.contains(","))
    )
    problems = duplicates + _problems(
        clashes,
        field="aliases",
        item="item",
        kind="entity",
        message=pl.format("'{}' names more than one entity ({})", pl.col("key"), pl.col("others")),
    )
    known = set(raw["name"].to_list())
    problems += _problems(
        raw.filter(pl.col("parent").is_not_null() & ~pl.col("parent").is_in(list(known))),
        field="parent",
        item="name",
        kind="entity",
        message=pl.format("'{}' is not an entity name", pl.col("parent")),
    )
    frame = raw.select(
        pl.col("name").alias("entity"),
        pl.col("type").alias("entity_type"),
        "parent",
        "aliases",
        "zone",
    ).sort("entity")
    return Stage(frame, problems)


def normalise_sources(raw_documents: pl.DataFrame, raw_figures: pl.DataFrame) -> Stage:
    known = raw_documents["id"].to_list()
    cited = raw_documents.explode("cites").drop_nulls("cites")
    problems = _problems(
        cited.filter(~pl.col("cites").is_in(known)),
        field="cites",
        item="cites",
        kind="cited document",
        message=pl.lit("is not the id of a document in sources/documents"),
    )
    counts = raw_figures.group_by("source_id").len("figure_count")
    frame = (
        raw_documents.rename({"id": "source_id"})
        .join(counts, on="source_id", how="left")
        .with_columns(
            pl.col("figure_count").fill_null(0).cast(pl.Int64),
            pl.col("file").alias("source_file"),
            pl.coalesce("work", pl.format("source:{}", "source_id")).alias("work"),
        )
        .select(
            "source_id",
            "title",
            "publisher",
            "published",
            "kind",
            "language",
            "url",
            "authors",
            "license",
            "accessed",
            "notes",
            "cites",
            "work",
            "figure_count",
            "source_file",
        )
        .sort("source_id")
    )
    return Stage(frame, problems)


def _resolve(figures: pl.DataFrame, lookup: pl.DataFrame, column: str, entity: str, entity_type: str) -> pl.DataFrame:
    """Add the canonical entity (and its type) that a name or alias in `column` matches."""
    return (
        figures.with_columns(name_key(column).alias("_key"))
        .join(lookup.rename({"key": "_key", "entity": entity, "entity_type": entity_type}), on="_key", how="left")
        .drop("_key")
    )


def normalise_figures(
    raw_figures: pl.DataFrame, metrics: pl.DataFrame, raw_entities: pl.DataFrame, dimensions: pl.DataFrame
) -> Stage:
    """Resolve names, convert units, parse periods, check what each figure means; collect
    every problem."""
    lookup = entity_lookup(raw_entities, "name", "type")
    problems: list[SourceProblem] = []
    figures = raw_figures

    # Vocabularies.
    figures = figures.join(
        metrics.select(
            "metric",
            pl.col("unit").alias("canonical_unit"),
            "dimension",
            "substance",
            "signed",
            pl.col("kind").alias("metric_kind"),
            pl.col("relative_to").alias("metric_relative_to"),
            pl.col("baseline").alias("metric_baseline"),
            pl.col("accounting").alias("metric_accounting"),
            *BOUND_COLUMNS,
        ),
        on="metric",
        how="left",
    )
    problems += _problems(
        figures.filter(pl.col("canonical_unit").is_null()),
        field="metric",
        message=pl.format("'{}' is not a metric in metrics.yaml", pl.col("metric")),
    )
    figures = _resolve(figures, lookup, "subject", "subject_entity", "subject_type")
    problems += _problems(
        figures.filter(pl.col("subject_entity").is_null()),
        field="subject",
        message=pl.format("'{}' is not an entity name or alias in entities.yaml", pl.col("subject")),
    )
    figures = _resolve(figures, lookup, "hardware", "hardware_entity", "hardware_type")
    problems += _problems(
        figures.filter(pl.col("hardware").is_not_null() & (pl.col("hardware_type") != "hardware").fill_null(True)),
        field="hardware",
        message=pl.format("'{}' is not a hardware entity in entities.yaml", pl.col("hardware")),
    )

    # Units: one pint conversion per distinct pair, applied as a column.
    # A metric whose own unit is wrong is reported once, in metrics.yaml, not per figure.
    pairs = figures.filter(pl.col("dimension").is_not_null()).select(
        "unit", pl.col("canonical_unit"), (pl.col("substance") == "water").fill_null(False).alias("water")
    )
    factors = conversion_factors(pairs.rename({"unit": "unit_as_written", "canonical_unit": "unit"})).frame
    figures = figures.with_columns((pl.col("substance") == "water").fill_null(False).alias("water")).join(
        factors.rename({"unit_as_written": "unit", "unit": "canonical_unit"}),
        on=["unit", "canonical_unit", "water"],
        how="left",
    )
    problems += _problems(
        figures.filter(pl.col("unit_error").is_not_null()), field="unit", message=pl.col("unit_error")
    )

    # Values: as-written text -> canonical floats.
    figures = figures.with_columns(
        apply_factor(pl.col(name).cast(pl.Float64), pl.col("conversion_factor")).alias(f"{name}_canonical")
        for name in ("value", "low", "high")
    )
    for name in ("value", "low", "high"):
        problems += _problems(
            figures.filter((pl.col(name).cast(pl.Float64) < 0) & ~pl.col("signed").fill_null(False)),
            field=name,
            message=pl.format("{} is negative, but {} is not a signed metric", pl.col(name), pl.col("metric")),
        )
        problems += _problems(
            figures.filter(~pl.col(f"{name}_canonical").is_finite()),
            field=name,
            message=pl.format(
                "{} {} is too large to convert to {}", pl.col(name), pl.col("unit"), pl.col("canonical_unit")
            ),
        )

    # Periods: each distinct text parsed once.
    periods = figures.select("period").drop_nulls().unique().sort("period")
    bounds: dict[str, tuple] = {}
    period_errors: dict[str, str] = {}
    for (text,) in periods.iter_rows():
        try:
            bounds[text] = parse_period(text)
        except PeriodError as exc:
            period_errors[text] = str(exc)
    period_frame = pl.DataFrame(
        {
            "period": list(bounds) + list(period_errors),
            "period_start": [b[0] for b in bounds.values()] + [None] * len(period_errors),
            "period_end": [b[1] for b in bounds.values()] + [None] * len(period_errors),
            "period_error": [None] * len(bounds) + list(period_errors.values()),
        },
        schema={"period": pl.String, "period_start": pl.Date, "period_end": pl.Date, "period_error": pl.String},
    )
    figures = figures.join(period_frame, on="period", how="left")
    problems += _problems(
        figures.filter(pl.col("period_error").is_not_null()), field="period", message=pl.col("period_error")
    )

    # What each figure means, its bounds and its quote (pipelines.lib.meaning).
    known = figures.filter(pl.col("metric_kind").is_not_null())
    unknown_metric = figures.filter(pl.col("metric_kind").is_null())
    known, found = check_relative(known, metrics)
    problems += found
    known, found = check_dimensions(known, dimensions)
    problems += found
    known, found = check_bounds(known)
    problems += found + quote_problems(known)
    figures = pl.concat([known, unknown_metric], how="diagonal_relaxed")

    # `equals` must link figures that can be compared.
    targets = figures.select(
        "source_id",
        pl.col("id").alias("equals"),
        pl.col("dimension").alias("equals_dimension"),
        pl.col("metric").alias("equals_metric"),
    )
    linked = figures.filter(pl.col("equals").is_not_null()).join(targets, on=["source_id", "equals"], how="left")
    for file, figure, metric, dimension, target, target_metric, target_dimension in linked.select(
        "file", "id", "metric", "dimension", "equals", "equals_metric", "equals_dimension"
    ).iter_rows():
        if dimension is None or target_dimension is None or dimension == target_dimension:
            continue
        equivalence = EQUIVALENCES.get(metric)
        if equivalence is not None and {dimension, target_dimension} == {
            equivalence.from_dimension,
            dimensionality(equivalence.canonical_unit),
        }:
            continue
        if target_metric in EQUIVALENCES:
            message = f"put `equals: {figure}` on '{target}' ({target_metric}): the equivalence states the energy"
        else:
            message = (
                f"'{target}' ({target_metric}) and this figure ({metric}) measure different quantities "
                "and no physical equivalence links them"
            )
        problems.append(SourceProblem(file, figure, "equals", message))

    frame = figures.select(
        pl.format("{}/{}", "source_id", "id").alias("figure_id"),
        "source_id",
        pl.col("subject_entity").alias("subject"),
        "subject_type",
        "metric",
        pl.col("value_canonical").alias("value"),
        pl.col("low_canonical").alias("low"),
        pl.col("high_canonical").alias("high"),
        pl.col("canonical_unit").alias("unit"),
        pl.col("value").alias("value_as_written"),
        pl.col("low").alias("low_as_written"),
        pl.col("high").alias("high_as_written"),
        pl.col("unit").alias("unit_as_written"),
        "conversion_factor",
        "period",
        "period_start",
        "period_end",
        "basis",
        "qualifier",
        pl.col("hardware_entity").alias("hardware"),
        "boundary",
        "accounting",
        "statistic",
        "period_kind",
        "fiscal_year_end_month",
        "relative_to_metric",
        "part_metric",
        pl.col("baseline").alias("baseline_period"),
        "baseline_start",
        "baseline_end",
        "reference_figure_id",
        "implausible",
        "scope",
        pl.when(pl.col("equals").is_not_null())
        .then(pl.format("{}/{}", "source_id", "equals"))
        .alias("equals_figure_id"),
        "locator",
        "quote",
        pl.col("subject").alias("subject_as_written"),
        pl.col("file").alias("source_file"),
        "figure_order",
    ).sort("source_id", "figure_order")
    return Stage(frame, problems)


# Metric each default factor must be a figure of.
FACTOR_METRICS = {"pue": "pue", "grid_carbon_intensity": "grid_carbon_intensity", "wue": "wue", "ewif": "ewif"}


def _selected_figures(raw: pl.DataFrame, figures: pl.DataFrame, item: str, metrics: dict[str, str] | None) -> Stage:
    """Items of factors.yaml or equivalences.yaml joined to the figure each names.

    `metrics` maps an item to the metric its figure must be (None: any metric)."""
    joined = raw.join(
        figures.select(
            pl.col("figure_id").alias("figure"),
            "source_id",
            "subject",
            "metric",
            "value",
            "low",
            "high",
            "unit",
            "period",
        ),
        on="figure",
        how="left",
    )
    problems = _problems(
        raw.filter(pl.col(item).is_duplicated()), field=item, item=item, kind=item, message=pl.lit("is given twice")
    )
    problems += _problems(
        joined.filter(pl.col("metric").is_null()),
        field="figure",
        item=item,
        kind=item,
        message=pl.format("'{}' is not a figure of sources/documents", pl.col("figure")),
    )
    if metrics is not None:
        expected = pl.col(item).replace_strict(metrics, default=None)
        problems += _problems(
            joined.filter(pl.col("metric").is_not_null() & (pl.col("metric") != expected)),
            field="figure",
            item=item,
            kind=item,
            message=pl.format("'{}' is a {} figure, not {}", pl.col("figure"), pl.col("metric"), expected),
        )
    problems += _problems(
        joined.filter(pl.col("metric").is_not_null() & pl.col("value").is_null()),
        field="figure",
        item=item,
        kind=item,
        message=pl.format("'{}' gives only a range; this needs a value", pl.col("figure")),
    )
    return Stage(joined.rename({"figure": "figure_id"}).drop("file").sort(item), problems)


def normalise_factors(raw_factors: pl.DataFrame, figures: pl.DataFrame) -> Stage:
    """Each default factor with the figure it names, in canonical units."""
    stage = _selected_figures(raw_factors, figures, "factor", FACTOR_METRICS)
    columns = ["factor", "figure_id", "source_id", "subject", "value", "low", "high", "unit", "period", "reason"]
    return Stage(stage.frame.select(columns), stage.problems)


def normalise_equivalences(raw_equivalences: pl.DataFrame, figures: pl.DataFrame) -> Stage:
    """Each human-scale equivalence with the size its figure gives, in canonical units."""
    stage = _selected_figures(raw_equivalences, figures, "equivalence", None)
    columns = ["equivalence", "description", "value", "unit", "figure_id", "source_id", "period"]
    return Stage(stage.frame.select(columns), stage.problems)


def normalise_run_locations(
    raw: pl.DataFrame, entities: pl.DataFrame, sources: pl.DataFrame, figures: pl.DataFrame
) -> Stage:
    """Where each training run ran (sources/run_locations.yaml): the model and the place resolved
    to entities, the place's zone, and the run's year (stated, else its document's year)."""
    lookup = entity_lookup(entities)
    located = (
        raw.with_columns(name_key("model").alias("key"))
        .join(lookup.rename({"entity": "model_entity", "entity_type": "model_type"}), on="key", how="left")
        .with_columns(name_key("location").alias("key"))
        .join(lookup.rename({"entity": "place", "entity_type": "place_type"}), on="key", how="left")
        .join(entity_zones(entities).rename({"entity": "place"}), on="place", how="left")
        .join(
            sources.select(pl.col("source_id").alias("document"), pl.col("published").str.slice(0, 4).cast(pl.Int32)),
            on="document",
            how="left",
        )
        .with_columns(pl.format("{} in {}", "model", "document").alias("run"))
    )
    runs = figures.select(pl.col("subject").alias("model_entity"), pl.col("source_id").alias("document")).unique()
    problems: list[SourceProblem] = []
    region = pl.col("place_type") == "region"
    checks = [
        ("model", pl.col("model_type") != "model", pl.format("'{}' is not a model entity", "model")),
        ("document", pl.col("published").is_null(), pl.format("'{}' is not a document of sources/", "document")),
        ("location", ~region, pl.format("'{}' is not a region entity", "location")),
        (
            "location",
            region.fill_null(False) & pl.col("zone").is_null(),
            pl.format("'{}' has no zone, nor has its parent", "location"),
        ),
    ]
    for field_name, condition, message in checks:
        problems += _problems(
            located.filter(condition.fill_null(True)),
            field=field_name,
            item="run",
            kind="run location",
            message=message,
        )
    known = located.filter(pl.col("model_type") == "model", pl.col("published").is_not_null())
    problems += _problems(
        known.join(runs, on=["model_entity", "document"], how="anti"),
        field="model",
        item="run",
        kind="run location",
        message=pl.format("'{}' gives no figure of {}", "document", "model_entity"),
    )
    problems += _problems(
        located.filter(~pl.struct("model_entity", "document").is_first_distinct()),
        field="model",
        item="run",
        kind="run location",
        message=pl.lit("is located twice for this document"),
    )
    frame = (
        located.join(runs, on=["model_entity", "document"], how="semi")
        .filter(pl.col("zone").is_not_null())
        .select(
            pl.col("model_entity").alias("model"),
            pl.col("document").alias("source_id"),
            pl.col("place").alias("location"),
            "zone",
            pl.coalesce("year", "published").alias("year"),
            pl.col("year").is_not_null().alias("year_stated"),
            "locator",
            "quote",
        )
        .unique(["model", "source_id"], keep="first", maintain_order=True)
        .sort("model", "source_id")
    )
    return Stage(frame, problems)


def normalise_all(raw: dict[str, pl.DataFrame]) -> tuple[dict[str, pl.DataFrame], list[SourceProblem]]:
    """Every normalised table from the raw frames, and every problem found."""
    metrics = normalise_metrics(raw["metrics"])
    entities = normalise_entities(raw["entities"])
    sources = normalise_sources(raw["documents"], raw["figures"])
    vocabularies, vocabulary_problems = dimension_tables(raw["dimension_values"])
    grid, grid_problems = normalise_grid(raw, metrics.frame, entities.frame)
    figures = normalise_figures(raw["figures"], metrics.frame, raw["entities"], raw["dimension_values"])
    stages = {
        "metrics": metrics,
        "entities": entities,
        "sources": sources,
        "figures": figures,
        "factors": normalise_factors(raw["factors"], figures.frame),
        "equivalences": normalise_equivalences(raw["equivalences"], figures.frame),
        "run_locations": normalise_run_locations(raw["run_locations"], entities.frame, sources.frame, figures.frame),
    }
    problems = vocabulary_problems + grid_problems + [p for stage in stages.values() for p in stage.problems]
    return {**{name: stage.frame for name, stage in stages.items()}, **vocabularies, **grid}, problems


def check_source_tree(root: Path) -> list[SourceProblem]:
    """Every problem in a source tree, from single files and across files, sorted."""
    return review_source_tree(root)[0]


def review_source_tree(root: Path) -> tuple[list[SourceProblem], list[SourceProblem]]:
    """Every problem in a source tree (sorted), and the figures marked implausible: values
    outside their metric's plausible bounds, reported but not refused."""
    loaded = load_sources(root)
    tables, problems = normalise_all(raw_frames(loaded))
    _, upstream_problems = load_snapshots(root)
    problems = [*problems, *upstream_problems]
    marked = tables["figures"].filter(pl.col("implausible").is_not_null())
    warnings = [
        SourceProblem(file, figure_id.split("/", 1)[1], None, reason)
        for file, figure_id, reason in marked.select("source_file", "figure_id", "implausible").iter_rows()
    ]
    return SourceError([*loaded.problems, *problems]).problems, warnings
