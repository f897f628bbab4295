"""``backtrace grad --mode forward|both`` and ``--wrt`` named steps on the command line:
Baydin et al. 2018's Tables 2 and 3 as golden files, the JSON keys, and the errors."""

from __future__ import annotations

import json

import pytest
from helpers import assert_bad_input, assert_golden, invoke, run_json

BAYDIN = ("log(x1) + x1*x2 - sin(x2)", "x1=2", "x2=5")
# Our ids for the paper's v1..v5 (see docs/cli.md): ln, mul, sin, add, sub.
PAPER_V1_TO_V5 = ("v2", "v4", "v6", "v5", "v7")
LECTURE = ("y_hat = x*w; loss = (y_hat - y)**2", "x=1", "w=2", "y=3")


def test_baydin_table_2_golden(request):
    result = invoke("grad", *BAYDIN, "--mode", "forward", "--wrt", "x1", "--no-check")
    assert result.exit_code == 0, result.stderr
    assert "v̇4 = ẋ1·x2 + ẋ2·x1 = 1·5 + 0·2 = 5" in result.stdout
    assert "ż = v̇5 - v̇6 = 5.5 - 0 = 5.5" in result.stdout
    assert_golden(request, "baydin_table2.txt", result.stdout)


def test_baydin_tables_2_and_3_golden(request):
    result = invoke("grad", *BAYDIN, "--mode", "both", "--no-check")
    assert result.exit_code == 0, result.stderr
    assert_golden(request, "baydin_both.txt", result.stdout)


