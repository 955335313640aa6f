"""The state of an optimizer between steps: plain records of arrays, saved and reloaded exactly.

:class:`OptimizerState` is what the NumPy reference passes from step to step (dicts of layer
arrays); :class:`FlatState` holds the same numbers as flat float64 vectors for the numba fast
path (``Optimizer.to_flat`` / ``from_flat`` convert). :class:`Diagnostics` is what a step
reports per layer.
"""

from __future__ import annotations

import zipfile
from typing import Mapping, NamedTuple

import numpy as np


class Diagnostics(NamedTuple):
    """What one step reports, per layer (arrays of shape ``(p,)``, layout order).

    ``weights``: the weight ``w_t^l`` applied at this step (1 for uniform methods and AdamW
    layers). ``noise_sample``: ``n_t^l`` (``nan`` when no sample: not LANTON, AdamW layer, or
    before the estimator's first step). ``noise_estimate``: ``H_t^l`` (``nan`` likewise).
    ``momentum_dual_norm``: ``-<U_t, D(U_t)>``, the dual norm of the LMO's input (the momentum
    ``B_t``, or the Nesterov direction ``U_t`` with Nesterov), exact for an exact LMO and the
    cheap estimate for Newton-Schulz; ``nan`` for AdamW layers. ``step_length``:
    ``eta_t w_t^l``, the step's length in the layer norm for an exact LMO (lemma L1; times
    ``kappa_hi`` for Newton-Schulz; decay not included); ``nan`` for AdamW layers.
    ``update_rms``: ``||update^l||_F / sqrt(m n)`` of the returned update.

    The optimizers' ``step`` always reports all six. The numba step that the engine calls
    (``_kernels.step``) skips ``momentum_dual_norm`` and ``update_rms`` when handed empty
    arrays for them: the engine records neither, and their two dot products per layer take a
    third of the numba step's time with Scion on 8x8 layers (2.5 of 6.6 us).
    """

    weights: np.ndarray
    noise_sample: np.ndarray
    noise_estimate: np.ndarray
    momentum_dual_norm: np.ndarray
    step_length: np.ndarray
    update_rms: np.ndarray


class OptimizerState(NamedTuple):
    """The complete state of an optimizer between steps (a plain record of arrays).

    ``step``: number of steps taken (the next step is ``t = step + 1``).
    ``momentum``: ``{name: B^l}`` (AdamW layers: Adam's first moment).
    ``second_moment``: ``{name: v^l}``, AdamW layers only.
    ``row_second_moment``: ``{name: v^l}`` of shape ``(m, 1)``, NorMuon layers only.
    ``previous_grads``: ``{name: G_{t-1}^l}``, only with the ``consecutive`` estimator.
    ``momentum_mass``: ``m_t``, total weight of the gradients in ``B_t`` (``momentum.mass``).
    ``noise_estimate``: ``H_t^l`` (0 before the estimator's first sample), shape ``(p,)``.
    ``weights``: the LANTON weights ``w_t^l`` computed at the last step (``lag=1`` applies
    them at the next one), or the fixed weights; shape ``(p,)``.
    ``diagnostics``: :class:`Diagnostics` of the last step (``nan`` before the first).

    Save with :func:`save_state`, reload with :func:`load_state`: a reloaded state resumes
    the run bit for bit. Arrays are never modified in place by any optimizer.
    """

    step: int
    momentum: Mapping[str, np.ndarray]
    second_moment: Mapping[str, np.ndarray]
    row_second_moment: Mapping[str, np.ndarray]
    previous_grads: Mapping[str, np.ndarray]
    momentum_mass: float
    noise_estimate: np.ndarray
    weights: np.ndarray
    diagnostics: Diagnostics


