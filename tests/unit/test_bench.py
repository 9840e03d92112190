"""The scale benchmark's synthetic trees pass the checker, so `make bench` measures builds
rather than failing on them."""

from __future__ import annotations

from pathlib import Path

from bench.synthetic import write_tree
from pipelines.lib.normalise import review_source_tree


def test_a_synthetic_tree_passes_the_checker(tmp_path: Path) -> None:
    tree = write_tree(tmp_path, 1200, per_document=400)
    problems, _ = review_source_tree(tree)
    assert [str(problem) for problem in problems] == []
    assert len(list((tree / "documents").glob("synthetic-*.yaml"))) == 3
