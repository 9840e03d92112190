"""Running a build with Dagster from the command line: the job, its progress lines, its summary.

Imported only by `ai-footprints build` and `release`, so that `check` and the read-only
commands start without loading Dagster.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg

from pipelines.assets import ALL_ASSETS
from pipelines.assets.release import release
from pipelines.checks import SCHEMA_CHECKS
from pipelines.definitions import resources
from pipelines.lib.locations import DEFAULT_DAGSTER_HOME


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


EXECUTORS = ("in_process", "multiprocess")


def _job_name(with_release: bool) -> str:
    """The job of the code location that a build runs, so that the UI files its runs there."""
    return "release" if with_release else "build_everything"


@contextmanager
def project_instance() -> Iterator[dg.DagsterInstance]:
    """The Dagster instance in DAGSTER_HOME (the project's .dagster/ unless set), the one
    `make ui` opens: every build's runs, materialisations and check results are kept there."""
    home = Path(os.environ.setdefault("DAGSTER_HOME", str(DEFAULT_DAGSTER_HOME)))
    home.mkdir(parents=True, exist_ok=True)
    with dg.DagsterInstance.get() as instance:
        yield instance


def multiprocess_build_job() -> dg.JobDefinition:
    """The build job for the multiprocess executor, which rebuilds it in each step's process;
    where to read and write comes in the run config. The release asset joins when
    AI_FOOTPRINTS_RELEASE=1."""
    with_release = os.environ.get("AI_FOOTPRINTS_RELEASE") == "1"
    name = _job_name(with_release)
    return dg.Definitions(
        assets=[*ALL_ASSETS, *([release] if with_release else [])],
        asset_checks=SCHEMA_CHECKS,
        resources=resources(),
        jobs=[dg.define_asset_job(name, executor_def=dg.multiprocess_executor)],
    ).resolve_job_def(name)


def _summarise(result: dg.ExecuteInProcessResult | dg.ExecuteJobResult, warehouse: str, started: float) -> int:
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


def run_build(
    sources: Path,
    warehouse: str,
    release_config: dict[str, str] | None = None,
    executor: str = "in_process",
    duckdb_target: str | None = None,
) -> int:
    """Materialise every asset (and the release, when its config is given); 0 on success.

    in_process runs every step in this process and prints a line per finished step;
    multiprocess runs each step in its own process (steps without dependencies between
    them run at once) and prints the summary at the end. Either way the run is recorded in
    the project's Dagster instance (`project_instance`).
    """
    started = time.monotonic()
    run_config: dict = {}
    if release_config is not None:
        run_config["ops"] = {"published__release": {"config": release_config}}
    if executor == "multiprocess":
        warehouse_config = {"root": warehouse, "duckdb_target": duckdb_target or ""}
        run_config["resources"] = {
            "source_tree": {"config": {"root": str(sources)}},
            "warehouse_root": {"config": warehouse_config},
        }
        os.environ["AI_FOOTPRINTS_RELEASE"] = "1" if release_config is not None else "0"
        job = dg.reconstructable(multiprocess_build_job)
        with (
            project_instance() as instance,
            dg.execute_job(job, instance=instance, run_config=run_config, raise_on_error=False) as result,
        ):
            return _summarise(result, warehouse, started)
    run_config["loggers"] = {"progress": {}}
    assets = [*ALL_ASSETS, *([release] if release_config is not None else [])]
    definitions = dg.Definitions(
        assets=assets,
        asset_checks=SCHEMA_CHECKS,
        resources=resources(str(sources), warehouse, duckdb_target),
        # Only the progress logger: Dagster's console log would print stack traces; the
        # summary says what failed.
        loggers={"progress": _progress_logger(len(assets) + len(SCHEMA_CHECKS), started)},
        jobs=[dg.define_asset_job(_job_name(release_config is not None))],
        executor=dg.in_process_executor,
    )
    job = definitions.resolve_job_def(_job_name(release_config is not None))
    with project_instance() as instance:
        result = job.execute_in_process(run_config=run_config, instance=instance, raise_on_error=False)
        return _summarise(result, warehouse, started)
