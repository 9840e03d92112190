"""Materialise every asset into a temporary warehouse and check what users will query."""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
import pytest
import yaml
from polars.testing import assert_frame_equal

from pipelines.assets import ALL_ASSETS
from pipelines.checks import SCHEMA_CHECKS
from pipelines.cli import main
from pipelines.definitions import defs, resources
from pipelines.lib.reading import connect
from schemas.tables import PUBLISHED_TABLES
from tests.conftest import PROJECT_ROOT, SOURCES, figure, write_document

pytestmark = pytest.mark.integration

# Contract section 2: the required columns of each published table.
CONTRACT_COLUMNS = {
    "sources": ["source_id", "title", "publisher", "published", "kind", "language", "url"],
    "entities": ["entity", "entity_type", "parent"],
    "metrics": ["metric", "description", "unit"],
    "figures": [
        "figure_id", "source_id", "subject", "subject_type", "metric", "value", "low", "high", "unit",
        "value_as_written", "unit_as_written", "period_start", "period_end", "basis", "qualifier",
        "hardware", "scope", "locator", "quote",
    ],
    "training_runs": [
        "model", "source_id", "hardware", "accelerator_count", "accelerator_hours", "power_per_accelerator_w",
        "pue", "carbon_intensity_kg_per_kwh", "energy_mwh", "energy_mwh_low", "energy_mwh_high",
        "energy_mwh_reported", "co2e_t", "water_onsite_m3", "water_offsite_m3", "defaulted_inputs",
    ],
    "claim_checks": [
        "check_id", "kind", "figure_ids", "claimed_value", "expected_value", "unit", "relative_error",
        "tolerance", "status", "explanation",
    ],
}  # fmt: skip
README_SQL = re.findall(r"```sql\n(.*?)```", (PROJECT_ROOT / "README.md").read_text(encoding="utf-8"), re.DOTALL)
DICTIONARY_SQL = re.findall(
    r"```sql\n(.*?)```", (PROJECT_ROOT / "docs" / "data-dictionary.md").read_text(encoding="utf-8"), re.DOTALL
)
KEPU = "kepu-2024-training-24-million-kwh"
NQFZW = "nqfzw-2025-ai-energy-limit-2"
US_GALLON_M3 = 3.785411784e-3


def build(sources: Path, warehouse: Path) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [*ALL_ASSETS, *SCHEMA_CHECKS], resources=resources(str(sources), str(warehouse)), raise_on_error=False
    )


