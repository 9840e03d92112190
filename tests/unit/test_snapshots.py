"""Upstream snapshots: the committed files load with their checksums and licences, their values
reach the published tables in canonical units, and every kind of bad snapshot gets a message
naming the snapshot's file, the row and the column."""

from __future__ import annotations

import shutil
import subprocess
from datetime import date
from pathlib import Path

import polars as pl
import pytest
import yaml

from pipelines.lib.snapshots import LICENCES_FILE, SNAPSHOT_FILE, load_snapshots, refresh_snapshot, sha256
from pipelines.lib.upstream import snapshot_tables
from tests.conftest import SOURCES

CODECARBON = "codecarbon"
ENERGY_MIX = "codecarbon/data/private_infra/global_energy_mix.json"
IMPACT = "codecarbon/data/cloud/impact.csv"


@pytest.fixture(scope="module")
def upstream(tables: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    return {name: tables[name] for name in ("snapshots", "grid_intensity", "cloud_regions",
                                            "inference_measurements", "models")}  # fmt: skip


def test_the_committed_snapshots_load_with_their_licences_and_checksums(upstream: dict[str, pl.DataFrame]) -> None:
    snapshots = {row["snapshot"]: row for row in upstream["snapshots"].iter_rows(named=True)}
    assert set(snapshots) == {"codecarbon", "ecologits", "google-cloud-region-carbon", "ml-energy-leaderboard"}
    assert (snapshots["codecarbon"]["origin"], snapshots["codecarbon"]["licence"]) == ("codecarbon==3.3.2", "MIT")
    assert snapshots["ecologits"]["licence"] == "MPL-2.0"
    folder = SOURCES / "snapshots" / "codecarbon"
    files = dict(zip(snapshots["codecarbon"]["files"], snapshots["codecarbon"]["sha256"], strict=True))
    assert files[ENERGY_MIX] == sha256((folder / ENERGY_MIX).read_bytes())


def test_grid_intensity_is_in_kg_per_kwh_with_its_year_and_stand_ins(upstream: dict[str, pl.DataFrame]) -> None:
    rows = {(r["zone"], r["snapshot"]): r for r in upstream["grid_intensity"].iter_rows(named=True)}
    # global_energy_mix.json: "ABW": {"carbon_intensity": 561.224, ..., "year": 2022} (g/kWh)
    aruba = rows[("ABW", "codecarbon")]
    assert (aruba["co2e_kg_per_kwh"], aruba["year"], aruba["zone_name"]) == (pytest.approx(0.561224), 2022, "Aruba")
    assert (aruba["upstream_file"], aruba["upstream_key"]) == (ENERGY_MIX, "ABW")
    # electricity_mixes.json: {"name": "ABW", "gwp": 0.55, "wue": 3.908, ...}, its WUE and primary energy the world's
    ecologits = rows[("ABW", "ecologits")]
    assert ecologits["co2e_kg_per_kwh"] == pytest.approx(0.55)
    assert ecologits["wue_l_per_kwh"] == pytest.approx(3.908)
    assert sorted(ecologits["world_stand_ins"]) == ["primary_energy", "wue"]
    assert upstream["grid_intensity"]["zone"].n_unique() >= 200


def test_cloud_regions_say_which_intensity_they_give(upstream: dict[str, pl.DataFrame]) -> None:
    regions = upstream["cloud_regions"].filter(pl.col("snapshot") == "google-cloud-region-carbon")
    rows = {(r["region"], r["year"]): r for r in regions.iter_rows(named=True)}
    # data/yearly/2024.csv: africa-south1,Johannesburg,0.15,656.85
    johannesburg = rows[("africa-south1", 2024)]
    assert johannesburg["carbon_free_energy_pct"] == pytest.approx(15)
    assert johannesburg["co2e_kg_per_kwh"] == pytest.approx(0.65685)
    assert johannesburg["intensity_basis"] == "operational"
    # data/yearly/2019.csv gives a life-cycle intensity: asia-east1,Taiwan,0.19,541
    assert (rows[("asia-east1", 2019)]["intensity_basis"], rows[("asia-east1", 2019)]["co2e_kg_per_kwh"]) == (
        "life_cycle", pytest.approx(0.541))  # fmt: skip
    assert upstream["cloud_regions"].height >= 50


def test_inference_measurements_convert_joules_and_join_models(upstream: dict[str, pl.DataFrame]) -> None:
    measured = upstream["inference_measurements"]
    assert measured.height >= 1000
    # meta-llama__Llama-3.1-8B-Instruct__lm-arena-chat.json, configuration 0: 151.50076862712154 J on one B200
    row = measured.filter(
        (pl.col("upstream_file") == "public/data/models/meta-llama__Llama-3.1-8B-Instruct__lm-arena-chat.json")
        & (pl.col("upstream_key") == "0")
    ).row(0, named=True)
    assert row["energy_per_output_wh"] == pytest.approx(151.50076862712154 / 3600)
    assert (row["model"], row["gpu_model"], row["num_gpus"], row["batch_size"]) == ("Llama 3.1 8B", "B200", 1, 8)
    assert (row["boundary"], row["output_kind"]) == ("accelerators", "response")
    images = measured.filter(pl.col("task") == "text-to-image")
    assert set(images["output_kind"]) == {"image"} and images["energy_per_output_wh"].null_count() == 0


@pytest.fixture
def snapshot_tree(tmp_path: Path) -> Path:
    """A tree with the licences and one real snapshot (CodeCarbon's)."""
    tree = tmp_path / "sources"
    (tree / "snapshots").mkdir(parents=True)
    shutil.copy(SOURCES / LICENCES_FILE, tree / LICENCES_FILE)
    shutil.copytree(SOURCES / "snapshots" / CODECARBON, tree / "snapshots" / CODECARBON)
    return tree


def rewrite(tree: Path, path: str, old: str, new: str, *, rehash: bool = True) -> None:
    """Change a snapshot file's text and (unless told not to) record its new sha256."""
    folder = tree / "snapshots" / CODECARBON
    target = folder / path
    text = target.read_text(encoding="utf-8")
    assert old in text
    target.write_text(text.replace(old, new, 1), encoding="utf-8")
    if rehash:
        metadata = yaml.safe_load((folder / SNAPSHOT_FILE).read_text(encoding="utf-8"))
        for item in metadata["files"]:
            if item["path"] == path:
                item["sha256"] = sha256(target.read_bytes())
        (folder / SNAPSHOT_FILE).write_text(yaml.safe_dump(metadata, sort_keys=False), encoding="utf-8")


NO_ENTITIES = pl.DataFrame(schema={"entity": pl.String, "entity_type": pl.String, "aliases": pl.List(pl.String)})


def problems_of(tree: Path) -> list[str]:
    _, problems = snapshot_tables(tree, NO_ENTITIES)
    return [str(problem) for problem in problems]


def test_an_intact_snapshot_has_no_problems(snapshot_tree: Path) -> None:
    assert problems_of(snapshot_tree) == []


def test_a_file_changed_since_its_snapshot_is_refused(snapshot_tree: Path) -> None:
    rewrite(snapshot_tree, ENERGY_MIX, '"carbon_intensity": 561.224', '"carbon_intensity": 461.224', rehash=False)
    (problem,) = problems_of(snapshot_tree)
    assert problem.startswith(f"sources/snapshots/codecarbon/{ENERGY_MIX}, snapshot 'codecarbon', field 'sha256'")
    assert "the file changed since it was snapshotted" in problem


def test_a_renamed_column_is_named(snapshot_tree: Path) -> None:
    rewrite(snapshot_tree, IMPACT, "countryIsoCode", "country_iso")
    (problem,) = problems_of(snapshot_tree)
    assert problem.startswith(f"sources/snapshots/codecarbon/{IMPACT}, field 'countryIsoCode': is missing")


def test_a_value_that_is_not_a_number_names_its_row_and_column(snapshot_tree: Path) -> None:
    rewrite(snapshot_tree, IMPACT, "Johannesburg,646,", "Johannesburg,six hundred,")
    (problem,) = problems_of(snapshot_tree)
    assert problem == (f"sources/snapshots/codecarbon/{IMPACT}, row 'africa-south1', field 'impact': "
                       "'six hundred' is not a number")  # fmt: skip


def test_a_zone_that_is_not_a_country_code_is_named(snapshot_tree: Path) -> None:
    rewrite(snapshot_tree, ENERGY_MIX, '"iso_code": "ABW"', '"iso_code": "Aruba"')
    (problem,) = problems_of(snapshot_tree)
    assert problem == (f"sources/snapshots/codecarbon/{ENERGY_MIX}, row 'ABW', field 'iso_code': "
                       "'Aruba' is not an ISO 3166-1 alpha-3 country code")  # fmt: skip


def test_a_licence_that_forbids_redistribution_is_refused(snapshot_tree: Path) -> None:
    path = snapshot_tree / "snapshots" / CODECARBON / SNAPSHOT_FILE
    path.write_text(path.read_text(encoding="utf-8").replace("licence: MIT", "licence: all-rights-reserved"))
    (problem,) = problems_of(snapshot_tree)
    assert (
        "snapshot 'codecarbon', field 'licence'" in problem
        and "does not allow its files to be redistributed" in problem
    )
    frames, _ = load_snapshots(snapshot_tree)
    assert frames["snapshots"].is_empty() and frames["codecarbon_energy_mix"].is_empty()


def test_a_file_not_listed_in_the_metadata_is_named(snapshot_tree: Path) -> None:
    (snapshot_tree / "snapshots" / CODECARBON / "extra.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    assert problems_of(snapshot_tree) == [
        "sources/snapshots/codecarbon/extra.csv, snapshot 'codecarbon', field 'files': is not listed in "
        "snapshot.yaml (list it with its sha256, or remove it)"
    ]


def test_refreshing_a_repository_snapshot_takes_the_pinned_commit(tmp_path: Path) -> None:
    repository = tmp_path / "upstream"
    (repository / "data").mkdir(parents=True)
    git = ["git", "-C", str(repository), "-c", "user.name=t", "-c", "user.email=t@example.org"]
    subprocess.run(["git", "init", "-q", str(repository)], check=True)
    (repository / "data" / "2024.csv").write_text("region,value\nx,1\n", encoding="utf-8")
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "one"], check=True)
    commit = subprocess.run([*git, "rev-parse", "HEAD"], check=True, capture_output=True, text=True).stdout.strip()
    (repository / "data" / "2024.csv").write_text("region,value\nx,2\n", encoding="utf-8")  # not committed
    tree = tmp_path / "sources"
    folder = tree / "snapshots" / "example"
    folder.mkdir(parents=True)
    (folder / SNAPSHOT_FILE).write_text(yaml.safe_dump({
        "title": "t", "description": "d", "origin": {"repository": "example/upstream", "commit": commit},
        "url": "https://example.org", "licence": "MIT", "licence_source": "LICENSE", "retrieved": "2026-01-01",
        "include": ["data/*.csv"], "files": [{"path": "placeholder", "sha256": "0" * 64}],
    }, sort_keys=False), encoding="utf-8")  # fmt: skip
    assert refresh_snapshot(tree, "example", repository, today=date(2026, 11, 30)) == ["data/2024.csv"]
    assert (folder / "data" / "2024.csv").read_text(encoding="utf-8") == "region,value\nx,1\n"
    metadata = yaml.safe_load((folder / SNAPSHOT_FILE).read_text(encoding="utf-8"))
    assert metadata["files"] == [{"path": "data/2024.csv", "sha256": sha256(b"region,value\nx,1\n")}]
    assert metadata["retrieved"] == "2026-11-30"
    with pytest.raises(ValueError, match=r"'\.\./example' is not a snapshot"):
        refresh_snapshot(tree, "../example", repository)


def test_a_row_without_its_key_is_named_by_its_position(snapshot_tree: Path) -> None:
    rewrite(snapshot_tree, IMPACT, "gcp,Google Cloud Platform,100,africa-south1,", "gcp,Google Cloud Platform,100,,")
    (problem,) = problems_of(snapshot_tree)
    assert (
        problem == f"sources/snapshots/codecarbon/{IMPACT}, row '#1', field 'region': is empty: every row needs its key"
    )
