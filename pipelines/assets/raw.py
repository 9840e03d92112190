"""Raw layer: the contributed YAML files, checked file by file, exactly as written."""

from __future__ import annotations

from collections.abc import Iterator

import dagster as dg

from pipelines.lib.errors import raise_if_any
from pipelines.lib.snapshots import RAW_TABLES, load_snapshots
from pipelines.lib.sources import forget_last_read, load_sources, raw_frames
from pipelines.metadata import frame_metadata
from pipelines.resources import SourcesResource

RAW_DESCRIPTIONS = {
    "metrics": "sources/metrics.yaml as written.",
    "dimension_values": "sources/boundaries.yaml, accounting_methods.yaml, statistics.yaml and period_kinds.yaml as "
    "written: the values of each figure dimension.",
    "entities": "sources/entities.yaml as written.",
    "documents": "Document-level keys of sources/documents/*.yaml as written.",
    "figures": "Every figure of sources/documents/*.yaml as written (numbers kept as text).",
    "factors": "sources/factors.yaml as written: the default factor for each training-run input.",
    "grid_measures": "sources/grid.yaml as written: the measures of the headline grid.",
    "grid_cells": "sources/grid.yaml as written: the organisations and years of the grid (headline or not).",
    "gaps": "sources/gaps.yaml as written: the grid's cells no document fills, and why.",
    "equivalences": "sources/equivalences.yaml as written: human-scale references and their figures.",
    "run_locations": "sources/run_locations.yaml as written: where training runs ran, as their documents say.",
}


@dg.multi_asset(
    outs={
        name: dg.AssetOut(key=["raw", name], group_name="raw", description=description, kinds={"yaml", "polars"})
        for name, description in RAW_DESCRIPTIONS.items()
    },
    description="Read and check every source file; fail with every problem found.",
)
def raw_sources(source_tree: SourcesResource) -> Iterator[dg.Output]:
    loaded = load_sources(source_tree.path)
    forget_last_read()  # later steps need the frames, not the parsed models
    raise_if_any(loaded.problems)
    frames = raw_frames(loaded)
    del loaded
    for name, frame in frames.items():
        yield dg.Output(frame, output_name=name, metadata=frame_metadata(frame))


SNAPSHOT_DESCRIPTIONS = {
    "snapshots": "sources/snapshots/*/snapshot.yaml: each upstream's origin, licence and file checksums, verified.",
    **{name: f"The {table.pattern} file(s) of sources/snapshots/{table.snapshot}/ as published, values as text cast "
       "to their types, each row with its upstream file and key." for name, table in RAW_TABLES.items()},
}  # fmt: skip


@dg.multi_asset(
    outs={
        name: dg.AssetOut(key=["raw", name], group_name="raw", description=description, kinds={"json", "polars"})
        for name, description in SNAPSHOT_DESCRIPTIONS.items()
    },
    description="Verify every snapshot (licence, sha256 of each file) and read its files; fail with every problem.",
)
def raw_snapshots(source_tree: SourcesResource) -> Iterator[dg.Output]:
    frames, problems = load_snapshots(source_tree.path)
    raise_if_any(problems)
    for name, frame in frames.items():
        yield dg.Output(frame, output_name=name, metadata=frame_metadata(frame))
