"""Claim checks: what the sources claim, tested against each other and against physics.

Every kind builds pairs of a claim and what it is expected to be, as intervals (a range,
a value, or a bound open on one side), with a tolerance; one function (`_evaluate`)
turns every pair into a check row, so the error, status and explanation follow one rule:

- restatement: a figure restating another of its document in another unit (`equals`),
  within the claim's rounding (half a unit in its last written digit); and a value an
  earlier document gave for an annual-series cell against the value of the later report
  the series takes, within the rounding of both.
- physics: an equivalence drawn from an energy (water brought to the boil); the claim's
  rounding plus the equivalence's allowance for its assumptions.
- specification: a hardware figure of a `specification` metric against the same hardware
  and boundary in other documents, spec sheets first; consistent when it agrees with at
  least one; the claim's rounding plus 5 %.
- bottom_up: a training run's computed energy or emissions against the figure its
  document reports, where no default factor stands in; 10 %.
- reported_change: a stated year-on-year change, or change from a baseline, against the
  change computed from the annual series of the same subject, metric, boundary and
  accounting; one percentage point plus the claim's rounding (in points).
- cross_source: the same subject, metric, period, boundary, accounting, statistic and
  hardware in two documents (other than a series restatement); the rounding of both.
"""

from __future__ import annotations

import re

import polars as pl

from pipelines.lib.annual import CELL, series_figures
from pipelines.lib.physics import EQUIVALENCES
from pipelines.lib.units import conversion_factor, dimensionality
from schemas.tables import CLAIM_KINDS

CLAIM_CHECK_SCHEMA = {
    "check_id": pl.String,
    "kind": pl.String,
    "figure_ids": pl.List(pl.String),
    "claimed_value": pl.Float64,
    "expected_value": pl.Float64,
    "unit": pl.String,
    "relative_error": pl.Float64,
    "tolerance": pl.Float64,
    "status": pl.String,
    "explanation": pl.String,
}
# The columns every kind builds before `_evaluate`: the claimed interval (cl, ch), the
# expected one (el, eh), and `error` where the kind measures it otherwise (in points).
PAIR_SCHEMA = {
    "check_id": pl.String,
    "kind": pl.String,
    "figure_ids": pl.List(pl.String),
    "cl": pl.Float64,
    "ch": pl.Float64,
    "el": pl.Float64,
    "eh": pl.Float64,
    "unit": pl.String,
    "tolerance": pl.Float64,
    "what": pl.String,
    "error": pl.Float64,
}
SPEC_ALLOWANCE = 0.05
BOTTOM_UP_TOLERANCE = 0.10
CHANGE_ALLOWANCE_POINTS = 1.0
_PRECISION = re.compile(r"\b(FP64|FP32|TF32|BF16|FP16|FP8|FP6|FP4|INT8|INT4)\b", re.IGNORECASE)
_FIGURE_COLUMNS = [
    "figure_id", "source_id", "subject", "metric", "period", "unit", "value", "low", "high", "qualifier",
    "value_as_written", "low_as_written", "high_as_written", "unit_as_written",
]  # fmt: skip


# --- One rule for rounding, intervals, errors and explanations -------------------


def rounding_expr(column: str) -> pl.Expr:
    """Relative half-unit of the last significant digit a number is written with (a text
    column; null gives 0). "2379" -> 0.5/2379; "61" -> 0.5/61; "100" -> 50/100 (trailing
    zeros of an integer are not significant); "1.50" -> 0.005/1.5; the exponent of
    "2.4e7" does not change it."""
    mantissa = (
        pl.col(column).str.strip_chars().str.to_lowercase().str.strip_chars_start("+-").str.split("e").list.first()
    )
    decimals = mantissa.str.split(".").list.get(1, null_on_oob=True).str.len_chars()
    digits = mantissa.str.strip_chars_start("0")
    trailing_zeros = digits.str.len_chars() - digits.str.strip_chars_end("0").str.len_chars()
    half_unit = (
        pl.when(mantissa.str.contains(".", literal=True))
        .then(0.5 * pl.lit(10.0).pow(-decimals.cast(pl.Float64)))
        .when(digits.str.len_chars() > 0)
        .then(0.5 * pl.lit(10.0).pow(trailing_zeros.cast(pl.Float64)))
        .otherwise(0.5)
    )
    value = pl.when(mantissa == "").then(0.0).otherwise(mantissa.cast(pl.Float64, strict=False)).abs()
    return pl.when(pl.col(column).is_null()).then(0.0).when(value == 0).then(0.0).otherwise(half_unit / value)


