"""pytest plugin of weight_init (entry point ``pytest11``), loaded wherever it is installed.

Inert unless asked: it changes no settings (no Hypothesis profile is loaded) unless
``--weight-init-profile`` is given, adds test items only for ``--weight-init-check``, and
imports nothing heavy (numpy, scipy, the checks) until a check runs. This project's own
Hypothesis profiles are loaded by its ``tests/conftest.py``, not here.

Each check runs the initializer in a child process (:mod:`weight_init.app._isolation`): an
initializer that exits, crashes, is killed, prints or hangs fails the item with one line,
never passes it. The fixture isolates the same way when its callable can be pickled (a
module-level function or a ``SPEC`` string); a local function or lambda runs in the test's
own process, like the rest of the test's code.

Options (group ``weight-init``):

``--weight-init-profile {dev,ci,explore,thorough}``
    Hypothesis settings profile (see :mod:`weight_init.properties.claims._profiles`).
``--weight-init-check SPEC=SCHEME[@LAYOUT]`` (repeatable)
    Add one test item per option that checks the initializer ``SPEC`` (``MODULE:ATTR``,
    ``torch:NAME``, ``jax:NAME``, ``keras:NAME``) against the registered ``SCHEME``, e.g.
    ``pytest --weight-init-check mynet.init:he_init=he_normal``; the item fails with the
    check's table and diagnosis.
``--weight-init-seed N``, ``--weight-init-alpha A``
    Seed of every check (default 0) and its family-wise false-alarm rate (default 1e-4).
``--weight-init-timeout SECONDS``
    Limit of one check's child process (default 300).
``--weight-init-decision-log FILE``
    Write every Holm decision of the run (the checks, audits and property verdicts of
    weight_init, in the test process and in every child process it starts) to FILE, a new
    file, one line each labelled with the test that made it
    (:mod:`weight_init.properties._decision_log`); ``weight-init decisions FILE`` sums the
    levels of those that did not reject, a bound on the chance that a fresh set of cases
    (another seed) holds a false alarm.

Fixture ``weight_init_check``: call it in a test as
``weight_init_check(fn, "he_normal", layout="in_out")`` (``fn`` a callable or a
``SPEC`` string); it returns the :class:`~weight_init.properties._results.Verdict` and
fails the test with the table and diagnosis when the initializer does not conform.

Fixture ``weight_init_audit``: ``weight_init_audit(factory, expect=(), builds=None,
seed=None, *, preset=None, resolution=None, max_builds=None, pool=True)`` audits a model
(``factory`` a callable returning what ``weight-init audit`` takes: a torch ``nn.Module``, a
built Keras model, a Flax/Haiku/Equinox module as its protocol says (``weight-init audit
--help``); or a ``MODULE:FACTORY`` string; ``expect`` rules ``"PATTERN=RULE[@LAYOUT]"`` and
the keywords are ``weight-init audit``'s ``--expect``, ``--preset``, ``--resolution``,
``--max-builds`` and ``--no-pooling``, parsed and checked by the command's own parser before
the model's code runs) and returns the typed
:class:`~weight_init.properties.audit._result.AuditReport`; ``report.assert_conforms()``
raises (an ``AssertionError``) naming each parameter that did not pass, its expected and
identified rule, and a copy-pasteable ``weight-init audit ... --seed ...`` reproduction.
``weight_init_audit.assert_conforms(factory, ...)`` runs the audit and fails the test with
that message. Isolated like the check fixture (a picklable factory or a string in a child
process, a local function in the test's process).

Fixture ``weight_init_propagate``: ``weight_init_propagate(factory, input_shape, inputs=None,
builds=8, seed=None, mode="train", expect=(), max_growth=None)`` measures and predicts a torch
model's signal propagation (:mod:`weight_init.properties.propagation`) and returns the
``PropagationResult``; ``weight_init_propagate.assert_passes(factory, shape, max_growth=G)``
fails the test with the diagnosis when the signal or the gradient vanishes or explodes beyond
``G`` over the depth. Isolated as the audit fixture is.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest


def _timeout(text: str) -> float:
    """``--weight-init-timeout``: parsed as the command line's ``--timeout``."""
    from weight_init.app._commands.argtypes import timeout_seconds

    return timeout_seconds(text)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("weight-init", "weight_init initializer verification")
    group.addoption(
        "--weight-init-profile",
        choices=("dev", "ci", "explore", "thorough"),
        default=None,
        help="load weight_init's Hypothesis profile: dev and ci (derandomized, 25 examples, "
        "no database), explore (random, 25 examples), thorough (random, 300 examples). "
        "Default: none is loaded.",
    )
    group.addoption(
        "--weight-init-check",
        action="append",
        default=[],
        metavar="SPEC=SCHEME[@LAYOUT]",
        help="check an initializer (MODULE:ATTR, torch:NAME, jax:NAME, keras:NAME) against "
        "a registered scheme as an extra test item; repeatable",
    )
    group.addoption(
        "--weight-init-seed", type=int, default=0, help="seed of weight_init checks (default 0)"
    )
    group.addoption(
        "--weight-init-alpha",
        type=float,
        default=1e-4,
        help="family-wise false-alarm rate of one weight_init check (default 1e-4)",
    )
    group.addoption(
        "--weight-init-decision-log",
        default=None,
        metavar="FILE",
        help="write every statistical (Holm) decision of the run to FILE (a new file), each "
        "labelled with its test's id; 'weight-init decisions FILE' sums their levels: a "
        "bound on the chance that fresh cases hold a false alarm",
    )
    group.addoption(
        "--weight-init-timeout",
        type=_timeout,
        default=300.0,
        metavar="SECONDS",
        help="time limit of one weight_init check, run in a child process (default 300; "
        "'none': no limit)",
    )


