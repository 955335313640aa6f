"""Adaptive Schatten-q geometry: each layer's LMO norm chosen between SGD and Muon on the fly.

Problem
    Which geometry should a layer's step use: Frobenius (SGD), spectral (Muon) or a Schatten
    norm ``||X||_{S_q} = (sum_i s_i(X)^q)^(1/q)`` in between? The answer depends on the
    gradient's spectrum and on the layer's input activations: a step ``dX`` changes the
    layer's output by ``dX A``, and Hoelder's inequality for Schatten norms bounds that by
    ``||dX||_{S_q} ||A||_{S_r}`` with ``1/r = 1/2 - 1/q``.

Algorithm (rules: ``rules.select_schatten``, ``rules.schatten_criterion``; step ``steps.schatten_step``)
    ``B_t = beta B_{t-1} + (1 - beta) G_t`` (EMA; Nesterov look-ahead ``U_t`` by default, as
    Muon). At the refresh steps (``t = 1, 1 + every, ...``, none after ``freeze_after``) each
    matrix layer takes ``q_t = argmax_{q in grid} J(q)``,
    ``J(q) = ||G_t||_{S_q*} / ||A_t||_{S_r(q)}``, ``q* = q/(q-1)``, ``r(q) = 2q/(q-2)``,
    from the layer's gradient and its activations ``A_t`` on the same minibatch (ties, within
    ``1e-12`` relative, go to the smallest ``q``); otherwise ``q_t = q_{t-1}``. Then
    ``X_{t+1} = X_t + eta_t r lmo_{S_q}(U_t) - eta_t lambda X_t`` with
    ``lmo_{S_q}(U) = -U_s diag(s^(q*-1)) V_s^T / ||s||_{q*}^(q*-1)`` (``form="lmo"``), or the
    "sharp" step ``-eta_t U_s diag(s^(1/(q-1))) V_s^T`` (``form="sharp"``). ``J`` at ``q = 2``
    is ``||G||_F / ||A||_2`` (SGD's guaranteed decrease) and at ``q = inf``
    ``||G||_* / ||A||_F`` (Muon's): comparing only these two is the test of Davis and
    Drusvyatskiy. Vectors (shape ``(n, 1)``) have one singular value, so every ``q`` gives
    the ``l2`` step; they are not adapted (``q`` recorded as nan).

    The default grid, in the source's ``p = q - 1``, is ``{1, 1.5, 2, 3, 4, 6, 8, 16, 32, inf}``;
    ``refine=True`` then searches between the grid neighbours of the best ``q`` (golden section
    in ``1/q``, 40 iterations), and ``spectral_ema = b`` replaces the two spectra by their
    EMAs ``b s_prev + (1 - b) s`` over the selections (the source's "spectral momentum").
    A problem must provide ``activations`` (``record.activations`` of its oracle); otherwise
    ``activations="isotropic"`` takes ``A = I``, with which ``J(q) <= J(2)`` for every ``q``
    (the power-mean inequality): Frobenius is always chosen, so on such problems the method
    says nothing, and by default it refuses them.

Guarantee
    ``||lmo_{S_q}(U)||_{S_q} = 1`` and ``<U, lmo> = -||U||_{S_q*}``. The convergence theorem
    of ``nalr_theory.theory`` assumes one fixed norm per layer, so no bound is reported while
    ``q`` changes; with ``freeze_after = t0`` the geometry is fixed from step ``t0 + 1`` on and
    the theorem applies from there with the ``schatten(q)`` constants
    ``a = k^(1/2 - 1/q)``, ``b = 1`` (``geometry.schatten_constants``). On the one-layer
    random-feature problem, ``N J(q)^2 / 2`` is a lower bound of the exact line-search
    decrease along ``lmo_{S_q}(G)`` (tested).

References
    T. Massena, C. Friedrich, M. Serrurier, "From SGD to Muon: Adaptive Optimization via
    Schatten-p Norms" (arXiv 2605.19781): only the abstract could be read; the criterion and
    the sharp step follow the first author's blog post of 2026-02-19
    (massena-t.github.io/blog/2026/02/19/schatten-muon.html). D. Davis, D. Drusvyatskiy,
    "When do spectral gradient updates help in deep learning?" (arXiv 2512.04299).

Decisions (choices of this package; the sources leave them open)
    The criterion reads the raw gradient (as the blog), exact SVDs instead of the blog's
    sampled spectra, no spectral EMA by default, a grid (the refinement searches ``1/q``
    rather than the source's ``log p``, so that ``q = inf`` is an end of a bounded interval),
    ``radius = 1`` (a number; the learning-rate scaling across ``q`` is open in the sources,
    and the source's "RMS-matched" radius is not offered), and ``beta = 0.95`` with Nesterov
    like Muon.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from .config import check_bool, check_choice, check_real, learning_rate, momentum_beta, build_layers, FORMS
from .layer_loop import LayerLoopOptimizer
from .schedules import Schedule
from . import rules

#: golden-section iterations of ``refine=True`` (the bracket shrinks by 0.618 each: ~1e-8 after 40)
REFINE_ITERATIONS = 40
#: the source's grid in ``p = q - 1``
DEFAULT_GRID_P = (1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0, 16.0, 32.0, math.inf)
#: the same grid in ``q = p + 1`` (the method's default ``grid``)
DEFAULT_GRID = tuple(p + 1.0 for p in DEFAULT_GRID_P)
FORMS_OF_STEP = ("lmo", "sharp")
ACTIVATIONS = ("problem", "isotropic")


@dataclass(frozen=True)
class SchattenConfig:
    """The adaptive Schatten method's hyperparameters (validated by :func:`schatten_adaptive`)."""

    lr: Schedule
    beta: float = 0.95
    nesterov: bool = True
    momentum_form: str = "ema"
    weight_decay: float = 0.0
    grid: tuple = DEFAULT_GRID
    every: int = 1
    freeze_after: int | None = None
    form: str = "lmo"
    radius: float = 1.0
    activations: str = "problem"
    refine: bool = False
    spectral_ema: float = 0.0
    method: str = "schatten_adaptive"
    estimator: None = None
    adaptive: bool = False
    fixed_weights: tuple = ()
    constrained: bool = False


