"""The property registry: every claim of the notes as one declarative :class:`Property`.

A property states its claim (one sentence), the condition it needs (the activations it is
stated for, the forward_prop contract), its parameters with their defaults, the scheme a
case uses, the Hypothesis strategy of cases, the cases :func:`~weight_init.properties.claims._suite.
run_suite` draws from a seed, and its assertions: a function of one :class:`Context` (the
subject's run on the case) returning test results. :func:`evaluate` is the one generic
evaluation: it runs the subject, turns a case the subject cannot run into an
``inconclusive`` verdict, a broken contract into a failed ``contract`` test naming it
(``returned 9 layers for 10 widths``), and Holm-corrects the assertions' tests into a
:class:`~weight_init.properties._results.Verdict` (family-wise false-fail rate ``alpha``).

Adding a property touches one place: a module that builds a :class:`Property` and calls
:func:`register` (built-in ones are listed in ``BUILTIN`` so their order, and hence the
suite's seeded cases, is fixed). Read it back through :data:`PROPERTIES` (name ->
property, built-ins first) or :func:`get`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import Enum
from typing import TYPE_CHECKING, Any

import numpy as np

from weight_init.errors import ForwardPropContractError, InvalidParameterError
from weight_init.properties._results import RanOn, TestResult, Verdict
from weight_init.properties._subject import NOTES_ACTIVATION, Run, Subject, UnsupportedCase
from weight_init.properties.claims import _assertions as A
from weight_init.schemes import Scheme, get_scheme

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

#: The built-in property modules, in the order run_suite runs them (and draws their cases).
BUILTIN: tuple[str, ...] = (
    "symmetry",
    "vanishing",
    "saturation",
    "bounded_decay",
    "second_moment",
    "theory_agreement",
)

Params = Mapping[str, Any]


class Contract(str, Enum):
    """The forward_prop contract a property needs: the notes' bare ``(hidden_layer_sizes,
    init)`` (run under numpy's legacy state, tanh, an unknown input) or the flexible one
    (``x=``, ``seed=``, ``activation=``)."""

    NOTES = "notes"
    FLEXIBLE = "flexible"


@dataclass(frozen=True)
class Condition:
    """What a claim needs: the activations it is stated for (``None``: any registered one,
    the case's ``activation`` parameter) and the contract of the code under test."""

    activations: tuple[str, ...] | None = None
    contract: Contract = Contract.NOTES

    def activation(self, params: Params) -> str:
        """The case's activation: its ``activation`` parameter, else the claim's first."""
        if "activation" in params:
            return str(params["activation"])
        return self.activations[0] if self.activations else NOTES_ACTIVATION

    def runnable_by(self, subject: Subject, params: Params) -> bool:
        """Whether ``subject`` can run this case (a notes-contract subject: tanh only)."""
        if subject.flexible:
            return True
        return self.contract is Contract.NOTES and self.activation(params) == NOTES_ACTIVATION


@dataclass(frozen=True)
class Context:
    """One evaluation: the case's parameters (defaults filled), its scheme, the subject, the
    subject's run, and the family-wise ``alpha``."""

    params: Params
    scheme: Scheme
    subject: Subject
    run: Run
    alpha: float

    @property
    def seed(self) -> int:
        return int(self.params["seed"])

    @property
    def widths(self) -> list[int]:
        return [int(w) for w in self.params["widths"]]


@dataclass(frozen=True, eq=False)
class Property:
    """A claim of the notes as a checked statement.

    A property states its claim (one sentence), the condition it needs (the activations it is
    stated for, the forward_prop contract), its parameters with their defaults, the scheme a
    case uses, the Hypothesis strategy of cases, the cases :func:`run_suite` draws from a
    seed, and its assertions: a function of one evaluation context (the subject's run on the
    case) returning test results. Calling it,
    ``prop(forward_prop=None, *, alpha=1e-3, **params)``, evaluates one case on
    ``forward_prop`` (``None``: the reference): a case the subject cannot run gives an
    ``inconclusive`` verdict, a broken contract a failed ``contract`` test naming it
    (``returned 9 layers for 10 widths``), and the assertions' tests are Holm-corrected into
    a :class:`~weight_init.properties._results.Verdict` (family-wise false-fail rate
    ``alpha``). Unknown parameters are refused (:class:`~weight_init.errors.InvalidParameterError`).

    Parameters
    ----------
    name : str
        The property's name, its key in :data:`PROPERTIES`.
    claim : str
        The claim, in one sentence.
    condition : Condition
        What the claim needs: the activations it is stated for and the forward_prop contract
        of the code under test (the notes' bare ``(hidden_layer_sizes, init)``, or the flexible
        one with ``x=``, ``seed=``, ``activation=``).
    defaults : mapping
        Every parameter of a case (``widths``, ``n_samples``, ``input_dim``, ``seed`` and the
        property's own) with its default.
    scheme : callable
        ``scheme(params) -> Scheme``: the scheme a case uses.
    assertions : callable
        ``assertions(context) -> sequence of TestResult``: the claim's tests on one run.
    suite_cases : callable
        ``suite_cases(generator) -> sequence of dict``: :func:`run_suite`'s cases, drawn from
        a Generator seeded by the suite's seed (their ``seed`` is set by the suite).
    strategy : callable
        ``strategy() -> SearchStrategy``: the Hypothesis strategy of case parameters
        (imported lazily).
    condition_holds : callable, optional
        ``condition_holds(params, input_dim) -> bool``: whether a case satisfies the claim's
        quantitative condition (reported in the verdict's metadata).

    See Also
    --------
    register : add a property to :data:`PROPERTIES`.

    Examples
    --------
    >>> from weight_init.properties.claims import PROPERTIES
    >>> vanishing = PROPERTIES["vanishing"]
    >>> print(vanishing.claim)
    Under a small fixed-std init with every layer gain g_l < 1 in the linear regime, ...
    >>> verdict = vanishing(None, widths=[64, 64, 64], n_samples=64, input_dim=64, alpha=1e-7)
    >>> verdict.outcome, verdict.alpha  # the family-wise level (default 1e-3)
    ('pass', 1e-07)
    >>> print(verdict.metadata["reproduce"])  # a call that reproduces this evaluation
    from weight_init... import PROPERTIES; PROPERTIES['vanishing'](None, widths=[64, 64, 64], ...)
    """

    name: str
    claim: str
    condition: Condition
    defaults: Params
    scheme: Callable[[Params], Scheme]
    assertions: Callable[[Context], Sequence[TestResult]]
    suite_cases: Callable[[np.random.Generator], Sequence[dict[str, Any]]]
    strategy: Callable[[], SearchStrategy[dict[str, Any]]]
    condition_holds: Callable[[Params, int], bool] | None = None

    def __call__(
        self, forward_prop: object = None, *, alpha: float = 1e-3, **params: Any
    ) -> Verdict:
        return evaluate(self, forward_prop, alpha=alpha, **params)

    def reproduce(self, params: Params) -> str:
        """A copy-pasteable call reproducing one evaluation on the reference.

        Parameters
        ----------
        params : mapping
            The case's parameters.

        Returns
        -------
        str
            Python source that evaluates this property on the case.
        """
        args = "".join(f", {k}={_plain(v)!r}" for k, v in params.items())
        return (
            "from weight_init.properties.claims import PROPERTIES; "
            f"PROPERTIES[{self.name!r}](None{args})"
        )


def _plain(value: object) -> object:
    return list(value) if isinstance(value, tuple) else value


def evaluate(
    prop: Property, forward_prop: object = None, *, alpha: float = 1e-3, **params: Any
) -> Verdict:
    """Run ``prop`` on ``forward_prop`` (``None``: the reference) for one case.

    Every test that ran on the subject's output is marked ``RanOn.SUBJECT`` unless its
    assertion said otherwise (the reference's backward pass, the scheme alone).
    """
    unknown = sorted(set(params) - set(prop.defaults))
    if unknown:
        raise InvalidParameterError(
            f"property {prop.name!r} has no parameter(s) {', '.join(unknown)}; "
            f"its parameters: {', '.join(prop.defaults)}"
        )
    case = {**prop.defaults, **params}
    scheme = prop.scheme(case)
    activation = prop.condition.activation(case)
    subject = Subject.of(forward_prop)  # type: ignore[arg-type]
    metadata: dict[str, object] = {
        "property": prop.name,
        "claim": prop.claim,
        "case": dict(params),
        "reproduce": prop.reproduce(case),
    }
    tests: list[TestResult]
    try:
        if not prop.condition.runnable_by(subject, case):
            raise UnsupportedCase(
                f"{subject.name} follows the notes' contract only (no x=/seed=/activation=): "
                f"'{prop.name}' needs the {prop.condition.contract.value} contract and "
                f"{activation}, not {NOTES_ACTIVATION}"
            )
        run = subject.run(
            case["widths"],
            scheme,
            seed=int(case["seed"]),
            activation=activation,
            n_samples=int(case["n_samples"]),
            input_dim=int(case["input_dim"]),
        )
    except UnsupportedCase as exc:
        reason = str(exc)
        tests = [TestResult(prop.name, float("nan"), None, alpha, None, reason, reason)]
    except ForwardPropContractError as exc:
        tests = [
            A.exact(
                "contract",
                1.0,
                0.0,
                False,
                "the forward_prop does not return (acts, means, stds) with one entry per "
                "layer of the right shape",
                f"forward_prop({list(case['widths'])}, ...): {exc}",
            )
        ]
    else:
        tests = list(prop.assertions(Context(case, scheme, subject, run, alpha)))
        if prop.condition_holds is not None:
            metadata["condition_holds"] = prop.condition_holds(case, run.input_dim)
    tests = [t if t.ran_on is not None else replace(t, ran_on=RanOn.SUBJECT) for t in tests]
    return A.family(subject.name, tests, alpha, metadata=metadata)


class _Registry(Mapping[str, Property]):
    """Name -> registered property; the built-ins (loaded on first access) come first."""

    def __init__(self) -> None:
        self._props: dict[str, Property] = {}
        self._loading = False
        self._loaded = False

    def _load(self) -> None:
        if self._loaded or self._loading:
            return
        self._loading = True
        try:
            for module in BUILTIN:
                importlib.import_module(f"weight_init.properties.claims._{module}")
        finally:
            self._loading = False
        self._loaded = True

    def add(self, prop: Property) -> None:
        if prop.name in self._props and self._props[prop.name] is not prop:
            raise InvalidParameterError(f"a property named {prop.name!r} is already registered")
        self._props[prop.name] = prop

    def remove(self, name: str) -> None:
        self._props.pop(name, None)

    def _order(self) -> list[str]:
        self._load()
        builtin = [n for n, p in self._props.items() if _module_of(p) in BUILTIN]
        builtin.sort(key=lambda n: BUILTIN.index(_module_of(self._props[n])))
        return builtin + [n for n in self._props if n not in builtin]

    def __getitem__(self, name: str) -> Property:
        self._load()
        return self._props[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._order())

    def __len__(self) -> int:
        self._load()
        return len(self._props)


def _module_of(prop: Property) -> str:
    return str(getattr(prop.assertions, "__module__", "")).rpartition(".")[2].lstrip("_")


#: Every registered property, by name (built-ins first, in ``BUILTIN`` order).
PROPERTIES = _Registry()


def register(prop: Property) -> Property:
    """Add ``prop`` to :data:`PROPERTIES` and return it.

    Adding a property touches one place: a module that builds a :class:`Property` and calls
    ``my_claim = register(Property(...))``; :func:`run_suite`, the Hypothesis tests, the report
    and the calibration read it from :data:`PROPERTIES` (built-ins first).

    Parameters
    ----------
    prop : Property
        The property; registering the same object again is a no-op.

    Returns
    -------
    Property
        ``prop`` itself.

    Raises
    ------
    InvalidParameterError
        A different property of the same name is registered.

    See Also
    --------
    unregister : remove it again.

    Examples
    --------
    >>> import dataclasses
    >>> from weight_init.properties.claims import PROPERTIES, register, unregister
    >>> copy = dataclasses.replace(PROPERTIES["vanishing"], name="vanishing_again")
    >>> register(copy) is copy
    True
    >>> PROPERTIES["vanishing_again"] is copy
    True
    >>> unregister("vanishing_again")
    >>> "vanishing_again" in PROPERTIES
    False
    """
    PROPERTIES.add(prop)
    return prop


def unregister(name: str) -> None:
    """Remove a property (for tests that register a toy one).

    Parameters
    ----------
    name : str
        The property's name; an unknown name is ignored.

    Examples
    --------
    >>> from weight_init.properties.claims import PROPERTIES, unregister
    >>> unregister("no_such_property")
    >>> "vanishing" in PROPERTIES
    True
    """
    PROPERTIES.remove(name)


def get(name: str) -> Property:
    """The property named ``name``, or an InvalidParameterError listing the known names."""
    try:
        return PROPERTIES[name]
    except KeyError:
        known = ", ".join(PROPERTIES)
        raise InvalidParameterError(f"no property {name!r}; known: {known}") from None


def builtin() -> list[str]:
    """The names of the built-in properties, in run order."""
    return [n for n in PROPERTIES if _module_of(PROPERTIES[n]) in BUILTIN]


def scheme_param(params: Params) -> Scheme:
    """The registered scheme a case names in its ``scheme`` parameter (a ``Property.scheme``)."""
    return get_scheme(str(params["scheme"]))


def draw_widths(gen: np.random.Generator, depth: int, lo: int = 32, hi: int = 128) -> list[int]:
    """``depth`` widths drawn uniformly from ``lo..hi`` (unequal neighbours), for suite cases."""
    return [int(w) for w in gen.integers(lo, hi + 1, size=depth)]
