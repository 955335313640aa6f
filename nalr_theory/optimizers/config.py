"""Hyperparameters of every optimizer: validation, the :class:`Config` record, and the named
records the rules read (:class:`Options`, :class:`LayerTable`).

Bad input raises ``ValueError`` whose message starts with the name of the parameter the user
wrote (``betas``, ``lr``, ``norm`` ...), before any work.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import NamedTuple

import numpy as np

from ..geometry import Layer, Layout, as_layers
from .noise_estimators import DUALS, ESTIMATORS, FIRST_STEP, cheap_dual_coefficients
from .schedules import Schedule, as_schedule

KINDS = ("lmo", "normuon", "adamw")
KIND_LMO, KIND_NORMUON, KIND_ADAMW = 0, 1, 2
FORMS = ("ema", "heavy_ball")
#: what Muon, D-Muon and NorMuon do with a matrix layer whose declared norm is not spectral
NON_SPECTRAL = ("keep", "adamw", "spectral", "raise")


@dataclass(frozen=True)
class Config:
    """Every hyperparameter of a method (already validated); ``describe()`` records them."""

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


class Options(NamedTuple):
    """The scalar options the rules read, by name (the same record on both backends)."""

    heavy_ball: bool
    nesterov: bool
    constrained: bool
    weight_decay: float
    adaptive: bool
    estimator: int       # index in ESTIMATORS (``rules.TWO_SAMPLE`` ...); 0 when not adaptive
    dual: int            # index in DUALS (``rules.DUAL_EXACT`` ...)
    first_sample: int    # the estimator's first step with a sample
    lag: bool
    beta2: float
    eps: float
    w_min: float
    h_min: float         # clip of H inside the weights (0, inf without clip)
    h_max: float
    adamw_beta1: float
    adamw_beta2: float
    adamw_eps: float
    adamw_weight_decay: float
    normuon_beta2: float
    normuon_eps: float


class LayerTable(NamedTuple):
    """Per-layer constants of the fast path, arrays indexed by layer ``l`` (layout order).

    Layer ``l`` occupies ``[start[l], stop[l])`` of every flat vector, row-major
    ``(rows[l], cols[l])``; its NorMuon row moments ``[row_start[l], row_start[l] + rows[l])``.
    ``group[l]``: its LANTON group, ``-1`` for layers outside every group (AdamW).
    ``lmo_coefficients[l, :lmo_steps[l]]``: its Newton-Schulz rows (none: exact LMO);
    ``dual_coefficients[l, :dual_steps[l]]``: the rows of the ``dual="ns"`` estimate.
    """

    start: np.ndarray
    stop: np.ndarray
    rows: np.ndarray
    cols: np.ndarray
    row_start: np.ndarray
    code: np.ndarray
    radius: np.ndarray
    kind: np.ndarray
    group: np.ndarray
    fixed_weight: np.ndarray
    lmo_coefficients: np.ndarray
    lmo_steps: np.ndarray
    dual_coefficients: np.ndarray
    dual_steps: np.ndarray


class KernelConfig(NamedTuple):
    """The constant arguments of the fast step: ``(layers, options)``."""

    layers: LayerTable
    options: Options


# --- input checks (ValueError naming the parameter) -----------------------------------------

def check_real(value, name: str, *, low: float = -math.inf, low_open: bool = False,
               high: float = math.inf, high_open: bool = False) -> float:
    """``float(value)`` for a Python or NumPy int or float (not a bool) that is finite and lies in
    ``[low, high]`` (``low_open`` / ``high_open`` exclude an end); otherwise ``ValueError``
    starting with ``name:``."""
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
    """``value`` itself if it is a string in ``choices``; otherwise ``ValueError``
    (``name: unknown value ...``, listing ``choices``).
    """
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name}: unknown value {value!r}; known: {', '.join(choices)}")
    return value


def check_bool(value, name: str) -> bool:
    """``bool(value)`` for a Python or NumPy bool; ``ValueError`` naming ``name`` for anything else
    (``0`` and ``1`` included).
    """
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name}: expected True or False, got {value!r}")
    return bool(value)


def learning_rate(value, name: str = "lr") -> Schedule:
    """A learning-rate schedule: a :class:`~.schedules.Schedule` as is, another callable ``t -> value``
    wrapped (the optimizer checks its values at each step), a number checked finite and ``> 0``
    as a ``Constant``; ``ValueError`` naming ``name`` otherwise.
    """
    return as_schedule(value, name, low=0.0, low_open=True)


def momentum_beta(value, name: str = "beta") -> Schedule:
    """A momentum schedule: a :class:`~.schedules.Schedule` as is, another callable ``t -> value``
    wrapped (the optimizer checks its values at each step), a number checked in ``[0, 1)`` as a
    ``Constant``; ``ValueError`` naming ``name`` otherwise.
    """
    return as_schedule(value, name, low=0.0, low_open=False, high=1.0, high_open=True)


def check_betas(value, name: str) -> tuple[float, float]:
    """A pair ``(beta1, beta2)`` in ``[0, 1)``; messages name ``name`` (what the user wrote)."""
    try:
        first, second = value
    except (TypeError, ValueError):
        raise ValueError(f"{name}: expected a pair (beta1, beta2), got {value!r}") from None
    for position, beta in (("first", first), ("second", second)):
        try:
            check_real(beta, name, low=0.0, high=1.0, high_open=True)
        except ValueError:
            raise ValueError(f"{name}: the {position} entry must be finite and in [0, 1), got {value!r}") from None
    return float(first), float(second)


def build_layers(layers) -> tuple[Layer, ...]:
    """Validated layers; geometry's messages already name the field (``norm: ...``)."""
    try:
        return as_layers(layers)
    except TypeError:
        raise ValueError(f"layers: expected a sequence of Layer or a Layout, got {layers!r}") from None


