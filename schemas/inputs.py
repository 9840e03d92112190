"""Pydantic models of the contributed input files (contract section 1), and the keys of a
figure (FIGURE_KEYS), which are checked as columns because there are many of them.

They check each file on its own: keys, types, formats, numbers, ranges. Checks
that need other files (known metrics, entities, units) live in
`pipelines.lib.normalise`.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, Literal, get_args

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

DOCUMENT_ID_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"
FIGURE_ID_PATTERN = r"^[a-z0-9]+([a-z0-9._-]*[a-z0-9])?$"
METRIC_ID_PATTERN = r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$"
FIGURE_REF_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*/[a-z0-9]+([a-z0-9._-]*[a-z0-9])?$"  # <source_id>/<figure id>
WORK_PATTERN = r"^[a-z]+:\S+$"  # scheme:identifier
QUOTE_MAX_CHARS = 200

EntityType = Literal["organization", "model", "hardware", "facility", "region", "technology", "reference"]
DocumentKind = Literal[
    "sustainability_report",
    "paper",
    "news_article",
    "model_card",
    "press_release",
    "spec_sheet",
    "dataset",
    "government_report",
    "blog_post",
]
Basis = Literal["reported", "estimated", "projected", "claimed"]
Qualifier = Literal["=", "~", ">", "<", ">=", "<="]

# ASCII digits only: Python's float() and \\d also accept "２４００" and "٢٤٠٠".
NUMBER_PATTERN = r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$"
_NUMBER = re.compile(NUMBER_PATTERN)
_PARTIAL_DATE = re.compile(r"^([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2}))?)?$")
# Control characters (but tab and newline) and invisible format characters (zero-width
# spaces, bidirectional overrides, a byte-order mark inside text) that hide what text says.
_HIDDEN = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]")
_LOOKALIKE_SCRIPTS = {"LATIN", "CYRILLIC", "GREEK"}


def shorten(text: str, limit: int = 60) -> str:
    """Text to quote in a message: at most `limit` characters."""
    return text if len(text) <= limit else f"{text[: limit - 1]}…"


def _number_text(text: str) -> str:
    """A number exactly as written; kept as text so that its digits survive."""
    text = text.strip()
    if "," in text:
        raise ValueError(f"'{shorten(text)}' has a comma: write numbers without thousands separators")
    if not _NUMBER.match(text) or not math.isfinite(float(text)):
        raise ValueError(f"'{shorten(text)}' is not a finite number")
    return text


def _partial_date(text: str) -> str:
    """YYYY, YYYY-MM or YYYY-MM-DD that names a real date."""
    match = _PARTIAL_DATE.match(text.strip())
    if not match:
        raise ValueError(f"'{text}' is not a date written YYYY, YYYY-MM or YYYY-MM-DD")
    year, month, day = (int(part) if part else 1 for part in match.groups())
    try:
        date(year, month, day)
    except ValueError as exc:
        raise ValueError(f"'{text}' is not a real date ({exc})") from None
    return text.strip()


def _not_in_future(text: str) -> str:
    """A publication or access date cannot be later than today."""
    year, month, day = (int(part) if part else 1 for part in _PARTIAL_DATE.match(text).groups())  # type: ignore[union-attr]
    if date(year, month, day) > date.today():
        raise ValueError(f"'{text}' is in the future")
    return text


def hidden_character(text: str) -> str | None:
    """What is wrong with text that holds an invisible or control character, or None."""
    if hidden := _HIDDEN.search(text):
        return f"contains the invisible or control character U+{ord(hidden.group()):04X}: remove it"
    return None


def one_script_per_word(text: str) -> str:
    """A name whose word mixes Latin, Cyrillic or Greek letters ("Gооgle" with Cyrillic o's)
    looks like another name but never matches it."""
    if text.isascii():  # Latin letters only
        return text
    for word in text.split():
        scripts = {unicodedata.name(char, "").split(" ")[0] for char in word if char.isalpha()} & _LOOKALIKE_SCRIPTS
        if len(scripts) > 1:
            names = " and ".join(sorted(script.title() for script in scripts))
            raise ValueError(f"'{word}' mixes {names} letters that look alike")
    return text


NumberText = Annotated[str, AfterValidator(_number_text)]
PartialDate = Annotated[str, AfterValidator(_partial_date)]
PastDate = Annotated[str, AfterValidator(_partial_date), AfterValidator(_not_in_future)]
NonEmpty = Annotated[str, Field(min_length=1), AfterValidator(str.strip)]
Name = Annotated[str, Field(min_length=1), AfterValidator(str.strip), AfterValidator(one_script_per_word)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    @field_validator("*", mode="after")
    @classmethod
    def _no_hidden_characters(cls, value: Any) -> Any:
        for text in value if isinstance(value, list) else [value]:
            if not isinstance(text, str) or (text.isascii() and text.isprintable()):
                continue  # plain printable ASCII holds none of them
            if message := hidden_character(text):
                raise ValueError(message)
        return value


MetricKind = Literal["amount", "rate", "intensity", "share", "change", "multiple", "count", "property"]
# Kinds whose figures are relative to another metric, named in the figure's `relative_to`.
RELATIVE_KINDS = ("share", "change", "multiple")
PerRequestQuantity = Literal["energy", "water", "emissions"]


class IntensityRole(_Strict):
    """A metric divided by another of the same subject, year and boundary (water per kWh)."""

    per: Annotated[str, Field(pattern=METRIC_ID_PATTERN)]
    unit: NonEmpty


class MetricUses(_Strict):
    """Which derived tables read a metric's figures, and as what."""

    training_runs: Annotated[str, Field(pattern=METRIC_ID_PATTERN)] | None = None  # the training_runs column stem
    annual_metrics: bool = False
    per_request: PerRequestQuantity | None = None  # given for one request
    per_requests: PerRequestQuantity | None = None  # given for a stated number of requests
    intensity: IntensityRole | None = None
    specification: bool = False  # a hardware specification, compared across documents


class MetricBounds(_Strict):
    """Values in the canonical unit: outside `impossible_*` a figure is refused; outside
    `implausible_*` it is reported and marked, not refused."""

    impossible_below: NumberText | None = None
    impossible_above: NumberText | None = None
    implausible_below: NumberText | None = None
    implausible_above: NumberText | None = None


class MetricIn(_Strict):
    id: Annotated[str, Field(pattern=METRIC_ID_PATTERN)]
    description: NonEmpty
    unit: NonEmpty
    kind: MetricKind
    # Extensions to the contract (optional keys):
    relative_to: Annotated[str, Field(pattern=METRIC_ID_PATTERN)] | None = None  # fixed for all its figures
    baseline: bool = False  # a change from a baseline period that each figure names
    substance: Literal["water"] | None = None
    signed: bool = False
    accounting: bool = False  # its figures say how emissions are accounted (market- or location-based)
    uses: MetricUses = MetricUses()
    bounds: MetricBounds = MetricBounds()


class GridMeasureIn(_Strict):
    """A measure of the grid: the metrics (and accounting) it takes, its boundaries in order of
    preference, its column in the wide view, and whether it is one of the headline grid's."""

    def accounting_methods(self) -> list[str] | None:
        """The accounting methods it takes, in order of preference (None: any)."""
        return [self.accounting] if isinstance(self.accounting, str) else self.accounting

    id: Annotated[str, Field(pattern=METRIC_ID_PATTERN)]
    metrics: Annotated[list[Annotated[str, Field(pattern=METRIC_ID_PATTERN)]], Field(min_length=1)]
    # one accounting method, or several in order of preference; none: any
    accounting: (
        Annotated[str, Field(pattern=METRIC_ID_PATTERN)]
        | Annotated[list[Annotated[str, Field(pattern=METRIC_ID_PATTERN)]], Field(min_length=1)]
        | None
    ) = None
    boundaries: Annotated[list[Annotated[str, Field(pattern=METRIC_ID_PATTERN)]], Field(min_length=1)]
    column: Annotated[str, Field(pattern=METRIC_ID_PATTERN)]
    headline: bool = True


class GridIn(_Strict):
    """sources/grid.yaml: the organisations, years and measures users ask about first (the
    headline grid), and the further operators whose cells are tracked the same way."""

    organisations: Annotated[list[Name], Field(min_length=1)]
    more_organisations: list[Name] = []
    first_year: Annotated[int, Field(ge=1900, le=2100)]
    last_year: Annotated[int, Field(ge=1900, le=2100)]
    measures: Annotated[list[GridMeasureIn], Field(min_length=1)]


GapReason = Literal["not_published", "image_only", "no_stored_copy"]


GapMeasure = Annotated[str, Field(pattern=METRIC_ID_PATTERN)]
GapYear = Annotated[int, Field(ge=1900, le=2100)]


class GapIn(_Strict):
    """Cells of the grid that no stored document fills, and why: one measure or a list, one
    year or a list (every measure × year named is a gap for the same reason)."""

    subject: Name
    measure: GapMeasure | Annotated[list[GapMeasure], Field(min_length=1)]
    year: GapYear | Annotated[list[GapYear], Field(min_length=1)]
    reason: GapReason
    note: NonEmpty | None = None

    def cells(self) -> list[tuple[str, int]]:
        """(measure, year) of every cell this entry names."""
        measures = self.measure if isinstance(self.measure, list) else [self.measure]
        years = self.year if isinstance(self.year, list) else [self.year]
        return [(measure, year) for measure in measures for year in years]


class DimensionValueIn(_Strict):
    """One value of a figure dimension (boundaries.yaml, statistics.yaml ...)."""

    id: Annotated[str, Field(pattern=METRIC_ID_PATTERN)]
    description: NonEmpty
    applies_to: list[EntityType] | None = None  # boundaries only: the entity types that may use it


class EntityIn(_Strict):
    name: Name
    type: EntityType
    aliases: list[Name] = []
    parent: NonEmpty | None = None
    zone: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] | None = None  # a country's ISO 3166-1 alpha-3 code

    @model_validator(mode="after")
    def _zone_of_a_region(self) -> EntityIn:
        if self.zone is not None and self.type != "region":
            raise ValueError("only a region (a country) has a zone")
        return self


