"""What a figure means, checked: its dimensions (boundary, accounting, statistic, period
kind) against their vocabularies and its metric, its relative keys (relative_to, baseline,
reference), its metric's bounds, and the number as it stands in its quote.

The vocabularies are data (`sources/boundaries.yaml`, `accounting_methods.yaml`,
`statistics.yaml`, `period_kinds.yaml`); what each metric needs is data too
(`metrics.yaml`: kind, relative_to, baseline, accounting, bounds). This module only applies
them, on the frame `normalise.normalise_figures` builds.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

import polars as pl

from pipelines.lib.errors import SourceProblem
from pipelines.lib.periods import PeriodError, parse_period

RELATIVE_KINDS = ["share", "change", "multiple"]
NOT_APPLICABLE = "not_applicable"
# The published table of each dimension's vocabulary: figure key -> table name.
DIMENSION_TABLES = {
    "boundary": "boundaries",
    "accounting": "accounting_methods",
    "statistic": "statistics",
    "period_kind": "period_kinds",
}
# Period kinds whose figures need a period, and how many months it may span.
_SPAN_MONTHS = {
    "calendar_year": (12, 12),
    "fiscal_year": (12, 12),
    "rolling_year": (12, 12),
    "part_year": (1, 11),
    "multi_year": (13, None),
}
_TIMELESS = ["not_applicable", "unknown"]


def _rows(frame: pl.DataFrame, field: str, message: pl.Expr) -> list[SourceProblem]:
    selected = frame.select("file", "id", message.alias("message"))
    return [SourceProblem(file, item, field, text) for file, item, text in selected.iter_rows()]


def dimension_tables(raw: pl.DataFrame) -> tuple[dict[str, pl.DataFrame], list[SourceProblem]]:
    """One published table per dimension (its values and what each means), and the values
    given twice."""
    problems = [
        SourceProblem(file, value, "id", "is defined more than once", dimension)
        for file, dimension, value in raw.filter(pl.struct("dimension", "id").is_duplicated())
        .select("file", "dimension", "id")
        .unique(maintain_order=True)
        .iter_rows()
    ]
    tables = {}
    for key, table in DIMENSION_TABLES.items():
        values = raw.filter(pl.col("dimension") == key).unique("id", keep="first", maintain_order=True)
        columns = [pl.col("id").alias(key), "description"]
        if key == "boundary":
            columns.append("applies_to")
        tables[table] = values.select(columns)
    return tables, problems


def check_dimensions(figures: pl.DataFrame, dimensions: pl.DataFrame) -> tuple[pl.DataFrame, list[SourceProblem]]:
    """Every figure has a known boundary (allowed for its subject's type), accounting (one of
    the methods where it is, or is relative to, an emissions metric; else not_applicable),
    statistic and period kind (agreeing with its period and basis). Adds
    `fiscal_year_end_month`.

    `figures` holds the written keys, `needs_accounting`, the subject's type and the parsed
    period."""
    problems: list[SourceProblem] = []
    figures = figures.with_columns(
        pl.when(pl.col("accounting").is_null() & ~pl.col("needs_accounting"))
        .then(pl.lit(NOT_APPLICABLE))
        .otherwise(pl.col("accounting"))
        .alias("accounting")
    )
    for key, table in DIMENSION_TABLES.items():
        known = dimensions.filter(pl.col("dimension") == key)["id"].to_list()
        problems += _rows(
            figures.filter(pl.col(key).is_null() & (pl.lit(key != "accounting") | ~pl.col("needs_accounting"))),
            key,
            pl.lit(f"is required: one of {', '.join(known)} ({table} in sources/)"),
        )
        problems += _rows(
            figures.filter(pl.col(key).is_not_null() & ~pl.col(key).is_in(known)),
            key,
            pl.format("'{}' is not one of {}", pl.col(key), pl.lit(", ".join(known))),
        )
    allowed = dimensions.filter(pl.col("dimension") == "boundary").select(
        pl.col("id").alias("boundary"), pl.col("applies_to").alias("boundary_applies_to")
    )
    checked = figures.join(allowed, on="boundary", how="left")
    problems += _rows(
        checked.filter(
            pl.col("boundary_applies_to").is_not_null()
            & pl.col("subject_type").is_not_null()
            & ~pl.col("boundary_applies_to").list.contains(pl.col("subject_type"))
        ),
        "boundary",
        pl.format("'{}' is not a boundary for a figure about a {}", pl.col("boundary"), pl.col("subject_type")),
    )
    emissions = pl.col("needs_accounting")
    problems += _rows(
        figures.filter(emissions & (pl.col("accounting").is_null() | (pl.col("accounting") == NOT_APPLICABLE))),
        "accounting",
        pl.format(
            "is required: say how the emissions ({}) are accounted: market_based, location_based or unstated",
            pl.coalesce("relative_to_metric", "metric"),
        ),
    )
    problems += _rows(
        figures.filter(~emissions & pl.col("accounting").is_not_null() & (pl.col("accounting") != NOT_APPLICABLE)),
        "accounting",
        pl.format("belongs only to emissions figures (and changes or shares of them); {} is not one", "metric"),
    )
    problems += _period_kind_problems(figures)
    figures = figures.with_columns(
        pl.when(pl.col("period_kind") == "fiscal_year")
        .then(pl.col("period_end").dt.month())
        .cast(pl.Int64)
        .alias("fiscal_year_end_month")
    )
    return figures, problems


def _months(start: pl.Expr, end: pl.Expr) -> pl.Expr:
    return (end.dt.year() - start.dt.year()) * 12 + end.dt.month() - start.dt.month() + 1


def _period_kind_problems(figures: pl.DataFrame) -> list[SourceProblem]:
    kind, has_period = pl.col("period_kind"), pl.col("period").is_not_null()
    months = _months(pl.col("period_start"), pl.col("period_end"))
    problems = _rows(
        figures.filter(kind.is_in(_TIMELESS) & has_period),
        "period_kind",
        pl.format("is {}, but the figure has a period ({})", kind, pl.col("period")),
    )
    problems += _rows(
        figures.filter(kind.is_in(list(_SPAN_MONTHS)) & ~has_period),
        "period_kind",
        pl.format("is {}: give the period it covers", kind),
    )
    parsed = figures.filter(has_period & pl.col("period_start").is_not_null())
    for name, (shortest, longest) in _SPAN_MONTHS.items():
        span = months.is_between(shortest, longest if longest is not None else 10_000)
        whole_months = (pl.col("period_start").dt.day() == 1) & (
            pl.col("period_end") == pl.col("period_end").dt.month_end()
        )
        problems += _rows(
            parsed.filter((kind == name) & ~(span & whole_months)),
            "period_kind",
            pl.format("is {}, but the period {} is not " + _SPAN_TEXT[name], kind, pl.col("period")),
        )
    calendar = (pl.col("period_start").dt.month() == 1) & (months == 12)
    problems += _rows(
        parsed.filter((kind == "fiscal_year") & calendar),
        "period_kind",
        pl.format("is fiscal_year, but {} runs January to December: that is calendar_year", pl.col("period")),
    )
    problems += _rows(
        parsed.filter((kind == "calendar_year") & ~calendar & (months == 12)),
        "period_kind",
        pl.format(
            "is calendar_year, but {} does not run January to December: a fiscal year is fiscal_year, "
            "the last twelve months rolling_year",
            pl.col("period"),
        ),
    )
    projected = pl.col("basis") == "projected"
    problems += _rows(
        figures.filter(projected & ~kind.is_in(["projection", "target"])),
        "period_kind",
        pl.format("is {}, but the basis is projected: that is a projection or a target", kind),
    )
    problems += _rows(
        figures.filter((kind == "projection") & ~projected),
        "period_kind",
        pl.format("is projection, but the basis is {}: a projection has basis projected", "basis"),
    )
    return problems


_SPAN_TEXT = {
    "calendar_year": "twelve whole months",
    "rolling_year": "twelve whole months",
    "fiscal_year": "twelve whole months (write it START/END, e.g. 2022-07/2023-06)",
    "part_year": "whole months shorter than a year",
    "multi_year": "whole months longer than a year",
}


def check_relative(figures: pl.DataFrame, metrics: pl.DataFrame) -> tuple[pl.DataFrame, list[SourceProblem]]:
    """A share, change or multiple says what it is relative to (its metric's relative_to, or
    the figure's own), a change from a baseline names its baseline period, and a reference
    is another figure of the same document. Adds relative_to_metric, baseline_start and
    baseline_end, reference_figure_id, and needs_accounting (the figure is, or is relative
    to, an emissions metric)."""
    metric_ids = metrics["metric"].to_list()
    relative = pl.col("metric_kind").is_in(RELATIVE_KINDS)
    problems = _rows(
        figures.filter(relative & pl.col("relative_to").is_null() & pl.col("metric_relative_to").is_null()),
        "relative_to",
        pl.format("is required for {}: name the metric it is a {} of", "metric", "metric_kind"),
    )
    problems += _rows(
        figures.filter(relative & pl.col("relative_to").is_not_null() & pl.col("metric_relative_to").is_not_null()),
        "relative_to",
        pl.format("is fixed by {} ({}): leave it out", "metric", "metric_relative_to"),
    )
    for key in ("relative_to", "part", "baseline", "reference"):
        problems += _rows(
            figures.filter(pl.col(key).is_not_null() & ~relative),
            key,
            pl.format("belongs only to shares, changes and multiples; {} is a {}", "metric", "metric_kind"),
        )
    for key in ("relative_to", "part"):
        problems += _rows(
            figures.filter(pl.col(key).is_not_null() & ~pl.col(key).is_in(metric_ids)),
            key,
            pl.format("'{}' is not a metric in metrics.yaml", pl.col(key)),
        )
    problems += _rows(
        figures.filter(pl.col("part").is_not_null() & relative & (pl.col("metric_kind") != "share")),
        "part",
        pl.format("belongs only to shares; {} is a {}", "metric", "metric_kind"),
    )
    needs_baseline = pl.col("metric_baseline").fill_null(False)
    problems += _rows(
        figures.filter(needs_baseline & pl.col("baseline").is_null()),
        "baseline",
        pl.format("is required for {}: the period the change is measured from", "metric"),
    )
    problems += _rows(
        figures.filter(pl.col("baseline").is_not_null() & ~needs_baseline & (pl.col("metric_kind") == "change")),
        "baseline",
        pl.format("belongs to changes from a baseline; {} has none", "metric"),
    )
    bounds: dict[str, tuple[date | None, date | None]] = {}
    for file, figure, text in (
        figures.filter(pl.col("baseline").is_not_null()).select("file", "id", "baseline").iter_rows()
    ):
        try:
            bounds[text] = parse_period(text)
        except PeriodError as exc:
            problems.append(SourceProblem(file, figure, "baseline", str(exc)))
    baselines = pl.DataFrame(
        {
            "baseline": list(bounds),
            "baseline_start": [start for start, _ in bounds.values()],
            "baseline_end": [end for _, end in bounds.values()],
        },
        schema={"baseline": pl.String, "baseline_start": pl.Date, "baseline_end": pl.Date},
    )
    targets = figures.select("source_id", pl.col("id").alias("reference"), pl.lit(True).alias("reference_exists"))
    linked = figures.join(targets, on=["source_id", "reference"], how="left")
    problems += _rows(
        linked.filter(pl.col("reference").is_not_null() & pl.col("reference_exists").is_null()),
        "reference",
        pl.format("'{}' is not a figure of this document", pl.col("reference")),
    )
    problems += _rows(
        figures.filter(pl.col("reference") == pl.col("id")), "reference", pl.lit("names the figure itself")
    )
    relative_accounting = metrics.select(
        pl.col("metric").alias("relative_to_metric"), pl.col("accounting").alias("relative_accounting")
    )
    figures = (
        figures.join(baselines.unique("baseline"), on="baseline", how="left")
        .with_columns(
            pl.coalesce("relative_to", "metric_relative_to").alias("relative_to_metric"),
            pl.col("part").alias("part_metric"),
            pl.when(pl.col("reference").is_not_null())
            .then(pl.format("{}/{}", "source_id", "reference"))
            .alias("reference_figure_id"),
        )
        .join(relative_accounting, on="relative_to_metric", how="left")
        .with_columns(
            (pl.col("metric_accounting").fill_null(False) | pl.col("relative_accounting").fill_null(False)).alias(
                "needs_accounting"
            )
        )
        .drop("relative_accounting")
    )
    return figures, problems


def _shown(number: pl.Expr) -> pl.Expr:
    return number.map_elements(lambda value: f"{value:g}", return_dtype=pl.String)


def check_bounds(figures: pl.DataFrame) -> tuple[pl.DataFrame, list[SourceProblem]]:
    """Values outside the metric's impossible bounds are refused; outside its implausible
    bounds they are marked (`implausible`, saying why) and reported by `check`, not refused.
    Bounds are in the canonical unit."""
    problems = []
    reasons = []
    for name in ("value", "low", "high"):
        value = pl.col(f"{name}_canonical")
        for side, compare in (("below", value.__lt__), ("above", value.__gt__)):
            limit = pl.col(f"impossible_{side}")
            problems += _rows(
                figures.filter(compare(limit).fill_null(False)),
                name,
                pl.format(
                    "{} {} is impossible for {}: it is {} {} {}",
                    pl.col(name), "unit", "metric", pl.lit(side), _shown(limit), "canonical_unit",
                ),
            )  # fmt: skip
            implausible = pl.col(f"implausible_{side}")
            reasons.append(
                pl.when(compare(implausible).fill_null(False)).then(
                    pl.format("{} {} {} {}", pl.lit(name), pl.lit(side), _shown(implausible), "canonical_unit")
                )
            )
    figures = figures.with_columns(
        pl.concat_str(reasons, separator="; ", ignore_nulls=True).str.strip_chars().alias("_reasons")
    ).with_columns(
        pl.when(pl.col("_reasons") != "")
        .then(pl.format("implausible for {}: {}", "metric", "_reasons"))
        .alias("implausible")
    )
    return figures.drop("_reasons"), problems


# --- Numbers in quotes ----------------------------------------------------------

# A number as documents print it: digits with thousands separators or a decimal part.
_DIGITS = re.compile(
    r"(?:(?<![0-9.])(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?|(?<![0-9])\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
)
# Thousands separated by spaces, as the IEA prints them: 13 800, 1 050.
_SPACED = re.compile(r"(?<![0-9.,])[0-9]{1,3}(?:[ \u00a0\u202f][0-9]{3})+(?![0-9])")
# A power of ten written after a number: 4.3 × 10^22, 1.0 × 10<sup>−4</sup>, 4.3x10²².
_POWER = re.compile(r"\s*[x×]\s*10\s*(?:\^|\*\*|<sup>)?\s*([+\-−]?[0-9]+)")
# "a billion", "the first gigawatt": one of a magnitude or a unit with a prefix.
_ONE = re.compile(r"\b(?:a|an|one|first)\s+(?:thousand|million|billion|trillion|kilo|mega|giga|tera)", re.IGNORECASE)
# Chinese "one and a half": 一个半, 1个半.
_AND_A_HALF = re.compile(r"([0-9]+|[一二两三四五六七八九十])个半")
_DECIMAL_COMMA = re.compile(r"(?<![0-9.,])[0-9]+,[0-9]{1,2}(?![0-9])")
_MAGNITUDES = {
    "万亿": 1e12,
    "万": 1e4,
    "亿": 1e8,
    "thousand": 1e3,
    "million": 1e6,
    "billion": 1e9,
    "trillion": 1e12,
    "k": 1e3,
    "m": 1e6,
    "bn": 1e9,
}
_MAGNITUDE_AFTER = re.compile(r"\s*(万亿|万|亿|(?:thousand|million|billion|trillion|bn|k|m)(?![a-z]))", re.IGNORECASE)
_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
    "hundred": 100, "thousand": 1000, "half": 0.5, "quarter": 0.25, "third": 1 / 3, "dozen": 12,
    "twice": 2, "double": 2, "doubled": 2, "triple": 3, "tripled": 3, "quadruple": 4, "quadrupled": 4,
}  # fmt: skip
_WORD = re.compile(r"\b(" + "|".join(sorted(_WORDS, key=len, reverse=True)) + r")\b", re.IGNORECASE)
_HAN = {
    "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10, "半": 0.5,
    "百": 100, "千": 1000,
}  # fmt: skip
# Fractions written as words stand for a percentage too: half -> 50 (%).
_FRACTION_WORDS = {"half": 0.5, "quarter": 0.25, "third": 1 / 3}


def number_tokens(text: str) -> set[float]:
    """Every number that stands in a text as a token of its own: digits (with thousands
    separators, a decimal point or a decimal comma), each also times a magnitude written
    after it (万, 亿, million ...), number words (four, half, twice) and Chinese numerals.
    A number inside another (the 5 of 500) is not a token."""
    text = unicodedata.normalize("NFKC", text)
    tokens: set[float] = set()
    for match in _DIGITS.finditer(text):
        number = float(match.group().replace(",", ""))
        tokens.add(number)
        power = _POWER.match(text, match.end())
        if power:
            tokens.add(number * 10 ** int(power.group(1).replace("−", "-")))
        magnitude = _MAGNITUDE_AFTER.match(text, match.end())
        if magnitude:
            tokens.add(number * _MAGNITUDES[magnitude.group(1).lower()])
    for match in _DECIMAL_COMMA.finditer(text):
        tokens.add(float(match.group().replace(",", ".")))
    for match in _SPACED.finditer(text):
        tokens.add(float(re.sub(r"\D", "", match.group())))
    for match in _WORD.finditer(text):
        word = match.group(1).lower()
        tokens.add(float(_WORDS[word]))
        if word in _FRACTION_WORDS:
            tokens.add(_FRACTION_WORDS[word] * 100)
    if _ONE.search(text):
        tokens.add(1.0)
    for match in _AND_A_HALF.finditer(text):
        count = match.group(1)
        tokens.add((float(count) if count.isdigit() else _HAN[count]) + 0.5)
    tokens.update(float(value) for char, value in _HAN.items() if char in text)
    return tokens


def stands_in(number: str, tokens: set[float]) -> bool:
    """Whether a number as written (ASCII decimal text) equals one of the tokens."""
    value = abs(float(number))
    return any(abs(token - value) <= 1e-9 * max(1.0, value) for token in tokens)


# The plain numbers of an ASCII quote, found by polars over every quote at once: a number
# (with thousands commas, a decimal part, an exponent) that neither a digit nor a separator
# touches. Each is one of number_tokens' tokens, so a figure's number found among them stands
# in its quote; the numbers not found are looked for by number_tokens, one quote at a time.
# An exponent's sign is first written e (plus) or e~ (minus), then every character but digits,
# separators and those is doubled into two spaces, so that a space one match takes as its end
# is not the one the next match needs as its start.
_PLAIN_NUMBER = r"(?:^| )(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?(?:e~?[0-9]+)?[.,]?(?: |$)"


def _plain_numbers() -> pl.Expr:
    return (
        pl.col("quote")
        .str.replace_all("~", " ", literal=True)
        .str.replace_all(r"([0-9])[eE]\+?([0-9])", "${1}e${2}")
        .str.replace_all(r"([0-9])[eE]-([0-9])", "${1}e~${2}")
        .str.replace_all(r"[^0-9.,e~]", "  ")
        .str.extract_all(_PLAIN_NUMBER)
        .list.eval(
            pl.element()
            .str.strip_chars(" .,")
            .str.replace_all(",", "", literal=True)
            .str.replace("~", "-", literal=True)
            .cast(pl.Float64, strict=False)
        )
    )


# Besides ASCII, characters that Unicode normalisation (NFKC, which number_tokens applies)
# leaves as they are or turns into a space: Han characters, CJK punctuation (not the full-width
# forms, which become ASCII digits and commas), dashes, curly quotes, the multiplication sign.
_UNCHANGED = r"\x00-\x7F\p{Han}\x{3000}-\x{303F}\x{2013}\x{2014}\x{2018}-\x{201D}\x{B0}\x{B7}\x{D7}"


def _stands_plainly(number: str) -> pl.Expr:
    """Whether a figure's number (as written) is one of its quote's plain numbers, in a quote
    that normalisation does not change."""
    plain_quote = ~pl.col("quote").str.contains(f"[^{_UNCHANGED}]")
    return pl.col(number).is_null() | (
        plain_quote & _plain_numbers().list.contains(pl.col(number).cast(pl.Float64).abs())
    )


def quote_problems(figures: pl.DataFrame) -> list[SourceProblem]:
    """Each number a figure gives (value, low, high, as written) must stand in its quote as a
    token, so that the quote shows where the number comes from."""
    problems = []
    rows = figures.filter(pl.col("quote").is_not_null()).select("file", "id", "quote", "value", "low", "high")
    rows = rows.filter(~pl.all_horizontal(_stands_plainly(name) for name in ("value", "low", "high")))
    for file, figure, quote, *numbers in rows.iter_rows():
        tokens = number_tokens(quote)
        for name, number in zip(("value", "low", "high"), numbers, strict=True):
            if number is not None and not stands_in(number, tokens):
                problems.append(
                    SourceProblem(
                        file,
                        figure,
                        name,
                        f"{number} does not stand in the quote as a number: quote the passage that gives it",
                    )
                )
    return problems
