"""What a researcher would write instead of the engine: the bench's two workloads on the
``sigmoidal`` problem, batched over seeds, in NumPy, JAX and PyTorch (engine issue).

Each step is the engine's, written once over a small table of array operations (``Ops``)
so that the three peers run the same code: the value ``f(X_t)``, the exact gradient
``g_t``, the stationarity measure ``sum_l ||g_t^l||_{l,*}`` (the problem's declared norms:
``r ||.||_1`` for the sign norm, the nuclear norm from an SVD for the spectral norm), the
oracle ``G_t = g_t + xi_t``, then

- ``scion_sign``: ``B_t = beta B_{t-1} + (1 - beta) G_t``, ``X_{t+1} = X_t - eta r sign(B_t)``;
- ``lanton`` (D-Muon base, Newton-Schulz 5, consecutive estimator, quadrature dual):
  ``n_t = (r q(G_t - G_{t-1}))^2 / 2`` from ``t = 2`` with ``q`` the Radau lower bound of
  the nuclear norm, ``H_t`` its EMA, ``w = alpha / max alpha`` with ``alpha = 1 / sqrt(H +
  eps max H)``, heavy-ball momentum with Nesterov's look-ahead ``U = G + beta B``,
  ``X_{t+1} = X_t + s D - s lambda X_t`` with ``D = -r NS5(U)`` and ``s = eta w``.

``f`` and the measure are kept for every step. The noise ``xi_t`` is drawn beforehand by the
package's own oracle (``BoundNoise.draw`` with ``numpy.random.default_rng(seed)``, the
engine's stream), so that every peer follows the engine's iterates (checked on the final
iterate) and is timed without drawing or normalising noise, which the engine does inside its
loop: the comparison favours the peers. Each peer is optional (``ImportError`` without its
library).
"""

from __future__ import annotations

import time
from types import SimpleNamespace

import numpy as np

from nalr_theory.geometry.nuclear_quadrature import DETERMINANT_ROUNDING, SINGLE_POINT_TOLERANCE


def workload_data(problem, optimizer, R: int, T: int) -> dict:
    """The problem's arrays, the start, the optimizer's constants and ``xi`` ``(T, R, L, m, n)``."""
    layout = problem.layout
    names = list(layout.names)
    noise = np.empty((T, R, len(names)) + layout.shapes[0])
    for seed in range(R):
        rng = np.random.default_rng(seed)
        for t in range(1, T + 1):
            draw = problem.noise.draw(t, rng)
            noise[t - 1, seed] = np.stack([draw[name] for name in names])
    lr, beta, _ = optimizer.schedule_values(1)
    if any(optimizer.schedule_values(t)[:2] != (lr, beta) for t in (2, T)):
        raise ValueError("the peers take a constant schedule")
    layers, options = optimizer.kernel_config()
    start = problem.init(0)
    return {"U": np.stack(problem.left), "V": np.stack(problem.right), "M": np.stack(problem.target),
            "c": np.asarray(problem.curvature, float), "measure_radius": np.asarray(layout.radii, float),
            "measure_code": int(layout.codes[0]), "radius": np.asarray(layers.radius, float),
            "coefficients": np.asarray(layers.lmo_coefficients[0], float), "options": options,
            "x0": np.stack([start[name] for name in names]), "noise": noise, "lr": float(lr), "beta": float(beta),
            "names": names, "method": "lanton" if options.adaptive else "scion_sign"}


def numpy_ops() -> SimpleNamespace:
    return SimpleNamespace(
        asarray=np.asarray, T=lambda x: np.swapaxes(x, -1, -2), sum=lambda x, axes: np.sum(x, axis=axes),
        max=lambda x, axis: np.max(x, axis=axis, keepdims=True), sqrt=np.sqrt, abs=np.abs, sign=np.sign,
        where=np.where, relu=lambda x: np.maximum(x, 0.0), svdvals=lambda x: np.linalg.svd(x, compute_uv=False))


