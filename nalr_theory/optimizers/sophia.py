"""Sophia: momentum over a clipped diagonal-curvature preconditioner (a comparison baseline).

Problem
    Take Newton-like steps along directions of small curvature and sign-like steps where the
    curvature is small, negative or unknown, at the cost of a diagonal curvature estimate
    every ``k`` steps. Sophia is not an LMO method; it sits next to AdamW as a baseline and
    treats every layer alike, elementwise.

Algorithm (rules: ``is_refresh_step``, ``curvature_ema``, ``sophia_direction``; ``steps.sophia_step``)
    ``B_t = beta1 B_{t-1} + (1 - beta1) G_t`` (``B_0 = 0``, no bias correction unless
    ``bias_correction=True``); at the refresh steps ``t = 1, k+1, 2k+1, ...``
    (``first_refresh="t1"``, the paper) or ``t = k+1, 2k+1, ...`` (``"after_k"``, the
    official code, which runs steps ``1..k`` with ``h = 0``: sign momentum),
    ``h_t = beta2 h_{t-k} + (1 - beta2) hhat_t`` with ``hhat_t`` from the curvature
    estimator at ``X_t``; otherwise ``h_t = h_{t-1}``; then
    ``X_{t+1} = X_t - eta_t lambda X_t - eta_t clip(B_t / max(gamma h_t, eps), c)``.

    Curvature estimators (``curvature=``): ``"hutchinson"`` (Sophia-H: a Gaussian probe
    ``u`` over all layers, ``hhat = u * (Hess f(X) u)``; ``hvp="block"`` uses per-layer
    products, also unbiased with lower variance; ``probes`` averaged), ``"gnb"`` (Sophia-G:
    Gauss-Newton-Bartlett, ``N_b ghat * ghat`` with ``ghat`` the gradient of the loss at labels
    sampled from the model) and ``"exact"`` (the problem's exact Hessian diagonal: theory runs,
    and the target the two estimators' tracking error is measured against). Sophia-G uses
    the whole data set by default; ``fresh_batch = B`` draws a fresh minibatch of ``B``
    examples per estimate and ``clip_sampled = c`` clips the sampled gradient ``ghat`` (all
    layers together) to norm ``c`` first, as the official training code does (with
    ``c = 1``). The problem
    must declare the capability (``hvp``, ``gnb``, ``hess_diag``); a missing one is a
    ``ValueError`` naming it. In a simulation the probes and sampled labels are drawn from
    the seed's generator after the step's oracle sample.

    Functional form: ``step(state, grads, hhat=None, params=None)``; ``hhat`` (per layer) is
    required exactly at the refresh steps (``opt.needs_curvature(t)``) and refused at the
    others.

Guarantee
    Every coordinate moves by at most ``eta_t c`` per step (plus decay):
    ``||X_{t+1} - X_t||_max <= eta_t c``. With ``h = 0`` or every coordinate clipped, the step
    is ``eta_t c`` times the ``max_abs`` LMO of ``B_t``: sign momentum, equal to
    ``lmo_momentum`` in the ``max_abs`` geometry. In general the direction is an inexact LMO
    of that geometry with ``kappa_hi = max|D| / c <= 1`` and
    ``kappa_lo = -<B, D> / (c ||B||_1)``, a momentum-weighted win rate; both are recorded
    (``diagnostics.kappa_lo``, ``kappa_hi``, and the unclipped fraction ``win_rate``, which the
    official README advises to keep between 0.1 and 0.5). ``kappa_lo`` has no positive
    pathwise lower bound, so no convergence bound of ``nalr_theory.theory`` is claimed.

References
    H. Liu, Z. Li, D. Hall, P. Liang, T. Ma, "Sophia: a scalable stochastic second-order
    optimizer for language model pre-training" (ICLR 2024, arXiv 2305.14342); official code
    github.com/Liuhong99/Sophia (``SophiaG``: ``betas = (0.965, 0.99)``, ``rho = 0.04``,
    ``weight_decay = 0.1``); co-author code ``levanter/optim/sophia.py`` (Stanford CRFM:
    ``gamma = 0.01`` for Sophia-H, ``0.05`` for Sophia-G, refresh every 10 steps). The
    paper's full text could not be read for this package: the update above follows the
    official and co-author code and quoted settings (``beta1 = 0.96``, ``beta2 = 0.99``,
    ``eps = 1e-12``, ``k = 10``), which agree with each other.

Decisions (choices of this package)
    The official ``SophiaG`` writes ``lr sign(B) min(|B| / (rho N_b h' + 1e-15), 1)`` with
    ``h'`` the EMA of ``ghat * ghat`` without the factor ``N_b``: the same update with
    ``gamma = rho`` (tested). Defaults: ``beta1 = 0.96``, ``beta2 = 0.99``, ``eps = 1e-12``,
    ``k = 10``, ``c = 1``, ``gamma = 0.01`` for ``hutchinson`` and ``0.05`` for ``gnb`` and
    ``exact``; ``weight_decay = 0`` (the analysed setting of this package; the official code
    uses 0.1); no fresh minibatch and no clipping of the sampled gradient for Sophia-G (the
    official training code does both). The curvature option is called ``curvature`` (not
    ``estimator``, which names LANTON's noise estimators).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from .config import check_bool, check_choice, check_real, learning_rate
from .layer_loop import LayerLoopOptimizer
from .schedules import Schedule
from . import rules

CURVATURES = ("hutchinson", "gnb", "exact")
HVP_FORMS = ("full", "block")
FIRST_REFRESH = ("t1", "after_k")
#: the capability of a problem each curvature estimator needs
CAPABILITY = {"hutchinson": "hvp", "gnb": "gnb", "exact": "hess_diag"}
DEFAULT_GAMMA = {"hutchinson": 0.01, "gnb": 0.05, "exact": 0.05}


@dataclass(frozen=True)
class SophiaConfig:
    """Sophia's hyperparameters (validated by :func:`sophia`)."""

    lr: Schedule
    beta1: float = 0.96
    beta2: float = 0.99
    gamma: float = 0.01
    eps: float = 1e-12
    k: int = 10
    clip: float = 1.0
    weight_decay: float = 0.0
    curvature: str = "hutchinson"
    hvp: str = "full"
    probes: int = 1
    first_refresh: str = "t1"
    bias_correction: bool = False
    fresh_batch: int | None = None
    clip_sampled: float | None = None
    method: str = "sophia"
    estimator: None = None
    adaptive: bool = False
    fixed_weights: tuple = ()
    nesterov: bool = False
    constrained: bool = False


