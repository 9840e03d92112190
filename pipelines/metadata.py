"""Materialisation metadata shared by every asset: row count, column schema, preview."""

from __future__ import annotations

from typing import Any

import dagster as dg
import pandera.polars as pa
import polars as pl

PREVIEW_ROWS = 10


def markdown_cell(value: object) -> str:
    """A value as one markdown table cell: empty for null, on one line, no stray pipes or tags."""
    if value is None:
        return ""
    text = str(value).replace("|", "\\|").replace("\n", " ")
    return text.replace("<", "&lt;").replace(">", "&gt;")


def markdown_table(frame: pl.DataFrame) -> str:
    """A frame as a markdown table: previews and check failures in the UI, the generated docs."""
    lines = ["| " + " | ".join(frame.columns) + " |", "|" + "---|" * len(frame.columns)]
    lines += ["| " + " | ".join(markdown_cell(value) for value in row) + " |" for row in frame.iter_rows()]
    return "\n".join(lines)


def column_schema(frame: pl.DataFrame, schema: pa.DataFrameSchema | None = None) -> dg.TableSchema:
    """The frame's columns and types, with descriptions from its pandera schema."""
    columns = schema.columns if schema is not None else {}
    return dg.TableSchema(
        columns=[
            dg.TableColumn(
                name=name,
                type=str(dtype),
                # The UI renders descriptions as markdown, where <figure id> would be an HTML tag.
                description=markdown_cell(columns[name].description) if name in columns else None,
            )
            for name, dtype in frame.schema.items()
        ]
    )


def frame_metadata(frame: pl.DataFrame, schema: pa.DataFrameSchema | None = None) -> dict[str, Any]:
    """dagster/row_count, dagster/column_schema (with descriptions) and a preview."""
    return {
        "dagster/row_count": dg.MetadataValue.int(frame.height),
        "dagster/column_schema": column_schema(frame, schema),
        "preview": dg.MetadataValue.md(markdown_table(frame.head(PREVIEW_ROWS))),
    }
