"""The optimizer object: layers routed to their steps, checks, state, and the two backends.

An :class:`Optimizer` couples the layers (as the method sees them: Muon's presets, say), the
route of each layer (``"lmo"``: :func:`~.steps.lmo_step`, ``"normuon"``:
:func:`~.steps.normuon_step`, ``"adamw"``: :func:`~.steps.adamw_step`, as optax's
``partition`` routes parameters) and a validated :class:`~.config.Config`::

    opt = optimizers.muon(layers, lr=0.02)
    state = opt.init(params)
    updates, state = opt.step(state, grads, grads2=None, noise=None, params=None)
    params = {name: params[name] + updates[name] for name in params}

``params`` is needed by ``step`` only when the update reads the iterate (decoupled weight
decay, Scion's constrained step); ``opt.needs_params`` says so, and a missing ``params`` then
raises. ``backend="numba"`` runs the same steps compiled by numba (``_kernels.step``) on the
same :class:`~.state.OptimizerState`; the engine calls that kernel directly on
:class:`~.state.FlatState` arrays (``opt.to_flat``, ``opt.kernel_config``).

Bad input raises ``ValueError`` whose message starts with the parameter's name, before any
work; states are immutable records, so a failed step changes nothing. A step whose update
or noise sample overflows raises ``FloatingPointError("diverged at step t: ...")`` on both
backends.
"""

from __future__ import annotations

import math
from typing import Mapping

import numpy as np

from ..geometry import Layer
from . import _kernels, rules, steps
from .config import Config, KernelConfig, build_layout, check_choice, layer_table, options
from .state import Diagnostics, FlatState, OptimizerState, StepInputs, load_state, save_state

BACKENDS = ("reference", "numba")


def diverged(t: int, what: str) -> FloatingPointError:
    """The package's error for a run that left the finite numbers at step ``t``."""
    return FloatingPointError(f"diverged at step {t}: {what} is not finite (overflow)")


