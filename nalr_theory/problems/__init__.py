"""Synthetic problems with certified constants and per-layer noise models.

Public API::

    problem = problems.get("sigmoidal_hetero")        # or sigmoidal, low_rank, deep_linear,
                                                      # teacher_student, token_model
    problems.list()                                   # registered names
    problems.describe(name)                           # summary and accepted options
    params = problem.init(seed)                       # {layer: array}
    problem.f(params), problem.grad(params)           # exact objective and gradient
    record = problem.oracle(params, rng, t=0)         # .grads, .noise, .noise_dual, .t
    problem.certificate(radius=None, centre=None)     # Certificate(L, region, certified, ...)
    problem.local_smoothness(trajectory, certificate) # SmoothnessReport
    problem.kernels                                   # Kernels(f, grad, oracle, data): numba twins
    problem.f_inf, problem.sigma_lo, problem.sigma_hi, problem.sigma, problem.second_sample_available

Noise models (``problems.noise``): ``bounded``, ``gaussian``, ``heavy_tailed``,
``time_varying``, ``minibatch``, ``exact``; pass one as ``noise=`` to any family.
User problems subclass :class:`Problem` and call :func:`register`.

Documentation: :doc:`/math/problems` (the mathematics) and :doc:`/guide/problems` (the user guide) in the package's documentation.
"""

from . import noise
from .base import Certificate, Kernels, OracleRecord, Problem, describe, get, list, register
from .deep_linear import DeepLinear
from .low_rank import LowRank
from .sigmoidal import RotatedSigmoidal, sigmoidal_hetero
from .smoothness import SmoothnessReport, local_smoothness, noise_level, probe_matrix
from .teacher_student import TeacherStudent
from .token_model import TokenModel

__all__ = [
    "Certificate", "DeepLinear", "Kernels", "LowRank", "OracleRecord", "Problem", "RotatedSigmoidal",
    "SmoothnessReport", "TeacherStudent", "TokenModel", "describe", "get", "list", "local_smoothness", "noise",
    "noise_level", "probe_matrix", "register", "sigmoidal_hetero",
]
