"""The headline grid: each big operator's electricity, water, emissions, clean energy and PUE,
year by year. What the grid is (organisations, years, measures) is data (`sources/grid.yaml`),
and so are the cells no document fills (`sources/gaps.yaml`); this module checks them and
builds three tables from `annual_metrics`:

- `grid_measures`: the measures, as defined (`headline` marks the headline grid's nine);
- `grid`: every organisation's annual value of each measure, one row per organisation × year
  × measure × boundary × accounting, with its figure, how many documents gave it and their
  spread, whether the value is a restatement, whether it comes from the organisation's own
  report, and whether it is the row the wide view shows (`preferred`);
- `grid_coverage`: each cell of the defined grid (organisation × measure × year), filled (with
  the preferred value) or a gap with its reason; `headline` marks the cells of the headline
  grid (its organisations and measures; grid.yaml's `more_organisations` and the measures with
  `headline: false` are tracked the same way beside it).
"""

from __future__ import annotations

import polars as pl

from pipelines.lib.entities import entity_names, name_key
from pipelines.lib.errors import SourceProblem

GRID_COLUMNS = [
    "organisation",
    "subject",
    "year",
    "measure",
    "metric",
    "boundary",
    "accounting",
    "statistic",
    "period_start",
    "period_end",
    "value",
    "unit",
    "figure_id",
    "source_id",
    "documents",
    "min_value",
    "max_value",
    "restated",
    "own_report",
    "preferred",
]


def _rows(frame: pl.DataFrame, item: str, field: str, message: pl.Expr, kind: str) -> list[SourceProblem]:
    selected = frame.select("file", pl.col(item).cast(pl.String), message.alias("message"))
    return [SourceProblem(file, name, field, text, kind) for file, name, text in selected.iter_rows()]


def normalise_grid(
    raw: dict[str, pl.DataFrame], metrics: pl.DataFrame, entities: pl.DataFrame
) -> tuple[dict[str, pl.DataFrame], list[SourceProblem]]:
    """grid_measures, the grid's cells and its gaps, with organisations resolved to entity names,
    and every problem: an unknown metric, accounting, boundary, organisation or measure, a gap
    outside the grid's years."""
    measures, cells, gaps = raw["grid_measures"], raw["grid_cells"], raw["gaps"]
    dimensions = raw["dimension_values"]
    names = entity_names(entities)
    problems: list[SourceProblem] = []
    known = {
        "metrics": metrics["metric"].to_list(),
        "boundaries": dimensions.filter(pl.col("dimension") == "boundary")["id"].to_list(),
    }
    for field, vocabulary in known.items():
        exploded = measures.explode(field).filter(~pl.col(field).is_in(vocabulary))
        problems += _rows(
            exploded, "measure", field, pl.format("'{}' is not one of the {}", pl.col(field), pl.lit(field)), "measure"
        )
    methods = dimensions.filter(pl.col("dimension") == "accounting")["id"].to_list()
    problems += _rows(
        measures.explode("accounting").filter(
            pl.col("accounting").is_not_null() & ~pl.col("accounting").is_in(methods)
        ),
        "measure",
        "accounting",
        pl.format("'{}' is not an accounting method", "accounting"),
        "measure",
    )
    problems += _rows(
        measures.filter(pl.col("measure").is_duplicated() | pl.col("wide_column").is_duplicated()),
        "measure",
        "id",
        pl.lit("is defined twice (or its column is)"),
        "measure",
    )
    cells = cells.with_columns(name_key("subject").replace_strict(names, default=None).alias("entity"))
    problems += [
        SourceProblem(raw["grid_measures"]["file"][0] if measures.height else "grid.yaml", subject, "organisations",
                      f"'{subject}' is not an entity name or alias in entities.yaml", "grid")
        for subject in cells.filter(pl.col("entity").is_null())["subject"].unique().sort()
    ]  # fmt: skip
    problems += [
        SourceProblem(raw["grid_measures"]["file"][0] if measures.height else "grid.yaml", entity, "organisations",
                      f"'{entity}' is listed twice (organisations and more_organisations name one organisation once)",
                      "grid")
        for entity in cells.filter(pl.struct("entity", "year").is_duplicated())["entity"].drop_nulls().unique().sort()
    ]  # fmt: skip
    gaps = gaps.with_columns(name_key("subject").replace_strict(names, default=None).alias("entity"))
    years = cells["year"]
    problems += _rows(
        gaps.filter(pl.col("entity").is_null() | ~pl.col("entity").is_in(cells["entity"].drop_nulls().to_list())),
        "subject",
        "subject",
        pl.format("'{}' is not an organisation of grid.yaml", "subject"),
        "gap",
    )
    problems += _rows(
        gaps.filter(~pl.col("measure").is_in(measures["measure"].to_list())),
        "subject",
        "measure",
        pl.format("'{}' is not a measure of grid.yaml", "measure"),
        "gap",
    )
    if years.len():
        problems += _rows(
            gaps.filter(~pl.col("year").is_between(years.min(), years.max())),
            "subject",
            "year",
            pl.format("{} is outside the grid's years", "year"),
            "gap",
        )
    problems += _rows(
        gaps.filter(pl.struct("entity", "measure", "year").is_duplicated()),
        "subject",
        "year",
        pl.format("{} {} is listed twice", "measure", "year"),
        "gap",
    )
    tables = {
        "grid_measures": measures.drop("file").sort("position"),
        "grid_cells": cells.drop_nulls("entity").select(pl.col("entity").alias("subject"), "year", "headline"),
        "gaps": gaps.drop_nulls("entity").select(
            pl.col("entity").alias("subject"), "measure", "year", "reason", "note"
        ),
    }
    return tables, problems


