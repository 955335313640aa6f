"""What a researcher would write instead of the engine: Scion with the sign norm on the
``sigmoidal`` problem, batched over seeds, in NumPy, JAX and PyTorch (engine issue).

The workload is the engine's, step for step: at each ``t`` the value ``f(X_t)``, the exact
gradient ``g_t``, the stationarity measure ``sum_l r_l ||g_t^l||_1`` (the sign norm's dual),
the oracle ``g_t + xi_t``, the EMA momentum ``B_t = beta B_{t-1} + (1 - beta) G_t`` and the
LMO step ``X_{t+1} = X_t - eta r_l sign(B_t)``; ``f`` and the measure are kept for every step.

The noise ``xi_t`` is drawn beforehand by the package's own oracle (``BoundNoise.draw`` with
``numpy.random.default_rng(seed)``, the engine's stream), so that every peer follows the
engine's iterates exactly (checked on the final iterate), and the peers are timed without
drawing or normalising noise, which the engine does inside its loop: the comparison favours
the peers. The peers are optional: each is skipped with a message when its library is absent.
"""

from __future__ import annotations

import time

import numpy as np


def scion_sign_data(problem, optimizer, R: int, T: int) -> dict:
    """The sigmoidal problem's arrays, the start, the schedule and ``xi`` of shape ``(T, R, L, m, n)``."""
    layout = problem.layout
    names = list(layout.names)
    start = problem.init(0)
    noise = np.empty((T, R, len(names)) + layout.shapes[0])
    for seed in range(R):
        rng = np.random.default_rng(seed)
        for t in range(1, T + 1):
            draw = problem.noise.draw(t, rng)
            noise[t - 1, seed] = np.stack([draw[name] for name in names])
    lr, beta, _ = optimizer.schedule_values(1)
    if any(optimizer.schedule_values(t)[:2] != (lr, beta) for t in (2, T)):
        raise ValueError("the peers take a constant schedule")
    return {"U": np.stack(problem.left), "V": np.stack(problem.right), "M": np.stack(problem.target),
            "c": np.asarray(problem.curvature, float), "r": np.asarray(layout.radii, float),
            "x0": np.stack([start[name] for name in names]), "noise": noise, "lr": float(lr), "beta": float(beta),
            "names": names}


def numpy_batched(data: dict, draw: np.random.Generator | None = None, noise_bounds=(0.05, 0.5)):
    """NumPy, seeds stacked on axis 0 (``matmul`` over ``(R, L, m, n)``): ``(final X, f, measure)``.

    With ``draw`` (a Generator) the noise is drawn inside the loop, batched, as a researcher
    would: Gaussian directions scaled to dual norms uniform in ``noise_bounds`` (the bounded
    model, another stream than the engine's, so the iterates differ)."""
    U, V, M, c, r = data["U"], data["V"], data["M"], data["c"][:, None, None], data["r"]
    Ut, Vt = np.swapaxes(U, -1, -2), np.swapaxes(V, -1, -2)
    T, R = data["noise"].shape[:2]
    X = np.broadcast_to(data["x0"], (R,) + data["x0"].shape).copy()
    B = np.zeros_like(X)
    step = (data["lr"] * r)[:, None, None]
    values, measures = np.empty((T, R)), np.empty((T, R))
    for t in range(T):
        Res = U @ X @ V - M
        values[t] = np.sum(c * Res * Res / (1.0 + Res * Res), axis=(1, 2, 3))
        g = c * (Ut @ (2.0 * Res / (1.0 + Res * Res) ** 2) @ Vt)
        measures[t] = np.sum(r * np.sum(np.abs(g), axis=(2, 3)), axis=1)
        if draw is None:
            xi = data["noise"][t]
        else:
            direction = draw.standard_normal(X.shape)
            size = draw.uniform(noise_bounds[0], noise_bounds[1], X.shape[:2])
            xi = (size / (r * np.sum(np.abs(direction), axis=(2, 3))))[:, :, None, None] * direction
        B = data["beta"] * B + (1.0 - data["beta"]) * (g + xi)
        X = X - step * np.sign(B)
    return X, values, measures


def jax_scan(data: dict):
    """JAX ``jit(vmap(lax.scan))`` in float64: ``(run, compile seconds)``; ``run()`` returns
    ``(final X, f, measure)``. Raises ``ImportError`` without JAX."""
    import jax

    jax.config.update("jax_enable_x64", True)
    jax.config.update("jax_platforms", "cpu")
    import jax.numpy as jnp

    U, V, M = jnp.asarray(data["U"]), jnp.asarray(data["V"]), jnp.asarray(data["M"])
    c, r = jnp.asarray(data["c"])[:, None, None], jnp.asarray(data["r"])
    step = (data["lr"] * r)[:, None, None]
    beta = data["beta"]

    def one_step(carry, xi):
        X, B = carry
        Res = U @ X @ V - M
        value = jnp.sum(c * Res * Res / (1.0 + Res * Res))
        g = c * (jnp.swapaxes(U, -1, -2) @ (2.0 * Res / (1.0 + Res * Res) ** 2) @ jnp.swapaxes(V, -1, -2))
        measure = jnp.sum(r * jnp.sum(jnp.abs(g), axis=(1, 2)))
        B = beta * B + (1.0 - beta) * (g + xi)
        return (X - step * jnp.sign(B), B), (value, measure)

    def trajectory(x0, noise):
        (X, _), (values, measures) = jax.lax.scan(one_step, (x0, jnp.zeros_like(x0)), noise)
        return X, values, measures

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
    import torch

    torch.set_num_threads(threads)
    as_tensor = lambda array: torch.from_numpy(np.ascontiguousarray(array))  # noqa: E731
    U, V, M, c, r = (as_tensor(data[key]) for key in ("U", "V", "M", "c", "r"))
    c = c[:, None, None]
    Ut, Vt = U.transpose(-1, -2).contiguous(), V.transpose(-1, -2).contiguous()
    step = (data["lr"] * r)[:, None, None]
    noise = as_tensor(data["noise"])
    beta = data["beta"]
    T, R = noise.shape[:2]

    def run():
        with torch.no_grad():
            X = as_tensor(data["x0"]).expand((R,) + data["x0"].shape).clone()
            B = torch.zeros_like(X)
            values, measures = torch.empty((T, R), dtype=torch.float64), torch.empty((T, R), dtype=torch.float64)
            for t in range(T):
                Res = U @ X @ V - M
                values[t] = torch.sum(c * Res * Res / (1.0 + Res * Res), dim=(1, 2, 3))
                g = c * (Ut @ (2.0 * Res / (1.0 + Res * Res) ** 2) @ Vt)
                measures[t] = torch.sum(r * torch.sum(torch.abs(g), dim=(2, 3)), dim=1)
                B = beta * B + (1.0 - beta) * (g + noise[t])
                X = X - step * torch.sign(B)
            return X.numpy(), values.numpy(), measures.numpy()

    return run
