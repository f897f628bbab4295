"""Shared test settings: the --update-golden option and the Hypothesis profiles.

``pytest --update-golden`` rewrites the files under ``tests/golden/`` from the current output
(review the diff before committing). Hypothesis runs the modest "ci" profile by default;
``HYPOTHESIS_PROFILE=long pytest tests/test_properties.py`` searches much longer.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    max_examples=60,
    deadline=None,  # SymPy's first call in a process is slow; time is bounded by max_examples
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,  # the same examples on every run: CI is reproducible; "long" explores
    print_blob=True,
)
settings.register_profile(
    "long",
    max_examples=2_000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_addoption(parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="rewrite tests/golden/* from the current output instead of comparing",
    )
