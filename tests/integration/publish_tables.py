"""Publish a saved set of tables into a warehouse root, as a build's publish step does.

Run by the fault-injection tests in a subprocess that they kill or starve of disk:
    python -m tests.integration.publish_tables <tables folder> <warehouse root>
Prints "ready" once the tables are loaded, just before publishing starts. Exits 2 with
the error message on stderr when publishing fails.
"""

from __future__ import annotations

import sys
from pathlib import Path

import polars as pl

from pipelines.lib import sql
from pipelines.lib.publish import PublishError, publish
from schemas.tables import PUBLISHED_TABLES


def main(tables_dir: Path, root: Path) -> int:
    tables = {path.stem: pl.read_parquet(path) for path in sorted(tables_dir.glob("*.parquet"))}
    print("ready", flush=True)
    try:
        publish(tables, PUBLISHED_TABLES, root, sql.statements())
    except PublishError as exc:
        print(exc, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])))
