"""The hostile corpus (tests/hostile/): every bad file gets the problem it deserves, naming
its file and figure, and nothing in it is executed, expanded or allowed to crash the check."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from pipelines.lib.errors import visible
from pipelines.lib.normalise import check_source_tree
from pipelines.lib.sources import MAX_FIGURES_PER_DOCUMENT, MAX_FILE_BYTES
from tests.conftest import PROJECT_ROOT

HOSTILE = PROJECT_ROOT / "tests" / "hostile"
EXPECTED: dict[str, list[str | list[str] | None]] = yaml.safe_load(
    (HOSTILE / "expected.yaml").read_text(encoding="utf-8")
)
HEADER = "title: A hostile test document\npublisher: Tests\npublished: '2024-01-02'\nkind: paper\nlanguage: en\n"
FIGURE = "- {id: f%d, subject: GPT-4, metric: training_energy, value: '1', unit: MWh}\n"


def _text_file(name: str, text: Callable[[], str]) -> Callable[[Path], Path]:
    """A case that is one text file in documents/, written when the test runs."""

    def write(documents: Path) -> Path:
        path = documents / name
        path.write_text(text(), encoding="utf-8")
        return path

    return write


def _symbolic_link(documents: Path) -> Path:
    outside = documents.parents[1] / "outside.yaml"
    outside.write_text(f"id: symbolic-link\n{HEADER}figures: []\n", encoding="utf-8")
    path = documents / "symbolic-link.yaml"
    path.symlink_to(outside)
    return path


def _folder_named_yaml(documents: Path) -> Path:
    path = documents / "folder-named-yaml.yaml"
    path.mkdir()
    return path


GENERATED: dict[str, Callable[[Path], Path]] = {
    "huge-file": _text_file(
        "huge-file.yaml", lambda: f"id: huge-file\n{HEADER}notes: {'x' * MAX_FILE_BYTES}\nfigures: []\n"
    ),
    # Deep enough to crash libyaml's recursive composer (a segmentation fault) if it got there.
    "deep-flow-nesting": _text_file("deep-flow-nesting.yaml", lambda: "notes: " + "[" * 100_000 + "]" * 100_000 + "\n"),
    "too-many-figures": _text_file(
        "too-many-figures.yaml",
        lambda: (
            f"id: too-many-figures\n{HEADER}figures:\n"
            + "".join(FIGURE % number for number in range(MAX_FIGURES_PER_DOCUMENT + 1))
        ),
    ),
    "symbolic-link": _symbolic_link,
    "not-yaml-extension": _text_file(
        "not-yaml-extension.yml", lambda: f"id: not-yaml-extension\n{HEADER}figures: []\n"
    ),
    "folder-named-yaml": _folder_named_yaml,
    "newline-in-file-name": _text_file(
        "newline-in-file-name\n.yaml", lambda: f"id: newline-in-file-name\n{HEADER}figures: []\n"
    ),
}


def _place(case: str, tree: Path) -> Path:
    """Put the case into the tree; the path of the file its problem must name."""
    if case in GENERATED:
        return GENERATED[case](tree / "documents")
    document = HOSTILE / "documents" / f"{case}.yaml"
    if document.exists():
        shutil.copy(document, tree / "documents" / document.name)
        return tree / "documents" / document.name
    vocabulary, _, _ = case.partition("-")
    target = tree / f"{vocabulary}.yaml"
    with target.open("ab") as handle:
        handle.write((HOSTILE / "vocabulary" / f"{case}.yaml").read_bytes())
    return target


def test_the_corpus_is_large_and_every_file_has_an_expectation() -> None:
    files = {p.stem for p in (HOSTILE / "documents").glob("*.yaml")} | {
        p.stem for p in (HOSTILE / "vocabulary").glob("*.yaml")
    }
    assert files | set(GENERATED) == set(EXPECTED)
    assert len(EXPECTED) >= 30


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_a_hostile_file_gets_its_own_problem(source_tree: Path, case: str) -> None:
    item, field, fragments = EXPECTED[case]
    accepted = fragments if isinstance(fragments, list) else [fragments]
    path = _place(case, source_tree)
    shown = visible(f"sources/{path.relative_to(source_tree).as_posix()}")
    problems = check_source_tree(source_tree)  # must return, not raise or crash
    assert problems, "the file was accepted"
    assert all(problem.file == shown for problem in problems), problems
    assert any(
        (problem.item, problem.field) == (item, field) and any(f in problem.message for f in accepted)
        for problem in problems
    ), problems
    for problem in problems:
        text = str(problem)
        assert text.startswith(shown) and "\n" not in text and "Traceback" not in text
        if problem.item is not None:
            assert f"'{visible(problem.item)}'" in text


def test_an_object_tag_is_never_constructed(source_tree: Path, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    text = (HOSTILE / "documents" / "python-object-tag.yaml").read_text(encoding="utf-8")
    (source_tree / "documents" / "python-object-tag.yaml").write_text(
        text.replace("/tmp/pwned", str(marker)), encoding="utf-8"
    )
    assert check_source_tree(source_tree)
    assert not marker.exists()
