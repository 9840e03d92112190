"""Each kind of claim check against values worked by hand, on small trees."""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest

from pipelines.lib.annual import annual_metrics
from pipelines.lib.claims import (
    _evaluate,
    _interval,
    _pairs,
    _point,
    claim_checks,
    figure_check_status,
)
from pipelines.lib.derive import training_runs
from pipelines.lib.normalise import normalise_all
from pipelines.lib.sources import load_sources, raw_frames
from pipelines.lib.upstream import snapshot_tables
from tests.conftest import SOURCES, figure, write_document


def all_checks(tree: Path) -> tuple[dict[str, pl.DataFrame], pl.DataFrame]:
    tables, problems = normalise_all(raw_frames(load_sources(tree)))
    assert problems == []
    figures, metrics = tables["figures"], tables["metrics"]
    runs = training_runs(figures, metrics, tables["factors"])
    annual = annual_metrics(figures, metrics, tables["sources"])
    intensity = snapshot_tables(tree, tables["entities"])[0]["grid_intensity"]
    return tables, claim_checks(
        figures, metrics, tables["sources"], tables["entities"], runs, annual, intensity, tables["run_locations"]
    )


def checks(tree: Path, kind: str) -> dict[str, dict]:
    _, frame = all_checks(tree)
    return {row["check_id"].split(":", 1)[1]: row for row in frame.filter(kind=kind).iter_rows(named=True)}


def intervals(rows: list[dict]) -> list[tuple[float, float, float]]:
    lower, upper = _interval()
    frame = pl.DataFrame(
        rows, schema={"value": pl.Float64, "low": pl.Float64, "high": pl.Float64, "qualifier": pl.String}
    )
    frame = frame.with_columns(lower.alias("lo"), upper.alias("hi"))
    return list(
        frame.with_columns(_point(pl.col("lo"), pl.col("hi")).alias("point")).select("lo", "hi", "point").iter_rows()
    )


def error(claimed: tuple[float, float], expected: tuple[float, float]) -> float:
    pair = {"check_id": "x", "kind": "cross_source", "figure_ids": ["a"], "cl": claimed[0], "ch": claimed[1],
            "el": expected[0], "eh": expected[1], "unit": "t", "tolerance": 0.0, "what": "w"}  # fmt: skip
    return _evaluate(_pairs(pl.DataFrame([pair])))["relative_error"].item()


def test_bounds_are_open_intervals() -> None:
    inf = float("inf")
    assert intervals([
        {"value": 5.0, "low": None, "high": None, "qualifier": "="},
        {"value": None, "low": 2.0, "high": 8.0, "qualifier": None},
        {"value": 5.0, "low": None, "high": None, "qualifier": ">"},
        {"value": 5.0, "low": None, "high": None, "qualifier": "<="},
        {"value": 5.0, "low": 4.0, "high": 6.0, "qualifier": "~"},
    ]) == [(5, 5, 5), (2, 8, 5), (5, inf, 5), (-inf, 5, 5), (4, 6, 5)]  # fmt: skip
    # "more than 20 %" agrees with 34 %; "about 20 %" does not.
    assert error((20.0, inf), (34.0, 34.0)) == 0
    # A gap is relative to the smaller of the two values, whichever side it is on.
    assert error((20.0, 20.0), (34.0, 34.0)) == pytest.approx(14 / 20)
    assert error((34.0, 34.0), (20.0, 20.0)) == pytest.approx(14 / 20)
    assert error((0.0, 0.0), (1.0, 1.0)) == inf