class SchattenOptions(NamedTuple):
    """The scalar options ``steps.schatten_step`` reads (the same record on both backends)."""

    heavy_ball: bool
    nesterov: bool
    weight_decay: float
    sharp: bool
    refine: int          # golden-section iterations after the grid (0: the grid only)
    spectral_ema: float  # EMA rate of the two spectra between selections (0: none)


class SchattenDiagnostics(NamedTuple):
    """Per layer (arrays ``(p,)``): ``weights`` (1), ``noise_estimate`` (nan), ``step_length``
    (``eta_t r``), ``update_rms``, ``q`` (the geometry used at this step; nan for vectors),
    ``J`` at ``q``, ``J_sgd`` (``q = 2``) and ``J_muon`` (``q = inf``), ``refreshed``."""

    weights: np.ndarray
    noise_estimate: np.ndarray
    step_length: np.ndarray
    update_rms: np.ndarray
    q: np.ndarray
    J: np.ndarray
    J_sgd: np.ndarray
    J_muon: np.ndarray
    refreshed: np.ndarray


class SchattenState(NamedTuple):
    """The state after ``step`` steps: ``momentum`` and the current ``q`` per layer, and the
    (EMA'd) singular values of the gradient and the activations at the last selection
    (``spectra[name] = (s_G, s_A)``, empty arrays before the first)."""

    step: int
    momentum: dict
    q: np.ndarray
    spectra: dict
    diagnostics: SchattenDiagnostics


