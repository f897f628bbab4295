"""What users type: '-' for stdin and stdout on every input and output, finished runs that
survive a file that cannot be written, warnings for runs that finished but look wrong, the
explained step in JSON, bce outside (0, 1), BOMs, and graph formats that must agree."""

from __future__ import annotations

import io
import json
import os

import pytest
from click.testing import CliRunner
from helpers import invoke as run

from backtrace_cli.cli.main import main
from backtrace_cli.errors import OutputError
from backtrace_cli.files import read_text, write_output

LECTURE_CSV = "x,y\n1,2\n2,4\n3,6\n"


@pytest.fixture(autouse=True)
def plain_environment(monkeypatch):
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "COLUMNS", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)


# ----------------------------------------------------------------------------- '-' as stdin
def test_a_csv_from_stdin():
    result = run("train", "-", "--epochs", "100", "--format", "json", input=LECTURE_CSV)
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["params"] == {"w": 1.9999999999999236}
    assert document["data"]["rows"] == 3


def test_init_from_stdin():
    result = run("train", "--init", "-", "--epochs", "1", "--format", "json",
                 input='{"params": {"w": 0.5}}')
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["initial"] == {"w": 0.5}


def test_csv_and_init_cannot_both_come_from_stdin():
    result = run("train", "-", "--init", "-", input=LECTURE_CSV)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("Error: --init -: standard input is read once")


# ----------------------------------------------------------------------------- '-' as stdout
def test_save_to_stdout_moves_the_report_to_stderr():
    result = run("train", "--epochs", "1", "--save", "-")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == {"model": "x*w", "loss": "mse", "dtype": "float64",
                                         "params": {"w": 1.260688}}
    assert "Parameters" in result.stderr