def test_specification_finds_a_throughput_off_by_a_magnitude(source_tree: Path) -> None:
    write_document(
        source_tree,
        [
            figure(id="fp32", subject="A100", metric="peak_throughput", value="19.5", unit="TFLOP/s", scope="FP32"),
            figure(id="tdp", subject="A100", metric="tdp", value="400", unit="W"),
        ],
        id="spec",
        kind="spec_sheet",
    )
    write_document(
        source_tree,
        [
            figure(id="fp32", subject="A100", metric="peak_throughput", value="19.5", unit="亿 FLOP/s", scope="FP32"),
            figure(id="tdp", subject="A100", metric="tdp", value="400", unit="瓦"),
        ],
        id="article",
        kind="news_article",
    )
    found = checks(source_tree, "specification")
    slip = found["article/fp32"]
    # 19.5亿 FLOP/s = 0.00195 TFLOP/s against 19.5: off by (19.5 − 0.00195) / 0.00195, about 10⁴ times;
    # tolerance 5 % + rounding of "19.5" (0.05 / 19.5 = 0.26 %).
    assert slip["status"] == "inconsistent"
    assert slip["relative_error"] == pytest.approx((19.5 - 0.00195) / 0.00195)
    assert slip["tolerance"] == pytest.approx(0.05 + 0.05 / 19.5)
    assert found["article/tdp"]["status"] == "consistent"
    assert set(found["article/tdp"]["figure_ids"]) == {"article/tdp", "spec/tdp"}


def test_a_family_figure_agrees_with_any_of_its_variants(source_tree: Path) -> None:
    write_document(
        source_tree,
        [
            figure(id="pcie", subject="A100 PCIe 40GB", metric="tdp", value="250", unit="W"),
            figure(id="sxm", subject="A100 SXM4 80GB", metric="tdp", value="400", unit="W"),
        ],
        id="spec",
        kind="spec_sheet",
    )
    write_document(source_tree, [figure(id="tdp", subject="A100", metric="tdp", value="250", unit="W")], id="news")
    found = checks(source_tree, "specification")
    assert found["news/tdp"]["status"] == "consistent"
    # A variant is only compared with the same variant: the 250 W PCIe card has no other figure.
    assert "spec/pcie" not in found


def run_document(reported_energy: str) -> list[dict]:
    return [
        figure(id="count", metric="accelerator_count", value="1000", unit="块", hardware="A100"),
        figure(id="days", metric="training_duration", value="10", unit="天"),
        figure(id="power", metric="power_per_accelerator", value="300", unit="W"),
        figure(id="pue", metric="pue", value="1.1", unit="dimensionless"),
        figure(id="energy", metric="training_energy", value=reported_energy, unit="MWh"),
    ]


@pytest.mark.parametrize(("reported", "status"), [("80", "consistent"), ("100", "inconsistent")])
def test_bottom_up_compares_computed_and_reported_energy(source_tree: Path, reported: str, status: str) -> None:
    write_document(source_tree, run_document(reported))
    (check,) = checks(source_tree, "bottom_up").values()
    # 1000 × 240 h × 300 W = 72 MWh; × PUE 1.1 = 79.2 MWh.
    assert check["expected_value"] == pytest.approx(79.2)
    assert check["relative_error"] == pytest.approx(abs(float(reported) - 79.2) / 79.2)
    assert check["tolerance"] == 0.10 and check["status"] == status
    assert check["figure_ids"][0] == "test-doc/energy"


def test_bottom_up_is_skipped_when_a_default_factor_stands_in(source_tree: Path) -> None:
    document = [f for f in run_document("80") if f["id"] != "pue"]
    write_document(source_tree, document)
    write_document(
        source_tree, [figure(id="pue", subject="World", metric="pue", value="1.5", unit="dimensionless")], id="d"
    )
    (source_tree / "factors.yaml").write_text("- factor: pue\n  figure: d/pue\n  reason: test\n", encoding="utf-8")
    assert checks(source_tree, "bottom_up") == {}


WATER = {"subject": "Google", "metric": "water_consumption", "unit": "billion gallon", "boundary": "data_centres"}
CHANGE = {"subject": "Google", "metric": "year_on_year_change", "relative_to": "water_consumption", "unit": "%",
          "period": "2023", "boundary": "data_centres"}  # fmt: skip


def write_water_change(tree: Path, stated: str, **document: str) -> None:
    """Google's data-centre water of 2022 (5.2) and 2023 (6.1), and a stated change of 2023, in one document."""
    years = [
        figure(id="w2022", value="5.2", period="2022", **WATER),
        figure(id="w2023", value="6.1", period="2023", **WATER),
    ]
    write_document(tree, [*years, figure(id="change", value=stated, **CHANGE)], **document)


