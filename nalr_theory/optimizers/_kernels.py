"""numba twin of ``lmo_momentum.reference_step``: one flat kernel for every method.

The engine's entry point is :func:`step`. It works on one flat float64 vector per quantity
(layer ``l`` at ``[offsets[l], offsets[l + 1])``, row-major ``(rows[l], cols[l])``), needs no
Python per step, allocates only per-layer temporaries, and updates the state arrays, which
belong to the caller, in place::

    status = step(t, lr, beta, adamw_lr,                  # step index (1-based), schedule values
                  params, grads, grads2, noise,           # (size,) each; (0,) when unused
                  momentum, second_moment, row_second_moment, previous_grads,
                  noise_estimate, weights, momentum_mass, # the FlatState, updated in place
                  updates, diagnostics,                   # outputs: (size,), (p, 6)
                  layer_int, layer_float, lmo_coefficients, dual_coefficients,
                  options_int, options_float)             # KernelConfig (constant per run)

``status`` is ``-1`` on success. Otherwise nothing was modified and ``status = k p + l``
names the first non-finite input: ``k`` indexes ``("grads", "grads2", "noise", "params")``
and ``l`` the layer. ``params`` is read only when the update depends on the iterate
(weight decay, constrained Scion), ``grads2`` only by ``two_sample``, ``noise`` only by
``oracle``. Build the constants with ``optimizer.kernel_config()``, the state with
``optimizer.to_flat(optimizer.init())`` and the schedule tables with ``schedule.values(T)``;
for ``R`` seeds keep ``(R, size)`` state arrays and pass rows (``prange`` over seeds is safe:
the kernel touches nothing but its arguments).

Column meanings are the module constants below; tests prove this kernel equal to the
reference to 1e-10 relative over 200 steps for every method, norm preset and estimator.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..geometry import _kernels as geo
from ..geometry.base_norms import SPECTRAL
from .base import KINDS, KernelConfig
from .momentum import FORMS
from .noise_estimators import DUALS, ESTIMATORS, FIRST_STEP, cheap_dual_coefficients

NS_EPS = 1e-7

KIND_LMO, KIND_NORMUON, KIND_ADAMW = (KINDS.index(k) for k in ("lmo", "normuon", "adamw"))
FORM_EMA = FORMS.index("ema")
NO_ESTIMATOR = 0
TWO_SAMPLE, CONSECUTIVE, MOMENTUM_RESIDUAL, ORACLE = (1 + ESTIMATORS.index(e) for e in ESTIMATORS)
DUAL_EXACT, DUAL_NS, DUAL_GRAM, DUAL_QUADRATURE = (DUALS.index(d) for d in ("exact", "ns", "gram", "quadrature"))

# layer_int columns
START, STOP, ROWS, COLS, CODE, GROUP, KIND, LMO_STEPS, DUAL_STEPS, ROW_START = range(10)
# layer_float columns
RADIUS, FIXED_WEIGHT = range(2)
# options_int entries
FORM, NESTEROV, ESTIMATOR, DUAL, LAG, ADAPTIVE, CONSTRAINED, CLIP, FIRST_SAMPLE = range(9)
# options_float entries
(WEIGHT_DECAY, BETA2, EPS, W_MIN, H_MIN, H_MAX, ADAMW_BETA1, ADAMW_BETA2, ADAMW_EPS, ADAMW_WEIGHT_DECAY,
 NORMUON_BETA2, NORMUON_EPS) = range(12)
# diagnostics columns (the fields of base.Diagnostics, in order)
D_WEIGHT, D_SAMPLE, D_ESTIMATE, D_DUAL, D_LENGTH, D_RMS = range(6)


def build_config(optimizer) -> KernelConfig:
    """The constant kernel arguments of ``optimizer`` (see the column constants)."""
    layout, config = optimizer.layout, optimizer.config
    p = len(layout)
    dual_rows = [cheap_dual_coefficients(norm) for norm in layout.norms]
    dual_table = np.zeros((p, max(1, max(r.shape[0] for r in dual_rows)), 3))
    for l, rows in enumerate(dual_rows):
        dual_table[l, : rows.shape[0]] = rows
    row_starts = optimizer.row_starts
    layer_int = np.zeros((p, 10), dtype=np.int64)
    for l in range(p):
        layer_int[l] = (layout.offsets[l], layout.offsets[l + 1], layout.rows[l], layout.cols[l], layout.codes[l],
                        optimizer.adaptive_groups[l], KINDS.index(optimizer.kinds[l]), layout.ns_steps[l],
                        dual_rows[l].shape[0], row_starts[l])
    layer_float = np.ascontiguousarray(np.column_stack([layout.radii, optimizer.fixed_weights]))
    estimator = NO_ESTIMATOR if not config.adaptive else 1 + ESTIMATORS.index(config.estimator)
    clip = config.clip if config.clip is not None else (0.0, 0.0)
    options_int = np.array([
        FORMS.index(config.momentum_form), int(config.nesterov), estimator, DUALS.index(config.dual),
        config.lag, int(config.adaptive), int(config.constrained), int(config.clip is not None),
        FIRST_STEP[config.estimator] if config.adaptive else 0,
    ], dtype=np.int64)
    options_float = np.array([
        config.weight_decay, config.beta2, config.eps, config.w_min, clip[0], clip[1], config.adamw_betas[0],
        config.adamw_betas[1], config.adamw_eps, config.adamw_weight_decay, config.normuon_beta2,
        config.normuon_eps,
    ], dtype=np.float64)
    return KernelConfig(layer_int, layer_float, np.ascontiguousarray(layout.ns_table), dual_table, options_int,
                        options_float)


@njit(cache=True)
def first_nonfinite_layer(vector, layer_int):
    """Index of the first layer with a non-finite entry in ``vector``, ``-1`` if none (or empty)."""
    if vector.shape[0] == 0:
        return -1
    for l in range(layer_int.shape[0]):
        for i in range(layer_int[l, START], layer_int[l, STOP]):
            if not np.isfinite(vector[i]):
                return l
    return -1


@njit(cache=True)
def gram_nuclear_norm(Z):
    """``sum_i s_i(Z)`` from the eigenvalues of the smaller Gram matrix."""
    if Z.shape[0] <= Z.shape[1]:
        gram = Z @ Z.T  # BLAS reads the transposed (F-ordered) view: no copy
    else:
        gram = Z.T @ Z
    eigenvalues = np.linalg.eigvalsh(gram)
    total = 0.0
    for value in eigenvalues:
        total += np.sqrt(max(value, 0.0))
    return total


@njit(cache=True)
def dual_value(code, radius, Z, mode, coefficients):
    """Twin of ``noise_estimators.dual_value``."""
    if code != SPECTRAL or mode == DUAL_EXACT:
        return geo.dual_norm(code, radius, Z)
    if mode == DUAL_GRAM:
        return radius * gram_nuclear_norm(Z)
    if mode == DUAL_QUADRATURE:
        return radius * geo.nuclear_norm_lower(Z)
    polar = geo.newton_schulz(Z, coefficients, NS_EPS)
    return radius * np.sum(Z * polar)


@njit(cache=True)
def noise_sample(estimator, code, radius, mode, coefficients, G, G2, xi, G_previous, B_previous, mass_previous):
    """Twin of ``noise_estimators.noise_sample`` (called only from the estimator's first step)."""
    if estimator == TWO_SAMPLE:
        return dual_value(code, radius, G - G2, mode, coefficients) ** 2 / 2.0
    if estimator == CONSECUTIVE:
        return dual_value(code, radius, G - G_previous, mode, coefficients) ** 2 / 2.0
    if estimator == MOMENTUM_RESIDUAL:
        return dual_value(code, radius, G - B_previous / mass_previous, mode, coefficients) ** 2
    return dual_value(code, radius, xi, mode, coefficients) ** 2


@njit(cache=True)
def layer_weights(noise_estimate, layer_int, eps, w_min, clip, h_min, h_max, out):
    """Twin of ``lanton.layer_weights``, written into ``out``."""
    p = layer_int.shape[0]
    H = noise_estimate.copy()
    if clip:
        for l in range(p):
            H[l] = min(max(H[l], h_min), h_max)
    for l in range(p):
        group = layer_int[l, GROUP]
        weight = 1.0
        if group >= 0:
            largest = -np.inf
            for j in range(p):
                if layer_int[j, GROUP] == group:
                    largest = max(largest, H[j])
            if largest > 0.0:
                alpha_max = 0.0
                for j in range(p):
                    if layer_int[j, GROUP] == group:
                        alpha_max = max(alpha_max, 1.0 / np.sqrt(H[j] + eps * largest))
                weight = (1.0 / np.sqrt(H[l] + eps * largest)) / alpha_max
        out[l] = max(weight, w_min)


@njit(cache=True)
def normuon_direction(U, row_second_moment, beta2, eps, radius, coefficients):
    """Twin of ``normuon.normuon_direction``; updates ``row_second_moment`` in place."""
    if coefficients.shape[0] > 0:
        O = geo.newton_schulz(U, coefficients, NS_EPS)
    else:
        O = geo.polar_factor_svd(U)
    m, n = O.shape
    for i in range(m):
        row_second_moment[i] = beta2 * row_second_moment[i] + (1.0 - beta2) * (np.sum(O[i] * O[i]) / n)
    normalised = np.empty((m, n))
    for i in range(m):
        denominator = np.sqrt(row_second_moment[i]) + eps
        for j in range(n):
            normalised[i, j] = O[i, j] / denominator
    scale = np.sqrt(np.sum(O * O)) / (np.sqrt(np.sum(normalised * normalised)) + eps)
    return -radius * (normalised * scale), radius * np.sum(U * O)


@njit(cache=True)
def step(t, lr, beta, adamw_lr, params, grads, grads2, noise,
         momentum, second_moment, row_second_moment, previous_grads, noise_estimate, weights, momentum_mass,
         updates, diagnostics, layer_int, layer_float, lmo_coefficients, dual_coefficients, options_int,
         options_float):
    """One step of the family on flat arrays (see the module docstring)."""
    p = layer_int.shape[0]
    bad = first_nonfinite_layer(grads, layer_int)
    if bad >= 0:
        return bad
    bad = first_nonfinite_layer(grads2, layer_int)
    if bad >= 0:
        return p + bad
    bad = first_nonfinite_layer(noise, layer_int)
    if bad >= 0:
        return 2 * p + bad
    bad = first_nonfinite_layer(params, layer_int)
    if bad >= 0:
        return 3 * p + bad

    ema = options_int[FORM] == FORM_EMA
    adaptive = options_int[ADAPTIVE] != 0
    estimator = options_int[ESTIMATOR]
    dual_mode = options_int[DUAL]
    first = options_int[FIRST_SAMPLE]
    weight_decay = options_float[WEIGHT_DECAY]
    mass_previous = momentum_mass[0]

    # 1. layer weights: fixed, or LANTON's noise-adaptive ones
    applied = layer_float[:, FIXED_WEIGHT].copy()
    for l in range(p):
        diagnostics[l, D_SAMPLE] = np.nan
        diagnostics[l, D_ESTIMATE] = np.nan
    if adaptive:
        beta2 = options_float[BETA2]
        for l in range(p):
            if layer_int[l, GROUP] < 0 or t < first:
                continue
            s, e = layer_int[l, START], layer_int[l, STOP]
            m, n = layer_int[l, ROWS], layer_int[l, COLS]
            G = grads[s:e].reshape(m, n)
            G2 = grads2[s:e].reshape(m, n) if estimator == TWO_SAMPLE else G
            xi = noise[s:e].reshape(m, n) if estimator == ORACLE else G
            G_previous = previous_grads[s:e].reshape(m, n) if estimator == CONSECUTIVE else G
            B_previous = momentum[s:e].reshape(m, n)
            coefficients = np.ascontiguousarray(dual_coefficients[l, : layer_int[l, DUAL_STEPS]])
            sample = noise_sample(estimator, layer_int[l, CODE], layer_float[l, RADIUS], dual_mode, coefficients,
                                  G, G2, xi, G_previous, B_previous, mass_previous)
            diagnostics[l, D_SAMPLE] = sample
            if t == first:
                noise_estimate[l] = sample
            else:
                noise_estimate[l] = beta2 * noise_estimate[l] + (1.0 - beta2) * sample
            diagnostics[l, D_ESTIMATE] = noise_estimate[l]
        current = layer_float[:, FIXED_WEIGHT].copy()
        if t >= first:
            layer_weights(noise_estimate, layer_int, options_float[EPS], options_float[W_MIN],
                          options_int[CLIP] != 0, options_float[H_MIN], options_float[H_MAX], current)
        if options_int[LAG] != 0:
            applied = weights.copy()
        else:
            applied = current.copy()
        weights[:] = current
    else:
        weights[:] = applied

    # 2. per layer: momentum, direction, update
    for l in range(p):
        s, e = layer_int[l, START], layer_int[l, STOP]
        m, n = layer_int[l, ROWS], layer_int[l, COLS]
        kind = layer_int[l, KIND]
        diagnostics[l, D_WEIGHT] = applied[l]
        if kind == KIND_ADAMW:
            beta1, beta2a = options_float[ADAMW_BETA1], options_float[ADAMW_BETA2]
            eps_a, decay = options_float[ADAMW_EPS], adamw_lr * options_float[ADAMW_WEIGHT_DECAY]
            correction1 = 1.0 - beta1 ** float(t)
            correction2 = 1.0 - beta2a ** float(t)
            for i in range(s, e):
                g = grads[i]
                first_moment = beta1 * momentum[i] + (1.0 - beta1) * g
                second = beta2a * second_moment[i] + (1.0 - beta2a) * (g * g)
                momentum[i] = first_moment
                second_moment[i] = second
                update = adamw_lr * (-(first_moment / correction1) / (np.sqrt(second / correction2) + eps_a))
                if options_float[ADAMW_WEIGHT_DECAY] > 0.0:
                    update = update - decay * params[i]
                updates[i] = update
            diagnostics[l, D_DUAL] = np.nan
            diagnostics[l, D_LENGTH] = np.nan
        else:
            G = grads[s:e].reshape(m, n)
            for i in range(s, e):
                if ema:
                    momentum[i] = beta * momentum[i] + (1.0 - beta) * grads[i]
                else:
                    momentum[i] = beta * momentum[i] + grads[i]
            B = momentum[s:e].reshape(m, n)
            if options_int[NESTEROV] != 0:
                if ema:
                    U = (1.0 - beta) * G + beta * B
                else:
                    U = G + beta * B
            else:
                U = B  # the LMO never writes into its input
            coefficients = np.ascontiguousarray(lmo_coefficients[l, : layer_int[l, LMO_STEPS]])
            radius = layer_float[l, RADIUS]
            if kind == KIND_NORMUON:
                r0 = layer_int[l, ROW_START]
                direction, dual = normuon_direction(U, row_second_moment[r0 : r0 + m], options_float[NORMUON_BETA2],
                                                    options_float[NORMUON_EPS], radius, coefficients)
            else:
                direction = geo.lmo(layer_int[l, CODE], radius, U, coefficients, NS_EPS)
                dual = -np.sum(U * direction)
            step_size = lr * applied[l]
            flat_direction = direction.ravel()
            for k in range(e - s):
                if options_int[CONSTRAINED] != 0:
                    update = step_size * flat_direction[k] - step_size * params[s + k]
                else:
                    update = step_size * flat_direction[k]
                    if weight_decay > 0.0:
                        update = update - (step_size * weight_decay) * params[s + k]
                updates[s + k] = update
            diagnostics[l, D_DUAL] = dual
            diagnostics[l, D_LENGTH] = step_size
        total = 0.0
        for i in range(s, e):
            total += updates[i] * updates[i]
        diagnostics[l, D_RMS] = np.sqrt(total / (e - s))

    # 3. what the next step needs
    if estimator == CONSECUTIVE:
        previous_grads[:] = grads
    if ema:
        momentum_mass[0] = beta * mass_previous + (1.0 - beta)
    else:
        momentum_mass[0] = beta * mass_previous + 1.0
    return -1
