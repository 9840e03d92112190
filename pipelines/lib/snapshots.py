"""Snapshots of upstream datasets: files kept exactly as published under
`sources/snapshots/<name>/`, each folder with a `snapshot.yaml` saying where they come from
(a pinned PyPI package, or a repository at a commit), their licence and the sha256 of every
file. This module checks a snapshot (metadata, licence, checksums) and reads its files into
raw polars frames, each column cast to its type and checked (a number, a code of the right
form), every row with the upstream's own file and key; refreshing a snapshot
(the only step that reaches the network) lives here too. What the rows mean, and the
published tables made from them, are in `pipelines.lib.upstream`.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path, PurePosixPath
from typing import Any

import polars as pl
import yaml
from pydantic import ValidationError

from pipelines.lib.errors import SourceProblem, visible
from pipelines.lib.locations import PROJECT_ROOT
from pipelines.lib.sources import _validate_list, _validation_problems, read_yaml
from schemas.inputs import SNAPSHOT_NAME_PATTERN, LicenceIn, SnapshotIn, SnapshotOriginIn

SNAPSHOTS_DIR = "snapshots"
SNAPSHOT_FILE = "snapshot.yaml"
LICENCES_FILE = "licences.yaml"

# A reader turns the bytes of one file (and its path) into a frame of the upstream's columns.
Reader = Callable[[bytes, str], pl.DataFrame]


@dataclass(frozen=True)
class RawTable:
    """A raw frame read from the files of one snapshot that match `pattern`: its columns
    (name -> dtype), the column that is each row's upstream key, the columns a file may lack,
    and the form some text columns must have (column -> regex and what it is)."""

    snapshot: str
    pattern: str
    read: Reader
    columns: dict[str, pl.DataType]
    key: str
    optional: frozenset[str] = frozenset()
    formats: dict[str, tuple[str, str]] = field(default_factory=dict)


def _json_records(path: str) -> Reader:
    """Rows of a JSON list held under a key of the document."""

    def read(data: bytes, _: str) -> pl.DataFrame:
        return pl.read_json(io.BytesIO(data)).select(pl.col(path).explode()).unnest(path)

    return read


def _json_mapping(data: bytes, _: str) -> pl.DataFrame:
    """Rows of a JSON object of objects, the key of each as `key`."""
    return pl.read_json(io.BytesIO(data)).unpivot(variable_name="key").unnest("value")


def _csv(data: bytes, _: str) -> pl.DataFrame:
    frame = pl.read_csv(io.BytesIO(data), infer_schema=False, encoding="utf8-lossy")
    frame = frame.rename({name: name.lstrip("\ufeff") for name in frame.columns})
    # a line of empty fields (",,,") is a blank row, not data
    return frame.filter(pl.any_horizontal(pl.all().is_not_null() & (pl.all() != "")))


def _yearly_csv(data: bytes, name: str) -> pl.DataFrame:
    """A CSV per year (data/yearly/2023.csv): its rows with the year from the file name."""
    return _csv(data, name).with_columns(pl.lit(PurePosixPath(name).stem).alias("year"))


def _ml_energy_runs(data: bytes, _: str) -> pl.DataFrame:
    """Each measured configuration of an ML.ENERGY model × task file, with the model's keys
    and its index in the file as `configuration`."""
    document = pl.read_json(io.BytesIO(data))
    # the model's own nested keys (an output-length histogram) are not measurements
    model = [c for c, dtype in document.schema.items() if c == "configurations" or not dtype.is_nested()]
    frame = document.select(model).explode("configurations").unnest("configurations")
    if "parallelization" in frame.columns and "tensor_parallel" in frame.schema["parallelization"].to_schema():
        frame = frame.with_columns(pl.col("parallelization").struct.field("tensor_parallel"))
    return frame.with_columns(pl.int_range(pl.len()).alias("configuration"))


def _low_high(value: Any) -> tuple[Any, Any]:
    """A count as EcoLogits writes it (a number, or {min, max}) as its low and high ends."""
    return (value.get("min"), value.get("max")) if isinstance(value, dict) else (value, value)


def _ecologits_models(data: bytes, _: str) -> pl.DataFrame:
    """Each model of EcoLogits' catalogue with its parameter counts (billions) as low and high
    ends: a dense model gives one number or a range; a mixture of experts gives total and
    active, each a number or a range. (The one reader that walks Python objects: a field that
    is a number in one row and an object in another is beyond polars' JSON reader.)"""
    rows = []
    for model in json.loads(data)["models"]:
        parameters = model["architecture"]["parameters"]
        if isinstance(parameters, dict) and "total" in parameters:
            total, active = parameters["total"], parameters.get("active")
        else:
            total, active = parameters, None
        (total_low, total_high), (active_low, active_high) = _low_high(total), _low_high(active)
        rows.append(
            {
                "provider": model["provider"],
                "name": model["name"],
                "architecture": model["architecture"]["type"],
                "total_params_low": total_low,
                "total_params_high": total_high,
                "active_params_low": active_low,
                "active_params_high": active_high,
                "warnings": ";".join(model.get("warnings") or []),
                "sources": " ".join(model.get("sources") or []),
            }
        )
    return pl.DataFrame(rows, infer_schema_length=None)


NUMBER, TEXT, INTEGER = pl.Float64(), pl.String(), pl.Int64()
ZONE = (r"^[A-Z]{3}$", "an ISO 3166-1 alpha-3 country code")

RAW_TABLES = {
    "codecarbon_energy_mix": RawTable(
        "codecarbon",
        "codecarbon/data/private_infra/global_energy_mix.json",
        _json_mapping,
        {
            "key": TEXT,
            "iso_code": TEXT,
            "country_name": TEXT,
            "year": INTEGER,
            "carbon_intensity": NUMBER,
            "total_TWh": NUMBER,
            "renewables_TWh": NUMBER,
            "low_carbon_TWh": NUMBER,
        },
        "key",
        formats={"iso_code": ZONE},
    ),
    "codecarbon_cloud_regions": RawTable(
        "codecarbon",
        "codecarbon/data/cloud/impact.csv",
        _csv,
        {
            "provider": TEXT,
            "region": TEXT,
            "country_name": TEXT,
            "countryIsoCode": TEXT,
            "city": TEXT,
            "impact": NUMBER,
            "source": TEXT,
        },
        "region",
        optional=frozenset({"city"}),
    ),
    "ecologits_electricity_mixes": RawTable(
        "ecologits",
        "ecologits/data/electricity_mixes.json",
        _json_records("electricity_mixes"),
        {"name": TEXT, "gwp": NUMBER, "wue": NUMBER, "pe": NUMBER, "warnings": TEXT},
        "name",
        formats={"name": ZONE},
    ),
    "ecologits_models": RawTable(
        "ecologits",
        "ecologits/data/models.json",
        _ecologits_models,
        {
            "provider": TEXT,
            "name": TEXT,
            "architecture": TEXT,
            "total_params_low": NUMBER,
            "total_params_high": NUMBER,
            "active_params_low": NUMBER,
            "active_params_high": NUMBER,
            "warnings": TEXT,
            "sources": TEXT,
        },
        "name",
        optional=frozenset({"active_params_low", "active_params_high", "warnings"}),
    ),
    "ml_energy_runs": RawTable(
        "ml-energy-leaderboard",
        "public/data/models/*.json",
        _ml_energy_runs,
        {
            "model_id": TEXT,
            "nickname": TEXT,
            "task": TEXT,
            "architecture": TEXT,
            "total_params_billions": NUMBER,
            "activated_params_billions": NUMBER,
            "weight_precision": TEXT,
            "gpu_model": TEXT,
            "num_gpus": INTEGER,
            "max_num_seqs": INTEGER,
            "batch_size": INTEGER,
            "avg_batch_size": NUMBER,
            "avg_output_len": NUMBER,
            "energy_per_request_joules": NUMBER,
            "energy_per_image_joules": NUMBER,
            "energy_per_video_joules": NUMBER,
            "energy_per_token_joules": NUMBER,
            "avg_power_watts": NUMBER,
            "output_throughput_tokens_per_sec": NUMBER,
            "median_itl_ms": NUMBER,
            "tensor_parallel": INTEGER,
            "configuration": INTEGER,
        },
        "configuration",
        # the diffusion tasks measure images and videos, not requests and tokens
        optional=frozenset(
            {
                "architecture",
                "nickname",
                "max_num_seqs",
                "batch_size",
                "avg_batch_size",
                "avg_output_len",
                "energy_per_request_joules",
                "energy_per_image_joules",
                "energy_per_video_joules",
                "energy_per_token_joules",
                "output_throughput_tokens_per_sec",
                "median_itl_ms",
                "tensor_parallel",
            }
        ),
    ),
    "google_region_carbon": RawTable(
        "google-cloud-region-carbon",
        "data/yearly/*.csv",
        _yearly_csv,
        {
            "Google Cloud Region": TEXT,
            "Location": TEXT,
            "Google CFE": NUMBER,
            "Grid carbon intensity (gCO2eq / kWh)": NUMBER,
            "Lifecycle grid carbon intensity (gCO2eq / kWh)": NUMBER,
            "year": INTEGER,
        },
        "Google Cloud Region",
        # 2019 and 2020 give a life-cycle intensity, later years a direct (operational) one
        optional=frozenset({"Grid carbon intensity (gCO2eq / kWh)", "Lifecycle grid carbon intensity (gCO2eq / kWh)"}),
    ),
}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _snapshot_dirs(root: Path) -> list[Path]:
    folder = root / SNAPSHOTS_DIR
    return sorted(path for path in folder.iterdir() if path.is_dir()) if folder.is_dir() else []


def _licences(root: Path, display: Callable[[Path], str]) -> tuple[dict[str, LicenceIn], list[SourceProblem]]:
    path = root / LICENCES_FILE
    if not path.is_file():
        return {}, []
    data, problems = read_yaml(path, display(path))
    if problems:
        return {}, problems
    items, problems = _validate_list(data, LicenceIn, display(path), "id", "licence")
    return {item.id: item for item in items}, problems


def _metadata(
    folder: Path, licences: dict[str, LicenceIn], display: Callable[[Path], str]
) -> tuple[SnapshotIn | None, list[SourceProblem]]:
    path = folder / SNAPSHOT_FILE
    shown = display(path)
    if not path.is_file():
        return None, [SourceProblem(shown, None, None, "is missing: every snapshot folder has a snapshot.yaml")]
    data, problems = read_yaml(path, shown)
    if problems:
        return None, problems
    try:
        snapshot = SnapshotIn.model_validate(data)
    except ValidationError as error:
        return None, _validation_problems(error, shown, folder.name, "snapshot")
    licence = licences.get(snapshot.licence)
    if licence is None:
        return None, [
            SourceProblem(
                shown, folder.name, "licence", f"'{snapshot.licence}' is not a licence of {LICENCES_FILE}", "snapshot"
            )
        ]
    if not licence.redistributable:
        return None, [
            SourceProblem(
                shown,
                folder.name,
                "licence",
                f"'{licence.name}' does not allow its files to be redistributed: they cannot be "
                "committed or published here",
                "snapshot",
            )
        ]
    return snapshot, []


def _verified_files(
    folder: Path, snapshot: SnapshotIn, display: Callable[[Path], str]
) -> tuple[dict[str, bytes], list[SourceProblem]]:
    """The snapshot's files whose sha256 is the one its metadata gives; a problem for each
    file that is missing, differs, or is in the folder without being listed."""
    files, problems = {}, []
    listed = {item.path for item in snapshot.files}
    for item in snapshot.files:
        path = folder / item.path
        shown = display(path)
        if not path.is_file() or path.is_symlink():
            problems.append(
                SourceProblem(shown, folder.name, "files", "is listed in snapshot.yaml but missing", "snapshot")
            )
            continue
        data = path.read_bytes()
        digest = sha256(data)
        if digest != item.sha256:
            problems.append(
                SourceProblem(
                    shown,
                    folder.name,
                    "sha256",
                    f"has sha256 {digest[:12]}…, not the {item.sha256[:12]}… snapshot.yaml "
                    "gives: the file changed since it was snapshotted (refresh the snapshot "
                    "with `make snapshot`, or restore the file)",
                    "snapshot",
                )
            )
            continue
        files[item.path] = data
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder).as_posix()
        if path.is_file() and relative != SNAPSHOT_FILE and relative not in listed:
            problems.append(
                SourceProblem(
                    display(path),
                    folder.name,
                    "files",
                    "is not listed in snapshot.yaml (list it with its sha256, or remove it)",
                    "snapshot",
                )
            )
    return files, problems


