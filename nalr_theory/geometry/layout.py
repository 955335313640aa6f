"""Layers and the flat parameter layout shared by optimizers, problems and the engine.

The NumPy reference works on dicts ``{layer name: 2-D array}``; the numba side works on one
flat float64 vector in which layer ``l`` occupies ``vector[offsets[l]:offsets[l + 1]]``,
stored row-major with shape ``(rows[l], cols[l])``. :class:`Layout` converts between the two
and carries, per layer, what the kernels need: base-norm code, radius, group index and
Newton-Schulz coefficients (padded to ``(p, max_steps, 3)`` with ``ns_steps[l]`` rows used).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from ._validation import as_matrix
from .norm import Norm, get_norm


@dataclass(frozen=True)
class Layer:
    """One layer: ``name``, ``shape`` ``(d_out, d_in)`` (vectors ``(n, 1)``), its norm name
    (base, alias or preset of GEOMETRY.md), optional explicit ``radius``, LMO method for
    spectral norms, and ``group`` (default: the norm name), within which noise-adaptive
    weights are normalised."""

    name: str
    shape: tuple[int, int]
    norm: str = "spectral"
    group: str | None = None
    radius: float | None = None
    lmo_method: object = "svd"

    @property
    def group_name(self) -> str:
        return self.norm if self.group is None else self.group

    def build_norm(self) -> Norm:
        return get_norm(self.norm, self.shape, self.radius, self.lmo_method)


def as_layers(layers) -> tuple[Layer, ...]:
    """Accept :class:`Layer` objects, dicts of their fields, or ``(name, shape, norm)``
    tuples; validate names (unique, non-empty) and norms before any work."""
    if isinstance(layers, Layout):
        return layers.layers
    result = []
    for index, item in enumerate(layers):
        if isinstance(item, Layer):
            layer = item
        elif isinstance(item, Mapping):
            layer = Layer(**item)
        elif isinstance(item, (tuple, list)) and 2 <= len(item) <= 4:
            layer = Layer(*item)
        else:
            raise ValueError(f"layers: item {index} is not a Layer, dict or (name, shape, norm) tuple")
        if not isinstance(layer.name, str) or not layer.name:
            raise ValueError(f"layers: item {index} needs a non-empty string name")
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