def pytest_configure(config: pytest.Config) -> None:
    log = config.getoption("--weight-init-decision-log", default=None)
    if log is not None:
        _start_decision_log(config, log)
    name = config.getoption("--weight-init-profile")
    if name is None:
        return  # inert: another project's Hypothesis settings stay its own
    from weight_init.properties.claims import _profiles as profiles

    config.stash[_PROFILE_KEY] = profiles.load(name)


def _start_decision_log(config: pytest.Config, text: str) -> None:
    """``--weight-init-decision-log FILE``: name FILE (absolute, so a child process that
    changes directory logs to it too) in ``WEIGHT_INIT_DECISION_LOG`` for this process and
    every process it starts; refuse a FILE that exists (a log counts one run, and a user's
    file is never appended to by surprise). An xdist worker inherits the controller's check."""
    from weight_init.properties._decision_log import LOG_ENV

    path = (config.invocation_params.dir / text).resolve()
    if not hasattr(config, "workerinput"):
        if path.exists() or path.is_symlink():
            raise pytest.UsageError(
                f"--weight-init-decision-log {text}: the file exists; a log counts one run "
                "(remove it or name a new file)"
            )
        if not path.parent.is_dir():
            raise pytest.UsageError(
                f"--weight-init-decision-log {text}: no directory {str(path.parent)!r}"
            )
    config.stash[_LOG_KEY] = os.environ.get(LOG_ENV)
    os.environ[LOG_ENV] = str(path)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Any:
    """With a decision log: each decision made while ``item`` runs (its fixtures' setup and
    teardown included, and in any child process it starts) is labelled with its test id."""
    if _LOG_KEY not in item.config.stash:
        yield
        return
    from weight_init.properties._decision_log import CONTEXT_ENV

    before = os.environ.get(CONTEXT_ENV)
    os.environ[CONTEXT_ENV] = item.nodeid
    try:
        yield
    finally:
        _restore_env(CONTEXT_ENV, before)


def pytest_unconfigure(config: pytest.Config) -> None:
    if _LOG_KEY in config.stash:
        from weight_init.properties._decision_log import LOG_ENV

        _restore_env(LOG_ENV, config.stash[_LOG_KEY])


def _restore_env(name: str, value: str | None) -> None:
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value


def pytest_report_header(config: pytest.Config) -> list[str]:
    chosen = config.stash.get(_PROFILE_KEY, None)
    return [f"weight-init: hypothesis profile {chosen!r}"] if chosen else []


def parse_check_option(text: str) -> tuple[str, str, str | None]:
    """``"SPEC=SCHEME[@LAYOUT]"`` -> ``(spec, scheme, layout or None)``: the first
    ``=`` ends SPEC (which has none), SCHEME is a registered name or a scheme expression
    (``normal(std=0.02)``, checked here), ``@`` starts the layout."""
    from weight_init.app._commands.argtypes import scheme_text

    spec, sep, rest = text.partition("=")
    scheme, _, layout = rest.rpartition("@") if "@" in rest else (rest, "", "")
    if not sep or not spec or not scheme.strip():
        raise pytest.UsageError(f"--weight-init-check expects SPEC=SCHEME[@LAYOUT], got {text!r}")
    try:
        scheme = scheme_text(scheme)
    except argparse.ArgumentTypeError as exc:  # one line, as pytest says it
        raise pytest.UsageError(f"--weight-init-check {text!r}: {exc}") from None
    return spec, scheme, layout or None


