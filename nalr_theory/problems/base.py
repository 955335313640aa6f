"""The public problem interface (what every problem declares) and the registry.

Problem
    A layered objective ``f(X^1..X^p)`` over named 2-D blocks, with its exact gradient, a
    certified lower bound ``f_inf`` (A3), the coupling matrix ``L`` of A1 in the declared
    layer norms where it can be certified (on the whole space or on a stated ball), and a
    stochastic oracle ``G = grad f(X) + xi`` whose noise ``xi`` is drawn per layer by a noise
    model (``noise.py``) or by the problem's own data sampling (minibatch).

Algorithm
    Subclasses implement four short functions on validated dicts: ``_init(rng)``,
    ``_f(params)``, ``_grad(params)`` and, for data-sampling problems,
    ``_minibatch_grad(params, rng, batch_size)``; ``_certify(centre, radius)`` returns the
    ``L`` matrix when the family has one. Everything else (validation, the oracle, noise,
    the local-smoothness report, the numba kernels record) is shared here.

    Optional capabilities (``Problem.capabilities``, a frozenset of names from
    ``CAPABILITIES``) serve curvature-aware and activation-aware methods:
    ``"hvp"`` (Hessian-vector products; every problem has the central finite difference
    ``(grad f(X + d V) - grad f(X - d V)) / (2 d)`` of its exact gradient, families may give a
    closed form: ``hvp_kind``), ``"hess_diag"`` (the exact Hessian diagonal), ``"activations"``
    (the input matrix of each layer, also attached to ``OracleRecord.activations``) and
    ``"gnb"`` (the Gauss-Newton-Bartlett diagonal estimate of Sophia-G). A family provides
    one by overriding the hook ``_hvp``, ``_hess_diag``, ``_activations`` or ``_gnb``; the
    public method of a capability the problem lacks raises ``ValueError`` naming it.

Guarantee
    ``oracle(params, rng, t)`` returns ``OracleRecord(grads, noise, noise_dual, t)`` with
    ``grads[l] = grad_l f(X) + noise[l]`` exactly and ``noise_dual[l] = ||noise[l]||_{l,*}``.
    Calling it again at the same point draws an independent sample (the ``two_sample``
    estimator's second draw) whenever ``second_sample_available`` is true. Same
    ``(problem parameters, seed)``, same numbers.

References
    ``nalr_theory.theory.assumptions`` (A1 as stated on ``Certificate``; A2v/A2b the noise
    bounds of ``nalr_theory.problems.noise``; A3 ``f >= f_inf``); ``nalr_theory.geometry.norm``
    (the layer norms and their Frobenius constants, ``Norm.constants()``); Liu et al.,
    "Sophia: a scalable stochastic second-order optimizer for language model pre-training",
    arXiv 2305.14342 (the Hutchinson and Gauss-Newton-Bartlett diagonal estimators).
"""

from __future__ import annotations

import builtins
import inspect
import math
from abc import ABC, abstractmethod
from typing import Callable

import numpy as np

from ..geometry import Layer, Layout, get_norm
from ..geometry.base_norms import COL_NORM, FROBENIUS, MAX_ABS, ROW_NORM, SPECTRAL
from . import noise as noise_models
from ._validation import check_norms, check_positive, check_seed, check_shapes, per_layer
from .records import Certificate, Kernels, OracleRecord


#: Names of the optional capabilities a problem may declare (``Problem.capabilities``).
CAPABILITIES = ("hvp", "hess_diag", "activations", "gnb")

#: Relative step of the finite-difference Hessian-vector product (about eps^(1/3): the
#: truncation error ``O(d^2)`` and the rounding error ``O(eps / d)`` of a central difference
#: balance there).
HVP_STEP = 6e-6


# records and validation helpers live in ``records`` and ``_validation`` (imported by
# ``smoothness`` too, which ``base`` imports: one-way); re-exported here under their names.

def haar_frame(rng: np.random.Generator, n: int, k: int) -> np.ndarray:
    """A Haar-random ``n x k`` matrix with orthonormal columns (``k <= n``): thin QR of a
    Gaussian with the sign fix (the first ``k`` columns of a Haar orthogonal matrix)."""
    Q, R = np.linalg.qr(rng.standard_normal((n, k)))
    return Q * np.sign(np.diag(R))


