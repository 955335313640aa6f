"""Synthetic problems with certified constants and per-layer noise models.

Public API::

    problem = problems.get("sigmoidal_hetero")        # or sigmoidal, low_rank, deep_linear,
                                                      # teacher_student, token_model, random_features
    problems.list()                                   # registered names
    problems.describe(name)                           # summary and accepted options
    params = problem.init(seed)                       # {layer: array}
    problem.f(params), problem.grad(params)           # exact objective and gradient
    record = problem.oracle(params, rng, t=0)         # .grads, .noise, .noise_dual, .t, .activations
    problem.certificate(radius=None, centre=None)     # Certificate(L, region, certified, ...)
    problem.local_smoothness(trajectory, certificate) # SmoothnessReport
    problem.kernels                                   # Kernels(f, grad, oracle, data): numba twins
    problem.f_inf, problem.sigma_lo, problem.sigma_hi, problem.sigma, problem.second_sample_available
    problem.capabilities                              # frozenset of "hvp", "hess_diag", "activations", "gnb"
    problem.hvp(params, V), problem.hvp_kind          # Hessian-vector product ("exact" / "finite_difference")
    problem.hess_diag(params)                         # exact Hessian diagonal
    problem.activations(params, batch=None)           # layer inputs A^l (also record.activations)
    problem.gnb(params, rng, batch_size=None)         # Gauss-Newton-Bartlett diagonal estimate

Noise models (``problems.noise``): ``bounded``, ``gaussian``, ``heavy_tailed``,
``time_varying``, ``minibatch``, ``exact``; pass one as ``noise=`` to any family.
User problems subclass :class:`Problem` and call :func:`register`.

Documentation: :doc:`/math/problems` (the mathematics) and :doc:`/guide/problems` (the user guide) in the package's documentation.
"""

from . import noise
from .base import CAPABILITIES, Certificate, Kernels, OracleRecord, Problem, describe, get, list, register
from .deep_linear import DeepLinear
from .low_rank import LowRank
from .random_features import RandomFeatures
from .sigmoidal import RotatedSigmoidal, sigmoidal_hetero
from .smoothness import SmoothnessReport, local_smoothness, noise_level, probe_matrix
from .teacher_student import TeacherStudent
from .token_model import TokenModel

__all__ = [
    "CAPABILITIES", "Certificate", "DeepLinear", "Kernels", "LowRank", "OracleRecord", "Problem", "RandomFeatures",
    "RotatedSigmoidal",
    "SmoothnessReport", "TeacherStudent", "TokenModel", "describe", "get", "list", "local_smoothness", "noise",
    "noise_level", "probe_matrix", "register", "sigmoidal_hetero",
]
