"""Check an initializer against a registered scheme: exact checks, then Holm-corrected statistics.

``check_initializer(fn, scheme, layout)`` calls ``fn(fan_in, fan_out)`` over a design of
shapes (:func:`weight_init.properties.conformance._sampling.design_shapes`: the fixed
:data:`~weight_init.properties.conformance._sampling.DEFAULT_SHAPES`, very unequal fans both ways,
odd, prime and >= 2048, plus shapes drawn from the check's seed), as many times as the power
plan requires (:mod:`weight_init.properties.conformance._power`: power 0.99 against each check's
effects at per-test level ``alpha / m``), pools the draws
and standardizes every entry by the rule, ``z = w / sd_rule``
(:mod:`weight_init.properties.conformance._checks.pool`), then runs the registered checks
(:mod:`weight_init.properties.conformance._checks`):

1. exact checks (no false alarm on a correct implementation; ``p_value`` None), each decided
   alone;
2. statistical checks, on the well-formed finite draws, decided together by Holm's
   step-down procedure at the design level ``alpha / margin`` (the promised false-alarm
   rate ``alpha`` spent with the margin of :mod:`weight_init.properties.conformance._power`); one
   that does not reject but ran on fewer entries than its power calculation needs is
   ``inconclusive`` (``passed is None``);
3. identification of what the initializer does
(:mod:`weight_init.properties.conformance._identify`),
   Hypothesis shrinking of the fans to the smallest shape an exact failure shows at, and
   the diagnosis (:mod:`weight_init.properties.conformance._diagnosis`) from the checks' typed
   evidence.

The result is a frozen :class:`~weight_init.properties.conformance._result.ConformanceResult`.
"""

from __future__ import annotations

import contextlib
import math
import numbers
import tempfile
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import special

from weight_init.errors import InitializerTypeError, InvalidParameterError, WeightInitError
from weight_init.layouts import check_matrix_layout, renamed_layout_keyword
from weight_init.properties._multiple_testing import holm_reject, holm_thresholds
from weight_init.properties._quiet import quiet_numerics
from weight_init.properties._results import Verdict
from weight_init.properties.conformance import _power as powerplan
from weight_init.properties.conformance._checks import (
    Check,
    CheckKind,
    CheckResult,
    Pool,
    build_pool,
)
from weight_init.properties.conformance._checks.registry import registered_checks
from weight_init.properties.conformance._diagnosis import Findings, diagnose
from weight_init.properties.conformance._identify import identify_draws
from weight_init.properties.conformance._plan import plan as power_plan
from weight_init.properties.conformance._result import (
    ConformanceResult,
    Design,
    SampleQuantiles,
)
from weight_init.properties.conformance._sampling import (
    Draw,
    call,
    calls_per_shape,
    design_shapes,
    draw_design,
)
from weight_init.protocols import seeding_of
from weight_init.scheme_expressions import parse_scheme
from weight_init.schemes import Scheme, get_scheme

__all__ = ["ConformanceResult", "check_initializer", "standardized_sample"]


def _real(x: object) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


def _integer(x: object) -> bool:
    return isinstance(x, numbers.Integral) and not isinstance(x, bool)


def _probability(name: str, value: object) -> None:
    """Refuse anything but a number strictly between 0 and 1 (``"0.01"`` included)."""
    if not _real(value) or not 0.0 < float(value) < 1.0:  # type: ignore[arg-type]
        raise InvalidParameterError(f"{name} must be a number in (0, 1), got {value!r}")


def _shapes(shapes: object) -> list[tuple[int, int]]:
    """``shapes`` as a list of ``(fan_in, fan_out)`` pairs of positive integers."""
    try:
        pairs = [tuple(s) for s in shapes]  # type: ignore[attr-defined]
    except TypeError:
        pairs = []
    if (
        not pairs
        or isinstance(shapes, (str, bytes))
        or not all(len(p) == 2 and all(_integer(f) and f >= 1 for f in p) for p in pairs)
    ):
        raise InvalidParameterError(
            f"shapes must be a non-empty sequence of (fan_in, fan_out) pairs of positive "
            f"integers, got {shapes!r:.80}"
        )
    return [(int(p[0]), int(p[1])) for p in pairs]


def scheme_of(scheme: object) -> Scheme:
    """The :class:`Scheme` ``scheme`` names: a registered name, a scheme expression
    (:mod:`weight_init.scheme_expressions`: ``normal(std=0.02)``, ``he_normal*gain(tanh)``)
    or a :class:`Scheme`; an unknown bare name is :class:`~weight_init.errors.UnknownSchemeError`
    as before expressions existed."""
    if isinstance(scheme, str) and scheme.strip().isidentifier():
        return get_scheme(scheme.strip())
    if isinstance(scheme, (str, Scheme)):
        return parse_scheme(scheme)
    raise InvalidParameterError(
        f"scheme must be a registered name, a scheme expression or a Scheme, got {scheme!r}"
    )