@pytest.mark.parametrize(("stated", "status"), [("17", "consistent"), ("14", "inconsistent")])
def test_a_stated_change_is_checked_against_the_series(source_tree: Path, stated: str, status: str) -> None:
    write_water_change(source_tree, stated)
    (check,) = checks(source_tree, "reported_change").values()
    computed = (6.1 - 5.2) / 5.2  # 17.3 %
    assert check["expected_value"] == pytest.approx(computed)
    # The gap is in points of the base year: |0.17 − 0.173| or |0.14 − 0.173|;
    # tolerance one point plus the rounding of the stated change (0.5 points).
    assert check["relative_error"] == pytest.approx(abs(float(stated) / 100 - computed))
    assert check["tolerance"] == pytest.approx(0.015)
    assert check["status"] == status


def test_cross_source_compares_the_same_quantity_in_two_documents(source_tree: Path) -> None:
    water = {"subject": "Google", "metric": "water_use", "unit": "亿加仑", "period": "2023", "boundary": "data_centres"}
    write_document(source_tree, [figure(id="a", value="61", **water)], id="first")
    write_document(source_tree, [figure(id="b", value="64", **water)], id="second")
    write_document(source_tree, [figure(id="c", value="64", **{**water, "boundary": "organization"})], id="third")
    found = checks(source_tree, "cross_source")
    assert list(found) == ["first/a|second/b"]  # the company total has another boundary
    check = found["first/a|second/b"]
    # 61 against 64 (same unit): (64 − 61) / 61; tolerance 0.5/61 + 0.5/64.
    assert check["relative_error"] == pytest.approx(3 / 61)
    assert check["tolerance"] == pytest.approx(0.5 / 61 + 0.5 / 64)
    assert check["status"] == "inconsistent"


def test_a_lower_bound_agrees_with_a_larger_value_elsewhere(source_tree: Path) -> None:
    change = {"subject": "Microsoft", "metric": "year_on_year_change", "relative_to": "water_use", "unit": "%"}
    write_document(source_tree, [figure(id="a", value="20", qualifier=">", period="2022", **change)], id="first")
    write_document(source_tree, [figure(id="b", value="34", period="2022", **change)], id="second")
    (check,) = checks(source_tree, "cross_source").values()
    assert check["status"] == "consistent" and check["relative_error"] == 0


def test_annual_series_take_the_latest_document_and_compute_the_change(source_tree: Path) -> None:
    water = {"subject": "Google", "metric": "water_consumption", "unit": "billion gallon", "boundary": "data_centres"}
    write_document(source_tree, [figure(id="w2022", value="5.2", period="2022", **water)], id="old", published="2023")
    write_document(
        source_tree,
        [
            figure(id="w2022", value="5.3", period="2022", **water),
            figure(id="w2023", value="6.1", period="2023", **water),
        ],
        id="new",
        published="2024",
    )
    tables, _ = normalise_all(raw_frames(load_sources(source_tree)))
    series = annual_metrics(tables["figures"], tables["metrics"], tables["sources"]).sort("year")
    assert series["figure_id"].to_list() == ["new/w2022", "new/w2023"]
    assert series["documents"].to_list() == [2, 1]
    gallon = 3.785411784e-3
    assert series["min_value"][0] == pytest.approx(5.2e9 * gallon)
    assert series["yoy_change_pct"].to_list() == [None, pytest.approx((6.1 - 5.3) / 5.3 * 100)]
    assert series.filter(pl.col("year") == 2023)["previous_figure_id"].to_list() == ["new/w2022"]


def test_annual_series_leave_out_projections_and_bounds_and_count_shares_in_points(source_tree: Path) -> None:
    share = {"subject": "Amazon", "metric": "renewable_energy_share", "unit": "%"}
    write_document(
        source_tree,
        [
            figure(id="s2022", value="85", period="2022", **share),
            figure(id="s2023", value="90", period="2023", **share),
            figure(id="target", value="100", period="2025", basis="projected", **share),
            figure(id="bound", value="95", period="2024", qualifier=">", **share),
        ],
    )
    tables, _ = normalise_all(raw_frames(load_sources(source_tree)))
    series = annual_metrics(tables["figures"], tables["metrics"], tables["sources"]).sort("year")
    assert series["year"].to_list() == [2022, 2023]
    assert series["yoy_change_pct"].to_list() == [None, None]
    assert series["yoy_change_points"].to_list() == [None, 5]