class SophiaOptions(NamedTuple):
    """The scalar options ``steps.sophia_step`` reads (the same record on both backends)."""

    beta1: float
    beta2: float
    gamma: float
    eps: float
    clip: float
    weight_decay: float
    bias_correction: bool


class SophiaDiagnostics(NamedTuple):
    """What a Sophia step reports per layer (arrays ``(p,)``): ``weights`` (1), ``noise_estimate``
    (nan: no noise estimate), ``step_length`` (``eta_t``, the max-abs length of the step),
    ``update_rms``, ``win_rate`` (unclipped fraction), ``kappa_lo``, ``kappa_hi`` (the
    direction as an inexact ``max_abs`` LMO) and ``refreshed`` (1 at a refresh step)."""

    weights: np.ndarray
    noise_estimate: np.ndarray
    step_length: np.ndarray
    update_rms: np.ndarray
    win_rate: np.ndarray
    kappa_lo: np.ndarray
    kappa_hi: np.ndarray
    refreshed: np.ndarray


class SophiaState(NamedTuple):
    """Sophia's state after ``step`` steps: ``momentum`` ``B`` and ``curvature`` ``h`` per layer."""

    step: int
    momentum: dict
    curvature: dict
    diagnostics: SophiaDiagnostics


class Sophia(LayerLoopOptimizer):
    """Sophia (see the module docstring); build it with :func:`sophia`."""

    extra_records = ("win_rate", "kappa_lo", "kappa_hi")

    def __init__(self, layers, config: SophiaConfig, backend: str = "reference"):
        super().__init__(layers, config, backend)
        self.momentum_value = config.beta1
        self.options = SophiaOptions(config.beta1, config.beta2, config.gamma, config.eps, config.clip,
                                     config.weight_decay, config.bias_correction)

    def needs_curvature(self, t: int) -> bool:
        """Whether step ``t`` refreshes the curvature (then ``step`` needs ``hhat``)."""
        return bool(rules.is_refresh_step(int(t), self.config.k, self.config.first_refresh == "after_k"))

    def init(self, params=None) -> SophiaState:
        """Zero momentum and curvature (``params``, optional, is checked against the layers)."""
        if params is not None:
            self.layout.check_tree(params, "params")
        p = len(self.layout)
        zeros = lambda: {name: np.zeros(shape) for name, shape in zip(self.layout.names, self.layout.shapes)}
        nan = np.full(p, np.nan)
        return SophiaState(0, zeros(), zeros(), SophiaDiagnostics(np.ones(p), nan, nan, nan, nan, nan, nan,
                                                                 np.zeros(p)))

    def check_state(self, state) -> SophiaState:
        """Raise ``ValueError`` (``state: ...``) unless ``state`` belongs to this optimizer."""
        self.check_state_record(state, SophiaState, "a SophiaState (from init)")
        shapes = dict(zip(self.layout.names, self.layout.shapes))
        self.check_tree_field("momentum", state.momentum, shapes)
        self.check_tree_field("curvature", state.curvature, shapes)
        return state

    def check_inputs(self, t: int, inputs: dict) -> dict:
        """``{"hhat": checked per-layer estimate or None}``: required exactly at refresh steps."""
        unknown = set(inputs) - {"hhat"}
        if unknown:
            raise ValueError(f"{sorted(unknown)[0]}: not an input of sophia's step (it takes hhat)")
        hhat = inputs.get("hhat")
        if self.needs_curvature(t) and hhat is None:
            raise ValueError(f"hhat: step {t} refreshes the curvature; pass the curvature estimate hhat")
        if not self.needs_curvature(t) and hhat is not None:
            raise ValueError(f"hhat: step {t} is not a refresh step (every k = {self.config.k} steps); pass no hhat")
        return {"hhat": None if hhat is None else self.layout.check_tree(hhat, "hhat")}

    def _layer_steps(self, state, grads, params, t, lr, beta, inputs):
        hhat, refresh = inputs["hhat"], inputs["hhat"] is not None
        functions = self.step_functions
        p = len(self.layout)
        momentum, curvature, updates = {}, {}, {}
        win, low, high, rms = (np.full(p, np.nan) for _ in range(4))
        for l, name in enumerate(self.layout.names):
            G = grads[name]
            X = G if params is None else params[name]  # read only with weight decay
            estimate = hhat[name] if refresh else G    # read only at a refresh
            momentum[name], curvature[name], updates[name], win[l], low[l], high[l] = functions.sophia_step(
                state.momentum[name], state.curvature[name], G, X, estimate, refresh, t, lr, self.options)
            rms[l] = rules.update_rms(updates[name])
        diagnostics = SophiaDiagnostics(np.ones(p), np.full(p, np.nan), np.full(p, lr), rms, win, low, high,
                                        np.full(p, float(refresh)))
        return updates, SophiaState(t, momentum, curvature, diagnostics)

    # -- the problem's curvature ----------------------------------------------------------------

    def check_problem(self, problem) -> None:
        """``ValueError`` naming the capability ``problem`` lacks for the curvature estimator."""
        needed = CAPABILITY[self.config.curvature]
        if needed not in getattr(problem, "capabilities", frozenset()):
            raise ValueError(f"curvature: the {self.config.curvature!r} estimator needs the problem capability "
                             f"{needed!r}, which problem {problem.name!r} does not provide")

    def curvature_estimate(self, problem, params: dict, rng: np.random.Generator) -> dict:
        """``hhat`` at ``params``: one draw of the configured estimator (probes from ``rng``)."""
        config = self.config
        if config.curvature == "exact":
            return problem.hess_diag(params)
        if config.curvature == "gnb":
            estimate = problem.gnb(params, rng, config.fresh_batch)
            if config.clip_sampled is None:
                return estimate
            # hhat = N_b ghat * ghat, so ||ghat||^2 = sum(hhat) / N_b over every layer; the
            # official code clips that norm (torch's clip_grad_norm_) before squaring
            batch = config.fresh_batch if config.fresh_batch is not None else problem.dataset_size
            squared_norm = sum(float(np.sum(value)) for value in estimate.values()) / batch
            factor = min(1.0, config.clip_sampled ** 2 / squared_norm) if squared_norm > 0 else 1.0
            return {name: value * factor for name, value in estimate.items()}
        names, shapes = self.layout.names, self.layout.shapes
        total = {name: np.zeros(shape) for name, shape in zip(names, shapes)}
        for _ in range(config.probes):
            probe = {name: rng.standard_normal(shape) for name, shape in zip(names, shapes)}
            if config.hvp == "full":
                product = problem.hvp(params, probe)
            else:  # block: each layer's own block of the Hessian (cross-layer terms have mean zero)
                product = {}
                for name in names:
                    single = {other: (probe[other] if other == name else np.zeros_like(probe[other]))
                              for other in names}
                    product[name] = problem.hvp(params, single)[name]
            for name in names:
                total[name] += probe[name] * product[name]
        return {name: value / config.probes for name, value in total.items()}

    def step_inputs(self, problem, params: dict, record, rng: np.random.Generator, t: int) -> dict:
        """``{"hhat": ...}`` at refresh steps, ``{}`` otherwise."""
        return {"hhat": self.curvature_estimate(problem, params, rng)} if self.needs_curvature(t) else {}


