"""Theory in sympy: assumptions, lemmas L1-L4, the layerwise theorem, schedules, constants.

Problem
    Bound the stationarity of LMO momentum methods (Muon, Scion, D-Muon) with layerwise,
    possibly noise-adaptive (LANTON) step weights, under layerwise smoothness with coupling
    and layerwise noise (:mod:`.assumptions`), and let users change an assumption and see the
    constants and the predicted curve move.

Algorithm
    Every step is a sympy object with a machine check: :mod:`.assumptions` (A1-A3),
    :mod:`.lemmas` (L1-L4), :mod:`.theorem` (the general bound derived from L1 and L4,
    special cases by substitution, the numeric ``bound``), :mod:`.schedules` (horizon-tuned
    schedule, leading powers, ``A, B, C``, optimal constants, feasibility),
    :mod:`.estimators` (noise-estimate intervals, LANTON weight intervals),
    :mod:`.adaptivity` (when adaptive weights help), :mod:`.separable` (the weights the bound
    prefers on separable problems, and whether LANTON's win), :mod:`.dimension` (``rho_l`` and
    noise-accounting ratios for real shapes), :mod:`.formatting` (LaTeX and plain text of
    one item), :mod:`.latex` (export of every item),
    :mod:`.finite_sums` (the exact finite sums of the non-asymptotic bound).

Guarantee
    Rate ``T^(-1/4)`` with the tuned schedule, constant
    ``K* = 2^(3/2) (A B)^(1/4) C^(1/2)``; every closed form is checked against an
    independent numeric route by the project's test suite.

References
    :mod:`nalr_theory.geometry.norm` (norm-equivalence constants); Hao et al., LANTON,
    arXiv 2510.14009 (2025); Cutkosky & Mehta (2020); Pethick et al., Scion (2025);
    Riabinin et al., Gluon (2025).

Public API (fixed)::

    optimal_constants(A, B, C) -> OptimalConstants(c_eta, c_beta, K)   # read by field name
    leading_coefficients(Delta, L, rho, sigma, weights=None, variant="every_T") -> A, B, C
    bound(T, eta, beta, *, Delta, L, rho, sigma, g1, w_hi=None, w_lo=None, ...)
    dimension_constants(shapes, norms, sigmas)

Documentation: :doc:`/math/theory` (the mathematics) and :doc:`/guide/theory` (the user guide) in the package's documentation.
"""

from .adaptivity import (
    adaptivity_constant,
    honest_statements,
    noise_normalised_constant,
    noise_normalised_ratio,
    oracle_noise_weights,
    plain_stationarity_constant,
)
from .assumptions import assumptions, noise_model_assumptions
from .dimension import (
    DEFAULT_ROLE_NORMS,
    DimensionConstants,
    LayerSpec,
    dimension_constants,
    gpt2_small_layers,
    llama_1b_layers,
    model_layers,
)
from .estimators import (
    NoiseEstimateInterval,
    clipped_interval,
    lanton_weight_interval,
    lanton_weights,
    oracle_ema_interval,
    two_sample_interval,
)
from .finite_sums import momentum_noise_sum
from .latex import constants_latex, constants_text, export_latex, render_text, to_latex, to_text
from .lemmas import (
    l4_bound,
    lemma_l1,
    lemma_l1_inexact,
    lemma_l2,
    lemma_l3,
    lemma_l4,
    lemma_l4_finite,
    lemmas,
    rho_branch_threshold,
    verify_geometric_sums,
    verify_l2,
)
from .schedules import (
    LeadingCoefficients,
    OptimalConstants,
    TunedSchedule,
    every_T_envelope,
    feasibility_horizon,
    leading_coefficients,
    leading_powers,
    optimal_constants,
    predicted_curve,
    rho_regime_horizon,
    schedule_expansion,
    tuned_schedule,
)
from .separable import (
    SeparablePrediction,
    bound_optimal_weights,
    predict_adaptivity,
    separable_layer_bound_symbol,
    separable_layer_terms,
    separable_optimal_weights_symbol,
    separable_tuned_symbols,
    tuned_separable_bound,
    weight_efficiency,
)
from .statement import Statement, layer_function
from .theorem import (
    bound,
    derive_theorem,
    lanton_special_case,
    problem_constants,
    special_case,
    theorem_exact_lmo,
    theorem_general,
)

__all__ = [
    "DEFAULT_ROLE_NORMS",
    "DimensionConstants",
    "LayerSpec",
    "LeadingCoefficients",
    "NoiseEstimateInterval",
    "OptimalConstants",
    "SeparablePrediction",
    "Statement",
    "TunedSchedule",
    "adaptivity_constant",
    "assumptions",
    "bound",
    "bound_optimal_weights",
    "clipped_interval",
    "constants_latex",
    "constants_text",
    "derive_theorem",
    "dimension_constants",
    "every_T_envelope",
    "export_latex",
    "feasibility_horizon",
    "gpt2_small_layers",
    "honest_statements",
    "l4_bound",
    "lanton_special_case",
    "lanton_weight_interval",
    "lanton_weights",
    "layer_function",
    "leading_coefficients",
    "leading_powers",
    "lemma_l1",
    "lemma_l1_inexact",
    "lemma_l2",
    "lemma_l3",
    "lemma_l4",
    "lemma_l4_finite",
    "lemmas",
    "llama_1b_layers",
    "model_layers",
    "momentum_noise_sum",
    "noise_model_assumptions",
    "noise_normalised_constant",
    "noise_normalised_ratio",
    "optimal_constants",
    "oracle_ema_interval",
    "oracle_noise_weights",
    "plain_stationarity_constant",
    "predict_adaptivity",
    "predicted_curve",
    "problem_constants",
    "render_text",
    "rho_branch_threshold",
    "rho_regime_horizon",
    "schedule_expansion",
    "separable_layer_bound_symbol",
    "separable_layer_terms",
    "separable_optimal_weights_symbol",
    "separable_tuned_symbols",
    "special_case",
    "theorem_exact_lmo",
    "theorem_general",
    "to_latex",
    "to_text",
    "tuned_schedule",
    "tuned_separable_bound",
    "two_sample_interval",
    "verify_geometric_sums",
    "verify_l2",
    "weight_efficiency",
]