class Optimizer:
    """``init(params) -> state`` and ``step(state, grads, ...) -> (updates, state)``.

    Attributes: ``method`` (name), ``layout`` (:class:`~nalr_theory.geometry.Layout` of the
    layers as the method sees them), ``kinds`` (per layer: ``"lmo"``, ``"normuon"`` or
    ``"adamw"``), ``config`` (:class:`~.config.Config`), ``options`` (the
    :class:`~.config.Options` the steps read), ``backend``, ``needs_params``.
    """

    def __init__(self, layers: tuple[Layer, ...], kinds: tuple[str, ...], config: Config,
                 backend: str = "reference"):
        self.backend = check_choice(backend, "backend", BACKENDS)
        self.layout = build_layout(layers)
        self.kinds = tuple(kinds)
        self.config = config
        self.method = config.method
        self.options = options(config)
        p = len(self.layout)
        # noise-adaptive weights are normalised within a group, over LMO layers only
        is_adamw = np.array([kind == "adamw" for kind in self.kinds])
        self.adaptive_groups = np.where(is_adamw, -1, self.layout.group_ids).astype(np.int64)
        self.adaptive_mask = self.adaptive_groups >= 0
        self.adaptive_layers = tuple(np.flatnonzero(self.adaptive_mask).tolist())
        self.fixed_weights = np.asarray(config.fixed_weights if config.fixed_weights else np.ones(p),
                                        dtype=np.float64)
        self.needs_params = bool(config.constrained or config.weight_decay > 0.0
                                 or ("adamw" in self.kinds and config.adamw_weight_decay > 0.0))
        self._kernel_config = None
        names, shapes = self.layout.names, self.layout.shapes
        self._state_shapes = {  # what check_state expects of each per-layer field
            "momentum": dict(zip(names, shapes)),
            "second_moment": {n: s for n, s, k in zip(names, shapes, self.kinds) if k == "adamw"},
            "row_second_moment": {n: (s[0], 1) for n, s, k in zip(names, shapes, self.kinds) if k == "normuon"},
            "previous_grads": dict(zip(names, shapes)) if config.estimator == "consecutive" else {},
        }

    def __repr__(self) -> str:
        return f"Optimizer(method={self.method!r}, layers={list(self.layout.names)}, backend={self.backend!r})"

    def with_backend(self, backend: str) -> "Optimizer":
        """The same optimizer on another backend (``"reference"`` or ``"numba"``)."""
        return type(self)(self.layout.layers, self.kinds, self.config, backend)

    def describe(self) -> dict:
        """Everything a result must record to say which optimizer ran."""
        record = self.config.describe()
        record.update(
            layers=[dict(name=n, shape=list(s), norm=nm.name, radius=nm.radius, lmo_method=repr(nm.lmo_method),
                         group=self.layout.group_names[g], kind=k)
                    for n, s, nm, g, k in zip(self.layout.names, self.layout.shapes, self.layout.norms,
                                              self.layout.group_ids, self.kinds)],
            backend=self.backend,
        )
        return record

    # -- state ---------------------------------------------------------------------------------

    def init(self, params=None) -> OptimizerState:
        """Zero momenta, ``H = 0``, weights = the fixed weights (1 for LANTON before data).

        ``params`` (optional) is checked against the layers; only shapes are used.
        """
        if params is not None:
            self.layout.check_tree(params, "params")
        zeros = {field: {name: np.zeros(shape) for name, shape in shapes.items()}
                 for field, shapes in self._state_shapes.items()}
        nan = [np.full(len(self.layout), np.nan) for _ in range(5)]
        return OptimizerState(0, zeros["momentum"], zeros["second_moment"], zeros["row_second_moment"],
                              zeros["previous_grads"], 0.0, np.zeros(len(self.layout)), self.fixed_weights.copy(),
                              Diagnostics(self.fixed_weights.copy(), *nan))

    def check_state(self, state) -> OptimizerState:
        """Raise ``ValueError`` (``state: ...``) unless ``state`` belongs to this optimizer."""
        self.check_state_record(state, OptimizerState, "an OptimizerState (from init or load_state)")
        for field_name, shapes in self._state_shapes.items():
            self.check_tree_field(field_name, getattr(state, field_name), shapes)
        p = len(self.layout)
        for field_name in ("noise_estimate", "weights"):
            if np.shape(getattr(state, field_name)) != (p,):
                raise ValueError(f"state: {field_name} must have shape ({p},)")
        return state

    @staticmethod
    def check_state_record(state, record_type, expected: str) -> None:
        """``ValueError`` (``state: ...``) unless ``state`` is a ``record_type`` whose ``step`` is an
        integer ``>= 0``."""
        if not isinstance(state, record_type):
            raise ValueError(f"state: expected {expected}, got {type(state).__name__}")
        if isinstance(state.step, bool) or not isinstance(state.step, (int, np.integer)) or state.step < 0:
            raise ValueError(f"state: step must be an integer >= 0, got {state.step!r}")

    @staticmethod
    def check_tree_field(field_name: str, tree, shapes: Mapping) -> None:
        """``ValueError`` (``state: ...``) unless the state field ``tree`` has exactly the layers
        and shapes of ``shapes``."""
        if not isinstance(tree, Mapping) or set(tree) != set(shapes):
            raise ValueError(f"state: {field_name} does not match this optimizer's layers")
        for name, shape in shapes.items():
            if np.shape(tree[name]) != shape:
                raise ValueError(f"state: {field_name}[{name!r}] has shape {np.shape(tree[name])}, expected {shape}")

    # -- one step ------------------------------------------------------------------------------

    def checked_lr(self, t: int) -> float:
        """``config.lr(t)``, finite and ``>= 0`` (``ValueError`` naming ``lr`` otherwise)."""
        lr = self.config.lr(t)
        if not (math.isfinite(lr) and lr >= 0.0):
            raise ValueError(f"lr: schedule value at step {t} must be finite and >= 0, got {lr!r}")
        return float(lr)

    def schedule_values(self, t: int) -> tuple[float, float, float]:
        """``(lr_t, beta_t, adamw_lr_t)``, checked (``ValueError`` naming the schedule)."""
        config = self.config
        lr = self.checked_lr(t)
        if config.constrained and lr > 1.0:
            raise ValueError(f"lr: the constrained (conditional-gradient) step needs lr <= 1, got {lr!r} at step {t}")
        beta = config.beta(t)
        if not (math.isfinite(beta) and 0.0 <= beta < 1.0):
            raise ValueError(f"beta: schedule value at step {t} must lie in [0, 1), got {beta!r}")
        adamw_lr = lr if config.adamw_lr is None else config.adamw_lr(t)
        if not (math.isfinite(adamw_lr) and adamw_lr >= 0.0):
            raise ValueError(f"adamw_lr: schedule value at step {t} must be finite and >= 0, got {adamw_lr!r}")
        return float(lr), float(beta), float(adamw_lr)

    def schedule_table(self, T: int) -> np.ndarray:
        """``(T, 3)`` float64, row ``t - 1`` :meth:`schedule_values` ``(t)``, checked as it checks
        them: each schedule tabulated at once (``Schedule.values``; a constant costs no call
        per step, where a call and its checks per step took 2 ms at ``T = 2000``), and the
        first step that fails any check raises :meth:`schedule_values`'s error."""
        config = self.config
        try:
            lr, beta = config.lr.values(T), config.beta.values(T)
            adamw_lr = lr if config.adamw_lr is None else config.adamw_lr.values(T)
        except (TypeError, ValueError):  # a value that is no number: the per-step checks say which
            return self.schedule_table_by_step(T)
        with np.errstate(invalid="ignore"):  # NaN fails the comparisons below, as intended
            valid = (np.isfinite(lr) & (lr >= 0.0) & np.isfinite(beta) & (beta >= 0.0) & (beta < 1.0)
                     & np.isfinite(adamw_lr) & (adamw_lr >= 0.0))
            if config.constrained:
                valid &= lr <= 1.0
        if not valid.all():
            self.schedule_values(int(np.argmin(valid)) + 1)  # raises, naming the schedule
        return np.column_stack([lr, beta, adamw_lr])

    def schedule_table_by_step(self, T: int) -> np.ndarray:
        """:meth:`schedule_table` by one :meth:`schedule_values` call per step."""
        return np.array([self.schedule_values(t) for t in range(1, T + 1)], dtype=np.float64)

    def _check_step(self, state, grads, grads2, noise, params):
        state = self.check_state(state)
        grads = self.layout.check_tree(grads, "grads")
        needs_second = self.config.adaptive and self.config.estimator == "two_sample"
        needs_noise = self.config.adaptive and self.config.estimator == "oracle"
        if needs_second and grads2 is None:
            raise ValueError("grads2: the two_sample estimator needs a second independent gradient sample")
        if needs_noise and noise is None:
            raise ValueError("noise: the oracle estimator needs the oracle's noise (problem.oracle(...).noise)")
        if self.needs_params and params is None:
            raise ValueError("params: this optimizer's update depends on the iterate (weight decay or "
                             "constrained step); pass params=")
        grads2 = self.layout.check_tree(grads2, "grads2") if needs_second else None
        noise = self.layout.check_tree(noise, "noise") if needs_noise else None
        params = self.layout.check_tree(params, "params") if params is not None else None
        t = int(state.step) + 1
        return state, grads, grads2, noise, params, t, self.schedule_values(t)

    def step(self, state: OptimizerState, grads, grads2=None, noise=None, params=None):
        """One step: ``(updates, new_state)``; the caller applies ``params + updates``.

        ``grads2``: second independent gradient sample (``two_sample`` estimator); ``noise``:
        the oracle's noise (``oracle`` estimator); ``params``: the iterate ``X_t`` (needed
        when ``needs_params``). Inputs are never modified. A non-finite update or noise
        sample raises ``FloatingPointError("diverged at step t: ...")``.
        """
        state, grads, grads2, noise, params, t, (lr, beta, adamw_lr) = self._check_step(
            state, grads, grads2, noise, params)
        if self.backend == "numba":
            updates, new_state = self._numba_step(state, grads, grads2, noise, params, t, lr, beta, adamw_lr)
        else:
            updates, new_state = self.reference_step(state, grads, grads2, noise, params, t, lr, beta, adamw_lr)
        for name, update in updates.items():
            if not np.all(np.isfinite(update)):
                raise diverged(t, f"updates[{name!r}]")
        return updates, new_state

    def reference_step(self, state, grads, grads2, noise, params, t, lr, beta, adamw_lr):
        """The NumPy step on validated inputs: the method with its fixed weights."""
        return self.apply(state, grads, params, t, lr, beta, adamw_lr, self.fixed_weights)

    def apply(self, state, grads, params, t, lr, beta, adamw_lr, scale):
        """Route every layer to its step with learning rate ``lr * scale[l]``: ``(updates, state)``.

        This is the whole method for every optimizer but LANTON, which computes ``scale``
        from its noise estimates and hands it here; nothing here knows of noise.
        """
        config, opts = self.config, self.options
        momentum, second, rows, updates = {}, {}, {}, {}
        p = len(self.layout)
        duals, lengths, rms = np.full(p, np.nan), np.full(p, np.nan), np.zeros(p)
        for l, (name, kind, norm) in enumerate(zip(self.layout.names, self.kinds, self.layout.norms)):
            G = grads[name]
            X = G if params is None else params[name]  # read only when the step needs it
            if kind == "adamw":
                momentum[name], second[name], update = steps.adamw_step(
                    state.momentum[name], state.second_moment[name], G, X, t, adamw_lr, opts)
            elif kind == "normuon":
                lengths[l] = lr * scale[l]
                momentum[name], rows[name], update, duals[l] = steps.normuon_step(
                    state.momentum[name], state.row_second_moment[name], G, X, beta, lengths[l], opts,
                    norm.radius, norm.ns_coefficients)
            else:
                lengths[l] = lr * scale[l]
                momentum[name], U, D, update = steps.lmo_step(
                    state.momentum[name], G, X, beta, lengths[l], opts, norm.code, norm.radius, norm.ns_coefficients)
                duals[l] = rules.pairing_dual(U, D)
            updates[name] = update
            rms[l] = rules.update_rms(update)
        previous = {name: grads[name].copy() for name in grads} if config.estimator == "consecutive" else {}
        nan = np.full(p, np.nan)
        diagnostics = Diagnostics(np.array(scale, dtype=np.float64), nan, nan.copy(), duals, lengths, rms)
        mass = float(rules.momentum_mass(state.momentum_mass, beta, opts.heavy_ball))
        return updates, OptimizerState(t, momentum, second, rows, previous, mass, np.array(state.noise_estimate),
                                       np.array(scale, dtype=np.float64), diagnostics)

    # -- flat representation and the numba backend ---------------------------------------------

    @property
    def row_starts(self) -> np.ndarray:
        """Start of each layer's rows in the flat NorMuon row moments: ``[0, cumsum(rows)[:-1]]`` (int64)."""
        return np.concatenate([[0], np.cumsum(self.layout.rows)[:-1]]).astype(np.int64)

    def kernel_config(self) -> KernelConfig:
        """``(layers, options)``: the constant arguments of ``_kernels.step`` (built once)."""
        if self._kernel_config is None:
            self._kernel_config = KernelConfig(
                layer_table(self.layout, self.kinds, self.adaptive_groups, self.fixed_weights), self.options)
        return self._kernel_config

    def to_flat(self, state: OptimizerState) -> FlatState:
        """New flat arrays holding ``state`` (the state itself is not touched)."""
        layout, kinds = self.layout, self.kinds
        momentum = layout.flatten(state.momentum, "state.momentum")
        second = np.zeros(layout.size if "adamw" in kinds else 0)
        rows = np.zeros(int(layout.rows.sum()) if "normuon" in kinds else 0)
        starts = self.row_starts
        for l, (name, kind) in enumerate(zip(layout.names, kinds)):
            if kind == "adamw":
                second[layout.offsets[l]:layout.offsets[l + 1]] = np.ravel(state.second_moment[name])
            elif kind == "normuon":
                rows[starts[l]:starts[l] + layout.rows[l]] = np.ravel(state.row_second_moment[name])
        previous = (layout.flatten(state.previous_grads, "state.previous_grads")
                    if self.config.estimator == "consecutive" else np.zeros(0))
        return FlatState(momentum, second, rows, previous,
                         np.array(state.noise_estimate, dtype=np.float64),
                         np.array(state.weights, dtype=np.float64),
                         np.array([state.momentum_mass], dtype=np.float64))

    def from_flat(self, flat: FlatState, step: int, diagnostics: Diagnostics | None = None) -> OptimizerState:
        """An :class:`~.state.OptimizerState` (copies) from flat arrays after ``step`` steps."""
        layout, kinds = self.layout, self.kinds
        momentum = layout.unflatten(flat.momentum)
        second = {}
        if "adamw" in kinds:
            all_second = layout.unflatten(flat.second_moment)
            second = {n: all_second[n] for n, k in zip(layout.names, kinds) if k == "adamw"}
        starts = self.row_starts
        rows = {n: flat.row_second_moment[starts[l]:starts[l] + layout.rows[l]].reshape(-1, 1).copy()
                for l, (n, k) in enumerate(zip(layout.names, kinds)) if k == "normuon"}
        previous = layout.unflatten(flat.previous_grads) if self.config.estimator == "consecutive" else {}
        if diagnostics is None:
            diagnostics = Diagnostics(*(np.full(len(layout), np.nan) for _ in Diagnostics._fields))
        record = Diagnostics(*(np.array(field) for field in diagnostics))
        return OptimizerState(int(step), momentum, second, rows, previous, float(flat.momentum_mass[0]),
                              np.array(flat.noise_estimate), np.array(flat.weights), record)

    def _numba_step(self, state, grads, grads2, noise, params, t, lr, beta, adamw_lr):
        layout = self.layout
        flat = self.to_flat(state)
        empty = np.zeros(0)
        inputs = StepInputs(layout.flatten(params, "params") if params is not None else empty,
                            layout.flatten(grads, "grads"),
                            layout.flatten(grads2, "grads2") if grads2 is not None else empty,
                            layout.flatten(noise, "noise") if noise is not None else empty)
        updates = np.zeros(layout.size)
        diagnostics = Diagnostics(*(np.zeros(len(layout)) for _ in Diagnostics._fields))
        layers, opts = self.kernel_config()
        # one entry point for Python and the engine: a plain-tuple wrapper would type faster
        # (6.5 us against 20 us a call) but doubles as one more level that LLVM re-optimises
        # with the whole step inlined (+35 s of cold compilation)
        status = _kernels.step(t, lr, beta, adamw_lr, inputs, flat, updates, diagnostics, layers, opts)
        if status >= 0:
            kind, layer = divmod(status, len(layout))
            name = layout.names[layer]
            if kind == _kernels.DIVERGED:
                raise diverged(t, f"the noise sample of layer {name!r}")
            # unreachable after the checks above (the engine relies on the status)
            raise ValueError(f"{_kernels.INPUT_NAMES[kind]}[{name!r}]: contains non-finite entries")
        return layout.unflatten(updates), self.from_flat(flat, t, diagnostics)


