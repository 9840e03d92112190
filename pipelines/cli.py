"""The `ai-footprints` command line: check the sources, build, release, and read the warehouse.

Errors a contributor can act on are printed one per line (file, figure, field,
message) with no traceback, and the command exits non-zero.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from pipelines.lib.locations import DEFAULT_SOURCES, DEFAULT_WAREHOUSE
from pipelines.lib.normalise import review_source_tree

EXAMPLES = """examples:
  ai-footprints check                      validate sources/ and list every problem
  ai-footprints build                      materialise every asset into warehouse/
  ai-footprints build --warehouse /tmp/wh  build into another warehouse root
  ai-footprints build --warehouse file:///srv/wh --executor multiprocess --duckdb /srv/copy.duckdb
  ai-footprints release                    build, then write warehouse/releases/vYYYY.MM.DD/
  ai-footprints release --version v2026.11.22 --previous warehouse/releases/v2026.10.01
  ai-footprints query "select metric, count(*) from figures group by metric"
  ai-footprints query --format csv "select * from training_runs" > runs.csv
  ai-footprints show nqfzw-2025-ai-energy-limit-2/google-dc-water-2023
  ai-footprints sources
  ai-footprints site                       write the website of the built warehouse to warehouse/site/
  ai-footprints snapshot codecarbon        fetch codecarbon's pinned wheel again and rewrite its checksums
  ai-footprints snapshot ml-energy-leaderboard --from ~/src/leaderboard   files of the pinned commit of a clone
"""


def _check(sources: Path) -> int:
    problems, implausible = review_source_tree(sources)
    if implausible:
        print(f"{len(implausible)} figure{'s' * (len(implausible) != 1)} marked implausible (kept; check them):")
        for warning in implausible:
            print(f"  {warning}")
    if problems:
        files = len({problem.file for problem in problems})
        print(
            f"{len(problems)} problem{'s' * (len(problems) != 1)} in {files} file{'s' * (files != 1)}:", file=sys.stderr
        )
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    print(f"{sources}: no problems")
    return 0


def _snapshot(sources: Path, name: str, source: Path | None) -> int:
    import subprocess

    from pipelines.lib.snapshots import refresh_snapshot

    try:
        written = refresh_snapshot(sources, name, source)
    except (ValueError, OSError, subprocess.CalledProcessError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"{name}: {len(written)} file{'s' * (len(written) != 1)} written, snapshot.yaml updated; run `make check`")
    return 0


def _build(arguments: argparse.Namespace, release_config: dict[str, str] | None = None) -> int:
    """Check the sources, then materialise every asset (and the release, when configured)."""
    if _check(arguments.sources):
        print(f"nothing was built; {arguments.warehouse} is unchanged", file=sys.stderr)
        return 1
    from pipelines.running import run_build  # Dagster loads only for the commands that build

    return run_build(
        arguments.sources, arguments.warehouse, release_config, arguments.executor, arguments.duckdb or None
    )


def _site(warehouse: Path) -> int:
    from pipelines.lib.publish import PublishError
    from pipelines.lib.site import build_site

    try:
        summary = build_site(warehouse)
    except PublishError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(
        f"wrote {summary.pages} pages ({summary.files} files, {summary.bytes / 1e6:.1f} MB) to {summary.path} "
        f"in {summary.seconds:.1f} s; open {summary.path / 'index.html'}"
    )
    return 0


def _read(arguments: argparse.Namespace) -> int:
    """query, show and sources: print the answer, or one line of error and exit 1."""
    from pipelines.lib.reading import WarehouseError, describe_figure, query, render, sources_table

    try:
        if arguments.command == "query":
            print(render(query(arguments.warehouse, arguments.sql), arguments.format).rstrip("\n"))
        elif arguments.command == "show":
            print(describe_figure(arguments.warehouse, arguments.figure_id))
        else:
            print(render(sources_table(arguments.warehouse), "table"))
    except WarehouseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="ai-footprints",
        description="Build and check the AI Footprints dataset.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--sources", type=Path, default=DEFAULT_SOURCES, help="source tree (default: %(default)s)")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("check", help="validate every source file without building")
    build = commands.add_parser("build", help="materialise every asset and publish the warehouse")
    release_command = commands.add_parser("release", help="build, then write a versioned release bundle")
    for command in (build, release_command):
        command.add_argument(
            "--warehouse",
            default=str(DEFAULT_WAREHOUSE),
            help="warehouse root: a path, a file:// URI or an object-store URI such as s3://bucket/ai-footprints "
            "(default: %(default)s)",
        )
        command.add_argument(
            "--duckdb", default="", help="also copy the tables to this DuckDB database: a path or md:<database>"
        )
        command.add_argument(
            "--executor",
            choices=["in_process", "multiprocess"],
            default="in_process",
            help="run steps in this process (default) or each in its own process",
        )
    release_command.add_argument("--version", default="", help="vYYYY.MM.DD[-N] (default: today's, next free)")
    release_command.add_argument("--previous", default="", help="release folder to compare with (default: latest)")
    release_command.add_argument("--build-time", default="", help="ISO time to record (default: the commit's time)")
    query_command = commands.add_parser("query", help="run a read-only SQL query on the warehouse")
    query_command.add_argument("sql", help='the query, e.g. "select count(*) from figures"')
    query_command.add_argument("--format", choices=["table", "csv", "json"], default="table", help="output format")
    query_command.add_argument("--warehouse", type=Path, default=DEFAULT_WAREHOUSE, help="warehouse root")
    show_command = commands.add_parser("show", help="one figure with its source, quote and conversion")
    show_command.add_argument("figure_id", help="<source_id>/<figure id>")
    show_command.add_argument("--warehouse", type=Path, default=DEFAULT_WAREHOUSE, help="warehouse root")
    sources_command = commands.add_parser("sources", help="the documents with their figure counts")
    sources_command.add_argument("--warehouse", type=Path, default=DEFAULT_WAREHOUSE, help="warehouse root")
    site_command = commands.add_parser("site", help="write the website of the built warehouse to <warehouse>/site")
    site_command.add_argument("--warehouse", type=Path, default=DEFAULT_WAREHOUSE, help="warehouse root (a folder)")
    snapshot_command = commands.add_parser(
        "snapshot", help="refresh an upstream snapshot from its pinned origin (the only command that downloads)"
    )
    snapshot_command.add_argument("name", help="the snapshot's folder under sources/snapshots/")
    snapshot_command.add_argument(
        "--from", dest="source", type=Path, default=None, help="a local clone of the snapshot's repository"
    )
    arguments = parser.parse_args(argv)
    if arguments.command == "snapshot":
        return _snapshot(arguments.sources, arguments.name, arguments.source)
    if arguments.command in {"query", "show", "sources"}:
        return _read(arguments)
    if arguments.command == "check":
        return _check(arguments.sources)
    if arguments.command == "site":
        return _site(arguments.warehouse)
    if arguments.command == "release":
        from pipelines.lib.release import check_new_version

        try:
            if arguments.version:  # empty means today's, which is generated
                check_new_version(arguments.warehouse, arguments.version)
        except ValueError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        config = {"version": arguments.version, "previous": arguments.previous, "build_time": arguments.build_time}
        return _build(arguments, config)
    return _build(arguments)


if __name__ == "__main__":
    sys.exit(main())
