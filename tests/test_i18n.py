"""Chinese (--lang zh): the catalogues match the code, every view is Chinese, the machine
output (JSON, exit codes) does not change with the language, and wide text still aligns."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from babel.messages.catalog import Message
from helpers import invoke as run
from rich.cells import cell_len

from backtrace_cli import catalogue, i18n
from backtrace_cli.cli import messages
from backtrace_cli.cli.main import COMMANDS


# ----------------------------------------------------------------------------- catalogues
def test_the_catalogues_match_the_code():
    assert messages.problems("backtrace") == []
    assert messages.problems("click") == []


def test_a_message_without_an_entry_and_an_entry_without_a_message_are_found(monkeypatch):
    real = messages.entries("backtrace")
    dropped = [message for message in real if message.id != "Forward pass"]
    stale = Message("Sideways pass", "侧向传播")
    monkeypatch.setattr(messages, "entries", lambda domain, language="zh": dropped + [stale])
    found = messages.problems("backtrace")
    assert any(line.startswith("no zh entry for 'Forward pass' (backtrace_cli/report/grad.py:")
               for line in found), found
    assert "the zh entry 'Sideways pass' matches no message in the code" in found
    assert len(found) == 2


def test_a_message_must_be_a_literal(tmp_path):
    source = tmp_path / "module.py"
    source.write_text('x = 1\n_("fine {x}").format(x=x)\n_(f"bad {x}")\nngettext("a", "b", x)\n')
    found, problems = messages.calls_in([source], tmp_path)
    assert sorted(found) == ["a", "fine {x}"]
    assert found["a"][0] == "b"
    assert problems == ["module.py:3"]


def test_the_catalogue_is_kept_as_babel_writes_it_and_compiles():
    path = messages.catalogue_path("backtrace")
    # `messages update` writes with Babel; a catalogue edited by hand is rewritten the same way
    assert catalogue.dumps(catalogue.read(path)) == path.read_bytes()
    import gettext
    import io

    compiled = gettext.GNUTranslations(io.BytesIO(catalogue.compile_mo(path)))
    assert compiled.gettext("Forward pass") == "前向传播"
    assert compiled.ngettext("{epochs} epoch", "{epochs} epochs", 100) == "{epochs} 轮"
    assert compiled.gettext("the variable '{name}' has no value") == "变量 '{name}' 没有值"
    # GNU msgfmt reads our .po the same way, where it is installed
    if shutil.which("msgfmt"):
        checked = subprocess.run(["msgfmt", "--check", "-o", "/dev/null", str(path)],
                                 capture_output=True, text=True)
        assert checked.returncode == 0, checked.stderr


def test_a_checkout_without_a_fresh_mo_reads_the_po(tmp_path, monkeypatch):
    folder = tmp_path / "zh_CN" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    po = folder / "backtrace.po"
    po.write_bytes(messages.catalogue_path("backtrace").read_bytes())
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path)
    monkeypatch.setattr(i18n, "_loaded", {})
    assert i18n.translations(name="zh").gettext("Forward pass") == "前向传播"  # no .mo
    mo = folder / "backtrace.mo"
    stale = gettext_catalogue({"Forward pass": "旧的"})
    mo.write_bytes(stale)
    import os

    os.utime(mo, (po.stat().st_mtime - 10,) * 2)  # older than the .po: compiled again
    monkeypatch.setattr(i18n, "_loaded", {})
    assert i18n.translations(name="zh").gettext("Forward pass") == "前向传播"
    os.utime(mo, (po.stat().st_mtime + 10,) * 2)  # a built .mo is read as it is
    monkeypatch.setattr(i18n, "_loaded", {})
    assert i18n.translations(name="zh").gettext("Forward pass") == "旧的"


def gettext_catalogue(pairs: dict[str, str]) -> bytes:
    import io

    from babel.messages.catalog import Catalog
    from babel.messages.mofile import write_mo

    made = Catalog(locale="zh_CN")
    for msgid, msgstr in pairs.items():
        made.add(msgid, msgstr)
    out = io.BytesIO()
    write_mo(out, made)
    return out.getvalue()


@pytest.mark.parametrize("environ, expected", [
    ({}, "en"), ({"LANG": "zh_CN.UTF-8"}, "zh"), ({"LANG": "C"}, "en"),
    ({"LC_ALL": "en_US.UTF-8", "LANG": "zh_CN.UTF-8"}, "en"),
    ({"LC_MESSAGES": "zh_TW"}, "zh"), ({"LANGUAGE": "zh_CN:en"}, "zh"),
    ({"BACKTRACE_LANG": "en", "LC_ALL": "zh_CN.UTF-8"}, "en"),
    ({"BACKTRACE_LANG": "zh", "LANG": "en_GB"}, "zh"), ({"LANG": "POSIX"}, "en"),
])
def test_the_language_comes_from_the_environment(environ, expected):
    assert i18n.language_from_environment(environ) == expected


def test_lang_beats_the_environment_and_the_environment_is_the_default():
    english = run("grad", "x*w", "x=2", "w=3", "--lang", "en", env={"BACKTRACE_LANG": "zh"})
    assert english.stdout.startswith("Forward pass: x*w\n")
    environment = {"BACKTRACE_LANG": None, "LANG": "zh_CN.UTF-8", "LC_ALL": None,
                   "LC_MESSAGES": None}
    chinese = run("grad", "x*w", "x=2", "w=3", env=environment)
    assert chinese.stdout.startswith("前向传播: x*w\n")
    assert i18n.language() == "en"  # nothing leaks out of an invocation


def test_click_texts_and_errors_in_chinese():
    result = run("grad", "--help", "--lang", "zh")
    assert result.exit_code == 0
    assert result.stdout.startswith("用法: main grad [OPTIONS] EXPR [BINDING]...\n")
    timeout_help = r"\n  --check-timeout SECONDS +每项核对（SymPy、有限差分）允许的时间"
    assert re.search(timeout_help, result.stdout)
    assert "显示此帮助并退出。" in result.stdout
    bad = run("grad", "x", "--format", "zz", "--lang=zh")
    assert bad.exit_code == 2
    assert "\n错误: '--format' 的值无效: 'zz' 不是 'table', 'json', " in bad.stderr
    assert bad.stderr.endswith(" 之一。\n")
    ours = run("grad", "x*", "--lang", "zh")
    assert ours.exit_code == 2
    assert ours.stderr.startswith("错误: ") and "（位于第 3 列）" in ours.stderr


@pytest.mark.parametrize("args, start", [
    (("train", "--lr", "-1"), "错误: --lr 必须是大于 0 的有限数，而不是 -1\n"),
    (("train", "--momentum", "2"), "错误: --momentum 必须不小于 0 且小于 1，而不是 2\n"),
    (("train", "--epochs", "0"), "错误: --epochs 必须在 1 到 10,000,000 之间，而不是 0\n"),
    (("grad", "x*w", "x=2", "w=3", "--wrt", "q"),
     "错误: --wrt 指定的 'q' 不是表达式的变量（它的变量：x, w）\n"),
    (("grad", "x*w", "w=3"),
     "错误: 变量 'x' 没有值（位于第 1 列）\n  x*w\n  ^\n"
     "  提示: 请给它一个值：x=VALUE（或 --x VALUE）\n"),
])
def test_core_errors_are_chinese_and_name_the_flag(args, start):
    result = run(*args, "--lang", "zh")
    assert result.exit_code == 2
    assert result.stderr == start


# ----------------------------------------------------------------------------- machine output
SAMPLES = Path(__file__).resolve().parent.parent / "samples"
JSON_RUNS = {
    "grad": ("grad", "y_hat = x*w; r = y_hat - y; loss = r**2", "x=1", "y=2", "w=1"),
    "train": ("train", "--epochs", "3", "--predict", "4", "--trace"),
    "simplify": ("simplify", "W2 @ sigmoid(W1 @ x + b1) + b2", "W1=[[1, 2], [3, 4]]",
                 "b1=[0, 1]", "W2=[[1, -1]]", "b2=[0.5]", "x=[1, 2]"),
    "graph": ("graph", "x*w", "x=2", "w=3", "--format", "dot"),  # graph has no JSON: its DOT
    "quiz": ("quiz", "y_hat = x*w; r = y_hat - y; loss = r**2", "x=1", "y=2", "w=1"),
    "grade": ("grade", "y_hat = x*w; r = y_hat - y; loss = r**2", "x=1", "y=2", "w=1",
              "--answers", str(SAMPLES / "lecture-key.json")),
    "hessian": ("hessian", "x0**3 - 2*x0*x1 - x1**6", "x0=1", "x1=2", "--explain"),
    # run has no JSON: the script's stdout, which is never translated
    "run": ("run", str(Path(__file__).resolve().parent / "data" / "run" / "lecture03.py")),
    "minimize": ("minimize", "x**4 - 2*x**2", "x=2", "--method", "newton", "--steps", "3",
                 "--trace", "--explain-step", "2"),
    "jacobian": ("jacobian", "sigmoid(W @ x + b)", "W=[[1, 2], [3, 4], [5, 6]]", "x=[1, -1]",
                 "b=[0, 1, 2]", "--check"),
}
# Machine output of grad's other modes and pictures: the same in both languages too.
MORE_JSON_RUNS = {
    "grad-forward": ("grad", "x*w + tanh(x)", "x=2", "w=3", "--mode", "forward"),
    "grad-both": ("grad", "sum(sigmoid(W @ x + b))", "W=[[1, 2], [3, 4]]", "x=[1, -1]",
                  "b=[0, 1]", "--mode", "both"),
    "grad-named-wrt": ("grad", "y_hat = x*w; r = y_hat - y; loss = r**2", "x=1", "y=2", "w=1",
                       "--wrt", "y_hat,w"),
    "jacobian-forward": ("jacobian", "[x*w, x + w, x - w]", "x=2", "w=3", "--mode", "forward"),
}


def test_every_command_has_a_machine_output_run():
    assert sorted(JSON_RUNS) == sorted(COMMANDS)


@pytest.mark.parametrize("name", sorted(JSON_RUNS))
def test_json_is_byte_identical_in_both_languages(name):
    args = JSON_RUNS[name] + (() if name in ("graph", "run") else ("--format", "json"))
    if name == "run":  # every argument after SCRIPT is the script's: --lang goes first
        english, chinese = run("--lang", "en", *args), run("--lang", "zh", *args)
    else:
        english, chinese = run(*args, "--lang", "en"), run(*args, "--lang", "zh")
    assert english.exit_code == chinese.exit_code == 0, chinese.stderr
    if name == "graph":  # the picture's legend is for people; its structure is the same
        strip = re.compile(r'label="[^"]*"')
        assert strip.sub("", english.stdout) == strip.sub("", chinese.stdout)
    else:
        assert english.stdout == chinese.stdout
    assert english.stdout.strip()


@pytest.mark.parametrize("name", sorted(MORE_JSON_RUNS))
def test_json_of_the_other_modes_is_byte_identical_in_both_languages(name):
    args = MORE_JSON_RUNS[name] + ("--format", "json")
    english, chinese = run(*args, "--lang", "en"), run(*args, "--lang", "zh")
    assert english.exit_code == chinese.exit_code == 0, chinese.stderr
    assert english.stdout == chinese.stdout
    assert '"sentence": "' not in english.stdout or "mode wins for n = " in english.stdout


def test_the_jacobian_json_keeps_its_reason_and_verdict_in_english():
    chinese = run(*JSON_RUNS["jacobian"], "--format", "json", "--lang", "zh")
    assert chinese.exit_code == 0, chinese.stderr
    assert ('"reason": "reverse mode, chosen: 3 output elements are no more than 11 input '
            'elements, so one reverse sweep per output element (3)"') in chinese.stdout
    assert '"sentence": "Reverse mode wins for n = 11 inputs and m = 3 outputs: ' \
        in chinese.stdout


def test_exit_codes_do_not_change():
    for args in (("grad", "x*"), ("grad", "x", "--format", "zz"), ("train", "--lr", "-1")):
        assert run(*args, "--lang", "en").exit_code == run(*args, "--lang", "zh").exit_code == 2


# ----------------------------------------------------------------------------- the views
VIEWS = {
    "grad": ("grad", "y_hat = x*w; r = y_hat - y; loss = r**2", "x=1", "y=2", "w=1"),
    "grad-seed": ("grad", "x*w", "--x", "2", "--w", "3", "--dz", "5"),
    "grad-arrays": ("grad", "sum(sigmoid(W @ x + b))", "W=[[1, 2], [3, 4]]", "x=[1, -1]",
                    "b=[0, 1]"),
    "grad-relu": ("grad", "relu(x)", "x=0"),
    "train": ("train", "--predict", "4"),
    "train-trace": ("train", "--epochs", "2", "--trace"),
    "simplify": ("simplify", "W2 @ (W1 @ x + b1) + b2", "W1=[[1, 2], [3, 4]]", "b1=[0, 1]",
                 "W2=[[1, -1]]", "b2=[0.5]", "x=[1, 2]"),
    "simplify-sigmoid": ("simplify", "W2 @ sigmoid(W1 @ x + b1) + b2", "W1=[[1, 2], [3, 4]]",
                         "b1=[0, 1]", "W2=[[1, -1]]", "b2=[0.5]", "x=[1, 2]"),
    "graph": ("graph", "y_hat = x*w; r = y_hat - y; loss = r**2", "x=1", "y=2", "w=1",
              "--format", "text"),
    "quiz": ("quiz", "y_hat = x*w; r = y_hat - y; loss = r**2", "x=1", "y=2", "w=1"),
    "quiz-random": ("quiz", "--random", "--level", "3", "--seed", "2"),
    "grade": ("grade", "y_hat = x*w; r = y_hat - y; loss = r**2", "x=1", "y=2", "w=1",
              "--answers", str(SAMPLES / "lecture-key.json")),
    "grad-order": ("grad", "x**4 - 2*x**2", "x=2", "--order", "3"),
    "graph-order": ("graph", "tanh(x)", "x=1", "--order", "2", "--format", "text"),
    "hessian": ("hessian", "x0**3 - 2*x0*x1 - x1**6", "x0=1", "x1=2", "--explain"),
    "hessian-arrays": ("hessian", "sum(sigmoid(W @ x))", "W=[[1, 2], [3, 4]]", "x=[1, -1]",
                       "--wrt", "W"),
    "hessian-kink": ("hessian", "relu(x)*y + x*y", "x=0", "y=2"),
    "minimize-newton": ("minimize", "x**4 - 2*x**2", "x=2", "--method", "newton", "--steps",
                        "3", "--trace", "--explain-step", "2"),
    "minimize-newton-2d": ("minimize", "x0**2 + x0*x1 + 2*x1**2", "x0=1", "x1=1",
                           "--method", "newton", "--steps", "2", "--trace"),
    "minimize-adam": ("minimize", "(x - 3)**2 + w*w", "x=0", "w=1", "--method", "adam",
                      "--lr", "0.1", "--steps", "300", "--trace", "--trace-limit", "2"),
    "minimize-momentum": ("minimize", "(x - 3)**2", "x=0", "--method", "momentum", "--steps",
                          "3", "--trace", "--explain-step", "1"),
    "jacobian": ("jacobian", "sigmoid(W @ x + b)", "W=[[1, 2], [3, 4], [5, 6]]", "x=[1, -1]",
                 "b=[0, 1, 2]", "--check"),
    "jacobian-forward": ("jacobian", "[x*w, x + w, x - w]", "x=2", "w=3", "--mode", "forward"),
    "grad-forward": ("grad", "x*w + tanh(x)", "x=2", "w=3", "--mode", "forward"),
    # (tangents of longer names, ẏ_hat, read as "_hat" to the scan: one-letter names here)
    "grad-both": ("grad", "a = x*w; a + tanh(a)", "x=2", "w=3", "--mode", "both"),
    "grad-named-wrt": ("grad", "y_hat = x*w; r = y_hat - y; loss = r**2", "x=1", "y=2", "w=1",
                       "--wrt", "y_hat,w"),
}
# Words that are names, not English: symbols, ops, functions, tools, settings' values.
ALLOWED = set("""x w y z y_hat r loss b W W1 W2 b1 b2 dz var const mul add sub pow sum sigmoid
relu tanh matmul output json markdown latex SymPy PyTorch JSON CSV float32 float64 sgd
mse grad
dL dloss dw dx dr dy_hat node kink
Piecewise True""".split())  # SymPy's notation: Piecewise((1, x > 0), (0, True))
# quiz: the grade command it prints, and the room to write an answer (a \rule in LaTeX)
ALLOWED |= set("""quiz grade backtrace worksheet md ________ cm pt""".split())
# hessian and minimize: methods, settings and the symbols of their updates and entries
ALLOWED |= set("""newton adam momentum gd lr beta1 beta2 eps v_x d_x0 d_x1 dadb dbda dpow dW
df""".split())


def english_words(text: str, allowed: set[str] = ALLOWED) -> list[str]:
    text = re.sub(r"--[a-z][a-z-]*", " ", text)  # options are names
    text = re.sub(r"\bd[\w()]+/d[\w()]+", " ", text)  # derivatives dL/dx, dz/dw
    text = re.sub(r"\b[vVe]\d+\b", " ", text)  # node ids, numbers like 1e-05
    words = re.findall(r"[A-Za-z_][A-Za-z_0-9]+", text)
    return [word for word in words if word not in allowed
            and not re.fullmatch(r"e\d+|[A-Za-z]\d+", word)]  # 1e-05; names x2, W1


# Commands whose stdout is a user's script's own output, never translated: their own words
# (notice, errors, help) are checked in Chinese in tests/test_run.py and test_help_is_chinese.
SCRIPT_OUTPUT = {"run"}


def test_every_command_has_a_view():
    assert {args[0] for args in VIEWS.values()} == set(COMMANDS) - SCRIPT_OUTPUT


@pytest.mark.parametrize("view, output_format", [
    pytest.param(view, output_format, id=f"{output_format}-{view}")
    for output_format in ("table", "markdown", "latex") for view in sorted(VIEWS)])
def test_no_english_left_in_a_chinese_view(view, output_format):
    args = VIEWS[view]
    if output_format != "table" and args[0] not in ("grad", "quiz", "grade", "hessian", "minimize"):
        pytest.skip("only grad writes markdown and latex")
    result = run(*args, "--lang", "zh", *(() if output_format == "table"
                                           else ("--format", output_format)))
    assert result.exit_code == 0, result.stderr
    text = result.stdout
    if output_format == "latex":
        text = text.replace("\\_", "_").replace("-{}-", "--")  # LaTeX's escapes
        # display math (the chain rule's align* block) is math, like $...$
        text = re.sub(r"\\begin\{(align|equation|gather)\*?\}.*?\\end\{\1\*?\}", " ", text,
                      flags=re.S)
        text = "\n".join(line for line in text.splitlines()
                         if not line.startswith(("\\begin", "\\end")))
        text = re.sub(r"\$[^$]*\$", " ", text)  # math
        text = re.sub(r"\\(begin|end)\{\w+\}(\{[^}]*\})?|@\{\}\S*|\\[A-Za-z]+", " ", text)
        text = "\n".join(line for line in text.splitlines() if not line.startswith("%"))
    if args[0] == "train":  # the lecture's own print: "grad: x y dloss/dw"
        text = re.sub(r"^grad: .*$", "", text, flags=re.M)
    assert english_words(text) == [], (english_words(text), text[:300])
    assert re.search(r"[\u4e00-\u9fff]", text)


def punctuation_problems(text: str) -> list[str]:
    """Lines of Chinese text whose punctuation is mixed: a half-width comma beside a
    full-width one, a full-width bracket beside a half-width colon, and 种子 for the seed
    dL/dz (it reads as a random seed to a student; 初始梯度) where it is no random seed."""
    problems = []
    for line in text.splitlines():
        # program text, math and data keep their commas: quoted, bracketed, N(0, 1), A,B
        prose = re.sub(r"'[^']*'|\"[^\"]*\"|\[[^\]]*\]|\{[^}]*\}|\w\([^()]*\)|\S+,\S+"
                       r"|\(-?[\d.]+, -?[\d.]+\)", " ", line)  # and intervals (0, 1)
        if "," in prose and "，" in prose:
            problems.append(f"mixed commas: {line}")
        if re.search(r"[（）]\s*:(?!\w)|(?<!\w):\s*[（）]|[（）]:", line):
            problems.append(f"full-width bracket beside ':': {line}")
        if re.search(r"(?<!随机)种子", line):
            problems.append(f"种子 for the seed: {line}")
    return problems


@pytest.mark.parametrize("view, output_format", [
    pytest.param(view, output_format, id=f"{output_format}-{view}")
    for output_format in ("table", "markdown", "latex") for view in sorted(VIEWS)])
def test_a_chinese_view_keeps_its_punctuation_of_one_width(view, output_format):
    from backtrace_cli.formats.registry import names

    args = VIEWS[view]
    if output_format != "table" and ("--format" in args or output_format not in names(args[0])):
        pytest.skip(f"{view} is shown in its own format")
    result = run(*args, "--lang", "zh", *(() if output_format == "table"
                                           else ("--format", output_format)))
    assert result.exit_code == 0, result.stderr
    assert punctuation_problems(result.stdout + result.stderr) == []


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_chinese_help_keeps_its_punctuation_of_one_width(name):
    result = run(name, "--help", "--lang", "zh")
    assert result.exit_code == 0
    assert punctuation_problems(result.stdout) == []


def test_every_chinese_message_keeps_its_punctuation_of_one_width():
    """Each message of the catalogues, as it is written (views join messages too: the tests
    above read them whole)."""
    found = []
    for name in ("backtrace", "click"):
        for message in catalogue.read(messages.catalogue_path(name)):
            written = message.string if isinstance(message.string, (list, tuple)) else (
                message.string,)
            found += [f"{message.id!r}: {problem}" for text in written if message.id
                      for problem in punctuation_problems(text)]
    assert found == []


def test_the_punctuation_check_sees_each_kind_of_problem():
    assert len(punctuation_problems("损失 mse，3 轮, 批量 1\n预测（训练前）: x\n种子 dL/dz = 1\n"
                                    "打乱顺序（随机种子 0）\n取值 [1, 2]，或 86,400 秒")) == 3


def test_the_seed_of_a_gradient_and_a_carried_cell_read_plainly():
    seeded = run("grad", "x*w", "x=2", "w=3", "--dz", "5", "--lang", "zh")
    assert "反向传播: 初始梯度 dL/dz = 5（初始梯度，--dz）" in seeded.stdout
    graded = run("grade", "y_hat = x*w; r = y_hat - y; loss = r**2", "x=1", "y=2", "w=1",
                 "--answers", "-", "--lang", "zh",
                 input='{"forward": {"r": -2}, "local": {"v7/v5": -4}}')
    assert ("后面有 1 个单元格源自前面的错误（连带）：用你在上游写下的值来算，它们是对的。"
            in graded.stdout)
    assert "dL/d(变量)" in seeded.stdout and "dvariable" not in seeded.stdout


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_help_is_chinese(name):
    result = run(name, "--help", "--lang", "zh")
    assert result.exit_code == 0
    prose = "\n".join(line for line in result.stdout.splitlines()
                      if not line.strip().startswith(("backtrace ", "--", "-o", "-h", "W2=",
                                                      "用法:")))
    prose = re.sub(r"'[^']*'|\"[^\"]*\"|\[[^\]]*\]|\S+\.\w+|\S*[=:@]\S*", " ", prose)
    leftover = [word for word in english_words(prose) if word not in HELP_NAMES]
    assert leftover == [], leftover


HELP_NAMES = set("""EXPR BINDING OPTIONS FILE VALUE SECONDS N A B NAME K CSV SHAPE INTEGER
FLOAT TEXT Graphviz dot PATH graphviz pure pip install SVG PNG DOT svg png mermaid gv mmd
txt Adam beta1 beta2 epsilon torch optim momentum adam full tab MiB BACKTRACE_LANG LC_ALL
LC_MESSAGES LANG LANGUAGE zh en sigmoid SGD randn zeros ones gv table json markdown latex
text bce""".split())
HELP_NAMES |= set("forward local product gradient".split())  # quiz --blank's kinds (its default)
HELP_NAMES |= {"train"}  # minimize's help names the command whose update rules it uses
# run's help: how python runs a script, and the modules it names
HELP_NAMES |= set("""SCRIPT ARGS python Python import __main__ numpy matplotlib
NotImplementedError""".split())


@pytest.mark.parametrize("width", [60, 80, 120])
def test_chinese_tables_align(width):
    result = run("grad", "y_hat = x*w; r = y_hat - y; loss = r**2", "x=1", "y=2", "w=1",
                 "--lang", "zh", "--width", str(width))
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert all(cell_len(line) <= width for line in lines), width
    # every line of a box is as wide as its top border
    box: list[str] = []
    for line in lines + [""]:
        if line and line[:1] in "┏┃┡│└":
            box.append(line)
        elif box:
            assert len({cell_len(row.rstrip()) for row in box}) == 1, "\n".join(box)
            # the column rules stand at the same columns on every line of the box
            rules = {tuple(cell_len(row[:i]) for i, c in enumerate(row) if c in "┏┓┡┩└┘┳┃╇│┴")
                     for row in box}
            assert len(rules) == 1, "\n".join(box)
            box = []
    assert any("前向传播" in line for line in lines)


def test_latex_in_chinese_is_real_text_for_xelatex(tmp_path):
    result = run("grad", "x*w", "--x", "2", "--w", "3", "--dz", "5", "--lang", "zh",
                 "--format", "latex")
    text = result.stdout
    assert "% needs \\usepackage{ctex, booktabs, amsmath, amssymb, array, longtable}" in text
    assert "\\paragraph{前向传播}" in text and "U+" not in text
    english = run("grad", "x*w", "--x", "2", "--w", "3", "--lang", "en", "--format", "latex")
    assert "ctex" not in english.stdout
    if not shutil.which("xelatex"):
        pytest.skip("xelatex is not installed")
    document = ("\\documentclass{article}\n\\usepackage{ctex, booktabs, amsmath, amssymb, "
                "array, longtable}\n\\begin{document}\n" + text + "\\end{document}\n")
    (tmp_path / "zh.tex").write_text(document, encoding="utf-8")
    compiled = subprocess.run(["xelatex", "-interaction=nonstopmode", "-halt-on-error",
                               "zh.tex"], cwd=tmp_path, capture_output=True, text=True,
                              timeout=300)
    assert compiled.returncode == 0, compiled.stdout[-2000:]


# ------------------------------------------------------------ hessian, --order K, minimize
@pytest.mark.parametrize("args", [
    ("grad", "x**4 - 2*x**2", "x=2", "--order", "3", "--format", "json"),
    ("graph", "tanh(x)", "x=1", "--order", "2", "--format", "dot"),
    ("minimize", "(x - 3)**2 + w*w", "x=0", "w=1", "--method", "adam", "--lr", "0.1",
     "--steps", "5", "--trace", "--format", "json"),
])
def test_higher_order_and_minimize_machine_output_does_not_change(args):
    english, chinese = run(*args, "--lang", "en"), run(*args, "--lang", "zh")
    assert english.exit_code == chinese.exit_code == 0, chinese.stderr
    if args[0] == "graph":  # the legend is for people; the structure is the same
        strip = re.compile(r'label="[^"]*"')
        assert strip.sub("", english.stdout) == strip.sub("", chinese.stdout)
        assert english.stdout != chinese.stdout
    else:
        assert english.stdout == chinese.stdout
    if args[0] == "minimize":  # the written update stays English in the JSON
        assert '"update_text": "x ← x − lr·m̂/(√v̂ + ε) = 0 → 0.0999' in chinese.stdout


@pytest.mark.parametrize("args, expected", [
    (("grad", "x*y", "x=1", "y=2", "--order", "2"),
     "错误: 高阶导数只对一个变量求；表达式有 2 个（x, y）\n  提示: 用 --wrt=NAME 选一个\n"),
    (("minimize", "x**2", "x=1", "--method", "newton", "--lr", "0.1"),
     "错误: --lr 不用于 newton: 它走完整的牛顿步 d = -H⁻¹·g，没有学习率\n"
     "  提示: 去掉 --lr，或使用需要学习率的 --method gd、momentum 或 adam\n"),
    (("minimize", "x**2", "x=1", "--steps", "3", "--explain-step", "5"),
     "错误: --explain-step 5: 这次运行只有 3 步\n  提示: 请选 1 到 3 之间的一步\n"),
    (("hessian", "x*y", "x=1", "y=2", "--wrt", "q"),
     "错误: --wrt 指定的 'q' 不是表达式的变量（它的变量：x, y）\n"),
    (("minimize", "3"),
     "错误: 表达式没有可供最小化的变量\n  提示: 给它一个变量，例如 (x - 3)**2 x=0\n"),
])
def test_hessian_order_and_minimize_errors_are_chinese_and_name_the_flag(args, expected):
    result = run(*args, "--lang", "zh")
    assert result.exit_code == 2
    assert result.stderr == expected
    assert run(*args, "--lang", "en").exit_code == 2


def test_hessian_notes_read_back_into_chinese():
    kink = run("hessian", "relu(x)*y + x*y", "x=0", "y=2", "--lang", "zh")
    assert kink.exit_code == 0, kink.stderr
    assert "  x, x: 在折点处不同: v2（relu(x)）处：relu'(0) = 0（PyTorch 的约定）\n" in kink.stdout
    assert "不定: 它在一些方向上向上弯，在另一些方向上向下弯" in run(
        "hessian", "x0**3 - 2*x0*x1 - x1**6", "x0=1", "x1=2", "--lang", "zh").stdout
    english = run("hessian", "relu(x)*y + x*y", "x=0", "y=2", "--format", "json", "--lang", "zh")
    assert '"note": "differs at a kink: relu\'(0) = 0 (PyTorch\'s convention) at v2' in \
        english.stdout


def test_why_minimize_stopped_is_chinese_on_stderr_and_english_in_the_json():
    args = ("minimize", "x0*x1", "x0=1", "x1=2", "--method", "newton")
    chinese = run(*args, "--lang", "zh")
    assert chinese.exit_code == 1
    assert chinese.stderr == (
        "错误: newton 无法进行第 1 步: 海森矩阵是不定的（特征值 -1, 1），所以牛顿步走向鞍点而不是"
        "极小值\n  当时的参数: x0=1.0, x1=2.0\n"
        "  提示: 使用 --method gd（或 momentum、adam），或从海森矩阵正定、更靠近极小值的地方开始\n")
    english = run(*args, "--format", "json", "--lang", "en")
    assert english.stdout == run(*args, "--format", "json", "--lang", "zh").stdout
    assert '"reason": "newton cannot take step 1: the Hessian is indefinite (eigenvalues -1, 1)' \
        in english.stdout


def test_domain_errors_are_chinese_and_the_json_reason_stays_english():
    zh = run("--lang", "zh", "grad", "log(x)", "x=-1")
    assert zh.exit_code == 2
    assert zh.stderr.startswith("错误: log(-1) 没有定义，位于节点 v2: log(x)（位于第 1 列）")
    assert "提示: log 要求 正数" in zh.stderr
    en = run("--lang", "en", "grad", "log(x)", "x=-1")
    assert en.stderr.startswith("Error: log(-1) is undefined at node v2: log(x) (at column 1)")
    assert "hint: log needs a positive number" in en.stderr
    args = ("train", "--lr", "10", "--epochs", "50", "--format", "json")
    documents = [run("--lang", lang, *args) for lang in ("zh", "en")]
    assert [d.exit_code for d in documents] == [1, 1]
    assert documents[0].stdout == documents[1].stdout
    assert "overflows a float at node v7 ('loss')" in documents[0].stdout
    assert "超出了浮点数的范围，位于节点 v7（'loss'）" in documents[0].stderr
