"""The report as a list of blocks (headings, paragraphs, figures, tables), rendered by
:mod:`weight_init.reports._markdown` and :mod:`weight_init.reports._html`.

(About 550 lines: the block types and the short functions that lay out each section of the
report, in reading order; they share the number formatting and read best in sequence.)

Paragraph text may use `backticks` for code; renderers translate it.
"""

from __future__ import annotations

import math
import shlex
from typing import TYPE_CHECKING

from weight_init.reports._blocks import Block, Heading, Image, Para, Table
from weight_init.reports._build import Report
from weight_init.reports._config import DEFAULT_EXPERIMENTS, PhaseConfig, ReportConfig
from weight_init.reports._experiments import ExperimentResult
from weight_init.reports._gallery import Gallery
from weight_init.reports._summary import versions

if TYPE_CHECKING:
    from weight_init.reports._audits import AuditSection
    from weight_init.reports._checks import CheckSection


def num(x: float | None, digits: int = 4) -> str:
    if x is None:
        return "-"
    if isinstance(x, float) and not math.isfinite(x):
        return str(x)
    return f"{x:.{digits}g}"


def rel_error(measured: float, theory: float | None) -> float | None:
    if theory is None or theory == 0.0:
        return None
    return abs(measured / theory - 1.0)


def max_std_error(r: ExperimentResult) -> float | None:
    """Largest ``|std / theory_std - 1|`` over the layers whose theory std is non-zero."""
    errs = [rel_error(layer.std, layer.theory_std) for layer in r.layers]
    vals = [e for e in errs if e is not None]
    return max(vals) if vals else None


def command_line(config: ReportConfig) -> str:
    """A ``weight-init report`` command that reproduces ``config`` (formats and --out aside)."""
    args = ["weight-init", "report"]
    if config.experiments != DEFAULT_EXPERIMENTS:
        args += ["--schemes", ",".join(f"{e.scheme}:{e.activation}" for e in config.experiments)]
    defaults = ReportConfig()
    for flag, value, default in (
        ("--depth", config.depth, defaults.depth),
        ("--width", config.width, defaults.width),
        ("--samples", config.samples, defaults.samples),
        ("--input-dim", config.input_dim, defaults.input_dim),
        ("--seed", config.seed, defaults.seed),
    ):
        if value != default:
            args += [flag, str(value)]
    p, dp = config.phase, PhaseConfig()
    if p is None:
        args.append("--no-phase")
    else:
        for flag, value, default in (
            ("--phase-sigmas", p.n_sigma, dp.n_sigma),
            ("--phase-depth", p.depth, dp.depth),
            ("--phase-width", p.width, dp.width),
            ("--phase-samples", p.samples, dp.samples),
        ):
            if value != default:
                args += [flag, str(value)]
    if not config.suite:
        args.append("--no-suite")
    for c in config.checks:
        args += ["--check", f"{c.spec}={c.scheme}"]
    for a in config.audits:
        args += ["--audit", a.spec]
    if config.audits:  # the command line gives every audit the same rules and builds
        first = config.audits[0]
        for rule in first.expect:
            args += ["--expect", rule]
        if first.builds is not None:
            args += ["--audit-builds", str(first.builds)]
    if config.check_alpha != defaults.check_alpha:
        args += ["--check-alpha", f"{config.check_alpha:g}"]
    return shlex.join(args)


#: (heading, purpose) of each top-level section a report may hold, in the order shown.
SECTIONS: tuple[tuple[str, str], ...] = (
    (
        "Experiments",
        "the notes' experiments reproduced: which schemes keep the signal alive "
        "through depth, which kill it (vanishing) or saturate it, and whether "
        "theory predicts the numbers; gradients show the same story backwards",
    ),
    (
        "Phase diagram",
        "the whole weight-scale axis at once under tanh: where the signal "
        "dies, where it saturates, and that the notes' Xavier sits exactly on "
        "the order/chaos boundary",
    ),
    (
        "Property verdicts",
        "the notes' claims as statistical tests with stated p-values and Holm-corrected thresholds",
    ),
    (
        "Conformance",
        "(with `--check`) does an initializer under test draw what its scheme "
        "says: QQ plot, fitted fan rule, test table",
    ),
    (
        "Model audit",
        "(with `--audit`) what every parameter of a torch model got at "
        "initialization: identified family and fan rule, closest scheme, and a "
        "verdict against `--expect` rules or the layer's documented default",
    ),
    (
        "Signal propagation",
        "(with `--propagate`) every operation's output and gradient through a model's graph, "
        "measured and predicted by mean-field rules",
    ),
)


