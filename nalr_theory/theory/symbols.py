"""The sympy symbols of the theory, shared by every module of :mod:`nalr_theory.theory`.

Notation of :mod:`nalr_theory.theory.assumptions` and :mod:`nalr_theory.geometry.norm`:
layers ``l, j = 1..p``; ``T`` steps, step size ``eta``, momentum ``beta``; per-layer
``IndexedBase`` objects for the weights, noise levels, norm-equivalence factors and the
coupling matrix ``L``. ``LATEX_NAMES`` maps each symbol to its LaTeX spelling (used by
:mod:`nalr_theory.theory.formatting`).

Nothing here is mutated after import; derived expressions are built by functions and cached.
"""

from __future__ import annotations

import sympy as sp

# --- horizon, step, momentum and the horizon-tuned schedule -------------------------------
T = sp.Symbol("T", positive=True)
eta = sp.Symbol("eta", positive=True)
beta = sp.Symbol("beta", nonnegative=True)
c_beta = sp.Symbol("c_beta", positive=True)
c_eta = sp.Symbol("c_eta", positive=True)
#: ``s = T^(-1/4)``, the expansion variable of the horizon-tuned schedule.
s = sp.Symbol("s", positive=True)

# --- indices -------------------------------------------------------------------------------
p = sp.Symbol("p", integer=True, positive=True)
l = sp.Symbol("l", integer=True, positive=True)
j = sp.Symbol("j", integer=True, positive=True)
t = sp.Symbol("t", integer=True, positive=True)
k = sp.Symbol("k", integer=True, positive=True)

# --- problem constants -----------------------------------------------------------------------
Delta = sp.Symbol("Delta", positive=True)
kappa_lo = sp.Symbol("kappa_lo", positive=True)
kappa_hi = sp.Symbol("kappa_hi", positive=True)
sigma_max = sp.Symbol("sigma_max", positive=True)
sigma_min = sp.Symbol("sigma_min", positive=True)
sigma_scalar = sp.Symbol("sigma", positive=True)
rho_scalar = sp.Symbol("rho", positive=True)
a_const = sp.Symbol("a", positive=True)
b_const = sp.Symbol("b", positive=True)

# --- per-layer quantities (IndexedBase) -----------------------------------------------------
L = sp.IndexedBase("L")
w_lo = sp.IndexedBase("w_lo")
w_hi = sp.IndexedBase("w_hi")
w_fixed = sp.IndexedBase("w")
w_path = sp.IndexedBase("w_t")
sigma = sp.IndexedBase("sigma")
rho = sp.IndexedBase("rho")
g1_norm = sp.IndexedBase("g1")
h_lo = sp.IndexedBase("h_lo")
h_hi = sp.IndexedBase("h_hi")
H = sp.IndexedBase("H")

# --- aggregates of the schedule analysis (nalr_theory.theory.schedules) --------------------
Q = sp.Symbol("Q", nonnegative=True)  # w^T L w
N = sp.Symbol("N", nonnegative=True)  # sum_l w_l rho_l sigma_l
G1 = sp.Symbol("G1", nonnegative=True)  # sum_l w_hi[l] ||g_1^l||_*
A_coef = sp.Symbol("A", positive=True)
B_coef = sp.Symbol("B", positive=True)
C_coef = sp.Symbol("C", positive=True)

# --- displayed (not evaluated) per-layer norms of the lemmas --------------------------------
grad_norm = sp.IndexedBase("g_norm")  # ||g_t^l||_*  (index l, or (t, l))
eps_norm = sp.IndexedBase("eps_norm")  # ||eps_t^l||_*
xi_norm = sp.IndexedBase("xi_norm")  # ||xi_t^l||_*
grad_diff_norm = sp.IndexedBase("grad_diff_norm")  # ||grad_l f(X) - grad_l f(Y)||_{l,*}
step_norm = sp.IndexedBase("step_norm")  # ||X^j - Y^j||_j
sigma_lo = sp.IndexedBase("sigma_lo")
sigma_hi = sp.IndexedBase("sigma_hi")
f_next = sp.Symbol("f(X_{t+1})")
f_now = sp.Symbol("f(X_t)")
f_first = sp.Symbol("f(X_1)")
f_inf = sp.Symbol("f_inf")
martingale_norm = sp.Symbol("norm_sum_c_xi")  # ||sum_k c_k xi_k||_*
min_weight = sp.Symbol("min_w", positive=True)  # min_l w_l
weighting_ratio = sp.Symbol("ratio_sigma_min_over_sigma", positive=True)  # K(sigma_min/sigma)/K(1)

LATEX_NAMES = {
    eta: r"\eta",
    beta: r"\beta",
    c_beta: r"c_{\beta}",
    c_eta: r"c_{\eta}",
    Delta: r"\Delta",
    kappa_lo: r"\kappa_{\mathrm{lo}}",
    kappa_hi: r"\kappa_{\mathrm{hi}}",
    sigma_max: r"\sigma_{\max}",
    sigma_min: r"\sigma_{\min}",
    sigma_scalar: r"\sigma",
    rho_scalar: r"\rho",
    w_lo.label: r"w^{\mathrm{lo}}",
    w_hi.label: r"w^{\mathrm{hi}}",
    w_fixed.label: r"w",
    w_path.label: r"w_{t}",
    sigma.label: r"\sigma",
    rho.label: r"\rho",
    g1_norm.label: r"\|g_{1}\|_{*}",
    h_lo.label: r"h^{\mathrm{lo}}",
    h_hi.label: r"h^{\mathrm{hi}}",
    G1: r"G_{1}",
    grad_norm.label: r"\|g_{t}\|_{*}",
    eps_norm.label: r"\|\varepsilon_{t}\|_{*}",
    xi_norm.label: r"\|\xi_{t}\|_{*}",
    grad_diff_norm.label: r"\|\nabla f(X) - \nabla f(Y)\|_{*}",
    step_norm.label: r"\|X - Y\|",
    sigma_lo.label: r"\sigma^{\mathrm{lo}}",
    sigma_hi.label: r"\sigma^{\mathrm{hi}}",
    f_next: r"f(X_{t+1})",
    f_now: r"f(X_{t})",
    f_first: r"f(X_{1})",
    f_inf: r"f_{\inf}",
    martingale_norm: r"\|\textstyle\sum_{k} c_{k} \xi_{k}\|_{*}",
    min_weight: r"\min_{l} w_{l}",
    weighting_ratio: r"\frac{K(\sigma_{\min}/\sigma)}{K(\mathbf{1})}",
}


def layer_sum(expression, index=l):
    """``sum_{index=1}^{p} expression`` (a sympy ``Sum`` over the layers)."""
    return sp.Sum(expression, (index, 1, p))


def quadratic_form(weights: sp.IndexedBase):
    """``w^T L w = sum_l sum_j w_l L[l, j] w_j`` as nested sympy sums."""
    return sp.Sum(sp.Sum(weights[l] * L[l, j] * weights[j], (j, 1, p)), (l, 1, p))
