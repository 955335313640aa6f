"""Layers and the flat parameter layout shared by optimizers, problems and the engine.

The NumPy reference works on dicts ``{layer name: 2-D array}``; the numba side works on one
flat float64 vector in which layer ``l`` occupies ``vector[offsets[l]:offsets[l + 1]]``,
stored row-major with shape ``(rows[l], cols[l])``. :class:`Layout` converts between the two
and carries, per layer, what the kernels need: base-norm code, radius, group index and
Newton-Schulz coefficients (padded to ``(p, max_steps, 3)`` with ``ns_steps[l]`` rows used).

Errors name the field the user wrote: ``name:``, ``shape:``, ``norm:``, ``group:``,
``radius:``, ``lmo_method:`` for one layer's fields (with the layer's name in the message),
``layers[i]:`` for an item of the list that is not a layer description at all, and
``layers:`` only for problems of the list as a whole (empty, duplicate names).
"""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass
from typing import Mapping, Sequence

import numpy as np

from ._validation import as_matrix
from .norm import NORM_NAMES, Norm, get_norm

#: ``get_norm``'s parameter names -> the ``Layer`` field each one comes from
_FIELD_OF_PARAMETER = {"name": "norm", "ns_steps": "lmo_method"}


@dataclass(frozen=True)
class Layer:
    """One layer: ``name``, ``shape`` ``(d_out, d_in)`` (vectors ``(n, 1)``), its norm name
    (a base norm, vector alias or preset: ``nalr_theory.geometry.NORM_NAMES``), and, as
    keywords only, ``group`` (default: the norm name) within which noise-adaptive weights
    are normalised, an explicit ``radius`` and the LMO method for spectral norms::

        Layer("w1", (64, 32), "muon", lmo_method="ns5", group="hidden")

    Every field is validated at construction (``ValueError`` naming the field); ``shape``
    is stored as a tuple of two Python ints."""

    name: str
    shape: tuple[int, int]
    norm: str = "spectral"
    _: KW_ONLY
    group: str | None = None
    radius: float | None = None
    lmo_method: object = "svd"

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"name: a layer needs a non-empty string name, got {self.name!r}")
        object.__setattr__(self, "shape", _layer_shape(self.shape, self.name))
        if self.group is not None and (not isinstance(self.group, str) or not self.group):
            raise ValueError(
                f"group: expected a non-empty string or None for layer {self.name!r}, got {self.group!r}"
            )
        if not isinstance(self.norm, str) or self.norm not in NORM_NAMES:
            raise ValueError(
                f"norm: unknown norm {self.norm!r} for layer {self.name!r}; known: {', '.join(NORM_NAMES)}"
            )
        self.build_norm()  # radius, lmo_method, and the norm against the shape

    @property
    def group_name(self) -> str:
        """Group of the noise-adaptive weights: ``group``, or the norm name when ``group`` is ``None``."""
        return self.norm if self.group is None else self.group

    def build_norm(self) -> Norm:
        """The layer's :class:`~nalr_theory.geometry.norm.Norm`, a new one per call:
        ``get_norm(norm, shape, radius, lmo_method)``. Its ``ValueError`` is re-prefixed with the
        ``Layer`` field at fault (``norm:``, ``radius:``, ``lmo_method:`` ...) and names the layer.
        """
        try:
            return get_norm(self.norm, self.shape, self.radius, self.lmo_method)
        except ValueError as error:
            raise _as_field_error(error, self.name) from None


def _layer_shape(shape, name: str) -> tuple[int, int]:
    try:
        dims = tuple(shape)
    except TypeError:
        dims = None
    if (
        dims is None
        or len(dims) != 2
        or not all(isinstance(d, (int, np.integer)) and not isinstance(d, (bool, np.bool_)) for d in dims)
        or min(dims) < 1
    ):
        raise ValueError(
            f"shape: expected a pair of positive ints (d_out, d_in) for layer {name!r} "
            f"(vectors: (n, 1)), got {shape!r}"
        )
    return int(dims[0]), int(dims[1])


def _as_field_error(error: ValueError, layer: str) -> ValueError:
    """``get_norm``'s error re-prefixed with the ``Layer`` field it concerns."""
    parameter, _, message = str(error).partition(": ")
    field = _FIELD_OF_PARAMETER.get(parameter, parameter)
    return ValueError(f"{field}: {message} (layer {layer!r})")


