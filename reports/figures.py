"""The report's figures, drawn with Matplotlib's object API on the Agg canvas (no pyplot, no
global backend switch) and saved as deterministic PNGs (no Software/date metadata).

Every figure has a title, axis labels and a legend where more than one series is
drawn; sizes are chosen for display at 100 dpi at most ~1000 px wide.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.ticker import NullLocator
from numpy.typing import NDArray

from weight_init.reports.experiments import ExperimentResult
from weight_init.reports.phase_diagram import PhaseDiagram

DPI = 100
EXP_STYLE: dict[str, Any] = {"marker": "o", "linestyle": "-", "linewidth": 1.5, "markersize": 5}
THEORY_STYLE: dict[str, Any] = {"linestyle": "--", "linewidth": 1.5, "color": "black"}
#: Log scale when the positive values span more than this ratio.
LOG_SPAN = 100.0


def new_figure(
    width: float,
    height: float,
    *,
    left: float = 0.8,
    right: float = 0.2,
    bottom: float = 0.6,
    top: float = 0.7,
    wspace: float = 0.25,
    hspace: float = 0.35,
) -> Figure:
    """A white figure on an Agg canvas with fixed margins in inches (a fixed layout renders
    in half the time of Matplotlib's constrained layout)."""
    fig = Figure(figsize=(width, height), dpi=DPI)
    FigureCanvasAgg(fig)
    fig.set_facecolor("white")
    fig.subplots_adjust(
        left=left / width,
        right=1 - right / width,
        bottom=bottom / height,
        top=1 - top / height,
        wspace=wspace,
        hspace=hspace,
    )
    return fig


def save(fig: Figure, path: Path) -> None:
    """Write ``fig`` as a PNG whose bytes depend only on its content."""
    fig.savefig(path, format="png", dpi=DPI, metadata={"Software": None})


def _positive(values: Sequence[float | None]) -> list[float]:
    return [v for v in values if v is not None and v > 0 and math.isfinite(v)]


def _autoscale(ax: Axes, *series: Sequence[float | None]) -> bool:
    """Log y when the positive values span > LOG_SPAN; returns whether it did."""
    pos = [v for s in series for v in _positive(s)]
    if pos and max(pos) / min(pos) > LOG_SPAN:
        ax.set_yscale("log")
        return True
    return False


def _masked(values: Sequence[float | None], log: bool) -> list[float]:
    """NaN where a value cannot be drawn (None, or <= 0 on a log axis)."""
    return [
        math.nan if v is None or (log and v <= 0) or not math.isfinite(v) else float(v)
        for v in values
    ]


def _layer_axis(ax: Axes, depth: int) -> None:
    ax.set_xlabel("layer")
    step = max(1, math.ceil(depth / 10))
    ax.set_xticks(range(1, depth + 1, step))
    ax.grid(True, alpha=0.3)


def _measured_vs_theory(
    ax: Axes,
    layers: Sequence[int],
    measured: Sequence[float],
    theory: Sequence[float | None],
    *,
    color: str,
    ylabel: str,
    title: str,
    allow_log: bool = True,
    nonnegative: bool = True,
) -> None:
    """Measured markers and the theory dashed; a non-negative quantity on a linear axis
    starts at 0 so that a flat series looks flat."""
    log = allow_log and _autoscale(ax, measured, theory)
    ax.plot(layers, _masked(measured, log), color=color, label="measured", **EXP_STYLE)
    if any(t is not None for t in theory):
        ax.plot(layers, _masked(theory, log), label="mean-field theory", **THEORY_STYLE)
    if log and len(_positive(measured)) < len(measured):
        ax.text(0.02, 0.03, "zeros not drawn (log scale)", transform=ax.transAxes, fontsize=8)
    if not _positive(measured) and not _positive(theory):
        ax.text(0.5, 0.72, "identically 0", transform=ax.transAxes, ha="center", fontsize=11)
    if nonnegative and not log:
        ax.set_ylim(bottom=0.0, top=max(ax.get_ylim()[1], 1e-12))
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(loc="best", fontsize=9)
    _layer_axis(ax, len(layers))


def experiment_layers(result: ExperimentResult, path: Path) -> None:
    """2 x 2: the seed's first figure (layer mean, layer std) with the theory overlaid, and
    below it the gradients by layer (std of dL/dZ, ||dL/dW||_F), measured vs mean field."""
    fig = new_figure(10, 6.4, top=0.75, hspace=0.5)
    (ax1, ax2), (ax3, ax4) = fig.subplots(2, 2)
    layers = [layer.layer for layer in result.layers]
    rows = result.layers
    _measured_vs_theory(
        ax1,
        layers,
        [r.mean for r in rows],
        [r.theory_mean for r in rows],
        color="tab:blue",
        ylabel="mean of activations",
        title="layer mean",
        allow_log=False,
        nonnegative=False,
    )
    _measured_vs_theory(
        ax2,
        layers,
        [r.std for r in rows],
        [r.theory_std for r in rows],
        color="tab:red",
        ylabel="std of activations",
        title="layer std",
    )
    _measured_vs_theory(
        ax3,
        layers,
        [r.preact_grad_std for r in rows],
        [r.theory_preact_grad_std for r in rows],
        color="tab:green",
        ylabel="std of dL/dZ",
        title="pre-activation gradient (L = sum(G * H_L))",
    )
    _measured_vs_theory(
        ax4,
        layers,
        [r.weight_grad_norm for r in rows],
        [r.theory_weight_grad_norm for r in rows],
        color="tab:purple",
        ylabel="||dL/dW||_F",
        title="weight gradient norm",
    )
    fig.suptitle(
        f"{result.spec.label}: {result.depth} layers of {result.width}, "
        f"{result.samples} x {result.input_dim} input; G ~ N(0, 1/m^2)"
    )
    save(fig, path)


def _hist_layers(depth: int, most: int = 20) -> list[int]:
    """0-based layers to draw: all when ``depth <= most``, else ``most`` evenly spaced."""
    if depth <= most:
        return list(range(depth))
    return sorted({round(i * (depth - 1) / (most - 1)) for i in range(most)})


def experiment_histograms(result: ExperimentResult, path: Path) -> None:
    """The seed's second figure: a histogram of every layer's activations."""
    show = _hist_layers(result.depth)
    ncols = min(len(show), 10)
    nrows = math.ceil(len(show) / ncols)
    height = 0.9 + 1.9 * nrows
    fig = new_figure(10, height, left=0.35, right=0.25, bottom=0.55, top=0.6, hspace=0.45)
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel()
    for ax, li in zip(axes, show, strict=False):
        h = result.layers[li].histogram
        edges = np.asarray(h.edges)
        ax.stairs(h.counts, edges, fill=True, color="tab:blue", alpha=0.85)
        ax.set_title(f"layer {li + 1}", fontsize=9)
        ax.set_xlim(edges[0], edges[-1])
        ax.set_xticks([edges[0], edges[-1]], [f"{edges[0]:.2g}", f"{edges[-1]:.2g}"])
        ax.tick_params(labelsize=7)
        ax.set_yticks([])
        if not h.zeros_binned:
            ax.text(
                0.95,
                0.95,
                f"{100 * h.zero_fraction:.0f}% = 0\n(not binned)",
                transform=ax.transAxes,
                ha="right",
                va="top",
                fontsize=7,
            )
    for ax in axes[len(show) :]:
        ax.set_visible(False)
    fig.supxlabel("activation value", fontsize=9, y=0.02)
    fig.supylabel("count", fontsize=9, x=0.01)
    fig.suptitle(
        f"{result.spec.label}: activation histograms "
        f"({len(result.layers[0].histogram.counts)} bins per layer)",
        fontsize=11,
    )
    save(fig, path)


def overview_std(results: Sequence[ExperimentResult], path: Path) -> None:
    """Every experiment's layer std on one log axis, theory dashed."""
    fig = new_figure(10, 4.6, right=2.9, top=0.45)
    ax = fig.subplots()
    ax.set_yscale("log")
    colors = [f"C{i}" for i in range(10)]
    flat: list[str] = []
    for i, r in enumerate(results):
        layers = [layer.layer for layer in r.layers]
        measured = [layer.std for layer in r.layers]
        if not _positive(measured):
            flat.append(r.spec.label)
            continue
        c = colors[i % len(colors)]
        ax.plot(layers, _masked(measured, True), color=c, label=r.spec.label, **EXP_STYLE)
        theory = [layer.theory_std for layer in r.layers]
        if any(t is not None for t in theory):
            ax.plot(layers, _masked(theory, True), color=c, linestyle="--", linewidth=1.2)
    ax.plot([], [], **THEORY_STYLE, label="mean-field theory (dashed)")
    if flat:
        ax.plot([], [], " ", label="identically 0: " + ", ".join(flat))
    ax.set_ylabel("std of activations (log)")
    ax.set_title("Activation std by layer: measured (markers) and mean-field theory (dashed)")
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=9)
    depth = max((r.depth for r in results), default=1)
    _layer_axis(ax, depth)
    save(fig, path)


