"""Synthetic source trees for the scale benchmark: the real sources plus N generated figures.

Every generated figure copies a real one (round robin over all of them, so every metric,
unit spelling, range, period, qualifier and scope in the real sources recurs) under a new
id, with its value, low and high scaled by one random factor (and written at the head of its
quote, where the checker looks for them). Documents come in "worlds"
of WORLD_DOCUMENTS documents; each world has its own copy of every entity the figures
name ("Google w3", parent Google), so that, as in real data, an entity is written about by
a few documents, not by all of them. The real documents are kept so that factors.yaml and
equivalences.yaml still resolve. The data is fake; it exists to measure, and never leaves
the benchmark's folder.

    python -m bench.synthetic <target folder> <figures> [--per-document 500] [--seed 0]
"""

from __future__ import annotations

import argparse
import random
import shutil
from pathlib import Path
from typing import Any

import yaml

from pipelines.lib.sources import load_sources
from schemas.inputs import QUOTE_MAX_CHARS

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SOURCES = PROJECT_ROOT / "sources"
_Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
WORLD_DOCUMENTS = 10


def _canonical_names(sources: Path) -> dict[str, dict[str, Any]]:
    """Every entity name and alias -> the entity (name, type)."""
    entities = yaml.safe_load((sources / "entities.yaml").read_text(encoding="utf-8"))
    names = {}
    for entity in entities:
        for name in [entity["name"], *entity.get("aliases", [])]:
            names[name] = entity
    return names


def _bounded(sources: Path) -> set[str]:
    """Metrics with impossible values (a PUE below 1, a share above 100 %): their figures keep
    their values, which scaling could make impossible."""
    return {
        metric.id
        for metric in load_sources(sources).metrics
        if metric.bounds.impossible_below is not None or metric.bounds.impossible_above is not None
    }


def _templates(sources: Path) -> list[dict[str, Any]]:
    """Every real figure as a dict of its keys, without the links to other figures of its document."""
    loaded = load_sources(sources)
    figures = loaded.figures.drop("file", "source_id", "figure_order", "equals", "reference")
    return [
        {key: value for key, value in figure.items() if value is not None} for figure in figures.iter_rows(named=True)
    ]


def _scaled(text: str, factor: float) -> str:
    return f"{float(text) * factor:.6g}"


def write_tree(target: Path, figures: int, per_document: int = 500, seed: int = 0) -> Path:
    """Write target/sources with the real sources and `figures` generated figures; returns it."""
    tree = target / "sources"
    if tree.exists():
        shutil.rmtree(tree)
    shutil.copytree(SOURCES, tree)
    templates = _templates(SOURCES)
    bounded = _bounded(SOURCES)
    entities = _canonical_names(SOURCES)
    named = sorted({figure[key] for figure in templates for key in ("subject", "hardware") if key in figure})
    chance = random.Random(seed)
    documents = (figures + per_document - 1) // per_document
    worlds = (documents + WORLD_DOCUMENTS - 1) // WORLD_DOCUMENTS
    copies = [
        {"name": f"{entities[name]['name']} w{world}", "type": entities[name]["type"], "parent": entities[name]["name"]}
        for world in range(worlds)
        for name in sorted({entities[name]["name"] for name in named})
    ]
    with (tree / "entities.yaml").open("a", encoding="utf-8") as handle:
        handle.write(yaml.dump(copies, Dumper=_Dumper, allow_unicode=True, sort_keys=False))
    for number in range(documents):
        world = number // WORLD_DOCUMENTS
        count = min(per_document, figures - number * per_document)
        generated = []
        for index in range(count):
            figure = dict(templates[(number * per_document + index) % len(templates)])
            factor = chance.uniform(0.5, 2.0)
            if figure["metric"] in bounded:
                factor = 1.0
            numbers = []
            for key in ("value", "low", "high"):
                if key in figure:
                    figure[key] = _scaled(figure[key], factor)
                    numbers.append(figure[key])
            # the checker finds each number in its quote, so the scaled numbers lead the template's
            figure["quote"] = f"{' '.join(numbers)} {figure['quote']}"[:QUOTE_MAX_CHARS]
            for key in ("subject", "hardware"):
                if key in figure:
                    figure[key] = f"{entities[figure[key]]['name']} w{world}"
            generated.append({"id": f"f{index}", **{k: v for k, v in figure.items() if k != "id"}})
        document = {
            "id": f"synthetic-{number:06d}",
            "title": f"Synthetic document {number}",
            "publisher": "AI Footprints benchmark",
            "published": f"{chance.randint(2019, 2025)}-{chance.randint(1, 12):02d}",
            "kind": "dataset",
            "language": "en",
            "figures": generated,
        }
        text = yaml.dump(document, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=120)
        (tree / "documents" / f"{document['id']}.yaml").write_text(text, encoding="utf-8")
    return tree


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", type=Path)
    parser.add_argument("figures", type=int)
    parser.add_argument("--per-document", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    arguments = parser.parse_args()
    print(write_tree(arguments.target, arguments.figures, arguments.per_document, arguments.seed))


if __name__ == "__main__":
    main()