def haar_orthogonal(rng: np.random.Generator, n: int) -> np.ndarray:
    """A Haar-random orthogonal ``n x n`` matrix (:func:`haar_frame` with ``k = n``)."""
    return haar_frame(rng, n, n)


def spectral_per_layer_norm(norm) -> float:
    """``s`` with ``||X||_2 <= s ||X||_l`` for every ``X`` (tight): the operator norm of the
    identity from the layer norm to the spectral norm."""
    m, n = norm.shape
    base_factor = {
        SPECTRAL: 1.0,
        FROBENIUS: 1.0,
        MAX_ABS: math.sqrt(m * n),
        COL_NORM: math.sqrt(n),
        ROW_NORM: math.sqrt(m),
    }[norm.code]
    return norm.radius * base_factor


def frobenius_to_declared(L_frobenius: np.ndarray, norms) -> np.ndarray:
    """Transfer an A1 matrix from Frobenius norms to the declared layer norms.

    With ``||Z||_{l,*} <= a_l ||Z||_F`` (``a_l = Norm.constants()[0]``, radius included) and,
    by duality, ``||Z||_F <= a_j ||Z||_j``
    (``||Z||_F = max_{||D||_F<=1} <D,Z> <= max_{||D||_{j,*} <= a_j} <D,Z> = a_j ||Z||_j``):
    ``||dgrad_l||_{l,*} <= a_l ||dgrad_l||_F <= a_l sum_j LF[l,j] ||dX^j||_F
    <= sum_j a_l LF[l,j] a_j ||dX^j||_j``. Both transfers use ``a``; ``b`` (and
    ``rho = a b``) go the wrong way for an upper bound.
    """
    a = np.array([norm.constants()[0] for norm in norms])
    return a[:, None] * L_frobenius * a[None, :]


# --------------------------------------------------------------------------- the interface

