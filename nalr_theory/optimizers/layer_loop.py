"""Methods whose step reads more of the problem than its gradients: a loop over layers.

Sophia needs a curvature estimate at its refresh steps (Hessian-vector products, sampled
labels or the exact diagonal), and the adaptive Schatten-q method needs each layer's input
activations on the gradient's minibatch. Both are elementwise or per-layer maps that do not
fit the flat LMO kernel of :mod:`nalr_theory.optimizers._kernels`, so they share this
small base instead: ``init``, checks, the schedule, and one Python loop over layers that
calls the method's step from :mod:`.steps` (``backend="reference"``) or the *same* step
compiled by numba (``backend="numba"``, ``_kernels.steps``). The simulation engine runs
these methods with its reference loop around that step (``compiled_engine`` is false).

What the problem must provide is declared by :meth:`LayerLoopOptimizer.check_problem` and
computed by :meth:`LayerLoopOptimizer.step_inputs`, which the engine calls at every step
after the oracle, with the seed's generator: the extra keyword arguments of ``step``.
"""

from __future__ import annotations

from dataclasses import asdict
import numpy as np

from . import _kernels, steps
from .base import BACKENDS, Optimizer, diverged
from .config import build_layout, check_choice


class LayerLoopOptimizer(Optimizer):
    """Base class (see the module docstring); subclasses define ``init``, ``_layer_steps`` and
    the problem hooks. ``config`` is a frozen dataclass with ``method``, ``lr`` (a schedule),
    ``weight_decay`` and the method's options; ``config.estimator`` is ``None`` (no LANTON
    noise estimator) and ``config.adaptive`` false.
    """

    #: the engine runs these methods with its reference loop (the step itself may be numba)
    compiled_engine = False
    #: per-layer diagnostics beyond ``weights``, ``noise_estimate``, ``step_length`` that a
    #: simulation records (``SimulationResult.extra``)
    extra_records: tuple = ()

    def __init__(self, layers, config, backend: str = "reference"):
        self.backend = check_choice(backend, "backend", BACKENDS)
        self.layout = build_layout(tuple(layers))
        self.kinds = (config.method,) * len(self.layout)
        self.config = config
        self.method = config.method
        p = len(self.layout)
        self.fixed_weights = np.ones(p)
        self.adaptive_groups = np.full(p, -1, dtype=np.int64)
        self.adaptive_mask = np.zeros(p, dtype=bool)
        self.adaptive_layers = ()
        self.needs_params = bool(config.weight_decay > 0.0)
        self._kernel_config = None

    def with_backend(self, backend: str) -> "LayerLoopOptimizer":
        """The same optimizer on another backend (``"reference"`` or ``"numba"``)."""
        return type(self)(self.layout.layers, self.config, backend)

    def describe(self) -> dict:
        """Everything a result must record to say which optimizer ran."""
        record = asdict(self.config)
        record["lr"] = repr(self.config.lr)
        record.update(layers=[dict(name=n, shape=list(s), norm=nm.name) for n, s, nm in
                              zip(self.layout.names, self.layout.shapes, self.layout.norms)], backend=self.backend)
        return record

    def kernel_config(self):
        """Not available: these methods have no flat LMO kernel (see the module docstring)."""
        raise NotImplementedError(f"{self.method} runs a per-layer loop; it has no flat kernel configuration")

    def schedule_values(self, t: int) -> tuple[float, float, float]:
        """``(lr_t, beta_t, lr_t)``, checked (``ValueError`` naming ``lr``)."""
        lr = self.checked_lr(t)
        return lr, float(self.momentum_value), lr

    def schedule_table(self, T: int) -> np.ndarray:
        """``(T, 3)`` float64, row ``t - 1`` :meth:`schedule_values` ``(t)`` (its own values, so
        one call per step)."""
        return self.schedule_table_by_step(T)

    # -- the problem ---------------------------------------------------------------------------

    def check_problem(self, problem) -> None:
        """``ValueError`` naming what ``problem`` lacks for this method (nothing by default)."""

    def step_inputs(self, problem, params: dict, record, rng: np.random.Generator, t: int) -> dict:
        """The extra keyword arguments of ``step`` at step ``t`` (nothing by default)."""
        return {}

    # -- checks and the loop ---------------------------------------------------------------------

    def step(self, state, grads, grads2=None, noise=None, params=None, **inputs):
        """One step: ``(updates, new_state)``; the caller applies ``params + updates``.

        ``grads2`` and ``noise`` are accepted (and ignored) so that every optimizer is called
        alike; ``params`` is needed with weight decay; ``inputs`` are the method's own (see
        its module). Inputs are never modified; a non-finite update raises
        ``FloatingPointError("diverged at step t: ...")``.
        """
        state = self.check_state(state)
        grads = self.layout.check_tree(grads, "grads")
        if self.needs_params and params is None:
            raise ValueError("params: this optimizer's update depends on the iterate (weight decay); pass params=")
        params = self.layout.check_tree(params, "params") if params is not None else None
        t = int(state.step) + 1
        lr, beta, _ = self.schedule_values(t)
        checked = self.check_inputs(t, inputs)
        updates, new_state = self._layer_steps(state, grads, params, t, lr, beta, checked)
        for name, update in updates.items():
            if not np.all(np.isfinite(update)):
                raise diverged(t, f"updates[{name!r}]")
        return updates, new_state

    def check_inputs(self, t: int, inputs: dict) -> dict:  # pragma: no cover - abstract
        """The method's own inputs of step ``t`` checked (``ValueError`` naming the input)."""
        raise NotImplementedError

    def _layer_steps(self, state, grads, params, t, lr, beta, inputs):  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def step_functions(self):
        """The module holding the method's step: :mod:`.steps` or its numba compilation."""
        return _kernels.steps if self.backend == "numba" else steps


__all__ = ["LayerLoopOptimizer"]