def section_rows(report: Report) -> list[list[str]]:
    """The rows of the intro's section table: only the sections this report holds."""
    present = {
        "Experiments": bool(report.experiments),
        "Phase diagram": report.phase is not None,
        "Property verdicts": bool(report.verdicts),
        "Conformance": bool(report.checks),
        "Model audit": bool(report.audits),
        "Signal propagation": bool(report.propagations),
    }
    return [[name, what] for name, what in SECTIONS if present[name]]


def _intro(report: Report) -> list[Block]:
    c = report.config
    blocks: list[Block] = [
        Heading(1, "weight-init report", "top"),
        Para(
            "What weight initialization does to a deep network, measured and predicted. "
            f"Each experiment propagates a {c.samples} x {c.input_dim} standard-normal input "
            f"through {c.depth} bias-free layers of {c.width} units (the notes' network), "
            "records every layer's activation mean, std, saturated fraction and histogram, "
            "runs the backward pass, and sets the mean-field prediction "
            "(`weight_init.theory.predict`, infinite width) beside each measurement. "
            f"Everything is drawn from seed {c.seed}: the same command gives the same "
            "`summary.json`, byte for byte."
        ),
        Para("Sections:"),
        Table(["section", "what it is for"], section_rows(report)),
        Para(f"Reproduce: `{command_line(c)}`"),
    ]
    return blocks


def _experiments(report: Report, gallery: Gallery | None) -> list[Block]:
    c = report.config
    blocks: list[Block] = [
        Heading(2, "Experiments", "experiments"),
        Para(
            "Per-layer statistics are those of `weight_init.experiment.forward_prop` (population "
            "std over all samples and units). Theory is the mean-field recursion "
            "q_l = n_{l-1} Var[W] E[phi(sqrt(q_{l-1}) z)^2] (exact as width -> infinity); "
            "at width "
            f"{c.width} one drawn network deviates from it by a random factor whose spread "
            "grows with depth / width: small under tanh, whose contraction towards its "
            "fixed point damps the fluctuations, visible under ReLU, where each layer's gain "
            "multiplies a random walk with no restoring force (the theory is the average "
            "over networks; change `--seed` to see the scatter). Gradients come "
            "from a linear read-out L = sum(G * H_L) with G ~ N(0, 1)/m, so they show how "
            "gradients propagate independent of the output's scale; their theory is the "
            "gradient-independence recursion E[delta_{l-1}^2] = n_l Var[W] E[delta_l^2] "
            "E[phi'(z_{l-1})^2]. Every experiment uses the same seed, hence the same input "
            "and, for the normal schemes, the same standard-normal draws scaled by each "
            "scheme (common random numbers): differences between schemes are the schemes', "
            "not the draws' (e.g. "
            "glorot_normal and he_normal under ReLU at equal widths are the same network up "
            "to a factor sqrt(2) per layer). Saturated means |h| > "
            f"{c.saturation_threshold:g}."
        ),
    ]
    if gallery is not None and gallery.overview:
        blocks.append(Image(gallery.overview, "activation std by layer, every experiment"))
    rows = []
    for r in report.experiments:
        last = r.layers[-1]
        rows.append(
            [
                r.scheme,
                r.activation,
                num(last.std),
                num(last.theory_std),
                num(max_std_error(r), 3),
                num(last.saturated_fraction, 3),
                num(r.layers[0].preact_grad_std / last.preact_grad_std, 3)
                if last.preact_grad_std > 0
                else "-",
            ]
        )
    blocks.append(
        Table(
            [
                "scheme",
                "activation",
                f"layer {c.depth} std",
                "theory",
                "max |std/theory - 1|",
                "saturated (last)",
                "grad std layer 1 / last",
            ],
            rows,
        )
    )
    for i, r in enumerate(report.experiments):
        blocks.append(Heading(3, r.spec.label, f"exp-{r.spec.slug}"))
        blocks.append(Para(_describe(r)))
        if gallery is not None and i < len(gallery.experiments):
            g = gallery.experiments[i]
            blocks.append(
                Image(g["layers"], f"{r.spec.label}: layer mean and std, gradients by layer")
            )
            blocks.append(Image(g["hist"], f"{r.spec.label}: activation histograms"))
        blocks.append(
            Table(
                [
                    "layer",
                    "mean",
                    "std",
                    "theory std",
                    "saturated",
                    "theory",
                    "std dL/dZ",
                    "theory",
                    "||dL/dW||",
                    "theory",
                ],
                [
                    [
                        str(layer.layer),
                        num(layer.mean),
                        num(layer.std),
                        num(layer.theory_std),
                        num(layer.saturated_fraction, 3),
                        num(layer.theory_saturated_fraction, 3),
                        num(layer.preact_grad_std),
                        num(layer.theory_preact_grad_std),
                        num(layer.weight_grad_norm),
                        num(layer.theory_weight_grad_norm),
                    ]
                    for layer in r.layers
                ],
            )
        )
    return blocks