class Problem(ABC):
    """Base class of every problem (see module docstring). Public attributes:
    ``name``, ``layers`` (tuple of ``Layer``), ``layout``, ``noise`` (a bound noise model),
    ``f_inf``, ``certified`` (whether ``certificate()`` is a proof or an estimate),
    ``second_sample_available``, ``sigma_lo``/``sigma_hi`` (per layer, ``None`` when not
    bounded), ``sigma`` (A2v constant per layer; ``inf`` for infinite variance), ``params``
    (the constructor parameters, for reproducibility), ``separable`` (``f = sum_l f_l(X^l)``;
    then ``layer_gaps(params)`` gives ``f_l(X^l) - inf f_l``)."""

    name: str = "problem"
    certified: bool = False
    supports_minibatch: bool = False
    separable: bool = False

    def __init__(self, layers, noise, params: dict):
        self.layers = tuple(layers)
        self.layout = Layout(self.layers)
        self.params = dict(params)
        self.noise = noise_models.bind(noise, self.layout)
        if self.noise.kind == "minibatch" and not self.supports_minibatch:
            raise ValueError(f"noise: minibatch noise needs a data-sampling problem; {self.name!r} has none")
        if self.noise.kind == "minibatch":
            self.noise.check_batch(self.dataset_size)

    # ---- what subclasses provide
    @abstractmethod
    def _init(self, rng: np.random.Generator) -> dict: ...

    @abstractmethod
    def _f(self, params: dict) -> float: ...

    @abstractmethod
    def _grad(self, params: dict) -> dict: ...

    def _minibatch_grad(self, params: dict, rng: np.random.Generator, batch_size: int) -> dict:
        raise NotImplementedError

    def _minibatch_sample(self, params: dict, rng: np.random.Generator, batch_size: int) -> tuple:
        """``(grads, activations)`` of one minibatch draw; ``activations`` on the same sample
        (``None`` without the ``"activations"`` capability). Default: ``_minibatch_grad``."""
        return self._minibatch_grad(params, rng, batch_size), None

    def _certify(self, centre: dict | None, radius: np.ndarray | None) -> np.ndarray | None:
        return None

    # ---- capability hooks (override to provide; see ``capabilities``)
    def _hvp(self, params: dict, V: dict) -> dict:
        """Closed-form ``Hess f(X) V``; the base class falls back on finite differences."""
        return self._hvp_finite_difference(params, V)

    def _hess_diag(self, params: dict) -> dict:
        raise NotImplementedError

    def _activations(self, params: dict, batch: np.ndarray | None) -> dict:
        raise NotImplementedError

    def _gnb(self, params: dict, rng: np.random.Generator, batch_size: int | None) -> dict:
        raise NotImplementedError

    def _hvp_finite_difference(self, params: dict, V: dict) -> dict:
        size = math.sqrt(sum(float(np.sum(V[name] ** 2)) for name in self.names))
        if size == 0.0:
            return {name: np.zeros(shape) for name, shape in zip(self.names, self.layout.shapes)}
        scale = math.sqrt(sum(float(np.sum(params[name] ** 2)) for name in self.names))
        step = HVP_STEP * max(1.0, scale) / size
        plus = self._grad({name: params[name] + step * V[name] for name in self.names})
        minus = self._grad({name: params[name] - step * V[name] for name in self.names})
        return {name: (plus[name] - minus[name]) / (2.0 * step) for name in self.names}

    def _kernels(self) -> Kernels:
        raise NotImplementedError(f"{type(self).__name__} has no numba kernels")

    @property
    def f_inf(self) -> float:
        """Lower bound ``f_inf <= f`` of A3: ``0.0`` unless the family overrides it (valid for ``f >= 0``)."""
        return 0.0

    @property
    def dataset_size(self) -> int:
        """Number of samples the minibatch oracle draws from; ``NotImplementedError`` without a dataset."""
        raise NotImplementedError

    # ---- public API
    @property
    def names(self) -> tuple[str, ...]:
        """Layer names in layout order (``layout.names``)."""
        return self.layout.names

    @property
    def second_sample_available(self) -> bool:
        """Whether a second :meth:`oracle` call at the same point draws an independent sample."""
        return self.noise.second_sample_available

    @property
    def sigma_lo(self):
        """A2b lower bounds ``sigma_lo[l] <= ||xi^l||_*`` (per layer, every draw; ``None``: not bounded)."""
        return self.noise.sigma_lo

    @property
    def sigma_hi(self):
        """A2b upper bounds ``||xi^l||_* <= sigma_hi[l]`` (per layer, every draw; ``None``: not bounded)."""
        return self.noise.sigma_hi

    @property
    def sigma(self):
        """A2v constants ``E||xi^l||_*^2 <= sigma_l^2`` per layer (``inf``: infinite; ``None``: minibatch)."""
        return self.noise.sigma

    def init(self, seed) -> dict:
        """Initial point from ``seed`` (a new dict of new arrays)."""
        return self._init(np.random.default_rng(check_seed(seed)))

    def f(self, params) -> float:
        """Objective value ``f(X)`` at ``params`` (validated: ``ValueError`` naming ``params``), a float."""
        return float(self._f(self.layout.check_tree(params, "params")))

    def grad(self, params) -> dict:
        """Exact gradient ``{layer: grad_l f(X)}`` (new arrays)."""
        return self._grad(self.layout.check_tree(params, "params"))

    def oracle(self, params, rng: np.random.Generator, t: int = 0) -> OracleRecord:
        """Stochastic gradient at ``params`` for step ``t`` (time-varying noise reads ``t``)."""
        params = self.layout.check_tree(params, "params")
        if not isinstance(rng, np.random.Generator):
            raise ValueError(f"rng: expected a numpy.random.Generator, got {type(rng).__name__}")
        t = check_positive(t, "t", integer=True, allow_zero=True)
        if self.noise.kind == "minibatch":
            exact = self._grad(params)
            grads, activations = self._minibatch_sample(params, rng, self.noise.batch_size)
            noise = {name: grads[name] - exact[name] for name in self.names}
        else:
            exact = self._grad(params)
            noise = self.noise.draw(t, rng)
            grads = {name: exact[name] + noise[name] for name in self.names}
            activations = self._activations(params, None) if "activations" in self.capabilities else None
        noise_dual = {name: norm.dual(noise[name]) for name, norm in zip(self.names, self.layout.norms)}
        return OracleRecord(grads, noise, noise_dual, int(t), activations)

    # ---- optional capabilities
    @property
    def capabilities(self) -> frozenset:
        """The optional capabilities this problem provides, a frozenset of names from
        ``CAPABILITIES``: ``"hvp"`` always (finite differences of the exact gradient when the
        family has no closed form, see ``hvp_kind``), and ``"hess_diag"``, ``"activations"``,
        ``"gnb"`` when the family implements them. A subclass may override this property to
        withdraw one (its method then raises ``ValueError``)."""
        provided = {"hvp"}
        for capability in CAPABILITIES[1:]:
            if getattr(type(self), f"_{capability}") is not getattr(Problem, f"_{capability}"):
                provided.add(capability)
        return frozenset(provided)

    @property
    def hvp_kind(self) -> str | None:
        """How :meth:`hvp` is computed: ``"exact"`` (a closed form of the family) or
        ``"finite_difference"`` (the base-class fallback); ``None`` without ``"hvp"``."""
        if "hvp" not in self.capabilities:
            return None
        return "exact" if type(self)._hvp is not Problem._hvp else "finite_difference"

    def _require(self, capability: str) -> None:
        if capability not in self.capabilities:
            provided = ", ".join(sorted(self.capabilities)) or "none"
            raise ValueError(f"{capability}: problem {self.name!r} does not provide the {capability!r} capability "
                             f"(it provides: {provided})")

    def hvp(self, params, V) -> dict:
        """Hessian-vector product ``{layer: (Hess f(X) V)^l}`` at ``params`` along ``V`` (a dict
        of layer arrays; the whole Hessian, cross-layer blocks included). Closed form when
        ``hvp_kind == "exact"``; otherwise the central difference
        ``(grad f(X + d V) - grad f(X - d V)) / (2 d)`` of the exact gradient with
        ``d = HVP_STEP * max(1, ||X||_F) / ||V||_F`` (relative error about ``1e-10`` on
        smooth problems). ``ValueError`` naming ``hvp`` when the capability is missing."""
        self._require("hvp")
        params = self.layout.check_tree(params, "params")
        V = self.layout.check_tree(V, "V")
        return self._hvp(params, V)

    def hess_diag(self, params) -> dict:
        """Exact diagonal of the Hessian at ``params``, ``{layer: array of the layer's shape}``
        (entry ``(i, j)`` is ``d^2 f / dX_ij^2``). ``ValueError`` naming ``hess_diag`` when
        the problem has no closed form for it."""
        self._require("hess_diag")
        return self._hess_diag(self.layout.check_tree(params, "params"))

    def activations(self, params, batch=None) -> dict:
        """Input matrix ``A^l`` of each layer (``d_in x samples``), ``{layer: A^l}``, on the
        whole data set (``batch=None``) or on the columns ``batch`` (a 1-D sequence of sample
        indices, repeats allowed). ``ValueError`` naming ``activations`` when the problem
        has none, ``batch`` when an index is out of range."""
        self._require("activations")
        params = self.layout.check_tree(params, "params")
        if batch is not None:
            batch = _check_batch(batch, self.dataset_size)
        return self._activations(params, batch)

    def gnb(self, params, rng: np.random.Generator, batch_size=None) -> dict:
        """Gauss-Newton-Bartlett estimate ``{layer: hhat}`` of the Gauss-Newton diagonal
        (Sophia-G): labels resampled from the model's own predictive distribution,
        ``ghat`` the gradient of the loss with those labels on ``N_b`` samples (all of them
        when ``batch_size`` is ``None``, else ``batch_size`` indices drawn with replacement
        as the minibatch oracle draws them), and ``hhat = N_b * ghat * ghat`` (never
        negative; unbiased for the Gauss-Newton diagonal). Draws from ``rng`` only.
        ``ValueError`` naming ``gnb`` when the problem has no likelihood to sample from."""
        self._require("gnb")
        params = self.layout.check_tree(params, "params")
        if not isinstance(rng, np.random.Generator):
            raise ValueError(f"rng: expected a numpy.random.Generator, got {type(rng).__name__}")
        if batch_size is not None:
            batch_size = int(check_positive(batch_size, "batch_size", integer=True))
            if batch_size > self.dataset_size:
                raise ValueError(f"batch_size: {batch_size} exceeds the dataset size {self.dataset_size}")
        return self._gnb(params, rng, batch_size)

    def certificate(self, radius=None, centre=None) -> Certificate:
        """A1 constants. Families certified on a ball take ``radius`` (per layer, declared
        norms; default the ``ball_radius`` parameter) and ``centre`` (a params dict; default
        the origin). Families with estimated constants return ``certified=False``."""
        centre = None if centre is None else self.layout.check_tree(centre, "centre")
        if radius is not None:
            radius = per_layer(radius, len(self.layers), "radius")
        return self._certificate(centre, radius)

    def _certificate(self, centre, radius) -> Certificate:
        raise NotImplementedError

    def travel_certificate(self, start, step_sums) -> Certificate:
        """The certified ball of a run: LMO steps have ``||dX^l||_l <= eta_t^l w_t^l``, so the
        iterates stay in ``||X^l - start^l||_l <= sum_t eta_t^l w_t^l = step_sums[l]``."""
        return self.certificate(radius=step_sums, centre=start)

    def local_smoothness(self, trajectory, certificate: Certificate | None = None):
        """Local-smoothness report along ``trajectory`` (a list of params dicts); see
        :func:`nalr_theory.problems.smoothness.local_smoothness`."""
        from .smoothness import local_smoothness

        return local_smoothness(self, trajectory, certificate)

    @property
    def kernels(self) -> Kernels:
        """numba twins (``Kernels``) on the flat layout ``self.layout``."""
        return self._kernels()

    def flatten(self, params) -> np.ndarray:
        """``params`` (validated) as a new flat float64 vector in layout order (``layout.flatten``)."""
        return self.layout.flatten(params, "params")

    def unflatten(self, vector) -> dict:
        """Flat vector (length ``layout.size``) -> new ``{layer: array}``; ``ValueError`` on a bad shape."""
        return self.layout.unflatten(vector)

    def describe(self) -> dict:
        """JSON-friendly summary: name, parameters, layers, noise, constants."""
        return {
            "name": self.name,
            "params": {k: _plain(v) for k, v in self.params.items() if k != "noise"},
            "layers": [{"name": l.name, "shape": builtins.list(l.shape), "norm": l.norm} for l in self.layers],
            "noise": self.noise.describe(),
            "f_inf": self.f_inf,
            "certified": self.certified,
            "second_sample_available": self.second_sample_available,
            "capabilities": sorted(self.capabilities),
            "hvp_kind": self.hvp_kind,
        }

    def __repr__(self) -> str:
        shapes = ", ".join(f"{l.name}{l.shape}:{l.norm}" for l in self.layers)
        return f"<{type(self).__name__} {self.name!r} [{shapes}] noise={self.noise.kind}>"


