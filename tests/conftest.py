"""Test-suite settings shared by every test directory.

Hypothesis: no per-example deadline (the first call of a numba kernel includes its
compilation or cache load, which is not what a property test measures). On CI (``CI`` set)
the examples are derandomised so a run is reproducible; locally they vary, to find more.
"""

import os

from hypothesis import settings

settings.register_profile("dev", deadline=None, print_blob=True)
settings.register_profile("ci", deadline=None, print_blob=True, derandomize=True)
settings.load_profile("ci" if os.environ.get("CI") else "dev")