def test_intensities_divide_water_by_electricity_of_one_boundary_and_year(source_tree: Path) -> None:
    from pipelines.lib.ratios import intensities

    company = {"subject": "Google", "period": "2023", "boundary": "data_centres"}
    write_document(
        source_tree,
        [
            figure(id="water", metric="water_consumption", value="6.1", unit="billion gallon", **company),
            figure(id="power", metric="electricity_consumption", value="24", unit="TWh", **company),
            figure(
                id="other",
                metric="electricity_consumption",
                value="30",
                unit="TWh",
                **{**company, "boundary": "organization"},
            ),
        ],
    )
    tables, _ = normalise_all(raw_frames(load_sources(source_tree)))
    annual = annual_metrics(tables["figures"], tables["metrics"], tables["sources"])
    (row,) = intensities(annual, tables["metrics"]).iter_rows(named=True)
    # 6.1e9 gal × 3.785411784 L/gal ÷ 24e9 kWh = 0.962 L/kWh; the company-wide 30 TWh has another boundary.
    assert row["value"] == pytest.approx(6.1e9 * 3.785411784 / 24e9)
    assert (row["unit"], row["figure_ids"]) == ("L/kWh", ["test-doc/water", "test-doc/power"])


def test_annual_series_keep_boundaries_and_accounting_apart(source_tree: Path) -> None:
    google = {"subject": "Google", "unit": "TWh"}
    scope2 = {"subject": "Google", "metric": "scope2_emissions", "unit": "Mt", "period": "2023"}
    write_document(
        source_tree,
        [
            figure(id="dc", metric="electricity_consumption", value="24", period="2023", boundary="data_centres",
                   **google),
            figure(id="co", metric="electricity_consumption", value="25.9", period="2023", boundary="organization",
                   **google),
            figure(id="mb", value="3.4", accounting="market_based", boundary="organization", **scope2),
            figure(id="lb", value="9.3", accounting="location_based", boundary="organization", **scope2),
        ],
    )  # fmt: skip
    tables, _ = all_checks(source_tree)
    series = annual_metrics(tables["figures"], tables["metrics"], tables["sources"])
    rows = {(r["metric"], r["boundary"], r["accounting"]): r["value"] for r in series.iter_rows(named=True)}
    assert rows == {
        ("electricity_consumption", "data_centres", "not_applicable"): pytest.approx(24e6),
        ("electricity_consumption", "organization", "not_applicable"): pytest.approx(25.9e6),
        ("scope2_emissions", "organization", "market_based"): pytest.approx(3.4e6),
        ("scope2_emissions", "organization", "location_based"): pytest.approx(9.3e6),
    }


def test_a_later_report_restates_an_earlier_year(source_tree: Path) -> None:
    water = {"subject": "Google", "metric": "water_consumption", "unit": "billion gallon", "period": "2022"}
    write_document(source_tree, [figure(id="w", value="5.2", **water)], id="old", published="2023")
    write_document(source_tree, [figure(id="w", value="5.3", **water)], id="new", published="2024")
    tables, found = all_checks(source_tree)
    (row,) = annual_metrics(tables["figures"], tables["metrics"], tables["sources"]).iter_rows(named=True)
    assert (row["figure_id"], row["documents"], row["restated"]) == ("new/w", 2, True)
    (check,) = found.filter(pl.col("figure_ids").list.contains("old/w")).iter_rows(named=True)
    # The earlier value is the claim, the later report's the expectation; not also a cross-source pair.
    assert (check["check_id"], check["kind"]) == ("restatement:old/w|new/w", "restatement")
    assert check["relative_error"] == pytest.approx((5.3 - 5.2) / 5.2)
    assert check["tolerance"] == pytest.approx(0.05 / 5.2 + 0.05 / 5.3)
    assert check["status"] == "inconsistent"


