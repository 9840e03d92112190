"""The Dagster UI as a person meets it: served on 127.0.0.1, rendered in headless Chromium,
the assets and checks listed, and a materialisation launched that succeeds."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# As the machine's notes advise: no background networking on a closed network.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


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


@pytest.fixture(scope="module")
def webserver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    if CHROMIUM is None:
        pytest.skip("no Chromium found (Debian package `chromium`, installed by .ci/run)")
    home = tmp_path_factory.mktemp("dagster_home")
    # Runs start at once (no daemon to dequeue them, as `make ui`'s `dagster dev` has).
    (home / "dagster.yaml").write_text(
        "run_coordinator:\n  module: dagster._core.run_coordinator\n  class: DefaultRunCoordinator\n", encoding="utf-8"
    )
    port = _free_port()
    environment = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "AI_FOOTPRINTS_WAREHOUSE": str(tmp_path_factory.mktemp("warehouse")),
    }
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
    common = [CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=30000"]
    dom = subprocess.run([*common, "--dump-dom", url], capture_output=True, text=True, timeout=180, check=False).stdout
    for name in ("figures", "training_runs", "claim_checks"):
        assert name in dom, name
    screenshot = tmp_path / "assets.png"
    subprocess.run(
        [*common, f"--screenshot={screenshot}", "--window-size=1400,1000", url],
        capture_output=True,
        timeout=180,
        check=False,
    )
    assert screenshot.exists() and screenshot.stat().st_size > 10_000


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
