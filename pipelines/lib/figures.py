"""Checking figures as columns: the figures of many documents in one polars frame.

Each key of a figure (`schemas.inputs.FIGURE_KEYS`) is checked by one expression over
every figure at once, not by a model per figure: at a million figures a Python object
per figure was most of the check's time and memory. Each problem still names the file,
the figure and the key, with the messages the document header's models give. Python
looks at single values only where text holds characters outside printable ASCII
(hidden characters, look-alike scripts), which real sources rarely do.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl

from pipelines.lib.errors import SourceProblem
from schemas.inputs import (
    FIGURE_KEY_NAMES,
    FIGURE_KEYS,
    NUMBER_PATTERN,
    FigureKey,
    hidden_character,
    one_script_per_word,
)

# The raw figures frame: where each figure is, then its keys as written (stripped).
RAW_FIGURE_SCHEMA: dict[str, Any] = {
    "file": pl.String,
    "source_id": pl.String,
    "figure_order": pl.Int64,
    **dict.fromkeys(FIGURE_KEY_NAMES, pl.String),
}
_KNOWN_KEYS = frozenset(FIGURE_KEY_NAMES)
_TEXT_OR_NULL = frozenset({str, type(None)})
_SHOWN_CHARS = 60  # as schemas.inputs.shorten


@dataclass
class DocumentFigures:
    """One document's figures as parsed, before they are checked."""

    file: str  # as shown in messages
    source_id: str
    figures: list[Any]


def _shortened(column: pl.Expr) -> pl.Expr:
    return (
        pl.when(column.str.len_chars() <= _SHOWN_CHARS)
        .then(column)
        .otherwise(column.str.slice(0, _SHOWN_CHARS - 1) + "…")
    )


def _choices_message(choices: tuple[str, ...]) -> str:
    quoted = [f"'{choice}'" for choice in choices]
    return (
        f"Input should be {', '.join(quoted[:-1])} or {quoted[-1]}"
        if len(quoted) > 1
        else f"Input should be {quoted[0]}"
    )


def _message(key: FigureKey) -> pl.Expr:
    """The first thing wrong with each value of one key, or null."""
    value = pl.col(key.name)
    rules: list[tuple[pl.Expr, pl.Expr]] = []
    if key.required:
        rules.append((value.is_null(), pl.lit("is required")))
    if key.choices:
        rules.append((value.is_null() | ~value.is_in(key.choices), pl.lit(_choices_message(key.choices))))
    elif key.number:
        rules.append(
            (
                value.str.contains(",", literal=True),
                pl.format("'{}' has a comma: write numbers without thousands separators", _shortened(value)),
            )
        )
        finite = value.str.contains(NUMBER_PATTERN) & value.cast(pl.Float64, strict=False).is_finite().fill_null(False)
        rules.append((~finite, pl.format("'{}' is not a finite number", _shortened(value))))
    elif key.pattern:
        rules.append((~value.str.contains(key.pattern), pl.lit(f"String should match pattern '{key.pattern}'")))
    else:
        rules.append((value.str.len_chars() == 0, pl.lit("String should have at least 1 character")))
    if key.max_chars is not None:
        rules.append(
            (value.str.len_chars() > key.max_chars, pl.lit(f"String should have at most {key.max_chars} characters"))
        )
    condition, message = rules[0]
    expression = pl.when(condition.fill_null(False)).then(message)
    for condition, message in rules[1:]:
        expression = expression.when(condition.fill_null(False)).then(message)
    return expression.otherwise(None).alias(key.name)


def _unusual_text_problems(frame: pl.DataFrame) -> list[tuple[int, str, str]]:
    """(row, key, message) for text with hidden characters or names mixing look-alike
    scripts; only values with a character outside printable ASCII are looked at."""
    found = []
    for key in FIGURE_KEYS:
        unusual = frame.filter(pl.col(key.name).str.contains(r"[^\x20-\x7e]")).select("_row", key.name)
        for row, text in unusual.iter_rows():
            message = None
            if key.entity_name:
                try:
                    one_script_per_word(text)
                except ValueError as exc:
                    message = str(exc)
            message = message or hidden_character(text)
            if message:
                found.append((row, key.name, message))
    return found