def rounding_tolerance(text: str | None) -> float:
    """`rounding_expr` of one number as written."""
    return pl.DataFrame({"text": [text]}, schema={"text": pl.String}).select(rounding_expr("text")).item()


def _figure_rounding(prefix: str = "") -> pl.Expr:
    return pl.max_horizontal(rounding_expr(f"{prefix}{name}_as_written") for name in ("value", "low", "high"))


def _interval(prefix: str = "") -> tuple[pl.Expr, pl.Expr]:
    """A figure as an interval: its range, or its value; a bound (>, <) is open on one side."""
    qualifier = pl.col(f"{prefix}qualifier").fill_null("=")
    lower = pl.coalesce(f"{prefix}low", f"{prefix}value")
    upper = pl.coalesce(f"{prefix}high", f"{prefix}value")
    upper = pl.when(qualifier.is_in([">", ">="])).then(float("inf")).otherwise(upper)
    lower = pl.when(qualifier.is_in(["<", "<="])).then(float("-inf")).otherwise(lower)
    return lower, upper


def _interval_error(cl: pl.Expr, ch: pl.Expr, el: pl.Expr, eh: pl.Expr) -> pl.Expr:
    """Gap between two intervals, relative to the smaller of the two nearest ends, so that a
    value ten times too small is as far off as one ten times too large; 0 when they overlap."""
    below, above = ch < el, cl > eh
    gap = pl.when(below).then(el - ch).otherwise(cl - eh)
    scale = pl.when(below).then(pl.min_horizontal(ch.abs(), el.abs())).otherwise(pl.min_horizontal(cl.abs(), eh.abs()))
    return pl.when(~below & ~above).then(0.0).when(scale == 0).then(float("inf")).otherwise(gap / scale)


def _point(low: pl.Expr, high: pl.Expr) -> pl.Expr:
    """A representative value: the midpoint, or the finite end of a bound."""
    return (
        pl.when(low.is_infinite() & high.is_infinite())
        .then(float("nan"))
        .when(low.is_infinite())
        .then(high)
        .when(high.is_infinite())
        .then(low)
        .otherwise((low + high) / 2)
    )


def _written(prefix: str = "") -> pl.Expr:
    """A figure as the document wrote it: qualifier, value or range, unit."""
    qualifier = pl.col(f"{prefix}qualifier")
    shown = pl.when(qualifier.is_null() | (qualifier == "=")).then(pl.lit("")).otherwise(qualifier)
    value = pl.coalesce(
        f"{prefix}value_as_written",
        pl.format("{}–{}", pl.col(f"{prefix}low_as_written"), pl.col(f"{prefix}high_as_written")),
    )
    return pl.concat_str(shown, value, pl.lit(" "), pl.col(f"{prefix}unit_as_written"))


def _number(expr: pl.Expr) -> pl.Expr:
    return expr.map_elements(lambda value: f"{value:.4g}", return_dtype=pl.String)


def _relative(error: float) -> str:
    if error >= 10:
        return f"{error:.3g} times"
    return f"{error:.3%}" if 0 < error < 0.001 else f"{error:.1%}"


def _evaluate(pairs: pl.DataFrame) -> pl.DataFrame:
    """Check rows from pairs (PAIR_SCHEMA): error, status and explanation."""
    error = pl.coalesce(pl.col("error"), _interval_error(pl.col("cl"), pl.col("ch"), pl.col("el"), pl.col("eh")))
    return (
        pairs.with_columns(error.alias("relative_error"))
        .select(
            "check_id",
            "kind",
            "figure_ids",
            _point(pl.col("cl"), pl.col("ch")).alias("claimed_value"),
            _point(pl.col("el"), pl.col("eh")).alias("expected_value"),
            "unit",
            "relative_error",
            "tolerance",
            pl.when(pl.col("relative_error") <= pl.col("tolerance"))
            .then(pl.lit("consistent"))
            .otherwise(pl.lit("inconsistent"))
            .alias("status"),
            pl.format(
                "{}; off by {}, tolerance {}",
                "what",
                pl.col("relative_error").map_elements(_relative, return_dtype=pl.String),
                pl.col("tolerance").map_elements(_relative, return_dtype=pl.String),
            ).alias("explanation"),
        )
        .cast(CLAIM_CHECK_SCHEMA)  # type: ignore[arg-type]
    )


def _pairs(frame: pl.DataFrame) -> pl.DataFrame:
    """The PAIR_SCHEMA columns of a frame (error null unless given)."""
    if "error" not in frame.columns:
        frame = frame.with_columns(pl.lit(None, dtype=pl.Float64).alias("error"))
    return frame.select(list(PAIR_SCHEMA)).cast(PAIR_SCHEMA)  # type: ignore[arg-type]


