"""Errors of CEDARS files: values that name the file, the line and the element."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CedarsError:
    """One problem in a drop. ``line`` is 1-based; None for problems of a whole file or drop.

    ``element`` is the label ``B09 BirthDate`` or None when the problem is not one element's.
    """

    file: str
    line: int | None
    element: str | None
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f" line {self.line}"
        if self.element is not None:
            return f"{where}, {self.element}: {self.message}"
        return f"{where}: {self.message}"


class CedarsWriteError(ValueError):
    """A record could not be written without producing a value the reader would reject."""

    def __init__(self, error: CedarsError) -> None:
        super().__init__(str(error))
        self.error = error
