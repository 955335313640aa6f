"""The engine's loop over steps, compiled by numba once per problem family.

``run_chunk`` runs steps ``t_first..t_last`` of one seed with no Python in between. It
calls the problem family's numba kernels through the global names
``problem_value_and_grad`` and ``problem_oracle_at``, which :func:`loop_for` binds per
family (numba
cannot cache a function that takes compiled functions as arguments), and the optimizers'
one step, ``optimizers._kernels.step``, which the reference runs as NumPy.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..geometry import _kernels as geo
from ..optimizers import _kernels as optimizer_kernels
from ..optimizers.state import Diagnostics, StepInputs
from .measures import stationarity_measures as _stationarity_measures_py

# the reference function compiled as is (one source for both sides)
stationarity_measures = njit(cache=True)(_stationarity_measures_py)


# owner-less copies of arrays (``run_chunk``'s arguments): see ``geometry._kernels.borrowed``
borrowed = geo.borrowed


def problem_value_and_grad(x, data):  # bound per family by loop_for
    raise NotImplementedError


def problem_oracle_at(x, exact_grad, data, t, rng):  # bound per family by loop_for
    raise NotImplementedError


def layer_dual_norms(vector, offsets, rows, cols, codes, radii):
    """``||v^l||_{l,*}`` of every layer of the flat ``vector`` (the problem's declared norms)."""
    vector = borrowed(vector)  # the caller holds it: its layers' views touch no reference count
    p = codes.shape[0]
    out = np.empty(p)
    for l in range(p):
        block = geo.matrix_view(vector[offsets[l]:offsets[l + 1]], rows[l], cols[l])
        out[l] = geo.dual_norm(codes[l], radii[l], block)
    return out


def recorded_diagnostics(p):
    """The step's diagnostics as the engine hands them: ``momentum_dual_norm`` and
    ``update_rms`` empty, since no record holds them (the step then skips them)."""
    return Diagnostics(np.zeros(p), np.zeros(p), np.zeros(p), np.zeros(0), np.zeros(p), np.zeros(0))


def run_chunk(t_first, t_last, x, rng, data, schedule, needs_second, norms, inverse_sigma, record_steps, slot,
              totals, records, state, layers, options):
    """Steps ``t_first..t_last`` of one seed; ``x``, ``state``, ``records``, ``totals``
    (``(3 + p,)``: the three measures' sums, then each layer's ``sum_t ||grad_l f(X_t)||_*``)
    and ``slot`` (``(1,)``, the next record) are updated in place. Returns 0, or the step at
    which a non-finite value appeared (then nothing after it was written)."""
    # the caller holds every argument for the whole call (see ``borrowed``)
    x, data, schedule, norms, inverse_sigma, record_steps, slot, totals, records, state, layers = borrowed(
        (x, data, schedule, norms, inverse_sigma, record_steps, slot, totals, records, state, layers))
    f_out, stationarity_out, grad_dual_out, weights_out, estimate_out, noise_dual_out, length_out = records
    offsets, rows, cols, codes, radii = norms
    updates = np.zeros(x.shape[0])
    p = codes.shape[0]
    diagnostics = recorded_diagnostics(p)
    empty = np.zeros(0)
    # the step checks every input it is handed (a pass over it): the noise only when its
    # estimator reads it (LANTON's oracle estimator)
    reads_noise = options.adaptive and options.estimator == optimizer_kernels.rules.ORACLE
    for t in range(t_first, t_last + 1):
        # f, the exact gradient (for the measures and inside the oracle) once per step
        value, exact_grad = problem_value_and_grad(x, data)
        grad_dual = layer_dual_norms(exact_grad, offsets, rows, cols, codes, radii)
        grads, noise, noise_dual = problem_oracle_at(x, exact_grad, data, t, rng)
        grads2 = problem_oracle_at(x, exact_grad, data, t, rng)[0] if needs_second else empty
        if not (np.isfinite(value) and optimizer_kernels.all_finite(grad_dual, 0, p)):
            return t
        lr, beta, adamw_lr = schedule[t - 1, 0], schedule[t - 1, 1], schedule[t - 1, 2]
        inputs = StepInputs(x, grads, grads2, noise if reads_noise else empty)
        status = optimizer_kernels.step(t, lr, beta, adamw_lr, inputs, state, updates, diagnostics, layers, options)
        if status >= 0:  # a non-finite input (the sample, X_t) or LANTON's noise sample overflowed
            return t
        x += updates
        plain, weighted, normalised = stationarity_measures(grad_dual, diagnostics.weights, inverse_sigma)
        totals[0] += plain
        totals[1] += weighted
        totals[2] += normalised
        for l in range(p):  # per-layer time averages of ||grad_l f(X_t)||_{l,*}
            totals[3 + l] += grad_dual[l]
        k = slot[0]
        if k < record_steps.shape[0] and t == record_steps[k]:
            f_out[k] = value
            stationarity_out[k] = plain
            grad_dual_out[k] = grad_dual
            weights_out[k] = diagnostics.weights
            estimate_out[k] = diagnostics.noise_estimate
            # the oracle's norms where its draw fixed them (bounded noise: no nuclear norm per
            # spectral layer), else computed; one noise model draws every layer, so all or none
            noise_dual_out[k] = (noise_dual if optimizer_kernels.all_finite(noise_dual, 0, p)
                                 else layer_dual_norms(noise, offsets, rows, cols, codes, radii))
            length_out[k] = diagnostics.step_length
            slot[0] = k + 1
        if not optimizer_kernels.all_finite(x, 0, x.shape[0]):
            return t
    return 0


#: compiled in this order by ``loop_for``
FUNCTIONS = ("layer_dual_norms", "recorded_diagnostics", "run_chunk")
