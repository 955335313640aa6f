"""From a problem, a start and an optimizer to the theorem's constants, with what they rest on.

Problem
    The layerwise theorem (:mod:`nalr_theory.theory.theorem`) needs ``Delta``, the coupling
    ``L``, ``rho``, ``sigma``, ``g1``, the inexact-LMO constants ``kappa_lo``, ``kappa_hi``
    and the pathwise weight interval ``[w_lo, w_hi]``; each comes from a different object
    (the problem's certificate and noise model, the norms, the optimizer's configuration,
    the noise estimator's interval). This module assembles them in one call, says which
    assumption each rests on, and which bound forms the optimizer is entitled to.

Algorithm
    Everything is expressed in the *problem's* declared norms, in which the engine measures
    stationarity. An optimizer's layer norm of radius ``r_l`` (Scion, Muon, D-Muon presets)
    moves layer ``l`` by ``eta w_t^l lmo_{r_l}(B) = eta (w_t^l r_l) lmo_l(B)``: in the
    problem's norms it is the analysed method with weights ``r_l w_t^l``. Hence
    ``w_hi = r w_hi^opt``, ``w_lo = r w_lo^opt``.

    * ``Delta = f(X_1) - f_inf`` (A3; ``f_inf`` certified by the problem);
    * ``L`` from ``problem.certificate()`` (A1): on the whole space, or, for families
      certified on a ball, on the ball the run cannot leave (``travel_certificate`` with
      ``sum_t eta_t r_l w_hi[l]``); estimated constants are labelled "A1 not guaranteed";
    * ``rho_l = a_l b_l`` of the declared norm (``Norm.constants``);
    * ``sigma_l``: the A2v level of the noise model (infinite: the theorem does not apply);
    * ``g1_l = ||grad_l f(X_1)||_{l,*}``;
    * ``kappa``: 1 for the exact LMO; for Newton-Schulz the band of its singular-value map
      (``geometry.ns_band``), valid while every singular value of ``B_t`` is at least
      ``2e-3 ||B_t||_F`` (stated, not checked per step);
    * ``w_lo``: LANTON's weights have a positive pathwise lower bound only with the
      ``oracle`` estimator under A2b (EMA of ``||xi||_*^2`` stays in ``[sigma_lo^2,
      sigma_hi^2]``) or with ``clip``; otherwise ``w_lo = 0`` and only the weighted-on-path
      form applies (``w_t^l <= 1`` on every path).

Guarantee
    An optimizer outside the analysed family (Nesterov look-ahead, weight decay, the
    constrained step, AdamW or NorMuon layers) gets no bound form: ``covered`` is false and
    ``reason`` says why. A heavy-ball momentum ``B_t = beta B_{t-1} + G_t`` is the EMA times
    ``1/(1 - beta)`` exactly (``B_0 = 0``), and the LMO ignores positive scale, so it is
    covered.

References
    :func:`nalr_theory.theory.bound`, :func:`nalr_theory.theory.leading_coefficients`,
    :func:`nalr_theory.theory.oracle_ema_interval`, :func:`nalr_theory.theory.lanton_weight_interval`;
    Hao et al., LANTON, arXiv 2510.14009 (2025).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .. import theory
from ..geometry import METHODS as NS_METHODS, ns_band

#: the bound forms an optimizer can be entitled to (see :class:`TheoremConstants`)
FORMS = ("plain", "weighted_on_path", "w_lo_weighted", "noise_normalised")


@dataclass(frozen=True)
class TheoremConstants:
    """The theorem's constants for one problem, start and optimizer (problem's norms).

    ``forms``: the bound forms that apply (``plain``: ``sum_l ||g^l||_*``;
    ``weighted_on_path``: ``sum_l r_l w_t^l ||g^l||_*``; ``w_lo_weighted``:
    ``sum_l w_lo[l] ||g^l||_*``; ``noise_normalised``: ``sum_l ||g^l||_*/sigma_l``).
    ``assumptions``: each assumption and whether it holds, with how it was established.
    """

    Delta: float
    L: np.ndarray
    rho: np.ndarray
    sigma: np.ndarray
    g1: np.ndarray
    kappa_lo: float
    kappa_hi: float
    w_lo: np.ndarray
    w_hi: np.ndarray
    radius: np.ndarray
    covered: bool
    reason: str
    forms: tuple
    assumptions: dict = field(default_factory=dict)

    def bound_arguments(self) -> dict:
        """Keyword arguments of :func:`nalr_theory.theory.bound`."""
        return {"Delta": self.Delta, "L": self.L, "rho": self.rho, "sigma": self.sigma, "g1": self.g1,
                "w_hi": self.w_hi, "w_lo": self.w_lo, "kappa_lo": self.kappa_lo, "kappa_hi": self.kappa_hi}

    def leading(self) -> "theory.LeadingCoefficients":
        """``A, B, C`` (every-``T`` variant) with the upper weights."""
        return theory.leading_coefficients(self.Delta, self.L, self.rho, self.sigma, self.w_hi, g1=self.g1,
                                           kappa_lo=self.kappa_lo, kappa_hi=self.kappa_hi)

    def describe(self) -> dict:
        """Every field as JSON-ready Python values (arrays as lists), ``forms`` as a list."""
        out = {key: (value.tolist() if isinstance(value, np.ndarray) else value)
               for key, value in self.__dict__.items()}
        out["forms"] = list(self.forms)
        return out


def coverage(optimizer) -> tuple[bool, str]:
    """Whether ``optimizer`` is in the analysed family, and why not."""
    config = optimizer.config
    kinds = set(getattr(optimizer, "kinds", ()))
    if config.method == "sophia":
        return False, ("sophia: a clipped diagonal-curvature step, an inexact max_abs LMO whose kappa_lo has no "
                       "positive pathwise lower bound")
    if config.method == "schatten_adaptive":
        return False, ("schatten_adaptive: the geometry changes during the run (the theorem needs one fixed norm "
                       "per layer; with freeze_after = t0 it applies from step t0 + 1 with the constants of "
                       "geometry.schatten_constants, which this report does not assemble)")
    if kinds - {"lmo"}:
        return False, f"{config.method}: AdamW or NorMuon layers are outside the analysed LMO family"
    if config.nesterov:
        return False, f"{config.method}: Nesterov's look-ahead is outside the analysed momentum (use nesterov=False)"
    if config.constrained:
        return False, f"{config.method}: the constrained (conditional-gradient) step is not analysed"
    if config.weight_decay != 0.0:
        return False, f"{config.method}: weight decay is outside the analysed step (use weight_decay=0)"
    methods = {norm.lmo_method if isinstance(norm.lmo_method, str) else "user coefficients"
               for norm in optimizer.layout.norms}
    if methods - set(NS_METHODS):
        return False, f"{config.method}: LMO method(s) {sorted(methods - set(NS_METHODS))} have no kappa band here"
    return True, ""


def theorem_constants(problem, optimizer, start=None, lr_sum=None) -> TheoremConstants:
    """The theorem's constants for ``optimizer`` run on ``problem`` from ``start``.

    ``start``: a params dict (default ``problem.init(0)``). ``lr_sum``: ``sum_t eta_t`` of
    the run, needed only by families certified on a ball (the run's travel bound).
    """
    start = problem.init(0) if start is None else problem.layout.check_tree(start, "start")
    layout = problem.layout
    p = len(layout)
    covered, reason = coverage(optimizer)
    radius = np.array([norm.radius for norm in optimizer.layout.norms], dtype=np.float64)
    assumptions = {}

    Delta = float(problem.f(start) - problem.f_inf)
    assumptions["A3"] = (True, f"f_inf = {problem.f_inf:g} certified by the problem")

    # pathwise weights of the optimizer, then in the problem's norms (times the radii)
    w_lo_opt, w_hi_opt = np.ones(p), np.ones(p)
    noise = problem.noise
    a2b = noise.kind == "bounded"
    a2v = bool(noise.variance_finite) and problem.sigma is not None
    assumptions["A2v"] = (a2v, f"{noise.kind} noise" + ("" if a2v else ": variance infinite or unknown"))
    assumptions["A2b"] = (a2b, f"{noise.kind} noise" + (" (bounded in the dual norm on every draw)" if a2b
                                                         else ": no almost-sure bound"))
    config = optimizer.config
    if config.adaptive:
        w_lo_opt, w_hi_opt = _lanton_interval(problem, optimizer, a2b)
    elif config.fixed_weights:
        w_lo_opt = w_hi_opt = np.asarray(config.fixed_weights, dtype=np.float64)
    w_lo, w_hi = radius * w_lo_opt, radius * w_hi_opt

    if problem.certificate().region == "whole_space":
        certificate = problem.certificate()
    else:
        if lr_sum is None:
            raise ValueError(f"lr_sum: problem {problem.name!r} is certified on a ball; give sum_t eta_t of the run")
        certificate = problem.travel_certificate(start, lr_sum * w_hi)
    assumptions["A1"] = (bool(certificate.certified),
                         f"{certificate.region}: {certificate.notes}" if certificate.certified
                         else f"estimated, not guaranteed: {certificate.notes}")
    L = np.asarray(certificate.L, dtype=np.float64)

    rho = np.array([norm.constants()[2] for norm in layout.norms], dtype=np.float64)
    sigma = np.full(p, np.inf) if problem.sigma is None else np.broadcast_to(
        np.asarray(problem.sigma, dtype=np.float64), (p,)).copy()
    grad = problem.grad(start)
    g1 = np.array([norm.dual(grad[name]) for name, norm in zip(layout.names, layout.norms)])

    kappa_lo, kappa_hi = 1.0, 1.0
    iterations = sorted({norm.lmo_method for norm in optimizer.layout.norms
                         if isinstance(norm.lmo_method, str) and norm.lmo_method != "svd"})
    if iterations:  # the widest band over the layers' Newton-Schulz schedules
        bands = [ns_band(method) for method in iterations]
        kappa_lo, kappa_hi = min(band[0] for band in bands), max(band[1] for band in bands)
        assumptions["inexact LMO"] = (True, f"Newton-Schulz ({', '.join(iterations)}) band kappa in "
                                            f"[{kappa_lo:.3f}, {kappa_hi:.3f}], valid while every singular value "
                                            "of B_t is >= 2e-3 ||B_t||_F (not checked)")

    if not covered:
        forms = ()
    elif not (a2v and np.all(np.isfinite(sigma))):
        forms = ()
        covered, reason = False, "A2v fails (infinite or unknown noise variance): the bound does not apply"
    else:
        # for uniform or fixed weights the w_lo-weighted measure is the plain one rescaled
        # (nothing new to check); for LANTON it needs the pathwise interval
        forms = ["weighted_on_path"] if config.adaptive else []
        if np.min(w_lo) > 0:
            forms += ["plain", "w_lo_weighted"] if config.adaptive else ["plain"]
            if np.all(sigma > 0):
                forms.append("noise_normalised")
    if not assumptions["A1"][0] and covered:
        reason = "A1 constants are estimated, not certified: the bound is indicative only"
    return TheoremConstants(Delta, L, rho, sigma, g1, float(kappa_lo), float(kappa_hi), w_lo, w_hi, radius, covered,
                            reason, tuple(forms), assumptions)


def _lanton_interval(problem, optimizer, a2b: bool):
    """LANTON's pathwise ``(w_lo, w_hi)`` on the optimizer's own scale (before radii)."""
    config = optimizer.config
    p = len(problem.layout)
    groups = [norm.name for norm in optimizer.layout.norms]
    if config.clip is not None:
        h_min, h_max = config.clip
        interval = theory.lanton_weight_interval(np.full(p, h_min), np.full(p, h_max), groups, config.w_min)
        return interval
    if config.estimator == "oracle" and a2b:
        ema = theory.oracle_ema_interval(problem.sigma_lo, problem.sigma_hi)
        return theory.lanton_weight_interval(ema.pathwise_lo, ema.pathwise_hi, groups, config.w_min)
    # no pathwise lower bound: only the weighted-on-path form (w_t <= 1 on every path)
    return np.full(p, config.w_min), np.ones(p)