def _empty() -> pl.DataFrame:
    return pl.DataFrame(schema=PAIR_SCHEMA)


def _prefixed(figures: pl.DataFrame, prefix: str, columns: list[str]) -> pl.DataFrame:
    return figures.select(pl.col(name).alias(f"{prefix}{name}") for name in columns)


# --- The kinds -----------------------------------------------------------------------


def restatement_pairs(figures: pl.DataFrame) -> pl.DataFrame:
    """Each `equals` link: the same quantity in another unit, or a physical equivalence."""
    targets = _prefixed(figures, "t_", _FIGURE_COLUMNS).rename({"t_figure_id": "equals_figure_id"})
    linked = figures.filter(pl.col("equals_figure_id").is_not_null()).join(targets, on="equals_figure_id")
    rules = []
    for metric, unit, target_unit in linked.select("metric", "unit", "t_unit").unique().iter_rows():
        equivalence = EQUIVALENCES.get(metric)
        if dimensionality(target_unit) == dimensionality(unit):
            rules.append(
                (
                    metric,
                    unit,
                    target_unit,
                    "restatement",
                    0.0,
                    "a change of unit",
                    conversion_factor(target_unit, unit),
                )
            )
        elif equivalence is not None:
            factor = equivalence.convert(conversion_factor(target_unit, "MWh")) * conversion_factor(
                equivalence.canonical_unit, unit
            )
            rules.append((metric, unit, target_unit, "physics", equivalence.tolerance, equivalence.explanation, factor))
        # normalise refuses other links
    rule_frame = pl.DataFrame(
        rules,
        schema={"metric": pl.String, "unit": pl.String, "t_unit": pl.String, "kind": pl.String,
                "allowance": pl.Float64, "how": pl.String, "factor": pl.Float64},
        orient="row",
    )  # fmt: skip
    cl, ch = _interval()
    tl, th = _interval("t_")
    pairs = (
        linked.join(rule_frame, on=["metric", "unit", "t_unit"])
        .sort("source_id", "figure_order")
        .with_columns(cl.alias("cl"), ch.alias("ch"), (tl * pl.col("factor")).alias("el"))
        .with_columns((th * pl.col("factor")).alias("eh"))
    )
    return _pairs(
        pairs.with_columns(
            pl.format("{}:{}", "kind", "figure_id").alias("check_id"),
            pl.concat_list("figure_id", "equals_figure_id").alias("figure_ids"),
            (pl.col("allowance") + _figure_rounding()).alias("tolerance"),
            pl.format(
                "{} = {} {}; {} = {} {} by {}",
                _written(),
                _number(_point(pl.col("cl"), pl.col("ch"))),
                "unit",
                _written("t_"),
                _number(_point(pl.col("el"), pl.col("eh"))),
                "unit",
                "how",
            ).alias("what"),
        )
    )


def series_restatement_pairs(members: pl.DataFrame, annual: pl.DataFrame) -> pl.DataFrame:
    """A value an earlier-published document gave for an annual-series cell (`members`, the
    series' figures), against the value the series takes (`annual`: the latest report's)."""
    latest = members.join(annual.select("figure_id"), on="figure_id", how="semi")
    chosen = latest.select(*CELL, *(pl.col(name).alias(f"t_{name}") for name in [*_FIGURE_COLUMNS, "published"]))
    joined = members.join(chosen, on=CELL, nulls_equal=True).filter(pl.col("published") < pl.col("t_published"))
    cl, ch = _interval()
    el, eh = _interval("t_")
    return _pairs(
        joined.with_columns(
            pl.format("restatement:{}|{}", "figure_id", "t_figure_id").alias("check_id"),
            pl.lit("restatement").alias("kind"),
            pl.concat_list("figure_id", "t_figure_id").alias("figure_ids"),
            cl.alias("cl"),
            ch.alias("ch"),
            el.alias("el"),
            eh.alias("eh"),
            (_figure_rounding() + _figure_rounding("t_")).alias("tolerance"),
            pl.format(
                "{} {} {}: {} in {} (published {}), restated as {} in {} (published {})",
                "subject",
                "metric",
                "period",
                _written(),
                "source_id",
                "published",
                _written("t_"),
                "t_source_id",
                "t_published",
            ).alias("what"),
        )
    )


