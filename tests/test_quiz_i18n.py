"""quiz and grade in Chinese (--lang zh): a Chinese worksheet grades like the English one,
the grade's words are Chinese, and the errors name their flags in Chinese."""

from __future__ import annotations

import json

from helpers import invoke as run

LECTURE = "y_hat = x*w; r = y_hat - y; loss = r**2"
LECTURE_BINDINGS = ("x=1", "y=2", "w=1")
# Answers for some blanks of the lecture's worksheet: [5] is wrong (dloss/dr · ... = -2),
# [7] carries it, [14] (dloss/dx) is right; the Unicode minus is a minus.
ANSWERS = {1: "1", 2: "-1", 3: "1", 4: "-2", 5: "2", 7: "2", 14: "−2"}


def worksheet(language: str) -> str:
    result = run("quiz", LECTURE, *LECTURE_BINDINGS, "--format", "markdown", "--lang", language)
    assert result.exit_code == 0, result.stderr
    return result.stdout


def fill(text: str, answers: dict[int, str]) -> str:
    lines = []
    for line in text.splitlines():
        number = line.split("|")[1].strip() if line.startswith("| ") else ""
        if number.isdigit() and int(number) in answers and line.endswith("| ________ |"):
            line = line[: -len("________ |")] + answers[int(number)] + " |"
        lines.append(line)
    return "\n".join(lines) + "\n"


def grade_json(path, language: str = "en") -> tuple[int, str]:
    result = run("grade", LECTURE, *LECTURE_BINDINGS, "--answers", str(path),
                 "--format", "json", "--lang", language)
    return result.exit_code, result.stdout


def test_the_chinese_worksheet_has_chinese_titles_and_kinds():
    text = worksheet("zh")
    assert "## 答案\n\n| # | 类型 | 单元格 | 含义 | 答案 |\n" in text
    assert "| 1 | 前向 | v3 | `y_hat = x*w` | ________ |" in text
    assert "| 4 | 局部 | v7/v5 | dloss/dr | ________ |" in text
    assert "| 5 | 乘积 | v7/v5 | dloss/dloss · dloss/dr | ________ |" in text
    assert "| 14 | 梯度 | x | dloss/dx | ________ |" in text
    assert "- 填写 16 个编号空格（[1] 到 [16]）：前向传播的值、局部导数、" in text
    assert "## 练习单" in text and "## 批改" in text
    # the English worksheet is unchanged
    assert "| # | kind | cell | meaning | answer |" in worksheet("en")


def test_a_filled_in_chinese_worksheet_grades_like_the_english_one(tmp_path):
    english, chinese = tmp_path / "en.md", tmp_path / "zh.md"
    english.write_text(fill(worksheet("en"), ANSWERS), encoding="utf-8")
    chinese.write_text(fill(worksheet("zh"), ANSWERS), encoding="utf-8")
    expected = grade_json(english)
    assert expected[0] == 1
    document = json.loads(expected[1])
    assert document["score"] == {"right": 5, "close": 0, "wrong": 1, "carried": 1,
                                 "missing": 9, "total": 16}
    assert document["first_wrong"] == "v7/v5"
    assert document["computation"] == "dloss/dloss · dloss/dr = 1 · (-2) = -2, you wrote 2"
    # the same marks, whichever language the worksheet or the grader speaks
    assert grade_json(chinese) == expected
    assert grade_json(chinese, "zh") == expected
    assert grade_json(english, "zh") == expected


def test_a_blank_written_over_in_a_chinese_table_counts(tmp_path):
    text = worksheet("zh").replace("| `dr/dy_hat = 1` | [6] | [7] |",
                                   "| `dr/dy_hat = 1` | [6] 1 | [7] |")
    path = tmp_path / "zh.md"
    path.write_text(text, encoding="utf-8")
    code, out = grade_json(path)
    assert code == 0
    cells = {(c["kind"], c["key"]): (c["given"], c["verdict"])
             for c in json.loads(out)["cells"]}
    assert cells[("local", "v5/v3")] == (1.0, "right")
    assert json.loads(out)["score"]["missing"] == 15


def test_the_grade_is_chinese(tmp_path):
    path = tmp_path / "zh.md"
    path.write_text(fill(worksheet("zh"), ANSWERS), encoding="utf-8")
    result = run("grade", LECTURE, *LECTURE_BINDINGS, "--answers", str(path), "--lang", "zh")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[:4] == [
        "批改",
        "得分: 16 个单元格中 5 个正确（正确 5、接近 0、错误 1、连带 1、未填 9）。",
        "第一个错误，乘积 v7/v5: dloss/dloss · dloss/dr = 1 · (-2) = -2，你写的是 2",
        "后面有 1 个单元格源自前面的错误（连带）：用你在上游写下的值来算，它们是对的。",
    ]
    assert "单元格，按前向与反向传播计算它们的顺序" in lines
    row = next(line for line in lines if line.startswith("│ 乘积 │ v7/v5"))
    assert row.split("│")[1:-1] == [" 乘积 ", " v7/v5  ", " dloss/dloss · dloss/dr   ",
                                   "    2 ", "   -2 ", " 错误 "]


def test_no_mistakes_in_chinese():
    from pathlib import Path

    key = Path(__file__).resolve().parent.parent / "samples" / "lecture-key.json"
    result = run("grade", LECTURE, *LECTURE_BINDINGS, "--answers", str(key), "--lang", "zh")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[1:3] == [
        "得分: 16 个单元格中 16 个正确（正确 16、接近 0、错误 0、连带 0、未填 0）。",
        "没有错误。"]


def test_errors_are_chinese_and_name_the_flags(tmp_path):
    cases = [
        (("quiz", "x", "--level", "2"),
         "错误: --level 用来抽取随机程序: 它需要 --random\n"
         "  提示: 加上 --random，或去掉 --level\n"),
        (("quiz", "x", "x=1", "--blank", "forwrd"),
         "错误: --blank 中的 'forwrd' 不是一种单元格（forward, local, product, gradient）\n"
         "  提示: 是不是想写 'forward'？\n"),
        (("quiz", "--random", "--level", "2", "x"),
         "错误: 请给出 EXPR 或 --random，不要两者都给\n  提示: --random 会自己抽取程序和它的值\n"),
        (("grade", "x", "x=1"),
         '错误: 需要 --answers FILE: 要批改的答案\n  提示: 例如 {"gradients": {"x": -2}} '
         "这样的 JSON 文件，或 backtrace quiz --format markdown 生成并填好的练习单\n"),
    ]
    for args, stderr in cases:
        result = run(*args, "--lang", "zh")
        assert result.exit_code == 2, args
        assert result.stderr == stderr
    answers = tmp_path / "a.json"
    answers.write_text('{"forward": {"zz": -2}}', encoding="utf-8")
    result = run("grade", LECTURE, *LECTURE_BINDINGS, "--answers", str(answers), "--lang", "zh")
    assert result.exit_code == 2
    assert result.stderr == (f"错误: {answers}, 第 1 行, 第 14 列: 'zz' 不是这个程序的前向单元格: "
                             "键是一个运算的节点（变量和常数的值是已知的）\n"
                             "  提示: 它的前向单元格: v3, v5, v7, y_hat, r, loss\n")