def _edges(values: Sequence[float], log: bool) -> NDArray[np.float64]:
    v = np.asarray(values, dtype=np.float64)
    if len(v) == 1:
        return np.array([v[0] * 0.9, v[0] * 1.1]) if log else np.array([v[0] - 0.5, v[0] + 0.5])
    if log:
        lv = np.log(v)
        mids = (lv[1:] + lv[:-1]) / 2
        return np.exp(np.concatenate([[2 * lv[0] - mids[0]], mids, [2 * lv[-1] - mids[-1]]]))
    mids = (v[1:] + v[:-1]) / 2
    return np.concatenate([[2 * v[0] - mids[0]], mids, [2 * v[-1] - mids[-1]]])


def _sigma_axis(ax: Axes, sigmas: Sequence[float]) -> None:
    """Log x axis with plain ticks at the powers of 2 inside the grid."""
    ax.set_xscale("log")
    lo, hi = min(sigmas), max(sigmas)
    ticks = [2.0**k for k in range(-10, 11) if lo * 0.999 <= 2.0**k <= hi * 1.001]
    ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
    ax.xaxis.set_minor_locator(NullLocator())


def _mark_lines(ax: Axes, pd: PhaseDiagram, legend: bool) -> None:
    ax.axvline(
        pd.xavier_sigma, color="white", linestyle="-", linewidth=2.5, label="Xavier, sigma_w = 1"
    )
    ax.axvline(
        pd.boundary_sigma,
        color="red",
        linestyle="--",
        linewidth=1.8,
        label=f"order/chaos, chi_1 = 1 (sigma_w = {pd.boundary_sigma:.3f})",
    )
    if legend:
        ax.legend(loc="upper left", fontsize=8, framealpha=0.85)


