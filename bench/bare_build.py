"""The build without orchestration: the same reads, conversions, checks and writes as
`ai-footprints build`, as one plain script over the library's polars and DuckDB functions.

The benchmark compares the build against it, so the difference is what Dagster costs.
    python -m bench.bare_build <sources> <warehouse>
"""

from __future__ import annotations

import sys
from pathlib import Path

from pipelines.lib import sql
from pipelines.lib.charts import CHARTS, save
from pipelines.lib.errors import raise_if_any
from pipelines.lib.locations import PROJECT_ROOT
from pipelines.lib.normalise import normalise_all
from pipelines.lib.publish import publish
from pipelines.lib.release import INFO_TABLE, info_frame, release_info
from pipelines.lib.sources import load_sources, raw_frames
from pipelines.lib.tables import derived_tables
from pipelines.lib.upstream import snapshot_tables
from schemas.tables import PUBLISHED_TABLES, RELEASE_INFO


def main(sources: Path, warehouse: Path) -> None:
    loaded = load_sources(sources)
    raise_if_any(loaded.problems)
    normalised, problems = normalise_all(raw_frames(loaded))
    raise_if_any(problems)
    upstream, problems = snapshot_tables(sources, normalised["entities"])
    raise_if_any(problems)
    tables = derived_tables(normalised, upstream)
    for name, frame in tables.items():
        PUBLISHED_TABLES[name].validate(frame, lazy=True)
    info = release_info(PROJECT_ROOT, sources, "unreleased")
    tables[INFO_TABLE] = info_frame(info, {name: frame.height for name, frame in tables.items()})
    publish(tables, {**PUBLISHED_TABLES, INFO_TABLE: RELEASE_INFO}, warehouse, sql.statements(tables["grid_measures"]))
    for name, (table, draw) in CHARTS.items():
        save(draw(tables[table]), warehouse / "charts", name)


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