def _as_text(frame: pl.DataFrame, column: str) -> pl.Expr:
    """A column as text: lists joined with ';', objects as JSON, values as written."""
    dtype = frame.schema[column]
    if isinstance(dtype, pl.List):
        return pl.col(column).list.eval(pl.element().cast(pl.String)).list.join(";")
    if isinstance(dtype, pl.Struct):
        return pl.col(column).struct.json_encode()
    return pl.col(column).cast(pl.String)


def _text(table: RawTable, frame: pl.DataFrame, shown: str) -> tuple[pl.DataFrame, list[SourceProblem]]:
    """The table's columns of one file's frame as text (a missing optional column as nulls),
    and a problem for each required column the file lacks."""
    problems = [
        SourceProblem(shown, None, column, "is missing: the upstream renamed or dropped this column (the "
                      "snapshot's reader expects it)", "row")
        for column in table.columns
        if column not in frame.columns and column not in table.optional and frame.height
    ]  # fmt: skip
    text = frame.select(
        _as_text(frame, column) if column in frame.columns else pl.lit(None, pl.String).alias(column)
        for column in table.columns
    )
    return text.with_columns(pl.lit(shown).alias("_shown")), problems


def _typed(table: RawTable, text: pl.DataFrame) -> tuple[pl.DataFrame, list[SourceProblem]]:
    """Every column cast to its type in one pass over all files; a problem for each row
    without its key and each value that is not of its column's type, naming the file and the
    row by its upstream key."""
    typed = text.with_columns(pl.col(column).cast(dtype, strict=False) for column, dtype in table.columns.items())
    problems = [
        SourceProblem(shown, f"#{index + 1}", table.key, "is empty: every row needs its key", "row")
        for shown, index in text.with_row_index().filter(pl.col(table.key).is_null()).select("_shown", "index").rows()
    ]
    for column, dtype in table.columns.items():
        if dtype == TEXT:
            continue
        wrong = text.filter(pl.col(column).is_not_null() & typed[column].is_null())
        kind = "an integer" if dtype == INTEGER else "a number"
        problems += [
            SourceProblem(shown, str(key), column, f"'{value}' is not {kind}", "row")
            for shown, key, value in wrong.select("_shown", pl.col(table.key).alias("_key"), pl.col(column).alias("_v"))
            .rows()
        ]  # fmt: skip
    for column, (pattern, what) in table.formats.items():
        wrong = text.filter(pl.col(column).is_not_null() & ~pl.col(column).str.contains(pattern))
        problems += [
            SourceProblem(shown, str(key), column, f"'{value}' is not {what}", "row")
            for shown, key, value in wrong.select("_shown", pl.col(table.key).alias("_key"), pl.col(column).alias("_v"))
            .rows()
        ]  # fmt: skip
    return typed.drop("_shown"), problems