def _own_reports(sources: pl.DataFrame, entities: pl.DataFrame) -> pl.DataFrame:
    """(source_id, subject) where the document is a sustainability report the subject (or an
    entity of its family, a parent or a subsidiary) published about itself."""
    names = entity_names(entities)
    parents = dict(entities.select("entity", "parent").drop_nulls().iter_rows())
    rows = []
    for source_id, publisher in (
        sources.filter(pl.col("kind") == "sustainability_report").select("source_id", "publisher").iter_rows()
    ):
        entity = names.get(publisher.strip().lower())
        if entity is None:
            continue
        family = {entity, parents.get(entity)} | {child for child, parent in parents.items() if parent == entity}
        rows += [(source_id, member) for member in family if member is not None]
    return pl.DataFrame(rows, schema={"source_id": pl.String, "subject": pl.String}, orient="row").with_columns(
        pl.lit(True).alias("own_report")
    )


def grid_table(
    annual: pl.DataFrame, measures: pl.DataFrame, sources: pl.DataFrame, entities: pl.DataFrame
) -> pl.DataFrame:
    """Every organisation's annual values of the grid's measures (from annual_metrics). A
    subsidiary's values (Amazon Web Services') count for its parent organisation; the row the
    wide view shows (`preferred`) is the one whose boundary comes first in the measure's order,
    then whose accounting does, then the organisation's own before a subsidiary's, then whose
    metric comes first."""
    organisation_types = entities.filter(pl.col("entity_type") == "organization")
    organisations = organisation_types["entity"].to_list()
    parents = dict(organisation_types.select("entity", "parent").drop_nulls().iter_rows())
    by_metric = (
        measures.with_columns(pl.int_ranges(pl.col("metrics").list.len()).alias("metric_rank"))
        .explode("metrics", "metric_rank")
        .select(
            "measure",
            pl.col("metrics").alias("metric"),
            "metric_rank",
            "boundaries",
            pl.col("accounting").alias("measure_accounting"),
        )
    )
    rows = (
        annual.filter(pl.col("subject").is_in(organisations))
        .join(by_metric, on="metric")
        .filter(
            pl.col("measure_accounting").is_null() | pl.col("measure_accounting").list.contains(pl.col("accounting"))
        )
        .join(_own_reports(sources, entities), on=["source_id", "subject"], how="left")
        .with_columns(
            pl.col("subject")
            .map_elements(
                lambda subject: parents.get(subject, subject) if parents.get(subject) in organisations else subject,
                return_dtype=pl.String,
            )
            .alias("organisation"),
            pl.col("own_report").fill_null(False),
            pl.struct("boundaries", "boundary")
            .map_elements(lambda row: _position(row["boundaries"], row["boundary"]), return_dtype=pl.Int64)
            .alias("boundary_rank"),
            pl.struct("measure_accounting", "accounting")
            .map_elements(
                lambda row: _position(row["measure_accounting"] or [], row["accounting"]) or 0, return_dtype=pl.Int64
            )
            .alias("accounting_rank"),
        )
    )
    order = pl.struct(
        pl.col("boundary_rank").fill_null(1_000),
        pl.col("accounting_rank"),
        pl.col("subject") != pl.col("organisation"),
        "metric_rank",
        "statistic",
    )
    first = order.rank("ordinal").over("organisation", "year", "measure")
    return (
        rows.with_columns((pl.col("boundary_rank").is_not_null() & (first == 1)).alias("preferred"))
        .select(GRID_COLUMNS)
        .sort("organisation", "measure", "year", "subject", "boundary", "accounting", "statistic")
    )


def _position(order: list[str], value: str) -> int | None:
    return order.index(value) if value in order else None


def grid_coverage(grid: pl.DataFrame, measures: pl.DataFrame, cells: pl.DataFrame, gaps: pl.DataFrame) -> pl.DataFrame:
    """Each cell of the defined grid: filled (with the preferred value, the figure, whether it
    is from the organisation's own report) or a gap (with the reason gaps.yaml gives, or
    `unexplained`)."""
    # In grid.yaml's order: organisations as listed, then measures, then years.
    all_cells = (
        cells.with_row_index("cell_order")
        .join(measures.select("measure", "position", pl.col("headline").alias("headline_measure")), how="cross")
        .with_columns(pl.col("headline") & pl.col("headline_measure"))
    )
    cell = ["boundary", "accounting", "value", "unit", "figure_id", "own_report", "restated"]
    preferred = grid.filter(pl.col("preferred")).select(
        pl.col("organisation").alias("subject"), "year", "measure", pl.col("subject").alias("reported_for"), *cell
    )
    covered = all_cells.join(preferred, on=["subject", "year", "measure"], how="left").join(
        gaps.select("subject", "measure", "year", "reason", "note"), on=["subject", "measure", "year"], how="left"
    )
    return (
        covered.select(
            "subject",
            "measure",
            "year",
            "headline",
            pl.when(pl.col("figure_id").is_not_null()).then(pl.lit("filled")).otherwise(pl.lit("gap")).alias("status"),
            "reported_for",
            *cell,
            pl.when(pl.col("figure_id").is_null()).then(pl.col("reason").fill_null("unexplained")).alias("gap_reason"),
            pl.when(pl.col("figure_id").is_null()).then(pl.col("note")).alias("gap_note"),
            "cell_order",
            "position",
        )
        .sort(pl.col("cell_order").min().over("subject"), "position", "year")
        .drop("cell_order", "position")
    )
