"""Reading `sources/`: safe YAML, input models, and the raw (as written) frames.

Each file is checked on its own here (syntax, keys, types, numbers, ranges, ids);
what needs several files at once is in `normalise`. Every problem is collected,
none is raised early, so that one run reports them all.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import polars as pl
import yaml
from pydantic import BaseModel, ValidationError

from pipelines.lib.errors import SourceProblem, visible
from pipelines.lib.figures import RAW_FIGURE_SCHEMA, DocumentFigures, check_figures
from schemas.inputs import (
    DimensionValueIn,
    DocumentHeader,
    EntityIn,
    EquivalenceIn,
    FactorIn,
    GapIn,
    GridIn,
    MetricIn,
    RunLocationIn,
)

METRICS_FILE = "metrics.yaml"
ENTITIES_FILE = "entities.yaml"
# The vocabularies of what a figure means: figure key -> file.
DIMENSION_FILES = {
    "boundary": "boundaries.yaml",
    "accounting": "accounting_methods.yaml",
    "statistic": "statistics.yaml",
    "period_kind": "period_kinds.yaml",
}
GRID_FILE = "grid.yaml"  # optional: the headline grid
GAPS_FILE = "gaps.yaml"  # optional: its cells that no document fills
FACTORS_FILE = "factors.yaml"  # optional
EQUIVALENCES_FILE = "equivalences.yaml"  # optional
RUN_LOCATIONS_FILE = "run_locations.yaml"  # optional: where training runs ran
OPTIONAL_FILES = {FACTORS_FILE, EQUIVALENCES_FILE, GRID_FILE, GAPS_FILE, RUN_LOCATIONS_FILE}
DOCUMENTS_DIR = "documents"

Model = TypeVar("Model", bound=BaseModel)


# Limits that keep a hostile or broken file from exhausting memory, the stack or time.
# The largest real document is about 100 KB with 233 figures, nested 4 levels deep.
MAX_FILE_BYTES = 4 * 1024 * 1024
MAX_NESTING_DEPTH = 8
MAX_FIGURES_PER_DOCUMENT = 5_000
# Trees larger than this are read by several processes (the real sources, about 3 MB, are not).
PARALLEL_LOAD_BYTES = 16 * 1024 * 1024
MAX_LOAD_WORKERS = 8
LOAD_CHUNK_FILES = 20

# libyaml's parser where PyYAML has it (it ships in PyYAML's wheels); only its event stream is used.
_Parser = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_NULLS = frozenset({"", "null", "Null", "NULL"})
_BOOLEANS = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}


class _UnsafeYamlError(Exception):
    """A file that is well-formed YAML but not allowed as a source."""


def _problem_at(event: yaml.Event, message: str) -> _UnsafeYamlError:
    return _UnsafeYamlError(f"{message} (line {event.start_mark.line + 1})")


def parse_source_yaml(text: str) -> Any:
    """The data of one YAML document, built straight from libyaml's event stream.

    Every scalar stays the text written ("2379" keeps its digits, "2024-01" stays a
    string, `~` stays the qualifier it means here); only plain null and true/false are
    resolved. Refused, with the line: explicit tags (`!!python/...`, `!!binary`),
    aliases (they allow exponential "billion laughs" documents), keys that are not
    plain text, repeated keys, more than one document, and nesting deeper than
    MAX_NESTING_DEPTH. Building from events needs no recursion (libyaml's own composer
    recurses in C and crashes the interpreter on very deep input) and is several times
    faster than PyYAML's constructors.
    """
    parser = _Parser(text)
    # One entry per open collection: [container, key waiting for its value, whether a key is waiting]
    stack: list[list[Any]] = []
    root: Any = None
    documents = 0
    try:
        while (event := parser.get_event()) is not None:
            kind = event.__class__
            if kind is yaml.ScalarEvent:
                if event.tag is not None:
                    raise _problem_at(event, f"uses the YAML tag {event.tag}: tags are not allowed")
                value: Any = event.value
                if event.implicit[0]:  # plain, not quoted
                    if value in _NULLS:
                        value = None
                    elif value in _BOOLEANS:
                        value = _BOOLEANS[value]
            elif kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
                if event.tag is not None:
                    raise _problem_at(event, f"uses the YAML tag {event.tag}: tags are not allowed")
                if len(stack) == MAX_NESTING_DEPTH:
                    raise _problem_at(event, f"nests lists and mappings more than {MAX_NESTING_DEPTH} levels deep")
                stack.append([{} if kind is yaml.MappingStartEvent else [], None, False])
                continue
            elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
                value = stack.pop()[0]
            elif kind is yaml.AliasEvent:
                raise _problem_at(event, f"uses a YAML alias (*{event.anchor}): aliases are not allowed")
            elif kind is yaml.DocumentStartEvent:
                documents += 1
                if documents > 1:
                    raise _problem_at(event, "holds more than one YAML document")
                continue
            else:
                continue
            if not stack:
                root = value
                continue
            top = stack[-1]
            container = top[0]
            if container.__class__ is list:
                container.append(value)
            elif not top[2]:
                if value.__class__ is dict or value.__class__ is list:
                    raise _problem_at(event, "has a key that is a list or mapping: keys must be plain text")
                if value in container:
                    raise _problem_at(event, f"repeats the key '{value}' in one mapping")
                top[1], top[2] = value, True
            else:
                container[top[1]] = value
                top[2] = False
    finally:
        parser.dispose()
    return root


def read_yaml(path: Path, display: str) -> tuple[Any, list[SourceProblem]]:
    """Parse one YAML file safely; a problem instead of an exception on failure."""

    def problem(message: str) -> tuple[None, list[SourceProblem]]:
        return None, [SourceProblem(display, None, None, message)]

    if path.is_symlink():
        return problem("is a symbolic link: sources must be plain files inside the source tree")
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            return problem(f"is {size} bytes, over the limit of {MAX_FILE_BYTES}: split it into smaller files")
        data = path.read_bytes()
    except OSError as exc:
        return problem(f"cannot be read ({exc.strerror})")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return problem(f"is not valid UTF-8 text ({exc.reason} at byte {exc.start}, line {line})")
    try:
        return parse_source_yaml(text), []
    except _UnsafeYamlError as exc:
        return problem(str(exc))
    except yaml.YAMLError as exc:
        message = " ".join(str(exc).split())
        return problem(f"is not valid YAML: {message}")


def _field_path(location: Iterable[int | str]) -> str:
    return ".".join(str(part) for part in location)


def _validation_problems(
    error: ValidationError, display: str, item: str | None, item_kind: str = "figure"
) -> list[SourceProblem]:
    """Turn pydantic errors into problems naming the item and field."""
    problems = []
    for detail in error.errors():
        message = detail["msg"]
        if detail["type"] == "extra_forbidden":
            message = "is not a key the contract knows"
        elif detail["type"] == "missing":
            message = "is required"
        elif detail["type"].startswith("value_error"):
            message = message.removeprefix("Value error, ")
        problems.append(SourceProblem(display, item, _field_path(detail["loc"]) or None, message, item_kind))
    return problems


def _validate_list(
    data: Any, model: type[Model], display: str, name_key: str, item_kind: str
) -> tuple[list[Model], list[SourceProblem]]:
    """Validate a YAML list of items (metrics or entities) item by item."""
    if not isinstance(data, list):
        return [], [SourceProblem(display, None, None, "must be a YAML list of items")]
    items, problems = [], []
    for index, raw in enumerate(data):
        name = raw.get(name_key) if isinstance(raw, dict) else None
        label = name if isinstance(name, str) and name else f"#{index + 1}"
        try:
            items.append(model.model_validate(raw))
        except ValidationError as exc:
            problems.extend(_validation_problems(exc, display, label, item_kind))
    return items, problems


def _validate_document(
    data: dict[str, Any], display: str, stem: str
) -> tuple[DocumentHeader, list[Any], list[SourceProblem]]:
    """Check a document's own keys; its figures are returned as parsed, to be checked
    together with those of other documents (`figures.check_figures`)."""
    problems = []
    header: DocumentHeader | None = None
    try:
        header = DocumentHeader.model_validate(data)
    except ValidationError as exc:
        problems.extend(_validation_problems(exc, display, None))
    if header is not None and header.id != stem:
        problems.append(SourceProblem(display, None, "id", f"'{header.id}' must equal the file name '{stem}'"))
    raw_figures = data.get("figures") if isinstance(data.get("figures"), list) else []
    if len(raw_figures) > MAX_FIGURES_PER_DOCUMENT:
        problems.append(
            SourceProblem(
                display,
                None,
                "figures",
                f"has {len(raw_figures)} figures, over the limit of {MAX_FIGURES_PER_DOCUMENT}: "
                "split the document's figures over several files",
            )
        )
        raw_figures = []
    if header is None:
        # Keep the figures under the file's name so that checks across files still report
        # their problems; the build stops on the header's problems anyway.
        keys = {name: None for name in DocumentHeader.model_fields} | {"id": stem, "cites": [], "figures": []}
        return DocumentHeader.model_construct(**keys), raw_figures, problems
    return header.model_copy(update={"figures": []}), raw_figures, problems


@dataclass
class LoadedSources:
    """The valid items of a source tree, and every problem found in it."""

    metrics: list[MetricIn] = field(default_factory=list)
    entities: list[EntityIn] = field(default_factory=list)
    documents: list[tuple[str, DocumentHeader]] = field(default_factory=list)  # (display path, document)
    figures: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=RAW_FIGURE_SCHEMA))  # the valid figures
    factors: list[FactorIn] = field(default_factory=list)
    equivalences: list[EquivalenceIn] = field(default_factory=list)
    run_locations: list[RunLocationIn] = field(default_factory=list)
    dimensions: dict[str, list[DimensionValueIn]] = field(default_factory=dict)  # figure key -> its values
    grid: GridIn | None = None
    gaps: list[GapIn] = field(default_factory=list)
    grid_file: str = GRID_FILE
    gaps_file: str = GAPS_FILE
    dimension_files: dict[str, str] = field(default_factory=dict)
    metrics_file: str = METRICS_FILE
    entities_file: str = ENTITIES_FILE
    factors_file: str = FACTORS_FILE
    equivalences_file: str = EQUIVALENCES_FILE
    run_locations_file: str = RUN_LOCATIONS_FILE
    problems: list[SourceProblem] = field(default_factory=list)


# The last tree read, by its files' names, sizes and modification times: `ai-footprints build`
# checks the sources and then builds from them in one process, and need not read them twice.
_last_read: tuple[tuple[object, ...], LoadedSources] | None = None


def _tree_signature(root: Path) -> tuple[object, ...]:
    entries = sorted((str(path), path.lstat()) for path in root.rglob("*") if not path.is_dir())
    return (root.resolve(), *((name, stat.st_size, stat.st_mtime_ns) for name, stat in entries))


def load_sources(root: Path) -> LoadedSources:
    """Read and check every file of a source tree on its own (again only if a file changed)."""
    global _last_read
    root = Path(root)
    signature = _tree_signature(root) if root.is_dir() else ()
    if _last_read is not None and signature and _last_read[0] == signature:
        return _last_read[1]
    loaded = _read_tree(root)
    _last_read = (signature, loaded) if signature else None
    return loaded


def forget_last_read() -> None:
    """Drop the remembered tree (at a million figures it holds gigabytes of models)."""
    global _last_read
    _last_read = None


def _read_tree(root: Path) -> LoadedSources:

    def display(path: Path) -> str:
        return visible(f"{root.name}/{path.relative_to(root).as_posix()}")

    loaded = LoadedSources(
        metrics_file=display(root / METRICS_FILE),
        entities_file=display(root / ENTITIES_FILE),
        factors_file=display(root / FACTORS_FILE),
        equivalences_file=display(root / EQUIVALENCES_FILE),
        run_locations_file=display(root / RUN_LOCATIONS_FILE),
        dimension_files={key: display(root / name) for key, name in DIMENSION_FILES.items()},
        grid_file=display(root / GRID_FILE),
        gaps_file=display(root / GAPS_FILE),
    )
    vocabularies: list[tuple[str, type[BaseModel], str, str, list[Any]]] = [
        (METRICS_FILE, MetricIn, "id", "metric", loaded.metrics),
        (ENTITIES_FILE, EntityIn, "name", "entity", loaded.entities),
        (FACTORS_FILE, FactorIn, "factor", "factor", loaded.factors),
        (EQUIVALENCES_FILE, EquivalenceIn, "equivalence", "equivalence", loaded.equivalences),
        (RUN_LOCATIONS_FILE, RunLocationIn, "model", "run location", loaded.run_locations),
    ]
    for key, name in DIMENSION_FILES.items():
        vocabularies.append((name, DimensionValueIn, "id", key, loaded.dimensions.setdefault(key, [])))
    vocabularies.append((GAPS_FILE, GapIn, "measure", "gap", loaded.gaps))
    if (root / GRID_FILE).is_file():
        data, problems = read_yaml(root / GRID_FILE, display(root / GRID_FILE))
        loaded.problems.extend(problems)
        if not problems:
            try:
                loaded.grid = GridIn.model_validate(data)
            except ValidationError as exc:
                loaded.problems.extend(_validation_problems(exc, display(root / GRID_FILE), None, "grid"))
    for name, model, key, kind, target in vocabularies:
        path = root / name
        if name in OPTIONAL_FILES and not path.exists():
            continue
        if not path.is_file():
            loaded.problems.append(SourceProblem(display(path), None, None, "is missing"))
            continue
        data, problems = read_yaml(path, display(path))
        loaded.problems.extend(problems)
        if not problems:
            items, problems = _validate_list(data, model, display(path), key, kind)
            target.extend(items)
            loaded.problems.extend(problems)

    documents_dir = root / DOCUMENTS_DIR
    paths = sorted(documents_dir.iterdir()) if documents_dir.is_dir() else []
    if not documents_dir.is_dir():
        loaded.problems.append(SourceProblem(display(documents_dir), None, None, "is missing"))
    readable = []
    for path in paths:
        if path.name.startswith("."):
            continue
        if path.suffix != ".yaml" or not (path.is_file() or path.is_symlink()):
            loaded.problems.append(
                SourceProblem(
                    display(path), None, None, "is not a .yaml file: documents are sources/documents/<id>.yaml"
                )
            )
            continue
        readable.append((path, display(path)))
    frames = []
    for documents, figures, problems in _load_documents(readable):
        loaded.documents.extend(documents)
        frames.append(figures)
        loaded.problems.extend(problems)
    if frames:
        loaded.figures = pl.concat(frames)
    return loaded


def _load_chunk(
    chunk: list[tuple[Path, str]],
) -> tuple[list[tuple[str, DocumentHeader]], pl.DataFrame, list[SourceProblem]]:
    """Documents read and their headers checked one by one, then their figures together."""
    documents, figures, problems = [], [], []
    for path, display in chunk:
        data, found = read_yaml(path, display)
        if not found and not isinstance(data, dict):
            found = [SourceProblem(display, None, None, "must be a YAML mapping of document keys")]
        problems.extend(found)
        if found:
            continue
        header, raw_figures, found = _validate_document(data, display, path.stem)
        problems.extend(found)
        documents.append((display, header))
        figures.append(DocumentFigures(display, header.id, raw_figures))
    frame, found = check_figures(figures)
    return documents, frame, problems + found


def _load_documents(
    readable: list[tuple[Path, str]],
) -> list[tuple[list[tuple[str, DocumentHeader]], pl.DataFrame, list[SourceProblem]]]:
    """The documents read and checked, in order, a chunk of files at a time; over several
    processes when the tree is large enough to repay starting them (parsing is pure Python)."""
    workers = min(os.cpu_count() or 1, MAX_LOAD_WORKERS)
    size = sum(path.stat().st_size for path, _ in readable if path.is_file() and not path.is_symlink())
    if workers < 2 or size < PARALLEL_LOAD_BYTES:
        return [_load_chunk(readable)]
    chunks = [readable[start : start + LOAD_CHUNK_FILES] for start in range(0, len(readable), LOAD_CHUNK_FILES)]
    # spawn, not fork: the parent may already run polars' and DuckDB's threads.
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        return list(pool.map(_load_chunk, chunks))


RAW_METRIC_SCHEMA = {
    "file": pl.String,
    "id": pl.String,
    "description": pl.String,
    "unit": pl.String,
    "kind": pl.String,
    "relative_to": pl.String,
    "baseline": pl.Boolean,
    "substance": pl.String,
    "signed": pl.Boolean,
    "accounting": pl.Boolean,
    "training_column": pl.String,
    "annual_series": pl.Boolean,
    "per_request": pl.String,
    "per_requests": pl.String,
    "intensity_per": pl.String,
    "intensity_unit": pl.String,
    "specification": pl.Boolean,
    "impossible_below": pl.String,
    "impossible_above": pl.String,
    "implausible_below": pl.String,
    "implausible_above": pl.String,
}


def _metric_row(file: str, metric: MetricIn) -> dict[str, Any]:
    """One metric as one flat row: its roles (`uses`) and `bounds` as columns."""
    uses, intensity = metric.uses, metric.uses.intensity
    return {
        "file": file,
        **metric.model_dump(exclude={"uses", "bounds"}),
        "training_column": uses.training_runs,
        "annual_series": uses.annual_metrics,
        "per_request": uses.per_request,
        "per_requests": uses.per_requests,
        "intensity_per": intensity.per if intensity else None,
        "intensity_unit": intensity.unit if intensity else None,
        "specification": uses.specification,
        **metric.bounds.model_dump(),
    }


def _item_frame(file: str, items: list[Any], schema: dict[str, Any]) -> pl.DataFrame:
    """The items of one list file as rows, each with the file it is in."""
    return pl.DataFrame([{"file": file, **item.model_dump()} for item in items], schema={"file": pl.String, **schema})


def raw_frames(loaded: LoadedSources) -> dict[str, pl.DataFrame]:
    """The raw layer: every item exactly as written, one frame per input kind."""
    metrics = pl.DataFrame(
        [_metric_row(loaded.metrics_file, metric) for metric in loaded.metrics], schema=RAW_METRIC_SCHEMA
    )
    dimension_values = pl.DataFrame(
        [
            {"file": loaded.dimension_files[key], "dimension": key, **value.model_dump()}
            for key, values in loaded.dimensions.items()
            for value in values
        ],
        schema={
            "file": pl.String,
            "dimension": pl.String,
            "id": pl.String,
            "description": pl.String,
            "applies_to": pl.List(pl.String),
        },
    )
    entities = _item_frame(
        loaded.entities_file,
        loaded.entities,
        {"name": pl.String, "type": pl.String, "aliases": pl.List(pl.String), "parent": pl.String, "zone": pl.String},
    )
    document_schema: dict[str, Any] = {"file": pl.String}
    for name in DocumentHeader.model_fields:
        if name == "figures":
            continue
        document_schema[name] = pl.List(pl.String) if name in {"authors", "cites"} else pl.String
    documents = pl.DataFrame(
        [{"file": file, **document.model_dump(exclude={"figures"})} for file, document in loaded.documents],
        schema=document_schema,
    )
    factors = _item_frame(
        loaded.factors_file, loaded.factors, {"factor": pl.String, "figure": pl.String, "reason": pl.String}
    )
    equivalences = _item_frame(
        loaded.equivalences_file,
        loaded.equivalences,
        {"equivalence": pl.String, "description": pl.String, "figure": pl.String},
    )
    run_locations = _item_frame(
        loaded.run_locations_file,
        loaded.run_locations,
        {
            "model": pl.String,
            "document": pl.String,
            "location": pl.String,
            "year": pl.Int32,
            "locator": pl.String,
            "quote": pl.String,
        },
    )
    grid = loaded.grid
    grid_measures = pl.DataFrame(
        [
            {
                "file": loaded.grid_file,
                "measure": measure.id,
                "metrics": measure.metrics,
                "accounting": measure.accounting_methods(),
                "boundaries": measure.boundaries,
                "wide_column": measure.column,
                "headline": measure.headline,
                "position": position,
            }
            for position, measure in enumerate(grid.measures if grid else [])
        ],
        schema={
            "file": pl.String,
            "measure": pl.String,
            "metrics": pl.List(pl.String),
            "accounting": pl.List(pl.String),
            "boundaries": pl.List(pl.String),
            "wide_column": pl.String,
            "headline": pl.Boolean,
            "position": pl.Int64,
        },
    )
    grid_cells = pl.DataFrame(
        [
            {"subject": subject, "year": year, "headline": headline}
            for subjects, headline in (((grid.organisations, True), (grid.more_organisations, False)) if grid else ())
            for subject in subjects
            for year in range(grid.first_year, grid.last_year + 1)  # type: ignore[union-attr]
        ],
        schema={"subject": pl.String, "year": pl.Int32, "headline": pl.Boolean},
    )
    gaps = pl.DataFrame(
        [
            {"file": loaded.gaps_file, **gap.model_dump(), "measure": measure, "year": year}
            for gap in loaded.gaps
            for measure, year in gap.cells()
        ],
        schema={
            "file": pl.String,
            "subject": pl.String,
            "measure": pl.String,
            "year": pl.Int32,
            "reason": pl.String,
            "note": pl.String,
        },
    )
    return {
        "metrics": metrics,
        "dimension_values": dimension_values,
        "grid_measures": grid_measures,
        "grid_cells": grid_cells,
        "gaps": gaps,
        "entities": entities,
        "documents": documents,
        "figures": loaded.figures,
        "factors": factors,
        "equivalences": equivalences,
        "run_locations": run_locations,
    }
