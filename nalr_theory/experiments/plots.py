"""Plots of the main job (matplotlib, no display needed): each figure as PNG and PDF."""

from __future__ import annotations

import os

import numpy as np

TERM_STYLES = {"initial_gap": ":", "g1": "-.", "curvature": (0, (3, 1, 1, 1)), "noise": "--"}


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(figure, out_dir: str, name: str) -> list[str]:
    paths = []
    for extension in ("png", "pdf"):
        path = os.path.join(out_dir, f"{name}.{extension}")
        figure.savefig(path, dpi=120, bbox_inches="tight")
        paths.append(path)
    return paths


def plot_rate(result, out_dir: str) -> list[str]:
    """Measured ``M(T)`` (mean, band: min-max over seeds) against the bound and its terms."""
    plt = _pyplot()
    curves = result.rate.curves
    columns = min(4, len(curves))
    rows = -(-len(curves) // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(4.2 * columns, 3.6 * rows), squeeze=False)
    for axis in axes.flat[len(curves):]:
        axis.set_visible(False)
    for axis, (label, curve) in zip(axes.flat, curves.items()):
        T = np.asarray(curve["T"], dtype=float)
        form = "plain" if "plain" in curve["M"] else next(iter(curve["M"]))
        M = np.asarray(curve["M"][form])
        axis.fill_between(T, np.nanmin(M, axis=1), np.nanmax(M, axis=1), alpha=0.25, label="seeds (min-max)")
        axis.plot(T, np.nanmean(M, axis=1), "o-", label=f"measured M ({form})")
        if form in curve["bound"]:
            axis.plot(T, curve["bound"][form], "k-", label="bound")
            for name, style in TERM_STYLES.items():
                axis.plot(T, [terms[name] for terms in curve["terms"][form]], color="grey", linestyle=style,
                          label=f"term: {name}")
            axis.plot(T, curve["bound"][form][0] * (T / T[0]) ** -0.25, color="tab:red", alpha=0.4,
                      label="T^(-1/4)")
        axis.set_xscale("log", base=2)
        axis.set_yscale("log")
        axis.set_title(label, fontsize=10)
        axis.set_xlabel("T")
    for row in axes:
        row[0].set_ylabel("average stationarity")
    axes[0][0].legend(fontsize=7, loc="lower left")
    figure.tight_layout()
    paths = _save(figure, out_dir, "rate_check")
    plt.close(figure)
    return paths


def plot_weights(result, out_dir: str) -> list[str]:
    """LANTON's per-layer weights over time (mean over seeds, longest horizon)."""
    plt = _pyplot()
    figure, axes = plt.subplots(1, 2, figsize=(9, 3.5))
    for axis, label in zip(axes, ("lanton", "lanton_oracle")):
        weights = result.rate.curves.get(label, {}).get("weights")
        if weights is None:
            axis.set_visible(False)
            continue
        values = np.asarray(weights["mean"])
        for l in range(values.shape[1]):
            axis.plot(weights["steps"], values[:, l], label=f"layer {l + 1}")
        axis.set_title(f"{label}: weights w_t^l")
        axis.set_xlabel("step t")
        axis.set_ylim(0, 1.05)
    axes[0].legend(fontsize=8)
    figure.tight_layout()
    paths = _save(figure, out_dir, "weights")
    plt.close(figure)
    return paths


def _line_panels(out_dir: str, name: str, panels: dict, ylabel: str, *, logx: bool = False,
                 reference_line: float | None = None, width: float = 4.2) -> list[str]:
    """One row of panels ``{title: [(x, y, label, linewidth)]}`` on a log ``y`` axis, saved."""
    plt = _pyplot()
    figure, axes = plt.subplots(1, len(panels), figsize=(width * len(panels), 3.6), squeeze=False,
                                sharey=reference_line is not None)
    for axis, (title, lines) in zip(axes[0], panels.items()):
        for x, y, label, linewidth in lines:
            axis.plot(x, y, label=label, linewidth=linewidth)
        if reference_line is not None:
            axis.axhline(reference_line, color="k", linewidth=0.8)
        if logx:
            axis.set_xscale("log", base=2)
        axis.set_yscale("log")
        axis.set_title(title, fontsize=9)
        axis.set_xlabel("step t")
    axes[0][0].set_ylabel(ylabel)
    axes[0][-1].legend(fontsize=7)
    figure.tight_layout()
    paths = _save(figure, out_dir, name)
    plt.close(figure)
    return paths


def plot_comparison(result, out_dir: str) -> list[str]:
    """``f(X_t)`` of each tuned method per scenario (mean over the evaluation seeds)."""
    panels = {name: [(method["curve"]["steps"], method["curve"]["f"], label,
                      2.2 if label in (comparison.contender, comparison.reference) else 1.0)
                     for label, method in comparison.methods.items()]
              for name, comparison in result.comparisons.items()}
    return _line_panels(out_dir, "comparison", panels, "f (mean over fresh seeds)")


def plot_estimators(result, out_dir: str) -> list[str]:
    """Each estimator's ``H_t^l / E||xi^l||_*^2`` over time, one line per layer."""
    check = result.estimators
    if check is None:
        return []
    panels = {estimator: [(check.steps, ratio[:, l], f"layer {l + 1}", 1.5) for l in range(ratio.shape[1])]
              for estimator, ratio in check.ratio.items()}
    return _line_panels(out_dir, "estimators", panels, "H_t / true squared noise", logx=True,
                        reference_line=1.0, width=3.6)


def plot_all(result, out_dir: str) -> list[str]:
    """Every plot of the main job (rate check, weights, estimators, comparison) as PNG and
    PDF in ``out_dir``; returns the paths written."""
    return (plot_rate(result, out_dir) + plot_weights(result, out_dir) + plot_estimators(result, out_dir)
            + plot_comparison(result, out_dir))
