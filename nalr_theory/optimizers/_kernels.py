"""The numba fast path: the rules and steps compiled from their one NumPy source, and the
engine-facing step on flat arrays.

One source
    :func:`compile_module` compiles each function of :mod:`.rules` and :mod:`.steps` with
    numba *as written*: the same code object, run with ``geo`` bound to
    :mod:`nalr_theory.geometry._kernels` (the numba twins of
    :mod:`nalr_theory.geometry.by_code`, same names and arguments) and ``rules`` bound to
    the compiled rules. ``rules`` and ``steps`` below are those compiled versions; no
    optimizer formula is written in this file.

The engine's entry point
    ::

        status = step(t, lr, beta, adamw_lr,           # step index (1-based), schedule values
                      inputs,                          # StepInputs: params, grads, grads2, noise
                      state,                           # FlatState, updated in place
                      updates, diagnostics,            # (size,) and Diagnostics of (p,) arrays
                      layers, options)                 # LayerTable, Options (constant per run)

    It needs no Python per step and touches nothing but its arguments, so ``prange`` over
    seeds (one row of ``(R, size)`` state arrays per seed) is safe. ``grads2`` (``two_sample``)
    and ``noise`` (``oracle``) must hold every layer when the estimator reads them; the other
    inputs may be empty arrays when unread. So may ``diagnostics.momentum_dual_norm`` and
    ``diagnostics.update_rms``: they are then not computed (the engine records neither, and
    their two dot products per layer take a third of this step's time with Scion on 8x8
    layers). ``status`` is ``-1`` on success. Otherwise nothing of ``state`` was modified
    and ``status = k p + l`` names layer ``l`` and ``k``: 0-3 a non-finite input
    (``INPUT_NAMES``), 4 a noise sample that overflowed (the run has diverged). Build
    ``layers, options`` with ``optimizer.kernel_config()`` and the state with
    ``optimizer.to_flat(optimizer.init())``.
"""

from __future__ import annotations

import types

import numpy as np
from numba import njit

from ..geometry import _kernels as geometry_kernels
from ..geometry.base_norms import MAX_ABS
from . import rules as reference_rules
from . import steps as reference_steps
from .config import KIND_ADAMW, KIND_LMO, KIND_NORMUON, LayerTable, Options
from .state import Diagnostics, FlatState, StepInputs

INPUT_NAMES = ("grads", "grads2", "noise", "params")
DIVERGED = len(INPUT_NAMES)


def compile_module(module, names, bindings, name, variant="", **jit_options):
    """A module holding ``module``'s functions ``names`` compiled by numba from their source.

    Each function keeps its code object and runs with the globals of ``module`` updated by
    ``bindings``; calls between the functions go to the compiled versions. ``cache=True``
    files are keyed by the source file and the function's qualified name, to which
    ``variant`` is appended: compilations of one source with different ``bindings`` need
    different variants, or they would share one cache entry. ``jit_options`` go to ``njit``.
    """
    compiled = types.ModuleType(name)
    namespace = dict(vars(module), **bindings)
    for function_name in names:
        source = getattr(module, function_name)
        clone = types.FunctionType(source.__code__, namespace, source.__name__, source.__defaults__,
                                   source.__closure__)
        clone.__qualname__, clone.__module__, clone.__doc__ = source.__qualname__ + variant, source.__module__, \
            source.__doc__
        dispatcher = njit(cache=True, **jit_options)(clone)
        namespace[function_name] = dispatcher
        setattr(compiled, function_name, dispatcher)
    for constant, value in vars(module).items():
        if constant.isupper():
            setattr(compiled, constant, value)
    return compiled


rules = compile_module(reference_rules, reference_rules.RULES, {"geo": geometry_kernels},
                       "nalr_theory.optimizers._kernels.rules")
# the steps are inlined into their callers: a call of ``lmo_step`` per layer cost about
# 70 ns more than its rules called in place (one thread, ``step`` with Scion: 2.95 against
# 3.47 us on 8 of 8x8, 5.65 against 6.27 us on 8 of 16x16). The rules are not: inlined,
# their array expressions took longer (the step 3.36 and 6.72 us)
steps = compile_module(reference_steps, reference_steps.STEPS, {"geo": geometry_kernels, "rules": rules},
                       "nalr_theory.optimizers._kernels.steps", inline="always")
