"""Problems in contributed sources, and the exception that carries them.

A problem names the file, the figure and the field so that a contributor can act
on it; the pipeline collects every problem it finds before it reports.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


def visible(text: str) -> str:
    """Text with every unprintable character (newline, control, zero-width) escaped, so a
    hostile file name or id can neither break a message across lines nor hide in it."""
    return text if text.isprintable() else "".join(c if c.isprintable() else ascii(c)[1:-1] for c in text)


@dataclass(frozen=True, order=True)
class SourceProblem:
    """One thing wrong with one source file."""

    file: str
    item: str | None  # the figure id (or metric id, entity name) the problem is in
    field: str | None
    message: str
    item_kind: str = "figure"

    def __str__(self) -> str:
        where = [visible(self.file)]
        if self.item is not None:
            where.append(f"{self.item_kind} '{visible(self.item)}'")
        if self.field is not None:
            where.append(f"field '{visible(self.field)}'")
        return f"{', '.join(where)}: {visible(self.message)}"


class SourceError(Exception):
    """Raised when sources have problems; carries all of them, sorted."""

    def __init__(self, problems: Iterable[SourceProblem]) -> None:
        self.problems = sorted(set(problems), key=_sort_key)
        files = len({p.file for p in self.problems})
        count = len(self.problems)
        header = f"{count} problem{'s' * (count != 1)} in {files} source file{'s' * (files != 1)}"
        super().__init__("\n".join([header, *(str(p) for p in self.problems)]))


def _sort_key(problem: SourceProblem) -> tuple[str, str, str, str]:
    return (problem.file, problem.item or "", problem.field or "", problem.message)


def raise_if_any(problems: Iterable[SourceProblem]) -> None:
    problems = list(problems)
    if problems:
        raise SourceError(problems)
