"""The arlens exception hierarchy.

Every error a user can cause derives from :class:`ArlensError`, so an application can catch
one type; each subclass says which boundary rejected the input. Messages follow the form
"expected X, got Y" and name the file, field or argument at fault.
"""

from __future__ import annotations

from dataclasses import dataclass


class ArlensError(Exception):
    """Base class of every error raised by arlens on purpose."""


class InputError(ArlensError, ValueError):
    """An argument or image does not meet the documented contract (also a ``ValueError``)."""


class ImageTooLargeError(InputError):
    """An encoded image whose header declares more pixels than allowed; refused before decoding.

    Attributes:
        pixels: width * height as declared by the file's header.
        limit: the largest number of pixels that was allowed.
    """

    def __init__(self, message: str, pixels: int, limit: int) -> None:
        super().__init__(message)
        self.pixels = pixels
        self.limit = limit


class ModelError(ArlensError):
    """A model file is missing, corrupt, or does not match ``models/manifest.json``."""


class RuntimeUnavailableError(ArlensError):
    """A requested runtime (GPU provider, GL context) cannot be created on this machine."""


@dataclass(frozen=True)
class Problem:
    """One located problem in an input file: where it is and what is wrong with it."""

    source: str
    line: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = self.source
        if self.line is not None:
            where += f":{self.line}"
        if self.column:
            where += f" [{self.column}]"
        return f"{where}: {self.message}"


class ProblemsError(ArlensError, ValueError):
    """An input with one or more located problems; ``problems`` holds every one of them."""

    def __init__(self, summary: str, problems: list[Problem] | tuple[Problem, ...]):
        self.problems: tuple[Problem, ...] = tuple(problems)
        lines = [f"{summary} ({len(self.problems)} problem{'s' if len(self.problems) != 1 else ''})"]
        lines += [f"  {p}" for p in self.problems]
        super().__init__("\n".join(lines))


class CatalogError(ProblemsError):
    """A catalog feed or product could not be read; carries every located problem."""


class BundleError(ProblemsError):
    """A lens bundle is malformed or unsafe; carries every located problem."""


class AssetError(ArlensError, ValueError):
    """A 3D asset (eyewear mesh) cannot be used: no geometry, absurd size, over budget."""
