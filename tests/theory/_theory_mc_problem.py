"""A small coupled quadratic with bounded layerwise noise, for Monte-Carlo checks of the theory.

Written here with plain numpy (independent of the package's geometry and optimizers):

    f(X) = sum_l c_l/2 ||X^l - M_l||_F^2 + sum_{l<j} gamma_lj <X^l, X^j>,
    grad_l f(X) = c_l (X^l - M_l) + sum_{j != l} gamma_lj X^j.

In a norm whose dual satisfies ||D||_* <= k ||D|| (k = 1 Frobenius, m n max_abs, min(m, n)
spectral; tight), A1 holds with L = k (diag(c) + |Gamma|). Diagonal dominance
(c_l > sum_j |gamma_lj|) makes the layer-coupling matrix positive definite, so f_inf is the
value at the solution of the linear system. Noise: xi = s D / ||D||_* with s ~ U[sigma_lo,
sigma_hi] and D Gaussian (mean zero, A2b exactly).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


# --- norms, written inline (batched over leading axes) -------------------------------------

def dual_norm(G: np.ndarray, norm: str) -> np.ndarray:
    if norm == "frobenius":
        return np.sqrt(np.sum(G * G, axis=(-2, -1)))
    if norm == "max_abs":
        return np.sum(np.abs(G), axis=(-2, -1))
    if norm == "spectral":
        return np.sum(np.linalg.svd(G, compute_uv=False), axis=-1)
    raise ValueError(norm)


def primal_norm(X: np.ndarray, norm: str) -> np.ndarray:
    if norm == "frobenius":
        return np.sqrt(np.sum(X * X, axis=(-2, -1)))
    if norm == "max_abs":
        return np.max(np.abs(X), axis=(-2, -1))
    if norm == "spectral":
        return np.linalg.svd(X, compute_uv=False)[..., 0]
    raise ValueError(norm)


def lmo(G: np.ndarray, norm: str) -> np.ndarray:
    if norm == "frobenius":
        size = np.sqrt(np.sum(G * G, axis=(-2, -1), keepdims=True))
        return np.where(size > 0, -G / np.where(size > 0, size, 1.0), 0.0)
    if norm == "max_abs":
        return -np.sign(G)
    if norm == "spectral":
        U, s, Vt = np.linalg.svd(G, full_matrices=False)
        keep = (s > 1e-12 * s[..., :1]).astype(float)
        return -np.einsum("...ik,...k,...kj->...ij", U, keep, Vt)
    raise ValueError(norm)


def rho_of(norm: str, shape) -> float:
    m, n = shape
    return {"frobenius": 1.0, "max_abs": np.sqrt(m * n), "spectral": np.sqrt(min(m, n))}[norm]


def dual_over_primal(norm: str, shape) -> float:
    m, n = shape
    return {"frobenius": 1.0, "max_abs": float(m * n), "spectral": float(min(m, n))}[norm]


# --- the problem ---------------------------------------------------------------------------

@dataclass
class CoupledQuadratic:
    c: np.ndarray  # (p,)
    gamma: np.ndarray  # (p, p) symmetric, zero diagonal
    M: np.ndarray  # (p, m, n)
    norm: str
    sigma_lo: np.ndarray
    sigma_hi: np.ndarray

    @property
    def p(self) -> int:
        return self.c.shape[0]

    @property
    def shape(self):
        return self.M.shape[1:]

    @property
    def coupling(self) -> np.ndarray:
        return np.diag(self.c) + self.gamma

    @property
    def L(self) -> np.ndarray:
        return dual_over_primal(self.norm, self.shape) * (np.diag(self.c) + np.abs(self.gamma))

    @property
    def rho(self) -> np.ndarray:
        return np.full(self.p, rho_of(self.norm, self.shape))

    @property
    def sigma(self) -> np.ndarray:
        """A2v level: sqrt(E s^2) for s ~ U[lo, hi]."""
        lo, hi = self.sigma_lo, self.sigma_hi
        return np.sqrt((lo**2 + lo * hi + hi**2) / 3.0)

    def f(self, X: np.ndarray) -> np.ndarray:
        diff = X - self.M
        value = 0.5 * np.einsum("l,...lij,...lij->...", self.c, diff, diff)
        value += 0.5 * np.einsum("lk,...lij,...kij->...", self.gamma, X, X)
        return value

    def grad(self, X: np.ndarray) -> np.ndarray:
        return self.c[:, None, None] * (X - self.M) + np.einsum("lk,...kij->...lij", self.gamma, X)

    @property
    def f_inf(self) -> float:
        solution = np.linalg.solve(self.coupling, (self.c[:, None] * self.M.reshape(self.p, -1)))
        return float(self.f(solution.reshape(self.M.shape)))

    def noise(self, rng: np.random.Generator, batch: tuple) -> np.ndarray:
        D = rng.standard_normal(batch + self.M.shape)
        s = rng.uniform(self.sigma_lo, self.sigma_hi, size=batch + (self.p,))
        return (s / dual_norm(D, self.norm))[..., None, None] * D


def make_problem(norm: str, seed: int = 0, p: int = 3, shape=(3, 2), sigma_lo=None, sigma_hi=None) -> CoupledQuadratic:
    rng = np.random.default_rng(seed)
    c = rng.uniform(1.0, 4.0, size=p)
    gamma = rng.uniform(-0.3, 0.3, size=(p, p))
    gamma = np.triu(gamma, 1)
    gamma = gamma + gamma.T
    gamma *= np.min(c) / (2.0 * p * max(np.max(np.abs(gamma)), 1e-12))  # diagonal dominance
    M = rng.standard_normal((p,) + tuple(shape))
    lo = np.asarray(sigma_lo if sigma_lo is not None else np.linspace(0.2, 1.0, p))
    hi = np.asarray(sigma_hi if sigma_hi is not None else 1.5 * lo)
    return CoupledQuadratic(c, gamma, M, norm, lo, hi)


def run(problem: CoupledQuadratic, X1: np.ndarray, T: int, eta: float, beta: float, paths: int, seed: int,
        weights: str = "lanton", direction=None, beta2: float = 0.9):
    """Simulate ``paths`` runs of LMO momentum with LANTON (oracle, current-sample) weights.

    Yields per step a dict with X_t, g_t, B_t, w_t, direction d_t, X_{t+1}.
    ``weights``: "lanton" (H from ||xi_t||_*^2, EMA, current sample included) or "uniform".
    ``direction(B) -> D`` overrides the exact LMO (approximate LMOs).
    """
    rng = np.random.default_rng(seed)
    X = np.broadcast_to(X1, (paths,) + X1.shape).copy()
    B = np.zeros_like(X)
    H = None
    for step in range(1, T + 1):
        g = problem.grad(X)
        xi = problem.noise(rng, (paths,))
        B = beta * B + (1 - beta) * (g + xi)
        sample = dual_norm(xi, problem.norm) ** 2
        H = sample if H is None else beta2 * H + (1 - beta2) * sample
        if weights == "lanton":
            alpha = 1.0 / np.sqrt(H)
            w = alpha / np.max(alpha, axis=-1, keepdims=True)
        else:
            w = np.ones((paths, problem.p))
        d = lmo(B, problem.norm) if direction is None else direction(B)
        X_next = X + eta * w[..., None, None] * d
        yield {"t": step, "X": X, "g": g, "xi": xi, "B": B, "w": w, "d": d, "X_next": X_next, "H": H}
        X = X_next
