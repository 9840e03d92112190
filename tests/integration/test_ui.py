"""The Dagster UI as a person meets it after `make build`: served on 127.0.0.1 over the
instance the command-line build recorded its run in, rendered in headless Chromium, the
assets materialised with their row counts, the checks listed, and a materialisation
launched from the UI that succeeds."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from tests.conftest import CHROMIUM, CHROMIUM_FLAGS, PROJECT_ROOT, SOURCES

pytestmark = pytest.mark.integration


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _graphql(port: int, query: str) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())["data"]


def _chromium(url: str, profile: Path, *options: str) -> subprocess.CompletedProcess[str]:
    command = [
        CHROMIUM,
        "--headless",
        *CHROMIUM_FLAGS,
        f"--user-data-dir={profile}",
        "--virtual-time-budget=30000",
        *options,
        url,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)  # type: ignore[list-item]


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("warehouse")


@pytest.fixture(scope="module")
def webserver(tmp_path_factory: pytest.TempPathFactory, warehouse: Path) -> Iterator[int]:
    if CHROMIUM is None:
        pytest.skip("no Chromium found (Debian package `chromium`, installed by .ci/run)")
    home = tmp_path_factory.mktemp("dagster_home")
    # The project's instance settings (no community dialog, no telemetry), and runs that
    # start at once (no daemon to dequeue them, as `make ui`'s `dagster dev` has).
    (home / "dagster.yaml").write_text(
        (PROJECT_ROOT / ".dagster" / "dagster.yaml").read_text(encoding="utf-8")
        + "run_coordinator:\n  module: dagster._core.run_coordinator\n  class: DefaultRunCoordinator\n",
        encoding="utf-8",
    )
    environment = {**os.environ, "DAGSTER_HOME": str(home), "AI_FOOTPRINTS_WAREHOUSE": str(warehouse)}
    # First the build, as `make build` runs it, then the UI, as `make ui` opens it.
    built = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "--sources", str(SOURCES), "build", "--warehouse", str(warehouse)],
        env=environment, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr[-3000:]
    port = _free_port()
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("dagster-webserver")), "-m", "pipelines.definitions",
         "-h", "127.0.0.1", "-p", str(port)],
        env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=5):
                    break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    pytest.fail("the Dagster webserver did not start")
                time.sleep(1)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_the_asset_list_renders_in_chromium(webserver: int, tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{webserver}/assets"
    # A tall window: the catalogue renders only the rows it shows.
    dom = _chromium(url, tmp_path / "profile", "--window-size=1400,4000", "--dump-dom").stdout
    for name in ("figures", "training_runs", "claim_checks"):
        assert name in dom, name
    assert "Join the Dagster community" not in dom
    screenshot = tmp_path / "assets.png"
    _chromium(url, tmp_path / "profile", f"--screenshot={screenshot}", "--window-size=1400,1000")
    assert screenshot.exists() and screenshot.stat().st_size > 10_000


def test_the_command_line_build_shows_as_materialised_with_its_row_count(
    webserver: int, warehouse: Path, tmp_path: Path
) -> None:
    with duckdb.connect(str(warehouse / "ai_footprints.duckdb"), read_only=True) as connection:
        (figures,) = connection.execute("SELECT count(*) FROM figures").fetchone()  # type: ignore[misc]
    dom = _chromium(f"http://127.0.0.1:{webserver}/assets/normalised/figures", tmp_path / "profile", "--dump-dom")
    assert "Latest materialization" in dom.stdout and "Never materialized" not in dom.stdout
    assert "Row count" in dom.stdout and f">{figures:,}<" in dom.stdout, f"no row count {figures:,} on the page"
    materialisations = _graphql(
        webserver,
        '{ assetNodeOrError(assetKey: {path: ["published", "warehouse"]}) { ... on AssetNode { '
        "assetMaterializations(limit: 1) { runId metadataEntries { label ... on IntMetadataEntry { intValue } } } "
        "} } }",
    )["assetNodeOrError"]["assetMaterializations"]
    assert materialisations, "published/warehouse was never materialised"
    rows = {entry["label"]: entry.get("intValue") for entry in materialisations[0]["metadataEntries"]}
    assert rows["dagster/row_count"] > figures
    run = _graphql(
        webserver, f'{{ runOrError(runId: "{materialisations[0]["runId"]}") {{ ... on Run {{ jobName }} }} }}'
    )
    assert run["runOrError"]["jobName"] == "build_everything"


def test_the_checks_appear_and_a_materialisation_succeeds(webserver: int) -> None:
    nodes = _graphql(
        webserver, "{ assetNodes { assetKey { path } assetChecksOrError { ... on AssetChecks { checks { name } } } } }"
    )["assetNodes"]
    checks = {check["name"] for node in nodes for check in node["assetChecksOrError"].get("checks", [])}
    assert {"figures_matches_schema", "claim_checks_matches_schema"} <= checks
    launched = _graphql(
        webserver,
        'mutation { launchRun(executionParams: {selector: {repositoryLocationName: "pipelines.definitions", '
        'repositoryName: "__repository__", jobName: "build_everything"}}) '
        "{ __typename ... on LaunchRunSuccess { run { runId } } ... on PythonError { message } } }",
    )["launchRun"]
    assert launched["__typename"] == "LaunchRunSuccess", launched
    run_id = launched["run"]["runId"]
    deadline = time.monotonic() + 300
    status = ""
    while time.monotonic() < deadline:
        status = _graphql(webserver, f'{{ runOrError(runId: "{run_id}") {{ ... on Run {{ status }} }} }}')[
            "runOrError"
        ]["status"]
        if status in {"SUCCESS", "FAILURE", "CANCELED"}:
            break
        time.sleep(2)
    assert status == "SUCCESS"
