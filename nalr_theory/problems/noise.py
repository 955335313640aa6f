"""Per-layer noise models for the stochastic oracle ``G = grad f(X) + xi``.

Problem
    Give each layer ``l`` a zero-mean noise ``xi^l`` whose size in the layer's dual norm
    ``||.||_{l,*}`` is controlled per layer, so that A2 holds with known constants (or
    fails on purpose): A2v ``E||xi^l||_*^2 <= sigma_l^2``, A2b ``sigma_lo[l] <= ||xi^l||_*
    <= sigma_hi[l]`` on every draw (``nalr_theory.theory.assumptions``).

Algorithm (one draw per layer, in layer order; ``Z`` a standard Gaussian matrix)
    - ``bounded(sigma_lo, sigma_hi)``: draw ``D = Z``, then ``s ~ U[sigma_lo, sigma_hi]``;
      ``xi = s D / ||D||_*``. Symmetric ``D`` and independent ``s`` give ``E xi = 0``, and
      ``||xi||_* = s`` exactly (A2b with ``[sigma_lo, sigma_hi]``; A2v with ``sigma_hi``).
    - ``gaussian(sigma)``: ``xi = sigma Z / sqrt(E||Z||_*^2)``, so ``E||xi||_*^2 = sigma^2``
      (A2v, not A2b). ``E||Z||_*^2`` is exact for ``frobenius``, ``max_abs``, ``col_norm``,
      ``row_norm`` and spectral vectors; for the nuclear norm of a matrix it is a Monte-Carlo
      calibration (``CALIBRATION_SAMPLES`` draws, fixed seed; relative standard error
      reported in ``calibration_rse``).
    - ``heavy_tailed(nu, sigma | scale)``: the multivariate Student-t
      ``xi = c Z sqrt(q / W)``, ``W ~ chi^2_nu`` drawn after ``Z``, one ``W`` per layer and draw.
      ``||xi||_*`` is ``||Z||_*`` times an independent ``sqrt(q/W)`` (a Student-t tail of index
      ``nu`` in every norm). ``nu > 2``: ``q = nu - 2``, ``c = sigma / sqrt(E||Z||_*^2)``, hence
      ``E||xi||_*^2 = sigma^2`` exactly (``E[1/W] = 1/(nu-2)``). ``nu <= 2``: infinite variance
      (A2v fails on purpose), ``q = nu``, ``c = scale / sqrt(E||Z||_*^2)``: ``scale`` is the
      RMS dual norm of the Gaussian part.
    - ``time_varying(base, profile, ...)``: ``xi_t^l = profile_l(t) xi^l`` with
      ``decay`` ``(1 + t/tau)^(-power)``, ``spike`` (``height`` on ``[start, start+width)``)
      or ``swap`` (from step ``at``, layer ``l`` takes the noise level of its mirror in the
      noise ranking: the noisiest layer becomes the quietest; ``period`` swaps back and forth).
    - ``minibatch(batch_size)``: the problem's own data sampling (teacher-student, token
      model); the oracle reports ``xi = G_batch - grad f`` and its dual norm.
    - ``exact()``: no noise (``xi = 0``, draws nothing).

Guarantee
    Mean zero for every model; ``bounded`` satisfies A2b on every draw in every norm; same
    generator state, same draws, in the NumPy reference and the numba twin
    (``_kernels.draw_noise``) alike (numba's ``Generator`` reproduces NumPy's streams).

References
    ``nalr_theory.theory.assumptions`` (A2v, A2b; ``noise_model_assumptions``); Hao et al. 2025
    (arXiv 2510.14009).

Decisions (spec silent): one noise kind for all layers, parameters per layer (scalar,
sequence or ``{layer: value}``); the heavy-tailed model is the elliptical (multivariate)
Student-t, whose scale is exact in every norm, rather than i.i.d. t entries; ``sigma_lo``
must be ``> 0`` (the spec's "non-positive sigma" rule); time-varying bounds ``sigma_lo`` /
``sigma_hi`` are envelopes over all ``t >= 0`` and ``bounds_at(t)`` gives the bounds at ``t``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from numbers import Real
from typing import Mapping

import numpy as np

from ..geometry.base_norms import COL_NORM, FROBENIUS, MAX_ABS, ROW_NORM, SPECTRAL

# Integer codes shared with the numba twin.
EXACT, BOUNDED, GAUSSIAN, STUDENT_T = 0, 1, 2, 3
CONSTANT, DECAY, SPIKE, SWAP = 0, 1, 2, 3
KIND_CODES = {"exact": EXACT, "bounded": BOUNDED, "gaussian": GAUSSIAN, "heavy_tailed": STUDENT_T, "minibatch": EXACT}
PROFILE_CODES = {"decay": DECAY, "spike": SPIKE, "swap": SWAP}

CALIBRATION_SAMPLES = 4000
CALIBRATION_SEED = 20251014


# --------------------------------------------------------------------------- unbound models

def _check_value(value, name: str, *, allow_zero: bool = False):
    """Scalars / sequences / dicts of finite positive numbers (lengths are checked at bind)."""
    values = value.values() if isinstance(value, Mapping) else np.ravel(np.asarray(value, dtype=object))
    for item in values:
        if isinstance(item, bool) or not isinstance(item, (Real, np.floating, np.integer)):
            raise ValueError(f"{name}: expected positive numbers, got {item!r}")
        number = float(item)
        if not math.isfinite(number) or number < 0 or (number == 0 and not allow_zero):
            raise ValueError(f"{name}: must be finite and > 0, got {item!r}")
    return value


@dataclass(frozen=True)
class NoiseModel:
    """Base of the unbound noise models; ``bind(model, layout)`` resolves per-layer values."""

    kind = "abstract"


@dataclass(frozen=True)
class Exact(NoiseModel):
    kind = "exact"


@dataclass(frozen=True)
class Bounded(NoiseModel):
    sigma_lo: object
    sigma_hi: object
    kind = "bounded"

    def __post_init__(self):
        _check_value(self.sigma_lo, "sigma_lo")
        _check_value(self.sigma_hi, "sigma_hi")


@dataclass(frozen=True)
class Gaussian(NoiseModel):
    sigma: object
    kind = "gaussian"

    def __post_init__(self):
        _check_value(self.sigma, "sigma")


@dataclass(frozen=True)
class HeavyTailed(NoiseModel):
    nu: float
    sigma: object = None
    scale: object = None
    kind = "heavy_tailed"

    def __post_init__(self):
        _check_value(self.nu, "nu")
        if np.ndim(self.nu) != 0:
            raise ValueError("nu: expected one number of degrees of freedom")
        if float(self.nu) > 2:
            if self.sigma is None or self.scale is not None:
                raise ValueError("sigma: nu > 2 has finite variance; pass sigma (E||xi||_*^2 = sigma^2), not scale")
            _check_value(self.sigma, "sigma")
        else:
            if self.scale is None or self.sigma is not None:
                raise ValueError("scale: nu <= 2 has infinite variance, so sigma is undefined; pass scale")
            _check_value(self.scale, "scale")


@dataclass(frozen=True)
class TimeVarying(NoiseModel):
    base: NoiseModel
    profile: str
    options: tuple = field(default_factory=tuple)
    kind = "time_varying"

    def __post_init__(self):
        if not isinstance(self.base, (Bounded, Gaussian, HeavyTailed)):
            raise ValueError("base: time_varying needs a bounded, gaussian or heavy_tailed base model")
        if self.profile not in PROFILE_CODES:
            raise ValueError(f"profile: unknown profile {self.profile!r}; known: {', '.join(PROFILE_CODES)}")
        allowed = {"decay": {"tau", "power"}, "spike": {"start", "width", "height"}, "swap": {"at", "period", "permutation"}}
        for key, value in self.options:
            if key not in allowed[self.profile]:
                raise ValueError(f"{key}: not an option of the {self.profile!r} profile ({', '.join(sorted(allowed[self.profile]))})")
            if key == "permutation":
                continue
            _check_value(value, key, allow_zero=key in {"start", "at", "period"})


@dataclass(frozen=True)
class Minibatch(NoiseModel):
    batch_size: int
    kind = "minibatch"

    def __post_init__(self):
        b = self.batch_size
        if isinstance(b, bool) or not isinstance(b, (int, np.integer)) or b < 1:
            raise ValueError(f"batch_size: expected a positive integer, got {b!r}")


def exact() -> Exact:
    """No noise: the oracle returns the exact gradient."""
    return Exact()


def bounded(sigma_lo, sigma_hi) -> Bounded:
    """``xi = s D / ||D||_*``, ``s ~ U[sigma_lo, sigma_hi]`` (per layer)."""
    return Bounded(sigma_lo, sigma_hi)


def gaussian(sigma) -> Gaussian:
    """Gaussian noise with ``E ||xi||_*^2 = sigma^2`` (per layer)."""
    return Gaussian(sigma)


def heavy_tailed(nu, sigma=None, scale=None) -> HeavyTailed:
    """Student-t noise: ``sigma`` for ``nu > 2``, ``scale`` for ``nu <= 2`` (infinite variance)."""
    return HeavyTailed(nu, sigma, scale)


def time_varying(base: NoiseModel, profile: str, **options) -> TimeVarying:
    """``profile_l(t) * xi``: ``decay`` (``tau=100``, ``power=0.5``), ``spike``
    (``start=100``, ``width=50``, ``height=10``), ``swap`` (``at=500``, ``period=None``,
    ``permutation=None``: default reverses the layers' noise ranking)."""
    if "permutation" in options and options["permutation"] is not None:
        options["permutation"] = tuple(int(i) for i in options["permutation"])
    return TimeVarying(base, profile, tuple(sorted((k, v) for k, v in options.items() if v is not None)))


def minibatch(batch_size: int) -> Minibatch:
    """The natural noise of data sampling (families with a dataset)."""
    return Minibatch(batch_size)


_FACTORIES = {"exact": exact, "bounded": bounded, "gaussian": gaussian, "heavy_tailed": heavy_tailed,
              "time_varying": time_varying, "minibatch": minibatch}


def make(spec) -> NoiseModel:
    """A noise model from a ``NoiseModel``, ``None`` (exact) or a config dict
    ``{"kind": "bounded", "sigma_lo": ..., ...}`` (``time_varying``'s ``base`` may be a dict)."""
    if spec is None:
        return Exact()
    if isinstance(spec, NoiseModel):
        return spec
    if isinstance(spec, str):
        if spec == "exact":
            return Exact()
        raise ValueError(f"noise: a name alone sets no noise level; pass a dict like {{'kind': {spec!r}, ...}} or a model")
    if isinstance(spec, Mapping):
        options = dict(spec)
        kind = options.pop("kind", None)
        if kind not in _FACTORIES:
            raise ValueError(f"noise: unknown kind {kind!r}; known: {', '.join(_FACTORIES)}")
        if kind == "time_varying" and "base" in options:
            options["base"] = make(options["base"])
        try:
            return _FACTORIES[kind](**options)
        except TypeError as error:
            raise ValueError(f"noise: bad options for {kind!r} ({error})") from None
    raise ValueError(f"noise: expected a NoiseModel, a dict or None, got {type(spec).__name__}")


# --------------------------------------------------------------------------- calibration

def _chi_mean(k: int) -> float:
    """``E ||z||_2`` for ``z ~ N(0, I_k)``."""
    return math.sqrt(2.0) * math.exp(math.lgamma((k + 1) / 2) - math.lgamma(k / 2))


@lru_cache(maxsize=256)
def gaussian_dual_second_moment(code: int, m: int, n: int) -> tuple[float, float]:
    """``(E ||Z||_*^2, relative standard error)`` for ``Z`` standard Gaussian ``m x n`` and
    the base dual norm ``code`` (radius 1; a radius ``r`` multiplies it by ``r^2``)."""
    if code == FROBENIUS or (code == SPECTRAL and min(m, n) == 1):
        return float(m * n), 0.0
    if code == MAX_ABS:
        k = m * n
        return k * (1 - 2 / math.pi) + k * k * 2 / math.pi, 0.0
    if code == COL_NORM:
        return n * m + n * (n - 1) * _chi_mean(m) ** 2, 0.0
    if code == ROW_NORM:
        return m * n + m * (m - 1) * _chi_mean(n) ** 2, 0.0
    rng = np.random.default_rng(CALIBRATION_SEED)
    squares = []
    chunk = max(1, min(CALIBRATION_SAMPLES, 2_000_000 // (m * n)))
    remaining = CALIBRATION_SAMPLES
    while remaining > 0:
        size = min(chunk, remaining)
        nuclear = np.linalg.svd(rng.standard_normal((size, m, n)), compute_uv=False).sum(axis=1)
        squares.append(nuclear**2)
        remaining -= size
    squares = np.concatenate(squares)
    mean = float(squares.mean())
    return mean, float(squares.std(ddof=1) / math.sqrt(squares.size) / mean)


# --------------------------------------------------------------------------- profiles

def profile_factor(code: int, options: np.ndarray, t: int) -> float:
    """Multiplier of one layer's noise at step ``t`` (``_kernels`` compiles this very function)."""
    if code == DECAY:
        return (1.0 + t / options[0]) ** (-options[1])
    if code == SPIKE:
        return options[2] if options[0] <= t < options[0] + options[1] else 1.0
    if code == SWAP:
        if t < options[0]:
            return 1.0
        if options[1] > 0 and int((t - options[0]) // options[1]) % 2 == 1:
            return 1.0
        return options[2]
    return 1.0


# --------------------------------------------------------------------------- bound models

def _resolve(value, layout, name: str) -> np.ndarray:
    count = len(layout)
    if isinstance(value, Mapping):
        if set(value) != set(layout.names):
            raise ValueError(f"{name}: layer names {sorted(value)} do not match {list(layout.names)}")
        value = [value[layer] for layer in layout.names]
    array = np.asarray(value, dtype=np.float64)
    if array.ndim == 0:
        array = np.full(count, float(array))
    if array.shape != (count,):
        raise ValueError(f"{name}: expected one value or {count} (one per layer), got shape {array.shape}")
    if not np.all(np.isfinite(array)) or np.any(array <= 0):
        raise ValueError(f"{name}: values must be finite and > 0, got {array.tolist()}")
    return array


class BoundNoise:
    """A noise model resolved on a ``Layout``: per-layer arrays and the numba table.

    Attributes: ``kind``; ``sigma_lo``, ``sigma_hi`` (per layer, envelopes over ``t``, or
    ``None`` when unbounded/unknown); ``sigma`` (A2v constant per layer: ``inf`` for
    infinite variance, ``None`` for minibatch, whose size the problem estimates);
    ``variance_finite``; ``second_sample_available``; ``calibration_rse`` (relative
    Monte-Carlo standard error of each layer's Gaussian scale, 0 when exact);
    ``batch_size`` (minibatch); ``table`` (``(p, 5)``: sigma_lo, sigma_hi, coefficient,
    nu, q) and ``profile_code``, ``profile_table`` (``(p, 3)``) for the kernels.
    """

    def __init__(self, model: NoiseModel, layout):
        self.model = model
        self.layout = layout
        p = len(layout)
        base = model.base if isinstance(model, TimeVarying) else model
        self.kind = base.kind
        self.time_varying = isinstance(model, TimeVarying)
        self.second_sample_available = True
        self.variance_finite = True
        self.batch_size = getattr(model, "batch_size", 0)
        self.table = np.zeros((p, 5))
        self.calibration_rse = np.zeros(p)
        self.sigma_lo = self.sigma_hi = None
        self.sigma = np.zeros(p)
        level = np.ones(p)
        if self.kind == "exact":
            self.sigma_lo, self.sigma_hi = np.zeros(p), np.zeros(p)
        elif self.kind == "minibatch":
            self.sigma = None
        elif self.kind == "bounded":
            lo = _resolve(base.sigma_lo, layout, "sigma_lo")
            hi = _resolve(base.sigma_hi, layout, "sigma_hi")
            if np.any(lo > hi):
                raise ValueError(f"sigma_lo: must be <= sigma_hi per layer, got {lo.tolist()} > {hi.tolist()}")
            self.table[:, 0], self.table[:, 1] = lo, hi
            self.sigma_lo, self.sigma_hi, self.sigma = lo, hi, hi.copy()
            level = hi
        else:
            second = np.empty(p)
            for index, norm in enumerate(layout.norms):
                moment, rse = gaussian_dual_second_moment(norm.code, *norm.shape)
                second[index] = norm.radius**2 * moment
                self.calibration_rse[index] = rse
            if self.kind == "gaussian":
                sigma = _resolve(base.sigma, layout, "sigma")
                self.table[:, 2] = sigma / np.sqrt(second)
                self.sigma, level = sigma, sigma
            else:
                nu = float(base.nu)
                self.table[:, 3] = nu
                if nu > 2:
                    sigma = _resolve(base.sigma, layout, "sigma")
                    self.table[:, 2], self.table[:, 4] = sigma / np.sqrt(second), nu - 2
                    self.sigma, level = sigma, sigma
                else:
                    scale = _resolve(base.scale, layout, "scale")
                    self.table[:, 2], self.table[:, 4] = scale / np.sqrt(second), nu
                    self.sigma, level = np.full(p, np.inf), scale
                    self.variance_finite = False
        self.base_sigma = None if self.sigma is None else self.sigma.copy()
        self.profile_code = CONSTANT
        self.profile_table = np.zeros((p, 3))
        if self.time_varying:
            self._bind_profile(model, level)

    def _bind_profile(self, model: TimeVarying, level: np.ndarray):
        p = len(self.layout)
        options = dict(model.options)
        self.profile_code = PROFILE_CODES[model.profile]
        if model.profile == "decay":
            self.profile_table[:, 0] = _resolve(options.get("tau", 100.0), self.layout, "tau")
            self.profile_table[:, 1] = _resolve(options.get("power", 0.5), self.layout, "power")
            low, high = np.zeros(p), np.ones(p)
        elif model.profile == "spike":
            self.profile_table[:, 0] = float(options.get("start", 100))
            self.profile_table[:, 1] = _resolve(options.get("width", 50), self.layout, "width")
            self.profile_table[:, 2] = _resolve(options.get("height", 10.0), self.layout, "height")
            low, high = np.minimum(1, self.profile_table[:, 2]), np.maximum(1, self.profile_table[:, 2])
        else:
            permutation = options.get("permutation")
            if permutation is None:
                ranking = np.argsort(level, kind="stable")
                permutation = np.empty(p, dtype=np.int64)
                permutation[ranking] = ranking[::-1]
            permutation = np.asarray(permutation, dtype=np.int64)
            if sorted(permutation.tolist()) != list(range(p)):
                raise ValueError(f"permutation: expected a permutation of 0..{p - 1}, got {permutation.tolist()}")
            self.permutation = permutation
            self.profile_table[:, 0] = float(options.get("at", 500))
            self.profile_table[:, 1] = float(options.get("period", 0))
            self.profile_table[:, 2] = level[permutation] / level
            low, high = np.minimum(1, self.profile_table[:, 2]), np.maximum(1, self.profile_table[:, 2])
        if self.sigma_lo is not None:
            self.sigma_lo = self.sigma_lo * low
            self.sigma_hi = self.sigma_hi * high
        if self.sigma is not None:
            self.sigma = self.sigma * high

    # ---- per-step quantities
    def factor(self, t: int) -> np.ndarray:
        """Per-layer profile multiplier at step ``t`` (ones when not time-varying)."""
        return np.array([profile_factor(self.profile_code, row, t) for row in self.profile_table])

    def bounds_at(self, t: int) -> tuple:
        """``(sigma_lo, sigma_hi, sigma)`` at step ``t`` (``None`` where not declared)."""
        scale = self.factor(t)
        lo, hi = self.table[:, 0] * scale, self.table[:, 1] * scale
        if self.kind == "bounded":
            return lo, hi, hi
        if self.kind == "exact":
            return lo, hi, np.zeros(len(scale))
        if self.kind == "minibatch":
            return None, None, None
        return None, None, self.base_sigma * scale

    def draw(self, t: int, rng: np.random.Generator) -> dict:
        """One noise draw ``{layer: xi^l}`` at step ``t`` (layer order, see module docstring)."""
        noise = {}
        for index, (name, norm) in enumerate(zip(self.layout.names, self.layout.norms)):
            shape = norm.shape
            factor = profile_factor(self.profile_code, self.profile_table[index], t)
            row = self.table[index]
            if self.kind in ("exact", "minibatch"):
                noise[name] = np.zeros(shape)
            elif self.kind == "bounded":
                direction = rng.standard_normal(shape)
                size = rng.uniform(row[0], row[1])
                length = norm.dual(direction)
                while length == 0.0:  # probability zero; never divide by zero
                    direction = rng.standard_normal(shape)
                    length = norm.dual(direction)
                noise[name] = (factor * size / length) * direction
            elif self.kind == "gaussian":
                noise[name] = (factor * row[2]) * rng.standard_normal(shape)
            else:
                gaussian_part = rng.standard_normal(shape)
                mixing = math.sqrt(row[4] / rng.chisquare(row[3]))
                noise[name] = (factor * row[2] * mixing) * gaussian_part
        return noise

    def check_batch(self, dataset_size: int) -> None:
        """``ValueError`` (``batch_size: ...``) if ``batch_size > dataset_size``; ``batch_size`` is 0
        without minibatch noise, which always passes.
        """
        if self.batch_size > dataset_size:
            raise ValueError(f"batch_size: {self.batch_size} exceeds the dataset size {dataset_size}")

    @property
    def kind_code(self) -> int:
        """Integer code of ``kind`` for the numba kernels (``KIND_CODES``; minibatch draws as ``EXACT``)."""
        return KIND_CODES[self.kind]

    def kernel_data(self) -> tuple:
        """Arguments of ``_kernels.draw_noise`` after ``(t, rng)``."""
        layout = self.layout
        return (layout.offsets, layout.rows, layout.cols, layout.codes, layout.radii,
                np.int64(self.kind_code), self.table, np.int64(self.profile_code), self.profile_table)

    def describe(self) -> dict:
        """JSON-friendly summary: ``kind``, ``time_varying`` (profile name or ``None``), ``sigma_lo``,
        ``sigma_hi``, ``sigma`` (lists of floats or ``None``), ``variance_finite``, ``batch_size``
        (``None`` without minibatch), ``second_sample_available``, ``calibration_rse``.
        """
        def plain(value):
            return None if value is None else [float(v) for v in value]

        return {
            "kind": self.kind,
            "time_varying": self.model.profile if self.time_varying else None,
            "sigma_lo": plain(self.sigma_lo),
            "sigma_hi": plain(self.sigma_hi),
            "sigma": plain(self.sigma),
            "variance_finite": self.variance_finite,
            "batch_size": self.batch_size or None,
            "second_sample_available": self.second_sample_available,
            "calibration_rse": plain(self.calibration_rse),
        }


def bind(model, layout) -> BoundNoise:
    """Resolve ``model`` (anything :func:`make` accepts) on ``layout``."""
    return BoundNoise(make(model), layout)


__all__ = [
    "BoundNoise", "NoiseModel", "bind", "bounded", "exact", "gaussian",
    "gaussian_dual_second_moment", "heavy_tailed", "make", "minibatch", "profile_factor",
    "time_varying",
]