geo = geometry_kernels


#: the largest float64: ``|v| <= FLOAT_MAX`` is false exactly for ``inf``, ``-inf`` and ``nan``
FLOAT_MAX = float(np.finfo(np.float64).max)


@njit(cache=True)
def all_finite(vector, start, stop):
    """Whether ``vector[start:stop]`` is finite. One pass with no early exit, which the
    compiler vectorises (an OR of comparisons): 0.14 us for 2048 entries, against 0.8 us for
    a loop that stops at the first ``np.isfinite`` failure or ``np.all(np.isfinite(v))``."""
    bad = False
    for i in range(start, stop):
        bad |= not (abs(vector[i]) <= FLOAT_MAX)
    return not bad


@njit(cache=True)
def first_nonfinite_layer(vector, layers):
    """Index of the first layer with a non-finite entry in ``vector``, ``-1`` if none (or empty)."""
    if vector.shape[0] == 0 or all_finite(vector, 0, vector.shape[0]):
        return -1
    for l in range(layers.start.shape[0]):
        if not all_finite(vector, layers.start[l], layers.stop[l]):
            return l
    return -1


@njit(cache=True)
def first_bad_input(inputs, layers):
    """``k p + l`` for the first non-finite input (``INPUT_NAMES[k]``, layer ``l``), or -1."""
    p = layers.start.shape[0]
    for k, vector in enumerate((inputs.grads, inputs.grads2, inputs.noise, inputs.params)):
        bad = first_nonfinite_layer(vector, layers)
        if bad >= 0:
            return k * p + bad
    return -1


@njit(cache=True)
def layer_block(vector, layers, l):
    """Layer ``l`` of ``vector`` as an ``(m, n)`` view."""
    return geo.matrix_view(vector[layers.start[l]:layers.stop[l]], layers.rows[l], layers.cols[l])


@njit(cache=True)
def noise_samples(t, inputs, state, layers, options):
    """``n_t^l`` of every layer of a group (``nan`` elsewhere and before the first sample)."""
    p = layers.start.shape[0]
    samples = np.full(p, np.nan)
    if t < options.first_sample:
        return samples
    # the one array the estimator compares G_t with (G', G_{t-1}, B_{t-1} or xi_t), chosen
    # once: noise_sample reads only its estimator's argument, so it goes in every slot (a
    # view per argument would cost more than the sample on small layers)
    estimator = options.estimator
    compared = (inputs.grads2 if estimator == rules.TWO_SAMPLE
                else state.previous_grads if estimator == rules.CONSECUTIVE
                else state.momentum if estimator == rules.MOMENTUM_RESIDUAL else inputs.noise)
    for l in range(p):
        if layers.group[l] < 0:
            continue
        G = layer_block(inputs.grads, layers, l)
        other = layer_block(compared, layers, l)
        coefficients = layers.dual_coefficients[l, : layers.dual_steps[l]]
        samples[l] = rules.noise_sample(estimator, layers.code[l], layers.radius[l], options.dual, coefficients, G,
                                        other, other, other, other, state.momentum_mass[0])
    return samples