def read_raw_tables(
    folder: Path, files: dict[str, bytes], display: Callable[[Path], str]
) -> tuple[dict[str, pl.DataFrame], list[SourceProblem]]:
    """The raw tables of one snapshot folder from its verified files, each row with the file it
    came from (`upstream_file`) and its upstream key (`upstream_key`)."""
    frames, problems = {}, []
    for name, table in RAW_TABLES.items():
        if table.snapshot != folder.name:
            continue
        parts = []
        for path in sorted(p for p in files if _included(p, [table.pattern])):
            shown = display(folder / path)
            try:
                frame = table.read(files[path], path)
            except (ValueError, KeyError, TypeError, pl.exceptions.PolarsError) as error:
                problems.append(
                    SourceProblem(shown, None, None, f"cannot be read as the snapshot expects: {error}", "row")
                )
                continue
            text, found = _text(table, frame, shown)
            problems += found
            parts.append(text.with_columns(pl.lit(path).alias("upstream_file")))
        if not parts:
            frames[name] = _empty(table)
            continue
        typed, found = _typed(table, pl.concat(parts))
        problems += found
        frames[name] = typed.with_columns(
            pl.col(table.key).cast(pl.String).alias("upstream_key"), pl.lit(folder.name).alias("snapshot")
        )
    return frames, problems


