"""Releases: versioned, self-describing, verifiable bundles of the published tables.

A release folder `releases/<version>/` holds every table as Parquet, the DuckDB file
(with a `release_info` table), a Frictionless `datapackage.json` generated from the
pandera schemas, `CHANGELOG.md` against the previous release, `SHA256SUMS` and one
zip of it all. The same commit and version give the same bytes: the build time is
the commit's time (or SOURCE_DATE_EPOCH, or given), and nothing else varies.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import zipfile
from collections.abc import Iterable
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pandera.polars as pa
import polars as pl
import pyarrow.fs as pafs

from pipelines.lib import sql
from pipelines.lib.locations import local_path
from pipelines.lib.publish import (
    DUCKDB_FILE,
    PARQUET_DIR,
    published_parquet,
    read_parquet_folder,
    warehouse_filesystem,
    write_duckdb_in_fresh_process,
)

RELEASES_DIR = "releases"
CHECKSUMS_FILE = "SHA256SUMS"
CHANGELOG_FILE = "CHANGELOG.md"
DESCRIPTOR_FILE = "datapackage.json"
INFO_TABLE = "release_info"
DATA_LICENSE = {
    "name": "CC-BY-4.0",
    "title": "Creative Commons Attribution 4.0 International",
    "path": "https://creativecommons.org/licenses/by/4.0/",
}
_VERSION = re.compile(r"^v\d{4}\.\d{2}\.\d{2}(-\d+)?$")

# table -> [(column, referenced table, referenced column)]
FOREIGN_KEYS: dict[str, list[tuple[str, str, str]]] = {
    "figures": [
        ("source_id", "sources", "source_id"),
        ("subject", "entities", "entity"),
        ("metric", "metrics", "metric"),
        ("boundary", "boundaries", "boundary"),
        ("accounting", "accounting_methods", "accounting"),
        ("statistic", "statistics", "statistic"),
        ("period_kind", "period_kinds", "period_kind"),
    ],
    "factors": [("figure_id", "figures", "figure_id")],
    "equivalences": [("figure_id", "figures", "figure_id")],
    "training_runs": [("source_id", "sources", "source_id"), ("model", "entities", "entity")],
    "annual_metrics": [("figure_id", "figures", "figure_id"), ("metric", "metrics", "metric")],
    "per_request": [("figure_id", "figures", "figure_id"), ("source_id", "sources", "source_id")],
}


@dataclass(frozen=True)
class ReleaseInfo:
    version: str
    built_at: datetime
    source_tree_hash: str
    git_commit: str | None


def next_version(existing: Iterable[str], today: date) -> str:
    """vYYYY.MM.DD, or vYYYY.MM.DD-2, -3 ... for further releases on one day."""
    taken = set(existing)
    base = f"v{today:%Y.%m.%d}"
    if base not in taken:
        return base
    number = 2
    while f"{base}-{number}" in taken:
        number += 1
    return f"{base}-{number}"


def check_version(version: str) -> str:
    if not _VERSION.fullmatch(version):  # fullmatch: `$` alone would accept a trailing newline
        raise ValueError(f"'{version}' is not a release version: write vYYYY.MM.DD or vYYYY.MM.DD-N")
    return version


def source_tree_hash(root: Path) -> str:
    """SHA-256 over every file of the source tree (path and bytes), in path order."""
    digest = hashlib.sha256()
    for path in sorted(p for p in Path(root).rglob("*") if p.is_file()):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def _git(project: Path, *arguments: str) -> str | None:
    try:
        result = subprocess.run(["git", *arguments], cwd=project, capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    return result.stdout.strip() or None


def release_info(
    project: Path, sources: Path, version: str, build_time: str | None = None, tree_hash: str | None = None
) -> ReleaseInfo:
    """The build time is, in order: given, SOURCE_DATE_EPOCH, the commit's time, now. The source
    hash is given (that of the sources a warehouse was built from) or computed from `sources`."""
    if build_time:
        built_at = datetime.fromisoformat(build_time)
    elif os.environ.get("SOURCE_DATE_EPOCH"):
        built_at = datetime.fromtimestamp(int(os.environ["SOURCE_DATE_EPOCH"]), UTC)
    elif commit_time := _git(project, "log", "-1", "--format=%ct"):
        built_at = datetime.fromtimestamp(int(commit_time), UTC)
    else:
        built_at = datetime.now(UTC).replace(microsecond=0)
    if built_at.tzinfo is None:
        built_at = built_at.replace(tzinfo=UTC)
    commit = _git(project, "rev-parse", "HEAD")
    if commit and _git(project, "status", "--porcelain"):
        commit += "-dirty"  # built from uncommitted changes: the commit alone does not reproduce it
    return ReleaseInfo(version, built_at.astimezone(UTC), tree_hash or source_tree_hash(sources), commit)


def info_frame(info: ReleaseInfo, row_counts: dict[str, int]) -> pl.DataFrame:
    """release_info: one row per table with the release's version, build time and source hash."""
    return pl.DataFrame(
        {
            "version": [info.version] * len(row_counts),
            "built_at": [info.built_at.replace(tzinfo=None)] * len(row_counts),
            "source_tree_hash": [info.source_tree_hash] * len(row_counts),
            "git_commit": [info.git_commit] * len(row_counts),
            "table_name": list(row_counts),
            "rows": list(row_counts.values()),
        },
        schema={
            "version": pl.String,
            "built_at": pl.Datetime("us"),
            "source_tree_hash": pl.String,
            "git_commit": pl.String,
            "table_name": pl.String,
            "rows": pl.Int64,
        },
    )