def phase_heatmaps(pd: PhaseDiagram, path: Path) -> None:
    """2 x 2: final-layer std and saturated fraction, experiment beside theory."""
    fig = new_figure(10, 7.4, right=0.85, hspace=0.18, wspace=0.08)
    axes = fig.subplots(2, 2, sharex=True, sharey=True)
    xe = _edges(pd.sigmas, True)
    ye = _edges([float(d) for d in pd.depths], False)
    rows = (
        ("std of activations", pd.std, pd.theory_std, "viridis"),
        (f"fraction |h| > {pd.threshold:g}", pd.saturated, pd.theory_saturated, "magma"),
    )
    for r, (label, measured, theory, cmap) in enumerate(rows):
        vmax = max(max(map(max, measured)), max(map(max, theory)), 1e-12)
        norm = Normalize(vmin=0.0, vmax=vmax)
        mesh = None
        for c, (what, data) in enumerate((("experiment", measured), ("theory", theory))):
            ax = axes[r, c]
            mesh = ax.pcolormesh(xe, ye, np.asarray(data).T, cmap=cmap, norm=norm, shading="flat")
            _sigma_axis(ax, pd.sigmas)
            ax.set_title(f"{label}: {what}", fontsize=10)
            _mark_lines(ax, pd, legend=(r == 0 and c == 0))
            if r == 1:
                ax.set_xlabel("sigma_w  (Var[W] = sigma_w^2 / fan_in)")
            if c == 0:
                ax.set_ylabel("depth (layer)")
        assert mesh is not None
        fig.colorbar(mesh, ax=list(axes[r, :]), label=label, fraction=0.04, pad=0.02)
    cfg = pd.config
    fig.suptitle(
        f"tanh phase diagram: width {cfg.width}, {cfg.samples} samples, no bias, "
        f"{len(pd.sigmas)} x {cfg.depth} grid"
    )
    save(fig, path)