def _precision(scope: str | None) -> str | None:
    """The precision, tensor cores and sparsity a throughput figure's scope names, as one key
    (e.g. "FP16 tensor sparse"); None where it names no precision."""
    match = _PRECISION.search(scope or "")
    if match is None:
        return None
    text = (scope or "").lower()
    stated = "not stated" not in text
    sparsity = "sparse" if stated and "sparsity" in text else "dense" if stated and "dense" in text else "unstated"
    tensor = "tensor" if "tensor" in text and "non-tensor" not in text else "plain"
    return f"{match[1].upper()} {tensor} {sparsity}"


def specification_pairs(
    figures: pl.DataFrame, metrics: pl.DataFrame, sources: pl.DataFrame, entities: pl.DataFrame
) -> pl.DataFrame:
    """Each hardware figure of a specification metric against the same hardware and boundary
    elsewhere: a variant (A100 SXM4 80GB) against the same variant, a family (A100) against
    the family and all its variants; spec sheets first; the nearest one is the expectation,
    and the explanation counts how many agree."""
    spec_metrics = metrics.filter(pl.col("specification"))["metric"].to_list()
    hardware = entities.filter(pl.col("entity_type") == "hardware")
    family = pl.concat(
        [
            hardware.select(pl.col("entity").alias("subject"), pl.col("entity").alias("related")),
            hardware.filter(pl.col("parent").is_in(hardware["entity"].to_list())).select(
                pl.col("parent").alias("subject"), pl.col("entity").alias("related")
            ),
        ]
    )
    precisions = (
        figures.select("scope")
        .unique()
        .with_columns(pl.col("scope").map_elements(_precision, return_dtype=pl.String).alias("precision"))
    )
    claims = (
        figures.filter(pl.col("metric").is_in(spec_metrics) & (pl.col("subject_type") == "hardware"))
        .join(precisions, on="scope", how="left", nulls_equal=True)
        .with_row_index("position")
        .filter((pl.col("metric") != "peak_throughput") | pl.col("precision").is_not_null())
    )
    claims = claims.join(sources.select("source_id", "work"), on="source_id")
    references = _prefixed(
        claims.join(sources.select("source_id", "kind"), on="source_id"),
        "r_",
        [*_FIGURE_COLUMNS, "boundary", "precision", "position", "kind", "work"],
    )
    pairs = (
        claims.join(family, on="subject", how="left")
        .with_columns(pl.coalesce("related", "subject").alias("related"))
        .join(
            references,
            left_on=["related", "metric", "boundary", "precision"],
            right_on=["r_subject", "r_metric", "r_boundary", "r_precision"],
            nulls_equal=True,
        )
        # Another document, and not a version of the same work: that would confirm itself.
        .filter((pl.col("r_source_id") != pl.col("source_id")) & (pl.col("r_work") != pl.col("work")))
    )
    cl, ch = _interval()
    rl, rh = _interval("r_")
    pairs = pairs.with_columns(cl.alias("cl"), ch.alias("ch"), rl.alias("el"), rh.alias("eh")).with_columns(
        _interval_error(pl.col("cl"), pl.col("ch"), pl.col("el"), pl.col("eh")).alias("pair_error"),
        (pl.col("r_kind") == "spec_sheet").any().over("figure_id").alias("has_spec_sheet"),
    )
    pairs = pairs.filter(~pl.col("has_spec_sheet") | (pl.col("r_kind") == "spec_sheet")).with_columns(
        pl.len().over("figure_id").alias("references"),
        (pl.col("pair_error") <= SPEC_ALLOWANCE).sum().over("figure_id").alias("agreeing"),
    )
    best = pairs.sort("figure_id", "pair_error", "r_position").unique("figure_id", keep="first", maintain_order=True)
    return _pairs(
        best.with_columns(
            pl.format("specification:{}", "figure_id").alias("check_id"),
            pl.lit("specification").alias("kind"),
            pl.concat_list("figure_id", "r_figure_id").alias("figure_ids"),
            (SPEC_ALLOWANCE + _figure_rounding()).alias("tolerance"),
            pl.format(
                "{} {}{}: {} against {} figure(s) of {}, {} agreeing; nearest {} {} ({})",
                "subject",
                "metric",
                pl.when(pl.col("precision").is_not_null())
                .then(pl.format(" ({})", pl.col("precision").str.split(" ").list.first()))
                .otherwise(pl.lit("")),
                _written(),
                "references",
                pl.when(pl.col("has_spec_sheet")).then(pl.lit("spec sheets")).otherwise(pl.lit("other documents")),
                "agreeing",
                _number(_point(pl.col("el"), pl.col("eh"))),
                "unit",
                "r_figure_id",
            ).alias("what"),
        ).sort("figure_id")
    )


