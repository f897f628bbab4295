"""Which CSV columns are read: only those the model and the target use are parsed and checked
(``load_csv(columns=...)``, also on the fast path and in ``CsvStream``); a column not read may
hold any text; an empty last header cell (``x,y,``) is no column, and the rows' matching empty
last cell is accepted. Bad cells in the columns read are still reported with line and column.
"""

from __future__ import annotations

from pathlib import Path

import numpy
import pytest

from backtrace_cli.data import reader
from backtrace_cli.data.fast import load_fast
from backtrace_cli.data.reader import CsvStream, load_csv
from backtrace_cli.errors import DataError

USED = ("x", "y")
WITH_IDS = "x,y,id\n1,2,a\n3,4,b-7\n5,6,\n"


def write(tmp_path: Path, content: str, name: str = "data.csv") -> str:
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8"))
    return str(path)


def every_reader(path: str, columns=USED, delimiter: str = ","):
    """The same file through the exact path, load_csv (fast path first) and the stream."""
    exact = reader.load_exact(path, delimiter, columns)
    loaded = load_csv(path, delimiter, columns=columns)
    stream = CsvStream(path, delimiter, chunk_rows=2, columns=columns)
    streamed = numpy.concatenate(list(stream.chunks()))
    return exact, loaded, stream, streamed


def error_of(path: str, columns=USED, stream: bool = False) -> DataError:
    with pytest.raises(DataError) as caught:
        if stream:
            CsvStream(path, chunk_rows=2, columns=columns)
        else:
            load_csv(path, columns=columns)
    return caught.value


# --- an unused text column ------------------------------------------------------------------
def test_an_unused_text_column_is_not_read(tmp_path):
    path = write(tmp_path, WITH_IDS)
    exact, loaded, stream, streamed = every_reader(path)
    assert exact == loaded
    assert loaded.columns == ("x", "y") and loaded.header == ("x", "y", "id")
    assert loaded.values.tolist() == [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]
    assert (stream.columns, stream.header, stream.rows) == (("x", "y"), ("x", "y", "id"), 3)
    assert streamed.tolist() == loaded.values.tolist()


def test_the_fast_path_reads_only_the_used_columns(tmp_path):
    path = write(tmp_path, WITH_IDS)
    fast = load_fast(path, ",", USED)
    assert fast is not None and fast.values.tolist() == [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]


def test_the_columns_keep_the_files_order_and_may_skip_a_middle_one(tmp_path):
    path = write(tmp_path, "id,y,note,x\nA,2,n/a,1\nB,4,,3\n")
    exact, loaded, _, streamed = every_reader(path, columns=("x", "y"))
    assert exact == loaded and loaded.columns == ("y", "x")
    assert loaded.column("x").tolist() == [1.0, 3.0]
    assert streamed.tolist() == [[2.0, 1.0], [4.0, 3.0]]


def test_a_function_chooses_the_columns_from_the_header(tmp_path):
    path = write(tmp_path, WITH_IDS)
    seen = []

    def choose(header):
        seen.append(header)
        return [name for name in header if name != "id"]

    dataset = load_csv(path, columns=choose)
    assert dataset.columns == ("x", "y")
    assert seen[0] == ("x", "y", "id")


def test_quoted_text_in_an_unused_column(tmp_path):
    path = write(tmp_path, 'x,y,name\n1,2,"Smith, John"\n3,4,"say ""hi"""\n')
    assert load_fast(path, ",", USED) is None  # quotes: the exact path decides
    exact, loaded, _, streamed = every_reader(path)
    assert loaded.values.tolist() == [[1.0, 2.0], [3.0, 4.0]] == streamed.tolist()


def test_without_columns_every_column_is_still_read_and_checked(tmp_path):
    path = write(tmp_path, WITH_IDS)
    error = error_of(path, columns=None)
    assert (error.line, error.column) == (2, 3)
    assert error.message == "'a' is not a number (column 'id')"


@pytest.mark.parametrize("stream", [False, True], ids=["load_csv", "stream"])
def test_a_bad_cell_in_a_used_column_names_line_and_column(tmp_path, stream):
    path = write(tmp_path, "x,y,id\n1,2,a\n3,oops,b\n")
    error = error_of(path, stream=stream)
    assert (error.line, error.column) == (3, 2)
    assert error.message == "'oops' is not a number (column 'y')"


@pytest.mark.parametrize("stream", [False, True], ids=["load_csv", "stream"])
def test_a_ragged_row_is_refused_even_when_its_missing_cell_is_unused(tmp_path, stream):
    path = write(tmp_path, "x,y,id\n1,2,a\n3,4\n")
    if not stream:
        assert load_fast(path, ",", USED) is None
    error = error_of(path, stream=stream)
    assert (error.line, error.column) == (3, None)
    assert error.message == "expected 3 fields, found 2 (a ragged row)"


def test_a_column_not_in_the_header_is_named(tmp_path):
    path = write(tmp_path, WITH_IDS)
    error = error_of(path, columns=("x", "Y"))
    assert error.message == "no column named 'Y'; the columns are: x, y, id"
    assert error.hint == "did you mean 'y'? (names are case-sensitive)"


# --- an empty last header cell ------------------------------------------------------------
@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["lf", "crlf"])
def test_a_trailing_delimiter_in_the_header_and_rows_is_accepted(tmp_path, newline):
    path = write(tmp_path, newline.join(["x,y,", "1,2,", "3,4,", ""]))
    exact, loaded, stream, streamed = every_reader(path, columns=None)
    assert exact == loaded and loaded.columns == ("x", "y") == loaded.header
    assert loaded.values.tolist() == [[1.0, 2.0], [3.0, 4.0]] == streamed.tolist()
    assert load_fast(path, ",") == loaded  # the fast path vouches for it too


def test_a_trailing_cell_with_spaces_is_empty_too(tmp_path):
    path = write(tmp_path, "x,y,\n1,2, \n3,4,\n")
    assert load_csv(path).values.tolist() == [[1.0, 2.0], [3.0, 4.0]]


@pytest.mark.parametrize("stream", [False, True], ids=["load_csv", "stream"])
def test_a_value_under_the_empty_header_cell_is_refused(tmp_path, stream):
    path = write(tmp_path, "x,y,\n1,2,\n3,4,5\n")
    error = error_of(path, columns=None, stream=stream)
    assert (error.line, error.column) == (3, 3)
    assert error.message == "'5' is in the last field, which has no header name"


def test_a_row_without_the_trailing_cell_is_ragged(tmp_path):
    path = write(tmp_path, "x,y,\n1,2,\n3,4\n")
    error = error_of(path, columns=None)
    assert error.message == "expected 3 fields, found 2 (a ragged row)"
    assert error.hint == (
        "the header has 2 columns: x, y (and an empty last cell, so 3 fields a line)"
    )


def test_an_unused_column_and_a_trailing_cell_together(tmp_path):
    path = write(tmp_path, "x,id,y,\n1,a,2,\n3,b,4,\n")
    exact, loaded, _, streamed = every_reader(path)
    assert loaded.values.tolist() == [[1.0, 2.0], [3.0, 4.0]] == streamed.tolist()
    assert loaded.header == ("x", "id", "y")
    assert load_fast(path, ",", USED) == loaded