def portable(frame: pl.DataFrame) -> pl.DataFrame:
    """The release's Parquet form: list columns become JSON arrays (Table Schema `array`), which
    every Parquet and Frictionless reader understands; the DuckDB file keeps native lists."""
    nested = [name for name, dtype in frame.schema.items() if isinstance(dtype, pl.List | pl.Struct)]
    return (
        frame.with_columns(
            pl.col(name).map_elements(lambda v: json.dumps(v.to_list(), ensure_ascii=False), return_dtype=pl.String)
            for name in nested
        )
        if nested
        else frame
    )


def _field_type(dtype: pl.DataType) -> str:
    """Table Schema type of a polars type; list columns are `array` (JSON arrays in the Parquet files)."""
    if dtype == pl.String:
        return "string"
    if dtype.is_integer():
        return "integer"
    if dtype.is_float():
        return "number"
    if dtype == pl.Boolean:
        return "boolean"
    if dtype == pl.Date:
        return "date"
    if isinstance(dtype, pl.Datetime):
        return "datetime"
    if isinstance(dtype, pl.List):
        return "array"
    return "any"


def table_schema(name: str, frame: pl.DataFrame, schema: pa.DataFrameSchema | None) -> dict[str, Any]:
    """A Frictionless Table Schema generated from the pandera schema and the frame's types."""
    columns = schema.columns if schema is not None else {}
    fields = []
    for column_name, dtype in frame.schema.items():
        column = columns.get(column_name)
        field: dict[str, Any] = {"name": column_name, "type": _field_type(dtype)}
        # Frictionless reads Parquet through pandas, where an integer column with nulls becomes
        # floats (6.0): such a column is declared a number, its true type in duckdbType.
        if dtype.is_integer() and frame[column_name].null_count():
            field["type"] = "number"
            field["duckdbType"] = str(dtype)
        if column is not None:
            field["description"] = column.description
            unit = (column.metadata or {}).get("unit")
            if unit:
                field["unit"] = unit
            if not column.nullable:
                field["constraints"] = {"required": True}
        if field["type"] == "array":
            field["duckdbType"] = str(dtype)
        fields.append(field)
    descriptor: dict[str, Any] = {"fields": fields}
    if schema is not None:
        descriptor["primaryKey"] = list(schema.metadata["primary_key"])
    keys = FOREIGN_KEYS.get(name, [])
    if keys:
        descriptor["foreignKeys"] = [
            {"fields": column, "reference": {"resource": table, "fields": other}} for column, table, other in keys
        ]
    return descriptor