# Computed column -> (reported column, its input, default factors that would make the comparison moot).
BOTTOM_UP_PAIRS = {
    "accelerator_energy_mwh": ("accelerator_energy_mwh_reported", "accelerator_energy", set()),
    "energy_mwh": ("energy_mwh_reported", "training_energy", {"pue"}),
    "co2e_t": ("co2e_t_reported", "training_emissions", {"pue", "grid_carbon_intensity"}),
}
_ACCELERATOR_INPUTS = {"accelerator_count", "training_duration", "accelerator_hours", "power_per_accelerator", "tdp"}
# Computed column -> the inputs its formula uses.
BOTTOM_UP_INPUTS = {
    "accelerator_energy_mwh": _ACCELERATOR_INPUTS,
    "energy_mwh": _ACCELERATOR_INPUTS | {"pue"},
    "co2e_t": _ACCELERATOR_INPUTS | {"pue", "grid_carbon_intensity"},
}
BOTTOM_UP_UNITS = {"accelerator_energy_mwh": "MWh", "energy_mwh": "MWh", "co2e_t": "t"}


def bottom_up_pairs(training_runs: pl.DataFrame) -> pl.DataFrame:
    """Each run's computed energy or emissions against the figure its document reports."""
    rows = []
    for run in training_runs.iter_rows(named=True):
        figure_of = {entry["input"]: entry["figure_id"] for entry in run["inputs"]}
        for computed, (reported, input_name, needs) in BOTTOM_UP_PAIRS.items():
            if run[computed] is None or run[reported] is None or needs & set(run["defaulted_inputs"]):
                continue
            unit = BOTTOM_UP_UNITS[computed]
            used = [f for name, f in figure_of.items() if name in BOTTOM_UP_INPUTS[computed]]
            what = (
                f"{run['model']} ({run['source_id']}): reported {run[reported]:.4g} {unit}, computed "
                f"{run[computed]:.4g} {unit} from {len(used)} input figure(s)"
            )
            rows.append({
                "check_id": f"bottom_up:{run['model']}@{run['source_id']}:{computed}", "kind": "bottom_up",
                "figure_ids": [figure_of[input_name], *used], "cl": run[reported], "ch": run[reported],
                "el": run[computed], "eh": run[computed], "unit": unit, "tolerance": BOTTOM_UP_TOLERANCE,
                "what": what, "error": None,
            })  # fmt: skip
    return pl.DataFrame(rows, schema=PAIR_SCHEMA)


