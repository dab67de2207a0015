"""Hypothesis settings for the property tests (`test_*_properties.py`).

The default run tries 200 examples per property, the same ones every time
(derandomized), with no deadline: a slow example on a busy machine is not a
failure. `HYPOTHESIS_PROFILE=thorough` searches further, at random:

    HYPOTHESIS_PROFILE=thorough .venv/bin/python -m pytest tests/unit -k properties
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "default-run",
    max_examples=200,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "thorough",
    max_examples=5000,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default-run"))
