"""CSV loading: values, accepted variants, line-numbered errors, and fast/exact agreement."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from backtrace_cli.data import fast, stream, text
from backtrace_cli.data import reader as data
from backtrace_cli.data.fast import load_fast
from backtrace_cli.data.reader import Dataset, lecture_dataset, load_csv
from backtrace_cli.errors import DataError

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


def write(tmp_path: Path, content: str | bytes, name: str = "data.csv") -> str:
    path = tmp_path / name
    if isinstance(content, str):
        content = content.encode("utf-8")
    path.write_bytes(content)
    return str(path)


def load_error(path: str, delimiter: str = ",") -> DataError:
    with pytest.raises(DataError) as caught:
        load_csv(path, delimiter)
    return caught.value


# --- values and accepted variants -------------------------------------------------------


def test_loads_exact_values_in_file_order(tmp_path):
    path = write(tmp_path, "x,y\n1,2\n-1.5,2e-3\n.5,1.\n+4,1E+2\n0.1,-0\n")
    dataset = load_csv(path)
    assert dataset.path == path
    assert dataset.columns == ("x", "y")
    assert dataset.rows == 5
    assert dataset.values.dtype == numpy.float64
    assert dataset.values.flags.c_contiguous
    assert dataset.values.tolist() == [
        [1.0, 2.0],
        [-1.5, 0.002],
        [0.5, 1.0],
        [4.0, 100.0],
        [0.1, -0.0],
    ]


def test_values_round_trip_exactly(tmp_path):
    numbers = [0.1, 1 / 3, 2.5e-300, 1.7976931348623157e308, 5e-324, -123456.789]
    path = write(tmp_path, "x\n" + "".join(f"{number!r}\n" for number in numbers))
    assert load_csv(path).column("x").tolist() == numbers


def test_byte_order_mark_and_crlf(tmp_path):
    path = write(tmp_path, "\ufeffx,y\r\n1,2\r\n3,4\r\n")
    dataset = load_csv(path)
    assert dataset.columns == ("x", "y")
    assert dataset.values.tolist() == [[1.0, 2.0], [3.0, 4.0]]


def test_a_lone_carriage_return_ends_a_line_too(tmp_path):
    path = write(tmp_path, "x,y\r1,2\r3,abc\r")
    error = load_error(path)
    assert (error.line, error.column) == (3, 2)


def test_blank_lines_are_skipped_anywhere(tmp_path):
    path = write(tmp_path, "\n  \nx,y\n\n1,2\n \t \n\n3,4\n\n\n")
    assert load_csv(path).values.tolist() == [[1.0, 2.0], [3.0, 4.0]]


def test_quoted_numbers_and_header_names(tmp_path):
    path = write(tmp_path, '"x","y"\n"1.5","2"\n3,"-4e1"\n')
    dataset = load_csv(path)
    assert dataset.columns == ("x", "y")
    assert dataset.values.tolist() == [[1.5, 2.0], [3.0, -40.0]]


def test_spaces_around_cells_and_quotes(tmp_path):
    path = write(tmp_path, ' x , y \n 1 , 2 \n "3" , " 4 " \n')
    dataset = load_csv(path)
    assert dataset.columns == ("x", "y")
    assert dataset.values.tolist() == [[1.0, 2.0], [3.0, 4.0]]


@pytest.mark.parametrize("delimiter", [";", "\t", "|"])
def test_other_delimiters(tmp_path, delimiter):
    text = f"x{delimiter}y{delimiter}z\n1{delimiter}2{delimiter}3\n"
    path = write(tmp_path, text + f"4{delimiter} 5{delimiter}6\n")
    dataset = load_csv(path, delimiter=delimiter)
    assert dataset.columns == ("x", "y", "z")
    assert dataset.values.tolist() == [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]


def test_semicolon_file_read_with_comma_says_so(tmp_path):
    error = load_error(write(tmp_path, "x;y\n1;2\n"))
    assert (error.line, error.column) == (1, 1)
    assert error.hint == "the header looks separated by ';', not ','"


def test_single_column_and_single_row(tmp_path):
    dataset = load_csv(write(tmp_path, "x\n7\n"))
    assert dataset.values.shape == (1, 1)
    assert dataset.column("x").tolist() == [7.0]


def test_fast_path_is_taken_for_plain_and_plainly_quoted_files(tmp_path):
    plain = write(tmp_path, "x,y\n1,2\n\n3,4\n", "plain.csv")
    quoted = write(tmp_path, '"x","y"\n"1","2"\n', "quoted.csv")
    assert load_fast(plain, ",") == data.load_exact(plain, ",")
    assert load_fast(quoted, ",") == data.load_exact(quoted, ",")


@pytest.mark.parametrize(
    "body",
    [
        '"1"2,3\n',
        '"1,5",2\n',
        '"1""2",3\n',
        '"1" ,2\n1,2   \n',
        "1,2\n  \n",
        "1,nan\n",
        "1,1e400\n",
    ],
)
def test_fast_path_declines_what_it_cannot_vouch_for(tmp_path, body):
    assert load_fast(write(tmp_path, "x,y\n" + body), ",") is None


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_a_pipe_is_read_once(tmp_path):
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)

    def feed() -> None:
        with open(fifo, "w") as pipe:
            pipe.write("x,y\n1,2\n3,4\n")

    writer = threading.Thread(target=feed)
    writer.start()
    try:
        dataset = load_csv(str(fifo))
    finally:
        writer.join(timeout=5)
    assert dataset.values.tolist() == [[1.0, 2.0], [3.0, 4.0]]


def test_the_file_is_never_written(tmp_path):
    path = write(tmp_path, "x,y\n1,2\n")
    before = os.stat(path)
    load_csv(path)
    after = os.stat(path)
    assert (before.st_mtime_ns, before.st_size) == (after.st_mtime_ns, after.st_size)


# --- the dataset ------------------------------------------------------------------------


def test_lecture_dataset():
    dataset = lecture_dataset()
    assert dataset.path == "<lecture>"
    assert dataset.columns == ("x", "y")
    assert dataset.rows == 3
    assert dataset.column("x").tolist() == [1.0, 2.0, 3.0]
    assert dataset.column("y").tolist() == [2.0, 4.0, 6.0]


def test_lecture_sample_file_matches_the_built_in_data():
    sample = load_csv(str(SAMPLES / "lecture.csv"))
    assert sample.columns == lecture_dataset().columns
    assert numpy.array_equal(sample.values, lecture_dataset().values)


@pytest.mark.parametrize(
    ("name", "rows"),
    [("line.csv", 30), ("quadratic.csv", 30), ("classify.csv", 40), ("lecture.csv", 3)],
)
def test_sample_files_load(name, rows):
    dataset = load_csv(str(SAMPLES / name))
    assert dataset.columns == ("x", "y")
    assert dataset.rows == rows


def test_classify_sample_has_binary_labels():
    labels = load_csv(str(SAMPLES / "classify.csv")).column("y")
    assert set(labels.tolist()) == {0.0, 1.0}


def test_column_is_a_read_only_view():
    dataset = lecture_dataset()
    column = dataset.column("y")
    assert column.ndim == 1 and column.dtype == numpy.float64
    assert numpy.shares_memory(column, dataset.values)
    with pytest.raises(ValueError):
        column[0] = 99.0


def test_unknown_column_lists_the_columns_and_suggests_one():
    with pytest.raises(DataError) as caught:
        lecture_dataset().column("yy")
    error = caught.value
    assert error.message == "no column named 'yy'; the columns are: x, y"
    assert error.hint == "did you mean 'y'?"
    assert error.render() == (
        "<lecture>: no column named 'yy'; the columns are: x, y\n  hint: did you mean 'y'?"
    )


def test_unknown_column_differing_in_case():
    with pytest.raises(DataError) as caught:
        lecture_dataset().column("Y")
    assert caught.value.hint == "did you mean 'y'? (names are case-sensitive)"


def test_unknown_column_without_a_close_name_has_no_hint():
    with pytest.raises(DataError) as caught:
        lecture_dataset().column("temperature")
    assert caught.value.hint is None


def test_dataset_equality_and_repr():
    assert lecture_dataset() == lecture_dataset()
    assert lecture_dataset() != Dataset("<lecture>", ("x", "y"), numpy.zeros((3, 2)))
    assert repr(lecture_dataset()) == "Dataset(path='<lecture>', columns=('x', 'y'), rows=3)"


def test_dataset_does_not_freeze_the_callers_array():
    values = numpy.ones((2, 1))
    dataset = Dataset("<test>", ("x",), values)
    values[0, 0] = 5.0
    assert dataset.values.tolist() == [[1.0], [1.0]]


# --- errors in cells and rows -----------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "message", "hint"),
    [
        ("abc", "'abc' is not a number (column 'y')", None),
        ("nan", "'nan' is not allowed: values must be finite numbers (column 'y')", None),
        ("inf", "'inf' is not allowed: values must be finite numbers (column 'y')", None),
        (
            "-Infinity",
            "'-Infinity' is not allowed: values must be finite numbers (column 'y')",
            None,
        ),
        ("", "empty cell (column 'y')", "every row needs a number in every column"),
        ("0x1f", "'0x1f' is not a number (column 'y')", "hexadecimal numbers are not supported"),
        (
            "1_000",
            "'1_000' is not a number (column 'y')",
            "write numbers without '_' separators, e.g. 1000",
        ),
        ('"1,5"', "'1,5' is not a number (column 'y')", "use '.' as the decimal point"),
        ("١", "'١' is not a number (column 'y')", "write numbers with the ASCII digits 0-9"),
        ("1.2.3", "'1.2.3' is not a number (column 'y')", None),
        ("1e", "'1e' is not a number (column 'y')", None),
        ("--1", "'--1' is not a number (column 'y')", None),
        ("1 2", "'1 2' is not a number (column 'y')", None),
        ("1e400", "'1e400' is out of range: it overflows a 64-bit float (column 'y')", None),
    ],
)
def test_bad_cell_names_the_physical_line_and_column(tmp_path, cell, message, hint):
    # Blank lines count: the bad row is physical line 7, after 4 good or blank lines.
    path = write(tmp_path, f"\nx,y\n1,2\n\n   \n3,4\n5,{cell}\n6,7\n")
    error = load_error(path)
    assert (error.path, error.line, error.column) == (path, 7, 2)
    assert error.message == message
    if hint is not None:
        assert error.hint == hint
    assert error.render().startswith(f"{path}, line 7, column 2: {message}")


def test_render_of_a_bad_cell(tmp_path):
    path = write(tmp_path, "x,y\n1,2\n\n3,4\n5,abc\n")
    error = load_error(path)
    assert (error.line, error.column) == (5, 2)
    assert error.render() == f"{path}, line 5, column 2: 'abc' is not a number (column 'y')"


def test_an_overflow_above_a_later_defect_is_reported_first(tmp_path):
    # Found by the property test: plain rows are checked for overflow after reading.
    error = load_error(write(tmp_path, "x,y\n1,2\n1e400,2\n\n3,nan\n"))
    assert (error.line, error.column) == (3, 1)
    assert error.message == "'1e400' is out of range: it overflows a 64-bit float (column 'x')"


def test_first_bad_cell_in_a_row_wins(tmp_path):
    error = load_error(write(tmp_path, "a,b,c\n1,x,y\n"))
    assert (error.line, error.column) == (2, 2)


def test_ragged_rows(tmp_path):
    path = write(tmp_path, "x,y\n1,2\n\n\n3,4\n\n5,6,7\n")
    error = load_error(path)
    assert (error.line, error.column) == (7, None)
    assert error.message == "expected 2 fields, found 3 (a ragged row)"
    assert error.render() == (
        f"{path}, line 7: expected 2 fields, found 3 (a ragged row)\n"
        "  hint: the header has 2 columns: x, y"
    )


def test_short_row_and_a_trailing_delimiter(tmp_path):
    short = load_error(write(tmp_path, "x,y\n1\n", "short.csv"))
    assert (short.line, short.message) == (2, "expected 2 fields, found 1 (a ragged row)")
    trailing = load_error(write(tmp_path, "x,y\n1,2,\n", "trailing.csv"))
    assert (trailing.line, trailing.message) == (2, "expected 2 fields, found 3 (a ragged row)")


def test_row_with_another_delimiter_gets_a_hint(tmp_path):
    error = load_error(write(tmp_path, "x,y\n1;2\n"))
    assert error.hint == "the header has 2 columns: x, y; this row looks separated by ';'"


def test_crlf_errors_count_lines_like_an_editor(tmp_path):
    error = load_error(write(tmp_path, "x,y\r\n1,2\r\n\r\n3,oops\r\n"))
    assert (error.line, error.column) == (4, 2)
    assert error.message == "'oops' is not a number (column 'y')"


def test_tab_delimited_error_column(tmp_path):
    error = load_error(write(tmp_path, "x\ty\tz\n1\t2\t3\n4\t5\tsix\n"), delimiter="\t")
    assert (error.line, error.column) == (3, 3)
    assert error.message == "'six' is not a number (column 'z')"


def test_bad_quoting(tmp_path):
    unclosed = load_error(write(tmp_path, 'x,y\n1,"2\n', "unclosed.csv"))
    assert (unclosed.line, unclosed.column) == (2, 2)
    assert unclosed.message == "a quoted field is not closed"
    trailing = load_error(write(tmp_path, 'x,y\n"1"2,3\n', "trailing.csv"))
    assert (trailing.line, trailing.column) == (2, 1)
    assert trailing.message == "unexpected text after a closing quote"


# --- errors in the header ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "column", "message"),
    [
        ("x,,y", 2, "a header name is empty"),
        ("x,, ", 2, "a header name is empty"),  # one empty last cell is allowed, not two
        ("x,2y", 2, "header name '2y' is not a valid name"),
        ("x,my col", 2, "header name 'my col' is not a valid name"),
        ("x,y-1", 2, "header name 'y-1' is not a valid name"),
        ("x,é", 2, "header name 'é' is not a valid name"),
        ("x,y,x", 3, "header name 'x' is used twice (also column 1)"),
        ('"x","",""', 2, "a header name is empty"),
    ],
)
def test_bad_header(tmp_path, header, column, message):
    path = write(tmp_path, f"\n\n{header}\n1,2,3\n")
    error = load_error(path)
    assert (error.line, error.column, error.message) == (3, column, message)
    assert error.render().startswith(f"{path}, line 3, column {column}: {message}")


def test_numbers_where_the_header_should_be(tmp_path):
    error = load_error(write(tmp_path, "1,2\n3,4\n"))
    assert (error.line, error.column) == (1, 1)
    assert error.hint == "the first non-blank line must be a header of names, such as 'x,y'"


def test_quoted_header_names_are_accepted(tmp_path):
    assert load_csv(write(tmp_path, '"x_1", "_y2"\n1,2\n')).columns == ("x_1", "_y2")


# --- errors about the file and the delimiter --------------------------------------------


def test_missing_file_suggests_a_close_name(tmp_path):
    write(tmp_path, "x,y\n1,2\n", "line.csv")
    missing = str(tmp_path / "lines.csv")
    error = load_error(missing)
    assert (error.message, error.path, error.line) == ("no such file", missing, None)
    assert error.hint == "did you mean 'line.csv'?"
    assert error.render() == f"{missing}: no such file\n  hint: did you mean 'line.csv'?"


def test_a_directory(tmp_path):
    error = load_error(str(tmp_path))
    assert error.message == "this is a directory, not a CSV file"


def test_unreadable_file(tmp_path, monkeypatch):
    path = write(tmp_path, "x,y\n1,2\n")

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    for module in (text, fast, stream):  # every module of data/ that opens the file
        monkeypatch.setattr(module, "open", refuse, raising=False)
    error = load_error(path)
    assert error.message == "permission denied: the file cannot be read"


def test_not_utf8_names_the_line(tmp_path):
    path = write(tmp_path, b"x,y\r\n1,2\r\n\r\n3,\xe94\r\n")
    error = load_error(path)
    assert (error.line, error.column) == (4, None)
    assert error.message == "the file is not UTF-8 text: byte 0xe9 cannot be decoded"
    assert error.render().startswith(f"{path}, line 4: the file is not UTF-8 text")


@pytest.mark.parametrize("content", [b"", b"\xef\xbb\xbf"])
def test_empty_file(tmp_path, content):
    path = write(tmp_path, content)
    error = load_error(path)
    assert error.message == "the file is empty"
    assert error.render() == f"{path}: the file is empty"


def test_file_of_blank_lines(tmp_path):
    error = load_error(write(tmp_path, "\n  \r\n\t\n"))
    assert error.message.startswith("the file is empty")


def test_header_without_data_rows(tmp_path):
    error = load_error(write(tmp_path, "\nx,y\n\n  \n"))
    assert error.line == 2
    assert error.message.startswith("no data rows")


@pytest.mark.parametrize("delimiter", ["", ";;", "\t\t"])
def test_delimiter_must_be_one_character(tmp_path, delimiter):
    error = load_error(write(tmp_path, "x,y\n1,2\n"), delimiter=delimiter)
    assert error.message == f"the delimiter must be a single character, got {delimiter!r}"


@pytest.mark.parametrize("delimiter", ['"', ".", "-", "1", "e", "\n"])
def test_delimiter_that_cannot_separate_numbers(tmp_path, delimiter):
    error = load_error(write(tmp_path, "x,y\n1,2\n"), delimiter=delimiter)
    assert error.message.startswith(f"{delimiter!r} cannot be the delimiter")


def test_delimiter_is_checked_before_the_file(tmp_path):
    error = load_error(str(tmp_path / "missing.csv"), delimiter=";;")
    assert error.message.startswith("the delimiter must be")


# --- properties: the fast path agrees with the exact one --------------------------------
# The example counts follow the Hypothesis profile in conftest.py (HYPOTHESIS_PROFILE=long
# for a longer search).

VALID_CELLS = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.integers(-(10**6), 10**6).map(str),
    st.sampled_from([".5", "1.", "+4", "-0", "2E-3", "007", "1e+05", "-.25e1"]),
)
# Weighted towards what the fast path reads, so both paths get exercised.
BLANK_LINES = st.sampled_from(["", "", "", "  ", "\t"])
CELL_FORMATS = st.sampled_from(["{}", "{}", "{}", "{}", '"{}"', " {} ", ' "{}"'])
DEFECTS = st.sampled_from(
    ["", "nan", "-inf", "Infinity", "abc", "1_000", "0x1f", "1e400", "1.2.3", "--1", "1e", "١"]
)


@st.composite
def csv_files(draw):
    """A CSV text with a known outcome: the values, or the first bad line and column."""
    delimiter = draw(st.sampled_from([",", ";", "\t"]))
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    width = draw(st.integers(1, 3))
    columns = ("x", "y", "z")[:width]
    lines = draw(st.lists(BLANK_LINES, max_size=2))
    lines.append(delimiter.join(columns))
    values: list[list[float]] = []
    expected_error = None
    for _ in range(draw(st.integers(0, 6))):
        lines.extend(draw(st.lists(BLANK_LINES, max_size=1)))
        count = width if draw(st.integers(0, 9)) else draw(st.integers(1, 4))
        cells, row, bad_column = [], [], None
        for index in range(count):
            if draw(st.integers(0, 15)):
                text = draw(VALID_CELLS)
                row.append(float(text))
                text = draw(CELL_FORMATS).format(text)
            else:
                text = draw(DEFECTS)
                bad_column = index + 1 if bad_column is None else bad_column
            cells.append(text)
        line = delimiter.join(cells)
        if not line.strip():
            lines.append(line)  # a lone empty cell is a blank line: skipped
            continue
        lines.append(line)
        if expected_error is None:
            if count != width:
                expected_error = (len(lines), None)
            elif bad_column is not None:
                expected_error = (len(lines), bad_column)
            else:
                values.append(row)
    text = newline.join(lines) + draw(st.sampled_from(["", newline]))
    if expected_error is None and not values:
        expected_error = "no data rows"
    return text, delimiter, columns, values, expected_error


@settings(max_examples=3 * settings.default.max_examples)
@given(case=csv_files())
def test_property_known_outcome_and_paths_agree(tmp_path_factory, case):
    text, delimiter, columns, values, expected_error = case
    path = write(tmp_path_factory.mktemp("prop"), text)
    fast = load_fast(path, delimiter)
    try:
        exact = data.load_exact(path, delimiter)
    except DataError as error:
        event("rejected")
        assert fast is None, "the fast path accepted a file the exact path rejects"
        assert expected_error is not None
        if expected_error == "no data rows":
            assert error.message.startswith("no data rows")
        else:
            assert (error.line, error.column) == expected_error
        assert load_error(path, delimiter).render() == error.render()
        return
    event("loaded by the fast path" if fast is not None else "loaded by the exact path")
    assert expected_error is None
    assert exact.columns == columns
    assert exact.values.tolist() == values
    assert fast is None or fast == exact
    assert load_csv(path, delimiter) == exact


# Pieces of numbers, separators, quotes, line breaks and odd whitespace, glued at random.
TRICKY = st.sampled_from(
    '1|2.5|-3|+|-|.|e|E|_|nan|inf|0x1|1e400| |\t|"|,|;|\n|\r|\r\n'
    "|\x0b|\x0c|\x1c|\x85|\xa0|\u2028|\ufeff|\x00|\u0661|a|#".split("|")
)


@st.composite
def tricky_files(draw):
    """Mostly rows of numbers, with pieces of TRICKY now and then in cells and line ends."""
    delimiter = draw(st.sampled_from([",", ";", "\t", " "]))
    header = draw(st.sampled_from(["x", "x,y", '"x","y"', "\ufeffx,y", "\n x ,y", "x;y"]))
    parts = [header.replace(",", delimiter), "\n"]
    pieces = st.lists(TRICKY, min_size=1, max_size=3).map("".join)
    for _ in range(draw(st.integers(0, 5))):
        width = header.count(",") + 1 if draw(st.integers(0, 7)) else draw(st.integers(1, 3))
        for index in range(width):
            parts.append(draw(pieces if draw(st.integers(0, 7)) == 0 else VALID_CELLS))
            parts.append(delimiter if index < width - 1 else "")
        newlines = st.sampled_from(["\n", "\r\n"])
        parts.append(draw(pieces if draw(st.integers(0, 7)) == 0 else newlines))
    return "".join(parts), delimiter


@settings(max_examples=5 * settings.default.max_examples)
@given(case=tricky_files())
def test_property_fast_path_never_accepts_what_the_exact_path_rejects(tmp_path_factory, case):
    text, delimiter = case
    path = write(tmp_path_factory.mktemp("tricky"), text)
    fast = load_fast(path, delimiter)
    event("fast path declined" if fast is None else "fast path accepted")
    if fast is None:
        return
    assert data.load_exact(path, delimiter) == fast