def reported_change_pairs(figures: pl.DataFrame, members: pl.DataFrame, sources: pl.DataFrame) -> pl.DataFrame:
    """Each stated change (year on year, or from a baseline) against the change computed from
    the series of the same subject, metric, boundary and accounting, as it stood when the
    change was stated (a later report's restatement does not make an earlier claim wrong).
    Both values come from the document nearest to the claim that holds both years: the
    claim's own, else the latest published by then, else (none held) the earliest after;
    only where no document holds both are the years taken one by one in that order. A change
    meets a series only where exactly one series (one statistic) fits; the error is in
    points of the base year."""
    changes = (
        figures.filter((pl.col("metric") == "year_on_year_change") | pl.col("baseline_end").is_not_null())
        .filter(pl.col("relative_to_metric").is_not_null() & pl.col("period_end").is_not_null())
        .join(sources.select("source_id", pl.col("published").alias("stated")), on="source_id")
        .with_columns(
            pl.col("relative_to_metric").alias("series_metric"),
            pl.col("period_end").dt.year().alias("year"),
            pl.coalesce(pl.col("baseline_end").dt.year(), pl.col("period_end").dt.year() - 1).alias("base_year"),
        )
    )
    # A share changes in points: a stated change of a share is not compared here.
    members = members.filter(pl.col("unit") != "percent").select(
        "subject",
        pl.col("metric").alias("series_metric"),
        "boundary",
        "accounting",
        pl.col("statistic").alias("series_statistic"),
        pl.col("period_end").dt.year().alias("member_year"),
        "value",
        "figure_id",
        pl.col("source_id").alias("member_source_id"),
        "published",
        "figure_order",
    )
    join_key = ["subject", "series_metric", "boundary", "accounting"]

    # Dates are as precise as the documents give them ("2024", "2024-07-02"): compare them at
    # the coarser of the two, so a report of "2024" may come before an article of 2024-07-02.
    precision = pl.min_horizontal(pl.col("published").str.len_chars(), pl.col("stated").str.len_chars())
    known = pl.col("published").str.slice(0, precision) <= pl.col("stated").str.slice(0, precision)
    one = ["figure_id", "series_statistic"]

    def candidates(year: str, prefix: str) -> pl.DataFrame:
        """Every series value a change could be computed from for `year`, with how near its document is."""
        return (
            changes.select("figure_id", "source_id", "stated", *join_key, year)
            .join(members, left_on=[*join_key, year], right_on=[*join_key, "member_year"], suffix="_member")
            .select(*one, "member_source_id", "figure_order",
                    (pl.col("member_source_id") == pl.col("source_id")).alias("own"), known.alias("known"),
                    pl.when(known).then("published").alias("before"), pl.when(~known).then("published").alias("after"),
                    pl.col("value").alias(f"{prefix}_value"), pl.col("figure_id_member").alias(f"{prefix}_figure_id"))
        )  # fmt: skip

    def nearest(frame: pl.DataFrame) -> pl.DataFrame:
        return frame.sort(
            "own", "known", "before", "after", "figure_order",
            descending=[True, True, True, False, False], nulls_last=True,
        ).unique(one, keep="first", maintain_order=True)  # fmt: skip

    now, base = candidates("year", "now"), candidates("base_year", "base")
    values = ["now_value", "now_figure_id", "base_value", "base_figure_id"]
    one_document = nearest(
        now.join(base.select(*one, "member_source_id", "base_value", "base_figure_id"), on=[*one, "member_source_id"])
    ).select(*one, *values)
    year_by_year = (
        nearest(now)
        .select(*one, "now_value", "now_figure_id")
        .join(nearest(base).select(*one, "base_value", "base_figure_id"), on=one)
        .join(one_document, on=one, how="anti")
    )
    matched = (
        changes.join(pl.concat([one_document, year_by_year]), on="figure_id")
        .filter(pl.len().over("figure_id") == 1)  # one series, not several statistics
        .filter(pl.col("base_value") != 0)
    )
    cl, ch = _interval()
    computed = (pl.col("now_value") - pl.col("base_value")) / pl.col("base_value")
    matched = matched.with_columns((cl / 100).alias("cl"), (ch / 100).alias("ch"), computed.alias("el")).with_columns(
        pl.col("el").alias("eh")
    )
    error = pl.max_horizontal(pl.col("cl") - pl.col("el"), pl.col("el") - pl.col("ch"), pl.lit(0.0))
    written = pl.coalesce("value", "low").abs()
    return _pairs(
        matched.with_columns(
            pl.format("reported_change:{}", "figure_id").alias("check_id"),
            pl.lit("reported_change").alias("kind"),
            pl.concat_list("figure_id", "now_figure_id", "base_figure_id").alias("figure_ids"),
            pl.lit("fraction").alias("unit"),
            ((CHANGE_ALLOWANCE_POINTS + _figure_rounding() * written) / 100).alias("tolerance"),
            error.alias("error"),
            pl.format(
                "{} {} {} since {}: stated {}, computed {}% from {} to {}; error in points of the base year",
                "subject",
                "series_metric",
                "year",
                "base_year",
                _written(),
                (pl.col("el") * 100).round(1),
                "base_figure_id",
                "now_figure_id",
            ).alias("what"),
        )
    )


# The key two documents' figures must share to be compared.
CROSS_SOURCE_KEY = [
    "subject", "metric", "period_start", "period_end", "boundary", "accounting", "statistic", "hardware",
    "relative_to_metric", "part_metric", "baseline_start", "reference_subject",
]  # fmt: skip


