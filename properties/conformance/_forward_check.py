"""Check a ``forward_prop`` with the notes' contract against the reference, case by case.

The contract: ``forward_prop(hidden_layer_sizes, init) -> (acts, means, stds)``, ``acts``
a dict ``layer index (0-based) -> (n_samples, width)`` activations, ``means[l]`` and
``stds[l]`` the mean and population std of layer ``l + 1``'s activations.

The cases (:func:`weight_init.properties.conformance._forward_cases.cases`): the notes' own
configuration (ten layers as wide as the input) and cases drawn from ``seed`` whose
widths mix the input dimension, width 1, equal neighbours and very unequal neighbours
(8x). Each case runs the candidate with a *recording* initializer (weights drawn from
the case's own generator, so the candidate cannot change them) and

* if the candidate accepts ``x=`` (and ``activation=``), an explicit standard-normal input;
* otherwise under ``np.random.seed(case seed)``, where the notes' code draws
  ``X = np.random.randn(1000, 500)`` first, which the check replays.

The reference (:func:`weight_init.experiment.forward_prop`) then runs on the same input
and the same weights. Tests, Holm-corrected at family-wise level ``alpha``:

* exact: ``contract`` (a 3-tuple; ``acts`` keyed 0..L-1 with shapes ``(n, width_l)``; L
  means and stds), ``self-consistency`` (``means[l]``/``stds[l]`` are the mean and std of
  ``acts[l]``, relative 1e-6), ``init calls`` (init called once per layer with
  ``(fan_in, fan_out)``) and, when the input is known to be the replayed one,
  ``reference agreement`` (every layer's mean and std within ``1e-4`` of the
  reference's std: float32 arithmetic passes, any change of the maths does not);
* statistical, when the candidate's input cannot be replayed (its layer 1 differs from
  the reference's on the replayed input): for each layer, the candidate's std against
  R reference runs on the same weights and independent inputs, by the prediction
  t-statistic ``(s - mean_R) / (sd_R sqrt(1 + 1/R))`` with R - 1 degrees of freedom; one
  test per case, the largest ``|t|`` over its L layers with ``p = L p_min`` (Bonferroni).

The mean-field prediction of :mod:`weight_init.theory` for each case is reported in
``Verdict.metadata`` (``theory_stds``) next to the reference's and the candidate's stds,
and the notes' claims are checked by the property suite
(:func:`weight_init.properties.claims._suite.run_suite`, one row per property verdict, which
compares with the theory where the claim is quantitative).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import stats

from weight_init.errors import (
    ForwardCheckError,
    ForwardPropContractError,
    InitializerCallError,
    describe_exception,
)
from weight_init.experiment import forward_prop
from weight_init.properties._multiple_testing import holm_reject, holm_thresholds
from weight_init.properties._results import NullKind, RanOn, TestResult, Verdict
from weight_init.properties._subject import unpack_result
from weight_init.properties._verdict import family_p_value
from weight_init.properties.conformance._forward_cases import NOTES_INPUT_DIM, NOTES_SAMPLES, cases
from weight_init.properties.conformance._sampling import global_seed
from weight_init.protocols import forward_keywords_of
from weight_init.schemes import get_scheme

#: Tolerance of "same input, same weights": |candidate - reference| <= AGREE * ref std + 1e-12.
AGREE = 1e-4
REPLICATES = 10

EXPLAIN = {
    "contract": "the result is not (acts, means, stds) with one entry per layer of the right shape",
    "self-consistency": "means/stds are not the mean and population std of the returned acts",
    "init calls": "init was not called once per layer as init(fan_in, fan_out)",
    "reference agreement": "on the same input and weights the layers differ from the reference",
    "std vs reference": "the layer's std is not what the reference gives on these weights",
}


@dataclass
class _Recorder:
    """An init returning weights from its own generator, recording every call."""

    scheme: str
    seed: int

    def __post_init__(self) -> None:
        self.calls: list[tuple[int, int]] = []
        self.weights: list[NDArray[np.float64]] = []

    def __call__(self, fan_in: int, fan_out: int) -> NDArray[np.float64]:
        gen = np.random.default_rng([self.seed, len(self.calls)])
        w = get_scheme(self.scheme).sample(int(fan_in), int(fan_out), rng=gen)
        self.calls.append((int(fan_in), int(fan_out)))
        self.weights.append(w)
        return w.copy()

    def replay(self) -> Callable[[int, int], NDArray[np.float64]]:
        it = iter(self.weights)
        return lambda fan_in, fan_out: next(it)


def _exact(name: str, ok: bool, statistic: float, bound: float, detail: str) -> TestResult:
    return TestResult(
        name, float(statistic), None, float(bound), ok, EXPLAIN[name], detail, RanOn.SUBJECT
    )


def check_forward_prop(
    fn: Callable[..., Any],
    *,
    activation: str = "tanh",
    n_samples: int = NOTES_SAMPLES,
    input_dim: int = NOTES_INPUT_DIM,
    seed: int = 0,
    alpha: float = 1e-4,
    n_cases: int = 4,
    subject: str | None = None,
    properties: bool = True,
) -> Verdict:
    """Check a ``forward_prop`` implementation against the reference, case by case.

    The contract: ``forward_prop(hidden_layer_sizes, init) -> (acts, means, stds)``, ``acts``
    a dict ``layer index (0-based) -> (n_samples, width)`` activations, ``means[l]`` and
    ``stds[l]`` the mean and population std of layer ``l + 1``'s activations. The cases are
    the notes' own configuration (ten layers as wide as the input) and cases drawn from
    ``seed`` whose widths mix the input dimension, width 1, equal neighbours and very unequal
    neighbours (8x). Each case runs ``fn`` with a *recording* initializer (weights drawn from
    the case's own generator, so ``fn`` cannot change them), on an explicit standard-normal
    input if ``fn`` accepts ``x=``, otherwise under ``np.random.seed(case seed)``, where the
    notes' code draws ``X = np.random.randn(1000, 500)`` first, which the check replays. The
    reference (:func:`weight_init.experiment.forward_prop`) then runs on the same input and
    the same weights; the tests are in Notes.

    Parameters
    ----------
    fn : callable
        The implementation under test, ``fn(hidden_layer_sizes, init, **keywords)``; it may
        accept the keywords ``x``, ``seed``, ``activation`` and ``keep_activations``.
    activation : str, default "tanh"
        The activation (``fn`` must accept ``activation=`` for any other).
    n_samples, input_dim : int, default 1000, 500
        The input's size (``fn`` must accept ``x=`` for any other).
    seed : int, default 0
        The seed of the drawn cases.
    alpha : float, default 1e-4
        The family-wise false-alarm rate of the whole check.
    n_cases : int, default 4
        The number of cases.
    subject : str, optional
        The verdict's title (default: ``fn``'s name).
    properties : bool, default True
        Also run the notes' claims (:func:`~weight_init.properties.claims.run_suite`), one
        row per property verdict: the reference comparison then gets ``alpha / 2`` and each of
        the suite's k verdicts ``alpha / (2 k)`` (Bonferroni), so the whole check keeps a
        family-wise false-alarm rate of at most ``alpha``.

    Returns
    -------
    Verdict
        The tests, the diagnosis, and in ``metadata`` each case's candidate, reference and
        mean-field (``theory_stds``, :func:`weight_init.theory.predict`) stds.

    Raises
    ------
    ForwardCheckError
        ``fn`` is not callable, an option is out of its domain, or ``fn`` cannot run the
        requested options (no ``x=`` for another input size, no ``activation=`` for another
        activation).
    InitializerCallError
        ``fn`` raised on a case.

    Notes
    -----
    Tests, Holm-corrected at family-wise level ``alpha``:

    * exact: ``contract`` (a 3-tuple; ``acts`` keyed 0..L-1 with shapes ``(n, width_l)``; L
      means and stds), ``self-consistency`` (``means[l]``/``stds[l]`` are the mean and std of
      ``acts[l]``, relative 1e-6), ``init calls`` (init called once per layer with
      ``(fan_in, fan_out)``) and, when the input is known to be the replayed one,
      ``reference agreement`` (every layer's mean and std within ``1e-4`` of the reference's
      std: float32 arithmetic passes, any change of the maths does not);
    * statistical, when ``fn``'s input cannot be replayed (its layer 1 differs from the
      reference's on the replayed input): for each layer, ``fn``'s std against R reference
      runs on the same weights and independent inputs, by the prediction t-statistic
      ``(s - mean_R) / (sd_R sqrt(1 + 1/R))`` with R - 1 degrees of freedom; one test per
      case, the largest ``|t|`` over its L layers with ``p = L p_min`` (Bonferroni).

    Examples
    --------
    The reference agrees with itself; a copy that halves the stds it reports does not:

    >>> from weight_init import check_forward_prop, forward_prop
    >>> verdict = check_forward_prop(
    ...     forward_prop, n_samples=100, input_dim=50, n_cases=2, properties=False
    ... )
    >>> verdict.outcome, [t.name for t in verdict.tests]
    ('pass', ['contract', 'self-consistency', 'init calls', 'reference agreement'])
    >>> def halved(hidden_layer_sizes, init, **keywords):
    ...     acts, means, stds = forward_prop(hidden_layer_sizes, init, **keywords)
    ...     return acts, means, [s / 2 for s in stds]
    >>> verdict = check_forward_prop(
    ...     halved, n_samples=100, input_dim=50, n_cases=2, properties=False
    ... )
    >>> verdict.outcome, [t.name for t in verdict.failures]
    ('fail', ['self-consistency', 'reference agreement'])
    """
    if not callable(fn):
        raise ForwardCheckError(f"forward_prop must be callable, got {type(fn).__name__}")
    if not 0.0 < alpha < 1.0:
        raise ForwardCheckError(f"alpha must be in (0, 1), got {alpha!r}")
    for name, value in (("n_samples", n_samples), ("input_dim", input_dim)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
            raise ForwardCheckError(f"{name} must be a positive integer, got {value!r}")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ForwardCheckError(f"seed must be a non-negative integer, got {seed!r}")
    kw = forward_keywords_of(fn)
    takes_x = "x" in kw
    if not takes_x and (n_samples, input_dim) != (NOTES_SAMPLES, NOTES_INPUT_DIM):
        raise ForwardCheckError(
            "this forward_prop takes no x= keyword: it draws the notes' 1000 x 500 input, "
            "so --samples/--input-dim cannot be changed"
        )
    if activation != "tanh" and "activation" not in kw:
        raise ForwardCheckError(
            f"this forward_prop takes no activation= keyword: it can only be checked with tanh, "
            f"not {activation}"
        )
    exact: list[TestResult] = []
    stat: list[tuple[str, float, float, str]] = []
    meta_cases: list[dict[str, Any]] = []
    from weight_init.theory import predict

    for sizes, scheme, cseed in cases(seed, n_cases, input_dim):
        where = f"forward_prop({sizes}, init={scheme})"
        rec = _Recorder(scheme, cseed)
        with global_seed(cseed):
            x = np.random.standard_normal((n_samples, input_dim))  # noqa: NPY002
        kwargs: dict[str, Any] = {}
        if takes_x:
            kwargs["x"] = x.copy()
        if "activation" in kw:
            kwargs["activation"] = activation
        try:
            with global_seed(cseed):
                result = fn(list(sizes), rec, **kwargs)
        except Exception as exc:
            raise InitializerCallError(f"{where} raised {describe_exception(exc)}") from None
        try:
            acts, means, stds = unpack_result(result, sizes, n_samples)
        except ForwardPropContractError as exc:
            exact.append(_exact("contract", False, 1, 0, f"{where}: {exc}"))
            continue
        exact.append(_exact("contract", True, 0, 0, where))
        worst = max(
            max(
                abs(m - float(a.mean())) / (float(a.std()) + 1e-300),
                abs(s - float(a.std())) / (float(a.std()) + 1e-300),
            )
            for a, m, s in zip(acts, means, stds, strict=True)
        )
        exact.append(
            _exact(
                "self-consistency",
                worst <= 1e-6,
                worst,
                1e-6,
                f"{where}: max rel. error {worst:.3g}",
            )
        )
        want = list(zip([input_dim, *sizes[:-1]], sizes, strict=True))
        ok_calls = rec.calls == want
        exact.append(
            _exact(
                "init calls",
                ok_calls,
                float(not ok_calls),
                0,
                f"{where}: init called with {rec.calls}, expected {want}",
            )
        )
        if not ok_calls:
            continue
        ref = forward_prop(sizes, rec.replay(), x=x, activation=activation, keep_activations=True)
        scale = [float(s) + 1e-12 for s in ref.stds]
        first = float(np.max(np.abs(acts[0] - ref.acts[0])))
        theory = predict(scheme, activation, sizes, input_dim).stds
        meta_cases.append(
            {
                "sizes": sizes,
                "scheme": scheme,
                "seed": cseed,
                "candidate_stds": stds,
                "reference_stds": list(ref.stds),
                "theory_stds": list(theory),
            }
        )
        if first <= AGREE * scale[0] * 10:
            dev = max(
                max(abs(m - rm), abs(s - rs)) / sc
                for m, s, rm, rs, sc in zip(means, stds, ref.means, ref.stds, scale, strict=True)
            )
            layer = 1 + int(
                np.argmax(
                    [
                        max(abs(m - rm), abs(s - rs)) / sc
                        for m, s, rm, rs, sc in zip(
                            means, stds, ref.means, ref.stds, scale, strict=True
                        )
                    ]
                )
            )
            exact.append(
                _exact(
                    "reference agreement",
                    dev <= AGREE,
                    dev,
                    AGREE,
                    f"{where}: worst at layer {layer}: candidate std {stds[layer - 1]:.6g}, "
                    f"reference {ref.stds[layer - 1]:.6g}, theory {theory[layer - 1]:.6g}",
                )
            )
            continue
        # input not replayable: compare stds with reference runs on the same weights
        gen = np.random.default_rng([cseed, 99])
        reps = np.array(
            [
                forward_prop(
                    sizes,
                    rec.replay(),
                    x=gen.standard_normal((n_samples, input_dim)),
                    activation=activation,
                    keep_activations=False,
                ).stds
                for _ in range(REPLICATES)
            ]
        )
        mu, sd = reps.mean(axis=0), reps.std(axis=0, ddof=1)
        ts = [
            (s - mu[i]) / (max(sd[i], 1e-300) * math.sqrt(1 + 1 / REPLICATES))
            for i, s in enumerate(stds)
        ]
        i = int(np.argmax(np.abs(ts)))
        # one test per case: the largest |t| over its L layers, Bonferroni within the case
        p = min(1.0, len(ts) * float(2 * stats.t.sf(abs(ts[i]), REPLICATES - 1)))
        stat.append(
            (
                "std vs reference",
                ts[i],
                p,
                f"{where}, worst layer {i + 1} of {len(ts)}: candidate std {stds[i]:.6g}, "
                f"reference {mu[i]:.6g} +- {sd[i]:.2g} over {REPLICATES} inputs on the "
                f"same weights, theory {theory[i]:.6g}",
            )
        )
    tests = _merge(exact)
    own_alpha = alpha / 2 if properties else alpha
    if stat:
        ps = [p for _, _, p, _ in stat]
        rej = holm_reject(ps, own_alpha)
        thr = holm_thresholds(ps, own_alpha)
        for (name, t, p, detail), r, th in zip(stat, rej, thr, strict=True):
            tests.append(TestResult(name, t, p, th, not r, EXPLAIN[name], detail, RanOn.SUBJECT))
    if properties:
        tests += _property_rows(fn, seed, alpha / 2)
    diagnosis = _diagnose(tests)
    name = subject or getattr(fn, "__qualname__", None) or repr(fn)
    meta = {"activation": activation, "seed": seed, "cases": meta_cases, "n_samples": n_samples}
    return Verdict(name, alpha, tests, diagnosis, meta)


def _property_rows(fn: Callable[..., Any], seed: int, alpha: float) -> list[TestResult]:
    """One row per verdict of the notes' property suite, each at ``alpha / k``."""
    from weight_init.errors import WeightInitError
    from weight_init.properties._subject import Subject
    from weight_init.properties.claims._suite import run_suite, suite_cases

    k = max(1, len(suite_cases(seed, Subject.of(fn).flexible)))
    try:
        verdicts = run_suite(fn, seed=seed, alpha=alpha / k)
    except WeightInitError:
        raise
    except Exception as exc:
        raise InitializerCallError(
            f"the property suite could not run the forward_prop: {describe_exception(exc)}"
        ) from None
    rows = []
    for v in verdicts:
        prop = str(v.metadata.get("property", v.subject))
        bad = v.failures
        detail = v.diagnosis or "; ".join(f"{t.name}: {t.detail}" for t in bad)
        rows.append(
            TestResult(
                f"property {prop}",
                float(len(bad)),
                family_p_value(v),
                alpha / k,
                None if v.outcome == "inconclusive" else v.passed,
                bad[0].explanation if bad else f"the notes' claim '{prop}' does not hold",
                detail,
                RanOn.SUBJECT,
                NullKind.COMPOSITE,
            )
        )
    return rows


def _diagnose(tests: list[TestResult]) -> str:
    """The first failure of each kind, and the failed property names, in one line."""
    failed = [t for t in tests if t.passed is False]
    seen: dict[str, str] = {}
    props = [t.name.removeprefix("property ") for t in failed if t.name.startswith("property ")]
    for t in failed:
        if not t.name.startswith("property ") and t.name not in seen:
            seen[t.name] = f"{t.name}: {t.detail}"
    parts = list(seen.values())
    if props:
        parts.append("the notes' claims that fail: " + ", ".join(dict.fromkeys(props)))
    return "; ".join(parts)


def _merge(exact: list[TestResult]) -> list[TestResult]:
    """One row per exact test name: the first failure, else the first pass."""
    out: dict[str, TestResult] = {}
    for t in exact:
        if t.name not in out or (t.passed is False and out[t.name].passed is not False):
            out[t.name] = t
    return list(out.values())
