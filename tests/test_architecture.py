"""The package's layers: folders are the data path and imports point only downward.

Every import is read from the source with ``ast`` (also imports inside functions), so a
lazy import cannot hide a wrong direction or a circle.
"""

from __future__ import annotations

import ast
import functools
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "backtrace_cli"

# Lowest first. A module may import from its own layer and from the layers below it.
LAYERS = (
    ("errors", "limits", "files", "i18n", "catalogue", "locale", "signals", "phases"),
    ("ops",),
    ("syntax",),
    ("engine",),
    ("checks",),
    ("torchlike",),  # backtrace's torch: tensors over the engine, for `backtrace run`
    ("explain",),
    ("data",),
    ("train",),
    ("report",),
    ("formats",),
    ("run",),  # backtrace run: a user's script as python runs it, torch meaning ours
    ("api", "__init__"),
    ("cli", "__main__"),
)
LAYER_OF = {part: index for index, parts in enumerate(LAYERS) for part in parts}
# Third-party libraries that belong to one part of the package only.
ONLY_IN = {"click": ("cli",), "rich": ("formats", "cli")}
MAX_LINES = 400


def _module_name(path: Path) -> str:
    relative = path.relative_to(ROOT).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _top(module: str, path: Path) -> str:
    """The layer key of a module: its folder under the package, or its own name."""
    parts = module.split(".")
    if len(parts) == 1:
        return "__init__"
    return parts[1]


@functools.cache  # every test reads the same files: parse each once per session
def _imports(module: str, path: Path) -> list[tuple[str, int]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    is_package = path.name == "__init__.py"
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.append((target, node.lineno))
            # `from backtrace_cli.x import y` may import the module x.y
            found += [(f"{target}.{alias.name}", node.lineno) for alias in node.names]
    return found


def _internal_edges() -> dict[str, list[tuple[str, int]]]:
    modules = _modules()
    edges = {}
    for module, path in modules.items():
        targets = []
        for target, line in _imports(module, path):
            if target in modules and target != module:
                targets.append((target, line))
        edges[module] = targets
    return edges


def test_every_folder_has_a_layer():
    for module, path in _modules().items():
        assert _top(module, path) in LAYER_OF, f"{module} is in no layer of LAYERS"


def test_imports_point_only_downward():
    modules = _modules()
    wrong = []
    for module, targets in _internal_edges().items():
        here = LAYER_OF[_top(module, modules[module])]
        for target, line in targets:
            if target == "backtrace_cli" and module.startswith("backtrace_cli.cli"):
                continue  # the CLI reads __version__ from the package
            there = LAYER_OF[_top(target, modules[target])]
            if there > here:
                wrong.append(f"{modules[module].relative_to(ROOT)}:{line} imports {target}")
    assert not wrong, "imports that point upward:\n" + "\n".join(wrong)


def test_no_import_circle():
    edges = {module: [target for target, _ in targets]
             for module, targets in _internal_edges().items()}
    # A package imports its own submodules only through `from . import`; a module importing
    # its parent package's __init__ is not a circle of code, so parents are left out.
    for module in edges:
        edges[module] = [t for t in edges[module] if not module.startswith(t + ".")]
    state: dict[str, int] = {}
    for start in sorted(edges):
        if state.get(start):
            continue
        stack = [(start, iter(edges[start]))]
        path = [start]
        state[start] = 1
        while stack:
            node, children = stack[-1]
            for child in children:
                if state.get(child) == 1:
                    circle = path[path.index(child):] + [child]
                    pytest.fail("import circle: " + " -> ".join(circle))
                if not state.get(child):
                    state[child] = 1
                    path.append(child)
                    stack.append((child, iter(edges[child])))
                    break
            else:
                state[node] = 2
                stack.pop()
                path.pop()


@pytest.mark.parametrize("library", sorted(ONLY_IN))
def test_libraries_stay_in_their_layer(library):
    wrong = []
    for module, path in _modules().items():
        top = _top(module, path)
        for target, line in _imports(module, path):
            if target.split(".")[0] == library and top not in ONLY_IN[library]:
                wrong.append(f"{path.relative_to(ROOT)}:{line}")
    assert not wrong, f"{library} imported outside {ONLY_IN[library]}: " + ", ".join(wrong)


def test_no_module_over_the_line_limit():
    files = sorted(PACKAGE.rglob("*.py")) + sorted((ROOT / "benchmarks").rglob("*.py"))
    long = [f"{path.relative_to(ROOT)}: {count}" for path in files
            if (count := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES]
    assert not long, f"modules over {MAX_LINES} lines:\n" + "\n".join(long)


def test_the_layer_test_sees_a_wrong_import(tmp_path):
    """The checks above must be able to fail: an upward import in a copy is caught."""
    source = "from backtrace_cli.cli.main import main\n"
    imports = _imports("backtrace_cli.ops.fake", _write(tmp_path, source))
    assert ("backtrace_cli.cli.main", 1) in imports


def _write(tmp_path: Path, source: str) -> Path:
    path = tmp_path / "fake.py"
    path.write_text(source)
    return path


# ----------------------------------------------------------------------------- one value model
# Only engine/ knows how a value is stored (a Python float or a NumPy array): every layer
# above asks engine/values.py (shape_of, to_plain, all_finite, as_float64, json_text, ...).
# A program's shapes are always a list (() for a scalar), never None.
VALUE_STORAGE = re.compile(
    r"\bis_array\(|\.ndim\b|isinstance\([^)]*ndarray|shapes is None|shapes is not None"
    r"|has_arrays"
)
# The layers that hold values themselves: the engine's back ends, and backtrace's torch, whose
# tensors are NumPy arrays with PyTorch's own ndim/dim() semantics (its public contract).
VALUE_HOLDERS = ("engine", "torchlike")
# Modules elsewhere still allowed to ask (shrink this list; never grow it).
VALUE_STORAGE_ALLOWED: tuple[str, ...] = ()


def _value_storage_questions(path: Path) -> list[int]:
    return [number for number, line in
            enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
            if VALUE_STORAGE.search(line) and not line.lstrip().startswith("#")]


def test_only_the_engine_knows_how_a_value_is_stored():
    wrong = []
    for module, path in _modules().items():
        relative = path.relative_to(ROOT).as_posix()
        if _top(module, path) in VALUE_HOLDERS or relative in VALUE_STORAGE_ALLOWED:
            continue
        wrong += [f"{relative}:{number}" for number in _value_storage_questions(path)]
    assert not wrong, ("ask engine/values.py (shape_of, to_plain, all_finite, ...) instead of "
                       "testing how a value is stored: " + ", ".join(wrong))


def test_the_value_test_sees_a_storage_question(tmp_path):
    """The check above must be able to fail: each forbidden form is caught, comments are not."""
    source = ("if is_array(v): pass\nif v.ndim: pass\nisinstance(v, np.ndarray)\n"
              "if shapes is None: pass\n# shapes is None in a comment\n")
    assert _value_storage_questions(_write(tmp_path, source)) == [1, 2, 3, 4]
