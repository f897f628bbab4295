"""The Dataset: named columns of finite float64 values, read from a CSV file or built in."""

from __future__ import annotations

from dataclasses import dataclass

import numpy

from backtrace_cli.errors import DataError, did_you_mean
from backtrace_cli.i18n import _

LECTURE_PATH = "<lecture>"


@dataclass(frozen=True, eq=False)
class Dataset:
    """Named columns of finite float64 values read from a CSV file (or the lecture's data).

    ``values`` is read-only, C-contiguous, shape ``(rows, len(columns))``. ``header`` is every
    name of the file's header, also those of columns not read (``load_csv(columns=...)``);
    it defaults to ``columns``.
    """

    path: str
    columns: tuple[str, ...]
    values: numpy.ndarray
    header: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        values = numpy.ascontiguousarray(self.values, dtype=numpy.float64)
        if len(values.shape) != 2 or values.shape[1] != len(self.columns):
            raise ValueError(
                f"values of shape {values.shape} do not fit {len(self.columns)} columns"
            )
        if values is self.values and values.flags.writeable:
            values = values.copy()  # never freeze an array the caller may still change
        values.flags.writeable = False
        object.__setattr__(self, "columns", tuple(self.columns))
        object.__setattr__(self, "header", tuple(self.header) or self.columns)
        object.__setattr__(self, "values", values)

    @property
    def rows(self) -> int:
        """The number of data rows."""
        return int(self.values.shape[0])

    def column(self, name: str) -> numpy.ndarray:
        """The values of one column as a read-only 1-D float64 view."""
        if name not in self.columns:
            listed = ", ".join(self.columns)
            raise DataError(
                _("no column named {name!r}; the columns are: {listed}").format(
                    name=name, listed=listed
                ),
                path=self.path,
                hint=_column_hint(name, self.columns),
            )
        return self.values[:, self.columns.index(name)]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Dataset):
            return NotImplemented
        return (
            self.path == other.path
            and self.columns == other.columns
            and self.header == other.header
            and numpy.array_equal(self.values, other.values)
        )

    def __repr__(self) -> str:
        return f"Dataset(path={self.path!r}, columns={self.columns!r}, rows={self.rows})"


def _column_hint(name: str, columns: tuple[str, ...]) -> str | None:
    same_but_case = [column for column in columns if column.lower() == name.lower()]
    if same_but_case:
        return f"did you mean '{same_but_case[0]}'? (names are case-sensitive)"
    return did_you_mean(name, columns)


def lecture_dataset() -> Dataset:
    """The lecture's three points: x = 1, 2, 3 and y = 2, 4, 6 (so y = 2x)."""
    values = numpy.array([[1.0, 2.0], [2.0, 4.0], [3.0, 6.0]])
    return _frozen_dataset(LECTURE_PATH, ("x", "y"), values)


def _frozen_dataset(
    path: str, columns: tuple[str, ...], values: numpy.ndarray, header: tuple[str, ...] = ()
) -> Dataset:
    """A Dataset that adopts ``values`` (freshly made here) without copying it."""
    values = numpy.ascontiguousarray(values, dtype=numpy.float64)
    values.flags.writeable = False
    return Dataset(path, columns, values, header)