class SchattenAdaptive(LayerLoopOptimizer):
    """The adaptive Schatten-q method (see the module docstring); build it with :func:`schatten_adaptive`."""

    extra_records = ("q", "J", "J_sgd", "J_muon")

    def __init__(self, layers, config: SchattenConfig, backend: str = "reference"):
        super().__init__(layers, config, backend)
        self.momentum_value = config.beta
        self.options = SchattenOptions(config.momentum_form == "heavy_ball", config.nesterov, config.weight_decay,
                                       config.form == "sharp", REFINE_ITERATIONS if config.refine else 0,
                                       config.spectral_ema)
        self.grid = np.array(config.grid, dtype=np.float64)
        self.is_matrix = np.array([shape[1] > 1 and shape[0] > 1 for shape in self.layout.shapes])

    def needs_selection(self, t: int) -> bool:
        """Whether step ``t`` re-selects ``q`` (then ``step`` needs ``activations``)."""
        frozen = self.config.freeze_after is not None and t > self.config.freeze_after
        return (t - 1) % self.config.every == 0 and not frozen

    def init(self, params=None) -> SchattenState:
        """Zero momentum; ``q`` undefined (nan) until the first selection."""
        if params is not None:
            self.layout.check_tree(params, "params")
        p = len(self.layout)
        nan = np.full(p, np.nan)
        names, shapes = self.layout.names, self.layout.shapes
        return SchattenState(0, {name: np.zeros(shape) for name, shape in zip(names, shapes)}, nan.copy(),
                             {name: (np.zeros(0), np.zeros(0)) for name in names},
                             SchattenDiagnostics(np.ones(p), *(nan.copy() for _ in range(7)), np.zeros(p)))

    def check_state(self, state) -> SchattenState:
        """Raise ``ValueError`` (``state: ...``) unless ``state`` belongs to this optimizer."""
        self.check_state_record(state, SchattenState, "a SchattenState (from init)")
        self.check_tree_field("momentum", state.momentum, dict(zip(self.layout.names, self.layout.shapes)))
        if np.shape(state.q) != (len(self.layout),):
            raise ValueError(f"state: q must have shape ({len(self.layout)},)")
        if not isinstance(state.spectra, dict) or set(state.spectra) != set(self.layout.names):
            raise ValueError("state: spectra does not match this optimizer's layers")
        return state

    def check_inputs(self, t: int, inputs: dict) -> dict:
        """``{"activations": {layer: A}}`` checked: ``A`` of ``d_in`` rows, finite, for every
        matrix layer; required at selection steps (ignored at the others)."""
        unknown = set(inputs) - {"activations"}
        if unknown:
            raise ValueError(f"{sorted(unknown)[0]}: not an input of schatten_adaptive's step (it takes activations)")
        activations = inputs.get("activations")
        if not self.needs_selection(t):
            return {"activations": None}
        if activations is None:
            raise ValueError(f"activations: step {t} selects each layer's q; pass the layers' input activations")
        checked = {}
        for name, shape, matrix in zip(self.layout.names, self.layout.shapes, self.is_matrix):
            if not matrix:
                continue
            if name not in activations:
                raise ValueError(f"activations: missing layer {name!r}")
            A = np.asarray(activations[name])
            if A.ndim != 2 or A.shape[0] != shape[1] or not np.issubdtype(A.dtype, np.floating) and \
                    not np.issubdtype(A.dtype, np.integer):
                raise ValueError(f"activations[{name!r}]: expected a real (d_in = {shape[1]}, batch) matrix, "
                                 f"got shape {A.shape}")
            if not np.all(np.isfinite(A)):
                raise ValueError(f"activations[{name!r}]: contains non-finite entries")
            checked[name] = np.ascontiguousarray(A, dtype=np.float64)
        return {"activations": checked}

    def _layer_steps(self, state, grads, params, t, lr, beta, inputs):
        activations = inputs["activations"]
        select = activations is not None
        functions = self.step_functions
        p = len(self.layout)
        momentum, updates, spectra = {}, {}, {}
        q_new = np.array(state.q, dtype=np.float64)
        J, J_sgd, J_muon, rms = (np.full(p, np.nan) for _ in range(4))
        step = lr * self.config.radius
        for l, name in enumerate(self.layout.names):
            G = grads[name]
            X = G if params is None else params[name]  # read only with weight decay
            # a vector has one singular value: every q is the l2 step (q = inf, never selected);
            # without a selection the step does not read A, so G stands in for it
            refresh = select and self.is_matrix[l]
            A = activations[name] if refresh else G
            q_use = q_new[l] if self.is_matrix[l] else np.inf
            spectrum_G, spectrum_A = state.spectra[name]
            momentum[name], q, updates[name], spectrum_G, spectrum_A, (J[l], J_sgd[l], J_muon[l]) = \
                functions.schatten_step(state.momentum[name], G, X, A, q_use, refresh, beta, step, self.options,
                                        self.grid, spectrum_G, spectrum_A)
            spectra[name] = (spectrum_G, spectrum_A)
            q_new[l] = q if self.is_matrix[l] else np.nan
            rms[l] = rules.update_rms(updates[name])
        diagnostics = SchattenDiagnostics(np.ones(p), np.full(p, np.nan), np.full(p, step), rms, q_new.copy(), J,
                                          J_sgd, J_muon, np.full(p, float(select)))
        return updates, SchattenState(t, momentum, q_new, spectra, diagnostics)

    # -- the problem's activations --------------------------------------------------------------

    def check_problem(self, problem) -> None:
        """``ValueError`` naming ``activations`` when ``problem`` cannot give them (unless isotropic)."""
        if self.config.activations == "isotropic":
            return
        if "activations" not in getattr(problem, "capabilities", frozenset()):
            raise ValueError(f"activations: problem {problem.name!r} has no layer activations, which the Schatten "
                             "criterion needs; pass activations='isotropic' to run it anyway (A = I: then "
                             "Frobenius is always selected, see the method's docstring)")

    def step_inputs(self, problem, params: dict, record, rng: np.random.Generator, t: int) -> dict:
        """``{"activations": ...}`` at selection steps: the oracle's (same minibatch), or ``I``."""
        if not self.needs_selection(t):
            return {}
        if self.config.activations == "isotropic":
            return {"activations": {name: np.eye(shape[1]) for name, shape in
                                    zip(self.layout.names, self.layout.shapes)}}
        activations = getattr(record, "activations", None)
        if activations is None:
            activations = problem.activations(params)
        return {"activations": activations}