def _empty(table: RawTable) -> pl.DataFrame:
    return pl.DataFrame(schema={**table.columns, "upstream_file": TEXT, "upstream_key": TEXT, "snapshot": TEXT})


def load_snapshots(root: Path) -> tuple[dict[str, pl.DataFrame], list[SourceProblem]]:
    """Every snapshot under root/snapshots: the `snapshots` frame (one row per snapshot: its
    origin, licence, files and checksums) and the raw tables read from their files, with every
    problem (a snapshot that is not valid contributes no rows)."""

    def display(path: Path) -> str:
        return visible(f"{root.name}/{path.relative_to(root).as_posix()}")

    licences, problems = _licences(root, display)
    rows, frames = [], {name: _empty(table) for name, table in RAW_TABLES.items()}
    for folder in _snapshot_dirs(root):
        if not re.fullmatch(SNAPSHOT_NAME_PATTERN, folder.name):
            problems.append(SourceProblem(display(folder), None, None, "is not a snapshot name: lower-case letters, "
                                          "digits and hyphens", "snapshot"))  # fmt: skip
            continue
        snapshot, found = _metadata(folder, licences, display)
        problems += found
        if snapshot is None:
            continue
        files, found = _verified_files(folder, snapshot, display)
        problems += found
        tables, found = read_raw_tables(folder, files, display)
        problems += found
        for name, frame in tables.items():
            frames[name] = pl.concat([frames[name], frame])
        licence = licences[snapshot.licence]
        rows.append(
            {
                "snapshot": folder.name,
                "title": snapshot.title,
                "description": snapshot.description,
                "origin": snapshot.origin.label(),
                "url": snapshot.url,
                "licence": licence.id,
                "licence_url": licence.url,
                "licence_source": snapshot.licence_source,
                "retrieved": snapshot.retrieved,
                "files": [item.path for item in snapshot.files],
                "sha256": [item.sha256 for item in snapshot.files],
                "rows": sum(frame.height for frame in tables.values()),
            }
        )
    frames["snapshots"] = pl.DataFrame(rows, schema=SNAPSHOT_SCHEMA)
    return frames, problems


