"""The update rules of every optimizer: one short pure function per formula.

Each method module (``lmo_momentum``, ``scion``, ``muon``, ``dmuon``, ``fixed_layerwise``,
``lanton``, ``normuon``, ``adamw``) composes these rules top to bottom; nothing else in the
package writes an optimizer formula. The functions are plain NumPy on float64 arrays and
scalars, and :mod:`nalr_theory.optimizers._kernels` compiles *these same functions* with
numba for the fast path (``geo`` then stands for :mod:`nalr_theory.geometry._kernels`, whose
functions have the signatures of :mod:`nalr_theory.geometry.by_code`). So they are written
in the subset of NumPy that numba compiles: no keyword arguments, no strings (estimators and
dual norms are the integer codes below), no ``None``.

Notation: ``G`` the stochastic gradient of one layer, ``B`` its momentum, ``U`` the LMO's
input, ``D`` a direction, ``X`` the layer's iterate, ``t = 1, 2, ...`` the step.

Momentum (EMA form: the analysed family, Scion, Muon; heavy-ball sum: Moonlight's D-Muon)
    ``B_t = beta B_{t-1} + (1 - beta) G_t``  or  ``B_t = beta B_{t-1} + G_t``, ``B_0 = 0``;
    Nesterov look-ahead ``U_t = (1 - beta) G_t + beta B_t``  or  ``U_t = G_t + beta B_t``;
    mass ``m_t = beta m_{t-1} + (1 - beta)``  or  ``beta m_{t-1} + 1`` (total weight of the
    gradients in ``B_t``, so ``B_t / m_t`` is an average of past gradients in either form).
Step
    additive with decoupled decay ``X <- X + s D - s lambda X``, ``s = eta_t w_t^l``;
    Scion's conditional-gradient step ``X <- (1 - s) X + s D``.
AdamW
    ``m_t = b1 m + (1 - b1) G``, ``v_t = b2 v + (1 - b2) G^2``,
    ``D = -(m_t / (1 - b1^t)) / (sqrt(v_t / (1 - b2^t)) + eps)``.
NorMuon
    ``O = polar(U)``, ``v_t = b2 v + (1 - b2) mean_j O_ij^2`` per row,
    ``O' = O / (sqrt(v_t) + eps)``, ``D = -r O' ||O||_F / (||O'||_F + eps)``.
Sophia (elementwise; not an LMO method)
    refresh at ``t = 1, k+1, 2k+1, ...`` (``t = k+1, 2k+1, ...`` as the official code);
    ``h_t = beta2 h_{t-k} + (1 - beta2) hhat_t`` at a refresh, ``h_{t-1}`` otherwise;
    ``D = -clip(B / max(gamma h, eps), c)``, an inexact LMO of the ``max_abs`` ball of radius
    ``c`` with ``kappa_lo = -<B, D> / (c ||B||_1)`` and ``kappa_hi = max |D| / c``.
Schatten-q (the adaptive geometry)
    ``J(q) = ||G||_{S_q*} / ||A||_{S_r(q)}``, ``q* = q / (q - 1)``, ``r(q) = 2q / (q - 2)``, from
    the two spectra (optionally EMA'd); ``q_t = argmax`` over the grid (first, i.e. smallest,
    within ``1e-12`` relative of the best), optionally refined by golden section in ``1/q``.
LANTON
    ``n_t = c ||Z_t||_*^2`` with ``(Z_t, c)`` from the estimator; ``H_t = n_t`` at the first
    sample, ``beta2 H_{t-1} + (1 - beta2) n_t`` afterwards; per group
    ``alpha^l = 1 / sqrt(H^l + eps max_group H)``, ``w^l = max(w_min, alpha^l / max_group alpha)``.
"""

from __future__ import annotations

import numpy as np

from ..geometry import by_code as geo
from ..geometry.base_norms import SPECTRAL

#: noise estimators, in the order of ``noise_estimators.ESTIMATORS``
TWO_SAMPLE, CONSECUTIVE, MOMENTUM_RESIDUAL, ORACLE = 0, 1, 2, 3
#: dual-norm computations, in the order of ``noise_estimators.DUALS``
DUAL_EXACT, DUAL_NS, DUAL_GRAM, DUAL_QUADRATURE = 0, 1, 2, 3
#: Newton-Schulz normalisation ``X_0 = G / (||G||_F + eps)`` (Muon's code)
NS_EPS = 1e-7


