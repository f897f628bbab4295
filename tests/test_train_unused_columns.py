"""Training reads only the columns it uses: the model's inputs and the target. A column the
model does not use (an id, a name, a date) may hold any text, at any position of the header,
on every path that reads data: the fast reader and the exact one, ``--stream``, mini-batches
and full batches, float32, every optimizer, ``--shuffle``, standard input, and the Python
API's CSV path, mapping and table. Each run must equal the run on the same data without that
column (the same JSON, byte for byte, but the file's name), so nothing is pinned that the
column could not change. A bad cell in a column that *is* used is still refused, with its
line and column.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import assert_bad_input, invoke

ROWS = [(1, 0.5, 3, 0), (2, -1, 5, 1), (3, 0.25, 7, 1), (4, 2, 9, 0), (-1, 1, -1, 1)]
TEXTS = ["a", "Smith, John", "", "2024-01-05", 'say "hi"']  # a comma, an empty cell, quotes

MODELS = [
    pytest.param(("x*w + b", "--predict", "2"), id="linear"),
    pytest.param(("tanh(x*w + x2*v) + b", "--param", "v=0.5", "--predict", "x=2,x2=1"),
                 id="two-inputs"),
    pytest.param(("sigmoid(x*w + b)", "--target", "label", "--loss", "bce"), id="bce"),
]
PATHS = [
    pytest.param((), id="in-memory"),
    pytest.param(("--stream",), id="stream"),
    pytest.param(("--batch-size", "2"), id="batch-2"),
    pytest.param(("--batch-size", "full"), id="full-batch"),
    pytest.param(("--batch-size", "2", "--stream"), id="batch-stream"),
    pytest.param(("--dtype", "float32"), id="float32"),
    pytest.param(("--dtype", "float32", "--stream"), id="float32-stream"),
    pytest.param(("--optimizer", "adam"), id="adam"),
    pytest.param(("--optimizer", "momentum", "--shuffle"), id="momentum-shuffle"),
]


def _cell(text: str) -> str:
    return '"' + text.replace('"', '""') + '"' if any(c in text for c in ',"') else text


def write_csv(folder: Path, name: str, text_at: int | None, quoted: bool = True) -> str:
    """The rows as x,x2,y,label, with a text column ``id`` inserted at ``text_at`` (None:
    no text column). ``quoted=False`` leaves out the texts that need quotes (the fast
    reader reads those files; quotes send a file to the exact reader)."""
    header = ["x", "x2", "y", "label"]
    lines = []
    for number, row in enumerate(ROWS):
        cells = [repr(float(value)) for value in row]
        if text_at is not None:
            text = TEXTS[number] if quoted else TEXTS[number].replace(",", "").replace('"', "")
            cells.insert(text_at, _cell(text))
        lines.append(",".join(cells))
    if text_at is not None:
        header.insert(text_at, "id")
    path = folder / name
    path.write_text(",".join(header) + "\n" + "\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def train_json(*args: str, stdin: str | None = None) -> dict:
    from click.testing import CliRunner

    from backtrace_cli.cli.main import main

    result = CliRunner().invoke(main, ["train", *args, "--epochs", "3", "--lr", "0.05",
                                       "--format", "json"], input=stdin)
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    document["data"].pop("path")
    return document


def model_args(model: tuple) -> list[str]:
    return ["--model", model[0], *model[1:]]


@pytest.mark.parametrize("text_at", [0, 2, 4], ids=["first", "middle", "last"])
@pytest.mark.parametrize("path_options", PATHS)
@pytest.mark.parametrize("model", MODELS)
def test_an_unused_text_column_changes_nothing(tmp_path, model, path_options, text_at):
    plain = write_csv(tmp_path, "plain.csv", None)
    expected = train_json(plain, *model_args(model), *path_options)
    for quoted in (True, False):
        with_text = write_csv(tmp_path, f"text-{quoted}.csv", text_at, quoted)
        document = train_json(with_text, *model_args(model), *path_options)
        assert document == expected


def test_the_fast_and_the_exact_reader_both_skip_the_text(tmp_path):
    from backtrace_cli.data import reader

    quoted = write_csv(tmp_path, "quoted.csv", 1, quoted=True)
    plain = write_csv(tmp_path, "plain.csv", 1, quoted=False)
    used = ("x", "x2", "y")
    assert reader.load_fast(quoted, ",", used) is None  # quotes: the exact reader reads it
    assert reader.load_fast(plain, ",", used) is not None  # the fast reader reads this one


def test_standard_input_with_a_text_column(tmp_path):
    plain = write_csv(tmp_path, "plain.csv", None)
    with_text = Path(write_csv(tmp_path, "text.csv", 3)).read_text(encoding="utf-8")
    expected = train_json(plain, "--model", "x*w + b")
    assert train_json("-", "--model", "x*w + b", stdin=with_text) == expected


def test_only_the_used_columns_are_listed_and_the_header_still_warns(tmp_path):
    path = write_csv(tmp_path, "text.csv", 2)
    document = train_json(path, "--model", "x*w + ID")
    assert document["data"]["columns"] == ["x", "y"]
    # A parameter spelt like the unused column is still most likely a typo.
    assert document["warnings"] == [
        "'ID' is not a column of the data, so it is trained as a parameter; did you mean the "
        "column 'id'? (names are case-sensitive)"]


@pytest.mark.parametrize("stream", [(), ("--stream",)], ids=["in-memory", "stream"])
def test_a_text_cell_in_a_used_column_is_still_refused(tmp_path, stream):
    path = tmp_path / "bad.csv"
    path.write_text("x,y,id\n1,3,a\n2,five,b\n", encoding="utf-8")
    assert_bad_input(invoke("train", str(path), *stream),
                     f"{path}, line 3, column 2: 'five' is not a number (column 'y')")


def test_a_text_cell_in_the_target_column_is_refused_when_it_is_the_target(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text("x,y,id\n1,3,a\n2,5,b\n", encoding="utf-8")
    assert_bad_input(invoke("train", str(path), "--target", "id"),
                     f"{path}, line 2, column 3: 'a' is not a number (column 'id')")


# --- the Python API ---------------------------------------------------------------------
def _api_params(data) -> dict:
    from backtrace_cli.api.train import fit

    return fit("x*w + b", data, epochs=3, lr=0.05).params


def test_the_api_skips_an_unused_text_column_in_every_kind_of_data(tmp_path):
    numbers = {"x": [1.0, 2.0, 3.0], "y": [3.0, 5.0, 7.0]}
    expected = _api_params(numbers)
    assert _api_params({"id": ["a", "b", "c"], **numbers}) == expected
    assert _api_params({**numbers, "when": [None, object(), "x"]}) == expected

    class Table:  # pandas-like: .columns and table[name]
        columns = ("x", "name", "y")

        def __getitem__(self, name):
            return {"name": ["p", "q", "r"], **numbers}[name]

    assert _api_params(Table()) == expected
    path = tmp_path / "data.csv"
    path.write_text("x,id,y\n1,a,3\n2,b,5\n3,c,7\n", encoding="utf-8")
    assert _api_params(str(path)) == expected


def test_the_api_still_checks_the_length_of_an_unused_column():
    from backtrace_cli.errors import DataError

    with pytest.raises(DataError) as caught:
        _api_params({"x": [1.0, 2.0], "y": [3.0, 5.0], "id": ["a"]})
    assert caught.value.message == "column 'id' has 1 values where the first column has 2"
