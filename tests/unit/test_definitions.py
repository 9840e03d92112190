"""The code location: jobs, owners, the sensor that rebuilds when sources change, where the UI listens."""

from __future__ import annotations

import subprocess

import dagster as dg

from pipelines.definitions import defs, sources_changed
from pipelines.lib.release import source_tree_hash
from pipelines.resources import SourcesResource
from tests.conftest import PROJECT_ROOT


def test_jobs_for_the_common_tasks() -> None:
    names = {job.name for job in defs.resolve_all_job_defs()}
    assert {"build_everything", "rebuild_published", "release"} <= names


def test_every_asset_has_an_owner_and_a_description() -> None:
    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        assert node.owners == ["team:ai-footprints"], key
        assert node.description, key


def test_the_sources_sensor_is_off_by_default_and_fires_on_a_change() -> None:
    assert sources_changed.default_status == dg.DefaultSensorStatus.STOPPED
    first = sources_changed(dg.build_sensor_context(cursor="an older tree"))
    assert isinstance(first, dg.SensorResult) and len(first.run_requests) == 1
    current = source_tree_hash(SourcesResource().path)
    assert first.cursor == current
    unchanged = sources_changed(dg.build_sensor_context(cursor=current))
    assert isinstance(unchanged, dg.SkipReason)


def test_the_ui_listens_on_this_machine_only_unless_told_otherwise() -> None:
    def command(*options: str) -> str:
        dry_run = subprocess.run(["make", "-n", "ui", *options], cwd=PROJECT_ROOT, capture_output=True, text=True)
        return next(line for line in dry_run.stdout.splitlines() if "dagster dev" in line)

    assert " -h 127.0.0.1 " in command()
    assert " -h 0.0.0.0 " in command("UI_HOST=0.0.0.0")