def sophia(layers, lr, *, beta1=0.96, beta2=0.99, gamma=None, eps=1e-12, k=10, clip=1.0, weight_decay=0.0,
           curvature="hutchinson", hvp="full", probes=1, first_refresh="t1", bias_correction=False,
           fresh_batch=None, clip_sampled=None, backend="reference") -> Sophia:
    """Sophia on ``layers`` (every layer elementwise); ``lr`` a number or schedule (required).

    ``gamma`` defaults to 0.01 for ``curvature="hutchinson"`` and 0.05 for ``"gnb"`` and
    ``"exact"``; the other options are those of the module docstring.
    """
    from .config import build_layers

    layers = build_layers(layers)
    curvature = check_choice(curvature, "curvature", CURVATURES)
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k: expected an integer >= 1 (the refresh period), got {k!r}")
    if isinstance(probes, bool) or not isinstance(probes, (int, np.integer)) or probes < 1:
        raise ValueError(f"probes: expected an integer >= 1, got {probes!r}")
    if fresh_batch is not None and (isinstance(fresh_batch, bool) or not isinstance(fresh_batch, (int, np.integer))
                                    or fresh_batch < 1):
        raise ValueError(f"fresh_batch: expected None or an integer >= 1 (examples per Sophia-G estimate), "
                         f"got {fresh_batch!r}")
    config = SophiaConfig(
        lr=learning_rate(lr, "lr"),
        beta1=check_real(beta1, "beta1", low=0.0, high=1.0, high_open=True),
        beta2=check_real(beta2, "beta2", low=0.0, high=1.0, high_open=True),
        gamma=check_real(DEFAULT_GAMMA[curvature] if gamma is None else gamma, "gamma", low=0.0, low_open=True),
        eps=check_real(eps, "eps", low=0.0, low_open=True),
        k=int(k),
        clip=check_real(clip, "clip", low=0.0, low_open=True),
        weight_decay=check_real(weight_decay, "weight_decay", low=0.0),
        curvature=curvature,
        hvp=check_choice(hvp, "hvp", HVP_FORMS),
        probes=int(probes),
        first_refresh=check_choice(first_refresh, "first_refresh", FIRST_REFRESH),
        bias_correction=check_bool(bias_correction, "bias_correction"),
        fresh_batch=None if fresh_batch is None else int(fresh_batch),
        clip_sampled=None if clip_sampled is None else check_real(clip_sampled, "clip_sampled", low=0.0,
                                                                   low_open=True),
    )
    return Sophia(layers, config, backend)


__all__ = ["CURVATURES", "Sophia", "SophiaConfig", "SophiaDiagnostics", "SophiaOptions", "SophiaState", "sophia"]