@njit(cache=True)
def step(t, lr, beta, adamw_lr, inputs, state, updates, diagnostics, layers, options):
    """One step of any method on flat arrays (see the module docstring)."""
    # the caller holds these for the whole call: their slices and views then touch no
    # reference count (see ``geometry._kernels.borrowed``; the state is the engine's to borrow)
    inputs, updates, diagnostics = geo.borrowed((inputs, updates, diagnostics))
    p = layers.start.shape[0]
    status = first_bad_input(inputs, layers)
    if status >= 0:
        return status
    samples = np.full(p, np.nan)
    scale = layers.fixed_weight.copy()
    if options.adaptive:  # LANTON: weights from the noise estimates, handed to the base as a scale
        samples = noise_samples(t, inputs, state, layers, options)
        for l in range(p):
            if layers.group[l] >= 0 and t >= options.first_sample and not np.isfinite(samples[l]):
                return DIVERGED * p + l
        H, weights, scale = steps.lanton_weights(state.noise_estimate, samples, t, state.weights, options,
                                                 layers.group)
        state.noise_estimate[:] = H
        state.weights[:] = weights
    else:
        state.weights[:] = scale
    # without weight decay or the constrained step X is not read: any array of the shape will do
    params = inputs.params if inputs.params.shape[0] > 0 else inputs.grads
    # two BLAS dot calls per layer (a third of the step with Scion on 8x8): skipped when unreported
    reports_dual, reports_rms = diagnostics.momentum_dual_norm.shape[0] > 0, diagnostics.update_rms.shape[0] > 0
    for l in range(p):
        s, e, m = layers.start[l], layers.stop[l], layers.rows[l]
        dual, length = np.nan, np.nan
        if layers.kind[l] == KIND_LMO and layers.code[l] == MAX_ABS and not reports_dual:
            # entry by entry, written in place: no new arrays (see steps.lmo_step_entry); the
            # reported -<U, D> needs U and D whole, and takes the general path below
            length = lr * scale[l]
            radius = layers.radius[l]
            # the layer's slices, so that the loop counts from 0: indices from ``s``, which the
            # compiler cannot prove non-negative, keep numba's negative-index check in every
            # access, and the loop ran scalar (one thread, this step with Scion: 1.37 against
            # 2.36 us on 8 of 8x8, 3.18 against 7.13 us on 8 of 16x16)
            momentum, grads, values, layer_updates = (state.momentum[s:e], inputs.grads[s:e], params[s:e],
                                                      updates[s:e])
            for i in range(e - s):
                momentum[i], layer_updates[i] = steps.lmo_step_entry(momentum[i], grads[i], values[i], beta, length,
                                                                     options, radius)
        else:
            G = layer_block(inputs.grads, layers, l)
            X = layer_block(params, layers, l)
            B_previous = layer_block(state.momentum, layers, l)
            coefficients = layers.lmo_coefficients[l, : layers.lmo_steps[l]]
            if layers.kind[l] == KIND_ADAMW:
                first, second, update = steps.adamw_step(B_previous, layer_block(state.second_moment, layers, l), G,
                                                         X, t, adamw_lr, options)
                state.momentum[s:e] = geo.vector_view(first)
                state.second_moment[s:e] = geo.vector_view(second)
            elif layers.kind[l] == KIND_NORMUON:
                r = layers.row_start[l]
                length = lr * scale[l]
                row_moment = geo.matrix_view(state.row_second_moment[r:r + m], m, 1)
                B, rows, update, dual = steps.normuon_step(B_previous, row_moment, G, X, beta, length, options,
                                                           layers.radius[l], coefficients)
                state.momentum[s:e] = geo.vector_view(B)
                state.row_second_moment[r:r + m] = geo.vector_view(rows)
            else:
                length = lr * scale[l]
                B, U, D, update = steps.lmo_step(B_previous, G, X, beta, length, options, layers.code[l],
                                                 layers.radius[l], coefficients)
                if reports_dual:
                    dual = rules.pairing_dual(U, D)
                state.momentum[s:e] = geo.vector_view(B)
            updates[s:e] = geo.vector_view(update)
        diagnostics.weights[l] = scale[l]
        diagnostics.noise_sample[l] = samples[l]
        diagnostics.noise_estimate[l] = state.noise_estimate[l] if layers.group[l] >= 0 and options.adaptive \
            and t >= options.first_sample else np.nan
        if reports_dual:
            diagnostics.momentum_dual_norm[l] = dual
        diagnostics.step_length[l] = length
        if reports_rms:
            diagnostics.update_rms[l] = rules.update_rms(layer_block(updates, layers, l))
    if state.previous_grads.shape[0] > 0:
        state.previous_grads[:] = inputs.grads
    state.momentum_mass[0] = rules.momentum_mass(state.momentum_mass[0], beta, options.heavy_ball)
    return -1
