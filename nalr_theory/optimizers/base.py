"""The shared machinery of every optimizer: state record, configuration, checks, backends.

Every method of ALGORITHMS.md is one configuration of a single family (the LMO momentum
method, ``lmo_momentum.reference_step``) plus two per-layer variants (AdamW layers,
NorMuon's row normalisation). An :class:`Optimizer` couples that configuration with the
layers and a backend:

    opt = optimizers.lanton(layers, lr=0.01, estimator="consecutive")
    state = opt.init(params)
    updates, state = opt.step(state, grads, grads2=None, noise=None, params=None)
    params = {name: params[name] + updates[name] for name in params}

``params`` is needed by ``step`` only when the update depends on the iterate (decoupled
weight decay, Scion's constrained step); ``opt.needs_params`` says so, and a missing
``params`` then raises. ``backend="numba"`` runs the same step through the flat numba kernel
(``_kernels.step``) on the same :class:`OptimizerState`; the engine calls that kernel
directly on :class:`FlatState` arrays (``opt.to_flat``, ``opt.kernel_config``).

Bad input raises ``ValueError`` whose message starts with the parameter's name, before any
work; states are immutable records, so a failed step changes nothing.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Mapping, NamedTuple

import numpy as np

from ..geometry import Layer, Layout, as_layers
from .momentum import FORMS
from .noise_estimators import DUALS, ESTIMATORS
from .schedules import Schedule, as_schedule

KINDS = ("lmo", "normuon", "adamw")
BACKENDS = ("reference", "numba")


class Diagnostics(NamedTuple):
    """What one step reports, per layer (arrays of shape ``(p,)``, layout order), for free.

    ``weights``: the weight ``w_t^l`` applied at this step (1 for uniform methods and AdamW
    layers). ``noise_sample``: ``n_t^l`` (``nan`` when no sample: not LANTON, AdamW layer, or
    before the estimator's first step). ``noise_estimate``: ``H_t^l`` (``nan`` likewise).
    ``momentum_dual_norm``: ``-<U_t, D(U_t)>``, the dual norm of the LMO's input (the momentum
    ``B_t``, or the Nesterov direction ``U_t`` with Nesterov), exact for an exact LMO and the
    cheap estimate for Newton-Schulz; ``nan`` for AdamW layers. ``step_length``:
    ``eta_t w_t^l``, the step's length in the layer norm for an exact LMO (lemma L1; times
    ``kappa_hi`` for Newton-Schulz; decay not included); ``nan`` for AdamW layers.
    ``update_rms``: ``||update^l||_F / sqrt(m n)`` of the returned update.
    """

    weights: np.ndarray
    noise_sample: np.ndarray
    noise_estimate: np.ndarray
    momentum_dual_norm: np.ndarray
    step_length: np.ndarray
    update_rms: np.ndarray


class OptimizerState(NamedTuple):
    """The complete state of an optimizer between steps (a plain record of arrays).

    ``step``: number of steps taken (the next step is ``t = step + 1``).
    ``momentum``: ``{name: B^l}`` (AdamW layers: Adam's first moment).
    ``second_moment``: ``{name: v^l}``, AdamW layers only.
    ``row_second_moment``: ``{name: v^l}`` of shape ``(m, 1)``, NorMuon layers only.
    ``previous_grads``: ``{name: G_{t-1}^l}``, only with the ``consecutive`` estimator.
    ``momentum_mass``: ``m_t``, total weight of the gradients in ``B_t`` (``momentum.mass``).
    ``noise_estimate``: ``H_t^l`` (0 before the estimator's first sample), shape ``(p,)``.
    ``weights``: the LANTON weights ``w_t^l`` computed at the last step (``lag=1`` applies
    them at the next one), or the fixed weights; shape ``(p,)``.
    ``diagnostics``: :class:`Diagnostics` of the last step (``nan`` before the first).

    Save with :func:`save_state`, reload with :func:`load_state`: a reloaded state resumes
    the run bit for bit. Arrays are never modified in place by any optimizer.
    """

    step: int
    momentum: Mapping[str, np.ndarray]
    second_moment: Mapping[str, np.ndarray]
    row_second_moment: Mapping[str, np.ndarray]
    previous_grads: Mapping[str, np.ndarray]
    momentum_mass: float
    noise_estimate: np.ndarray
    weights: np.ndarray
    diagnostics: Diagnostics


class FlatState(NamedTuple):
    """The numba kernel's state: flat float64 arrays owned (and updated in place) by the caller.

    ``momentum`` ``(size,)``; ``second_moment`` ``(size,)`` if any AdamW layer else ``(0,)``;
    ``row_second_moment`` ``(sum of rows,)`` if any NorMuon layer else ``(0,)``, layer ``l``
    at ``[row_start[l], row_start[l] + rows[l])``; ``previous_grads`` ``(size,)`` with the
    ``consecutive`` estimator else ``(0,)``; ``noise_estimate`` and ``weights`` ``(p,)``;
    ``momentum_mass`` ``(1,)``. Layer ``l`` occupies ``[offsets[l], offsets[l+1])``.
    """

    momentum: np.ndarray
    second_moment: np.ndarray
    row_second_moment: np.ndarray
    previous_grads: np.ndarray
    noise_estimate: np.ndarray
    weights: np.ndarray
    momentum_mass: np.ndarray


class KernelConfig(NamedTuple):
    """Constant arguments of ``_kernels.step`` (see ``_kernels`` for the column meanings)."""

    layer_int: np.ndarray
    layer_float: np.ndarray
    lmo_coefficients: np.ndarray
    dual_coefficients: np.ndarray
    options_int: np.ndarray
    options_float: np.ndarray


@dataclass(frozen=True)
class Config:
    """Every hyperparameter of the family (already validated); ``describe()`` records them."""

    method: str
    lr: Schedule
    beta: Schedule
    momentum_form: str = "ema"
    nesterov: bool = False
    weight_decay: float = 0.0
    constrained: bool = False
    fixed_weights: tuple = ()
    adaptive: bool = False
    base: str | None = None
    estimator: str | None = None
    dual: str = "exact"
    beta2: float = 0.9
    eps: float = 1e-12
    w_min: float = 0.0
    clip: tuple | None = None
    lag: int = 0
    adamw_lr: Schedule | None = None
    adamw_betas: tuple = (0.9, 0.999)
    adamw_eps: float = 1e-8
    adamw_weight_decay: float = 0.0
    normuon_beta2: float = 0.95
    normuon_eps: float = 1e-10

    def describe(self) -> dict:
        """Plain dict of the configuration (schedules as their repr), for result records."""
        record = asdict(self)
        for key in ("lr", "beta", "adamw_lr"):
            record[key] = repr(getattr(self, key))
        return record


# --- input checks (ValueError naming the parameter) -----------------------------------------

def check_real(value, name: str, *, low: float = -math.inf, low_open: bool = False,
               high: float = math.inf, high_open: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{name}: expected a real number, got {value!r}")
    number = float(value)
    below = number < low or (low_open and number == low)
    above = number > high or (high_open and number == high)
    if not math.isfinite(number) or below or above:
        left, right = "(" if low_open else "[", ")" if high_open else "]"
        raise ValueError(f"{name}: must be finite and in {left}{low}, {high}{right}, got {value!r}")
    return number


def check_choice(value, name: str, choices) -> str:
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name}: unknown value {value!r}; known: {', '.join(choices)}")
    return value


def check_bool(value, name: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name}: expected True or False, got {value!r}")
    return bool(value)


def learning_rate(value, name: str = "lr") -> Schedule:
    return as_schedule(value, name, low=0.0, low_open=True)


def momentum_beta(value, name: str = "beta") -> Schedule:
    return as_schedule(value, name, low=0.0, low_open=False, high=1.0, high_open=True)


def check_betas(value, name: str) -> tuple[float, float]:
    try:
        first, second = value
    except (TypeError, ValueError):
        raise ValueError(f"{name}: expected a pair (beta1, beta2), got {value!r}") from None
    return (check_real(first, f"{name}[0]", low=0.0, high=1.0, high_open=True),
            check_real(second, f"{name}[1]", low=0.0, high=1.0, high_open=True))


def build_layers(layers) -> tuple[Layer, ...]:
    try:
        return as_layers(layers)
    except ValueError as exc:
        raise ValueError(f"layers: {exc}") from None
    except TypeError:
        raise ValueError(f"layers: expected a sequence of Layer or a Layout, got {layers!r}") from None


def build_layout(layers: tuple[Layer, ...]) -> Layout:
    try:
        return Layout(layers)
    except ValueError as exc:
        raise ValueError(f"layers: {exc}") from None


def assign_geometry(layers: tuple[Layer, ...], preset: str, lmo_method, adamw_layers) -> tuple[
        tuple[Layer, ...], tuple[str, ...]]:
    """Muon-style split: matrix layers get ``preset`` with ``lmo_method``; vectors (shape
    ``(n, 1)``) and the layers named in ``adamw_layers`` get AdamW. Groups are kept."""
    shapes = build_layout(layers).shapes
    if isinstance(adamw_layers, str):
        adamw_layers = (adamw_layers,)
    try:
        adamw_names = set(adamw_layers)
    except TypeError:
        raise ValueError(f"adamw_layers: expected a collection of layer names, got {adamw_layers!r}") from None
    unknown = adamw_names - {layer.name for layer in layers}
    if unknown:
        raise ValueError(f"adamw_layers: unknown layer names {sorted(unknown)}")
    result, kinds = [], []
    for layer, shape in zip(layers, shapes):
        if layer.name in adamw_names or shape[1] == 1:
            result.append(Layer(layer.name, shape, layer.norm, layer.group, layer.radius, layer.lmo_method))
            kinds.append("adamw")
        else:
            result.append(Layer(layer.name, shape, preset, layer.group, None, lmo_method))
            kinds.append("lmo")
    return tuple(result), tuple(kinds)


def make_config(method: str, *, lr, beta, momentum_form: str = "ema", nesterov: bool = False,
                weight_decay=0.0, constrained: bool = False, fixed_weights=(), adaptive: bool = False,
                base=None, estimator=None, dual: str = "exact", beta2=0.9, eps=1e-12, w_min=0.0,
                clip=None, lag=0, adamw_lr=None, adamw_betas=(0.9, 0.999), adamw_eps=1e-8,
                adamw_weight_decay=0.0, normuon_beta2=0.95, normuon_eps=1e-10) -> Config:
    """Validate every hyperparameter (``ValueError`` naming it) and return a :class:`Config`."""
    if clip is not None:
        try:
            h_min, h_max = clip
        except (TypeError, ValueError):
            raise ValueError(f"clip: expected a pair (h_min, h_max), got {clip!r}") from None
        h_min = check_real(h_min, "clip", low=0.0)
        h_max = check_real(h_max, "clip", low=0.0, low_open=True)
        if h_min > h_max:
            raise ValueError(f"clip: h_min must be <= h_max, got {clip!r}")
        clip = (h_min, h_max)
    if isinstance(lag, bool) or lag not in (0, 1):
        raise ValueError(f"lag: must be 0 or 1, got {lag!r}")
    return Config(
        method=method,
        lr=learning_rate(lr),
        beta=momentum_beta(beta),
        momentum_form=check_choice(momentum_form, "momentum_form", FORMS),
        nesterov=check_bool(nesterov, "nesterov"),
        weight_decay=check_real(weight_decay, "weight_decay", low=0.0),
        constrained=check_bool(constrained, "constrained"),
        fixed_weights=tuple(fixed_weights),
        adaptive=check_bool(adaptive, "adaptive"),
        base=base,
        estimator=None if estimator is None else check_choice(estimator, "estimator", ESTIMATORS),
        dual=check_choice(dual, "dual", DUALS),
        beta2=check_real(beta2, "beta2", low=0.0, high=1.0, high_open=True),
        eps=check_real(eps, "eps", low=0.0, low_open=True),
        w_min=check_real(w_min, "w_min", low=0.0, high=1.0),
        clip=clip,
        lag=int(lag),
        adamw_lr=None if adamw_lr is None else learning_rate(adamw_lr, "adamw_lr"),
        adamw_betas=check_betas(adamw_betas, "adamw_betas"),
        adamw_eps=check_real(adamw_eps, "adamw_eps", low=0.0, low_open=True),
        adamw_weight_decay=check_real(adamw_weight_decay, "adamw_weight_decay", low=0.0),
        normuon_beta2=check_real(normuon_beta2, "beta2", low=0.0, high=1.0, high_open=True),
        normuon_eps=check_real(normuon_eps, "eps", low=0.0, low_open=True),
    )


# --- the optimizer object --------------------------------------------------------------------

class Optimizer:
    """``init(params) -> state`` and ``step(state, grads, ...) -> (updates, state)``.

    Attributes: ``method`` (name), ``layout`` (:class:`~nalr_theory.geometry.Layout` of the
    layers as the method sees them, e.g. Muon's presets), ``kinds`` (per layer: ``"lmo"``,
    ``"normuon"`` or ``"adamw"``), ``config`` (:class:`Config`), ``backend``,
    ``needs_params``.
    """

    def __init__(self, layers: tuple[Layer, ...], kinds: tuple[str, ...], config: Config,
                 backend: str = "reference"):
        self.backend = check_choice(backend, "backend", BACKENDS)
        self.layout = build_layout(layers)
        self.kinds = tuple(kinds)
        self.config = config
        self.method = config.method
        p = len(self.layout)
        self._kind_index = np.array([KINDS.index(k) for k in self.kinds], dtype=np.int64)
        # noise-adaptive weights are normalised within a group, over LMO layers only
        self.adaptive_groups = np.where(self._kind_index != KINDS.index("adamw"), self.layout.group_ids, -1)
        self.adaptive_mask = self.adaptive_groups >= 0
        self.adaptive_layers = tuple(np.flatnonzero(self.adaptive_mask).tolist())
        self.fixed_weights = np.asarray(config.fixed_weights if config.fixed_weights else np.ones(p),
                                        dtype=np.float64)
        self.needs_params = bool(
            config.constrained or config.weight_decay > 0.0
            or ("adamw" in self.kinds and config.adamw_weight_decay > 0.0)
        )
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
        return Optimizer(self.layout.layers, self.kinds, self.config, backend)

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
        names, shapes, p = self.layout.names, self.layout.shapes, len(self.layout)
        zeros = {name: np.zeros(shape) for name, shape in zip(names, shapes)}
        second = {n: np.zeros(s) for n, s, k in zip(names, shapes, self.kinds) if k == "adamw"}
        rows = {n: np.zeros((s[0], 1)) for n, s, k in zip(names, shapes, self.kinds) if k == "normuon"}
        previous = dict(zeros) if self.config.estimator == "consecutive" else {}
        previous = {n: a.copy() for n, a in previous.items()}
        nan = np.full(p, np.nan)
        diagnostics = Diagnostics(self.fixed_weights.copy(), nan, nan.copy(), nan.copy(), nan.copy(), nan.copy())
        return OptimizerState(0, zeros, second, rows, previous, 0.0, np.zeros(p), self.fixed_weights.copy(),
                              diagnostics)

    def check_state(self, state) -> OptimizerState:
        """Raise ``ValueError`` (``state: ...``) unless ``state`` belongs to this optimizer."""
        if not isinstance(state, OptimizerState):
            raise ValueError(f"state: expected an OptimizerState (from init or load_state), got {type(state).__name__}")
        if isinstance(state.step, bool) or not isinstance(state.step, (int, np.integer)) or state.step < 0:
            raise ValueError(f"state: step must be an integer >= 0, got {state.step!r}")
        for field_name, shapes in self._state_shapes.items():
            tree = getattr(state, field_name)
            if not isinstance(tree, Mapping) or set(tree) != set(shapes):
                raise ValueError(f"state: {field_name} does not match this optimizer's layers")
            for name, shape in shapes.items():
                if np.shape(tree[name]) != shape:
                    raise ValueError(f"state: {field_name}[{name!r}] has shape {np.shape(tree[name])}, expected {shape}")
        p = len(self.layout)
        for field_name in ("noise_estimate", "weights"):
            if np.shape(getattr(state, field_name)) != (p,):
                raise ValueError(f"state: {field_name} must have shape ({p},)")
        return state

    # -- one step ------------------------------------------------------------------------------

    def schedule_values(self, t: int) -> tuple[float, float, float]:
        """``(lr_t, beta_t, adamw_lr_t)``, checked (``ValueError`` naming the schedule)."""
        config = self.config
        lr = config.lr(t)
        if not (math.isfinite(lr) and lr >= 0.0):
            raise ValueError(f"lr: schedule value at step {t} must be finite and >= 0, got {lr!r}")
        if config.constrained and lr > 1.0:
            raise ValueError(f"lr: the constrained (conditional-gradient) step needs lr <= 1, got {lr!r} at step {t}")
        beta = config.beta(t)
        if not (math.isfinite(beta) and 0.0 <= beta < 1.0):
            raise ValueError(f"beta: schedule value at step {t} must lie in [0, 1), got {beta!r}")
        adamw_lr = lr if config.adamw_lr is None else config.adamw_lr(t)
        if not (math.isfinite(adamw_lr) and adamw_lr >= 0.0):
            raise ValueError(f"adamw_lr: schedule value at step {t} must be finite and >= 0, got {adamw_lr!r}")
        return float(lr), float(beta), float(adamw_lr)

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
        when ``needs_params``). Inputs are never modified. A non-finite update (overflow)
        raises ``FloatingPointError("diverged at step t ...")`` instead of being returned.
        """
        state, grads, grads2, noise, params, t, (lr, beta, adamw_lr) = self._check_step(
            state, grads, grads2, noise, params)
        if self.backend == "numba":
            updates, new_state = self._numba_step(state, grads, grads2, noise, params, t, lr, beta, adamw_lr)
        else:
            from .lmo_momentum import reference_step

            updates, new_state = reference_step(self, state, grads, grads2, noise, params, t, lr, beta, adamw_lr)
        for name, update in updates.items():
            if not np.all(np.isfinite(update)):
                raise FloatingPointError(f"diverged at step {t}: updates[{name!r}] is not finite (overflow)")
        return updates, new_state

    # -- flat representation and the numba backend ---------------------------------------------

    @property
    def row_starts(self) -> np.ndarray:
        return np.concatenate([[0], np.cumsum(self.layout.rows)[:-1]]).astype(np.int64)

    def kernel_config(self) -> KernelConfig:
        """The constant arrays ``_kernels.step`` needs (built once, cached)."""
        if self._kernel_config is None:
            from . import _kernels

            self._kernel_config = _kernels.build_config(self)
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

    def from_flat(self, flat: FlatState, step: int, diagnostics=None) -> OptimizerState:
        """An :class:`OptimizerState` (copies) from flat arrays after ``step`` steps.

        ``diagnostics``: the kernel's ``(p, 6)`` diagnostics array, or ``None`` (all ``nan``).
        """
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
            diagnostics = np.full((len(layout), len(Diagnostics._fields)), np.nan)
        record = Diagnostics(*(np.array(diagnostics[:, k]) for k in range(len(Diagnostics._fields))))
        return OptimizerState(int(step), momentum, second, rows, previous, float(flat.momentum_mass[0]),
                              np.array(flat.noise_estimate), np.array(flat.weights), record)

    def _numba_step(self, state, grads, grads2, noise, params, t, lr, beta, adamw_lr):
        from . import _kernels

        layout = self.layout
        flat = self.to_flat(state)
        empty = np.zeros(0)
        flat_grads = layout.flatten(grads, "grads")
        flat_grads2 = layout.flatten(grads2, "grads2") if grads2 is not None else empty
        flat_noise = layout.flatten(noise, "noise") if noise is not None else empty
        flat_params = layout.flatten(params, "params") if params is not None else empty
        updates = np.zeros(layout.size)
        diagnostics = np.zeros((len(layout), len(Diagnostics._fields)))
        status = _kernels.step(t, lr, beta, adamw_lr, flat_params, flat_grads, flat_grads2, flat_noise,
                               *flat, updates, diagnostics, *self.kernel_config())
        if status >= 0:  # unreachable after the checks above (the engine relies on the status)
            argument = ("grads", "grads2", "noise", "params")[status // len(layout)]
            raise ValueError(f"{argument}[{layout.names[status % len(layout)]!r}]: contains non-finite entries")
        return layout.unflatten(updates), self.from_flat(flat, t, diagnostics)


# --- save / reload -------------------------------------------------------------------------

_TREES = ("momentum", "second_moment", "row_second_moment", "previous_grads")


def state_to_arrays(state: OptimizerState) -> dict[str, np.ndarray]:
    """Flatten a state into ``{key: array}`` (keys ``"momentum/<layer>"``, ``"step"``, ...)."""
    arrays = {"step": np.array(state.step, dtype=np.int64),
              "momentum_mass": np.array(state.momentum_mass, dtype=np.float64),
              "noise_estimate": np.asarray(state.noise_estimate),
              "weights": np.asarray(state.weights)}
    for tree in _TREES:
        for name, value in getattr(state, tree).items():
            arrays[f"{tree}/{name}"] = np.asarray(value)
        arrays[f"{tree}:names"] = np.array(list(getattr(state, tree)), dtype=str)
    for name, value in zip(Diagnostics._fields, state.diagnostics):
        arrays[f"diagnostics/{name}"] = np.asarray(value)
    return arrays


def state_from_arrays(arrays: Mapping[str, np.ndarray]) -> OptimizerState:
    """Inverse of :func:`state_to_arrays` (copies every array)."""
    try:
        trees = {}
        for tree in _TREES:
            names = [str(n) for n in np.asarray(arrays[f"{tree}:names"]).tolist()]
            trees[tree] = {name: np.array(arrays[f"{tree}/{name}"], dtype=np.float64) for name in names}
        diagnostics = Diagnostics(*(np.array(arrays[f"diagnostics/{f}"], dtype=np.float64)
                                    for f in Diagnostics._fields))
        return OptimizerState(int(arrays["step"]), trees["momentum"], trees["second_moment"],
                              trees["row_second_moment"], trees["previous_grads"],
                              float(arrays["momentum_mass"]), np.array(arrays["noise_estimate"], dtype=np.float64),
                              np.array(arrays["weights"], dtype=np.float64), diagnostics)
    except KeyError as exc:
        raise ValueError(f"arrays: not a saved optimizer state (missing {exc})") from None


def save_state(path, state: OptimizerState) -> None:
    """Write ``state`` to an ``.npz`` file (uncompressed; float64 kept exactly)."""
    if not isinstance(state, OptimizerState):
        raise ValueError(f"state: expected an OptimizerState, got {type(state).__name__}")
    np.savez(path, **state_to_arrays(state))


def load_state(path) -> OptimizerState:
    """Read a state written by :func:`save_state`."""
    with np.load(path, allow_pickle=False) as data:
        return state_from_arrays({key: data[key] for key in data.files})


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
        return None if self.state is None else self.state.diagnostics

    def step(self, params, grads, grads2=None, noise=None) -> dict[str, np.ndarray]:
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
        if self.state is None:
            raise ValueError("state: nothing to save before the first step")
        save_state(path, self.state)

    def load(self, path) -> None:
        self.state = self.optimizer.check_state(load_state(path))


__all__ = [
    "Config", "Diagnostics", "FlatState", "KernelConfig", "Optimizer", "OptimizerState", "Stateful",
    "load_state", "save_state", "state_from_arrays", "state_to_arrays",
]