def _upstream_licences(frame: pl.DataFrame, snapshots: pl.DataFrame | None) -> dict[str, Any]:
    """For a table made from upstream snapshots: the licence and origin of each snapshot its
    rows come from (the Data Package's per-resource `licenses` and `sources`)."""
    if snapshots is None or "snapshot" not in frame.columns:
        return {}
    used = snapshots.filter(pl.col("snapshot").is_in(frame["snapshot"].unique().to_list())).sort("snapshot")
    if used.is_empty():
        return {}
    return {
        "licenses": [
            {"name": row["licence"], **({"path": row["licence_url"]} if row["licence_url"] else {}),
             "title": f"{row['snapshot']}: {row['licence_source']}"}
            for row in used.iter_rows(named=True)
        ],
        "sources": [
            {"title": f"{row['title']} ({row['origin']})", "path": row["url"]} for row in used.iter_rows(named=True)
        ],
    }  # fmt: skip


def datapackage(
    tables: dict[str, pl.DataFrame], schemas: dict[str, pa.DataFrameSchema], info: ReleaseInfo
) -> dict[str, Any]:
    """The Frictionless Data Package descriptor of a release."""
    documents = tables["sources"]
    sources = [
        {
            "title": f"{row['title']} ({row['publisher']}, {row['published']})",
            **({"path": row["url"]} if row["url"] else {}),
            **({"license": row["license"]} if row["license"] else {}),
        }
        for row in documents.sort("source_id").iter_rows(named=True)
    ]
    resources = []
    for name, frame in tables.items():
        schema = schemas.get(name)
        resources.append(
            {
                "name": name,
                "path": f"{PARQUET_DIR}/{name}.parquet",
                "format": "parquet",
                "mediatype": "application/vnd.apache.parquet",
                "description": schema.description if schema is not None else "",
                "schema": table_schema(name, frame, schema),
                **_upstream_licences(frame, tables.get("snapshots")),
            }
        )
    return {
        "name": "ai-footprints",
        "title": "AI Footprints: the environmental footprint of AI",
        "description": (
            "Figures on the energy, water, carbon and hardware of AI from public documents, each with its "
            "source, locator and quote, in canonical units, with derived training footprints and claim checks."
        ),
        "version": info.version,
        "created": info.built_at.isoformat().replace("+00:00", "Z"),
        "licenses": [
            {
                **DATA_LICENSE,
                "note": "The data; each source document keeps its own licence (see sources and the sources table).",
            }
        ],
        "contributors": [{"title": "AI Footprints contributors", "role": "author"}],
        "keywords": ["artificial intelligence", "energy", "water", "carbon", "data centres", "hardware"],
        "sources": sources,
        "resources": resources,
    }


def _figure_values(frame: pl.DataFrame) -> dict[str, tuple[Any, ...]]:
    return {row[0]: row[1:] for row in frame.select("figure_id", "value", "low", "high", "unit").iter_rows()}


@dataclass(frozen=True)
class PreviousRelease:
    """The release a new one is compared with: its version and its tables."""

    version: str
    tables: dict[str, pl.DataFrame]


