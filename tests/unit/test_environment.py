"""The environment is the locked one: uv.lock agrees with pyproject.toml, and every package
installed in this environment has the version uv.lock pins for it."""

from __future__ import annotations

import tomllib
from importlib import metadata
from typing import Any

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.conftest import PROJECT_ROOT

PYPROJECT = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
LOCK = tomllib.loads((PROJECT_ROOT / "uv.lock").read_text(encoding="utf-8"))
PROJECT = canonicalize_name(PYPROJECT["project"]["name"])

Key = tuple[str, frozenset[str], str, str]


def _key(requirement: Requirement) -> Key:
    return (
        canonicalize_name(requirement.name),
        frozenset(requirement.extras),
        str(requirement.specifier),
        str(requirement.marker or ""),
    )


def _from_pyproject() -> set[Key]:
    """The project's requirements as pyproject.toml states them, extras marked as pip marks them."""
    keys = {_key(Requirement(text)) for text in PYPROJECT["project"]["dependencies"]}
    for extra, texts in PYPROJECT["project"].get("optional-dependencies", {}).items():
        for text in texts:
            requirement = Requirement(text.split("#")[0].strip())
            requirement.marker = Requirement(f"x; extra == '{extra}'").marker
            keys.add(_key(requirement))
    return keys


def _locked_project() -> dict[str, Any]:
    (project,) = [package for package in LOCK["package"] if canonicalize_name(package["name"]) == PROJECT]
    return project


def _from_lock() -> set[Key]:
    """The requirements uv.lock was resolved for (uv records them as the project's metadata)."""
    keys = set()
    for entry in _locked_project()["metadata"]["requires-dist"]:
        text = entry["name"] + (f"[{','.join(entry['extras'])}]" if entry.get("extras") else "")
        text += entry.get("specifier", "") + (f"; {entry['marker']}" if entry.get("marker") else "")
        keys.add(_key(Requirement(text)))
    return keys


def test_the_lock_was_resolved_for_the_requirements_pyproject_states() -> None:
    stated, locked = _from_pyproject(), _from_lock()
    assert stated == locked, (
        "pyproject.toml and uv.lock disagree (after editing pyproject.toml, run `.uv/bin/uv lock`): "
        f"only in pyproject.toml: {sorted(stated - locked)}; only in uv.lock: {sorted(locked - stated)}"
    )
    assert LOCK["requires-python"] == PYPROJECT["project"]["requires-python"]


def test_every_installed_package_has_its_locked_version() -> None:
    locked: dict[str, set[str]] = {}
    for package in LOCK["package"]:
        locked.setdefault(canonicalize_name(package["name"]), set()).add(package["version"])
    installed = {canonicalize_name(d.metadata["Name"]): d.version for d in metadata.distributions()}
    assert installed[PROJECT] == PYPROJECT["project"]["version"]
    wrong = {name: version for name, version in installed.items() if version not in locked.get(name, set())}
    assert not wrong, f"installed but not as uv.lock pins them (run `make build` or `uv sync --locked`): {wrong}"
    for requirement in PYPROJECT["project"]["dependencies"]:
        assert canonicalize_name(Requirement(requirement).name) in installed


def test_every_locked_file_has_a_checksum() -> None:
    for package in LOCK["package"]:
        for artifact in [*package.get("wheels", []), *([package["sdist"]] if "sdist" in package else [])]:
            assert artifact["hash"].startswith("sha256:"), package["name"]