def jax_ops() -> SimpleNamespace:
    import jax

    jax.config.update("jax_enable_x64", True)
    jax.config.update("jax_platforms", "cpu")
    import jax.numpy as jnp

    return SimpleNamespace(
        asarray=jnp.asarray, T=lambda x: jnp.swapaxes(x, -1, -2), sum=lambda x, axes: jnp.sum(x, axis=axes),
        max=lambda x, axis: jnp.max(x, axis=axis, keepdims=True), sqrt=jnp.sqrt, abs=jnp.abs, sign=jnp.sign,
        where=jnp.where, relu=lambda x: jnp.maximum(x, 0.0), svdvals=lambda x: jnp.linalg.svd(x, compute_uv=False))


def torch_ops(threads: int) -> SimpleNamespace:
    import torch

    torch.set_num_threads(threads)
    return SimpleNamespace(
        asarray=lambda x: torch.as_tensor(np.ascontiguousarray(x)) if isinstance(x, np.ndarray) else x,
        T=lambda x: x.transpose(-1, -2), sum=lambda x, axes: torch.sum(x, dim=axes),
        max=lambda x, axis: torch.amax(x, dim=axis, keepdim=True), sqrt=torch.sqrt, abs=torch.abs, sign=torch.sign,
        where=lambda condition, a, b: torch.where(torch.as_tensor(condition), a, b),
        relu=lambda x: torch.clamp(x, min=0.0), svdvals=torch.linalg.svdvals)


def constants(ops, data: dict) -> dict:
    """The step's constant arrays in the backend's type (layers on axis -3)."""
    K = {key: ops.asarray(data[key]) for key in ("U", "V", "M")}
    K["Ut"], K["Vt"] = ops.T(K["U"]), ops.T(K["V"])
    K["c"] = ops.asarray(data["c"][:, None, None])
    K["measure_radius"] = ops.asarray(data["measure_radius"])
    K["r"] = ops.asarray(data["radius"][:, None, None])
    K["step"] = ops.asarray(data["lr"] * data["radius"][:, None, None])
    return K


def objective(ops, K, X, data):
    """``(f, g, measure)`` of the sigmoidal problem at ``X`` (``(..., L, m, n)``)."""
    Res = K["U"] @ X @ K["V"] - K["M"]
    value = ops.sum(K["c"] * Res * Res / (1.0 + Res * Res), (-3, -2, -1))
    g = K["c"] * (K["Ut"] @ (2.0 * Res / (1.0 + Res * Res) ** 2) @ K["Vt"])
    if data["measure_code"] == 0:  # spectral: the nuclear norm
        duals = ops.sum(ops.svdvals(g), (-1,))
    else:  # sign: the l1 norm
        duals = ops.sum(ops.abs(g), (-2, -1))
    return value, g, ops.sum(K["measure_radius"] * duals, (-1,))


def newton_schulz(ops, G, coefficients):
    """Muon's NS5 (square layers): ``X_0 = G / (||G||_F + 1e-7)``, ``X <- a X + (b A + c A^2) X``."""
    X = G / (ops.sqrt(ops.sum(G * G, (-2, -1)))[..., None, None] + 1e-7)
    for a, b, c in coefficients:
        A = X @ ops.T(X)
        X = a * X + (b * A + c * (A @ A)) @ X
    return X


def quadrature_nuclear_lower(ops, Z):
    """The Radau lower bound of ``||Z||_*`` from ``Z Z^T`` (LANTON's ``dual="quadrature"``)."""
    F = ops.sqrt(ops.sum(Z * Z, (-2, -1)))
    A = (Z @ ops.T(Z)) / (F * F)[..., None, None]
    A2 = A @ A
    mean = ops.sum(A * A, (-2, -1))
    r = A2 - mean[..., None, None] * A
    variance, third = ops.sum(A * r, (-2, -1)), ops.sum(r * r, (-2, -1))
    a1 = third / variance
    s = ops.sqrt(ops.relu(mean * a1 - variance) + DETERMINANT_ROUNDING * mean * a1)
    tau = ops.sqrt(mean + a1 + 2.0 * s)
    single = (variance <= SINGLE_POINT_TOLERANCE * mean * mean) | (third <= 0.0)
    return F * ops.where(single, mean ** -0.5, (a1 + s) / (s * tau))


def scion_sign_step(ops, K, data, carry, xi, t):
    X, B = carry
    value, g, measure = objective(ops, K, X, data)
    B = data["beta"] * B + (1.0 - data["beta"]) * (g + xi)
    return (X - K["step"] * ops.sign(B), B), (value, measure)