def _describe(r: ExperimentResult) -> str:
    first, last = r.layers[0], r.layers[-1]
    err = max_std_error(r)
    parts = [
        f"std {num(first.std)} at layer 1, {num(last.std)} at layer {r.depth}",
    ]
    if err is not None:
        parts.append(f"largest relative deviation from the theory's std {100 * err:.2g}%")
    if last.std == 0.0:
        parts.append("every activation is exactly 0: all units stay identical")
    if last.saturated_fraction > 0.5:
        parts.append(f"{100 * last.saturated_fraction:.0f}% of the last layer saturated")
    return "Measured " + "; ".join(parts) + f". Theory: {r.theory_note}."


def _phase(report: Report, gallery: Gallery | None) -> list[Block]:
    pd = report.phase
    if pd is None:
        return []
    p = pd.config
    blocks: list[Block] = [
        Heading(2, "Phase diagram (tanh)", "phase"),
        Para(
            f"Weights W ~ N(0, sigma_w^2 / fan_in), no bias, width {p.width}, {p.samples} "
            f"samples, sigma_w on a log grid of {len(pd.sigmas)} points from "
            f"{num(pd.sigmas[0])} to {num(pd.sigmas[-1])}, depths 1 to {p.depth}: one forward "
            "pass per sigma_w records every depth (layer d of a deep run is a depth-d network). "
            "Sized so the default report stays well under a minute on 2 cores; raise "
            "`--phase-width`/`--phase-samples` for less finite-size noise. White line: the "
            f"notes' Xavier (sigma_w = 1). Red dashed: the order/chaos boundary chi_1 = 1 "
            f"(sigma_w = {pd.boundary_sigma:.4f}). Without bias the two coincide: for "
            "sigma_w <= 1 tanh's fixed point is q* = 0, where chi_1 = sigma_w^2. Left of it "
            "the signal decays to 0 (geometrically; only polynomially, std ~ 1/sqrt(2 l), on "
            "the line); right of it it converges to a non-zero fixed point and saturates. "
            f"Largest |std - theory| over the grid: {num(pd.max_abs_std_error(), 3)}."
        ),
    ]
    if gallery is not None and gallery.phase:
        blocks.append(Image(gallery.phase, "tanh phase diagram, experiment and theory"))
    if gallery is not None and gallery.phase_slices:
        blocks.append(Image(gallery.phase_slices, "std and saturation against sigma_w"))
    return blocks