def _grid(grid) -> tuple:
    try:
        values = [float(value) for value in grid]
    except (TypeError, ValueError):
        raise ValueError(f"grid: expected a sequence of q values in [2, inf], got {grid!r}") from None
    if not values:
        raise ValueError("grid: expected at least one q value")
    for value in values:
        if math.isnan(value) or value < 2.0:
            raise ValueError(f"grid: every q must lie in [2, inf] (the source's p = q - 1 >= 1), got {value!r}")
    return tuple(sorted(set(values)))


def schatten_adaptive(layers, lr=0.02, *, beta=0.95, nesterov=True, momentum_form="ema", weight_decay=0.0,
                      grid=None, every=1, freeze_after=None, form="lmo", radius=1.0, activations="problem",
                      refine=False, spectral_ema=0.0, backend="reference") -> SchattenAdaptive:
    """The adaptive Schatten-q method on ``layers``; ``grid`` in ``q`` (default the source's grid
    ``p + 1``), ``every`` the selection period, ``freeze_after`` the last selection step."""
    layers = build_layers(layers)
    momentum_beta(beta, "beta")
    if isinstance(every, bool) or not isinstance(every, (int, np.integer)) or every < 1:
        raise ValueError(f"every: expected an integer >= 1, got {every!r}")
    if freeze_after is not None and (isinstance(freeze_after, bool) or not isinstance(freeze_after, (int, np.integer))
                                     or freeze_after < 1):
        raise ValueError(f"freeze_after: expected None or an integer >= 1, got {freeze_after!r}")
    config = SchattenConfig(
        lr=learning_rate(lr, "lr"),
        beta=check_real(beta, "beta", low=0.0, high=1.0, high_open=True),
        nesterov=check_bool(nesterov, "nesterov"),
        momentum_form=check_choice(momentum_form, "momentum_form", FORMS),
        weight_decay=check_real(weight_decay, "weight_decay", low=0.0),
        grid=SchattenConfig.grid if grid is None else _grid(grid),
        every=int(every),
        freeze_after=None if freeze_after is None else int(freeze_after),
        form=check_choice(form, "form", FORMS_OF_STEP),
        radius=check_real(radius, "radius", low=0.0, low_open=True),
        activations=check_choice(activations, "activations", ACTIVATIONS),
        refine=check_bool(refine, "refine"),
        spectral_ema=check_real(spectral_ema, "spectral_ema", low=0.0, high=1.0, high_open=True),
    )
    return SchattenAdaptive(layers, config, backend)


__all__ = ["SchattenAdaptive", "SchattenConfig", "SchattenDiagnostics", "SchattenOptions", "SchattenState",
           "schatten_adaptive"]
