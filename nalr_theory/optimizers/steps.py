"""Each method's update on one layer, composed top to bottom from :mod:`.rules`.

These few functions are the whole of what the optimizers do; everything else moves arrays
between the caller's dicts (or the engine's flat vectors) and these functions. They are
plain NumPy, and :mod:`nalr_theory.optimizers._kernels` compiles *these same functions* with
numba for the fast path, so both backends run one source.

==============================  ===========================================================
method                          its rule
==============================  ===========================================================
``lmo_momentum``, ``scion``,    :func:`lmo_step` (``scion(constrained=True)``: the
``muon``, ``dmuon``,            conditional-gradient form of the same function); Muon,
``fixed_layerwise``             D-Muon and NorMuon route vectors to :func:`adamw_step`;
                                the engine runs max-abs layers through
                                :func:`lmo_step_entry`, the same rules entry by entry
``normuon``                     :func:`normuon_step`
``adamw``                       :func:`adamw_step`
``lanton``                      :func:`lanton_weights`, then its base's step with
                                ``step = eta_t w_t^l``
``sophia``                      :func:`sophia_step`
``schatten_adaptive``           :func:`schatten_step`
==============================  ===========================================================

Arguments: ``G`` the layer's gradient, ``X`` its iterate (read only with weight decay or the
constrained step; pass any array of the shape otherwise), ``beta`` the momentum, ``step``
the layer's learning rate ``eta_t w_t^l``, ``options`` a :class:`~.config.Options`, and the
layer's geometry ``code, radius, coefficients`` (base norm, radius, Newton-Schulz rows).
"""

from __future__ import annotations

import numpy as np

from ..geometry import by_code as geo
from . import rules


def lmo_step(B_previous, G, X, beta, step, options, code, radius, coefficients):
    """The LMO momentum step on one layer: ``(B_t, U_t, D_t, update)``.

    ``B_t`` (EMA or heavy ball), ``U_t`` (Nesterov or ``B_t``), ``D_t = lmo_l(U_t)``, then
    ``X_{t+1} - X_t = s D_t - s lambda X_t`` or, constrained (Scion), ``s D_t - s X_t``.
    ``U_t`` and ``D_t`` are returned for the diagnostic ``-<U_t, D_t>``
    (``rules.pairing_dual``), which the caller computes only when it reports it.
    """
    B, U = momentum_and_lookahead(B_previous, G, beta, options)
    D = geo.lmo(code, radius, U, coefficients, rules.NS_EPS)
    return B, U, D, lmo_update(D, X, step, options)


def lmo_step_entry(b_previous, g, x, beta, step, options, radius):
    """:func:`lmo_step` on a max-abs layer, whose LMO acts entry by entry: ``(B_t, update)``.

    The same rules in the same order, so the numbers are :func:`lmo_step`'s bit for bit,
    whether the arguments are arrays or single entries. The engine calls it entry by entry
    and writes both results in place, where :func:`lmo_step` makes three new arrays per
    layer: with Scion on 8 sign layers of 8x8 the engine's step takes about a tenth less
    time this way (one thread: 10.9 against 10.0 us, 11.4 against 10.4 in another run).
    """
    B, U = momentum_and_lookahead(b_previous, g, beta, options)
    return B, lmo_update(geo.max_abs_lmo(radius, U), x, step, options)


def momentum_and_lookahead(B_previous, G, beta, options):
    """``(B_t, U_t)``: the momentum and the LMO's input (Nesterov's look-ahead or ``B_t``)."""
    B = rules.momentum(B_previous, G, beta, options.heavy_ball)
    return B, rules.nesterov(B, G, beta, options.heavy_ball) if options.nesterov else B


def lmo_update(D, X, step, options):
    """``X_{t+1} - X_t`` from the direction: decoupled decay, or Scion's constrained step."""
    if options.constrained:
        return rules.conditional_gradient_step(D, X, step)
    return rules.decoupled_step(D, X, step, options.weight_decay)


def normuon_step(B_previous, row_moment, G, X, beta, step, options, radius, coefficients):
    """NorMuon on one layer: ``(B_t, v_t, update, -<U_t, -r O_t>)``.

    Momentum as :func:`lmo_step`, then the row-normalised polar factor
    (``rules.normuon_direction``) and the additive step with decoupled decay.
    """
    B, U = momentum_and_lookahead(B_previous, G, beta, options)
    row_moment, D, dual = rules.normuon_direction(U, row_moment, options.normuon_beta2, options.normuon_eps,
                                                  radius, coefficients)
    return B, row_moment, rules.decoupled_step(D, X, step, options.weight_decay), dual


