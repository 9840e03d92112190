"""The benchmark behind `make bench`: what users wait for, beside the floor the libraries set.

Prints one JSON object per measurement, each with name, figures, seconds, peak_rss_mb
and what it is compared with:

1. check: `ai-footprints check` over sources/, against importing the libraries it needs;
2. build: `ai-footprints build` (warm), against bench/bare_build.py (the same work, no Dagster);
3. scale: `ai-footprints build` over synthetic trees of 10^4, 10^5 and 10^6 figures;
4. query: the median latency of typical queries on the published DuckDB file.

    python -m bench.run [--sizes 10000,100000,1000000] [--repeat 5] [--work .bench]

Times are wall-clock medians of --repeat runs (one run for the scale builds); peak RSS is
the child process's maximum resident set size, from wait4.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import synthetic
from bench.synthetic import write_tree
from pipelines.lib.locations import DEFAULT_SOURCES, PROJECT_ROOT
from pipelines.lib.release import source_tree_hash

PYTHON = sys.executable
CLI = [PYTHON, "-m", "pipelines.cli"]
CHECK_FLOOR = [PYTHON, "-c", "import yaml, pydantic, polars, pint"]  # what `check` cannot do without
QUERIES = {
    "a company's water series": (
        "SELECT year, value, unit, yoy_change_pct FROM annual_metrics "
        "WHERE subject = ? AND metric = 'water_use' ORDER BY year",
        ["Google"],
    ),
    "the largest training runs": (
        "SELECT model, source_id, energy_mwh, co2e_t FROM training_runs "
        "WHERE energy_mwh IS NOT NULL ORDER BY energy_mwh DESC LIMIT 10",
        [],
    ),
    # The figure id is filled in with one that has checks.
    "a claim check lookup": ("SELECT * FROM claim_checks WHERE list_contains(figure_ids, ?)", [None]),
}


def run(command: list[str], environment: dict[str, str] | None = None) -> tuple[float, float]:
    """Seconds and peak RSS (MB) of one run of a command, which must succeed. Its error output
    goes to a file: a pipe nobody reads while waiting fills up and stalls a chatty build."""
    with tempfile.TemporaryFile() as errors:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL, stderr=errors, env=environment)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        if status != 0:
            errors.seek(0)
            raise RuntimeError(f"{' '.join(command)} failed:\n{errors.read().decode(errors='replace')[-2000:]}")
    return seconds, usage.ru_maxrss / 1024


def median_run(command: list[str], repeat: int) -> tuple[float, float]:
    runs = [run(command) for _ in range(repeat)]
    return statistics.median(s for s, _ in runs), max(rss for _, rss in runs)


def emit(**measurement: Any) -> dict[str, Any]:
    for key in ("seconds", "peak_rss_mb", "ratio", "median_ms"):
        if isinstance(measurement.get(key), float):
            measurement[key] = round(measurement[key], 3)
    print(json.dumps(measurement, ensure_ascii=False), flush=True)
    return measurement


def count_figures(sources: Path) -> int:
    """Figures in a tree, counted from the text (a figure starts with `- id:` in its list)."""
    return sum(
        text.count("\n- id: ") + text.count("\n  - id: ")
        for text in (path.read_text(encoding="utf-8") for path in (sources / "documents").glob("*.yaml"))
    )


def measure_check(repeat: int) -> None:
    figures = count_figures(DEFAULT_SOURCES)
    floor, floor_rss = median_run(CHECK_FLOOR, repeat)
    seconds, rss = median_run([*CLI, "check"], repeat)
    emit(name="check", figures=figures, seconds=seconds, peak_rss_mb=rss, floor="import yaml, pydantic, polars, pint",
         floor_seconds=floor, floor_rss_mb=round(floor_rss, 1), ratio=seconds / floor, target_ratio=1.5)  # fmt: skip


def measure_build(work: Path, repeat: int) -> Path:
    figures = count_figures(DEFAULT_SOURCES)
    warehouse, bare_warehouse = work / "warehouse", work / "bare-warehouse"
    run([*CLI, "build", "--warehouse", str(warehouse)])  # warm: caches, compiled bytecode
    bare, bare_rss = median_run([PYTHON, "-m", "bench.bare_build", str(DEFAULT_SOURCES), str(bare_warehouse)], repeat)
    seconds, rss = median_run([*CLI, "build", "--warehouse", str(warehouse)], repeat)
    emit(name="build", figures=figures, seconds=seconds, peak_rss_mb=rss, baseline="bench/bare_build.py",
         baseline_seconds=round(bare, 3), baseline_rss_mb=round(bare_rss, 1), ratio=seconds / bare,
         target_ratio=2.0)  # fmt: skip
    return warehouse


def measure_scale(work: Path, sizes: list[int]) -> Path | None:
    # A kept tree is reused only if it was written by this generator from these sources.
    fingerprint = hashlib.sha256(
        Path(synthetic.__file__).read_bytes() + source_tree_hash(DEFAULT_SOURCES).encode()
    ).hexdigest()
    previous: tuple[int, float] | None = None
    warehouse = None
    for size in sizes:
        tree = work / f"synthetic-{size}"
        marker = tree / "sources" / ".complete"
        if not marker.exists() or marker.read_text(encoding="utf-8") != fingerprint:
            write_tree(tree, size)
            marker.write_text(fingerprint, encoding="utf-8")
        figures = count_figures(tree / "sources")
        warehouse = tree / "warehouse"
        seconds, rss = run([*CLI, "--sources", str(tree / "sources"), "build", "--warehouse", str(warehouse)])
        growth = {}
        if previous is not None:
            growth = {"figures_ratio": round(figures / previous[0], 2), "time_ratio": round(seconds / previous[1], 2)}
        emit(name="scale", figures=figures, seconds=seconds, peak_rss_mb=rss, **growth,
             targets={"seconds_at_1e6": 60, "peak_rss_mb_at_1e6": 3072, "time_ratio_per_10x": 11})  # fmt: skip
        previous = (figures, seconds)
    return warehouse


def measure_queries(warehouse: Path, label: str, repeat: int) -> None:
    from pipelines.lib.reading import connect

    with connect(warehouse) as connection:
        figures = connection.execute("SELECT count(*) FROM figures").fetchone()[0]  # type: ignore[index]
        some_figure = connection.execute("SELECT figure_ids[1] FROM claim_checks LIMIT 1").fetchone()
        for name, (sql, parameters) in QUERIES.items():
            filled = some_figure[0] if some_figure else ""
            parameters = [filled if value is None else value for value in parameters]
            times = []
            for _ in range(max(repeat, 20)):
                started = time.perf_counter()
                connection.execute(sql, parameters).fetchall()
                times.append(time.perf_counter() - started)
            emit(name=f"query: {name}", warehouse=label, figures=figures, median_ms=statistics.median(times) * 1000,
                 seconds=statistics.median(times), runs=len(times))  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description="Measure check, build, scale and query times.")
    parser.add_argument("--sizes", default="10000,100000,1000000", help="synthetic sizes, comma-separated")
    parser.add_argument("--repeat", type=int, default=5, help="runs per median (default: %(default)s)")
    parser.add_argument("--work", type=Path, default=PROJECT_ROOT / ".bench", help="scratch folder (kept)")
    arguments = parser.parse_args()
    arguments.work.mkdir(exist_ok=True)
    measure_check(arguments.repeat)
    warehouse = measure_build(arguments.work, min(arguments.repeat, 3))
    measure_queries(warehouse, "sources/", arguments.repeat)
    sizes = [int(size) for size in arguments.sizes.split(",") if size]
    largest = measure_scale(arguments.work, sizes)
    if largest is not None:
        measure_queries(largest, f"synthetic {sizes[-1]}", arguments.repeat)
    shutil.rmtree(arguments.work / "bare-warehouse", ignore_errors=True)


if __name__ == "__main__":
    main()