SNAPSHOT_SCHEMA = {
    "snapshot": pl.String(),
    "title": pl.String(),
    "description": pl.String(),
    "origin": pl.String(),
    "url": pl.String(),
    "licence": pl.String(),
    "licence_url": pl.String(),
    "licence_source": pl.String(),
    "retrieved": pl.Date(),
    "files": pl.List(pl.String()),
    "sha256": pl.List(pl.String()),
    "rows": pl.Int64(),
}


def refresh_snapshot(root: Path, name: str, source: Path | None = None, today: date | None = None) -> list[str]:
    """Fetch a snapshot's files again from its pinned origin and rewrite their checksums and
    retrieval date in snapshot.yaml: a package's wheel is downloaded with pip (the one step that
    reaches the network); a repository's files are read at the commit from `source`, a local
    clone or bare copy. Returns the paths written."""
    if not re.fullmatch(SNAPSHOT_NAME_PATTERN, name) or not (root / SNAPSHOTS_DIR / name / SNAPSHOT_FILE).is_file():
        known = ", ".join(folder.name for folder in _snapshot_dirs(root)) or "none"
        raise ValueError(f"'{name}' is not a snapshot of {root / SNAPSHOTS_DIR} (known: {known})")
    folder = root / SNAPSHOTS_DIR / name
    path = folder / SNAPSHOT_FILE
    data, problems = read_yaml(path, str(path))
    if problems:
        raise ValueError(str(problems[0]))
    origin = SnapshotOriginIn.model_validate(data.get("origin"))
    wanted = list(data.get("include") or [])
    if origin.package is not None:
        contents = _wheel_files(origin.package, origin.version or "", wanted)
    else:
        if source is None:
            raise ValueError(f"{name} comes from {origin.repository}: give --from <a local clone or copy of it>")
        contents = _git_files(source, origin.commit or "", wanted)
    matched = sorted(contents)
    if not matched:
        raise ValueError(f"none of {wanted} is in {origin.label()}")
    for existing in sorted(folder.rglob("*"), reverse=True):
        if existing.is_file() and existing.name != SNAPSHOT_FILE:
            existing.unlink()
    for relative in matched:
        target = folder / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(contents[relative])
    for directory in sorted((p for p in folder.rglob("*") if p.is_dir()), reverse=True):
        if not any(directory.iterdir()):
            directory.rmdir()
    data["files"] = [{"path": relative, "sha256": sha256(contents[relative])} for relative in matched]
    data["retrieved"] = (today or date.today()).isoformat()
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100), encoding="utf-8")
    return matched