def _check_batch(batch, size: int) -> np.ndarray:
    """Sample indices: a non-empty 1-D sequence of integers in ``[0, size)`` (``ValueError`` naming ``batch``)."""
    array = np.asarray(batch)
    if array.ndim != 1 or array.size == 0 or not np.issubdtype(array.dtype, np.integer):
        raise ValueError(f"batch: expected a non-empty 1-D sequence of sample indices, got {batch!r}")
    if array.min() < 0 or array.max() >= size:
        raise ValueError(f"batch: indices must lie in [0, {size}), got {array.min()}..{array.max()}")
    return array.astype(np.int64)


def _plain(value):
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (tuple, builtins.list)):
        return [_plain(v) for v in value]
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    return value


def make_layers(prefix_names, shapes, norms) -> tuple[Layer, ...]:
    """``Layer`` objects, checking every norm against its shape (ValueError names ``norms``)."""
    layers = []
    for name, shape, norm in zip(prefix_names, shapes, norms):
        try:
            get_norm(norm, shape)
        except ValueError as error:
            raise ValueError(f"norms: layer {name!r}: {error}") from None
        layers.append(Layer(name, shape, norm))
    return tuple(layers)


# --------------------------------------------------------------------------- registry

_REGISTRY: dict[str, Callable[..., Problem]] = {}


