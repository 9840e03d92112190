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
from schemas.inputs import (
    DimensionValueIn,
    DocumentHeader,
    DocumentIn,
    EntityIn,
    EquivalenceIn,
    FactorIn,
    FigureIn,
    GapIn,
    GridIn,
    MetricIn,
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
OPTIONAL_FILES = {FACTORS_FILE, EQUIVALENCES_FILE, GRID_FILE, GAPS_FILE}
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


def _validate_document(data: dict[str, Any], display: str, stem: str) -> tuple[DocumentIn, list[SourceProblem]]:
    """Check a document's keys, then each figure on its own, so that one bad figure
    does not hide the problems of the others. Returns the document with its valid
    figures and every problem."""
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
    figures: list[FigureIn] = []
    seen: set[str] = set()
    for index, raw in enumerate(raw_figures):
        # A figure is named by its id when it has one that is text, else by its position.
        label = raw["id"] if isinstance(raw, dict) and isinstance(raw.get("id"), str) and raw["id"] else f"#{index + 1}"
        if not isinstance(raw, dict):
            problems.append(SourceProblem(display, label, None, "must be a mapping of figure keys"))
            continue
        try:
            figure = FigureIn.model_validate(raw)
        except ValidationError as exc:
            problems.extend(_validation_problems(exc, display, label))
            continue
        if figure.id in seen:
            problems.append(SourceProblem(display, figure.id, "id", "is used by another figure in this document"))
            continue
        seen.add(figure.id)
        problems.extend(SourceProblem(display, figure.id, name, message) for name, message in figure_problems(figure))
        figures.append(figure)
    ids = {str(raw.get("id")) for raw in raw_figures if isinstance(raw, dict)}
    for figure in figures:
        if figure.equals is not None and figure.equals not in ids:
            problems.append(
                SourceProblem(display, figure.id, "equals", f"'{figure.equals}' is not a figure of this document")
            )
    if header is None:
        # Keep the valid figures under the file's name so that checks across files
        # still report their problems; the build stops on the header's problems anyway.
        keys = {name: None for name in DocumentHeader.model_fields} | {"id": stem, "cites": [], "figures": figures}
        return DocumentIn.model_construct(**keys), problems
    return DocumentIn.model_construct(**{**header.model_dump(exclude={"figures"}), "figures": figures}), problems


def figure_problems(figure: FigureIn) -> list[tuple[str, str]]:
    """(field, message) for a figure whose keys do not fit together."""
    problems = []
    if figure.value is None and (figure.low is None or figure.high is None):
        problems.append(("value", "is required unless both low and high are given"))
    if figure.low is not None and figure.high is not None and float(figure.low) > float(figure.high):
        problems.append(("low", f"{figure.low} is greater than high ({figure.high})"))
    if figure.value is not None:
        value = float(figure.value)
        if figure.low is not None and value < float(figure.low):
            problems.append(("value", f"{figure.value} is below low ({figure.low})"))
        if figure.high is not None and value > float(figure.high):
            problems.append(("value", f"{figure.value} is above high ({figure.high})"))
    if figure.equals == figure.id:
        problems.append(("equals", "names the figure itself"))
    return problems


@dataclass
class LoadedSources:
    """The valid items of a source tree, and every problem found in it."""

    metrics: list[MetricIn] = field(default_factory=list)
    entities: list[EntityIn] = field(default_factory=list)
    documents: list[tuple[str, DocumentIn]] = field(default_factory=list)  # (display path, document)
    factors: list[FactorIn] = field(default_factory=list)
    equivalences: list[EquivalenceIn] = field(default_factory=list)
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
        dimension_files={key: display(root / name) for key, name in DIMENSION_FILES.items()},
        grid_file=display(root / GRID_FILE),
        gaps_file=display(root / GAPS_FILE),
    )
    vocabularies: list[tuple[str, type[BaseModel], str, str, list[Any]]] = [
        (METRICS_FILE, MetricIn, "id", "metric", loaded.metrics),
        (ENTITIES_FILE, EntityIn, "name", "entity", loaded.entities),
        (FACTORS_FILE, FactorIn, "factor", "factor", loaded.factors),
        (EQUIVALENCES_FILE, EquivalenceIn, "equivalence", "equivalence", loaded.equivalences),
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
    for document, problems in _load_documents(readable):
        loaded.problems.extend(problems)
        if document is not None:
            loaded.documents.append(document)
    return loaded


def _load_document(path: Path, display: str) -> tuple[tuple[str, DocumentIn] | None, list[SourceProblem]]:
    data, problems = read_yaml(path, display)
    if problems:
        return None, problems
    if not isinstance(data, dict):
        return None, [SourceProblem(display, None, None, "must be a YAML mapping of document keys")]
    document, problems = _validate_document(data, display, path.stem)
    return (display, document), problems


def _load_chunk(
    chunk: list[tuple[Path, str]],
) -> list[tuple[tuple[str, DocumentIn] | None, list[SourceProblem]]]:
    return [_load_document(path, display) for path, display in chunk]


def _load_documents(
    readable: list[tuple[Path, str]],
) -> Iterable[tuple[tuple[str, DocumentIn] | None, list[SourceProblem]]]:
    """Each document read and checked, in order; over several processes when the tree is
    large enough to repay starting them (parsing and validating is pure Python)."""
    workers = min(os.cpu_count() or 1, MAX_LOAD_WORKERS)
    size = sum(path.stat().st_size for path, _ in readable if path.is_file() and not path.is_symlink())
    if workers < 2 or size < PARALLEL_LOAD_BYTES:
        return _load_chunk(readable)
    chunks = [readable[start : start + LOAD_CHUNK_FILES] for start in range(0, len(readable), LOAD_CHUNK_FILES)]
    # spawn, not fork: the parent may already run polars' and DuckDB's threads.
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        return [result for chunk in pool.map(_load_chunk, chunks) for result in chunk]


RAW_FIGURE_COLUMNS = [
    "file",
    "source_id",
    "figure_order",
    *FigureIn.model_fields,
]


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
    entities = pl.DataFrame(
        [{"file": loaded.entities_file, **entity.model_dump()} for entity in loaded.entities],
        schema={
            "file": pl.String,
            "name": pl.String,
            "type": pl.String,
            "aliases": pl.List(pl.String),
            "parent": pl.String,
            "zone": pl.String,
        },
    )
    document_schema: dict[str, Any] = {"file": pl.String}
    for name in DocumentIn.model_fields:
        if name == "figures":
            continue
        document_schema[name] = pl.List(pl.String) if name in {"authors", "cites"} else pl.String
    documents = pl.DataFrame(
        [{"file": file, **document.model_dump(exclude={"figures"})} for file, document in loaded.documents],
        schema=document_schema,
    )
    # Column by column from the models' attributes: at a million figures, a dict per row costs seconds.
    every_figure = [figure for _, document in loaded.documents for figure in document.figures]
    columns: dict[str, list[Any]] = {
        "file": [file for file, document in loaded.documents for _ in document.figures],
        "source_id": [document.id for _, document in loaded.documents for _ in document.figures],
        "figure_order": [order for _, document in loaded.documents for order in range(len(document.figures))],
        **{name: [getattr(figure, name) for figure in every_figure] for name in FigureIn.model_fields},
    }
    figures = pl.DataFrame(
        columns, schema={name: (pl.Int64 if name == "figure_order" else pl.String) for name in RAW_FIGURE_COLUMNS}
    )
    factors = pl.DataFrame(
        [{"file": loaded.factors_file, **factor.model_dump()} for factor in loaded.factors],
        schema={"file": pl.String, "factor": pl.String, "figure": pl.String, "reason": pl.String},
    )
    equivalences = pl.DataFrame(
        [{"file": loaded.equivalences_file, **item.model_dump()} for item in loaded.equivalences],
        schema={"file": pl.String, "equivalence": pl.String, "description": pl.String, "figure": pl.String},
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
        "figures": figures,
        "factors": factors,
        "equivalences": equivalences,
    }