def test_plot_to_stdout_is_an_svg():
    result = run("train", "--epochs", "3", "--plot", "-", "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("<svg ")
    assert json.loads(result.stderr)["params"]["w"] == 1.5959051959019805


def test_two_outputs_cannot_share_stdout():
    result = run("train", "--save", "-", "--plot", "-")
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr == ("Error: --save - and --plot - cannot both write to stdout\n"
                             "  hint: give one of them a file name\n")


@pytest.mark.parametrize("fmt", ["dot", "mermaid"])
def test_graph_to_stdout(fmt):
    with_dash = run("graph", "x*w", "x=2", "w=3", "-o", "-", "--format", fmt)
    without = run("graph", "x*w", "x=2", "w=3", "--format", fmt)
    assert with_dash.exit_code == 0, with_dash.stderr
    assert with_dash.stdout == without.stdout
    assert with_dash.stdout.startswith("digraph" if fmt == "dot" else "flowchart LR")


def test_binary_output_is_not_written_to_a_terminal(monkeypatch):
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.setattr("sys.stdout", Terminal())
    with pytest.raises(OutputError) as caught:
        write_output("-", b"\x89PNG", "-o", binary=True)
    assert caught.value.message == ("-o -: binary data (a picture) is not written to a "
                                    "terminal; redirect stdout to a file, or give a file name")
    write_output("-", b"digraph {}\n", "-o")  # text goes to a terminal as it is


# ----------------------------------------------------------------------------- lost results
@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_a_failed_save_still_reports_the_finished_run():
    result = run("train", "--epochs", "2", "--save", "/dev/full", "--format", "json")
    assert result.exit_code == 2
    assert json.loads(result.stdout)["params"] == {"w": 1.453417766656}
    assert result.stderr == "Error: cannot write /dev/full: No space left on device\n"


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs /proc")
def test_a_folder_that_refuses_files_is_not_called_missing():
    result = run("train", "--epochs", "1", "--save", "/proc/p.json", "--format", "json")
    assert result.exit_code == 2
    assert "does not exist" not in result.stderr
    assert "/proc/p.json" in result.stderr
    assert "cannot write" in result.stderr


def test_an_option_given_twice_is_refused():
    result = run("train", "--save", "a.json", "--save", "b.json")
    assert result.exit_code == 2 and result.stdout == ""
    assert "Error: --save is given 2 times (a.json, b.json); give it once" in result.stderr
    result = run("graph", "x", "x=1", "-o", "a.dot", "-o", "b.dot")
    assert result.exit_code == 2
    assert "Error: --output is given 2 times (a.dot, b.dot); give it once" in result.stderr


# ----------------------------------------------------------------------------- explain, trace
def test_the_explained_step_is_in_the_json_with_the_update_written_out():
    result = run("train", "--epochs", "1", "--explain-step", "2", "--format", "json")
    assert result.exit_code == 0, result.stderr
    explained = json.loads(result.stdout)["explain"]
    assert explained["update"] == 2 and explained["row"] == 2
    assert explained["bindings"] == {"x": 2.0, "y": 4.0, "w": 1.02}
    assert explained["update_text"] == "w ← w − lr·dloss/dw = 1.02 − 0.01·(-7.84) = 1.0984"
    assert explained["grad"]["gradients"] == {"w": -7.84}


def test_the_explained_step_writes_the_update_in_the_table():
    result = run("train", "--epochs", "1", "--explain-step", "1")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.endswith("\nThe update: w ← w − lr·dloss/dw = 1 − 0.01·(-2) = 1.02\n")


def test_trace_lines_write_the_update_out():
    result = run("train", "--epochs", "1", "--trace")
    assert "grad: x=1 y=2 dloss/dw=-2 loss=1  [w ← w − lr·dloss/dw = 1 − 0.01·(-2) = 1.02]\n" \
        in result.stdout
    document = json.loads(run("train", "--epochs", "1", "--trace", "--format", "json").stdout)
    assert document["trace"][0]["update_text"] == "w ← w − lr·dloss/dw = 1 − 0.01·(-2) = 1.02"


# ----------------------------------------------------------------------------- warnings
def test_an_exploding_finite_loss_is_warned_about(tmp_path):
    result = run("train", "samples/line.csv", "--model", "w*x+b", "--lr", "1e10",
                 "--batch-size", "full", "--epochs", "3", "--format", "json")
    assert result.exit_code == 0
    warnings = json.loads(result.stdout)["warnings"]
    assert len(warnings) == 1
    assert warnings[0].startswith("the loss grew from 18.5 (epoch 1) to 2.04e+46 (epoch 3): "
                                  "the learning rate (lr) is likely too large")
    assert result.stderr == f"Warning: {warnings[0]}\n"


def test_a_healthy_run_has_no_warnings():
    result = run("train", "--format", "json")
    assert json.loads(result.stdout)["warnings"] == []
    assert result.stderr == ""


def test_a_parameter_named_like_a_column_is_warned_about(tmp_path):
    csv = tmp_path / "data.csv"
    csv.write_text("x,x2,y\n1,1,2\n2,4,4\n", encoding="utf-8")
    result = run("train", str(csv), "--model", "w*x + v*X2", "--epochs", "1",
                 "--format", "json")
    assert result.exit_code == 0, result.stderr
    expected = ("'X2' is not a column of the data, so it is trained as a parameter; did you "
                "mean the column 'x2'? (names are case-sensitive)")
    assert json.loads(result.stdout)["warnings"] == [expected]
    assert result.stderr == f"Warning: {expected}\n"


def test_a_parameter_one_letter_from_an_unused_column_is_warned_about(tmp_path):
    csv = tmp_path / "data.csv"
    csv.write_text("x,xb,y\n1,1,2\n2,4,4\n", encoding="utf-8")
    result = run("train", str(csv), "--model", "w*x + xc", "--epochs", "1", "--format", "json")
    assert json.loads(result.stdout)["warnings"] == [
        "'xc' is not a column of the data, so it is trained as a parameter; did you mean the "
        "column 'xb'?"]


# ----------------------------------------------------------------------------- bce
def test_bce_outside_zero_one_names_the_row_and_its_y_hat():
    result = run("train", "samples/classify.csv", "--model", "w*x+b", "--loss", "bce")
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr == (
        "Error: --loss bce needs y_hat in (0, 1), a probability: data row 1 has "
        "y_hat = 1.1098\n  hint: end the model in a sigmoid, e.g. sigmoid(w*x+b)\n")


# ----------------------------------------------------------------------------- BOM
def test_a_byte_order_mark_is_not_part_of_the_text(tmp_path):
    path = tmp_path / "program.txt"
    path.write_bytes("\ufeffx*w".encode())
    assert read_text(str(path), "program", 100) == "x*w"
    result = run("simplify", f"@{path}", "w=2", "x=1", "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["expression"] == "x*w"
    init = tmp_path / "init.json"
    init.write_bytes('\ufeff{"params": {"w": 0.25}}'.encode())
    result = run("train", "--init", str(init), "--epochs", "1", "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["initial"] == {"w": 0.25}


# ----------------------------------------------------------------------------- graph
def test_a_suffix_and_a_format_that_disagree_are_refused(tmp_path):
    target = tmp_path / "g.svg"
    result = run("graph", "x*w", "x=1", "w=2", "-o", str(target), "--format", "png")
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr == (f"Error: the file name {target} says svg, but the format asked "
                             "for is png\n  hint: name the file with a suffix of png, or drop "
                             "the format\n")
    assert not target.exists()


def test_graph_format_choices_come_from_the_registry():
    from backtrace_cli.cli.graph import graph_names
    from backtrace_cli.formats.registry import names

    assert graph_names() == ["dot", "mermaid", "svg", "png", "html", "text"]
    assert "svg" not in names("train") and "svg" not in names("grad")
    result = run("graph", "x", "x=1", "--format", "json")
    assert result.exit_code == 2 and "'json' is not one of" in result.stderr


def test_a_comment_stays_out_of_the_graph_title(tmp_path):
    path = tmp_path / "program.txt"
    path.write_text("# the lecture's loss\nz = x*w  # the model\n", encoding="utf-8")
    dot = run("graph", f"@{path}", "x=1", "w=2", "--format", "dot").stdout
    mermaid = run("graph", f"@{path}", "x=1", "w=2", "--format", "mermaid").stdout
    tree = run("graph", f"@{path}", "x=1", "w=2", "--format", "text").stdout
    for text in (dot, mermaid, tree):
        assert "lecture" not in text and "the model" not in text
    assert mermaid.splitlines()[1] == "  %% z = x*w"
    assert tree.splitlines()[0] == "z = x*w"


def test_the_tree_footnote_matches_what_it_draws():
    tree = run("graph", "x*w", "x=1", "w=2", "--format", "text").stdout
    assert tree.splitlines()[-1] == ("value: forward pass · grad: dL/d(node), "
                                     "seed dL/dz = 1 (the seed, --dz)")
    assert "arrow" not in tree
    assert "on each arrow" in run("graph", "x*w", "x=1", "w=2", "--format", "dot").stdout


def test_grad_keeps_its_result_when_the_graph_cannot_be_written(tmp_path):
    import os

    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full on this system")
    full = tmp_path / "graph.dot"
    full.symlink_to("/dev/full")
    result = CliRunner().invoke(main, ["grad", "x*w", "x=2", "w=3", "--no-check",
                                       "--format", "json", "--graph", str(full)])
    assert result.exit_code == 2
    assert json.loads(result.stdout)["gradients"] == {"x": 3.0, "w": 2.0}
    assert result.stderr == f"Error: cannot write {full}: No space left on device\n"


def test_grad_graph_to_stdout_moves_the_report_to_stderr():
    result = CliRunner().invoke(main, ["grad", "x*w", "x=2", "w=3", "--no-check",
                                       "--format", "json", "--graph", "-"])
    assert result.exit_code == 0
    assert result.stdout.startswith("digraph backtrace {")
    assert json.loads(result.stderr)["output"] == 6.0