def check_figures(documents: list[DocumentFigures]) -> tuple[pl.DataFrame, list[SourceProblem]]:
    """The valid figures of these documents as one raw frame (RAW_FIGURE_SCHEMA), and a
    problem for each thing wrong with a figure; a figure with a problem in its keys is
    left out, as is a second figure with the same id in one document."""
    problems: list[SourceProblem] = []
    rows: list[dict[Any, Any]] = []
    where: list[tuple[int, str]] = []  # per row: its document's index, its label
    every_id: list[tuple[int, str]] = []  # (document, id as written) of every mapping, valid or not
    for number, document in enumerate(documents):
        for index, raw in enumerate(document.figures):
            # A figure is named by its id when it has one that is text, else by its position.
            given = raw.get("id") if raw.__class__ is dict else None
            label = given if isinstance(given, str) and given else f"#{index + 1}"
            if raw.__class__ is not dict:
                problems.append(SourceProblem(document.file, label, None, "must be a mapping of figure keys"))
                continue
            every_id.append((number, str(given)))
            if not raw.keys() <= _KNOWN_KEYS:
                for key in sorted(raw.keys() - _KNOWN_KEYS, key=str):
                    problems.append(SourceProblem(document.file, label, str(key), "is not a key the contract knows"))
                continue
            rows.append(raw)
            where.append((number, label))

    found: list[tuple[int, str, str]] = []  # (row, key, message), in order of precedence
    columns: dict[str, list[Any]] = {}
    for key in FIGURE_KEYS:
        values = [raw.get(key.name, key.default) for raw in rows]
        if not set(map(type, values)) <= _TEXT_OR_NULL:  # a list, a mapping, true or false
            for row, value in enumerate(values):
                if value is not None and value.__class__ is not str:
                    found.append((row, key.name, "Input should be a valid string"))
                    values[row] = None
        columns[key.name] = values
    frame = pl.DataFrame(columns, schema=dict.fromkeys(FIGURE_KEY_NAMES, pl.String)).with_columns(
        pl.col(FIGURE_KEY_NAMES).str.strip_chars(), pl.int_range(pl.len(), dtype=pl.Int64).alias("_row")
    )
    messages = frame.select("_row", *(_message(key) for key in FIGURE_KEYS)).unpivot(
        index="_row", variable_name="key", value_name="message"
    )
    found += messages.drop_nulls("message").iter_rows()
    found += _unusual_text_problems(frame)
    first: dict[tuple[int, str], str] = {}
    for row, key, message in found:
        first.setdefault((row, key), message)
    for (row, key), message in first.items():
        number, label = where[row]
        problems.append(SourceProblem(documents[number].file, label, key, message))

    invalid = {row for row, _ in first}
    frame = frame.with_columns(pl.Series("_document", [number for number, _ in where], dtype=pl.Int64)).filter(
        ~pl.col("_row").is_in(list(invalid))
    )
    duplicate = frame.select(pl.col("id").is_first_distinct().over("_document").not_()).to_series()
    for number, figure_id in frame.filter(duplicate).select("_document", "id").iter_rows():
        problems.append(
            SourceProblem(documents[number].file, figure_id, "id", "is used by another figure in this document")
        )
    frame = frame.filter(~duplicate)
    problems += _figure_problems(frame, documents, every_id)
    files = pl.DataFrame(
        {
            "_document": range(len(documents)),
            "file": [document.file for document in documents],
            "source_id": [document.source_id for document in documents],
        },
        schema={"_document": pl.Int64, "file": pl.String, "source_id": pl.String},
    )
    raw = frame.join(files, on="_document", how="left", maintain_order="left").with_columns(
        pl.int_range(pl.len(), dtype=pl.Int64).over("_document").alias("figure_order")
    )
    return raw.select(list(RAW_FIGURE_SCHEMA)), problems


def _figure_problems(
    frame: pl.DataFrame, documents: list[DocumentFigures], every_id: list[tuple[int, str]]
) -> list[SourceProblem]:
    """Keys of one figure that do not fit together, and an `equals` naming no figure of its document."""
    value, low, high = (pl.col(name).cast(pl.Float64) for name in ("value", "low", "high"))
    checks = [
        (
            "value",
            value.is_null() & (low.is_null() | high.is_null()),
            pl.lit("is required unless both low and high are given"),
        ),
        ("low", low > high, pl.format("{} is greater than high ({})", pl.col("low"), pl.col("high"))),
        ("value", value < low, pl.format("{} is below low ({})", pl.col("value"), pl.col("low"))),
        ("value", value > high, pl.format("{} is above high ({})", pl.col("value"), pl.col("high"))),
        ("equals", pl.col("equals") == pl.col("id"), pl.lit("names the figure itself")),
    ]
    found = pl.concat(
        [
            frame.filter(condition.fill_null(False)).select(
                "_row", "_document", "id", pl.lit(key).alias("key"), message.alias("message")
            )
            for key, condition, message in checks
        ]
    )
    ids = pl.DataFrame(every_id, schema={"_document": pl.Int64, "equals": pl.String}, orient="row")
    unknown = (
        frame.filter(pl.col("equals").is_not_null())
        .join(ids, on=["_document", "equals"], how="anti")
        .select(
            "_row",
            "_document",
            "id",
            pl.lit("equals").alias("key"),
            pl.format("'{}' is not a figure of this document", pl.col("equals")).alias("message"),
        )
    )
    return [
        SourceProblem(documents[number].file, figure_id, key, message)
        for _, number, figure_id, key, message in pl.concat([found, unknown]).sort("_row").iter_rows()
    ]
