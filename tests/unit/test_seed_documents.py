"""The seed articles' documents quote their seed text verbatim and stay on topic."""

from __future__ import annotations

import pytest
import yaml

from tests.conftest import SEEDS, SOURCES

SEED_FILES = {
    "nqfzw-2025-ai-energy-limit-2": "000_235ac0311751aa0a.txt",
    "kepu-2024-training-24-million-kwh": "004_f35715cf6c55ebc9.txt",
}


@pytest.mark.parametrize(("document_id", "seed_file"), SEED_FILES.items())
def test_every_quote_stands_verbatim_in_the_seed(document_id: str, seed_file: str) -> None:
    seed = SEEDS / seed_file
    if not seed.exists():
        pytest.skip(f"{seed} is not beside this checkout (it lives in ../shared/seeds)")
    text = seed.read_text(encoding="utf-8")
    document = yaml.safe_load((SOURCES / "documents" / f"{document_id}.yaml").read_text(encoding="utf-8"))
    assert document["language"] == "zh" and document["kind"] == "news_article"
    assert seed_file in document["notes"]
    figures = document["figures"]
    assert figures
    for figure in figures:
        assert figure.get("quote"), figure["id"]
        assert figure["quote"] in text, figure["id"]
    assert document["title"] in text, "the title is as printed on the page"


def test_page_noise_does_not_enter() -> None:
    noise = ["洋葱", "肝癌", "直播", "基金", "钟丽缇", "胖东来", "雷军"]
    for document_id in SEED_FILES:
        raw = (SOURCES / "documents" / f"{document_id}.yaml").read_text(encoding="utf-8")
        assert not [word for word in noise if word in raw], document_id
