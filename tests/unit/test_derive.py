"""Training runs by the contract's formulas, and claim checks, on small trees."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from pipelines.lib.annual import annual_metrics
from pipelines.lib.claims import claim_checks, rounding_tolerance
from pipelines.lib.derive import training_runs
from pipelines.lib.normalise import normalise_all
from pipelines.lib.physics import WATER_HEATED_TO_BOILING
from pipelines.lib.sources import load_sources, raw_frames
from pipelines.lib.upstream import snapshot_tables
from tests.conftest import figure, write_document


def tables_of(tree: Path) -> dict[str, pl.DataFrame]:
    tables, problems = normalise_all(raw_frames(load_sources(tree)))
    assert problems == []
    return tables


def runs_of(tree: Path) -> pl.DataFrame:
    """Training runs without default factors."""
    tables = tables_of(tree)
    return training_runs(tables["figures"], tables["metrics"])


def checks_of(tree: Path) -> pl.DataFrame:
    """The claim checks of the test document only."""
    t = tables_of(tree)
    runs = training_runs(t["figures"], t["metrics"])
    annual = annual_metrics(t["figures"], t["metrics"], t["sources"])
    intensity = snapshot_tables(tree, t["entities"])[0]["grid_intensity"]
    checks = claim_checks(
        t["figures"], t["metrics"], t["sources"], t["entities"], runs, annual, intensity, t["run_locations"]
    )
    return checks.filter(pl.col("check_id").str.contains("test-doc"))


def run_figures() -> list[dict]:
    return [
        figure(
            id="count", metric="accelerator_count", value="1000", low="900", high="1100", unit="块", hardware="A100"
        ),
        figure(id="days", metric="training_duration", value="10", unit="天"),
        figure(id="power", metric="power_per_accelerator", value="300", unit="W"),
        figure(id="pue", metric="pue", value="1.1", unit="dimensionless"),
        figure(id="ci", metric="grid_carbon_intensity", value="429", unit="gCO2e/kWh"),
        figure(id="wue", metric="wue", value="0.5", unit="L/kWh"),
        figure(id="ewif", metric="ewif", value="3", unit="L/kWh"),
        figure(id="energy", metric="training_energy", value="80", unit="MWh"),
    ]


def test_training_run_follows_the_contract_formulas(source_tree: Path) -> None:
    write_document(source_tree, run_figures())
    run = runs_of(source_tree).filter(source_id="test-doc").row(0, named=True)
    hours = 1000 * 10 * 24
    energy = hours * 300 / 1e6 * 1.1
    assert run["model"] == "GPT-4"
    assert run["hardware"] == "NVIDIA A100"
    assert run["accelerator_hours"] == pytest.approx(hours)
    assert run["power_from_tdp"] is False
    assert run["energy_mwh"] == pytest.approx(energy)
    assert run["energy_mwh_low"] == pytest.approx(energy * 0.9)
    assert run["energy_mwh_high"] == pytest.approx(energy * 1.1)
    assert run["energy_mwh_reported"] == 80
    assert run["co2e_t"] == pytest.approx(energy * 0.429)
    assert run["water_onsite_m3"] == pytest.approx(energy / 1.1 * 0.5)
    assert run["water_offsite_m3"] == pytest.approx(energy * 3)
    assert run["water_offsite_m3_high"] == pytest.approx(energy * 1.1 * 3)
    assert run["missing_inputs"] == [] and run["defaulted_inputs"] == []
    assert {(i["input"], i["origin"]) for i in run["inputs"]} == {
        ("accelerator_count", "document"),
        ("training_duration", "document"),
        ("power_per_accelerator", "document"),
        ("pue", "document"),
        ("grid_carbon_intensity", "document"),
        ("wue", "document"),
        ("ewif", "document"),
        ("training_energy", "document"),
    }


def test_missing_inputs_leave_outputs_null_and_are_listed(source_tree: Path) -> None:
    write_document(source_tree, run_figures()[:3])
    run = runs_of(source_tree).filter(source_id="test-doc").row(0, named=True)
    assert run["energy_mwh"] is None and run["co2e_t"] is None and run["water_offsite_m3"] is None
    assert run["accelerator_energy_mwh"] == pytest.approx(1000 * 240 * 300 / 1e6)
    assert run["missing_inputs"] == ["pue", "grid_carbon_intensity", "wue", "ewif"]


def test_power_falls_back_to_the_hardware_tdp_from_another_document(source_tree: Path) -> None:
    figures = [f for f in run_figures() if f["id"] != "power"]
    write_document(source_tree, figures)
    for document_id, tdp in (("spec-b", "450"), ("spec-a", "400")):
        write_document(
            source_tree, [figure(id="tdp", subject="A100", metric="tdp", value=tdp, unit="W")], id=document_id
        )
    run = runs_of(source_tree).filter(source_id="test-doc").row(0, named=True)
    # No TDP in the run's own document: the first other document by id gives it.
    assert run["power_from_tdp"] is True
    assert run["power_per_accelerator_w"] == 400
    assert {"input": "tdp", "figure_id": "spec-a/tdp", "origin": "hardware_tdp"} in run["inputs"]


def write_default_factors(source_tree: Path) -> None:
    """Default factors: PUE 1.5 and a grid intensity of 480 g/kWh, figures of defaults-doc."""
    write_document(
        source_tree,
        [
            figure(id="pue", subject="World", metric="pue", value="1.5", unit="dimensionless"),
            figure(id="ci", subject="World", metric="grid_carbon_intensity", value="480", unit="g/kWh"),
        ],
        id="defaults-doc",
    )
    (source_tree / "factors.yaml").write_text(
        "- factor: pue\n  figure: defaults-doc/pue\n  reason: test\n"
        "- factor: grid_carbon_intensity\n  figure: defaults-doc/ci\n  reason: test\n",
        encoding="utf-8",
    )


def test_missing_factors_fall_back_to_the_defaults_and_are_flagged(source_tree: Path) -> None:
    write_document(source_tree, run_figures()[:3])
    write_default_factors(source_tree)
    tables, problems = normalise_all(raw_frames(load_sources(source_tree)))
    assert problems == []
    runs = training_runs(tables["figures"], tables["metrics"], tables["factors"])
    run = runs.filter(source_id="test-doc").row(0, named=True)
    # 1000 GPUs × 10 days × 24 h × 300 W = 72 MWh at the accelerators; × PUE 1.5 = 108 MWh;
    # × 0.48 kg/kWh (480 g/kWh) = 51.84 t.
    assert run["accelerator_energy_mwh"] == pytest.approx(72)
    assert run["energy_mwh"] == pytest.approx(108)
    assert run["co2e_t"] == pytest.approx(51.84)
    assert run["defaulted_inputs"] == ["pue", "grid_carbon_intensity"]
    assert run["missing_inputs"] == ["wue", "ewif"]
    assert {"input": "pue", "figure_id": "defaults-doc/pue", "origin": "default"} in run["inputs"]


def test_a_tdp_in_the_runs_own_document_wins(source_tree: Path) -> None:
    figures = [f for f in run_figures() if f["id"] != "power"]
    figures.append(figure(id="tdp", subject="A100", metric="tdp", value="250", unit="W"))
    write_document(source_tree, figures)
    run = runs_of(source_tree).filter(source_id="test-doc").row(0, named=True)
    assert run["power_per_accelerator_w"] == 250


def test_models_without_enough_inputs_have_no_row(source_tree: Path) -> None:
    write_document(source_tree, [figure(id="count", metric="accelerator_count", value="8", unit="块")])
    assert runs_of(source_tree).filter(source_id="test-doc").is_empty()


@pytest.mark.parametrize(
    ("text", "expected"),
    [("2379", 0.5 / 2379), ("61", 0.5 / 61), ("100", 0.5), ("1.50", 0.005 / 1.5), ("2.4e7", 0.05 / 2.4), ("0", 0.0)],
)
def test_rounding_tolerance_follows_the_written_digits(text: str, expected: float) -> None:
    assert rounding_tolerance(text) == pytest.approx(expected)


def test_restatements_are_checked_within_rounding(source_tree: Path) -> None:
    write_document(
        source_tree,
        [
            figure(id="gal", subject="Google", metric="water_use", value="61", unit="亿加仑"),
            figure(id="right", subject="Google", metric="water_use", value="2309", unit="万立方米", equals="gal"),
            figure(id="wrong", subject="Google", metric="water_use", value="2379", unit="万立方米", equals="gal"),
        ],
    )
    checks = checks_of(source_tree)
    status = dict(checks.select("check_id", "status").iter_rows())
    assert status == {"restatement:test-doc/right": "consistent", "restatement:test-doc/wrong": "inconsistent"}
    wrong = checks.filter(check_id="restatement:test-doc/wrong").row(0, named=True)
    expected = 61e8 * 3.785411784e-3
    assert wrong["expected_value"] == pytest.approx(expected)
    assert wrong["relative_error"] == pytest.approx((23_790_000 - expected) / expected)
    assert wrong["tolerance"] == pytest.approx(0.5 / 2379)


def test_physical_equivalence_is_checked(source_tree: Path) -> None:
    write_document(
        source_tree,
        [
            figure(id="energy", value="2400", unit="万度"),
            figure(id="m3", metric="water_heated_to_boiling", value="20", unit="万立方米", equals="energy"),
            figure(id="cm3", metric="water_heated_to_boiling", value="20", unit="万立方厘米", equals="energy"),
        ],
    )
    checks = checks_of(source_tree)
    status = dict(checks.select("check_id", "status").iter_rows())
    assert status == {"physics:test-doc/m3": "consistent", "physics:test-doc/cm3": "inconsistent"}
    expected = 24_000 * 3.6e9 / (4186 * 100) / 1000  # J per MWh; kg per m³
    assert checks["expected_value"].to_list() == pytest.approx([expected, expected])
    assert checks["tolerance"][0] == pytest.approx(WATER_HEATED_TO_BOILING.tolerance + 0.5 / 2)


def test_a_restatement_of_zero_is_checked_without_dividing_by_zero(source_tree: Path) -> None:
    write_document(
        source_tree,
        [
            figure(id="zero", subject="Google", metric="water_use", value="0", unit="m³"),
            figure(id="claim", subject="Google", metric="water_use", value="5", unit="L", equals="zero"),
        ],
    )
    (check,) = checks_of(source_tree).iter_rows(named=True)
    assert check["status"] == "inconsistent" and check["relative_error"] == float("inf")


def test_ranges_are_consistent_where_they_overlap(source_tree: Path) -> None:
    write_document(
        source_tree,
        [
            figure(
                id="a", subject="World", metric="water_withdrawal", value=None, low="4.2", high="6.6", unit="billion m³"
            ),
            figure(
                id="b",
                subject="World",
                metric="water_withdrawal",
                value=None,
                low="42",
                high="66",
                unit="亿立方米",
                equals="a",
            ),
        ],
    )
    (check,) = checks_of(source_tree).iter_rows(named=True)
    assert check["status"] == "consistent" and check["relative_error"] == 0


def test_a_power_that_includes_the_overhead_is_not_multiplied_by_pue_again(source_tree: Path) -> None:
    """A model card's "peak power per GPU adjusted for PUE" (boundary facility) gives the
    facility's energy itself; the accelerators' energy is then unknown."""
    figures = [f for f in run_figures() if f["id"] != "power"]
    figures.append(figure(id="power", metric="power_per_accelerator", value="700", unit="W", boundary="facility",
                          statistic="peak"))  # fmt: skip
    write_document(source_tree, figures)
    run = runs_of(source_tree).filter(source_id="test-doc").row(0, named=True)
    hours = 1000 * 10 * 24  # 240,000 GPU-hours × 700 W = 168 MWh, with no PUE on top
    assert (run["power_boundary"], run["power_statistic"]) == ("facility", "peak")
    assert run["energy_mwh"] == pytest.approx(hours * 700 / 1e6)
    assert run["accelerator_energy_mwh"] is None
    assert run["co2e_t"] == pytest.approx(hours * 700 / 1e6 * 0.429)
    # On-site water is per unit of IT energy: the facility's energy ÷ the document's PUE 1.1.
    assert run["water_onsite_m3"] == pytest.approx(hours * 700 / 1e6 / 1.1 * 0.5)


def _located_run(source_tree: Path, location: str, year: int | None) -> dict[str, pl.DataFrame]:
    """test-doc's GPT-4 run without a grid intensity, located by run_locations.yaml, with a
    world default factor of 480 g/kWh."""
    write_document(source_tree, run_figures()[:3])
    write_default_factors(source_tree)
    stated = f"  year: {year}\n" if year is not None else ""
    (source_tree / "run_locations.yaml").write_text(
        f"- model: gpt-4\n  document: test-doc\n  location: {location}\n{stated}"
        "  locator: p. 3\n  quote: trained on a cluster in the test country\n",
        encoding="utf-8",
    )
    tables, problems = normalise_all(raw_frames(load_sources(source_tree)))
    assert problems == []
    return tables


# Two snapshots' rows for France and one for the United States, as grid_intensity publishes them.
ZONE_ROWS = pl.DataFrame(
    {
        "zone": ["FRA", "FRA", "FRA", "USA"],
        "year": [2019, 2023, None, 2022],
        "co2e_kg_per_kwh": [0.05, 0.056, 0.06, 0.4],
        "snapshot": ["codecarbon", "codecarbon", "ecologits", "codecarbon"],
        "upstream_key": ["FRA-2019", "FRA-2023", "FRA", "USA"],
    },
    schema_overrides={"year": pl.Int32},
)


def test_a_located_run_takes_its_zones_intensity_of_the_nearest_year(source_tree: Path) -> None:
    tables = _located_run(source_tree, "France", 2022)
    location = tables["run_locations"].row(0, named=True)
    assert (location["model"], location["zone"], location["year"], location["year_stated"]) == (
        "GPT-4", "FRA", 2022, True,
    )  # fmt: skip
    runs = training_runs(tables["figures"], tables["metrics"], tables["factors"], tables["run_locations"], ZONE_ROWS)
    run = runs.filter(source_id="test-doc").row(0, named=True)
    # 72 MWh at the accelerators × PUE 1.5 (default) = 108 MWh; France's 2023 row (one year from
    # 2022, nearer than 2019's three; a dated row before the undated one) is 0.056 kg/kWh:
    # 108 MWh × 0.056 t/MWh = 6.048 t, not the world default's 51.84 t.
    assert run["carbon_intensity_kg_per_kwh"] == pytest.approx(0.056)
    assert run["co2e_t"] == pytest.approx(6.048)
    assert (run["location"], run["zone"], run["carbon_intensity_origin"]) == ("France", "FRA", "zone_default")
    assert (run["carbon_intensity_year"], run["carbon_intensity_snapshot"], run["carbon_intensity_upstream_key"]) == (
        2023, "codecarbon", "FRA-2023",
    )  # fmt: skip
    assert run["defaulted_inputs"] == ["pue", "grid_carbon_intensity"]
    assert {"input": "grid_carbon_intensity", "figure_id": None, "origin": "zone_default"} in run["inputs"]


def test_a_run_located_where_no_snapshot_has_a_row_takes_the_world_default(source_tree: Path) -> None:
    tables = _located_run(source_tree, "Taiwan", None)
    assert tables["run_locations"]["year"].to_list() == [2024]  # the document's year: it states none
    runs = training_runs(tables["figures"], tables["metrics"], tables["factors"], tables["run_locations"], ZONE_ROWS)
    run = runs.filter(source_id="test-doc").row(0, named=True)
    assert run["co2e_t"] == pytest.approx(51.84)
    assert (run["location"], run["zone"], run["carbon_intensity_origin"]) == ("Taiwan", "TWN", "default")
    assert run["carbon_intensity_year"] is None
    assert {"input": "grid_carbon_intensity", "figure_id": "defaults-doc/ci", "origin": "default"} in run["inputs"]


def test_a_runs_own_intensity_wins_over_its_zone(source_tree: Path) -> None:
    write_document(source_tree, run_figures())
    (source_tree / "run_locations.yaml").write_text(
        "- {model: GPT-4, document: test-doc, location: France, locator: p. 3, quote: in France}\n", encoding="utf-8"
    )
    tables = tables_of(source_tree)
    runs = training_runs(tables["figures"], tables["metrics"], None, tables["run_locations"], ZONE_ROWS)
    run = runs.filter(source_id="test-doc").row(0, named=True)
    assert run["carbon_intensity_kg_per_kwh"] == pytest.approx(0.429)
    assert (run["zone"], run["carbon_intensity_origin"], run["carbon_intensity_snapshot"]) == ("FRA", "document", None)