def run_check(
    fn: Callable[..., Any] | str,
    scheme: str,
    layout: str | None = None,
    *,
    seed: int = 0,
    alpha: float = 1e-4,
    timeout: float = 300.0,
) -> Any:
    """Run :func:`~weight_init.properties.conformance._runner.check_initializer` in a child process
    (in this process for a callable that cannot be pickled); raise
    :class:`~weight_init.errors.CheckFailed` (with the table) unless the verdict passes, and
    :class:`~weight_init.errors.SubjectAbortedError` when the initializer exited, crashed
    or timed out."""
    from weight_init.app import _child_tasks as child_tasks
    from weight_init.app._isolation import picklable, run_isolated
    from weight_init.errors import CheckFailed

    kwargs: dict[str, Any] = {
        "spec": fn,
        "scheme": scheme,
        "layout": layout,
        "seed": seed,
        "alpha": alpha,
    }
    if isinstance(fn, str) or picklable(fn):
        name = fn if isinstance(fn, str) else getattr(fn, "__qualname__", repr(fn))
        verdict = run_isolated(
            "weight_init.app._child_tasks:check", f"the initializer {name}", timeout, **kwargs
        )
    else:
        verdict = child_tasks.check(**kwargs)
    if not verdict.passed:
        raise CheckFailed(verdict.format_table())
    return verdict


@dataclass(frozen=True)
class RunOptions:
    """The ``--weight-init-seed``/``-alpha``/``-timeout`` options every check and audit of a
    session runs with (a fixture call's own ``seed`` wins over the option's)."""

    seed: int
    alpha: float
    timeout: float

    @classmethod
    def of(cls, config: pytest.Config, seed: int | None = None) -> RunOptions:
        return cls(
            config.getoption("--weight-init-seed") if seed is None else seed,
            config.getoption("--weight-init-alpha"),
            config.getoption("--weight-init-timeout"),
        )


def _or_fail(run: Callable[[], Any]) -> Any:
    """``run()``, or fail the test with the one line of a bad input (a WeightInitError)."""
    from weight_init.errors import WeightInitError

    try:
        return run()
    except WeightInitError as exc:
        message = str(exc)
    pytest.fail(message, pytrace=False)


@pytest.fixture
def weight_init_check(request: pytest.FixtureRequest) -> Callable[..., Any]:
    """``weight_init_check(fn_or_spec, scheme, layout=None, seed=None)`` -> Verdict;
    fails the test with the check's table when the initializer does not conform."""
    cfg = request.config

    def check(
        fn: Callable[..., Any] | str,
        scheme: str,
        layout: str | None = None,
        seed: int | None = None,
        *,
        convention: str | None = None,
    ) -> Any:
        if convention is not None:  # the keyword's earlier name
            import warnings

            warnings.warn(
                "weight_init_check(convention=...) is deprecated; use layout=...",
                DeprecationWarning,
                stacklevel=2,
            )
            layout = layout or convention
        o = RunOptions.of(cfg, seed)
        return _or_fail(
            lambda: run_check(fn, scheme, layout, seed=o.seed, alpha=o.alpha, timeout=o.timeout)
        )

    return check