def changelog(current: dict[str, pl.DataFrame], previous: PreviousRelease | None, info: ReleaseInfo) -> str:
    """Value-level changes against a previous release: documents, figures, row counts."""
    lines = [f"# Changelog: {info.version}", ""]
    old = previous.tables if previous is not None else {}
    if not old:
        lines += ["First release: nothing to compare with.", ""]
    else:
        lines += [f"Compared with {previous.version}.", ""]  # type: ignore[union-attr]
    if old:
        before = set(old["sources"]["source_id"]) if "sources" in old else set()
        after = set(current["sources"]["source_id"])
        lines += ["## Documents", ""]
        lines += [f"- added: `{s}`" for s in sorted(after - before)] + [
            f"- removed: `{s}`" for s in sorted(before - after)
        ]
        if before == after:
            lines.append("- no documents added or removed")
        lines += ["", "## Figures", ""]
        old_values = _figure_values(old["figures"]) if "figures" in old else {}
        new_values = _figure_values(current["figures"])
        lines += [f"- added: `{f}`" for f in sorted(new_values.keys() - old_values.keys())]
        lines += [f"- removed: `{f}`" for f in sorted(old_values.keys() - new_values.keys())]
        for figure_id in sorted(new_values.keys() & old_values.keys()):
            if new_values[figure_id] != old_values[figure_id]:
                lines.append(
                    f"- changed: `{figure_id}`: {_describe(old_values[figure_id])} → {_describe(new_values[figure_id])}"
                )
        if lines[-1] == "" or lines[-1] == "## Figures":
            lines.append("- no figures added, removed or changed")
        lines.append("")
    lines += ["## Rows per table", "", "| table | rows | before |", "|---|---|---|"]
    for name, frame in current.items():
        previous_rows = str(old[name].height) if name in old else ""
        lines.append(f"| {name} | {frame.height} | {previous_rows} |")
    return "\n".join(lines) + "\n"


def _describe(values: tuple[Any, ...]) -> str:
    value, low, high, unit = values
    if value is not None and low is None and high is None:
        return f"{value:g} {unit}"
    parts = [
        f"{value:g}" if value is not None else "",
        f"[{low:g}–{high:g}]" if low is not None and high is not None else "",
    ]
    return " ".join(p for p in parts if p) + f" {unit}"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _zip(folder: Path, target: Path, when: datetime, prefix: str) -> None:
    """A zip whose bytes depend only on the files: sorted entries, fixed time and mode."""
    stamp = (max(when.year, 1980), when.month, when.day, when.hour, when.minute, when.second)
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(p for p in folder.rglob("*") if p.is_file() and p != target):
            entry = zipfile.ZipInfo(f"{prefix}/{path.relative_to(folder).as_posix()}", date_time=stamp)
            entry.external_attr = 0o644 << 16
            entry.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(entry, path.read_bytes())