def _verdicts(report: Report) -> list[Block]:
    if not report.verdicts:
        return []
    n = len(report.verdicts)
    alpha = report.config.alpha
    blocks: list[Block] = [
        Heading(2, "Property verdicts", "verdicts"),
        Para(
            "The notes' claims, each a family of tests (`weight_init.properties.claims._suite."
            f"run_suite`, seed {report.config.seed}) with family-wise false-alarm rate "
            f"{alpha:g} (Holm); over all {n} verdicts at most {n * alpha:g} (Bonferroni). "
            "threshold is the Holm-adjusted level a p-value is compared with (reject when "
            "p < threshold), or the bound of an exact check; inconclusive means the test "
            "was too weak to decide and is not counted as a pass."
        ),
    ]
    rows = []
    for v in report.verdicts:
        prop = str(v.metadata.get("property", ""))
        case = v.metadata.get("case")
        where = (
            ", ".join(f"{k} {val}" for k, val in case.items())
            if isinstance(case, dict)
            else v.subject
        )
        for t in v.tests:
            rows.append(
                [
                    prop,
                    where,
                    t.name,
                    num(t.statistic),
                    "-" if t.p_value is None else num(t.p_value, 3),
                    num(t.threshold, 3),
                    t.outcome,
                ]
            )
    blocks.append(
        Table(["property", "case", "test", "statistic", "p-value", "threshold", "outcome"], rows)
    )
    outcomes = [v.outcome for v in report.verdicts]
    blocks.append(
        Para(
            f"{outcomes.count('pass')} of {n} verdicts pass, {outcomes.count('fail')} fail, "
            f"{outcomes.count('inconclusive')} inconclusive."
        )
    )
    return blocks


def _fan(c: CheckSection) -> Table:
    fit = c.fan_fit
    declared = (
        "not a power law (the fit is its best power-law approximation over the shapes)"
        if c.declared_exponents is None
        else f"a = {c.declared_exponents[0]:g}, b = {c.declared_exponents[1]:g}"
    )
    fitted = (
        "-"
        if fit is None
        else (
            f"c = {num(fit.c)}, a = {fit.a:+.3f} (se {fit.se_a:.3f}), "
            f"b = {fit.b:+.3f} (se {fit.se_b:.3f})"
        )
    )
    best = None if c.identification is None else c.identification.best
    closest = None if best is None else best.name
    gain = None if best is None else best.gain
    return Table(
        ["", "rule", "Var[W] ~ c fan_in^a fan_out^b"],
        [
            ["declared", f"{c.spec.scheme}: {c.declared_rule}", declared],
            ["fitted", "-" if closest is None else f"closest {closest}, gain {num(gain)}", fitted],
        ],
    )


def _checks(report: Report, gallery: Gallery | None) -> list[Block]:
    if not report.checks:
        return []
    blocks: list[Block] = [
        Heading(2, "Conformance", "conformance"),
        Para(
            "Each initializer under test is called over many shapes "
            "(`weight_init.properties.conformance._runner.check_initializer`): exact checks first "
            "(shape, dtype, finiteness, distinct units, determinism), then Holm-corrected "
            f"tests at family-wise alpha {report.config.check_alpha:g} with sample sizes "
            "planned for power 0.99 against a 1% std error. The QQ plot shows the "
            "standardized weights w / sd_rule against the target law; the fan table sets "
            "the fitted rule Var[W] ~ c fan_in^a fan_out^b beside the declared one."
        ),
    ]
    for i, c in enumerate(report.checks):
        blocks.append(Heading(3, f"{c.title}: {c.verdict.outcome.upper()}", f"check-{i + 1}"))
        if c.verdict.diagnosis:
            blocks.append(Para(f"Diagnosis: {c.verdict.diagnosis}"))
        if gallery is not None and i < len(gallery.checks) and gallery.checks[i]:
            path = gallery.checks[i]
            assert path is not None
            blocks.append(Image(path, f"QQ plot of {c.title}"))
        blocks.append(_fan(c))
        blocks.append(
            Table(
                ["test", "statistic", "p-value", "threshold", "outcome", "if it fails"],
                [
                    [
                        t.name,
                        num(t.statistic),
                        "-" if t.p_value is None else num(t.p_value, 3),
                        num(t.threshold, 3),
                        t.outcome,
                        t.explanation,
                    ]
                    for t in c.verdict.tests
                ],
            )
        )
    return blocks


