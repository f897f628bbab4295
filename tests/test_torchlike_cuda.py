"""torch.cuda in backtrace's torch answers as PyTorch 2.13 does on a machine without a GPU
(captured with PyTorch 2.13.0+cpu: `cpu False 0`, and seeding the GPUs does nothing)."""

from __future__ import annotations

import subprocess
import sys

import pytest

import backtrace_cli.torchlike as torch

SCRIPT = """\
import torch
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
torch.cuda.manual_seed(0)
torch.cuda.manual_seed_all(0)
print(device, torch.cuda.is_available(), torch.cuda.device_count())
"""


def test_no_gpu_is_available():
    assert torch.cuda.is_available() is False
    assert torch.cuda.device_count() == 0
    assert torch.cuda.manual_seed_all(0) is None


def test_the_rest_of_torch_cuda_is_outside_the_subset():
    with pytest.raises(NotImplementedError, match=r"backtrace's torch has no "
                                                  r"torch\.cuda\.synchronize: run this script"):
        torch.cuda.synchronize()


def test_a_script_that_asks_for_a_gpu_runs_on_the_cpu(tmp_path):
    script = tmp_path / "device.py"
    script.write_text(SCRIPT, encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "backtrace_cli", "run", "--quiet", str(script)],
                            capture_output=True, text=True, timeout=600)
    assert (result.returncode, result.stdout, result.stderr) == (0, "cpu False 0\n", "")
