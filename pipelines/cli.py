"""The `ai-footprints` command line: check the sources, build, release, and read the warehouse.

Errors a contributor can act on are printed one per line (file, figure, field,
message) with no traceback, and the command exits non-zero.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import dagster as dg

from pipelines.assets import ALL_ASSETS
from pipelines.assets.release import release
from pipelines.checks import SCHEMA_CHECKS
from pipelines.definitions import resources
from pipelines.lib.normalise import check_source_tree
from pipelines.lib.reading import WarehouseError, describe_figure, query, render, sources_table
from pipelines.lib.release import check_version
from pipelines.resources import DEFAULT_SOURCES, DEFAULT_WAREHOUSE

EXAMPLES = """examples:
  ai-footprints check                      validate sources/ and list every problem
  ai-footprints build                      materialise every asset into warehouse/
  ai-footprints build --warehouse /tmp/wh  build into another warehouse root
  ai-footprints release                    build, then write warehouse/releases/vYYYY.MM.DD/
  ai-footprints release --version v2026.11.22 --previous warehouse/releases/v2026.10.01
  ai-footprints query "select metric, count(*) from figures group by metric"
  ai-footprints query --format csv "select * from training_runs" > runs.csv
  ai-footprints show nqfzw-2025-ai-energy-limit-2/google-dc-water-2023
  ai-footprints sources
"""


def _check(sources: Path) -> int:
    problems = check_source_tree(sources)
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


class _ProgressHandler(logging.Handler):
    """Prints one line per finished step: how many of how many, which, and the time so far."""

    def __init__(self, total: int, started: float) -> None:
        super().__init__()
        self.total, self.started, self.done = total, started, 0

    def emit(self, record: logging.LogRecord) -> None:
        meta = getattr(record, "dagster_meta", None)
        event = meta.get("dagster_event") if isinstance(meta, dict) else None
        if event is None or event.event_type_value not in {"STEP_SUCCESS", "STEP_FAILURE"}:
            return
        self.done += 1
        status = "done" if event.event_type_value == "STEP_SUCCESS" else "FAILED"
        step = event.step_key.replace("__", "/")
        print(f"[{self.done:>2}/{self.total}] {time.monotonic() - self.started:5.1f} s  {step} {status}", flush=True)


def _progress_logger(total: int, started: float) -> dg.LoggerDefinition:
    @dg.logger(description="one line per finished step")
    def progress(_: dg.InitLoggerContext) -> logging.Logger:
        log = logging.getLogger("ai_footprints.progress")
        log.setLevel(logging.DEBUG)
        log.handlers = [_ProgressHandler(total, started)]
        log.propagate = False
        return log

    return progress


def _build(sources: Path, warehouse: Path, release_config: dict[str, str] | None = None) -> int:
    """Materialise every asset (and the release, when its config is given)."""
    if _check(sources):
        print(f"nothing was built; {warehouse} is unchanged", file=sys.stderr)
        return 1
    started = time.monotonic()
    assets = [*ALL_ASSETS, *([release] if release_config is not None else [])]
    run_config: dict = {"loggers": {"progress": {}}}
    if release_config is not None:
        run_config["ops"] = {"published__release": {"config": release_config}}
    definitions = dg.Definitions(
        assets=assets,
        asset_checks=SCHEMA_CHECKS,
        resources=resources(str(sources), str(warehouse)),
        # Only the progress logger: Dagster's console log would print stack traces; the
        # summary below says what failed.
        loggers={"progress": _progress_logger(len(assets) + len(SCHEMA_CHECKS), started)},
        executor=dg.in_process_executor,
    )
    job = definitions.resolve_implicit_global_asset_job_def()
    result = job.execute_in_process(run_config=run_config, raise_on_error=False)
    for event in result.get_asset_materialization_events():
        materialization = event.step_materialization_data.materialization
        rows = materialization.metadata.get("dagster/row_count")
        if rows is not None:
            print(f"  {materialization.asset_key.to_user_string():30} {rows.value} rows")
    for evaluation in result.get_asset_check_evaluations():
        if not evaluation.passed:
            cases = evaluation.metadata.get("failure_cases")
            print(
                f"check {evaluation.check_name} failed; failure cases:\n{cases.value if cases else ''}", file=sys.stderr
            )
    if not result.success:
        for event in result.get_step_failure_events():
            error = event.step_failure_data.error
            message = error.cause.message if error and error.cause else (error.message if error else "unknown error")
            print(f"error in {event.step_key}: {message.strip()}", file=sys.stderr)
        print(f"the build failed; {warehouse} is unchanged", file=sys.stderr)
        return 1
    print(f"built {warehouse} in {time.monotonic() - started:.1f} s")
    return 0


def _read(arguments: argparse.Namespace) -> int:
    """query, show and sources: print the answer, or one line of error and exit 1."""
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
    build.add_argument(
        "--warehouse", type=Path, default=DEFAULT_WAREHOUSE, help="warehouse root (default: %(default)s)"
    )
    release_command = commands.add_parser("release", help="build, then write a versioned release bundle")
    release_command.add_argument("--warehouse", type=Path, default=DEFAULT_WAREHOUSE, help="warehouse root")
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
    arguments = parser.parse_args(argv)
    if arguments.command in {"query", "show", "sources"}:
        return _read(arguments)
    if arguments.command == "check":
        return _check(arguments.sources)
    if arguments.command == "release":
        try:
            check_version(arguments.version) if arguments.version else None
        except ValueError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        config = {"version": arguments.version, "previous": arguments.previous, "build_time": arguments.build_time}
        return _build(arguments.sources, arguments.warehouse, config)
    return _build(arguments.sources, arguments.warehouse)


if __name__ == "__main__":
    sys.exit(main())