def cross_source_pairs(
    figures: pl.DataFrame, metrics: pl.DataFrame, sources: pl.DataFrame, exclude: pl.DataFrame
) -> pl.DataFrame:
    """The same quantity (CROSS_SOURCE_KEY) in two documents, every pair found with a join;
    figures without a period are left out, and so are specifications (compared by their own
    kind), the pairs in `exclude` (figure_ids already compared as series restatements: an
    earlier value, then the latest report's) and two earlier values restated by one latest
    value (each is compared with it already).
    Two documents of one work (versions, editions, copies) are not independent: there the
    later document restates the earlier one (kind restatement)."""
    spec_metrics = metrics.filter(pl.col("specification"))["metric"].to_list()
    # A figure relative to another (3× Denmark's withdrawal) is compared only with one relative to
    # the same thing.
    references = figures.select(
        pl.col("figure_id").alias("reference_figure_id"), pl.col("subject").alias("reference_subject")
    )
    candidates = (
        figures.filter(pl.col("period_start").is_not_null() & ~pl.col("metric").is_in(spec_metrics))
        .join(references, on="reference_figure_id", how="left")
        .join(sources.select("source_id", "work", "published"), on="source_id")
        .with_columns(_figure_rounding().alias("rounding"))
        .select(*dict.fromkeys([*CROSS_SOURCE_KEY, *_FIGURE_COLUMNS, "work", "published", "rounding"]))
    )
    own = [c for c in [*_FIGURE_COLUMNS, "work", "published", "rounding"] if c not in CROSS_SOURCE_KEY]
    other = candidates.select(*CROSS_SOURCE_KEY, *(pl.col(c).alias(f"b_{c}") for c in own))
    restated = exclude.select(
        pl.col("figure_ids").list.first().alias("a"), pl.col("figure_ids").list.last().alias("by")
    )
    both_restated = (
        restated.join(restated.rename({"a": "b"}), on="by")
        .filter(pl.col("a") < pl.col("b"))
        .select(pl.concat_list("a", "b").alias("figure_ids"))
    )
    done = (
        pl.concat([exclude.select("figure_ids"), both_restated])
        .select(pl.col("figure_ids").list.sort().alias("pair"), pl.lit(True).alias("done"))
        .unique()
    )
    same_work = pl.col("work") == pl.col("b_work")
    # In one work the earlier-published figure is the claim; otherwise the pair is ordered by id.
    swap = pl.when(same_work).then(pl.col("published") > pl.col("b_published")).otherwise(False)
    pairs = (
        candidates.join(other, on=CROSS_SOURCE_KEY, nulls_equal=True)
        .filter((pl.col("figure_id") < pl.col("b_figure_id")) & (pl.col("source_id") != pl.col("b_source_id")))
        .with_columns(pl.concat_list("figure_id", "b_figure_id").alias("pair"))
        .join(done, on="pair", how="left")
        .filter(pl.col("done").is_null())
        .with_columns(swap.alias("swap"), same_work.alias("same_work"))
    )
    pairs = pl.concat(
        [
            pairs.filter(~pl.col("swap")),
            pairs.filter(pl.col("swap")).select(
                *CROSS_SOURCE_KEY,
                *(pl.col(f"b_{c}").alias(c) for c in own),
                *(pl.col(c).alias(f"b_{c}") for c in own),
                "pair", "done", "swap", "same_work",
            ),
        ],
        how="diagonal_relaxed",
    )  # fmt: skip
    cl, ch = _interval()
    el, eh = _interval("b_")
    kind = pl.when(pl.col("same_work")).then(pl.lit("restatement")).otherwise(pl.lit("cross_source"))
    return _pairs(
        pairs.with_columns(
            pl.format("{}:{}|{}", kind, "figure_id", "b_figure_id").alias("check_id"),
            kind.alias("kind"),
            pl.concat_list("figure_id", "b_figure_id").alias("figure_ids"),
            cl.alias("cl"),
            ch.alias("ch"),
            el.alias("el"),
            eh.alias("eh"),
            (pl.col("rounding") + pl.col("b_rounding")).alias("tolerance"),
            pl.when(pl.col("same_work"))
            .then(
                pl.format(
                    "{} {} {}: {} in {} (published {}), restated as {} in {} (published {}), one work ({})",
                    "subject",
                    "metric",
                    pl.col("period").fill_null("None"),
                    _written(),
                    "source_id",
                    "published",
                    _written("b_"),
                    "b_source_id",
                    "b_published",
                    "work",
                )
            )
            .otherwise(
                pl.format(
                    "{} {} {}: {} in {}, {} in {}",
                    "subject",
                    "metric",
                    pl.col("period").fill_null("None"),
                    _written(),
                    "source_id",
                    _written("b_"),
                    "b_source_id",
                )
            )
            .alias("what"),
        )
    )


# A stated grid intensity and an upstream's for the same country need not be of the same year or
# method (direct or life-cycle emissions, which generation counts): compared within this many
# years, allowing this much beyond the claim's rounding.
ZONE_YEARS_APART = 2
ZONE_ALLOWANCE = 0.5