def run_audit(
    factory: Callable[..., Any] | str,
    expect: tuple[str, ...] = (),
    *,
    builds: int | None = None,
    seed: int = 0,
    alpha: float = 1e-4,
    timeout: float = 300.0,
    preset: str | None = None,
    resolution: float | str | None = None,
    max_builds: int | None = None,
    pool: bool = True,
) -> Any:
    """``weight-init audit``'s audit of ``factory`` -> AuditReport: the options parsed and
    checked by the command's own parser (:func:`weight_init.app._commands.audit.arguments`,
    before the model's code runs), then the command's child task in a child process (a
    ``MODULE:FACTORY`` string or an importable module-level callable), or, for anything else,
    :func:`~weight_init.properties.audit._frameworks.audit_model` with the same options in
    this process (torch, Keras, Flax linen or NNX, Haiku or Equinox)."""
    import dataclasses

    from weight_init.app._commands import audit as command
    from weight_init.app._isolation import run_isolated

    spec = _spec_of(factory)
    name = spec or str(getattr(factory, "__qualname__", repr(factory)))
    args = command.arguments(
        name,
        expect,
        preset=preset,
        builds=builds,
        resolution=resolution,
        max_builds=max_builds,
        pool=pool,
        seed=seed,
        alpha=alpha,
        timeout=timeout,
    )
    kwargs = command.task(args)
    if spec is not None:
        return run_isolated(
            "weight_init.app._child_tasks:audit",
            f"the model factory {spec}",
            args.timeout,
            **kwargs,
        )
    from weight_init.properties.audit._frameworks import audit_model
    from weight_init.properties.audit._loop import parse_expect

    assert not isinstance(factory, str)
    kwargs.update(expect=[parse_expect(text) for text in expect], subject=name)
    for key in ("spec", "scheduler"):
        del kwargs[key]
    report = audit_model(factory, **kwargs)
    options = ", ".join(
        f"{k}={kwargs[k]!r}" for k in ("preset", "resolution", "max_builds", "pool")
    )
    call = (
        f"weight_init.properties.audit._frameworks.audit_model({name}, builds={report.builds}, "
        f"seed={args.seed}, alpha={kwargs['alpha']:g}, {options}, "
        f"expect=[parse_expect(r) for r in {list(expect)!r}])"
    )
    return dataclasses.replace(report, reproduce=f"{call} (a local factory: no command line)")


class AuditFixture:
    """The ``weight_init_audit`` fixture's value: call it for the report, or
    :meth:`assert_conforms` to fail the test unless every checked parameter passes.

    The keywords are ``weight-init audit``'s options, parsed by its parser: ``preset``
    (``--preset``), ``resolution`` (``--resolution``: ``0.01`` or ``"1%"``), ``max_builds``
    (``--max-builds``), ``pool`` (``False``: ``--no-pooling``); ``None`` is the command's
    default."""

    def __init__(self, config: pytest.Config) -> None:
        self._config = config

    def __call__(
        self,
        factory: Callable[..., Any] | str,
        expect: tuple[str, ...] | list[str] = (),
        builds: int | None = None,
        seed: int | None = None,
        *,
        preset: str | None = None,
        resolution: float | str | None = None,
        max_builds: int | None = None,
        pool: bool = True,
    ) -> Any:
        o = RunOptions.of(self._config, seed)
        return _or_fail(
            lambda: run_audit(
                factory,
                tuple(expect),
                builds=builds,
                seed=o.seed,
                alpha=o.alpha,
                timeout=o.timeout,
                preset=preset,
                resolution=resolution,
                max_builds=max_builds,
                pool=pool,
            )
        )

    def assert_conforms(
        self,
        factory: Callable[..., Any] | str,
        expect: tuple[str, ...] | list[str] = (),
        builds: int | None = None,
        seed: int | None = None,
        **options: Any,
    ) -> Any:
        """Audit ``factory`` (``options``: the keywords of the call); fail the test with the
        failing parameters and the reproduction unless every checked parameter passed.
        Returns the report."""
        report = self(factory, expect, builds, seed, **options)
        if not report.passed:
            pytest.fail(report.failure_message(), pytrace=False)
        return report


@pytest.fixture
def weight_init_audit(request: pytest.FixtureRequest) -> AuditFixture:
    """``weight_init_audit(factory, expect=(), builds=None, seed=None, *, preset=None,
    resolution=None, max_builds=None, pool=True)`` -> AuditReport (the keywords:
    ``weight-init audit``'s options); ``weight_init_audit.assert_conforms(...)`` fails the
    test unless the model conforms."""
    return AuditFixture(request.config)


def _spec_of(obj: Callable[..., Any] | str | None) -> str | None:
    """A ``MODULE:ATTR`` for a string or an importable module-level callable, else None."""
    from weight_init.app._isolation import picklable

    if obj is None or isinstance(obj, str):
        return obj
    if picklable(obj):
        return f"{obj.__module__}:{obj.__qualname__}"
    return None