def _subject(fn: Callable[..., Any], scheme: Scheme, layout: str) -> str:
    if isinstance(fn, Scheme):
        name = f"scheme {fn.name}"
    else:
        name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or repr(fn)
    return f"{name} as {scheme.name} ({layout})"


def _draw(
    fn: Callable[..., Any],
    scheme: Scheme,
    layout: str,
    plan: powerplan.PowerPlan,
    seed: int,
    shapes: Sequence[tuple[int, int]],
    n_entries: int | None,
) -> tuple[Pool, list[int]]:
    """Draw the planned design and pool it."""
    target = plan.n_entries if n_entries is None else int(n_entries)
    diagonal = plan.n_diagonal if n_entries is None else 0
    counts = calls_per_shape(shapes, max(target, 1), diagonal)
    if not scheme.family.is_random:
        counts = [2] * len(shapes)
    draws = draw_design(fn, shapes, counts, seed)
    return build_pool(fn, scheme, layout, draws, seed, seeding_of(fn)), counts


def _holm(results: list[CheckResult], plan: powerplan.PowerPlan) -> list[CheckResult]:
    """Decide the statistical checks together (Holm at the plan's level ``alpha / margin``)."""
    if not results:
        return []
    # a p-value that is not finite (a statistic that could not be computed) rejects
    ps = [
        p if p is not None and math.isfinite(p) else 0.0 for p in (r.test.p_value for r in results)
    ]
    rejected = holm_reject(ps, plan.level)
    thresholds = holm_thresholds(ps, plan.level)
    out = []
    for r, rej, thr in zip(results, rejected, thresholds, strict=True):
        passed: bool | None = not rej
        detail = f"{r.test.detail}; n = {r.n}"
        need = plan.required(r.check)
        if not rej and r.n < need:
            passed = None
            detail += f" (< {need} needed for power {plan.power:g}: inconclusive)"
        out.append(r.decided(passed, thr, detail))
    return out


def run_checks(pool: Pool, plan: powerplan.PowerPlan, checks: Sequence[Check]) -> list[CheckResult]:
    """Exact checks, then the statistical ones under Holm at ``plan.level``, in the
    registry's order."""
    family = pool.scheme.family
    applicable = [c for c in checks if c.applies(family)]
    exact = [c.run(pool) for c in applicable if c.kind is CheckKind.EXACT]
    stat: list[CheckResult | None] = []
    if pool.kept:
        stat = [c.run(pool) for c in applicable if c.kind is CheckKind.STATISTICAL]
    done = [r for r in exact if r is not None]
    return done + _holm([r for r in stat if r is not None], plan)


