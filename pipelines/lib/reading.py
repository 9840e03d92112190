"""Reading the published warehouse: read-only queries, one figure with its provenance, the sources.

Used by the command line; every function opens the DuckDB file read-only, so it can
run while a build swaps in a new warehouse.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl

from pipelines.lib.publish import DUCKDB_FILE


class WarehouseError(Exception):
    """A query the warehouse cannot answer, in one line."""


def _connect(warehouse: Path) -> duckdb.DuckDBPyConnection:
    path = Path(warehouse) / DUCKDB_FILE
    if not path.exists():
        raise WarehouseError(f"no warehouse at {path}: run `make build` first")
    return duckdb.connect(str(path), read_only=True)


def query(warehouse: Path, sql: str) -> pl.DataFrame:
    """The result of a read-only SQL query as a frame."""
    with _connect(warehouse) as connection:
        try:
            relation = connection.sql(sql)
            if relation is None:
                raise WarehouseError("the statement returned no rows to show")
            return pl.from_arrow(relation.to_arrow_table())  # type: ignore[return-value]
        except duckdb.Error as exc:
            raise WarehouseError(str(exc).splitlines()[0]) from None


def render(frame: pl.DataFrame, output: str) -> str:
    """table, csv or json text of a frame."""
    if output == "csv":
        return frame.write_csv()
    if output == "json":
        return frame.write_json()
    with pl.Config(tbl_rows=-1, tbl_cols=-1, fmt_str_lengths=60, tbl_width_chars=200, tbl_hide_dataframe_shape=True):
        return str(frame)


def describe_figure(warehouse: Path, figure_id: str) -> str:
    """One figure with its document, quote, locator and unit conversion, as text."""
    frame = query(
        warehouse,
        "SELECT f.*, s.title, s.publisher, s.published, s.url FROM figures f JOIN sources s USING (source_id) "
        f"WHERE figure_id = '{figure_id.replace(chr(39), chr(39) * 2)}'",
    )
    if frame.is_empty():
        raise WarehouseError(f"no figure '{figure_id}': figure ids are <source_id>/<figure id>")
    f = frame.row(0, named=True)
    written = f["value_as_written"] or f"{f['low_as_written']}–{f['high_as_written']}"
    canonical = " ".join(
        part
        for part in (
            f"{f['value']:.8g}" if f["value"] is not None else "",
            f"[{f['low']:g}–{f['high']:g}]" if f["low"] is not None and f["high"] is not None else "",
        )
        if part
    )
    lines = [
        f"{f['figure_id']}",
        f"  {f['subject']} ({f['subject_type']}) · {f['metric']} · {f['basis']}"
        + (f" · period {f['period']}" if f["period"] else ""),
        f"  as written: {f['qualifier'] if f['qualifier'] != '=' else ''}{written} {f['unit_as_written']}",
        f"  canonical:  {canonical} {f['unit']} (× {f['conversion_factor']:.12g})",
    ]
    for label, key in (("scope", "scope"), ("hardware", "hardware"), ("restates", "equals_figure_id")):
        if f[key]:
            lines.append(f"  {label}: {f[key]}")
    lines += [
        f"  source: {f['title']} ({f['publisher']}, {f['published']})",
        f"  url: {f['url'] or 'none given'}",
        f"  locator: {f['locator'] or 'none given'}",
        f"  quote: {f['quote'] or 'none given'}",
    ]
    return "\n".join(lines)


def sources_table(warehouse: Path) -> pl.DataFrame:
    """Documents with their figure counts, most figures first."""
    return query(
        warehouse,
        "SELECT source_id, kind, published, figure_count AS figures, title FROM sources "
        "ORDER BY figure_count DESC, source_id",
    )