# --- momentum ----------------------------------------------------------------------------

def momentum(previous, grad, beta, heavy_ball):
    """``B_t`` from ``B_{t-1}`` and ``G_t`` (a new array)."""
    if heavy_ball:
        return beta * previous + grad
    return beta * previous + (1.0 - beta) * grad


def nesterov(momentum_now, grad, beta, heavy_ball):
    """Nesterov look-ahead ``U_t`` from ``B_t`` and ``G_t`` (a new array)."""
    if heavy_ball:
        return grad + beta * momentum_now
    return (1.0 - beta) * grad + beta * momentum_now


def momentum_mass(previous, beta, heavy_ball):
    """``m_t`` from ``m_{t-1}``: the total weight of the gradients summed in ``B_t``."""
    if heavy_ball:
        return beta * previous + 1.0
    return beta * previous + (1.0 - beta)


# --- the step ----------------------------------------------------------------------------

def decoupled_step(direction, param, step, weight_decay):
    """``s D - s lambda X``: the additive step with decoupled weight decay (``X`` unread if 0)."""
    if weight_decay == 0.0:
        return step * direction
    return step * direction - (step * weight_decay) * param


def conditional_gradient_step(direction, param, step):
    """``(1 - s) X + s D - X``: Scion's constrained step as an additive update."""
    return step * direction - step * param


def pairing_dual(direction_input, direction):
    """``-<U, D(U)>``: the dual norm of ``U`` for an exact LMO, its cheap estimate otherwise."""
    return -np.dot(direction_input.ravel(), direction.ravel())  # one BLAS dot, no temporary


def update_rms(update):
    """``||update||_F / sqrt(m n)``."""
    flat = update.ravel()
    return np.sqrt(np.dot(flat, flat) / flat.size)


# --- AdamW -------------------------------------------------------------------------------

def adamw_moments(first, second, grad, beta1, beta2):
    """``(m_t, v_t)``: Adam's running first and second moments (new arrays)."""
    return beta1 * first + (1.0 - beta1) * grad, beta2 * second + (1.0 - beta2) * (grad * grad)


def adamw_direction(first, second, t, beta1, beta2, eps):
    """``-m^_t / (sqrt(v^_t) + eps)`` with the bias corrections ``1 - beta^t``."""
    correction1, correction2 = 1.0 - beta1 ** float(t), 1.0 - beta2 ** float(t)
    return -(first / correction1) / (np.sqrt(second / correction2) + eps)  # one fused loop in numba


# --- NorMuon -----------------------------------------------------------------------------

def polar_factor(U, coefficients):
    """``U V^T`` by Newton-Schulz (``coefficients`` rows), or exactly when there are none."""
    if coefficients.shape[0] > 0:
        return geo.newton_schulz(U, coefficients, NS_EPS)
    return geo.polar_factor_svd(U)


def normuon_direction(U, row_second_moment, beta2, eps, radius, coefficients):
    """``(v_t, D, -<U, -r O>)``: new row moments ``(m, 1)``, the direction, the cheap dual."""
    O = polar_factor(U, coefficients)
    m, n = O.shape
    squares = O * O
    row_mean = (np.sum(squares, axis=1) / n).reshape((m, 1))
    row_second_moment = beta2 * row_second_moment + (1.0 - beta2) * row_mean
    normalised = O / (np.sqrt(row_second_moment) + eps)
    rescale = np.sqrt(np.sum(squares)) / (np.sqrt(np.sum(normalised * normalised)) + eps)
    return row_second_moment, -radius * (normalised * rescale), radius * np.sum(U * O)


# --- LANTON ------------------------------------------------------------------------------

def gram_nuclear_norm(Z):
    """``sum_i s_i(Z)`` from the eigenvalues of the smaller Gram matrix (no SVD)."""
    largest = np.max(np.abs(Z))
    if largest == 0.0:
        return 0.0
    # divide by a power of two near max |Z_ij| (exact) so that Z Z^T neither overflows nor underflows
    scale = 2.0 ** np.floor(np.log2(largest))
    Y = Z * (1.0 / scale)
    gram = Y @ Y.T if Y.shape[0] <= Y.shape[1] else Y.T @ Y
    return scale * np.sum(np.sqrt(np.maximum(np.linalg.eigvalsh(gram), 0.0)))