class FactorIn(_Strict):
    """A default factor (extension): which figure a missing training-run input falls back to."""

    factor: Literal["pue", "grid_carbon_intensity", "wue", "ewif"]
    figure: Annotated[str, Field(pattern=FIGURE_REF_PATTERN)]
    reason: NonEmpty


class RunLocationIn(_Strict):
    """Where a training run ran, as its document states it (sources/run_locations.yaml, an
    extension): the run's grid intensity then defaults to its zone's before the world's."""

    model: Name  # the model, as the run's figures name it
    document: Annotated[str, Field(pattern=DOCUMENT_ID_PATTERN)]  # the run's document
    location: Name  # a region entity with a zone, or whose parent has one
    year: Annotated[int, Field(ge=1900, le=2100)] | None = None  # when it ran, if the document says
    locator: NonEmpty
    quote: Annotated[str, Field(min_length=1, max_length=QUOTE_MAX_CHARS)]


class EquivalenceIn(_Strict):
    """A human-scale equivalence (extension): a reference quantity and the figure giving its size."""

    equivalence: Annotated[str, Field(pattern=METRIC_ID_PATTERN)]
    description: NonEmpty
    figure: Annotated[str, Field(pattern=FIGURE_REF_PATTERN)]


@dataclass(frozen=True)
class FigureKey:
    """One key of a figure. Figures are checked as columns of one frame, not one model
    each (`pipelines.lib.figures`): every value is text, stripped of surrounding blanks,
    free of hidden characters and, if given, not empty."""

    name: str
    required: bool = False
    pattern: str | None = None  # the whole value matches it
    choices: tuple[str, ...] = ()  # the value is one of these
    default: str | None = None  # the value when the key is absent
    number: bool = False  # a number as written (NumberText)
    entity_name: bool = False  # a name: no word mixes look-alike scripts (Name)
    max_chars: int | None = None