@renamed_layout_keyword
def check_initializer(
    fn: Callable[..., Any],
    scheme: str | Scheme,
    layout: str = "in_out",
    *,
    seed: int = 0,
    alpha: float = powerplan.DEFAULT_ALPHA,
    power: float = powerplan.DEFAULT_POWER,
    n_entries: int | None = None,
    shapes: Sequence[tuple[int, int]] | None = None,
    subject: str | None = None,
    shrink: bool = True,
    margin: float = powerplan.DESIGN_MARGIN,
    identify: bool = True,
) -> ConformanceResult:
    """Check an initializer ``fn`` against a registered ``scheme``.

    ``fn(fan_in, fan_out)`` is called over a design of shapes (fixed ones with very unequal
    fans both ways, odd, prime and >= 2048, plus shapes drawn from ``seed``), as many times as
    the power plan requires (power ``power`` against each check's effects), its entries
    standardized by the rule, ``z = w / sd_rule``, and the registered checks run on them:

    1. exact checks (no false alarm on a correct implementation; ``p_value`` None), each
       decided alone;
    2. statistical checks, on the well-formed finite draws, decided together by Holm's
       step-down procedure at the design level ``alpha / margin``; one that does not reject
       but ran on fewer entries than its power calculation needs is ``inconclusive``
       (``passed is None``);
    3. identification of what the initializer does (:func:`identify`), Hypothesis shrinking
       of the fans to the smallest shape an exact failure shows at, and the diagnosis from the
       checks' typed evidence.

    It never raises on a non-conforming ``fn``, only on bad input.

    Parameters
    ----------
    fn : callable
        The initializer: ``fn(fan_in, fan_out)`` returning an array laid out by
        ``layout``. It is seeded through an ``rng=`` keyword (a
        ``numpy.random.Generator``) or a ``seed=`` keyword (an int) if it declares one, else
        through global state (numpy's legacy ``np.random``, Python's ``random``, torch's
        default generator), seeded before each call.
    scheme : str or Scheme
        The scheme ``fn`` claims to implement: a registered name, a scheme expression
        (``"normal(std=0.02)"``, ``"variance_scaling(2, fan_in, normal)"``) or a
        :class:`~weight_init.schemes.Scheme`.
    layout : {"in_out", "out_in"}, default "in_out"
        The layout of ``fn``'s arrays: ``(fan_in, fan_out)`` (the reference's) or
        ``(fan_out, fan_in)`` (PyTorch's).
    seed : int, default 0
        The non-negative seed of the design's drawn shapes and of every call.
    alpha : float, default 1e-4
        The promised family-wise false-alarm rate, in (0, 1).
    power : float, default 0.99
        The power each statistical check is planned for, in (0, 1).
    n_entries : int, optional
        The number of entries to draw (default: what the power plan needs).
    shapes : sequence of (int, int), optional
        The ``(fan_in, fan_out)`` design (default: the fixed shapes and those drawn from
        ``seed``).
    subject : str, optional
        The verdict's title (default: ``fn``'s name, the scheme and the layout).
    shrink : bool, default True
        Search for the smallest shape at which an exact failure shows (Hypothesis).
    margin : float, default 10
        The statistical checks run under Holm at ``alpha / margin``: the margin that lets
        ``weight-init calibrate`` demonstrate the promise; ``margin=1`` for an exact-size
        check.
    identify : bool, default True
        Identify what family and fan rule the draws show; no decision reads it (``False``
        skips it: the calibration runs use that).

    Returns
    -------
    ConformanceResult
        The verdict (``passed``, ``outcome``, ``tests``, ``diagnosis``), the power plan, the
        design, each check's typed evidence and the identification.

    Raises
    ------
    UnknownSchemeError
        ``scheme`` is not registered.
    InvalidParameterError
        An unknown ``layout``, a malformed scheme expression, or an argument of the
        wrong type or out of its domain (``alpha="0.01"``, ``seed=1.5``, ``shapes`` that
        are not pairs of positive integers).
    InitializerTypeError
        ``fn`` is not callable, or returns something that is not a real numeric array.
    InitializerCallError
        A call of ``fn`` raises.

    See Also
    --------
    identify : what an initializer does, without a claimed scheme.
    check_kernel_initializer : an n-d kernel checked through its layout.

    Examples
    --------
    A correct He-normal initializer passes; the same code with Glorot's fan rule fails, and
    the diagnosis says what it is:

    >>> import numpy as np
    >>> from weight_init import check_initializer
    >>> def he(fan_in, fan_out, seed):
    ...     rng = np.random.default_rng(seed)
    ...     return rng.standard_normal((fan_in, fan_out)) * np.sqrt(2 / fan_in)
    >>> result = check_initializer(he, "he_normal", seed=0, alpha=1e-6)
    >>> result.outcome, result.alpha
    ('pass', 1e-06)
    >>> def glorot(fan_in, fan_out, seed):
    ...     rng = np.random.default_rng(seed)
    ...     return rng.standard_normal((fan_in, fan_out)) * np.sqrt(2 / (fan_in + fan_out))
    >>> result = check_initializer(glorot, "he_normal", seed=0)
    >>> result.outcome
    'fail'
    >>> print(result.diagnosis)
    wrong fan mode: the variance follows 2.../(fan_in+fan_out), the rule is variance 2/fan_in; ...
    """
    sch = scheme_of(scheme)
    conv = check_matrix_layout(layout)
    if not callable(fn):
        raise InitializerTypeError(f"the initializer must be callable, got {type(fn).__name__}")
    _probability("alpha", alpha)
    _probability("power", power)
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise InvalidParameterError(f"seed must be a non-negative integer, got {seed!r}")
    if not _real(margin) or not margin >= 1.0:
        raise InvalidParameterError(f"margin must be a number >= 1, got {margin!r}")
    if n_entries is not None and (not _integer(n_entries) or n_entries < 1):
        raise InvalidParameterError(f"n_entries must be a positive integer, got {n_entries!r}")
    if subject is not None and not isinstance(subject, str):
        raise InvalidParameterError(f"subject must be a string, got {subject!r}")
    if shapes is None:
        shapes = design_shapes(seed)
    shapes = _shapes(shapes)
    with quiet_numerics():
        return _check(
            fn, sch, conv, seed, alpha, power, n_entries, shapes, subject, shrink, margin, identify
        )


