"""The slow tier's list (tiers.py) names real tests, and the marker reaches them."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import tiers

TESTS = Path(__file__).resolve().parent


def _test_functions(module: str) -> set[str]:
    tree = ast.parse((TESTS / module).read_text(encoding="utf-8"))
    return {node.name for node in tree.body
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            and node.name.startswith("test")}


def test_every_slow_module_exists():
    missing = [module for module in tiers.SLOW_MODULES if not (TESTS / module).exists()]
    assert not missing, f"tiers.SLOW_MODULES names files that are not there: {missing}"


@pytest.mark.parametrize("module", sorted(tiers.SLOW_TESTS))
def test_every_slow_test_is_a_test_of_its_file(module):
    assert (TESTS / module).exists(), f"tiers.SLOW_TESTS names {module}, which is not there"
    unknown = sorted(set(tiers.SLOW_TESTS[module]) - _test_functions(module))
    assert not unknown, f"tiers.SLOW_TESTS[{module!r}] names no test of that file: {unknown}"


def test_a_listed_module_a_listed_test_and_a_pattern_are_slow_and_others_are_not():
    assert tiers.is_slow("test_pipes.py", "test_anything")
    assert tiers.is_slow("test_tape.py", "test_a_chain_100000_nodes_deep")
    assert tiers.is_slow("test_notebook_display.py", "test_anything")
    assert tiers.is_slow("test_run_scripts.py", "test_anything")
    assert tiers.is_slow("test_anywhere.py", "test_the_capture_is_pytorchs")
    assert tiers.is_slow("test_anywhere.py", "test_compare_reports_identical_output")
    assert not tiers.is_slow("test_tape.py", "test_the_lecture_tape")
    assert not tiers.is_slow("test_architecture.py", "test_imports_point_only_downward")


class _Item:
    def __init__(self, module: str, name: str) -> None:
        self.path = TESTS / module
        self.originalname = name
        self.name = f"{name}[a parameter]"
        self.markers: list[str] = []

    def add_marker(self, marker) -> None:
        self.markers.append(marker.name)


def test_the_hook_marks_exactly_the_listed_tests():
    import conftest

    items = [_Item("test_tape.py", "test_a_chain_100000_nodes_deep"),
             _Item("test_tape.py", "test_the_lecture_tape"), _Item("test_pipes.py", "test_x")]
    conftest.pytest_collection_modifyitems(None, items)
    assert [item.markers for item in items] == [["slow"], [], ["slow"]]


def test_nothing_is_marked_slow_outside_the_list(request):
    """A test marked ``@pytest.mark.slow`` in its own file would be a second list."""
    for item in request.session.items:
        if item.get_closest_marker("slow"):
            assert tiers.is_slow(item.path.name, getattr(item, "originalname", item.name)), (
                f"{item.nodeid} is marked slow outside tests/tiers.py: list it there instead")