def register(name: str, factory: Callable[..., Problem]) -> None:
    """Make ``problems.get(name, **params)`` call ``factory(**params)`` (user problems too)."""
    if not isinstance(name, str) or not name:
        raise ValueError("name: expected a non-empty string")
    if not callable(factory):
        raise ValueError("factory: expected a callable returning a Problem")
    _REGISTRY[name] = factory


def _options(name: str) -> tuple[str, ...] | None:
    """Keyword options the registered problem ``name`` accepts, in signature order
    (``None`` when its factory takes ``**kwargs`` or has no inspectable signature)."""
    if not isinstance(name, str) or name not in _REGISTRY:
        raise ValueError(f"name: unknown problem {name!r}; known: {', '.join(sorted(_REGISTRY))}")
    try:
        signature = inspect.signature(_REGISTRY[name])
    except (TypeError, ValueError):
        return None
    kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    if any(item.kind is inspect.Parameter.VAR_KEYWORD for item in signature.parameters.values()):
        return None
    return tuple(item.name for item in signature.parameters.values() if item.kind in kinds)


def get(name: str, **params) -> Problem:
    """Build the registered problem ``name`` with ``params`` (see each family's docstring).

    An option the problem does not accept raises ``ValueError`` (message starting with the
    option's name and listing the accepted options) before anything is built.
    """
    accepted = _options(name)
    if accepted is not None:
        unknown = [key for key in params if key not in accepted]
        if unknown:
            others = f" (also unknown: {', '.join(unknown[1:])})" if len(unknown) > 1 else ""
            raise ValueError(f"{unknown[0]}: unknown option of problem {name!r}{others}; "
                             f"accepted: {', '.join(accepted) or 'none'}")
    return _REGISTRY[name](**params)