def run_propagate(
    factory: Callable[..., Any] | str,
    *,
    input_shape: tuple[int, ...] | None = None,
    inputs: Callable[..., Any] | str | None = None,
    builds: int = 8,
    seed: int = 0,
    mode: str = "train",
    expect: tuple[str, ...] = (),
    max_growth: float | None = None,
    timeout: float = 300.0,
) -> Any:
    """:func:`~weight_init.properties.propagation.propagate` of ``factory`` in a child process
    (a ``MODULE:FACTORY`` string or an importable module-level callable, and likewise
    ``inputs``; a local function runs in this process) -> PropagationResult."""
    from weight_init.app._isolation import run_isolated
    from weight_init.properties.propagation import propagate

    spec, input_spec = _spec_of(factory), _spec_of(inputs)
    if spec is not None and (inputs is None or input_spec is not None):
        return run_isolated(
            "weight_init.app._child_tasks:propagate",
            f"the model factory {spec}",
            timeout,
            spec=spec,
            input_shape=input_shape,
            input_spec=input_spec,
            builds=builds,
            seed=seed,
            mode=mode,
            expect=list(expect),
            tolerance=0.05,
            max_growth=max_growth,
            trace=True,
        )
    assert not isinstance(factory, str) and not isinstance(inputs, str)
    return propagate(
        factory,
        input_shape=input_shape,
        inputs=inputs,
        builds=builds,
        seed=seed,
        mode=mode,
        expect=expect,
        max_growth=max_growth,
        subject=getattr(factory, "__qualname__", repr(factory)),
    )


class PropagateFixture:
    """The ``weight_init_propagate`` fixture's value: call it for the result, or
    :meth:`assert_passes` to fail the test when the signal or the gradient grows or shrinks
    by more than ``max_growth`` over the model's depth."""

    def __init__(self, config: pytest.Config) -> None:
        self._config = config

    def __call__(
        self,
        factory: Callable[..., Any] | str,
        input_shape: tuple[int, ...] | None = None,
        *,
        inputs: Callable[..., Any] | str | None = None,
        builds: int = 8,
        seed: int | None = None,
        mode: str = "train",
        expect: tuple[str, ...] | list[str] = (),
        max_growth: float | None = None,
    ) -> Any:
        o = RunOptions.of(self._config, seed)
        return _or_fail(
            lambda: run_propagate(
                factory,
                input_shape=input_shape,
                inputs=inputs,
                builds=builds,
                seed=o.seed,
                mode=mode,
                expect=tuple(expect),
                max_growth=max_growth,
                timeout=o.timeout,
            )
        )

    def assert_passes(
        self,
        factory: Callable[..., Any] | str,
        input_shape: tuple[int, ...] | None = None,
        *,
        max_growth: float,
        **kwargs: Any,
    ) -> Any:
        """Propagate ``factory``; fail the test with the diagnosis unless both whole-depth
        growths lie within ``[1/max_growth, max_growth]``. Returns the result."""
        result = self(factory, input_shape, max_growth=max_growth, **kwargs)
        if not result.passed:
            pytest.fail("\n".join(result.diagnosis.lines()), pytrace=False)
        return result


@pytest.fixture
def weight_init_propagate(request: pytest.FixtureRequest) -> PropagateFixture:
    """``weight_init_propagate(factory, input_shape, inputs=None, builds=8, seed=None, ...)``
    -> PropagationResult; ``.assert_passes(..., max_growth=G)`` fails the test when the
    signal or the gradient vanishes or explodes beyond ``G``."""
    return PropagateFixture(request.config)


class CheckItem(pytest.Item):
    """A test item made from one ``--weight-init-check`` option."""

    def __init__(self, *, spec: str, scheme: str, layout: str | None, **kw: Any) -> None:
        super().__init__(**kw)
        self.spec, self.scheme, self.layout = spec, scheme, layout

    def runtest(self) -> None:
        o = RunOptions.of(self.config)
        run_check(
            self.spec, self.scheme, self.layout, seed=o.seed, alpha=o.alpha, timeout=o.timeout
        )

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        from weight_init.errors import CheckFailed, SubjectAbortedError, WeightInitError

        if isinstance(excinfo.value, CheckFailed):
            return str(excinfo.value)
        if isinstance(excinfo.value, SubjectAbortedError):
            return str(excinfo.value)
        if isinstance(excinfo.value, WeightInitError):
            return f"bad input: {excinfo.value}"
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[str, int | None, str]:
        return "weight-init-check", None, self.name


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    for text in config.getoption("--weight-init-check", default=[]) or []:
        spec, scheme, layout = parse_check_option(text)
        items.append(
            CheckItem.from_parent(
                session,
                name=f"weight-init-check[{text}]",
                spec=spec,
                scheme=scheme,
                layout=layout,
            )
        )


_PROFILE_KEY: Any = pytest.StashKey[str]()
#: Set while a decision log is open: the value ``WEIGHT_INIT_DECISION_LOG`` had before.
_LOG_KEY: Any = pytest.StashKey["str | None"]()