def write_release(
    tables: dict[str, pl.DataFrame],
    schemas: dict[str, pa.DataFrameSchema],
    statements: list[str],
    releases: Path,
    info: ReleaseInfo,
    previous: PreviousRelease | None,
) -> Path:
    """Write releases/<version>/ aside and move it into place; an existing version is an error."""
    target = releases / info.version
    if target.exists():
        raise FileExistsError(f"release {info.version} exists already at {target}; give another --version")
    releases.mkdir(parents=True, exist_ok=True)
    staging = releases / f".staging-{info.version}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        counts = {name: frame.height for name, frame in tables.items()}
        bundle = {**tables, INFO_TABLE: info_frame(info, counts)}
        (staging / PARQUET_DIR).mkdir()
        for name, frame in bundle.items():
            portable(frame).write_parquet(staging / PARQUET_DIR / f"{name}.parquet", statistics=True)
        write_duckdb_in_fresh_process(bundle, schemas, staging / DUCKDB_FILE, statements)
        descriptor = datapackage(bundle, schemas, info)
        (staging / DESCRIPTOR_FILE).write_text(
            json.dumps(descriptor, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        (staging / CHANGELOG_FILE).write_text(changelog(tables, previous, info), encoding="utf-8")
        files = sorted(p for p in staging.rglob("*") if p.is_file())
        sums = "".join(f"{_sha256(p)}  {p.relative_to(staging).as_posix()}\n" for p in files)
        (staging / CHECKSUMS_FILE).write_text(sums, encoding="utf-8")
        _zip(staging, staging / f"ai-footprints-{info.version}.zip", info.built_at, info.version)
        staging.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _version_key(version: str) -> tuple[str, int]:
    """v2026.01.01 < v2026.01.01-2 < v2026.01.01-10 < v2026.01.02."""
    base, _, number = version.partition("-")
    return base, int(number or 1)


def latest_version(existing: Iterable[str]) -> str | None:
    """The latest release version among these names (other names are ignored)."""
    versions = sorted((name for name in existing if _VERSION.fullmatch(name)), key=_version_key)
    return versions[-1] if versions else None


def previous_version(existing: Iterable[str], version: str) -> str | None:
    """The latest release version before `version`, if any (other names are ignored)."""
    earlier = sorted(
        (name for name in existing if _VERSION.fullmatch(name) and _version_key(name) < _version_key(version)),
        key=_version_key,
    )
    return earlier[-1] if earlier else None


def release_versions(location: str | Path) -> set[str]:
    """The versions released at a warehouse location: its `releases/<version>/` folders."""
    filesystem, root = warehouse_filesystem(location)
    listed = filesystem.get_file_info(pafs.FileSelector(f"{root}/{RELEASES_DIR}", allow_not_found=True))
    return {info.base_name for info in listed if info.type == pafs.FileType.Directory}


def check_new_version(location: str | Path, version: str) -> str:
    """The version, if it is well formed and not yet released at the location."""
    check_version(version)
    if version in release_versions(location):
        raise ValueError(f"release {version} exists already at {location}; give another --version")
    return version


@dataclass(frozen=True)
class Released:
    location: str  # the release folder: a local path, or the object store's URI
    info: ReleaseInfo
    previous: str | None
    changelog: str


def release_warehouse(
    location: str,
    schemas: dict[str, pa.DataFrameSchema],
    project: Path,
    sources: Path,
    version: str = "",
    previous: Path | None = None,
    build_time: str = "",
) -> Released:
    """Release the published build of a warehouse location (a path, a file:// URI or an
    object store) into `<location>/releases/<version>/`.

    The tables are read from the published build, the release is written and verified in a
    local folder (for an object store, a temporary one whose contents are then uploaded),
    and it is compared with `previous` (a local release folder) or else with the latest
    earlier release at the location.
    """
    filesystem, root = warehouse_filesystem(location)
    releases = f"{root}/{RELEASES_DIR}"
    existing = release_versions(location)
    version = check_new_version(location, version) if version else next_version(existing, datetime.now(UTC).date())
    published = read_parquet_folder(*published_parquet(location))
    tables = {name: published[name] for name in schemas if name != INFO_TABLE}
    # The warehouse says which sources it was built from; a release describes that, not today's tree.
    info = release_info(project, sources, version, build_time or None, published[INFO_TABLE]["source_tree_hash"][0])
    if previous is not None:
        compared = PreviousRelease(
            previous.name, read_parquet_folder(pafs.LocalFileSystem(), str(previous / PARQUET_DIR))
        )
    elif earlier := previous_version(existing, version):
        compared = PreviousRelease(earlier, read_parquet_folder(filesystem, f"{releases}/{earlier}/{PARQUET_DIR}"))
    else:
        compared = None
    local = local_path(location)
    with (
        nullcontext(str(local / RELEASES_DIR)) if local else tempfile.TemporaryDirectory(prefix="ai-footprints-") as out
    ):
        statements = sql.statements(tables["grid_measures"])
        folder = write_release(tables, schemas, statements, Path(out), info, compared)
        text = (folder / CHANGELOG_FILE).read_text(encoding="utf-8")
        if local is None:
            pafs.copy_files(
                str(folder),
                f"{releases}/{version}",
                source_filesystem=pafs.LocalFileSystem(),
                destination_filesystem=filesystem,
            )
    where = str(folder) if local else f"{str(location).partition('?')[0].rstrip('/')}/{RELEASES_DIR}/{version}"
    return Released(where, info, compared.version if compared else None, text)
