"""Claim checks: what the sources claim, tested against each other and against physics.

Every kind compares a claimed value (or range, or bound) with an expected one and
states its own tolerance:

- restatement: a figure restating another of its document in another unit (`equals`);
  the claim's rounding (half a unit in its last written digit).
- physics: an equivalence drawn from an energy (water brought to the boil); the
  claim's rounding plus the equivalence's allowance for its assumptions.
- specification: a hardware figure (TDP, peak throughput, transistors, memory) against
  the same hardware's figures in other documents, spec sheets first; consistent when it
  agrees with at least one; the claim's rounding plus 5 %.
- bottom_up: a training run's computed energy or emissions against the figure its
  document reports, where no default factor stands in; 10 %.
- reported_change: a stated year-on-year change against the change computed from the
  annual series with the same boundary (or, failing that, the one series whose figure
  comes from the change's own document); one percentage point plus the claim's
  rounding (in points).
- cross_source: the same subject, metric, period, boundary and hardware in two
  documents; the rounding of both.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Any

import polars as pl

from pipelines.lib.annual import scope_key
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

SPEC_METRICS = ["tdp", "peak_throughput", "transistor_count", "memory_capacity", "memory_bandwidth"]
SPEC_ALLOWANCE = 0.05
BOTTOM_UP_TOLERANCE = 0.10
CHANGE_ALLOWANCE_POINTS = 1.0
_PRECISION = re.compile(r"\b(FP64|FP32|TF32|BF16|FP16|FP8|FP6|FP4|INT8|INT4)\b", re.IGNORECASE)

Interval = tuple[float, float]


def rounding_tolerance(text: str | None) -> float:
    """Relative half-unit of the last significant digit a number is written with.

    "2379" -> 0.5/2379; "61" -> 0.5/61; "100" -> 50/100 (trailing zeros of an
    integer are not taken as significant); "1.50" -> 0.005/1.5.
    """
    if text is None:
        return 0.0
    # The exponent does not change relative precision: "2.4e7" is as precise as "2.4".
    mantissa = text.strip().lower().lstrip("+-").partition("e")[0]
    if "." in mantissa:
        half_unit = 0.5 * 10.0 ** -len(mantissa.split(".")[1])
    else:
        digits = mantissa.lstrip("0")
        half_unit = 0.5 * 10.0 ** (len(digits) - len(digits.rstrip("0"))) if digits else 0.5
    value = abs(float(mantissa or 0))
    return half_unit / value if value else 0.0


def figure_rounding(row: dict[str, Any], prefix: str = "") -> float:
    texts = [row.get(f"{prefix}{key}_as_written") for key in ("value", "low", "high")]
    return max((rounding_tolerance(text) for text in texts if text is not None), default=0.0)


def figure_interval(row: dict[str, Any], prefix: str = "") -> Interval:
    """A figure as an interval: its range, or its value; a bound (>, <) is open on one side."""
    value, low, high = row[f"{prefix}value"], row[f"{prefix}low"], row[f"{prefix}high"]
    lower = low if low is not None else value
    upper = high if high is not None else value
    qualifier = row.get(f"{prefix}qualifier") or "="
    if qualifier in (">", ">="):
        upper = math.inf
    elif qualifier in ("<", "<="):
        lower = -math.inf
    return lower, upper  # type: ignore[return-value]


def interval_error(claimed: Interval, expected: Interval) -> float:
    """Gap between two intervals (points are intervals of width 0), relative to the smaller of
    the two nearest ends, so that a value ten times too small is as far off as one ten times
    too large; 0 when they overlap."""
    (claimed_low, claimed_high), (expected_low, expected_high) = claimed, expected
    if claimed_high < expected_low:
        gap, scale = expected_low - claimed_high, min(abs(claimed_high), abs(expected_low))
    elif claimed_low > expected_high:
        gap, scale = claimed_low - expected_high, min(abs(claimed_low), abs(expected_high))
    else:
        return 0.0
    return gap / scale if scale else math.inf


def _point(interval: Interval) -> float:
    """A representative value: the midpoint, or the finite end of a bound."""
    low, high = interval
    if math.isinf(low) and math.isinf(high):
        return math.nan
    if math.isinf(low):
        return high
    if math.isinf(high):
        return low
    return (low + high) / 2


def _fmt(value: float) -> str:
    return f"{value:.4g}"


def _relative(error: float) -> str:
    if error >= 10:
        return f"{error:.3g} times"
    return f"{error:.3%}" if 0 < error < 0.001 else f"{error:.1%}"


def _row(
    kind: str,
    check_id: str,
    figure_ids: Iterable[str],
    claimed: Interval,
    expected: Interval,
    unit: str,
    tolerance: float,
    what: str,
    error: float | None = None,
) -> dict[str, Any]:
    error = interval_error(claimed, expected) if error is None else error
    return {
        "check_id": f"{kind}:{check_id}",
        "kind": kind,
        "figure_ids": list(figure_ids),
        "claimed_value": _point(claimed),
        "expected_value": _point(expected),
        "unit": unit,
        "relative_error": error,
        "tolerance": tolerance,
        "status": "consistent" if error <= tolerance else "inconsistent",
        "explanation": f"{what}; off by {_relative(error)}, tolerance {_relative(tolerance)}",
    }


def _written(row: dict[str, Any], prefix: str = "") -> str:
    value = row[f"{prefix}value_as_written"] or f"{row[f'{prefix}low_as_written']}–{row[f'{prefix}high_as_written']}"
    qualifier = row.get(f"{prefix}qualifier")
    return f"{qualifier if qualifier not in (None, '=') else ''}{value} {row[f'{prefix}unit_as_written']}"


def _frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=CLAIM_CHECK_SCHEMA)


def restatement_checks(figures: pl.DataFrame) -> pl.DataFrame:
    """Each `equals` link: the same quantity in another unit, or a physical equivalence."""
    columns = ["figure_id", "metric", "value", "low", "high", "unit", "qualifier"]
    columns += ["value_as_written", "low_as_written", "high_as_written", "unit_as_written"]
    targets = figures.select(
        pl.col("figure_id").alias("equals_figure_id"), *(pl.col(c).alias(f"target_{c}") for c in columns[1:])
    )
    pairs = figures.filter(pl.col("equals_figure_id").is_not_null()).join(targets, on="equals_figure_id")
    rows = []
    for pair in pairs.sort("source_id", "figure_order").iter_rows(named=True):
        unit = pair["unit"]
        equivalence = EQUIVALENCES.get(pair["metric"])
        if dimensionality(pair["target_unit"]) == dimensionality(unit):
            kind, allowance, how = "restatement", 0.0, "a change of unit"
            factor = conversion_factor(pair["target_unit"], unit)
        elif equivalence is not None:
            kind, allowance, how = "physics", equivalence.tolerance, equivalence.explanation
            factor = equivalence.convert(conversion_factor(pair["target_unit"], "MWh")) * conversion_factor(
                equivalence.canonical_unit, unit
            )
        else:  # normalise refuses such links
            continue
        claimed = figure_interval(pair)
        low, high = figure_interval(pair, "target_")
        expected = (low * factor, high * factor)
        what = (
            f"{_written(pair)} = {_fmt(_point(claimed))} {unit}; {_written(pair, 'target_')} = "
            f"{_fmt(_point(expected))} {unit} by {how}"
        )
        rows.append(
            _row(kind, pair["figure_id"], [pair["figure_id"], pair["equals_figure_id"]], claimed, expected, unit,
                 allowance + figure_rounding(pair), what)
        )  # fmt: skip
    return _frame(rows)


def _precision(scope: str | None) -> tuple[str, bool, str] | None:
    """(precision, tensor cores?, sparsity) a throughput figure's scope names,
    e.g. ("FP16", True, "sparse"); sparsity is "sparse", "dense" or "unstated"."""
    match = _PRECISION.search(scope or "")
    if match is None:
        return None
    text = (scope or "").lower()
    stated = "not stated" not in text
    sparsity = "sparse" if stated and "sparsity" in text else "dense" if stated and "dense" in text else "unstated"
    return match[1].upper(), "tensor" in text and "non-tensor" not in text, sparsity


def specification_checks(figures: pl.DataFrame, sources: pl.DataFrame, entities: pl.DataFrame) -> pl.DataFrame:
    """Each hardware figure against the same hardware elsewhere: a variant (A100 SXM4 80GB)
    against the same variant, a family (A100) against the family and all its variants."""
    kinds = dict(sources.select("source_id", "kind").iter_rows())
    hardware = entities.filter(pl.col("entity_type") == "hardware")
    related: dict[str, set[str]] = {name: {name} for name in hardware["entity"]}
    for child, family in hardware.select("entity", "parent").iter_rows():
        if family in related:
            related[family].add(child)
    claims = figures.filter(
        pl.col("metric").is_in(SPEC_METRICS) & (pl.col("subject_type") == "hardware")
    ).with_row_index("position")
    # Indexed by (metric, subject) so that each claim meets only its related figures.
    by_metric_subject: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in claims.iter_rows(named=True):
        by_metric_subject.setdefault((row["metric"], row["subject"]), []).append(row)
    rows = []
    for claim in claims.sort("figure_id").iter_rows(named=True):
        key = _precision(claim["scope"]) if claim["metric"] == "peak_throughput" else None
        if claim["metric"] == "peak_throughput" and key is None:
            continue
        references = [
            other
            for subject in sorted(related.get(claim["subject"], {claim["subject"]}))
            for other in by_metric_subject.get((claim["metric"], subject), [])
            if other["source_id"] != claim["source_id"] and (key is None or _precision(other["scope"]) == key)
        ]
        references.sort(key=lambda other: other["position"])  # ties go to the first in the figures' order
        spec_sheets = [other for other in references if kinds.get(other["source_id"]) == "spec_sheet"]
        references = spec_sheets or references
        if not references:
            continue
        claimed = figure_interval(claim)
        best = min(references, key=lambda other: interval_error(claimed, figure_interval(other)))
        agree = sum(interval_error(claimed, figure_interval(o)) <= SPEC_ALLOWANCE for o in references)
        what = (
            f"{claim['subject']} {claim['metric']}{f' ({key[0]})' if key else ''}: {_written(claim)} against "
            f"{len(references)} figure(s) of {'spec sheets' if spec_sheets else 'other documents'}, "
            f"{agree} agreeing; nearest {_fmt(_point(figure_interval(best)))} {claim['unit']} ({best['figure_id']})"
        )
        rows.append(
            _row("specification", claim["figure_id"], [claim["figure_id"], best["figure_id"]], claimed,
                 figure_interval(best), claim["unit"], SPEC_ALLOWANCE + figure_rounding(claim), what)
        )  # fmt: skip
    return _frame(rows)


# Computed column -> reported column, and the default factors that would make the comparison moot.
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


def bottom_up_checks(training_runs: pl.DataFrame) -> pl.DataFrame:
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
                f"{run['model']} ({run['source_id']}): reported {_fmt(run[reported])} {unit}, computed "
                f"{_fmt(run[computed])} {unit} from {len(used)} input figure(s)"
            )
            claimed, expected = (run[reported], run[reported]), (run[computed], run[computed])
            ids = [figure_of[input_name], *used]
            rows.append(
                _row("bottom_up", f"{run['model']}@{run['source_id']}:{computed}", ids, claimed, expected, unit,
                     BOTTOM_UP_TOLERANCE, what)
            )  # fmt: skip
    return _frame(rows)


def reported_change_checks(figures: pl.DataFrame, annual: pl.DataFrame) -> pl.DataFrame:
    """Each stated year-on-year change against the change computed from the annual series."""
    changes = figures.filter(
        (pl.col("metric") == "year_on_year_change")
        & pl.col("change_of").is_not_null()
        & pl.col("period_end").is_not_null()
    ).with_columns(scope_key().alias("scope_key"), pl.col("period_end").dt.year().alias("year"))
    series = annual.filter(pl.col("yoy_change_pct").is_not_null()).with_columns(scope_key().alias("series_scope_key"))
    # Series years by (subject, metric, year), so that each change meets only its own.
    by_cell: dict[tuple[str, str, int], list[dict[str, Any]]] = {}
    for year in series.iter_rows(named=True):
        by_cell.setdefault((year["subject"], year["metric"], year["year"]), []).append(year)
    rows = []
    for change in changes.iter_rows(named=True):
        candidates = by_cell.get((change["subject"], change["change_of"], change["year"]), [])
        same_scope = [year for year in candidates if year["series_scope_key"] == change["scope_key"]]
        # Boundaries are free text: where none matches, a series whose figure comes from the
        # change's own document is the one it describes, if there is exactly one.
        same_document = [year for year in candidates if year["source_id"] == change["source_id"]]
        candidates = same_scope or same_document
        if len(candidates) != 1:
            continue  # no series, or several: nothing sure to compare with
        match = candidates[0]
        low, high = figure_interval(change)
        claimed = (low / 100, high / 100)
        computed = match["yoy_change_pct"] / 100
        # The gap in points of the base year, not relative to the change itself.
        error = max(claimed[0] - computed, computed - claimed[1], 0.0)
        tolerance = (CHANGE_ALLOWANCE_POINTS + figure_rounding(change) * abs(change["value"] or low)) / 100
        what = (
            f"{change['subject']} {change['change_of']} {change['year']}: stated {_written(change)}, computed "
            f"{match['yoy_change_pct']:.1f}% from {match['previous_figure_id']} to {match['figure_id']}; "
            "error in points of the base year"
        )
        ids = [change["figure_id"], match["figure_id"], match["previous_figure_id"]]
        rows.append(
            _row("reported_change", change["figure_id"], ids, claimed, (computed, computed), "fraction", tolerance,
                 what, error)
        )  # fmt: skip
    return _frame(rows)


def _rounding_expr(column: str) -> pl.Expr:
    """rounding_tolerance of a text column, as a polars expression (null text gives 0)."""
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


def _interval_exprs(prefix: str) -> tuple[pl.Expr, pl.Expr]:
    """figure_interval as (lower, upper) expressions over columns with a prefix."""
    qualifier = pl.col(f"{prefix}qualifier").fill_null("=")
    lower = pl.coalesce(f"{prefix}low", f"{prefix}value")
    upper = pl.coalesce(f"{prefix}high", f"{prefix}value")
    upper = pl.when(qualifier.is_in([">", ">="])).then(float("inf")).otherwise(upper)
    lower = pl.when(qualifier.is_in(["<", "<="])).then(float("-inf")).otherwise(lower)
    return lower, upper


def _point_expr(lower: str, upper: str) -> pl.Expr:
    low, high = pl.col(lower), pl.col(upper)
    return (
        pl.when(low.is_infinite() & high.is_infinite())
        .then(float("nan"))
        .when(low.is_infinite())
        .then(high)
        .when(high.is_infinite())
        .then(low)
        .otherwise((low + high) / 2)
    )


def _written_expr(prefix: str) -> pl.Expr:
    qualifier = pl.col(f"{prefix}qualifier")
    shown = pl.when(qualifier.is_null() | (qualifier == "=")).then(pl.lit("")).otherwise(qualifier)
    value = pl.coalesce(
        f"{prefix}value_as_written",
        pl.format("{}–{}", pl.col(f"{prefix}low_as_written"), pl.col(f"{prefix}high_as_written")),
    )
    return pl.concat_str(shown, value, pl.lit(" "), pl.col(f"{prefix}unit_as_written"))


def cross_source_checks(figures: pl.DataFrame) -> pl.DataFrame:
    """The same subject, metric, period, boundary and hardware in two documents.

    Every pair of figures in one cell from different documents, found with a join (so
    that the cost follows the pairs, which are few per cell in real data)."""
    cell = ["subject", "metric", "period_start", "period_end", "scope_key", "hardware", "change_of"]
    kept = ["figure_id", "source_id", "subject", "metric", "period", "unit", "value", "low", "high", "qualifier"]
    kept += ["value_as_written", "low_as_written", "high_as_written", "unit_as_written"]
    candidates = (
        figures.filter(pl.col("period_start").is_not_null() & ~pl.col("metric").is_in(SPEC_METRICS))
        .with_columns(scope_key().alias("scope_key"))
        .with_columns(
            pl.max_horizontal(_rounding_expr(f"{c}_as_written") for c in ("value", "low", "high")).alias("rounding")
        )
        .select(*dict.fromkeys([*cell, *kept, "rounding"]))
    )
    other = candidates.select(*cell, *(pl.col(c).alias(f"b_{c}") for c in [*kept, "rounding"] if c not in cell))
    pairs = candidates.join(other, on=cell, nulls_equal=True).filter(
        (pl.col("figure_id") < pl.col("b_figure_id")) & (pl.col("source_id") != pl.col("b_source_id"))
    )
    claimed_low, claimed_high = _interval_exprs("")
    expected_low, expected_high = _interval_exprs("b_")
    pairs = pairs.with_columns(
        claimed_low.alias("cl"), claimed_high.alias("ch"), expected_low.alias("el"), expected_high.alias("eh")
    )
    below = pl.col("ch") < pl.col("el")
    above = pl.col("cl") > pl.col("eh")
    gap = pl.when(below).then(pl.col("el") - pl.col("ch")).otherwise(pl.col("cl") - pl.col("eh"))
    scale = (
        pl.when(below)
        .then(pl.min_horizontal(pl.col("ch").abs(), pl.col("el").abs()))
        .otherwise(pl.min_horizontal(pl.col("cl").abs(), pl.col("eh").abs()))
    )
    error = pl.when(~below & ~above).then(0.0).when(scale == 0).then(float("inf")).otherwise(gap / scale)
    pairs = pairs.with_columns(
        error.alias("relative_error"), (pl.col("rounding") + pl.col("b_rounding")).alias("tolerance")
    )
    relative = {
        name: pl.col(name).map_elements(_relative, return_dtype=pl.String) for name in ("relative_error", "tolerance")
    }
    return pairs.select(
        pl.format("cross_source:{}|{}", "figure_id", "b_figure_id").alias("check_id"),
        pl.lit("cross_source").alias("kind"),
        pl.concat_list("figure_id", "b_figure_id").alias("figure_ids"),
        _point_expr("cl", "ch").alias("claimed_value"),
        _point_expr("el", "eh").alias("expected_value"),
        "unit",
        "relative_error",
        "tolerance",
        pl.when(pl.col("relative_error") <= pl.col("tolerance"))
        .then(pl.lit("consistent"))
        .otherwise(pl.lit("inconsistent"))
        .alias("status"),
        pl.format(
            "{} {} {}: {} in {}, {} in {}; off by {}, tolerance {}",
            "subject", "metric", pl.col("period").fill_null("None"), _written_expr(""), "source_id",
            _written_expr("b_"), "b_source_id", relative["relative_error"], relative["tolerance"],
        ).alias("explanation"),
    ).cast(CLAIM_CHECK_SCHEMA)  # fmt: skip


def claim_checks(
    figures: pl.DataFrame,
    sources: pl.DataFrame | None = None,
    entities: pl.DataFrame | None = None,
    training_runs: pl.DataFrame | None = None,
    annual: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Every claim check the data can test, one row per check, ordered by kind then id."""
    parts = [restatement_checks(figures), cross_source_checks(figures)]
    if sources is not None and entities is not None:
        parts.append(specification_checks(figures, sources, entities))
    if training_runs is not None:
        parts.append(bottom_up_checks(training_runs))
    if annual is not None:
        parts.append(reported_change_checks(figures, annual))
    order = {kind: position for position, kind in enumerate(CLAIM_KINDS)}
    return (
        pl.concat(parts)
        .with_columns(pl.col("kind").replace_strict(order, return_dtype=pl.Int64).alias("_order"))
        .sort("_order", "check_id")
        .drop("_order")
    )