def dual_value(code, radius, Z, dual, coefficients):
    """``||Z||_{l,*}`` as ``dual`` says: exact, ``-<Z, ns(Z)>``, Gram eigenvalues, quadrature."""
    if code != SPECTRAL or dual == DUAL_EXACT:
        return geo.dual_norm(code, radius, Z)
    if dual == DUAL_GRAM:
        return radius * gram_nuclear_norm(Z)
    if dual == DUAL_QUADRATURE:
        return radius * geo.nuclear_norm_lower(Z)
    return radius * np.sum(Z * geo.newton_schulz(Z, coefficients, NS_EPS))


def noise_sample(estimator, code, radius, dual, coefficients, grad, grad2, noise, previous_grad,
                 previous_momentum, previous_mass):
    """``n_t``, the estimator's sample of the squared dual-norm noise of one layer.

    ``two_sample``: ``d(G - G')^2 / 2``; ``consecutive``: ``d(G_t - G_{t-1})^2 / 2``;
    ``momentum_residual``: ``d(G_t - B_{t-1} / m_{t-1})^2``; ``oracle``: ``d(xi_t)^2``.
    Arguments an estimator does not read may be any array of the layer's shape.
    """
    if estimator == TWO_SAMPLE:
        value = dual_value(code, radius, grad - grad2, dual, coefficients)
        return value * value / 2.0
    if estimator == CONSECUTIVE:
        value = dual_value(code, radius, grad - previous_grad, dual, coefficients)
        return value * value / 2.0
    if estimator == MOMENTUM_RESIDUAL:
        value = dual_value(code, radius, grad - previous_momentum / previous_mass, dual, coefficients)
        return value * value
    value = dual_value(code, radius, noise, dual, coefficients)
    return value * value


def noise_ema(previous, sample, first_sample, beta2):
    """``H_t``: the sample itself at the estimator's first sample (no zero-initialisation
    bias), then the exponential moving average ``beta2 H_{t-1} + (1 - beta2) n_t``."""
    if first_sample:
        return sample
    return beta2 * previous + (1.0 - beta2) * sample


def group_weights(noise_estimate, group_ids, eps, w_min, h_min, h_max):
    """LANTON's weights: ``w^l = alpha^l / max_{j in group(l)} alpha^j``, floored at ``w_min``.

    ``alpha = 1 / sqrt(H + eps max_group H)`` on ``H`` clipped to ``[h_min, h_max]`` (no clip:
    ``0, inf``). Layers with ``group_ids < 0`` (not adaptive) and groups whose estimates are
    all zero (no information) get 1; the quietest layer of each group gets 1.
    """
    H = np.minimum(np.maximum(noise_estimate, h_min), h_max)
    weights = np.ones(H.shape[0])
    for group in np.unique(group_ids):
        members = np.flatnonzero(group_ids == group)
        largest = np.max(H[members])
        if group >= 0 and largest > 0.0:
            alpha = 1.0 / np.sqrt(H[members] + eps * largest)
            weights[members] = alpha / np.max(alpha)
    return np.maximum(weights, w_min)


# --- Sophia ------------------------------------------------------------------------------

def is_refresh_step(t, k, after_k):
    """Whether step ``t`` refreshes Sophia's curvature: ``(t - 1) mod k == 0`` (the paper: ``t =
    1, k+1, ...``), without ``t = 1`` when ``after_k`` (the official code's first estimate is
    taken after step ``k``, at the iterate that step ``k+1`` starts from)."""
    if (t - 1) % k != 0:
        return False
    return t > 1 or not after_k


def curvature_ema(previous, estimate, beta2):
    """``h_t = beta2 h_{t-k} + (1 - beta2) hhat_t`` (no bias correction, as the paper and its code)."""
    return beta2 * previous + (1.0 - beta2) * estimate


def sophia_direction(B, h, gamma, eps, clip):
    """``(D, win_rate, kappa_lo, kappa_hi)``: ``D = -clip(B / max(gamma h, eps), clip)``.

    ``win_rate``: the fraction of coordinates left unclipped (``|B_i| < clip gamma h_i``);
    ``kappa_lo = -<B, D> / (clip ||B||_1)`` (``nan`` for ``B = 0``), ``kappa_hi = max|D| / clip``:
    ``D`` as an inexact LMO of the ``max_abs`` ball of radius ``clip``. Where ``h_i <= 0`` the
    ratio is ``B_i / eps``, clipped: the step falls back to sign momentum.
    """
    curvature = gamma * h
    ratio = B / np.maximum(curvature, eps)
    D = -np.minimum(np.maximum(ratio, -clip), clip)
    win_rate = np.sum(np.abs(B) < clip * curvature) / B.size
    total = np.sum(np.abs(B))
    kappa_lo = -np.sum(B * D) / (clip * total) if total > 0.0 else np.nan
    return D, win_rate, kappa_lo, np.max(np.abs(D)) / clip


