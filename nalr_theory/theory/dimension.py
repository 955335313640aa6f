"""Dimension constants of the noise term for a list of layer shapes (e.g. a transformer's).

Problem
    The theorem's noise term is ``2 sum_l w_l rho_l sigma_l`` (layerwise accounting) against
    ``2 sigma_max sum_l rho_l`` (uniform-noise accounting of earlier analyses), with
    ``rho_l = a_l b_l`` the norm-equivalence factor of layer ``l``'s norm (``||Z||_* <= a_l
    ||Z||_F``, ``||Z||_F <= b_l ||Z||_*``; ``nalr_theory.geometry.norm``). How
    large are ``rho_l`` and the gain ``sum rho sigma / (sigma_max sum rho)`` for real shapes?

Algorithm
    ``rho_l`` from ``nalr_theory.geometry.get_norm(norm, shape).constants()``; the sums and
    ratios below, plus the un-weighted ``sum_l sigma_l`` against ``p sigma_max`` that the
    LANTON paper reports (``3.65`` against ``18.0`` for LLaMA-1.1B).

Guarantee
    Both ratios lie in ``(0, 1]`` and equal 1 exactly when every ``sigma_l = sigma_max``.
    The built-in shape lists (with ``include_vectors=True``) reproduce the parameter counts
    of the published checkpoints (tests): TinyLlama-1.1B 1,100,048,384 and GPT-2 small
    124,439,808.

References
    TinyLlama: Zhang et al. (2024), ``TinyLlama/TinyLlama-1.1B-intermediate-step-1431k-3T``
    ``config.json`` (hidden 2048, intermediate 5632, 22 layers, 32 heads, 4 key-value heads,
    vocab 32000, untied head). GPT-2 small: Radford et al. (2019), Hugging Face ``gpt2``
    ``config.json`` (n_embd 768, n_layer 12, n_head 12, n_positions 1024, vocab 50257,
    fused ``c_attn``, head tied to ``wte``). ``nalr_theory.geometry.norm`` (``Norm.constants``:
    ``a``, ``b``, ``rho``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from nalr_theory.geometry import get_norm

from . import _validation as check

#: Numbers reported by the LANTON paper (Hao et al. 2025, arXiv 2510.14009; LLaMA-1.1B; no rho).
LANTON_REPORTED_LLAMA_1B = {"sum_sigma": 3.65, "p_sigma_max": 18.0}

#: Default norm preset per layer role (decision): embeddings and head in the l1->linf
#: geometry (``sign``) and hidden matrices spectral (``dmuon``, LANTON's base), as in the
#: LANTON paper's transformer setting; vectors (gains, biases) ``linf``. Radii do not change rho.
DEFAULT_ROLE_NORMS = {"embedding": "sign", "hidden": "dmuon", "head": "sign", "vector": "linf"}


@dataclass(frozen=True)
class LayerSpec:
    """One parameter: ``name``, ``shape = (d_out, d_in)`` (vectors ``(n, 1)``), ``role``."""

    name: str
    shape: tuple[int, int]
    role: str

    @property
    def size(self) -> int:
        """Number of parameters ``d_out * d_in``."""
        return self.shape[0] * self.shape[1]


def llama_1b_layers(include_vectors: bool = False) -> list[LayerSpec]:
    """TinyLlama-1.1B (LLaMA-style): 22 blocks, d = 2048, FFN 5632, 32 heads / 4 KV heads.

    Embedding ``(2048, 32000)`` (acting on one-hot tokens), per block ``q, o: (2048, 2048)``,
    ``k, v: (256, 2048)`` (4 KV heads of 64), ``gate, up: (5632, 2048)``, ``down: (2048, 5632)``;
    untied head ``(32000, 2048)``; with ``include_vectors`` the RMSNorm gains ``(2048, 1)``.
    """
    d, ffn, vocab, blocks, kv = 2048, 5632, 32000, 22, 4 * 64
    layers = [LayerSpec("embed_tokens", (d, vocab), "embedding")]
    for block in range(blocks):
        prefix = f"layers.{block}."
        if include_vectors:
            layers.append(LayerSpec(prefix + "input_layernorm", (d, 1), "vector"))
        layers += [
            LayerSpec(prefix + "self_attn.q_proj", (d, d), "hidden"),
            LayerSpec(prefix + "self_attn.k_proj", (kv, d), "hidden"),
            LayerSpec(prefix + "self_attn.v_proj", (kv, d), "hidden"),
            LayerSpec(prefix + "self_attn.o_proj", (d, d), "hidden"),
        ]
        if include_vectors:
            layers.append(LayerSpec(prefix + "post_attention_layernorm", (d, 1), "vector"))
        layers += [
            LayerSpec(prefix + "mlp.gate_proj", (ffn, d), "hidden"),
            LayerSpec(prefix + "mlp.up_proj", (ffn, d), "hidden"),
            LayerSpec(prefix + "mlp.down_proj", (d, ffn), "hidden"),
        ]
    if include_vectors:
        layers.append(LayerSpec("norm", (d, 1), "vector"))
    layers.append(LayerSpec("lm_head", (vocab, d), "head"))
    return layers


def gpt2_small_layers(include_vectors: bool = False) -> list[LayerSpec]:
    """GPT-2 small: 12 blocks, d = 768, FFN 3072, vocab 50257, context 1024, tied head.

    ``wte (768, 50257)``, ``wpe (768, 1024)``, per block the fused ``attn.c_attn (2304, 768)``,
    ``attn.c_proj (768, 768)``, ``mlp.c_fc (3072, 768)``, ``mlp.c_proj (768, 3072)``; the head
    is ``wte`` (tied, not a separate parameter); with ``include_vectors`` the LayerNorm gains
    and biases and the linear biases.
    """
    d, ffn, vocab, context, blocks = 768, 3072, 50257, 1024, 12
    layers = [LayerSpec("wte", (d, vocab), "embedding"), LayerSpec("wpe", (d, context), "embedding")]
    for block in range(blocks):
        prefix = f"h.{block}."
        if include_vectors:
            layers += [LayerSpec(prefix + "ln_1.weight", (d, 1), "vector"), LayerSpec(prefix + "ln_1.bias", (d, 1), "vector")]
        layers.append(LayerSpec(prefix + "attn.c_attn.weight", (3 * d, d), "hidden"))
        if include_vectors:
            layers.append(LayerSpec(prefix + "attn.c_attn.bias", (3 * d, 1), "vector"))
        layers.append(LayerSpec(prefix + "attn.c_proj.weight", (d, d), "hidden"))
        if include_vectors:
            layers += [
                LayerSpec(prefix + "attn.c_proj.bias", (d, 1), "vector"),
                LayerSpec(prefix + "ln_2.weight", (d, 1), "vector"),
                LayerSpec(prefix + "ln_2.bias", (d, 1), "vector"),
            ]
        layers.append(LayerSpec(prefix + "mlp.c_fc.weight", (ffn, d), "hidden"))
        if include_vectors:
            layers.append(LayerSpec(prefix + "mlp.c_fc.bias", (ffn, 1), "vector"))
        layers.append(LayerSpec(prefix + "mlp.c_proj.weight", (d, ffn), "hidden"))
        if include_vectors:
            layers.append(LayerSpec(prefix + "mlp.c_proj.bias", (d, 1), "vector"))
    if include_vectors:
        layers += [LayerSpec("ln_f.weight", (d, 1), "vector"), LayerSpec("ln_f.bias", (d, 1), "vector")]
    return layers


MODELS = {"tinyllama_1.1b": llama_1b_layers, "gpt2_small": gpt2_small_layers}


def model_layers(name: str, include_vectors: bool = False) -> list[LayerSpec]:
    """A built-in shape list: ``"tinyllama_1.1b"`` or ``"gpt2_small"``."""
    check.choice(name, "name", tuple(MODELS))
    return MODELS[name](include_vectors)


@dataclass(frozen=True)
class DimensionConstants:
    """Per-layer ``rho`` and the noise-accounting sums and ratios (each labelled)."""

    names: tuple[str, ...]
    shapes: tuple[tuple[int, int], ...]
    norms: tuple[str, ...]
    rho: np.ndarray
    sigma: np.ndarray
    sum_rho_sigma: float
    sigma_max_sum_rho: float
    ratio_rho_weighted: float
    sum_sigma: float
    p_sigma_max: float
    ratio_unweighted: float
    labels: dict = field(default_factory=lambda: {
        "sum_rho_sigma": "sum_l rho_l sigma_l (layerwise noise accounting)",
        "sigma_max_sum_rho": "sigma_max * sum_l rho_l (uniform-noise accounting)",
        "ratio_rho_weighted": "sum_l rho_l sigma_l / (sigma_max sum_l rho_l)",
        "sum_sigma": "sum_l sigma_l (no rho, as reported by the LANTON paper)",
        "p_sigma_max": "p * sigma_max (no rho)",
        "ratio_unweighted": "sum_l sigma_l / (p sigma_max)",
    })

    @property
    def p(self) -> int:
        """Number of layers ``p = len(shapes)``."""
        return len(self.shapes)

    def text(self) -> str:
        """Plain-text summary (one labelled line per quantity)."""
        lines = [f"layers p = {self.p}; rho_l in [{self.rho.min():.6g}, {self.rho.max():.6g}]"]
        for key, label in self.labels.items():
            lines.append(f"{label}: {getattr(self, key):.6g}")
        return "\n".join(lines)


def dimension_constants(shapes, norms=None, sigmas=1.0) -> DimensionConstants:
    """``rho_l``, ``sum rho sigma`` vs ``sigma_max sum rho``, ``sum sigma`` vs ``p sigma_max``.

    Problem / Algorithm / Guarantee: see the module docstring.

    ``shapes``: a list of ``(d_out, d_in)`` tuples, a list of :class:`LayerSpec`, or a
    built-in model name (``"tinyllama_1.1b"``, ``"gpt2_small"``). ``norms``: one norm or
    preset name for all layers, or one per layer; default :data:`DEFAULT_ROLE_NORMS` by role
    for layer specs and ``"spectral"`` for bare shapes. ``sigmas``: per-layer noise levels
    (dual norm of each layer's noise; a scalar is broadcast).
    """
    if isinstance(shapes, str):
        shapes = model_layers(shapes)
    shapes = list(shapes)
    if not shapes:
        raise ValueError("shapes: expected at least one layer shape")
    specs = [item if isinstance(item, LayerSpec) else LayerSpec(f"layer{index}", tuple(item), "matrix")
             for index, item in enumerate(shapes)]
    if norms is None:
        norms = [DEFAULT_ROLE_NORMS.get(spec.role, "spectral") for spec in specs]
    elif isinstance(norms, str):
        norms = [norms] * len(specs)
    else:
        norms = list(norms)
        if len(norms) != len(specs):
            raise ValueError(f"norms: expected {len(specs)} names (one per layer) or one name, got {len(norms)}")
    rho = np.array([get_norm(norm, shape=spec.shape).constants()[2] for norm, spec in zip(norms, specs)])
    noise = check.layer_vector(sigmas, "sigmas", len(specs))
    sigma_max = float(np.max(noise))
    if sigma_max <= 0:
        raise ValueError("sigmas: at least one layer must have sigma > 0")
    sum_rho_sigma = float(np.sum(rho * noise))
    sigma_max_sum_rho = sigma_max * float(np.sum(rho))
    sum_sigma = float(np.sum(noise))
    p_sigma_max = len(specs) * sigma_max
    return DimensionConstants(
        names=tuple(spec.name for spec in specs),
        shapes=tuple(tuple(spec.shape) for spec in specs),
        norms=tuple(norms),
        rho=rho,
        sigma=noise,
        sum_rho_sigma=sum_rho_sigma,
        sigma_max_sum_rho=sigma_max_sum_rho,
        ratio_rho_weighted=sum_rho_sigma / sigma_max_sum_rho,
        sum_sigma=sum_sigma,
        p_sigma_max=p_sigma_max,
        ratio_unweighted=sum_sigma / p_sigma_max,
    )


__all__ = [
    "DEFAULT_ROLE_NORMS",
    "DimensionConstants",
    "LANTON_REPORTED_LLAMA_1B",
    "LayerSpec",
    "MODELS",
    "dimension_constants",
    "gpt2_small_layers",
    "llama_1b_layers",
    "model_layers",
]