def _audit_rows(a: AuditSection) -> list[list[str]]:
    from weight_init.reports._audits import fan_rule_text, identified_text

    rows = []
    for p in a.result.params:
        closest = f"{p.closest} (variance x{p.closest_ratio:.3g})" if p.closest else "-"
        expected = f"{p.expected} ({p.expected_from})" if p.expected else "-"
        rows.append(
            [
                p.name,
                p.layer,
                "x".join(map(str, p.shape)),
                p.layout,
                f"{p.fans.fan_in}, {p.fans.fan_out}",
                identified_text(p),
                fan_rule_text(p),
                closest,
                expected,
                p.outcome,
                p.detects().removeprefix("detects ") or ("exact" if p.verdict else "-"),
            ]
        )
    return rows


def _audits(report: Report) -> list[Block]:
    if not report.audits:
        return []
    blocks: list[Block] = [
        Heading(2, "Model audit", "audit"),
        Para(
            "Each model factory is built several times under seeds from "
            f"`SeedSequence({report.config.seed})` (`weight_init.properties.audit._loop."
            "audit_torch`) and each parameter's pooled draws are identified (the family "
            "nearest its self-standardized entries by Kolmogorov-Smirnov distance, the rule "
            "c/fan with c in 1/3, 1, 2 within max(4 se, 2%) of the pooled mean w^2) and "
            "checked against the first `--expect PATTERN=SCHEME[@LAYOUT]` rule its name "
            "matches, else its layer type's documented default, with the tests of `check` "
            f"at family-wise alpha {report.config.check_alpha:g} per parameter or pooled "
            "group (Holm). Fans are the framework's for the layout. `fan rule` is the "
            "layout's candidate fan computation the pooled variance matches (the documented "
            "one, or a known mistake such as the receptive field left out of fan_in). "
            "`detects` is the row's resolution: the smallest std error, mean shift and "
            "neighbour correlation its entries (or its pooled group's, for an error the "
            "group shares) reject with power 0.99; a row that does not reach the audit's "
            "target resolution is inconclusive, never a pass."
        ),
    ]
    for i, a in enumerate(report.audits):
        r = a.result
        blocks.append(Heading(3, a.title, f"audit-{i + 1}"))
        blocks.append(
            Para(
                f"{r.builds} builds, seed {r.seed}, family-wise alpha {r.alpha:g} per "
                f"parameter or pooled group, target resolution {r.target:.0%} std error; "
                f"reproduce one audit: `{audit_command(a)}`"
            )
        )
        blocks.append(
            Table(
                [
                    "parameter",
                    "layer",
                    "shape",
                    "layout",
                    "fans (in, out)",
                    "identified",
                    "fan rule; fit",
                    "closest scheme",
                    "expected",
                    "verdict",
                    "detects (power 0.99)",
                ],
                _audit_rows(a),
            )
        )
        notes = [p for p in r.params if p.outcome in ("fail", "inconclusive")]
        if notes:
            blocks.append(
                Table(["parameter", "why not a pass"], [[p.name, p.note()] for p in notes])
            )
    return blocks


def audit_command(a: AuditSection) -> str:
    """The ``weight-init audit`` command that reproduces one audit section."""
    from weight_init.properties.audit._loop import audit_command as command

    return a.result.reproduce or command(a.spec.spec, a.spec.expect, a.result)


def _footer(report: Report) -> list[Block]:
    v = versions()
    return [
        Heading(2, "Configuration and versions", "config"),
        Table(["package", "version"], [[k, v[k]] for k in sorted(v)]),
        Para("The full configuration and every number above are in `summary.json`."),
    ]


def _propagations(report: Report) -> list[Block]:
    if not report.propagations:
        return []
    from weight_init.reports._propagation import propagation_blocks

    blocks: list[Block] = [
        Heading(2, "Signal propagation", "propagation"),
        Para(
            "(with `--propagate`) each model built several times, every operation's output "
            "and gradient measured and predicted by mean-field rules through its graph; see "
            "`weight-init propagate --help`."
        ),
    ]
    for i, result in enumerate(report.propagations):
        blocks += propagation_blocks(result, "figures", level=3, prefix=f"propagation{i + 1}-")
    return blocks


def build_document(report: Report, gallery: Gallery | None) -> list[Block]:
    return [
        *_intro(report),
        *_experiments(report, gallery),
        *_phase(report, gallery),
        *_verdicts(report),
        *_checks(report, gallery),
        *_audits(report),
        *_propagations(report),
        *_footer(report),
    ]