def as_layers(layers) -> tuple[Layer, ...]:
    """Accept :class:`Layer` objects, dicts of their fields, or ``(name, shape)`` /
    ``(name, shape, norm)`` tuples (``group``, ``radius`` and ``lmo_method`` are keywords:
    use a ``Layer`` or a dict for them); validate everything before any work."""
    if isinstance(layers, Layout):
        return layers.layers
    result = []
    for index, item in enumerate(layers):
        if isinstance(item, Layer):
            layer = item
        elif isinstance(item, Mapping):
            try:
                layer = Layer(**item)
            except TypeError as error:  # unknown or missing keys
                raise ValueError(f"layers[{index}]: {error}") from None
        elif isinstance(item, (tuple, list)) and 2 <= len(item) <= 3:
            layer = Layer(*item)
        elif isinstance(item, (tuple, list)) and len(item) > 3:
            raise ValueError(
                f"layers[{index}]: a tuple is (name, shape) or (name, shape, norm), got {len(item)} "
                f"items; group, radius and lmo_method are keyword-only: "
                f"Layer(name, shape, norm, group=..., radius=..., lmo_method=...)"
            )
        else:
            raise ValueError(
                f"layers[{index}]: expected a Layer, a dict or a (name, shape[, norm]) tuple, got {item!r}"
            )
        result.append(layer)
    names = [layer.name for layer in result]
    if len(set(names)) != len(names):
        raise ValueError(f"layers: duplicate layer names in {names}")
    if not result:
        raise ValueError("layers: at least one layer is needed")
    return tuple(result)


class Layout:
    """Flat layout of a list of layers (see module docstring)."""

    def __init__(self, layers: Sequence[Layer] | Layout):
        self.layers = as_layers(layers)
        self.norms = tuple(layer.build_norm() for layer in self.layers)
        self.names = tuple(layer.name for layer in self.layers)
        self.shapes = tuple(norm.shape for norm in self.norms)
        sizes = [m * n for m, n in self.shapes]
        self.offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        self.size = int(self.offsets[-1])
        self.rows = np.array([s[0] for s in self.shapes], dtype=np.int64)
        self.cols = np.array([s[1] for s in self.shapes], dtype=np.int64)
        self.codes = np.array([norm.code for norm in self.norms], dtype=np.int64)
        self.radii = np.array([norm.radius for norm in self.norms], dtype=np.float64)
        self.group_names = tuple(dict.fromkeys(layer.group_name for layer in self.layers))
        self.group_ids = np.array(
            [self.group_names.index(layer.group_name) for layer in self.layers], dtype=np.int64
        )
        self.ns_steps = np.array([norm.ns_coefficients.shape[0] for norm in self.norms], dtype=np.int64)
        self.ns_table = np.zeros((len(self.layers), max(1, int(self.ns_steps.max())), 3))
        for index, norm in enumerate(self.norms):
            self.ns_table[index, : self.ns_steps[index]] = norm.ns_coefficients

    def __len__(self) -> int:
        return len(self.layers)

    def check_tree(self, tree: Mapping, argument: str) -> dict[str, np.ndarray]:
        """Validate a dict of layer arrays (names, shapes, finiteness); return float64 copies
        are not made: the returned arrays must be treated as read-only."""
        if not isinstance(tree, Mapping):
            raise ValueError(f"{argument}: expected a dict of layer name -> array")
        if set(tree) != set(self.names):
            missing = sorted(set(self.names) - set(tree))
            extra = sorted(set(tree) - set(self.names))
            raise ValueError(f"{argument}: layer names do not match (missing {missing}, unexpected {extra})")
        checked = {}
        for name, shape in zip(self.names, self.shapes):
            array = as_matrix(tree[name], f"{argument}[{name!r}]", allow_vector=shape[1] == 1)
            if array.shape != shape:
                raise ValueError(f"{argument}[{name!r}]: shape {array.shape} does not match layer shape {shape}")
            checked[name] = array
        return checked

    def flatten(self, tree: Mapping, argument: str = "tree") -> np.ndarray:
        """Dict of layer arrays -> new flat float64 vector."""
        checked = self.check_tree(tree, argument)
        return np.concatenate([checked[name].ravel() for name in self.names])

    def unflatten(self, vector: np.ndarray) -> dict[str, np.ndarray]:
        """Flat vector -> dict of layer arrays (copies; the vector is untouched)."""
        vector = np.asarray(vector, dtype=np.float64)
        if vector.shape != (self.size,):
            raise ValueError(f"vector: expected shape ({self.size},), got {vector.shape}")
        return {
            name: vector[self.offsets[i] : self.offsets[i + 1]].reshape(self.shapes[i]).copy()
            for i, name in enumerate(self.names)
        }
