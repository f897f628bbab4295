"""The package's layers: folders are the data path and imports point only downward.

Every import is read from the source with ``ast`` (also imports inside functions), so a
lazy import cannot hide a wrong direction or a circle.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "backtrace_cli"

# Lowest first. A module may import from its own layer and from the layers below it.
LAYERS = (
    ("errors", "limits", "files", "i18n", "catalogue", "locale"),
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