# --- Schatten-q --------------------------------------------------------------------------

def schatten_exponents(q):
    """``(q*, r)``: the dual exponent ``q / (q - 1)`` and Hoelder's ``r = 2q / (q - 2)``
    (``q = 2``: ``r = inf``; ``q = inf``: ``q* = 1``, ``r = 2``)."""
    if q == np.inf:
        return 1.0, 2.0
    if q == 2.0:
        return 2.0, np.inf
    return q / (q - 1.0), 2.0 * q / (q - 2.0)


def schatten_criterion(singular_G, singular_A, q):
    """``J(q) = ||G||_{S_q*} / ||A||_{S_r(q)}`` from the decreasing spectra of ``G`` and ``A``: the
    guaranteed decrease of the one-layer surrogate ``||X A - Y||_F^2 / (2N)`` per unit ``S_q``
    step is ``N J(q)^2 / 2``."""
    dual_exponent, holder = schatten_exponents(q)
    return geo.spectrum_norm(singular_G, dual_exponent) / geo.spectrum_norm(singular_A, holder)


def select_schatten(singular_G, singular_A, grid):
    """``(index, J)``: the grid index of ``argmax_q J(q)`` (the first within ``1e-12`` relative of
    the best, so ties go to the smallest ``q`` of an increasing grid) and ``J`` on the grid."""
    values = np.empty(grid.shape[0])
    for i in range(grid.shape[0]):
        values[i] = schatten_criterion(singular_G, singular_A, grid[i])
    best = np.max(values)
    for i in range(grid.shape[0]):
        if values[i] >= best * (1.0 - 1e-12):
            return i, values
    return 0, values


def refine_schatten(singular_G, singular_A, grid, index, iterations):
    """``q`` maximising ``J`` between the grid neighbours of ``grid[index]``: golden-section search
    in ``u = 1/q`` (``q = inf`` is ``u = 0``), kept only if it beats the grid's best."""
    u_low = 1.0 / grid[index + 1] if index + 1 < grid.shape[0] else 1.0 / grid[index]
    u_high = 1.0 / grid[index - 1] if index > 0 else 1.0 / grid[index]
    best_q, best_J = grid[index], schatten_criterion(singular_G, singular_A, grid[index])
    ratio = 0.5 * (np.sqrt(5.0) - 1.0)
    for _ in range(iterations):
        left, right = u_high - ratio * (u_high - u_low), u_low + ratio * (u_high - u_low)
        q_left = np.inf if left == 0.0 else 1.0 / left
        q_right = np.inf if right == 0.0 else 1.0 / right
        J_left = schatten_criterion(singular_G, singular_A, q_left)
        J_right = schatten_criterion(singular_G, singular_A, q_right)
        if J_left > best_J:
            best_q, best_J = q_left, J_left
        if J_right > best_J:
            best_q, best_J = q_right, J_right
        if J_left >= J_right:  # the maximum of a unimodal J lies in [u_low, right]
            u_high = right
        else:
            u_low = left
    return best_q


def spectrum_ema(previous, spectrum, rate):
    """``rate * previous + (1 - rate) * spectrum``; the spectrum itself when the two lengths
    differ (the first selection, or a new batch size)."""
    if previous.shape[0] != spectrum.shape[0]:
        return spectrum.copy()
    return rate * previous + (1.0 - rate) * spectrum


#: every rule, in dependency order (``_kernels`` compiles them in this order)
RULES = (
    "momentum", "nesterov", "momentum_mass", "decoupled_step", "conditional_gradient_step", "pairing_dual",
    "update_rms", "adamw_moments", "adamw_direction", "polar_factor", "normuon_direction", "gram_nuclear_norm",
    "dual_value", "noise_sample", "noise_ema", "group_weights", "is_refresh_step", "curvature_ema",
    "sophia_direction", "schatten_exponents", "schatten_criterion", "select_schatten", "refine_schatten",
    "spectrum_ema",
)
