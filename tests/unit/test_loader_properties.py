"""Property tests: whatever a document holds, the check answers with problems or none,
never with an unhandled exception, a hang or unbounded memory.

Hypothesis generates documents of several kinds: well-formed YAML whose keys and values
are a mix of valid, wrong-type and odd values; YAML text with structure in it (anchors,
tags, flow collections); and arbitrary bytes. Raise the number of examples with
    HYPOTHESIS_PROFILE=long .venv/bin/pytest tests/unit/test_loader_properties.py
"""

from __future__ import annotations

import os
import shutil
import tempfile
import tracemalloc
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.lib.errors import SourceProblem
from pipelines.lib.normalise import check_source_tree
from pipelines.lib.sources import DIMENSION_FILES
from schemas.inputs import FIGURE_KEY_NAMES, DocumentHeader
from tests.conftest import SOURCES

settings.register_profile(
    "default", max_examples=30, deadline=5_000, suppress_health_check=[HealthCheck.too_slow], derandomize=False
)
settings.register_profile("long", max_examples=1_000, deadline=5_000, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

MEMORY_LIMIT_BYTES = 64 * 1024 * 1024  # Python allocations while checking one document

numbers = st.from_regex(r"\A[+-]?[0-9]{1,6}(\.[0-9]{0,4})?([eE][+-]?[0-9]{1,3})?\Z")
odd_text = st.text(max_size=40)
scalars = st.one_of(
    numbers,
    odd_text,
    st.sampled_from(["GPT-4", "Google", "万度", "MWh", "kWh", "2023", "2023-02-30", "~", "nan", "1,000", "", " "]),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
)
values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(odd_text, inner, max_size=3), max_leaves=8
)
keys = st.sampled_from([*FIGURE_KEY_NAMES, "colour", "Value", ""])
figures = st.dictionaries(keys, values, max_size=len(FIGURE_KEY_NAMES) + 2)
header_values = {
    "title": values,
    "publisher": values,
    "published": st.one_of(st.sampled_from(["2024", "2024-02", "2024-02-29", "0000", "2999-01-01"]), values),
    "kind": st.one_of(st.sampled_from(["paper", "news_article", "tweet"]), values),
    "language": st.one_of(st.sampled_from(["en", "zh", "EN"]), values),
}
documents = st.fixed_dictionaries(
    {"id": st.just("generated")},
    optional={
        **header_values,
        "figures": st.one_of(st.lists(figures, max_size=6), values),
        "cites": values,
        "notes": values,
        "unexpected": values,
    },
)
yaml_fragments = st.lists(
    st.sampled_from(
        ["id: generated\n", "figures:\n", "- ", "  ", "&a ", "*a ", "!!str ", "!!python/object:os.system ", "[", "]",
         "{", "}", ": ", "? ", "---\n", "...\n", "'", '"', "\\", "#", "|\n", ">\n", "\t", "\n", "value: '1'\n",
         "\ufeff", "\u202e", "\x00", "\x85", "2400", "万度"]
    ),
    max_size=40,
).map("".join)  # fmt: skip


def _check(content: bytes) -> list[SourceProblem]:
    """Check a tree holding the real vocabularies and this one document."""
    with tempfile.TemporaryDirectory() as folder:
        tree = Path(folder) / "sources"
        (tree / "documents").mkdir(parents=True)
        for name in ("metrics.yaml", "entities.yaml", *DIMENSION_FILES.values()):
            shutil.copy(SOURCES / name, tree / name)
        (tree / "documents" / "generated.yaml").write_bytes(content)
        tracemalloc.start()
        try:
            problems = check_source_tree(tree)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert peak < MEMORY_LIMIT_BYTES, f"checking used {peak} bytes"
    assert isinstance(problems, list) and all(isinstance(p, SourceProblem) for p in problems)
    assert all(p.file == "sources/documents/generated.yaml" for p in problems), problems
    return problems


def _dump(document: dict[str, Any]) -> bytes:
    return yaml.safe_dump(document, allow_unicode=True, sort_keys=False).encode("utf-8")


@given(documents)
def test_any_document_is_accepted_or_rejected_with_problems(document: dict[str, Any]) -> None:
    problems = _check(_dump(document))
    accepted = not problems
    if accepted:  # then it really is a valid document
        DocumentHeader.model_validate(document)


@given(yaml_fragments)
def test_any_yaml_text_is_accepted_or_rejected_with_problems(text: str) -> None:
    _check(text.encode("utf-8"))


@given(st.binary(max_size=300))
def test_any_bytes_are_accepted_or_rejected_with_problems(content: bytes) -> None:
    problems = _check(content)
    assert problems  # no byte string of this size is a complete document


@given(st.lists(st.sampled_from(list(FIGURE_KEY_NAMES)), min_size=1, unique=True), st.data())
def test_a_valid_figure_with_one_field_broken_names_that_field(broken: list[str], data: st.DataObject) -> None:
    figure: dict[str, Any] = {
        "id": "f1",
        "subject": "GPT-4",
        "metric": "training_energy",
        "value": "2400",
        "unit": "万度",
    }
    field = broken[0]
    figure[field] = data.draw(
        st.one_of(
            st.lists(st.integers(), min_size=1, max_size=2), st.dictionaries(odd_text, odd_text, min_size=1, max_size=2)
        )
    )
    document = {
        "id": "generated",
        "title": "t",
        "publisher": "p",
        "published": "2024",
        "kind": "paper",
        "language": "en",
        "figures": [figure],
    }
    problems = _check(_dump(document))
    named = "#1" if field == "id" else "f1"  # a figure whose id is not text is named by its position
    assert any(p.item == named and p.field is not None and p.field.split(".")[0] == field for p in problems), problems