def build_layout(layers: tuple[Layer, ...]) -> Layout:
    """A new :class:`~nalr_theory.geometry.Layout` of ``layers`` (geometry's ``ValueError`` propagates)."""
    return Layout(layers)


def _is_spectral(layer: Layer) -> bool:
    return build_layout((layer,)).norms[0].base == "spectral"


def assign_geometry(layers: tuple[Layer, ...], preset: str, lmo_method, adamw_layers, non_spectral: str,
                    ) -> tuple[tuple[Layer, ...], tuple[str, ...]]:
    """Muon-style routing of each layer (optax's ``partition``): ``(layers, kinds)``.

    Spectral matrix layers take ``preset`` with ``lmo_method`` (kind ``"lmo"``); vectors
    (shape ``(n, 1)``) and the layers named in ``adamw_layers`` go to AdamW. A matrix layer
    declared in another norm (a ``sign`` embedding, say) follows ``non_spectral``: ``"keep"``
    its norm and LMO (default), ``"adamw"``, ``"spectral"`` (take ``preset`` like the others)
    or ``"raise"``. Groups are kept.
    """
    check_choice(non_spectral, "non_spectral", NON_SPECTRAL)
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
        declared = "spectral" if _is_spectral(layer) else non_spectral
        if layer.name in adamw_names or shape[1] == 1 or declared == "adamw":
            result.append(layer)
            kinds.append("adamw")
        elif declared == "raise":
            raise ValueError(f"non_spectral: layer {layer.name!r} is declared in the {layer.norm!r} norm; pass "
                             "non_spectral='keep', 'adamw' or 'spectral' to say what to do with it")
        elif declared == "keep":
            result.append(layer)
            kinds.append("lmo")
        else:
            result.append(Layer(layer.name, shape, preset, group=layer.group, lmo_method=lmo_method))
            kinds.append("lmo")
    return tuple(result), tuple(kinds)


def check_clip(clip):
    """``None`` for ``None``; otherwise the pair ``(h_min, h_max)`` as floats, finite, with
    ``0 <= h_min <= h_max`` and ``h_max > 0``; ``ValueError`` starting with ``clip:`` otherwise.
    """
    if clip is None:
        return None
    try:
        h_min, h_max = clip
    except (TypeError, ValueError):
        raise ValueError(f"clip: expected a pair (h_min, h_max), got {clip!r}") from None
    h_min = check_real(h_min, "clip", low=0.0)
    h_max = check_real(h_max, "clip", low=0.0, low_open=True)
    if h_min > h_max:
        raise ValueError(f"clip: h_min must be <= h_max, got {clip!r}")
    return (h_min, h_max)