def zone_intensity_pairs(
    figures: pl.DataFrame, entities: pl.DataFrame, grid_intensity: pl.DataFrame, run_locations: pl.DataFrame
) -> pl.DataFrame:
    """A location-based (or unstated) grid intensity a document states for a country, or for a
    training run whose document says where it ran (`run_locations`), against the upstream
    snapshot's value for that zone and year, where the upstream gives a year within
    ZONE_YEARS_APART of the figure's (kind cross_source; the explanation names the snapshot row)."""
    upstream = grid_intensity.filter(pl.col("year").is_not_null()).select(
        "zone", pl.col("year").alias("zone_year"), "co2e_kg_per_kwh", "snapshot", "upstream_file", "upstream_key"
    )
    stated = figures.filter(
        (pl.col("metric") == "grid_carbon_intensity")
        & pl.col("accounting").is_in(["location_based", "unstated"])
        & pl.col("period_start").is_not_null()
    )
    countries = stated.join(
        entities.filter(pl.col("zone").is_not_null()).select(pl.col("entity").alias("subject"), "zone"), on="subject"
    )
    runs = stated.join(
        run_locations.select(pl.col("model").alias("subject"), "source_id", "zone"), on=["subject", "source_id"]
    )
    claims = (
        pl.concat([countries, runs])
        .with_columns(pl.col("period_end").dt.year().alias("year"), _figure_rounding().alias("rounding"))
        .join(upstream, on="zone")
        .filter((pl.col("zone_year") - pl.col("year")).abs() <= ZONE_YEARS_APART)
    )
    cl, ch = _interval()
    return _pairs(
        claims.with_columns(
            pl.format("cross_source:{}|{}:{}", "figure_id", "snapshot", "upstream_key").alias("check_id"),
            pl.lit("cross_source").alias("kind"),
            pl.concat_list("figure_id").alias("figure_ids"),
            cl.alias("cl"),
            ch.alias("ch"),
            pl.col("co2e_kg_per_kwh").alias("el"),
            pl.col("co2e_kg_per_kwh").alias("eh"),
            (pl.col("rounding") + ZONE_ALLOWANCE).alias("tolerance"),
            pl.format(
                "{} grid intensity {}: {} in {}, {} kg/kWh for {} in snapshot {} ({}, row {}); loose because the "
                "year or the method (direct or life-cycle emissions) may differ",
                "subject", "year", _written(), "source_id", _number(pl.col("co2e_kg_per_kwh")), "zone_year",
                "snapshot", "upstream_file", "upstream_key",
            ).alias("what"),
        )
    )  # fmt: skip


def claim_checks(
    figures: pl.DataFrame,
    metrics: pl.DataFrame,
    sources: pl.DataFrame,
    entities: pl.DataFrame,
    training_runs: pl.DataFrame,
    annual: pl.DataFrame,
    grid_intensity: pl.DataFrame,
    run_locations: pl.DataFrame,
) -> pl.DataFrame:
    """Every claim check the data can test, one row per check, ordered by kind then id."""
    members = series_figures(figures, metrics, sources)
    series = series_restatement_pairs(members, annual)
    pairs = [
        restatement_pairs(figures),
        series,
        specification_pairs(figures, metrics, sources, entities),
        bottom_up_pairs(training_runs),
        reported_change_pairs(figures, members, sources),
        cross_source_pairs(figures, metrics, sources, series),
        zone_intensity_pairs(figures, entities, grid_intensity, run_locations),
    ]
    order = {kind: position for position, kind in enumerate(CLAIM_KINDS)}
    return (
        _evaluate(pl.concat([_empty(), *pairs]))
        .with_columns(pl.col("kind").replace_strict(order, return_dtype=pl.Int64).alias("_order"))
        .sort("_order", "check_id")
        .drop("_order")
    )


# Kinds in which both figures are claims (neither is the reference the other is held to).
_SYMMETRIC = ["cross_source"]


def figure_check_status(figures: pl.DataFrame, checks: pl.DataFrame) -> pl.DataFrame:
    """`figures` with check_ids (every check a figure takes part in) and check_status:
    inconsistent where a check fails in which the figure is a claim (the first figure of a
    check, either figure of a cross-source check), consistent where it takes part in checks
    and none of its claims fails, unchecked where it takes part in none."""
    taking_part = (
        checks.select("check_id", "kind", "status", "figure_ids")
        .with_columns(pl.int_ranges(pl.col("figure_ids").list.len()).alias("position"))
        .explode("figure_ids", "position")
        .rename({"figure_ids": "figure_id"})
        .with_columns(
            ((pl.col("position") == 0) | pl.col("kind").is_in(_SYMMETRIC)).alias("is_claim"),
        )
        .group_by("figure_id")
        .agg(
            pl.col("check_id").unique().sort().alias("check_ids"),
            (pl.col("is_claim") & (pl.col("status") == "inconsistent")).any().alias("failed"),
        )
    )
    status = (
        pl.when(pl.col("failed").is_null())
        .then(pl.lit("unchecked"))
        .when(pl.col("failed"))
        .then(pl.lit("inconsistent"))
        .otherwise(pl.lit("consistent"))
    )
    columns = figures.columns
    at = columns.index("implausible") + 1
    return (
        figures.join(taking_part, on="figure_id", how="left", maintain_order="left")
        .with_columns(status.alias("check_status"), pl.col("check_ids").fill_null([]))
        .select(*columns[:at], "check_status", "check_ids", *columns[at:])
    )
