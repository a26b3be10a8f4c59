"""The experiments' figures (layers, histograms, the overview) and the conformance QQ plot.

Each ``*_figure`` function returns a drawn :class:`~matplotlib.figure.Figure` (style
and canvas: :mod:`weight_init.reports._figure_style`); the functions named without it
draw and save to a path. Every figure has a title, axis labels and a legend where
more than one series is drawn; legends sit outside the data (a figure legend under
the title, or beside the axes); series that would hide one another differ in marker
and line style, and the legend says when two coincide.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from weight_init.reports._experiments import ExperimentResult
from weight_init.reports._figure_style import (
    EXP_STYLE,
    THEORY_STYLE,
    autoscale,
    coincide,
    layer_axis,
    masked,
    new_figure,
    positive,
    power_of_ten,
    save,
    series_style,
    title,
)

#: Colour of the measured series in the layers figure (one legend serves all panels).
MEASURED_COLOR = "tab:blue"


def _measured_vs_theory(
    ax: Axes,
    layers: Sequence[int],
    measured: Sequence[float],
    theory: Sequence[float | None],
    *,
    ylabel: str,
    heading: str,
    allow_log: bool = True,
    nonnegative: bool = True,
) -> None:
    """Measured markers and the theory dashed. On a linear axis, values far from 1 are
    drawn in units of ``10^k`` (said in the y label; no offset text to collide with the
    title), a non-negative quantity starts at 0 so that a flat series looks flat, and
    the top leaves 8% headroom so that no marker sits on the frame."""
    log = allow_log and autoscale(ax, measured, theory)
    k = 0 if log else power_of_ten(measured, theory)
    scale = 10.0**k
    ax.plot(layers, masked(measured, log, scale), color=MEASURED_COLOR, **EXP_STYLE)
    if any(t is not None for t in theory):
        ax.plot(layers, masked(theory, log, scale), **THEORY_STYLE)
    if log and len(positive(measured)) < len(measured):
        ax.text(0.02, 0.03, "zeros not drawn (log scale)", transform=ax.transAxes, fontsize=8)
    if not positive(measured) and not positive(theory):
        ax.text(0.5, 0.72, "identically 0", transform=ax.transAxes, ha="center", fontsize=11)
    if not log:
        ax.ticklabel_format(axis="y", useOffset=False)
        lo, hi = ax.get_ylim()
        bottom = 0.0 if nonnegative else lo
        ax.set_ylim(bottom=bottom, top=max(hi + 0.08 * (hi - bottom), 1e-12))
    ax.set_ylabel(ylabel + (f" (x 1e{k})" if k else ""))
    title(ax, heading)
    layer_axis(ax, len(layers))


def layers_figure(result: ExperimentResult) -> Figure:
    """2 x 2: the notes' first figure (layer mean, layer std) with the theory overlaid, and
    below it the gradients by layer (std of dL/dZ, ||dL/dW||_F), measured vs mean field."""
    fig = new_figure(10, 6.6, left=0.95, top=0.95, hspace=0.5)
    (ax1, ax2), (ax3, ax4) = fig.subplots(2, 2)
    layers = [layer.layer for layer in result.layers]
    rows = result.layers
    panels = (
        (
            ax1,
            [r.mean for r in rows],
            [r.theory_mean for r in rows],
            "mean of activations",
            "layer mean",
            False,
            False,
        ),
        (
            ax2,
            [r.std for r in rows],
            [r.theory_std for r in rows],
            "std of activations",
            "layer std",
            True,
            True,
        ),
        (
            ax3,
            [r.preact_grad_std for r in rows],
            [r.theory_preact_grad_std for r in rows],
            "std of dL/dZ",
            "pre-activation gradient (L = sum(G * H_L))",
            True,
            True,
        ),
        (
            ax4,
            [r.weight_grad_norm for r in rows],
            [r.theory_weight_grad_norm for r in rows],
            "||dL/dW||_F",
            "weight gradient norm",
            True,
            True,
        ),
    )
    for ax, measured, theory, ylabel, heading, allow_log, nonneg in panels:
        _measured_vs_theory(
            ax,
            layers,
            measured,
            theory,
            ylabel=ylabel,
            heading=heading,
            allow_log=allow_log,
            nonnegative=nonneg,
        )
    handles = [Line2D([], [], color=MEASURED_COLOR, **EXP_STYLE)]
    labels = ["measured"]
    if any(r.theory_std is not None for r in rows):
        handles.append(Line2D([], [], **THEORY_STYLE))
        labels.append("mean-field theory")
    fig.legend(
        handles,
        labels,
        loc="upper center",
        bbox_to_anchor=(0.5, 1 - 0.42 / 6.6),
        ncol=2,
        fontsize=9,
        frameon=False,
    )
    fig.suptitle(
        f"{result.spec.label}: {result.depth} layers of {result.width}, "
        f"{result.samples} x {result.input_dim} input; G ~ N(0, 1/m^2)",
        y=1 - 0.12 / 6.6,
    )
    return fig


def _hist_layers(depth: int, most: int = 20) -> list[int]:
    """0-based layers to draw: all when ``depth <= most``, else ``most`` evenly spaced."""
    if depth <= most:
        return list(range(depth))
    return sorted({round(i * (depth - 1) / (most - 1)) for i in range(most)})


#: Fraction of a histogram's range left empty beyond each end of its bins.
HIST_MARGIN = 0.04


def histograms_figure(result: ExperimentResult) -> Figure:
    """The notes' second figure: a histogram of every layer's activations (one range for all
    layers; its end values label each panel's ends, aligned inside the panel)."""
    show = _hist_layers(result.depth)
    ncols = min(len(show), 10)
    nrows = math.ceil(len(show) / ncols)
    height = 0.9 + 1.9 * nrows
    fig = new_figure(
        10, height, left=0.35, right=0.25, bottom=0.55, top=0.6, hspace=0.45, wspace=0.3
    )
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel()
    for ax, li in zip(axes, show, strict=False):
        h = result.layers[li].histogram
        edges = np.asarray(h.edges)
        ax.stairs(h.counts, edges, fill=True, color="tab:blue", alpha=0.85)
        title(ax, f"layer {li + 1}", fontsize=9)
        # a margin of HIST_MARGIN of the range each side: a bin at either end (all of a
        # vanishing layer's mass in the bin at 0) stands clear of the axis, not under it
        pad = HIST_MARGIN * (edges[-1] - edges[0])
        ax.set_xlim(edges[0] - pad, edges[-1] + pad)
        ax.set_xticks([edges[0], edges[-1]], [f"{edges[0]:.2g}", f"{edges[-1]:.2g}"])
        ax.tick_params(labelsize=7)
        for label, ha in zip(ax.get_xticklabels(), ("left", "right"), strict=True):
            label.set_horizontalalignment(ha)
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
    return fig


def _overview_labels(results: Sequence[ExperimentResult], drawn: list[int]) -> list[str]:
    """Legend labels; a series that coincides with an earlier drawn one says so."""
    labels = []
    for n, i in enumerate(drawn):
        r = results[i]
        label = r.spec.label
        same = [
            results[j].spec.label
            for j in drawn[:n]
            if coincide([x.std for x in r.layers], [x.std for x in results[j].layers])
        ]
        if same:
            label += f"\n  (coincides with {same[0]})"
        labels.append(label)
    return labels


def overview_figure(results: Sequence[ExperimentResult]) -> Figure:
    """Every experiment's layer std on one log axis, theory dashed (same colour)."""
    fig = new_figure(10, 4.8, right=3.1, top=0.45)
    ax = fig.subplots()
    ax.set_yscale("log")
    flat = [r.spec.label for r in results if not positive([x.std for x in r.layers])]
    drawn = [i for i, r in enumerate(results) if positive([x.std for x in r.layers])]
    labels = _overview_labels(results, drawn)
    for n, (i, label) in enumerate(zip(drawn, labels, strict=True)):
        r = results[i]
        layers = [layer.layer for layer in r.layers]
        style = series_style(n)
        if "coincides" in label:  # large hollow markers around the series it would hide
            style.update(markersize=9, markerfacecolor="none", markeredgewidth=1.3)
        ax.plot(layers, masked([x.std for x in r.layers], True), label=label, zorder=3 + n, **style)
        theory = [layer.theory_std for layer in r.layers]
        if any(t is not None for t in theory):
            ax.plot(
                layers,
                masked(theory, True),
                color=style["color"],
                linestyle="--",
                linewidth=1.0,
                zorder=2,
            )
    ax.plot([], [], **THEORY_STYLE, label="mean-field theory (dashed)")
    if flat:
        ax.plot([], [], " ", label="identically 0: " + ", ".join(flat))
    ax.set_ylabel("std of activations (log)")
    title(ax, "Activation std by layer: measured (markers) and mean-field theory (dashed)")
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8.5)
    depth = max((r.depth for r in results), default=1)
    layer_axis(ax, depth)
    return fig


def qq_figure(
    theory: Sequence[float], sample: Sequence[float], heading: str, xlabel: str
) -> Figure:
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
    title(ax, heading, fontsize=10)
    ax.legend(loc="upper left", fontsize=9)
    ax.grid(True, alpha=0.3)
    return fig


def experiment_layers(result: ExperimentResult, path: Path) -> None:
    save(layers_figure(result), path)


def experiment_histograms(result: ExperimentResult, path: Path) -> None:
    save(histograms_figure(result), path)


def overview_std(results: Sequence[ExperimentResult], path: Path) -> None:
    save(overview_figure(results), path)


def qq_plot(
    theory: Sequence[float], sample: Sequence[float], heading: str, xlabel: str, path: Path
) -> None:
    save(qq_figure(theory, sample, heading, xlabel), path)
