"""Reading the published warehouse: a read-only connection, queries, one figure, the sources.

Used by the command line and by Python users (`connect`). Every connection is
read-only and cannot reach files outside the warehouse, so a query can neither change
the warehouse nor write anywhere else, and can run while a build publishes a new one.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl

from pipelines.lib.publish import DUCKDB_FILE


class WarehouseError(Exception):
    """A query the warehouse cannot answer, in one line."""


# Queries read the warehouse's tables only: no file reads or writes (COPY, ATTACH,
# read_csv), no extension downloads, and no setting can turn that back on.
READER_CONFIG = {"enable_external_access": False, "lock_configuration": True}


def connect(warehouse: Path) -> duckdb.DuckDBPyConnection:
    """A read-only DuckDB connection to the published warehouse.

    It keeps reading the build that was published when it opened, even while a
    rebuild publishes a new one; open a new connection to see the new build.
    """
    path = Path(warehouse) / DUCKDB_FILE
    if not path.exists():
        raise WarehouseError(f"no warehouse at {path}: run `make build` first")
    try:
        return duckdb.connect(str(path), read_only=True, config=READER_CONFIG)  # type: ignore[arg-type]
    except duckdb.ConnectionException as exc:
        # DuckDB shares one database per file and process, with one configuration.
        raise WarehouseError(
            f"this process already has {path} open with other settings: reuse or close that connection ({exc})"
        ) from None


def _explain(error: duckdb.Error) -> str:
    first_line = str(error).splitlines()[0]
    if "read-only mode" in first_line:
        return f"the warehouse is read-only: queries cannot change it ({first_line})"
    if isinstance(error, duckdb.PermissionException):
        return f"queries can read only the warehouse's tables, not other files ({first_line})"
    return first_line


def query(warehouse: Path, sql: str, parameters: list[object] | None = None) -> pl.DataFrame:
    """The result of a read-only SQL query as a frame; values go in as `?` parameters."""
    with connect(warehouse) as connection:
        try:
            relation = connection.sql(sql, params=parameters)
            if relation is None:
                raise WarehouseError("the statement returned no rows to show")
            return pl.from_arrow(relation.to_arrow_table())  # type: ignore[return-value]
        except duckdb.Error as exc:
            raise WarehouseError(_explain(exc)) from None


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
        "WHERE figure_id = ?",
        [figure_id],
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
