"""Named conventions of published optimizers: radii of the base norms (``base_norms``).

A preset is ``(base norm, radius(shape))`` with ``||X||_r = ||X|| / r``, hence
``||G||_{r,*} = r ||G||_*`` and ``lmo_r(G) = r lmo(G)``. Shapes are ``(d_out, d_in)``.
Each radius below was checked against the cited implementation; a test pins each one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class Preset:
    """A named convention: base norm ``base`` (a key of ``base_norms.BASE_NORMS``) with radius
    ``radius(m, n)`` for a layer of shape ``(d_out, d_in) = (m, n)``, so that ``||X||_r = ||X|| / r``;
    ``source`` states the convention and the implementation it was checked against."""

    name: str
    base: str
    radius: Callable[[int, int], float]
    source: str


PRESETS: dict[str, Preset] = {
    # Scion `Spectral(normalized=True)`: lmo scaled by (d_out / d_in) ** 0.5 (Pethick et al. 2025);
    # the RMS->RMS operator norm of the modular norm (Bernstein & Newhouse 2024).
    "rms_to_rms": Preset(
        "rms_to_rms", "spectral", lambda m, n: math.sqrt(m / n),
        "Scion Spectral(normalized=True): sqrt(d_out/d_in)",
    ),
    # Muon (K. Jordan 2024, muon.py): update *= max(1, rows / cols) ** 0.5.
    "muon": Preset(
        "muon", "spectral", lambda m, n: math.sqrt(max(1.0, m / n)),
        "Muon: sqrt(max(1, d_out/d_in))",
    ),
    # Moonlight / D-Muon (Liu et al. 2025, "Muon is scalable"): adjusted_lr = lr * 0.2 * sqrt(max(A, B)),
    # which matches the update RMS of AdamW (about 0.2).
    "dmuon": Preset(
        "dmuon", "spectral", lambda m, n: 0.2 * math.sqrt(max(m, n)),
        "Moonlight D-Muon: 0.2 * sqrt(max(d_out, d_in))",
    ),
    # Scion `Sign(normalized=True)`: (1 / d_in) * sign(g), embeddings and output head.
    "sign": Preset(
        "sign", "max_abs", lambda m, n: 1.0 / n,
        "Scion Sign(normalized=True): 1/d_in",
    ),
    # Scion `ColNorm(normalized=False)`: g / (||g_col||_2 / sqrt(d_out)), the l1->RMS input layer.
    "colnorm": Preset(
        "colnorm", "col_norm", lambda m, n: math.sqrt(m),
        "Scion ColNorm(normalized=False): sqrt(d_out)",
    ),
    # Scion `RowNorm(normalized=True)`: g / (||g_row||_2 * sqrt(d_in)), the RMS->linf output layer.
    "rownorm": Preset(
        "rownorm", "row_norm", lambda m, n: 1.0 / math.sqrt(n),
        "Scion RowNorm(normalized=True): 1/sqrt(d_in)",
    ),
}
