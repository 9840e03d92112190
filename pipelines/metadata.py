"""Materialisation metadata shared by every asset: row count, column schema, preview."""

from __future__ import annotations

from typing import Any

import dagster as dg
import pandera.polars as pa
import polars as pl

PREVIEW_ROWS = 10


def _preview_markdown(frame: pl.DataFrame) -> str:
    head = frame.head(PREVIEW_ROWS)
    cells = [
        [("" if value is None else str(value)).replace("|", "\\|").replace("\n", " ") for value in row]
        for row in head.iter_rows()
    ]
    lines = ["| " + " | ".join(head.columns) + " |", "|" + "---|" * len(head.columns)]
    lines += ["| " + " | ".join(row) + " |" for row in cells]
    return "\n".join(lines)


def frame_metadata(frame: pl.DataFrame, schema: pa.DataFrameSchema | None = None) -> dict[str, Any]:
    """dagster/row_count, dagster/column_schema (with descriptions) and a preview."""
    columns = schema.columns if schema is not None else {}
    table_schema = dg.TableSchema(
        columns=[
            dg.TableColumn(
                name=name,
                type=str(dtype),
                description=columns[name].description if name in columns else None,
            )
            for name, dtype in frame.schema.items()
        ]
    )
    return {
        "dagster/row_count": dg.MetadataValue.int(frame.height),
        "dagster/column_schema": table_schema,
        "preview": dg.MetadataValue.md(_preview_markdown(frame)),
    }