def file_hashes(root: Path) -> dict[str, str]:
    return {
        path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("warehouse")
    result = build(SOURCES, root)
    assert result.success
    return root


@pytest.fixture(scope="module")
def db(warehouse: Path) -> duckdb.DuckDBPyConnection:
    connection = connect(warehouse)
    yield connection
    connection.close()


def query(db: duckdb.DuckDBPyConnection, sql: str, parameters: list | None = None) -> pl.DataFrame:
    return pl.from_arrow(db.cursor().sql(sql, params=parameters or None).to_arrow_table())


def figure_row(db: duckdb.DuckDBPyConnection, figure_id: str) -> dict:
    frame = query(db, "SELECT * FROM figures WHERE figure_id = ?", [figure_id])
    assert frame.height == 1, figure_id
    return frame.row(0, named=True)


def test_the_code_location_loads_with_every_asset_and_check() -> None:
    graph = defs.resolve_asset_graph()
    keys = {key.to_user_string() for key in graph.get_all_asset_keys()}
    assert {"raw/figures", "normalised/figures", "derived/training_runs", "published/warehouse"} <= keys
    assert len(list(graph.asset_check_keys)) == len(PUBLISHED_TABLES)


@pytest.mark.parametrize(("table", "columns"), CONTRACT_COLUMNS.items())
def test_every_contract_table_has_its_columns_and_rows(
    db: duckdb.DuckDBPyConnection, table: str, columns: list[str]
) -> None:
    present = [row[0] for row in db.cursor().execute(f'DESCRIBE "{table}"').fetchall()]
    assert set(columns) <= set(present), set(columns) - set(present)
    (count,) = db.cursor().execute(f'SELECT count(*) FROM "{table}"').fetchone()
    assert count > 0


def test_parquet_holds_the_same_rows_as_duckdb(warehouse: Path, db: duckdb.DuckDBPyConnection) -> None:
    for table in CONTRACT_COLUMNS:
        assert_frame_equal(
            pl.read_parquet(warehouse / "parquet" / f"{table}.parquet"), query(db, f'SELECT * FROM "{table}"')
        )


def test_the_benchmarks_bare_build_publishes_the_same_tables(warehouse: Path, tmp_path: Path) -> None:
    # `make bench` measures Dagster's cost against this script: it must build the same warehouse.
    from bench.bare_build import main as bare_build

    bare_build(SOURCES, tmp_path)
    for table in PUBLISHED_TABLES:
        assert_frame_equal(
            pl.read_parquet(tmp_path / "parquet" / f"{table}.parquet"),
            pl.read_parquet(warehouse / "parquet" / f"{table}.parquet"),
        )


def test_every_seed_figure_is_published_with_its_quote(db: duckdb.DuckDBPyConnection) -> None:
    for document_id in (KEPU, NQFZW):
        document = yaml.safe_load((SOURCES / "documents" / f"{document_id}.yaml").read_text(encoding="utf-8"))
        published = (
            db.cursor().execute("SELECT figure_id, quote FROM figures WHERE source_id = ?", [document_id]).fetchall()
        )
        assert dict(published) == {f"{document_id}/{f['id']}": f["quote"] for f in document["figures"]}


def test_seed_values_are_in_canonical_units(db: duckdb.DuckDBPyConnection) -> None:
    energy = figure_row(db, f"{KEPU}/gpt4-gpu-training-energy")
    assert (energy["subject"], energy["value"], energy["unit"]) == ("GPT-4", 24_000, "MWh")
    assert (energy["value_as_written"], energy["unit_as_written"]) == ("2400", "万度")
    water = figure_row(db, f"{NQFZW}/google-dc-water-2023")
    assert water["value"] == pytest.approx(61e8 * US_GALLON_M3)
    assert (water["subject"], water["unit"], str(water["period_start"]), str(water["period_end"])) == (
        "Google",
        "m³",
        "2023-01-01",
        "2023-12-31",
    )
    withdrawal = figure_row(db, f"{NQFZW}/ai-water-withdrawal-2027")
    assert (withdrawal["value"], withdrawal["low"], withdrawal["high"]) == (None, 4.2e9, 6.6e9)
    assert withdrawal["basis"] == "projected"
    transistors = figure_row(db, f"{NQFZW}/b200-transistor-count")
    assert (transistors["value"], transistors["qualifier"], transistors["subject"]) == (2.08e11, ">", "NVIDIA B200")


def test_the_gpt4_training_run_is_computed_beside_the_reported_energy(db: duckdb.DuckDBPyConnection) -> None:
    run = query(db, "SELECT * FROM training_runs WHERE model = 'GPT-4' AND source_id = ?", [KEPU]).row(0, named=True)
    factors = dict(db.cursor().execute("SELECT factor, value FROM factors").fetchall())
    hours = 25_000 * 3 * 365.25 * 24 / 12  # 25,000 GPUs for three months (pint's month is a twelfth of a year)
    assert run["hardware"] == "NVIDIA A100"
    assert run["accelerator_hours"] == pytest.approx(hours)
    assert run["power_per_accelerator_w"] == 400 and run["power_from_tdp"] is True
    assert run["accelerator_energy_mwh"] == pytest.approx(hours * 400 / 1e6)
    assert run["accelerator_energy_mwh_reported"] == 24_000  # the article's "GPUs only" 2400万度
    # The article gives no PUE or grid intensity: the cited defaults stand in, flagged.
    assert run["defaulted_inputs"] == ["pue", "grid_carbon_intensity", "wue", "ewif"]
    assert run["energy_mwh"] == pytest.approx(hours * 400 / 1e6 * factors["pue"])
    assert run["co2e_t"] == pytest.approx(run["energy_mwh"] * factors["grid_carbon_intensity"])


def test_claim_checks_find_the_seed_slips(db: duckdb.DuckDBPyConnection) -> None:
    status = dict(db.cursor().execute("SELECT check_id, status FROM claim_checks").fetchall())
    # 19.5亿 FLOP/s is 19.5 GFLOP/s; the A100's FP32 peak is 19.5 TFLOP/s in every other source.
    assert status[f"specification:{KEPU}/a100-fp32-throughput"] == "inconsistent"
    assert status[f"specification:{KEPU}/a100-power"] == "consistent"
    assert status[f"restatement:{NQFZW}/google-dc-water-2023-m3"] == "inconsistent"
    assert status[f"physics:{KEPU}/gpt4-heated-water"] == "inconsistent"
    assert status[f"restatement:{KEPU}/gpt4-heated-water-pools"] == "inconsistent"
    assert status[f"restatement:{KEPU}/cpu-power-density-per-m3"] == "consistent"


def test_the_duckdb_command_line_client_can_query_every_table(warehouse: Path) -> None:
    client = Path(sys.executable).with_name("duckdb")
    if not client.exists():
        pytest.skip("the duckdb-cli package (a dev dependency) is not installed in this environment")
    for table in CONTRACT_COLUMNS:
        result = subprocess.run(
            [
                str(client),
                "-readonly",
                "-csv",
                str(warehouse / "ai_footprints.duckdb"),
                "-c",
                f'SELECT count(*) FROM "{table}"',
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        with connect(warehouse) as connection:
            (expected,) = connection.execute(f'SELECT count(*) FROM "{table}"').fetchone()
        assert int(result.stdout.split()[-1]) == expected, table


def test_the_macros_give_what_the_asset_computes(db: duckdb.DuckDBPyConnection) -> None:
    rows = query(
        db,
        """SELECT energy_mwh, training_energy_mwh(accelerator_hours, power_per_accelerator_w, pue) AS energy_macro,
                  co2e_t, training_co2e_t(energy_mwh, carbon_intensity_kg_per_kwh) AS co2e_macro,
                  water_onsite_m3, training_water_onsite_m3(energy_mwh, pue, wue_l_per_kwh) AS onsite_macro,
                  water_offsite_m3, training_water_offsite_m3(energy_mwh, ewif_l_per_kwh) AS offsite_macro,
                  water_onsite_m3 + water_offsite_m3 AS water,
                  training_water_m3(energy_mwh, pue, wue_l_per_kwh, ewif_l_per_kwh) AS water_macro
           FROM training_runs WHERE energy_mwh IS NOT NULL AND power_boundary IS DISTINCT FROM 'facility'""",
    )
    assert rows.height >= 10
    pairs = {"energy_mwh": "energy_macro", "co2e_t": "co2e_macro", "water_onsite_m3": "onsite_macro"}
    pairs |= {"water_offsite_m3": "offsite_macro", "water": "water_macro"}
    for computed, macro in pairs.items():
        assert rows[macro].to_list() == pytest.approx(rows[computed].to_list(), rel=1e-12), computed
    # A power that includes the data centre's overhead (the Llama cards') is the macro at PUE 1.
    with_overhead = query(
        db,
        """SELECT energy_mwh, training_energy_mwh(accelerator_hours, power_per_accelerator_w, 1) AS energy_macro
           FROM training_runs WHERE energy_mwh IS NOT NULL AND power_boundary = 'facility'""",
    )
    assert with_overhead.height >= 5
    assert with_overhead["energy_macro"].to_list() == pytest.approx(with_overhead["energy_mwh"].to_list())


def test_every_input_of_every_run_is_traceable(db: duckdb.DuckDBPyConnection) -> None:
    unknown = query(
        db,
        "SELECT i.figure_id FROM training_run_inputs i LEFT JOIN figures f USING (figure_id) WHERE f.figure_id IS NULL",
    )
    assert unknown.is_empty()
    origins = dict(db.cursor().execute("SELECT origin, count(*) FROM training_run_inputs GROUP BY origin").fetchall())
    assert set(origins) == {"document", "hardware_tdp", "default"}


def test_equivalences_express_a_volume_in_olympic_pools(db: duckdb.DuckDBPyConnection) -> None:
    (pools,) = (
        db.cursor()
        .execute(
            "SELECT f.value / e.value FROM figures f, equivalences e "
            "WHERE f.figure_id = ? AND e.equivalence = 'olympic_pool'",
            [f"{NQFZW}/google-dc-water-2023"],
        )
        .fetchone()
    )
    assert pools == pytest.approx(61e8 * US_GALLON_M3 / 2500)


def test_per_request_divides_a_conversation_by_its_questions(db: duckdb.DuckDBPyConnection) -> None:
    row = query(db, "SELECT * FROM per_request WHERE source_id = ? AND derived", [NQFZW]).row(0, named=True)
    # 500 mL for 10–50 questions: 10–50 mL per question.
    assert (row["quantity"], row["value"], row["low"], row["high"], row["unit"]) == ("water", None, 10, 50, "mL")


def test_columns_carry_descriptions_and_units(db: duckdb.DuckDBPyConnection) -> None:
    comments = dict(
        db.cursor()
        .execute("SELECT column_name, comment FROM duckdb_columns() WHERE table_name = 'training_runs'")
        .fetchall()
    )
    assert comments["energy_mwh"].endswith("[MWh]")
    assert "pue" in comments["energy_mwh"]


def test_rebuilding_gives_the_same_rows_in_the_same_order(warehouse: Path, tmp_path: Path) -> None:
    assert build(SOURCES, tmp_path).success
    for table in CONTRACT_COLUMNS:
        first = pl.read_parquet(warehouse / "parquet" / f"{table}.parquet")
        assert_frame_equal(first, pl.read_parquet(tmp_path / "parquet" / f"{table}.parquet"))


def test_a_failed_build_leaves_the_previous_warehouse_unchanged(source_tree: Path, tmp_path: Path) -> None:
    root = tmp_path / "warehouse"
    assert build(source_tree, root).success
    before = file_hashes(root)
    write_document(source_tree, [figure(unit="furlong")])
    result = build(source_tree, root)
    assert not result.success
    assert file_hashes(root) == before
    assert not list(root.glob(".staging-*")) and not list((root / "builds").glob(".staging-*"))


def test_a_changed_snapshot_file_fails_the_build_and_leaves_the_warehouse(source_tree: Path, tmp_path: Path) -> None:
    shutil.copy(SOURCES / "licences.yaml", source_tree / "licences.yaml")
    shutil.copytree(SOURCES / "snapshots" / "codecarbon", source_tree / "snapshots" / "codecarbon")
    root = tmp_path / "warehouse"
    assert build(source_tree, root).success
    with duckdb.connect(str(root / "ai_footprints.duckdb"), read_only=True) as connection:
        (zones,) = connection.execute("SELECT count(*) FROM grid_intensity").fetchone()  # type: ignore[misc]
    assert zones == 213  # global_energy_mix.json's countries
    before = file_hashes(root)
    impact = source_tree / "snapshots" / "codecarbon" / "codecarbon" / "data" / "cloud" / "impact.csv"
    impact.write_text(impact.read_text(encoding="utf-8").replace("Johannesburg,646", "Johannesburg,640"))
    assert not build(source_tree, root).success
    assert file_hashes(root) == before


def test_the_cli_reports_problems_without_a_traceback(
    source_tree: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "warehouse"
    assert main(["--sources", str(source_tree), "build", "--warehouse", str(root)]) == 0
    before = file_hashes(root)
    write_document(source_tree, [figure(value="1,000"), figure(id="f2", subject="Nobody")])
    capsys.readouterr()
    assert main(["--sources", str(source_tree), "check"]) == 1
    assert main(["--sources", str(source_tree), "build", "--warehouse", str(root)]) == 1
    errors = capsys.readouterr().err
    assert "sources/documents/test-doc.yaml, figure 'f1', field 'value': '1,000' has a comma" in errors
    assert "sources/documents/test-doc.yaml, figure 'f2', field 'subject': 'Nobody' is not an entity" in errors
    assert "Traceback" not in errors
    assert file_hashes(root) == before


def test_the_cli_answers_queries_read_only(warehouse: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["query", "--warehouse", str(warehouse), "select count(*) as n from figures"]) == 0
    table = capsys.readouterr().out
    (count,) = connect(warehouse).execute("select count(*) from figures").fetchone()
    assert str(count) in table and "│" in table
    assert main(["query", "--warehouse", str(warehouse), "--format", "csv", "select 1 as a, 'x' as b"]) == 0
    assert capsys.readouterr().out == "a,b\n1,x\n"
    assert main(["query", "--warehouse", str(warehouse), "create table t (a int)"]) == 1
    error = capsys.readouterr().err
    assert (
        error.startswith("error: the warehouse is read-only: queries cannot change it") and len(error.splitlines()) == 1
    )
    # Nor can a query write or read files elsewhere, or turn that back on.
    written = tmp_path / "written.csv"
    for statement in (
        f"copy (select * from figures) to '{written}'",
        f"attach '{tmp_path / 'new.duckdb'}'",
        "select * from read_csv('/etc/passwd')",
    ):
        assert main(["query", "--warehouse", str(warehouse), statement]) == 1
        assert "queries can read only the warehouse's tables, not other files" in capsys.readouterr().err
    assert main(["query", "--warehouse", str(warehouse), "set enable_external_access = true"]) == 1
    assert "the configuration has been locked" in capsys.readouterr().err
    assert not written.exists() and not (tmp_path / "new.duckdb").exists()


def test_the_cli_shows_a_figure_with_its_provenance(warehouse: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["show", "--warehouse", str(warehouse), f"{KEPU}/gpt4-gpu-training-energy"]) == 0
    text = capsys.readouterr().out
    assert "as written: 2400 万度" in text and "canonical:  24000 MWh (× 10)" in text
    assert "quote: 仅仅是这些GPU,一次训练就要用掉2400万度电" in text
    assert main(["show", "--warehouse", str(warehouse), "no/such"]) == 1
    # The id is a query parameter, never part of the SQL text.
    assert main(["show", "--warehouse", str(warehouse), "x' OR '1'='1"]) == 1
    assert "no figure 'x' OR '1'='1'" in capsys.readouterr().err
    assert main(["sources", "--warehouse", str(warehouse)]) == 0
    assert KEPU in capsys.readouterr().out


def test_every_chart_renders_as_png_and_svg(warehouse: Path) -> None:
    from pipelines.lib.charts import CHARTS

    for name in CHARTS:
        png, svg = warehouse / "charts" / f"{name}.png", warehouse / "charts" / f"{name}.svg"
        assert png.read_bytes().startswith(b"\x89PNG") and png.stat().st_size > 10_000, name
        text = svg.read_text(encoding="utf-8")
        assert text.lstrip().startswith("<?xml") and "Sources: " in text, name


def test_the_readme_asks_its_questions_of_the_published_tables() -> None:
    reading = [
        block
        for block in README_SQL
        if any(re.search(rf"\b(FROM|JOIN)\s+{name}\b", block) for name in PUBLISHED_TABLES)
    ]
    assert len(README_SQL) >= 6 and len(reading) >= 5, README_SQL


@pytest.mark.parametrize(
    "block",
    README_SQL + DICTIONARY_SQL,
    ids=[f"readme{n}" for n in range(1, len(README_SQL) + 1)]
    + [f"dictionary{n}" for n in range(1, len(DICTIONARY_SQL) + 1)],
)
def test_every_sql_block_of_the_docs_answers_on_a_fresh_build(db: duckdb.DuckDBPyConnection, block: str) -> None:
    cursor = db.cursor()
    for statement in cursor.extract_statements(block):
        rows = cursor.execute(statement).fetchall()
        assert rows, f"no answer to:\n{block}"


def test_the_readme_macro_example_gives_the_values_its_comments_state(db: duckdb.DuckDBPyConnection) -> None:
    (block,) = [block for block in README_SQL if "training_energy_mwh(" in block]
    (row,) = db.cursor().execute(block).fetchall()
    # 1e6 h × 400 W × 1.1 = 440 MWh; 440 MWh × 0.4 t/MWh = 176 t; 440/1.1 × 1.8 + 440 × 3.1 = 720 + 1364 m³.
    assert row == pytest.approx((440, 176, 2084))


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_sql_opens_the_warehouse_read_only(warehouse: Path, db: duckdb.DuckDBPyConnection) -> None:
    result = subprocess.run(
        ["make", "-s", "--no-print-directory", "sql", f"WAREHOUSE={warehouse}"],
        input="SELECT count(*) AS n FROM figures;\nCREATE TABLE scratch (a INTEGER);\n",
        cwd=PROJECT_ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    (figures,) = db.cursor().execute("SELECT count(*) FROM figures").fetchone()  # type: ignore[misc]
    assert re.search(rf"\b{figures}\b", result.stdout), result.stdout + result.stderr
    assert "read-only" in result.stderr, result.stderr