def make_config(method: str, *, lr, beta, momentum_form: str = "ema", nesterov: bool = False,
                weight_decay=0.0, constrained: bool = False, fixed_weights=(), adaptive: bool = False,
                base=None, estimator=None, dual: str = "exact", beta2=0.9, eps=1e-12, w_min=0.0,
                clip=None, lag=0, adamw_lr=None, adamw_betas=(0.9, 0.999), adamw_eps=1e-8,
                adamw_weight_decay=0.0, normuon_beta2=0.95, normuon_eps=1e-10, names=None) -> Config:
    """Validate every hyperparameter and return a :class:`Config`.

    ``names`` maps a field to the parameter name the user wrote when they differ (AdamW's
    ``betas`` is the field ``adamw_betas``), so that messages name what the user wrote.
    """
    name = dict(names or {}).get
    if isinstance(lag, bool) or lag not in (0, 1):
        raise ValueError(f"lag: must be 0 or 1, got {lag!r}")
    return Config(
        method=method,
        lr=learning_rate(lr, name("lr", "lr")),
        beta=momentum_beta(beta, name("beta", "beta")),
        momentum_form=check_choice(momentum_form, "momentum_form", FORMS),
        nesterov=check_bool(nesterov, "nesterov"),
        weight_decay=check_real(weight_decay, name("weight_decay", "weight_decay"), low=0.0),
        constrained=check_bool(constrained, "constrained"),
        fixed_weights=tuple(fixed_weights),
        adaptive=check_bool(adaptive, "adaptive"),
        base=base,
        estimator=None if estimator is None else check_choice(estimator, "estimator", ESTIMATORS),
        dual=check_choice(dual, "dual", DUALS),
        beta2=check_real(beta2, name("beta2", "beta2"), low=0.0, high=1.0, high_open=True),
        eps=check_real(eps, name("eps", "eps"), low=0.0, low_open=True),
        w_min=check_real(w_min, "w_min", low=0.0, high=1.0),
        clip=check_clip(clip),
        lag=int(lag),
        adamw_lr=None if adamw_lr is None else learning_rate(adamw_lr, name("adamw_lr", "adamw_lr")),
        adamw_betas=check_betas(adamw_betas, name("adamw_betas", "adamw_betas")),
        adamw_eps=check_real(adamw_eps, name("adamw_eps", "adamw_eps"), low=0.0, low_open=True),
        adamw_weight_decay=check_real(adamw_weight_decay, name("adamw_weight_decay", "adamw_weight_decay"),
                                      low=0.0),
        normuon_beta2=check_real(normuon_beta2, name("normuon_beta2", "normuon_beta2"), low=0.0, high=1.0,
                                 high_open=True),
        normuon_eps=check_real(normuon_eps, name("normuon_eps", "normuon_eps"), low=0.0, low_open=True),
    )


def options(config: Config) -> Options:
    """The :class:`Options` record of ``config``."""
    clip = config.clip if config.clip is not None else (0.0, math.inf)
    return Options(
        heavy_ball=config.momentum_form == "heavy_ball", nesterov=config.nesterov, constrained=config.constrained,
        weight_decay=config.weight_decay, adaptive=config.adaptive,
        estimator=ESTIMATORS.index(config.estimator) if config.adaptive else 0,
        dual=DUALS.index(config.dual), first_sample=FIRST_STEP[config.estimator] if config.adaptive else 0,
        lag=bool(config.lag), beta2=config.beta2, eps=config.eps, w_min=config.w_min, h_min=float(clip[0]),
        h_max=float(clip[1]), adamw_beta1=config.adamw_betas[0], adamw_beta2=config.adamw_betas[1],
        adamw_eps=config.adamw_eps, adamw_weight_decay=config.adamw_weight_decay,
        normuon_beta2=config.normuon_beta2, normuon_eps=config.normuon_eps,
    )


def layer_table(layout: Layout, kinds, groups: np.ndarray, fixed_weights: np.ndarray) -> LayerTable:
    """The :class:`LayerTable` of a layout routed by ``kinds``."""
    dual_rows = [cheap_dual_coefficients(norm) for norm in layout.norms]
    dual_table = np.zeros((len(layout), max(1, max(rows.shape[0] for rows in dual_rows)), 3))
    for l, rows in enumerate(dual_rows):
        dual_table[l, : rows.shape[0]] = rows
    row_start = np.concatenate([[0], np.cumsum(layout.rows)[:-1]]).astype(np.int64)
    return LayerTable(
        start=layout.offsets[:-1].copy(), stop=layout.offsets[1:].copy(), rows=layout.rows.copy(),
        cols=layout.cols.copy(), row_start=row_start, code=layout.codes.copy(), radius=layout.radii.copy(),
        kind=np.array([KINDS.index(kind) for kind in kinds], dtype=np.int64), group=groups.astype(np.int64),
        fixed_weight=np.asarray(fixed_weights, dtype=np.float64).copy(),
        lmo_coefficients=np.ascontiguousarray(layout.ns_table), lmo_steps=layout.ns_steps.copy(),
        dual_coefficients=dual_table, dual_steps=np.array([rows.shape[0] for rows in dual_rows], dtype=np.int64),
    )