def test_baydin_json_golden(request):
    result = invoke("grad", *BAYDIN, "--mode", "both", "--no-check", "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert_golden(request, "baydin_both.json", result.stdout)


def test_baydin_table_2_tangents_in_the_json():
    document = run_json("grad", *BAYDIN, "--mode", "forward", "--no-check")
    assert document["mode"] == "forward"
    first, second = document["tangents"]
    assert (first["wrt"], first["element"], first["gradient"]) == ("x1", [], 5.5)
    tangent = {row["id"]: row["tangent"] for row in first["rows"]}
    assert [tangent[i] for i in PAPER_V1_TO_V5] == [0.5, 5.0, 0.0, 5.5, 5.5]
    assert second["wrt"] == "x2" and second["gradient"] == 1.7163378145367738
    assert document["gradients"] == {"x1": 5.5, "x2": 1.7163378145367738}
    assert document["cost"]["forward"] == {"sweeps": 2, "multiplications": 4, "stored": 8}
    assert document["cost"]["reverse"] == {"sweeps": 1, "multiplications": 4, "stored": 14}
    assert document["cost"]["winner"] == "reverse"


def test_baydin_table_3_adjoints_accumulate_in_the_papers_order():
    # Table 3: v̄0 = v̄3 · cos v0 = -0.284 first, then v̄0 = v̄0 + v̄2 · v-1 = 1.716; and
    # v̄-1 = v̄2 · v0 = 5 first, then v̄-1 = v̄-1 + v̄1 / v-1 = 5.5.
    result = invoke("grad", *BAYDIN, "--mode", "both", "--no-check")
    trace = result.stdout.split("Adjoint trace")[1].split("Gradients")[0]
    lines = [line.strip() for line in trace.splitlines() if line.strip().startswith("dL/dx")]
    assert lines == [
        "dL/dx2 = dL/dv6 · dv6/dx2 = -1 · 0.28366218546322625 = -0.28366218546322625",
        "dL/dx1 = dL/dv4 · dv4/dx1 = 1 · 5 = 5",
        "dL/dx2 = dL/dx2 + dL/dv4 · dv4/dx2 = -0.28366218546322625 + 1 · 2 = 1.7163378145367738",
        "dL/dx1 = dL/dx1 + dL/dv2 · dv2/dx1 = 5 + 1 · 0.5 = 5.5",
    ]
    document = run_json("grad", *BAYDIN, "--no-check")
    into_x2 = [(edge["node"], edge["product"]) for edge in document["backward"]
               if edge["input"] == "v3"]
    assert into_x2 == [("v6", -0.28366218546322625), ("v4", 2.0)]


def test_both_mode_says_which_mode_wins_and_why():
    result = invoke("grad", *BAYDIN, "--mode", "both", "--no-check")
    assert ("Reverse mode wins for n = 2 inputs and m = 1 output: forward mode needs a sweep "
            "per input (2 sweeps, 4 multiplications), reverse mode a sweep per output (1 sweep, "
            "4 multiplications); reverse mode keeps every value for its sweep back (14 numbers "
            "stored against 8).") in result.stdout


def test_reverse_mode_is_the_default_byte_for_byte():
    plain = invoke("grad", *LECTURE)
    reverse = invoke("grad", *LECTURE, "--mode", "reverse")
    assert plain.exit_code == reverse.exit_code == 0
    assert plain.stdout == reverse.stdout
    assert "Tangent sweep" not in plain.stdout
    document = run_json("grad", *LECTURE)
    assert not {"mode", "tangents", "cost"} & set(document)


def test_forward_mode_checks_its_own_gradients():
    document = run_json("grad", *LECTURE, "--mode", "forward")
    assert document["gradients"] == {"x": -4.0, "w": -2.0, "y": 2.0}
    assert document["check"]["ok"] is True
    assert {name: entry["value"] for name, entry in document["check"]["sympy"].items()} == {
        "x": -4.0, "w": -2.0, "y": 2.0}


def test_forward_mode_exits_1_when_a_check_disagrees(monkeypatch):
    import backtrace_cli.explain.forward as forward_module

    real = forward_module.forward_mode

    def off_by_one(explanation):
        modes = real(explanation)
        return forward_module.ForwardMode(
            modes.sweeps, {name: value + 1 for name, value in modes.gradients.items()},
            modes.cost)

    monkeypatch.setattr(forward_module, "forward_mode", off_by_one)
    result = invoke("grad", *LECTURE, "--mode", "forward")
    assert result.exit_code == 1
    assert "✗ the checks disagree for: x, w, y" in result.stdout


# ----------------------------------------------------------------------------- --wrt steps
def test_wrt_a_named_step_gives_dloss_dy_hat_in_every_mode():
    # loss = (y_hat - y)**2, so dloss/dy_hat = 2 (y_hat - y) = 2 (2 - 3) = -2.
    for mode in ("reverse", "forward", "both"):
        document = run_json("grad", *LECTURE, "--wrt", "y_hat", "--mode", mode)
        assert document["gradients"] == {"y_hat": -2.0}, mode
        assert document["check"]["sympy"]["y_hat"]["derivative"] == "-2*y + 2*y_hat"
        assert document["check"]["numeric"]["y_hat"]["ok"] is True
    document = run_json("grad", *LECTURE, "--wrt", "y_hat", "--mode", "forward")
    seeded = {row["id"]: row["tangent"] for row in document["tangents"][0]["rows"]}
    assert seeded == {"v1": 0.0, "v2": 0.0, "v3": 1.0, "v4": 0.0, "v5": 1.0, "v6": 0.0,
                      "v7": -2.0}


def test_wrt_mixes_steps_and_variables_and_the_table_says_so():
    result = invoke("grad", *LECTURE, "--wrt", "y_hat,w")
    assert result.exit_code == 0, result.stderr
    assert "dloss/dy_hat = dloss/dv5 · dv5/dy_hat = -2 · 1 = -2" in result.stdout
    assert "dloss/dw = dloss/dy_hat · dy_hat/dw = -2 · 1 = -2" in result.stdout
    forward = invoke("grad", *LECTURE, "--wrt", "y_hat", "--mode", "forward", "--no-check")
    assert "ẏ_hat = 1 (the seed: y_hat taken as an input)" in forward.stdout


def test_wrt_a_step_given_again_by_its_prime():
    # c = 2x = 2, c' = c + 1 = 3, loss = c'^2: dloss/dc' = 2c' = 6 = dloss/dc, dloss/dx = 12.
    program = ("c = x*2; c = c + 1; loss = c*c", "x=1")
    document = run_json("grad", *program, "--wrt", "c',c,x")
    assert document["gradients"] == {"c'": 6.0, "c": 6.0, "x": 12.0}
    assert document["check"]["ok"] is True
    assert run_json("grad", *program, "--wrt", "c'", "--mode", "forward")["gradients"] == {
        "c'": 6.0}


def test_wrt_an_unknown_name_lists_steps_with_a_did_you_mean():
    result = invoke("grad", *LECTURE, "--wrt", "y_ht")
    assert_bad_input(
        result, "--wrt names 'y_ht', which is not a variable of the expression (its variables: "
        "x, w, y; its named steps: y_hat, loss)", "did you mean 'y_hat'?")
    assert_bad_input(invoke("grad", *LECTURE, "--wrt", "y_ht", "--mode", "forward"),
                     "did you mean 'y_hat'?")


def test_an_unknown_mode_is_a_usage_error():
    result = invoke("grad", *LECTURE, "--mode", "sideways")
    assert result.exit_code == 2
    assert "Invalid value for '--mode': 'sideways' is not one of" in result.stderr


def test_the_api_refuses_an_unknown_mode_naming_the_field():
    from backtrace_cli import BacktraceError, grad

    with pytest.raises(BacktraceError, match=r"^mode must be one of reverse, forward, both"):
        grad("x*w", {"x": 1, "w": 2}, mode="sideways")


def test_forward_mode_over_arrays_has_a_sweep_per_element():
    document = run_json("grad", "sum(W @ x)", "W=[[1, 2], [3, 4]]", "x=[1, -1]",
                        "--mode", "both")
    assert [(t["wrt"], t["element"]) for t in document["tangents"]] == [
        ("W", [0, 0]), ("W", [0, 1]), ("W", [1, 0]), ("W", [1, 1]), ("x", [0]), ("x", [1])]
    assert [t["gradient"] for t in document["tangents"]] == [1.0, -1.0, 1.0, -1.0, 4.0, 6.0]
    assert document["gradients"] == {"W": [[1.0, -1.0], [1.0, -1.0]], "x": [4.0, 6.0]}
    assert document["cost"]["forward"]["sweeps"] == 6
    assert json.dumps(document["tangents"][0]["rows"][0]) == (
        '{"id": "v1", "value": [[1.0, 2.0], [3.0, 4.0]], "tangent": [[1.0, 0.0], [0.0, 0.0]]}')


def test_latex_writes_tangents_as_dotted_math():
    result = invoke("grad", *BAYDIN, "--mode", "both", "--no-check", "--format", "latex")
    assert result.exit_code == 0, result.stderr
    assert r"$\dot{v_{4}} = \dot{\mathit{x1}} \cdot \mathit{x2} + \dot{\mathit{x2}} \cdot " \
           r"\mathit{x1} = 1 \cdot 5 + 0 \cdot 2 = 5$" in result.stdout
    assert "U+" not in result.stdout  # every dotted letter is math, none a code point
    markdown = invoke("grad", *BAYDIN, "--mode", "both", "--no-check", "--format", "markdown")
    assert "| v4 |   | 10 | `v̇4 = ẋ1·x2 + ẋ2·x1 = 1·5 + 0·2 = 5` | 5 |" in markdown.stdout


def test_forward_mode_refuses_more_tangents_than_it_keeps():
    from backtrace_cli.explain import forward as module

    source = "sum(" + "x*" * 9 + "x)"
    result = invoke("grad", source, "x=" + str([1.0] * 200), "--mode", "forward", "--no-check")
    assert result.exit_code == 0, result.stderr  # 200 sweeps over 11 nodes: 2,200 tangents
    original = module.MAX_TANGENTS
    try:
        module.MAX_TANGENTS = 2_199
        assert_bad_input(
            invoke("grad", source, "x=" + str([1.0] * 200), "--mode", "forward", "--no-check"),
            "--mode forward needs one sweep per input element: 200 sweeps over 11 nodes, more "
            "than 2,199 tangents", "hint: use --mode reverse, which takes one sweep")
    finally:
        module.MAX_TANGENTS = original