def _included(path: str, patterns: list[str]) -> bool:
    return any(PurePosixPath(path).match(pattern) and path.count("/") == pattern.count("/") for pattern in patterns)


def _pip_python() -> Path:
    """An interpreter with pip: the project's .venv is made by uv and has none, so the one
    `make` bootstraps uv with (.uv/), else this one."""
    bootstrap = PROJECT_ROOT / ".uv" / "bin" / "python"
    return bootstrap if bootstrap.exists() else Path(sys.executable)


def _wheel_files(package: str, version: str, patterns: list[str]) -> dict[str, bytes]:
    with tempfile.TemporaryDirectory() as folder:
        subprocess.run(
            [
                str(_pip_python()),
                "-m",
                "pip",
                "download",
                "--quiet",
                "--no-deps",
                "--only-binary=:all:",
                f"{package}=={version}",
                "-d",
                folder,
            ],
            check=True,
        )
        (wheel,) = Path(folder).glob("*.whl")
        with zipfile.ZipFile(wheel) as archive:
            return {entry: archive.read(entry) for entry in archive.namelist() if _included(entry, patterns)}


def _git_files(source: Path, commit: str, patterns: list[str]) -> dict[str, bytes]:
    git = shutil.which("git") or "git"
    listing = subprocess.run(
        [git, "-C", str(source), "ls-tree", "-r", "--name-only", commit], check=True, capture_output=True, text=True
    ).stdout.split("\n")
    return {
        path: subprocess.run(
            [git, "-C", str(source), "show", f"{commit}:{path}"], check=True, capture_output=True
        ).stdout
        for path in listing
        if path and _included(path, patterns)
    }