FIGURE_KEYS: tuple[FigureKey, ...] = (
    FigureKey("id", required=True, pattern=FIGURE_ID_PATTERN),
    FigureKey("subject", required=True, entity_name=True),
    FigureKey("metric", required=True),
    FigureKey("value", number=True),
    FigureKey("low", number=True),
    FigureKey("high", number=True),
    FigureKey("unit", required=True),
    FigureKey("period"),
    FigureKey("basis", choices=get_args(Basis), default="reported"),
    FigureKey("qualifier", choices=get_args(Qualifier), default="="),
    FigureKey("hardware", entity_name=True),
    FigureKey("scope"),
    FigureKey("equals"),
    # What the figure means, each a value of a vocabulary under sources/ (checked there):
    FigureKey("boundary"),
    FigureKey("accounting"),
    FigureKey("statistic"),
    FigureKey("period_kind"),
    # For a share, change or multiple: the metric it is relative to (for a share, the whole's),
    # the part's metric where it differs, the baseline period, and the figure of the same
    # document it refers to.
    FigureKey("relative_to"),
    FigureKey("part"),  # for a share: the metric of the part, where it is not relative_to's
    FigureKey("baseline"),
    FigureKey("reference"),
    FigureKey("locator"),
    FigureKey("quote", max_chars=QUOTE_MAX_CHARS),
)
FIGURE_KEY_NAMES = tuple(key.name for key in FIGURE_KEYS)


