"""Where the project's inputs and outputs live: the defaults, and what a location string names.

Kept free of heavy imports: the command line reads these before it knows which
libraries a command needs.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SOURCES = PROJECT_ROOT / "sources"
DEFAULT_WAREHOUSE = PROJECT_ROOT / "warehouse"
# The Dagster instance that builds record their runs in and `make ui` opens, unless
# DAGSTER_HOME names another.
DEFAULT_DAGSTER_HOME = PROJECT_ROOT / ".dagster"


def local_path(location: str | Path) -> Path | None:
    """The local folder a warehouse location names: a plain path or a file:// URI.
    None for other URIs (s3://, gs://, ...), which are published by upload."""
    text = str(location)
    if "://" not in text:
        return Path(text)
    scheme, _, rest = text.partition("://")
    if scheme == "file":
        return Path(unquote(rest)) if rest.startswith("/") else Path(unquote("/" + rest.partition("/")[2]))
    return None
