"""The website over a real build: `ai-footprints build` then `ai-footprints site`, as `make build &&
make site` run them. Every internal link resolves, every quote is on its document's page and in
the search index, the downloads match their checksums, and Debian's Chromium (driven by
Playwright, no browser download) renders the pages, finds a figure by words of its quote and
draws an organisation's chart, with no console error."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlsplit

import polars as pl
import pytest

from pipelines.lib.site import Links
from tests.conftest import CHROMIUM, CHROMIUM_FLAGS, SOURCES

pytestmark = pytest.mark.integration
BIG_FOUR = ["Google", "Microsoft", "Meta", "Amazon"]


class _Page(HTMLParser):
    """The links, ids and text of one HTML file."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.ids: set[str] = set()
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in {"href", "src"} and value is not None:
                self.links.append(value)
            if name == "id" and value is not None:
                self.ids.add(value)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("warehouse")
    for command in (
        ["--sources", str(SOURCES), "build", "--warehouse", str(root)],
        ["site", "--warehouse", str(root)],
    ):
        done = subprocess.run([sys.executable, "-m", "pipelines.cli", *command], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr[-3000:]
    return root


@pytest.fixture(scope="module")
def site(warehouse: Path) -> Path:
    return warehouse / "site"


@pytest.fixture(scope="module")
def pages(site: Path) -> dict[Path, _Page]:
    return {path: _parse(path) for path in sorted(site.rglob("*.html"))}


def test_the_site_has_a_search_box_and_a_page_for_each_big_operator_and_trained_model(
    warehouse: Path, site: Path, pages: dict[Path, _Page]
) -> None:
    home = site / "index.html"
    assert home in pages and 'id="q"' in home.read_text(encoding="utf-8")
    entities = pl.read_parquet(warehouse / "parquet" / "entities.parquet")
    subjects = pl.read_parquet(warehouse / "parquet" / "figures.parquet")["subject"].unique().to_list()
    links = Links(entities.filter(pl.col("entity").is_in(subjects)))
    for organisation in BIG_FOUR:
        assert (site / links.entity[organisation]).is_file(), organisation
    runs = pl.read_parquet(warehouse / "parquet" / "training_runs.parquet")
    models = runs["model"].unique().to_list()
    assert len(models) >= 40
    for model in models:
        page = site / links.entity[model]
        assert "Training runs" in page.read_text(encoding="utf-8"), model


def test_every_internal_link_resolves(site: Path, pages: dict[Path, _Page]) -> None:
    checked, broken = 0, []
    for path, page in pages.items():
        for link in page.links:
            if urlsplit(link).scheme in {"http", "https", "mailto", "data"}:
                continue
            target, fragment = urldefrag(link)
            target = target.split("?", 1)[0]
            resolved = (path.parent / unquote(target)).resolve() if target else path
            checked += 1
            if not resolved.is_file() or not resolved.is_relative_to(site.resolve()):
                broken.append(f"{path.relative_to(site)} -> {link}")
            elif fragment and resolved.suffix == ".html" and unquote(fragment) not in pages[resolved].ids:
                broken.append(f"{path.relative_to(site)} -> {link} (no such id)")
    assert broken == []
    assert checked > 10_000  # every figure, source and entity is linked from somewhere


def test_every_quote_is_on_its_documents_page_and_in_the_search_index(
    warehouse: Path, site: Path, pages: dict[Path, _Page]
) -> None:
    figures = pl.read_parquet(warehouse / "parquet" / "figures.parquet").filter(pl.col("quote").is_not_null())
    index = (site / "assets" / "search-index.js").read_text(encoding="utf-8")
    entries = json.loads(index.removeprefix("window.AIF_FIGURES = ").removesuffix(";\n"))
    indexed = {(entry[0], entry[5]) for entry in entries}
    texts: dict[str, str] = {}
    missing = []
    for source_id, figure_id, quote in figures.select("source_id", "figure_id", "quote").iter_rows():
        if source_id not in texts:
            texts[source_id] = "".join(pages[(site / "sources" / f"{source_id}.html").resolve()].text)
        if quote not in texts[source_id] or (Links.figure(figure_id), quote) not in indexed:
            missing.append(figure_id)
    assert missing == []
    assert len(entries) == pl.read_parquet(warehouse / "parquet" / "figures.parquet").height


def test_the_downloads_are_the_published_tables_with_their_checksums(warehouse: Path, site: Path) -> None:
    sums = (site / "data" / "SHA256SUMS").read_text(encoding="utf-8").splitlines()
    names = {line.split("  ", 1)[1] for line in sums}
    published = {f"parquet/{path.name}" for path in (warehouse / "parquet").glob("*.parquet")}
    assert names == published
    for line in sums:
        digest, name = line.split("  ", 1)
        assert hashlib.sha256((site / "data" / name).read_bytes()).hexdigest() == digest
        assert (site / "data" / name).read_bytes() == (warehouse / name).read_bytes()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if CHROMIUM is None:
        pytest.skip("no Chromium found (Debian package `chromium`, installed by .ci/run)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield launched
        launched.close()


def _open(browser: object, url: str) -> tuple[object, list[str]]:
    """A page at url, and the console errors and uncaught exceptions it logs."""
    page = browser.new_page(viewport={"width": 390, "height": 844})  # type: ignore[attr-defined]
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(url)
    page.wait_for_load_state("load")
    return page, errors


def test_the_home_page_renders_with_its_charts_and_no_console_error(browser: object, site: Path) -> None:
    page, errors = _open(browser, (site / "index.html").as_uri())
    assert page.title() == "AI Footprints · AI Footprints"  # type: ignore[attr-defined]
    assert page.locator("h1").inner_text() == "AI Footprints"  # type: ignore[attr-defined]
    assert page.locator("input#q").is_visible()  # type: ignore[attr-defined]
    images = page.locator("img")  # type: ignore[attr-defined]
    assert images.count() >= 6
    for index in range(images.count()):  # charts load lazily, as a reader scrolls to them
        image = images.nth(index)
        image.scroll_into_view_if_needed()
        page.wait_for_function("i => i.complete", arg=image.element_handle())  # type: ignore[attr-defined]
        assert image.evaluate("i => i.naturalWidth") > 0, image.get_attribute("src")
    assert page.evaluate("Array.from(document.images).every(i => i.alt.length > 20)")  # type: ignore[attr-defined]
    assert errors == []


def test_searching_words_of_a_quote_finds_its_figure(browser: object, site: Path, warehouse: Path) -> None:
    figure_id = "google-2024-environmental-report/scope1-2022"
    quote = pl.read_parquet(warehouse / "parquet" / "figures.parquet").filter(figure_id=figure_id)["quote"].item()
    assert quote.startswith("Scope 12 tCO2 e 81,900")
    page, errors = _open(browser, (site / "index.html").as_uri())
    page.fill("input#q", "scope 12 tco2 81,900 2022")  # type: ignore[attr-defined]
    page.press("input#q", "Enter")  # type: ignore[attr-defined]
    page.wait_for_selector("#results li")  # type: ignore[attr-defined]
    hrefs = page.eval_on_selector_all("#results a", "links => links.map(a => a.getAttribute('href'))")  # type: ignore[attr-defined]
    assert Links.figure(figure_id) in hrefs
    assert "figure" in page.locator("#status").inner_text()  # type: ignore[attr-defined]
    page.click(f"#results a[href='{Links.figure(figure_id)}']")  # type: ignore[attr-defined]
    page.wait_for_load_state("load")  # type: ignore[attr-defined]
    assert page.url.endswith("#f-scope1-2022")  # type: ignore[attr-defined]
    assert "81,900" in page.locator("#f-scope1-2022").inner_text()  # type: ignore[attr-defined]
    assert errors == []


def test_an_organisation_page_draws_its_chart_and_grid(browser: object, site: Path) -> None:
    page, errors = _open(browser, (site / "organisations" / "google.html").as_uri())
    chart = page.locator("figure.chart img")  # type: ignore[attr-defined]
    assert chart.count() == 1
    assert chart.evaluate("i => i.complete && i.naturalWidth > 0")
    assert "annual series" in chart.get_attribute("alt")
    grid = page.locator("table").first  # type: ignore[attr-defined]
    assert "electricity" in grid.inner_text() and "2019" in grid.inner_text()
    assert errors == []


def test_a_model_page_shows_its_training_run_inputs_and_their_origin(browser: object, site: Path) -> None:
    page, errors = _open(browser, (site / "models" / "llama-3-1-405b.html").as_uri())
    text = page.locator("main").inner_text()  # type: ignore[attr-defined]
    assert "Training runs" in text and "accelerator hours" in text and "30.84 million hour" in text
    assert "default" in text  # the PUE the card does not give
    assert errors == []