def phase_slices(pd: PhaseDiagram, path: Path) -> None:
    """Layer std against sigma_w at a few depths: markers measured, lines theory."""
    fig = new_figure(10, 3.8, top=0.4)
    ax1, ax2 = fig.subplots(1, 2)
    depth = pd.config.depth
    picks = sorted({1, min(3, depth), min(10, depth), depth})
    for k, d in enumerate(picks):
        c = f"C{k}"
        for ax, meas, theo in (
            (ax1, pd.std, pd.theory_std),
            (ax2, pd.saturated, pd.theory_saturated),
        ):
            ax.plot(
                pd.sigmas,
                [row[d - 1] for row in meas],
                "o",
                color=c,
                markersize=5,
                label=f"depth {d} measured",
            )
            ax.plot(
                pd.sigmas,
                [row[d - 1] for row in theo],
                "-",
                color=c,
                linewidth=1.3,
                label=f"depth {d} theory",
            )
    for ax, ylabel in ((ax1, "std of activations"), (ax2, f"fraction |h| > {pd.threshold:g}")):
        _sigma_axis(ax, pd.sigmas)
        ax.axvline(pd.boundary_sigma, color="red", linestyle="--", linewidth=1.2)
        ax.set_xlabel("sigma_w")
        ax.set_ylabel(ylabel)
        ax.grid(True, alpha=0.3)
    ax1.set_title("std by sigma_w (red: Xavier = order/chaos)")
    ax2.set_title("saturated fraction by sigma_w")
    top = max(max(map(max, pd.std)), max(map(max, pd.theory_std)))
    ax1.set_ylim(0.0, 1.4 * top + 1e-12)  # room for the legend above the curves
    ax1.legend(fontsize=7, ncol=2, loc="upper left")
    save(fig, path)


def qq_plot(
    theory: Sequence[float], sample: Sequence[float], title: str, xlabel: str, path: Path
) -> None:
    """Sample quantiles against the target law's, with the identity line."""
    fig = new_figure(5.2, 4.6, top=0.4)
    ax = fig.subplots()
    t = np.asarray(theory, dtype=np.float64)
    s = np.asarray(sample, dtype=np.float64)
    lo = float(min(t.min(), s.min()))
    hi = float(max(t.max(), s.max()))
    ax.plot([lo, hi], [lo, hi], **THEORY_STYLE, label="y = x (conforming)")
    ax.plot(t, s, "o", markersize=3, color="tab:blue", label="standardized weights")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("sample quantile (w / rule std)")
    ax.set_title(title, fontsize=10)
    ax.legend(loc="upper left", fontsize=9)
    ax.grid(True, alpha=0.3)
    save(fig, path)