def test_two_earlier_values_restated_by_one_later_report_are_not_also_compared_with_each_other(
    source_tree: Path,
) -> None:
    water = {"subject": "Google", "metric": "water_consumption", "unit": "billion gallon", "period": "2022"}
    write_document(source_tree, [figure(id="w", value="5.0", **water)], id="first", published="2023")
    write_document(source_tree, [figure(id="w", value="5.2", **water)], id="second", published="2024")
    write_document(source_tree, [figure(id="w", value="5.3", **water)], id="latest", published="2025")
    _, found = all_checks(source_tree)
    assert sorted(found.select("check_id", "kind").rows()) == [
        ("restatement:first/w|latest/w", "restatement"),
        ("restatement:second/w|latest/w", "restatement"),
    ]


def test_a_change_from_a_baseline_is_checked_against_the_series(source_tree: Path) -> None:
    total = {"subject": "Google", "metric": "total_emissions", "unit": "Mt", "boundary": "organization",
             "accounting": "market_based"}  # fmt: skip
    write_document(
        source_tree,
        [
            figure(id="t2019", value="9.7", period="2019", **total),
            figure(id="t2023", value="14.3", period="2023", **total),
            figure(id="since", subject="Google", metric="change_from_baseline", relative_to="total_emissions",
                   value="48", unit="%",
                   period="2023", baseline="2019", boundary="organization", accounting="market_based",
                   statistic="point"),
        ],
    )  # fmt: skip
    (check,) = checks(source_tree, "reported_change").values()
    computed = (14.3 - 9.7) / 9.7  # 47.4 %
    assert check["expected_value"] == pytest.approx(computed)
    assert check["relative_error"] == pytest.approx(0.48 - computed)  # 0.6 points
    assert check["tolerance"] == pytest.approx(0.015)  # one point plus half a point of rounding
    assert check["status"] == "consistent"
    assert check["figure_ids"] == ["test-doc/since", "test-doc/t2023", "test-doc/t2019"]


def test_a_stated_change_is_checked_against_the_values_known_when_it_was_stated(source_tree: Path) -> None:
    write_water_change(source_tree, "17", id="old", published="2024")
    # A later report restates 2022 upwards; the 2024 report's change stays right for its own values.
    write_document(source_tree, [figure(id="w2022", value="5.6", period="2022", **WATER)], id="new", published="2025")
    (check,) = checks(source_tree, "reported_change").values()
    assert check["expected_value"] == pytest.approx((6.1 - 5.2) / 5.2)
    assert check["figure_ids"] == ["old/change", "old/w2023", "old/w2022"]
    assert check["status"] == "consistent"


def test_a_change_in_an_article_is_checked_against_the_report_it_had(source_tree: Path) -> None:
    # The article gives only its year; the report, a day of that year: the report counts as known.
    years = [
        figure(id="w2022", value="5.2", period="2022", **WATER),
        figure(id="w2023", value="6.1", period="2023", **WATER),
    ]
    write_document(source_tree, years, id="report", published="2024-07-02")
    write_document(source_tree, [figure(id="change", **CHANGE, value="17")], id="article", published="2024")
    restated = [
        figure(id="w2022", value="5.6", period="2022", **WATER),
        figure(id="w2023", value="6.1", period="2023", **WATER),
    ]
    write_document(source_tree, restated, id="later", published="2025")
    (check,) = checks(source_tree, "reported_change").values()
    assert check["figure_ids"] == ["article/change", "report/w2023", "report/w2022"]
    assert check["status"] == "consistent"


def test_versions_of_one_work_are_restatements_not_independent_sources(source_tree: Path) -> None:
    withdrawal = {"subject": "World", "metric": "water_withdrawal", "unit": "billion m³", "period": "2027",
                  "basis": "projected", "boundary": "water_onsite_and_offsite"}  # fmt: skip
    work = "arxiv:2304.03271"
    write_document(source_tree, [figure(id="w", value="4.2", **withdrawal)], id="v1", published="2023", work=work)
    write_document(source_tree, [figure(id="w", value="4.4", **withdrawal)], id="v2", published="2025", work=work)
    write_document(source_tree, [figure(id="w", value="4.2", **withdrawal)], id="other", published="2024")
    _, found = all_checks(source_tree)
    kinds = dict(found.select("check_id", "kind").iter_rows())
    assert kinds == {
        "restatement:v1/w|v2/w": "restatement",  # the later version restates the earlier
        "cross_source:other/w|v1/w": "cross_source",
        "cross_source:other/w|v2/w": "cross_source",
    }