def adamw_step(first, second, G, X, t, lr, options):
    """AdamW on one layer: ``(m_t, v_t, update)``."""
    beta1, beta2 = options.adamw_beta1, options.adamw_beta2
    first, second = rules.adamw_moments(first, second, G, beta1, beta2)
    D = rules.adamw_direction(first, second, t, beta1, beta2, options.adamw_eps)
    return first, second, rules.decoupled_step(D, X, lr, options.adamw_weight_decay)


def lanton_weights(noise_estimate, samples, t, previous_weights, options, groups):
    """LANTON's weights at step ``t``: ``(H_t, w_t, applied)`` from ``H_{t-1}`` and ``n_t``.

    ``H`` is updated on the layers of a group (``groups >= 0``) from the estimator's first
    sample on, the weights follow (uniform before it), and ``applied`` is ``w_t``, or
    ``w_{t-1}`` with ``lag``: the learning-rate scale LANTON hands its base.
    """
    H = noise_estimate.copy()
    weights = np.ones(H.shape[0])
    if t >= options.first_sample:
        for l in range(H.shape[0]):
            if groups[l] >= 0:
                H[l] = rules.noise_ema(H[l], samples[l], t == options.first_sample, options.beta2)
        weights = rules.group_weights(H, groups, options.eps, options.w_min, options.h_min, options.h_max)
    applied = previous_weights.copy() if options.lag else weights.copy()
    return H, weights, applied


def sophia_step(B_previous, h_previous, G, X, estimate, refresh, t, lr, options):
    """Sophia on one layer: ``(B_t, h_t, update, win_rate, kappa_lo, kappa_hi)``.

    ``B_t = beta1 B_{t-1} + (1 - beta1) G_t`` (divided by ``1 - beta1^t`` with
    ``bias_correction``), ``h_t`` the curvature EMA updated from ``estimate`` at a refresh
    step, then ``X_{t+1} - X_t = -eta_t clip(B_t / max(gamma h_t, eps), c) - eta_t lambda X_t``.
    """
    B = rules.momentum(B_previous, G, options.beta1, False)
    h = rules.curvature_ema(h_previous, estimate, options.beta2) if refresh else h_previous
    M = B / (1.0 - options.beta1 ** float(t)) if options.bias_correction else B
    D, win_rate, kappa_lo, kappa_hi = rules.sophia_direction(M, h, options.gamma, options.eps, options.clip)
    return B, h, rules.decoupled_step(D, X, lr, options.weight_decay), win_rate, kappa_lo, kappa_hi


def schatten_step(B_previous, G, X, A, q_previous, refresh, beta, step, options, grid, spectrum_G, spectrum_A):
    """The adaptive Schatten-q step on one layer: ``(B_t, q_t, update, spectra, J(q_t), J(2), J(inf))``.

    Momentum as :func:`lmo_step`; at a refresh the spectra of ``G`` and of the activations ``A``
    (EMA'd with ``options.spectral_ema``) give ``q_t = argmax_grid J`` (refined when
    ``options.refine > 0``), else ``q_t = q_{t-1}``; then the step ``s lmo_{S_q}(U_t)``
    (``sharp``: ``-s U diag(s^(1/(q-1))) V^T``) with decoupled decay.
    """
    B, U = momentum_and_lookahead(B_previous, G, beta, options)
    q, J = q_previous, (np.nan, np.nan, np.nan)  # J is measured at refreshes only
    if refresh:
        spectrum_G = rules.spectrum_ema(spectrum_G, geo.singular_values(G), options.spectral_ema)
        spectrum_A = rules.spectrum_ema(spectrum_A, geo.singular_values(A), options.spectral_ema)
        index, _ = rules.select_schatten(spectrum_G, spectrum_A, grid)
        q = rules.refine_schatten(spectrum_G, spectrum_A, grid, index, options.refine) if options.refine > 0 \
            else grid[index]
        J = (rules.schatten_criterion(spectrum_G, spectrum_A, q), rules.schatten_criterion(spectrum_G, spectrum_A, 2.0),
             rules.schatten_criterion(spectrum_G, spectrum_A, np.inf))
    D = -geo.schatten_sharp(U, q) if options.sharp else geo.schatten_lmo(U, q)
    return B, q, rules.decoupled_step(D, X, step, options.weight_decay), spectrum_G, spectrum_A, J


#: every step, for ``_kernels``
STEPS = ("momentum_and_lookahead", "lmo_update", "lmo_step", "lmo_step_entry", "normuon_step", "adamw_step",
         "lanton_weights", "sophia_step", "schatten_step")
