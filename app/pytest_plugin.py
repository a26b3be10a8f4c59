"""pytest plugin of weight_init (entry point ``pytest11``), active wherever it is installed.

It imports nothing heavy at load time: the checks are imported when used.

Options (group ``weight-init``):

``--weight-init-profile {dev,ci,thorough}``
    Hypothesis settings profile (see :mod:`weight_init.properties.profiles`).
``--weight-init-check SPEC=SCHEME[@CONVENTION]`` (repeatable)
    Add one test item per option that checks the initializer ``SPEC`` (``MODULE:ATTR``,
    ``torch:NAME``, ``jax:NAME``, ``keras:NAME``) against the registered ``SCHEME``, e.g.
    ``pytest --weight-init-check mynet.init:he_init=he_normal``; the item fails with the
    check's table and diagnosis.
``--weight-init-seed N``, ``--weight-init-alpha A``
    Seed of every check (default 0) and its family-wise false-alarm rate (default 1e-4).

Fixture ``weight_init_check``: call it in a test as
``weight_init_check(fn, "he_normal", convention="in_out")`` (``fn`` a callable or a
``SPEC`` string); it returns the :class:`~weight_init.properties.results.Verdict` and
fails the test with the table and diagnosis when the initializer does not conform.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("weight-init", "weight_init initializer verification")
    group.addoption(
        "--weight-init-profile",
        choices=("dev", "ci", "thorough"),
        default=None,
        help="Hypothesis profile: dev (random, 25 examples), ci (derandomized), "
        "thorough (300 examples). Default: $WEIGHT_INIT_PROFILE, else ci under CI, else dev.",
    )
    group.addoption(
        "--weight-init-check",
        action="append",
        default=[],
        metavar="SPEC=SCHEME[@CONVENTION]",
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


def pytest_configure(config: pytest.Config) -> None:
    from weight_init.properties import profiles

    chosen = profiles.load(config.getoption("--weight-init-profile"))
    config.stash[_PROFILE_KEY] = chosen


def pytest_report_header(config: pytest.Config) -> list[str]:
    return [f"weight-init: hypothesis profile {config.stash.get(_PROFILE_KEY, '?')!r}"]


def parse_check_option(text: str) -> tuple[str, str, str | None]:
    """``"SPEC=SCHEME[@CONVENTION]"`` -> ``(spec, scheme, convention or None)``."""
    spec, sep, rest = text.rpartition("=")
    if not sep or not spec or not rest:
        raise pytest.UsageError(
            f"--weight-init-check expects SPEC=SCHEME[@CONVENTION], got {text!r}"
        )
    scheme, _, convention = rest.partition("@")
    return spec, scheme, convention or None


class CheckFailed(AssertionError):
    """An initializer did not conform; the message is the check's table."""


def run_check(
    fn: Callable[..., Any] | str,
    scheme: str,
    convention: str | None = None,
    *,
    seed: int = 0,
    alpha: float = 1e-4,
) -> Any:
    """Run :func:`~weight_init.properties.conformance.check_initializer`; raise
    :class:`CheckFailed` (with the table) unless the verdict passes."""
    from weight_init.properties.adapters import resolve
    from weight_init.properties.conformance import check_initializer

    subject = None
    if isinstance(fn, str):
        cand = resolve(fn)
        subject = fn
        convention = convention or cand.convention
        fn = cand.fn
    conv = convention or "in_out"
    if subject is not None:
        subject = f"{subject} as {scheme} ({conv})"
    verdict = check_initializer(fn, scheme, conv, seed=seed, alpha=alpha, subject=subject)
    if not verdict.passed:
        raise CheckFailed(verdict.format_table())
    return verdict


@pytest.fixture
def weight_init_check(request: pytest.FixtureRequest) -> Callable[..., Any]:
    """``weight_init_check(fn_or_spec, scheme, convention=None, seed=None)`` -> Verdict;
    fails the test with the check's table when the initializer does not conform."""
    cfg = request.config

    def check(
        fn: Callable[..., Any] | str,
        scheme: str,
        convention: str | None = None,
        seed: int | None = None,
    ) -> Any:
        try:
            return run_check(
                fn,
                scheme,
                convention,
                seed=cfg.getoption("--weight-init-seed") if seed is None else seed,
                alpha=cfg.getoption("--weight-init-alpha"),
            )
        except CheckFailed as exc:
            message = str(exc)
        pytest.fail(message, pytrace=False)

    return check


class CheckItem(pytest.Item):
    """A test item made from one ``--weight-init-check`` option."""

    def __init__(self, *, spec: str, scheme: str, convention: str | None, **kw: Any) -> None:
        super().__init__(**kw)
        self.spec, self.scheme, self.convention = spec, scheme, convention

    def runtest(self) -> None:
        run_check(
            self.spec,
            self.scheme,
            self.convention,
            seed=self.config.getoption("--weight-init-seed"),
            alpha=self.config.getoption("--weight-init-alpha"),
        )

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, CheckFailed):
            return str(excinfo.value)
        from weight_init.errors import WeightInitError

        if isinstance(excinfo.value, WeightInitError):
            return f"bad input: {excinfo.value}"
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[str, int | None, str]:
        return "weight-init-check", None, self.name


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    for text in config.getoption("--weight-init-check", default=[]) or []:
        spec, scheme, convention = parse_check_option(text)
        items.append(
            CheckItem.from_parent(
                session,
                name=f"weight-init-check[{text}]",
                spec=spec,
                scheme=scheme,
                convention=convention,
            )
        )


_PROFILE_KEY: Any = pytest.StashKey[str]()