def test_a_figure_carries_the_status_of_the_checks_it_is_claimed_in(source_tree: Path) -> None:
    write_document(
        source_tree,
        [
            figure(id="gal", subject="Google", metric="water_consumption", value="61", unit="亿加仑", period="2023"),
            figure(id="m3", subject="Google", metric="water_consumption", value="2379", unit="万立方米",
                   period="2023", equals="gal"),
            figure(id="alone", subject="Google", metric="electricity_consumption", value="24", unit="TWh",
                   period="2023"),
        ],
    )  # fmt: skip
    tables, found = all_checks(source_tree)
    rows = {r["figure_id"]: r for r in figure_check_status(tables["figures"], found).iter_rows(named=True)}
    # 61亿 US gallons is 2309万 m³, not 2379万: the restating figure is the claim that fails.
    assert rows["test-doc/m3"]["check_status"] == "inconsistent"
    assert rows["test-doc/gal"]["check_status"] == "consistent"  # the figure restated is not blamed
    assert rows["test-doc/gal"]["check_ids"] == ["restatement:test-doc/m3"]
    assert (rows["test-doc/alone"]["check_status"], rows["test-doc/alone"]["check_ids"]) == ("unchecked", [])


def test_a_countrys_stated_grid_intensity_is_checked_against_the_snapshot_zone(source_tree: Path) -> None:
    shutil.copy(SOURCES / "licences.yaml", source_tree / "licences.yaml")
    shutil.copytree(SOURCES / "snapshots" / "codecarbon", source_tree / "snapshots" / "codecarbon")
    intensity = {"metric": "grid_carbon_intensity", "unit": "g/kWh", "boundary": "whole_region",
                 "accounting": "location_based", "statistic": "mean"}  # fmt: skip
    write_document(
        source_tree,
        [
            figure(id="fr", subject="France", value="32", period="2023", **intensity),  # direct emissions only
            figure(id="us", subject="United States", value="390", period="2022", **intensity),
            figure(id="us-old", subject="United States", value="673", period="1996", **intensity),  # no year near
            # a training run's, located in Texas (a state of the United States) by run_locations.yaml
            figure(
                id="run",
                subject="GPT-4",
                value="0.43",
                period="2022-06",
                **{**intensity, "boundary": "unknown", "unit": "kg/kWh"},
            ),
            figure(id="run-hours", subject="GPT-4", metric="accelerator_hours", value="1000", unit="hour"),
        ],
    )
    (source_tree / "run_locations.yaml").write_text(
        "- {model: GPT-4, document: test-doc, location: Texas, locator: p. 1, quote: in Texas}\n", encoding="utf-8"
    )
    found = checks(source_tree, "cross_source")
    # global_energy_mix.json: FRA 2023 56.039 g/kWh, USA 2023 369.473 g/kWh
    france = found["test-doc/fr|codecarbon:FRA"]
    assert france["relative_error"] == pytest.approx((0.056039 - 0.032) / 0.032)  # 0.75
    assert france["tolerance"] == pytest.approx(0.5 + 0.5 / 32)
    assert france["status"] == "inconsistent"
    assert "FRA 2023" not in france["explanation"] and "for 2023 in snapshot codecarbon" in france["explanation"]
    united_states = found["test-doc/us|codecarbon:USA"]
    assert united_states["relative_error"] == pytest.approx((0.390 - 0.369473) / 0.369473)
    assert united_states["status"] == "consistent"
    assert not any(key.startswith("test-doc/us-old") for key in found)
    run = found["test-doc/run|codecarbon:USA"]
    assert run["relative_error"] == pytest.approx((0.43 - 0.369473) / 0.369473)  # 0.16
    assert run["status"] == "consistent"
    assert "GPT-4 grid intensity 2022" in run["explanation"]