def list() -> builtins.list[str]:  # noqa: A001 - the public name fixed by the issue
    """Names of the registered problems."""
    return sorted(_REGISTRY)


def describe(name: str) -> dict:
    """``{"name", "summary", "options"}`` of the registered problem ``name``: the first
    paragraph of its factory's docstring (one line) and the keyword options it accepts
    (``None``: any). Unknown names raise the same ``ValueError`` as :func:`get`."""
    options = _options(name)
    doc = inspect.getdoc(_REGISTRY[name]) or ""
    summary = " ".join(doc.split("\n\n")[0].split())
    return {"name": name, "summary": summary, "options": None if options is None else builtins.list(options)}


__all__ = [
    "CAPABILITIES",
    "Certificate",
    "Kernels",
    "OracleRecord",
    "Problem",
    "describe",
    "frobenius_to_declared",
    "get",
    "list",
    "register",
]


def ball_spectral_bounds(layout, centre, radius) -> np.ndarray:
    """``rho_l >= ||X^l||_2`` for every ``X`` with ``||X^l - centre^l||_l <= radius[l]``:
    ``rho_l = ||centre^l||_2 + s_l radius[l]`` (``s_l`` from :func:`spectral_per_layer_norm`)."""
    bounds = np.empty(len(layout))
    for index, (name, norm) in enumerate(zip(layout.names, layout.norms)):
        middle = 0.0 if centre is None else float(np.linalg.norm(centre[name], 2))
        bounds[index] = middle + spectral_per_layer_norm(norm) * radius[index]
    return bounds


class DataProblem(Problem):
    """A problem fitted to a finite synthetic data set (``inputs``, ``targets``), with natural
    minibatch noise. Its smoothness constants are *estimated* on a ball of radius
    ``ball_radius`` around the centre, never certified; its numba twin lives in the module
    named by ``kernel_module`` (imported on first use, so importing the package compiles
    nothing) and closes over the layout, the data and the batch size."""

    supports_minibatch = True
    kernel_module: str = ""

    def _certificate(self, centre, radius):
        from .smoothness import estimated_certificate

        return estimated_certificate(self, centre, self.ball_radius if radius is None else radius)

    def _kernels(self) -> Kernels:
        import importlib

        kernels = importlib.import_module(self.kernel_module, __package__)
        layout = self.layout
        objective = (layout.offsets, layout.rows, layout.cols, self.inputs.copy(), self.targets.copy(),
                     np.int64(self.noise.batch_size))
        return Kernels.of(kernels, (objective, self.noise.kernel_data()))