def _check(
    fn: Callable[..., Any],
    sch: Scheme,
    conv: str,
    seed: int,
    alpha: float,
    power: float,
    n_entries: int | None,
    shapes: Sequence[tuple[int, int]],
    subject: str | None,
    shrink: bool,
    margin: float,
    identify: bool,
) -> ConformanceResult:
    """The body of :func:`check_initializer` on validated arguments."""
    checks = registered_checks()
    plan = power_plan(sch.family, alpha, power, checks, margin)
    pool, counts = _draw(fn, sch, conv, plan, seed, shapes, n_entries)
    results = run_checks(pool, plan, checks)
    random = sch.family.is_random
    ident = identify_draws(pool.draws, conv) if identify and pool.kept and random else None
    failed = [r.check for r in results if r.failed]
    shrinkable = [c for c in failed if c.shrinkable]
    smallest = _smallest_failing_shape(fn, conv, seed, shrinkable) if shrink and shrinkable else ""
    findings = Findings(sch, conv, tuple(results), ident, smallest)
    verdict = Verdict(
        subject or _subject(fn, sch, conv), alpha, [r.test for r in results], diagnose(findings)
    )
    iid = sch.family.is_iid and pool.z.size > 0
    design = Design(
        tuple((int(fi), int(fo)) for fi, fo in shapes),
        tuple(counts),
        seed,
        pool.seeding,
        len(pool.draws),
        int(pool.z.size),
    )
    return ConformanceResult(
        verdict=verdict,
        scheme=sch,
        layout=conv,
        power=power,
        plan=plan,
        design=design,
        checks=tuple(results),
        identification=ident,
        quantiles=SampleQuantiles.of(pool.z_sorted, presorted=True) if iid else None,
        smallest_shape=smallest,
    )


@renamed_layout_keyword
def standardized_sample(
    fn: Callable[..., Any],
    scheme: str | Scheme,
    layout: str = "in_out",
    *,
    seed: int = 0,
    alpha: float = powerplan.DEFAULT_ALPHA,
    power: float = powerplan.DEFAULT_POWER,
    margin: float = powerplan.DESIGN_MARGIN,
) -> NDArray[np.float64]:
    """Regenerate a check's entries, sorted: ``z = (w - mean) / sd_rule`` for i.i.d. families,
    the normal scores ``Phi^-1(u)`` of the family's per-shape probability-integral transform
    otherwise (the exact law; a sparse scheme's nonzero part) (for QQ plots)."""
    sch = get_scheme(scheme)
    conv = check_matrix_layout(layout)
    plan = power_plan(sch.family, alpha, power, margin=margin)
    pool, _ = _draw(fn, sch, conv, plan, seed, design_shapes(seed), None)
    if sch.family.is_iid or not sch.family.is_random:
        return np.sort(pool.z)
    parts = [sch.family.pit(b.z, b.fan_in, b.fan_out) for b in pool.blocks]
    u = np.clip(np.concatenate(parts), 1e-300, 1 - 1e-16)
    return np.sort(special.ndtri(u))


@contextlib.contextmanager
def _private_hypothesis_home() -> Iterator[None]:
    """Point Hypothesis's storage at a temporary directory for the body: a search started by
    a check writes nothing (its cache of the modules' constants) into the user's working
    directory. The previous setting is restored after."""
    from hypothesis import configuration

    previous = getattr(configuration, "__hypothesis_home_directory", None)
    with tempfile.TemporaryDirectory(prefix="weight-init-hypothesis-") as home:
        configuration.set_hypothesis_home_dir(home)
        try:
            yield
        finally:
            configuration.set_hypothesis_home_dir(previous)


def _smallest_failing_shape(
    fn: Callable[..., Any], conv: str, seed: int, failed: Sequence[Check]
) -> str:
    """Hypothesis shrinks ``(fan_in, fan_out)`` to the smallest shape at which one of the
    ``failed`` exact checks fails on a single draw; "" when no shape up to 64 shows it,
    inside a running Hypothesis test (Hypothesis forbids nesting a search in one), and when
    a shape fails on one call and not on the next: the initializer's output at a seed is
    not reproducible (it ignores the seed it is given), so no smallest shape exists; the
    verdict, decided before, does not depend on this search."""
    from hypothesis import HealthCheck, Phase, find, settings
    from hypothesis import strategies as st
    from hypothesis.control import currently_in_test_context
    from hypothesis.errors import Flaky, NoSuchExample

    if currently_in_test_context():
        return ""  # Hypothesis refuses a search nested in a running @given test
    mode = seeding_of(fn)

    def fails(shape: tuple[int, int]) -> bool:
        fi, fo = shape
        try:
            d = Draw(fi, fo, seed, call(fn, fi, fo, seed, mode))
        except WeightInitError:
            return False
        return any(c.fails_on(d, conv) for c in failed)

    try:
        with _private_hypothesis_home():
            fi, fo = find(
                st.tuples(st.integers(2, 64), st.integers(2, 64)),
                fails,
                settings=settings(
                    database=None,
                    deadline=None,
                    # the health checks judge test code, not the initializer being shrunk
                    suppress_health_check=list(HealthCheck),
                    max_examples=200,
                    derandomize=True,
                    phases=[Phase.generate, Phase.shrink],
                ),
            )
    except (NoSuchExample, Flaky):
        return ""
    return f"fn({fi}, {fo})"