class FlatState(NamedTuple):
    """The numba kernel's state: flat float64 arrays owned (and updated in place) by the caller.

    ``momentum`` ``(size,)``; ``second_moment`` ``(size,)`` if any AdamW layer else ``(0,)``;
    ``row_second_moment`` ``(sum of rows,)`` if any NorMuon layer else ``(0,)``, layer ``l``
    at ``[row_start[l], row_start[l] + rows[l])``; ``previous_grads`` ``(size,)`` with the
    ``consecutive`` estimator else ``(0,)``; ``noise_estimate`` and ``weights`` ``(p,)``;
    ``momentum_mass`` ``(1,)``. Layer ``l`` occupies ``[offsets[l], offsets[l+1])``.
    """

    momentum: np.ndarray
    second_moment: np.ndarray
    row_second_moment: np.ndarray
    previous_grads: np.ndarray
    noise_estimate: np.ndarray
    weights: np.ndarray
    momentum_mass: np.ndarray


class StepInputs(NamedTuple):
    """The per-step inputs of the fast path, flat ``(size,)`` vectors (``(0,)`` when unused)."""

    params: np.ndarray
    grads: np.ndarray
    grads2: np.ndarray
    noise: np.ndarray


_TREES = ("momentum", "second_moment", "row_second_moment", "previous_grads")


def state_to_arrays(state: OptimizerState) -> dict[str, np.ndarray]:
    """Flatten a state into ``{key: array}`` (keys ``"momentum/<layer>"``, ``"step"``, ...)."""
    arrays = {"step": np.array(state.step, dtype=np.int64),
              "momentum_mass": np.array(state.momentum_mass, dtype=np.float64),
              "noise_estimate": np.asarray(state.noise_estimate),
              "weights": np.asarray(state.weights)}
    for tree in _TREES:
        for name, value in getattr(state, tree).items():
            arrays[f"{tree}/{name}"] = np.asarray(value)
        arrays[f"{tree}:names"] = np.array(list(getattr(state, tree)), dtype=str)
    for name, value in zip(Diagnostics._fields, state.diagnostics):
        arrays[f"diagnostics/{name}"] = np.asarray(value)
    return arrays


def state_from_arrays(arrays: Mapping[str, np.ndarray]) -> OptimizerState:
    """Inverse of :func:`state_to_arrays` (copies every array)."""
    try:
        trees = {}
        for tree in _TREES:
            names = [str(n) for n in np.asarray(arrays[f"{tree}:names"]).tolist()]
            trees[tree] = {name: np.array(arrays[f"{tree}/{name}"], dtype=np.float64) for name in names}
        diagnostics = Diagnostics(*(np.array(arrays[f"diagnostics/{f}"], dtype=np.float64)
                                    for f in Diagnostics._fields))
        return OptimizerState(int(arrays["step"]), trees["momentum"], trees["second_moment"],
                              trees["row_second_moment"], trees["previous_grads"],
                              float(arrays["momentum_mass"]), np.array(arrays["noise_estimate"], dtype=np.float64),
                              np.array(arrays["weights"], dtype=np.float64), diagnostics)
    except KeyError as exc:
        raise ValueError(f"arrays: not a saved optimizer state (missing {exc})") from None


def save_state(path, state: OptimizerState) -> None:
    """Write ``state`` to an ``.npz`` file (uncompressed; float64 kept exactly)."""
    if not isinstance(state, OptimizerState):
        raise ValueError(f"state: expected an OptimizerState, got {type(state).__name__}")
    np.savez(path, **state_to_arrays(state))


def load_state(path) -> OptimizerState:
    """Read a state written by :func:`save_state` (``ValueError`` naming ``path`` otherwise)."""
    try:
        data = np.load(path, allow_pickle=False)
        if not isinstance(data, np.lib.npyio.NpzFile):
            raise ValueError("a single array, not a saved state")
        with data:
            arrays = {key: data[key] for key in data.files}
        return state_from_arrays(arrays)
    except FileNotFoundError:
        raise ValueError(f"path: no such file {str(path)!r}") from None
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise ValueError(f"path: {str(path)!r} is not a saved optimizer state ({exc})") from None


__all__ = ["Diagnostics", "FlatState", "OptimizerState", "StepInputs", "load_state", "save_state",
           "state_from_arrays", "state_to_arrays"]
