"""`train --stream`: the CSV is read in chunks on every epoch, with the same updates."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from backtrace_cli.cli.main import main
from backtrace_cli.data.reader import CsvStream, load_csv
from backtrace_cli.errors import DataError
from backtrace_cli.train.loop import Settings, build_problem, train

ROWS = [(0.1 * i, 3.0 * (0.1 * i) - 1.0 + (0.05 if i % 3 else -0.04)) for i in range(23)]


@pytest.fixture()
def csv_path(tmp_path):
    path = tmp_path / "line.csv"
    text = "x,y\n" + "".join(f"{x!r},{y!r}\n" for x, y in ROWS)
    path.write_text(text)
    return str(path)


def fit(source, batch_size, dtype="float64", optimizer="sgd", epochs=4):
    problem = build_problem("w*x + b", "mse", ("x", "y"), "y")
    settings = Settings(lr=0.05, epochs=epochs, batch_size=batch_size, dtype=dtype,
                        optimizer=optimizer)
    return train(problem, source, {"w": 1.0, "b": 1.0}, settings)


@pytest.mark.parametrize("batch_size", [1, 2, 5, 23])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_streamed_batches_are_the_in_memory_updates_bit_for_bit(csv_path, batch_size, dtype,
                                                                  optimizer):
    dataset = load_csv(csv_path)
    in_memory = fit({n: dataset.column(n) for n in ("x", "y")}, batch_size, dtype, optimizer)
    # Chunks of 4 rows: batches of 2 fit whole; batches of 5 get chunks of 5 rows.
    streamed = fit(CsvStream(csv_path, chunk_rows=4), batch_size, dtype, optimizer)
    assert streamed.params == in_memory.params
    assert [r.loss for r in streamed.history] == [r.loss for r in in_memory.history]
    assert streamed.updates == in_memory.updates


def test_streamed_full_batch_adds_up_its_chunks(csv_path):
    dataset = load_csv(csv_path)
    in_memory = fit({n: dataset.column(n) for n in ("x", "y")}, None)
    streamed = fit(CsvStream(csv_path, chunk_rows=4), None)
    assert streamed.updates == in_memory.updates == 4
    for name, value in in_memory.params.items():
        # The same gradient, summed chunk by chunk: equal up to the order of the additions.
        assert streamed.params[name] == pytest.approx(value, rel=1e-13)


def test_a_stream_counts_its_rows_and_names_its_columns(csv_path):
    stream = CsvStream(csv_path, chunk_rows=5)
    assert stream.rows == len(ROWS)
    assert stream.columns == ("x", "y")
    assert [len(chunk) for chunk in stream.chunks()] == [5, 5, 5, 5, 3]


def test_a_bad_cell_is_found_before_training_with_its_line(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("x,y\n1,2\n\n2,4\n" + "3,6\n" * 10 + "4,oops\n")
    with pytest.raises(DataError) as caught:
        CsvStream(str(path), chunk_rows=3)
    assert (caught.value.line, caught.value.column) == (15, 2)
    assert "'oops' is not a number" in caught.value.render()


def test_cli_stream_gives_the_same_json_as_in_memory(csv_path):
    runner = CliRunner()
    args = ["train", csv_path, "--model", "w*x + b", "--epochs", "3", "--format", "json"]
    streamed = runner.invoke(main, [*args, "--stream"])
    in_memory = runner.invoke(main, [*args, "--no-stream"])
    assert streamed.exit_code == in_memory.exit_code == 0
    one, two = json.loads(streamed.stdout), json.loads(in_memory.stdout)
    assert one["params"] == two["params"]
    assert one["history"] == two["history"]


def test_cli_stream_refuses_shuffle_and_the_built_in_data(csv_path):
    runner = CliRunner()
    shuffled = runner.invoke(main, ["train", csv_path, "--stream", "--shuffle"])
    assert shuffled.exit_code == 2
    assert "--shuffle needs all rows in memory" in shuffled.stderr
    built_in = runner.invoke(main, ["train", "--stream"])
    assert built_in.exit_code == 2
    assert "--stream reads a CSV file" in built_in.stderr


@pytest.mark.parametrize("mode", ["--stream", "--no-stream"])
def test_losses_whose_sum_overflows_are_divergence_with_valid_json(tmp_path, mode):
    """Each loss is finite (about 9e307) but their sum is not: exit 1, valid JSON, no inf."""
    path = tmp_path / "huge.csv"
    path.write_text("x,y\n0.0,8.98846567431158e+307\n0.0,8.988465674311579e+307\n")
    result = CliRunner().invoke(main, ["train", str(path), "--model", "w*(x*0)", "--loss",
                                       "mae", "--epochs", "1", "--format", "json", mode])
    assert result.exit_code == 1
    document = json.loads(result.stdout)  # strict JSON: no Infinity anywhere
    assert document["diverged"]["reason"] == (
        "the losses of the epoch add up to more than a float can hold")
    assert document["params"] == {"w": 1.0}
    assert "Infinity" not in result.stdout
