"""Small instances of every family, shared by the problem tests (fast to compile and run)."""

from __future__ import annotations

from nalr_theory import problems
from nalr_theory.problems import noise

# One layer per norm preset of GEOMETRY.md (and the vector aliases).
PRESET_SHAPES = (
    ((4, 3), "spectral"), ((3, 3), "frobenius"), ((2, 5), "max_abs"), ((4, 2), "col_norm"),
    ((3, 4), "row_norm"), ((5, 3), "rms_to_rms"), ((3, 5), "muon"), ((4, 4), "dmuon"), ((3, 6), "sign"),
    ((5, 2), "colnorm"), ((2, 4), "rownorm"), ((5, 1), "l2"), ((4, 1), "linf"),
)


def all_presets(noise_model=None, **options):
    """A sigmoidal problem with one layer in each norm preset."""
    shapes = [shape for shape, _ in PRESET_SHAPES]
    norms = [norm for _, norm in PRESET_SHAPES]
    return problems.get("sigmoidal", shapes=shapes, norms=norms, noise=noise_model, **options)


def small(name, noise_model=None):
    """A small instance of family ``name`` (``noise_model`` None = the family default)."""
    extra = {} if noise_model is None else {"noise": noise_model}
    if name == "sigmoidal":
        return problems.get("sigmoidal", shapes=[(4, 3), (3, 5), (6, 6)], norms=["spectral", "sign", "dmuon"],
                            curvature=[1.0, 0.5, 2.0], **extra)
    if name == "low_rank":
        return problems.get("low_rank", pairs=[(5, 4, 2), (4, 3, 1)], **extra)
    if name == "deep_linear":
        return problems.get("deep_linear", widths=(3, 4, 3, 2), samples=16, **extra)
    if name == "teacher_student":
        extra.setdefault("noise", noise.minibatch(4))
        return problems.get("teacher_student", input_dim=3, hidden=5, output_dim=2, teacher_hidden=3, samples=32,
                            **extra)
    if name == "token_model":
        extra.setdefault("noise", noise.minibatch(6))
        return problems.get("token_model", vocab=5, width=4, hidden_layers=1, sequences=4, sequence_length=9,
                            **extra)
    if name == "random_features":
        return problems.get("random_features", d_out=3, d_in=5, samples=16, **extra)
    raise KeyError(name)


FAMILIES = ("sigmoidal", "low_rank", "deep_linear", "teacher_student", "token_model", "random_features")


def random_like(problem, rng, scale=1.0):
    return {name: scale * rng.standard_normal(shape) for name, shape in zip(problem.names, problem.layout.shapes)}
