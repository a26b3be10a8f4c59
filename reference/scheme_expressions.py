"""Scheme expressions: any rule a user can state, as text, parsed safely (``ast``, no ``eval``).

The text is parsed by ``ast.parse(text, mode="eval")``; only the node types below are
accepted, arguments must be numeric literals (with unary minus) or bare words, and no name
is ever looked up in Python. A registered scheme name is an expression too.

=============================================  ==============================================
expression                                      law of every entry
=============================================  ==============================================
``NAME``                                        the registered scheme (``he_normal``, ...)
``normal(std=s)``, ``normal(s)``                N(0, s^2)
``normal(std=s, mean=m)``                       N(m, s^2)
``uniform(low=l, high=h)``, ``uniform(l, h)``   U[l, h): variance (h - l)^2/12, mean (l + h)/2;
                                                ``uniform(low=0, high=s)`` is JAX's one-sided
                                                ``jax.nn.initializers.uniform(scale=s)``;
                                                ``a``/``b`` are accepted for ``low``/``high``,
                                                ``uniform(high=b)`` alone is U(-b, b)
``truncated_normal(std=s)``                     N(0, s^2) cut at +-2s, *no* variance
                                                correction (Keras/JAX ``TruncatedNormal``,
                                                timm ``trunc_normal_tf_``): variance
                                                (0.8796 s)^2
``truncated_normal(std=s, a=-c, b=c)``          N(0, s^2) cut at the *absolute* bounds +-c
                                                (torch/timm ``trunc_normal_``): the family
                                                ``TruncatedNormalAt(c / s)``, variance
                                                ``(s_c s)^2``, for ``s <= c < 8s``; c = 2s is
                                                the case above; c >= 8s is N(0, s^2)
``variance_scaling(scale, mode, distribution)``  ``Var = scale / n(mode)``: mode ``fan_in``,
                                                ``fan_out``, ``fan_avg``, ``fan_geo_avg``
                                                (n = sqrt(fan_in fan_out), JAX) or ``fixed``;
                                                distribution ``normal`` (untruncated),
                                                ``truncated_normal`` (corrected) or
                                                ``uniform``
``sparse(sparsity=f, std=s)``                   torch's ``sparse_``: exactly
                                                ``ceil(f * fan_out)`` zeros in each input's
                                                weights (a column of torch's ``(out, in)``
                                                tensor), the rest N(0, s^2); ``std`` defaults
                                                to torch's 0.01
``constant(v)``, ``zeros``, ``ones``            every entry v
``orthogonal(gain=g)``                          g times a Haar orthogonal matrix
``EXPR * gain(act[, param])``, ``EXPR * g``     std (and mean) times
                                                ``calculate_gain(act, param)`` / g
=============================================  ==============================================

Cuts beyond 8 standard deviations: the probability mass removed is
``2 (1 - Phi(8)) < 1.3e-15``, so the law is within that total-variation distance of
N(0, s^2) and no check of fewer than ~1e14 entries can tell them apart; such an expression
is the normal scheme (its description says so). Cuts between 1 and 8 standard deviations
(other than 2) are :class:`~weight_init.families.TruncatedNormalAt` at that cut; a cut
below 1 standard deviation or asymmetric bounds raise
:class:`~weight_init.errors.UnsupportedSchemeError`.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Mapping
from dataclasses import dataclass

from weight_init.arithmetic import evaluate_number, names_in, substitute
from weight_init.errors import InvalidParameterError, UnsupportedSchemeError
from weight_init.families import TruncatedNormalAt
from weight_init.gains import calculate_gain
from weight_init.schemes import (
    MODES,
    SCHEME_ALIASES,
    SCHEMES,
    TRUNCATED_NORMAL_STD,
    Scheme,
    VarianceRule,
    canonical_name,
    constant,
    get_scheme,
    orthogonal,
    sparse,
    truncated_normal_at,
    uniform_interval,
    variance_scaling,
)

#: Truncation (in standard deviations) beyond which a truncated normal is the normal law.
INVISIBLE_CUT = 8.0
DISTRIBUTIONS = ("normal", "untruncated_normal", "truncated_normal", "uniform")
MAX_LENGTH = 500
#: Nonlinearities ``gain(...)`` names (:func:`weight_init.gains.calculate_gain`).
ACTIVATIONS = ("linear", "identity", "sigmoid", "tanh", "relu", "selu", "leaky_relu")
#: Words of the rule language itself.
WORDS = ("ones", "skip", "sqrt", "zero_rows", "gain")


@dataclass(frozen=True)
class ExpressionScheme(Scheme):
    """A scheme built from an expression; ``str()`` is its canonical expression."""

    def __str__(self) -> str:
        return self.name


def _number(node: ast.expr, what: str) -> float:
    return evaluate_number(node, what)


def _word(node: ast.expr, what: str) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    raise InvalidParameterError(f"{what} must be a word, got {ast.unparse(node)!r}")


def _arguments(call: ast.Call, names: tuple[str, ...]) -> dict[str, ast.expr]:
    """Positional then keyword arguments of ``call``, by parameter name."""
    fn = ast.unparse(call.func)
    if len(call.args) > len(names):
        raise InvalidParameterError(f"{fn}() takes at most {len(names)} arguments")
    args = dict(zip(names, call.args, strict=False))
    for kw in call.keywords:
        if kw.arg is None or kw.arg not in names:
            raise InvalidParameterError(
                f"{fn}() has no argument {kw.arg!r}; its arguments are {', '.join(names)}"
            )
        if kw.arg in args:
            raise InvalidParameterError(f"{fn}() got {kw.arg} twice")
        args[kw.arg] = kw.value
    return args


def _fixed(variance: float, family: str, name: str, description: str = "") -> Scheme:
    s = variance_scaling(variance, "fixed", family, name=name)
    return ExpressionScheme(name, s.family, s.rule, description=description)


def _positive(value: float, what: str) -> float:
    if value <= 0:
        raise InvalidParameterError(f"{what} must be positive, got {value:g}")
    return value


def _truncated(args: dict[str, ast.expr], name: str) -> Scheme:
    s = _positive(_number(args["std"], "std"), "std") if "std" in args else 1.0
    if "a" not in args and "b" not in args:
        return _fixed(
            (TRUNCATED_NORMAL_STD * s) ** 2,
            "truncated_normal",
            name,
            "N(0, std^2) cut at +-2 std, no variance correction",
        )
    if "a" not in args or "b" not in args:
        raise InvalidParameterError(f"{name}: give both bounds a and b")
    a, b = _number(args["a"], "a"), _number(args["b"], "b")
    if a != -b or b <= 0:
        raise UnsupportedSchemeError(f"{name}: only symmetric bounds a = -b < 0 are supported")
    c = b / s
    if math.isclose(c, 2.0, rel_tol=1e-12):
        return _fixed(
            (TRUNCATED_NORMAL_STD * s) ** 2,
            "truncated_normal",
            name,
            "N(0, std^2) cut at +-2 std, no variance correction",
        )
    if c >= INVISIBLE_CUT:
        return _fixed(
            s * s,
            "normal",
            name,
            f"N(0, std^2) cut at {c:.3g} std: removed mass < 1.3e-15, the normal law",
        )
    if c < TruncatedNormalAt.MIN_CUT:
        raise UnsupportedSchemeError(
            f"{name}: a cut at {c:.3g} std (< {TruncatedNormalAt.MIN_CUT:g}) is not supported"
        )
    t = truncated_normal_at(s, c, name=name)
    return ExpressionScheme(
        name,
        t.family,
        t.rule,
        description=f"N(0, std^2) cut at +-{c:.4g} std, no variance correction",
    )


def _call(node: ast.Call, name: str) -> Scheme:
    if not isinstance(node.func, ast.Name):
        raise InvalidParameterError(f"cannot parse {name!r}: expected NAME(...)")
    fn = node.func.id
    if fn == "normal":
        args = _arguments(node, ("std", "mean"))
        s = _positive(_number(args["std"], "std"), "std") if "std" in args else 1.0
        m = _number(args["mean"], "mean") if "mean" in args else 0.0
        n = _fixed(s * s, "normal", name)
        return ExpressionScheme(name, n.family, n.rule, value=m)
    if fn == "uniform":
        args = _arguments(node, ("low", "high", "a", "b"))
        for alias, key in (("a", "low"), ("b", "high")):
            if alias in args:
                if key in args:
                    raise InvalidParameterError(f"{name}: give {key} or {alias}, not both")
                args[key] = args.pop(alias)
        if "high" not in args:
            raise InvalidParameterError(f"{name}: give the upper bound high")
        hi = _number(args["high"], "high")
        lo = _number(args["low"], "low") if "low" in args else -_positive(hi, "high")
        u = uniform_interval(lo, hi, name=name)
        return ExpressionScheme(name, u.family, u.rule, value=u.value)
    if fn == "truncated_normal":
        return _truncated(_arguments(node, ("std", "a", "b")), name)
    if fn == "variance_scaling":
        args = _arguments(node, ("scale", "mode", "distribution"))
        scale = _number(args["scale"], "scale") if "scale" in args else 1.0
        mode = _word(args["mode"], "mode") if "mode" in args else "fan_in"
        dist = _word(args["distribution"], "distribution") if "distribution" in args else "normal"
        if mode not in MODES:
            raise InvalidParameterError(f"unknown mode {mode!r}; choose one of {', '.join(MODES)}")
        if dist not in DISTRIBUTIONS:
            raise InvalidParameterError(
                f"unknown distribution {dist!r}; choose one of {', '.join(DISTRIBUTIONS)}"
            )
        vs = variance_scaling(scale, mode, dist, name=name)
        return ExpressionScheme(name, vs.family, vs.rule)
    if fn == "constant":
        args = _arguments(node, ("value",))
        c = constant(_number(args["value"], "value") if "value" in args else 0.0, name=name)
        return ExpressionScheme(name, c.family, c.rule, value=c.value)
    if fn == "orthogonal":
        args = _arguments(node, ("gain",))
        o = orthogonal(_number(args["gain"], "gain") if "gain" in args else 1.0, name=name)
        return ExpressionScheme(name, o.family, o.rule)
    if fn == "sparse":
        args = _arguments(node, ("sparsity", "std"))
        if "sparsity" not in args:
            raise InvalidParameterError(f"{name}: give the sparsity, e.g. sparse(sparsity=0.1)")
        std = _number(args["std"], "std") if "std" in args else 0.01
        sp = sparse(_number(args["sparsity"], "sparsity"), std, name=name)
        return ExpressionScheme(name, sp.family, sp.rule)
    raise InvalidParameterError(
        f"unknown scheme function {fn!r}; choose normal, uniform, truncated_normal, "
        f"variance_scaling, sparse, constant, orthogonal or a registered name"
    )


def _gain(node: ast.expr) -> float:
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "gain":
        args = _arguments(node, ("nonlinearity", "param"))
        if "nonlinearity" not in args:
            raise InvalidParameterError("gain() needs a nonlinearity, e.g. gain(tanh)")
        param = _number(args["param"], "param") if "param" in args else None
        return calculate_gain(_word(args["nonlinearity"], "nonlinearity"), param)
    return _positive(_number(node, "a gain"), "a gain")


def _scaled(scheme: Scheme, g: float, name: str) -> Scheme:
    """``g`` times every entry: the std and the mean (a constant's value) scale by ``g``."""
    if scheme.family == "constant":
        return ExpressionScheme(name, scheme.family, scheme.rule, value=scheme.value * g)
    rule = VarianceRule(scheme.rule.scale * g * g, scheme.rule.mode)
    return ExpressionScheme(
        name, scheme.family, rule, value=scheme.value * g, description=scheme.description
    )


#: Named rules that are not registered schemes (the registry feeds identification and the
#: calibration; these are layer defaults the catalogs state), by name: (expression, what).
NAMED_RULES: dict[str, tuple[str, str]] = {
    "torch_rnn_default": (
        "variance_scaling(1/3, fan_out, uniform)",
        "torch's LSTM/GRU/RNN default: U(-1/sqrt(hidden), +) on a gate block of fans (in, hidden)",
    ),
}


def _build(node: ast.expr, name: str) -> Scheme:
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mult, ast.Div)):
        g = _gain(node.right)
        return _scaled(_build(node.left, name), g if isinstance(node.op, ast.Mult) else 1 / g, name)
    if isinstance(node, ast.Call):
        return _call(node, name)
    if isinstance(node, ast.Name):
        if node.id == "ones":
            c = constant(1.0, name="ones")
            return ExpressionScheme("ones", c.family, c.rule, value=1.0)
        if node.id in NAMED_RULES:
            text, what = NAMED_RULES[node.id]
            s = _build(ast.parse(text, mode="eval").body, node.id)
            return ExpressionScheme(node.id, s.family, s.rule, s.value, what)
        s = get_scheme(node.id)
        return ExpressionScheme(s.name, s.family, s.rule, s.value, s.description)
    raise InvalidParameterError(
        f"cannot parse {ast.unparse(node)!r}: expected NAME, NAME(...), EXPR * g or EXPR / g"
    )


