"""backtrace's torch against PyTorch 2.13, case by case (tests/torchlike_cases.py).

Every case's text (a repr, printed values, an error's type and message, a warning) is
compared with what PyTorch gave (captured in tests/data/torchlike/cases.json, so CI without
PyTorch still checks); where PyTorch is installed, it is run too and must still give the
capture.
"""

from __future__ import annotations

import json
import re

import pytest

import backtrace_cli.torchlike as ours
from tests.torchlike_cases import CAPTURE, CASES, run_case

EXPECTED = json.loads(CAPTURE.read_text(encoding="utf-8"))
ADDRESS = re.compile(r" at 0x[0-9a-f]+")

try:
    import torch as real_torch

    REAL = real_torch.__version__.startswith("2.13.0")
except ImportError:
    real_torch, REAL = None, False


def _same_text(text: str) -> str:
    return ADDRESS.sub(" at 0x...", text)


def test_every_case_is_captured():
    assert sorted(EXPECTED) == sorted(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_backtraces_torch_gives_pytorchs_text(name):
    ours.GradMode.enabled = True
    assert _same_text(run_case(ours, name)) == _same_text(EXPECTED[name])


@pytest.mark.skipif(not REAL, reason="PyTorch 2.13.0 is not installed: the capture is checked "
                                     "against backtrace's torch only")
@pytest.mark.parametrize("name", sorted(CASES))
def test_the_capture_is_pytorchs(name):
    assert _same_text(run_case(real_torch, name)) == _same_text(EXPECTED[name])