def lanton_step(ops, K, data, carry, xi, t):
    X, B, previous, H = carry
    options = data["options"]
    value, g, measure = objective(ops, K, X, data)
    G = g + xi
    dual = K["r"][..., 0, 0] * quadrature_nuclear_lower(ops, G - previous)
    sample = dual * dual / 2.0
    H = ops.where(t == 2, sample, ops.where(t > 2, options.beta2 * H + (1.0 - options.beta2) * sample, H))
    alpha = 1.0 / ops.sqrt(H + options.eps * ops.max(H, -1))
    weights = ops.where(t >= 2, alpha / ops.max(alpha, -1), 1.0 + 0.0 * H)
    beta = data["beta"]
    B = beta * B + G
    D = -K["r"] * newton_schulz(ops, G + beta * B, data["coefficients"])
    s = data["lr"] * weights[..., None, None]
    X = X + (s * D - (s * options.weight_decay) * X)
    return (X, B, G, H), (value, measure)


def initial_carry(data, zeros, x):
    if data["method"] == "lanton":
        return (x, zeros(x), zeros(x), zeros(x)[..., 0, 0])
    return (x, zeros(x))


def step_for(data):
    return lanton_step if data["method"] == "lanton" else scion_sign_step


def numpy_batched(data: dict):
    """NumPy, seeds stacked on axis 0 (``matmul`` over ``(R, L, m, n)``): ``(final X, f, measure)``."""
    ops = numpy_ops()
    K, step = constants(ops, data), step_for(data)
    T, R = data["noise"].shape[:2]
    carry = initial_carry(data, np.zeros_like, np.broadcast_to(data["x0"], (R,) + data["x0"].shape).copy())
    values, measures = np.empty((T, R)), np.empty((T, R))
    with np.errstate(divide="ignore", invalid="ignore"):  # the quadrature's unused branch at t = 1
        for t in range(T):
            carry, (values[t], measures[t]) = step(ops, K, data, carry, data["noise"][t], t + 1)
    return carry[0], values, measures


def jax_scan(data: dict):
    """JAX ``jit(vmap(lax.scan))`` in float64: ``(run, compile seconds)``; ``run()`` returns
    ``(final X, f, measure)``. Raises ``ImportError`` without JAX."""
    ops = jax_ops()
    import jax
    import jax.numpy as jnp

    K, step = constants(ops, data), step_for(data)

    def trajectory(x0, noise):
        def one(carry, inputs):
            xi, t = inputs
            return step(ops, K, data, carry, xi, t)

        steps = jnp.arange(1, noise.shape[0] + 1)
        carry, (values, measures) = jax.lax.scan(one, initial_carry(data, jnp.zeros_like, x0), (noise, steps))
        return carry[0], values, measures

    run_all = jax.jit(jax.vmap(trajectory, in_axes=(None, 0)))
    x0 = jnp.asarray(data["x0"])
    noise = jnp.asarray(np.ascontiguousarray(np.swapaxes(data["noise"], 0, 1)))  # (R, T, L, m, n)
    begin = time.perf_counter()
    compiled = run_all.lower(x0, noise).compile()
    compile_seconds = time.perf_counter() - begin

    def run():
        X, values, measures = compiled(x0, noise)
        X.block_until_ready()
        return np.asarray(X), np.asarray(values).T, np.asarray(measures).T

    return run, compile_seconds


def torch_loop(data: dict, threads: int):
    """PyTorch (CPU, float64), seeds stacked, a Python loop over steps: ``run()`` returns
    ``(final X, f, measure)``. Raises ``ImportError`` without PyTorch."""
    ops = torch_ops(threads)
    import torch

    K, step = constants(ops, data), step_for(data)
    noise = ops.asarray(data["noise"])
    T, R = noise.shape[:2]

    def run():
        with torch.no_grad():
            x = ops.asarray(data["x0"]).expand((R,) + data["x0"].shape).clone()
            carry = initial_carry(data, torch.zeros_like, x)
            values, measures = torch.empty((T, R), dtype=torch.float64), torch.empty((T, R), dtype=torch.float64)
            for t in range(T):
                carry, (values[t], measures[t]) = step(ops, K, data, carry, noise[t], t + 1)
            return carry[0].numpy(), values.numpy(), measures.numpy()

    return run