# --- the stateful wrapper --------------------------------------------------------------------

class Stateful:
    """A familiar stateful optimizer on the user's own NumPy arrays.

        opt = optimizers.Stateful(optimizers.muon(layers, lr=0.02))
        params = opt.step(params, grads)      # new dict; the inputs are not modified

    The state is created at the first step (or pass ``state=``); ``opt.state`` and
    ``opt.diagnostics`` expose it; ``save(path)`` / ``load(path)`` persist it. A non-finite
    new iterate raises ``FloatingPointError("diverged at step t: ...")`` and keeps the state.
    """

    def __init__(self, optimizer: Optimizer, state: OptimizerState | None = None):
        if not isinstance(optimizer, Optimizer):
            raise ValueError(f"optimizer: expected an Optimizer (e.g. optimizers.muon(...)), got {optimizer!r}")
        self.optimizer = optimizer
        self.state = None if state is None else optimizer.check_state(state)

    @property
    def diagnostics(self) -> Diagnostics | None:
        """``state.diagnostics``: the last step's :class:`~.state.Diagnostics` (``None`` without a state)."""
        return None if self.state is None else self.state.diagnostics

    def step(self, params, grads, grads2=None, noise=None) -> dict[str, np.ndarray]:
        """One step on the user's arrays: a new dict ``{name: params[name] + update}``, each entry shaped
        like ``params[name]``.

        The state is created by ``init`` at the first call; ``grads2`` and ``noise`` as in
        :meth:`Optimizer.step`. Inputs are not modified. A non-finite new iterate raises
        ``FloatingPointError("diverged at step t: ...")``; on any error ``state`` is unchanged.
        """
        checked = self.optimizer.layout.check_tree(params, "params")
        state = self.optimizer.init(checked) if self.state is None else self.state
        updates, new_state = self.optimizer.step(state, grads, grads2, noise, params=checked)
        new_params = {}
        for name in self.optimizer.layout.names:
            value = checked[name] + updates[name]
            if not np.all(np.isfinite(value)):
                raise FloatingPointError(f"diverged at step {new_state.step}: params[{name!r}] is not finite")
            new_params[name] = value.reshape(np.shape(params[name]))
        self.state = new_state
        return new_params

    def save(self, path) -> None:
        """Write ``state`` to ``path`` with :func:`~.state.save_state` (``.npz``); ``ValueError``
        (``state: ...``) before the first step.
        """
        if self.state is None:
            raise ValueError("state: nothing to save before the first step")
        save_state(path, self.state)

    def load(self, path) -> None:
        """Replace ``state`` by the one saved at ``path`` (:func:`~.state.load_state`), checked against
        this optimizer; ``ValueError`` (``path: ...`` or ``state: ...``) leaves ``state`` unchanged.
        """
        self.state = self.optimizer.check_state(load_state(path))


__all__ = ["BACKENDS", "Optimizer", "Stateful", "diverged", "load_state", "save_state"]