class DocumentHeader(_Strict):
    """A document's own keys; its figures are checked together, as columns (FIGURE_KEYS)."""

    id: Annotated[str, Field(pattern=DOCUMENT_ID_PATTERN)]
    title: NonEmpty
    publisher: NonEmpty
    published: PastDate
    kind: DocumentKind
    language: Annotated[str, Field(pattern=r"^[a-z]{2}$")]
    url: NonEmpty | None = None
    authors: list[NonEmpty] | None = None
    license: NonEmpty | None = None
    accessed: PastDate | None = None
    notes: NonEmpty | None = None
    cites: list[Annotated[str, Field(pattern=DOCUMENT_ID_PATTERN)]] = []
    # The work a document is a version, edition or copy of (arxiv:2304.03271, doi:..., url:...):
    # documents of one work are not independent sources.
    work: Annotated[str, Field(pattern=WORK_PATTERN)] | None = None
    figures: list[Any]


SNAPSHOT_NAME_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"


class LicenceIn(_Strict):
    """A licence an upstream dataset may carry (sources/licences.yaml)."""

    id: NonEmpty  # the SPDX identifier where there is one
    name: NonEmpty
    url: NonEmpty | None = None
    redistributable: bool  # whether its files may be committed and published here


class SnapshotOriginIn(_Strict):
    """Where a snapshot's files come from: a pinned PyPI package, or a repository at a commit."""

    package: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")] | None = None
    version: Annotated[str, Field(pattern=r"^[0-9][A-Za-z0-9.+-]*$")] | None = None
    repository: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*$")] | None = None
    commit: Annotated[str, Field(pattern=r"^[0-9a-f]{40}$")] | None = None

    @model_validator(mode="after")
    def _one_origin(self) -> SnapshotOriginIn:
        if (self.package is None) == (self.repository is None):
            raise ValueError("give either package and version, or repository and commit")
        if self.package is not None and self.version is None:
            raise ValueError("a package needs its version")
        if self.repository is not None and self.commit is None:
            raise ValueError("a repository needs its commit")
        return self

    def label(self) -> str:
        return f"{self.package}=={self.version}" if self.package else f"{self.repository}@{self.commit}"


class SnapshotFileIn(_Strict):
    path: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$")]  # inside the upstream
    sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


class SnapshotIn(_Strict):
    """sources/snapshots/<name>/snapshot.yaml: an upstream dataset's files kept exactly as
    published, and what they are."""

    title: NonEmpty
    description: NonEmpty  # what the rows are
    origin: SnapshotOriginIn
    url: NonEmpty
    licence: NonEmpty  # an id of sources/licences.yaml
    licence_source: NonEmpty  # where the licence is stated
    retrieved: date
    # the upstream paths to take (glob patterns), and the files taken, with their sha256
    include: Annotated[
        list[Annotated[str, Field(pattern=r"^[A-Za-z0-9_.*-]+(/[A-Za-z0-9_.*-]+)*$")]], Field(min_length=1)
    ]
    files: Annotated[list[SnapshotFileIn], Field(min_length=1)]
