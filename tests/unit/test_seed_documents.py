"""The seed articles: every quote stands verbatim in the article body, and the page noise stays out.

(That each figure's number stands in its quote as a number of its own is a rule of `check`.)"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.conftest import SEEDS, SOURCES

# Seed document -> (seed file, the words that end the article and start the page's other items).
SEED_FILES = {
    "nqfzw-2025-ai-energy-limit-2": ("000_235ac0311751aa0a.txt", "希望以上内容对您有帮助"),
    "kepu-2024-training-24-million-kwh": ("004_f35715cf6c55ebc9.txt", "本文由科普中国-星空计划出品"),
}


def load(path: Path) -> dict:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.BaseLoader)  # every scalar as text


@pytest.mark.parametrize(("document_id", "seed"), SEED_FILES.items())
def test_every_quote_stands_verbatim_in_the_article_body(document_id: str, seed: tuple[str, str]) -> None:
    seed_file, end_of_article = seed
    path = SEEDS / seed_file
    if not path.exists():
        pytest.skip(f"{path} is not beside this checkout (it lives in ../shared/seeds)")
    text = path.read_text(encoding="utf-8")
    body = text[: text.index(end_of_article)]
    document = load(SOURCES / "documents" / f"{document_id}.yaml")
    assert (document["language"], document["kind"]) == ("zh", "news_article")
    assert seed_file in document["notes"]
    assert document["title"] in body, "the title is as printed on the page"
    for figure in document["figures"]:
        assert figure["quote"] in body, figure["id"]