def parse_tree(text: str, names: Mapping[str, float] | None = None) -> ast.expr:
    """The syntax tree of ``text`` with the numbers ``names`` binds written in (one clear
    error for text that is not an expression); reserved words are never bound."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidParameterError(f"expected a scheme expression, got {text!r}")
    if len(text) > MAX_LENGTH:
        raise InvalidParameterError(f"scheme expression longer than {MAX_LENGTH} characters")
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        raise InvalidParameterError(f"cannot parse scheme expression {text!r}") from None
    if names:
        bound = {k: v for k, v in names.items() if k not in reserved_words()}
        if names_in(tree) & set(bound):
            tree = substitute(tree, bound)
    return tree


def reserved_words() -> frozenset[str]:
    """Words an expression reads as themselves, never as a bound number: scheme and rule
    names, modes, distributions, activations."""
    return frozenset(
        {*SCHEMES, *SCHEME_ALIASES, *NAMED_RULES, *MODES, *DISTRIBUTIONS, *ACTIVATIONS, *WORDS}
    )


def scheme_from_tree(tree: ast.expr) -> Scheme:
    """The scheme the (bound) syntax tree ``tree`` states; its name is the canonical text."""
    return _build(tree, ast.unparse(tree))


def parse_scheme(text: str | Scheme, names: Mapping[str, float] | None = None) -> Scheme:
    """The scheme ``text`` states; a registered name gives that scheme.

    The text is parsed by ``ast`` (never evaluated): only the expressions in
    :mod:`weight_init.scheme_expressions`'s table are accepted (``normal(std=s)``,
    ``uniform(l, h)``, ``truncated_normal(std=s, a=-c, b=c)``,
    ``variance_scaling(scale, mode, distribution)``, ``sparse(...)``, ``constant(v)``,
    ``orthogonal(gain=g)``, ``EXPR * gain(act)``, a registered name), with numeric literals or
    bare words as arguments.

    Parameters
    ----------
    text : str or Scheme
        The expression (at most 500 characters), or a scheme (returned unchanged).
    names : mapping of str to float, optional
        Numbers the expression's bare names stand for (a model configuration's
        ``initializer_range``, ``n_layer``); the canonical name shows their values. Numbers
        are arithmetic: literals, ``+ - * / **``, parentheses, ``sqrt`` and these names.

    Returns
    -------
    Scheme
        The scheme the expression states.

    Raises
    ------
    InvalidParameterError
        ``text`` is empty, too long, not parseable, or names an unknown function or argument.
    UnsupportedSchemeError
        A law outside the families (a cut below 1 standard deviation, asymmetric bounds).

    Examples
    --------
    >>> from weight_init.scheme_expressions import parse_scheme
    >>> parse_scheme("normal(std=0.02)").describe()
    'normal, std 0.02'
    >>> parse_scheme("normal(1) * gain('tanh')").describe()
    'normal, std 1.66667'
    >>> parse_scheme("normal(std=0.02 / sqrt(2 * n_layer))", {"n_layer": 12}).name
    'normal(std=0.02 / sqrt(2 * 12))'
    >>> parse_scheme("__import__('os')")
    Traceback (most recent call last):
        ...
    weight_init.errors.InvalidParameterError: unknown scheme function '__import__'; ...
    """
    if isinstance(text, Scheme):
        return text
    if isinstance(text, str) and canonical_name(text) in SCHEMES:
        return SCHEMES[canonical_name(text)]
    return scheme_from_tree(parse_tree(text, names))
