"""Simulation engine: many seeds x many steps of an optimizer on a synthetic problem.

:func:`simulate` runs in numba with no Python per step; :func:`reference_simulate` is the
readable NumPy definition it is tested against. Both return a :class:`SimulationResult`.

Documentation: :doc:`/guide/engine` (the user guide) in the package's documentation.
"""

from .reference import reference_simulate
from .result import MEASURES, SimulationResult
from .simulate import simulate

__all__ = ["MEASURES", "SimulationResult", "reference_simulate", "simulate"]
