"""Optimizers: LMO momentum methods with fixed and noise-adaptive layerwise steps.

Functional shape (optax style)::

    from nalr_theory import optimizers
    opt = optimizers.lanton(layers, lr=0.01, estimator="consecutive")   # or muon, dmuon, ...
    state = opt.init(params)
    updates, state = opt.step(state, grads, grads2=None, noise=None, params=None)
    params = {name: params[name] + updates[name] for name in params}

Stateful use on your own arrays: ``opt = optimizers.Stateful(optimizers.muon(layers));
params = opt.step(params, grads)``. ``backend="numba"`` runs the flat numba kernel
(``optimizers._kernels.step``, the engine's entry point) behind the same interface.

Where the math is: every formula is one function of ``rules`` (momentum, steps, AdamW,
NorMuon, LANTON's noise sample, EMA and weights); each method's update on one layer is one
function of ``steps`` composed from them; the numba path compiles those same functions
(``_kernels``). Each method module (``muon``, ``lanton``, ...) documents its method in the
template Problem / Algorithm / Guarantee / References and builds it.

Methods: ``lmo_momentum``, ``scion``, ``muon``, ``dmuon``, ``fixed_layerwise``, ``lanton``,
``normuon``, ``adamw``, and the baselines ``sophia`` (diagonal curvature, clipped) and
``schatten_adaptive`` (a Schatten-q geometry per layer chosen from activations)
(``get(name, layers, ...)`` by name). Schedules: ``schedules``.
Noise estimators: ``noise_estimators.ESTIMATORS``. State: :class:`OptimizerState` (save
with :func:`save_state`, reload with :func:`load_state`), diagnostics in ``state.diagnostics``.

Documentation: :doc:`/math/optimizers` (the mathematics) and :doc:`/guide/optimizers` (the user guide) in the package's documentation.
"""

from . import rules, schedules, steps
from .base import Optimizer, Stateful
from .config import Config, KernelConfig, LayerTable, Options
from .state import (
    Diagnostics,
    FlatState,
    OptimizerState,
    StepInputs,
    load_state,
    save_state,
    state_from_arrays,
    state_to_arrays,
)
from .adamw import adamw
from .dmuon import dmuon
from .fixed_layerwise import fixed_layerwise, oracle_weights
from .lanton import lanton
from .lmo_momentum import lmo_momentum
from .muon import muon
from .noise_estimators import DUALS, ESTIMATORS
from .normuon import normuon
from .scion import scion
from .sophia import Sophia, sophia
from .schatten_adaptive import SchattenAdaptive, schatten_adaptive

METHODS = {
    "lmo_momentum": lmo_momentum,
    "scion": scion,
    "muon": muon,
    "dmuon": dmuon,
    "fixed_layerwise": fixed_layerwise,
    "lanton": lanton,
    "normuon": normuon,
    "adamw": adamw,
    "sophia": sophia,
    "schatten_adaptive": schatten_adaptive,
}


def get(name: str, layers, **options) -> Optimizer:
    """The optimizer called ``name`` (a key of ``METHODS``) on ``layers`` with ``options``."""
    if not isinstance(name, str) or name not in METHODS:
        raise ValueError(f"name: unknown optimizer {name!r}; known: {', '.join(METHODS)}")
    return METHODS[name](layers, **options)


__all__ = [
    "Config", "DUALS", "Diagnostics", "ESTIMATORS", "FlatState", "KernelConfig", "LayerTable", "METHODS", "Optimizer",
    "Options", "SchattenAdaptive", "Sophia", "StepInputs", "rules", "schatten_adaptive", "sophia", "steps",
    "OptimizerState", "Stateful", "adamw", "dmuon", "fixed_layerwise", "get", "lanton", "lmo_momentum",
    "load_state", "muon", "normuon", "oracle_weights", "save_state", "schedules", "scion", "state_from_arrays",
    "state_to_arrays",
]
