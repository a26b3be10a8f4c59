"""The schema of ``summary.json`` (JSON Schema, draft 2020-12) and :func:`validate`.

The schemas use ``type``, ``required``, ``properties``, ``items``, ``minItems`` and ``enum``;
:func:`validate` checks a document with :mod:`jsonschema` and reports each violation as one
``"<json path>: <problem>"`` line. They pin the summary's structure in tests and for
consumers.
"""

from __future__ import annotations

from typing import Any

NUMBER_OR_NULL = {"type": ["number", "null"]}

#: A test of a verdict. A numeric field is a number or null, never a string: a non-finite
#: statistic (e.g. -inf when every draw lies beyond a bound) is null and named in
#: ``nonfinite`` ({"statistic": "-inf"}). ``meaning`` says what a failure would mean;
#: ``explanation`` repeats it only when the test failed, else it is null.
TEST_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": [
        "name",
        "statistic",
        "p_value",
        "threshold",
        "passed",
        "outcome",
        "meaning",
        "explanation",
    ],
    "properties": {
        "name": {"type": "string"},
        "statistic": NUMBER_OR_NULL,
        "p_value": NUMBER_OR_NULL,
        "threshold": NUMBER_OR_NULL,
        "passed": {"type": ["boolean", "null"]},
        "outcome": {"type": "string", "enum": ["pass", "fail", "inconclusive"]},
        "meaning": {"type": "string"},
        "explanation": {"type": ["string", "null"]},
        "nonfinite": {"type": "object"},
    },
}

VERDICT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["subject", "alpha", "outcome", "tests"],
    "properties": {
        "subject": {"type": "string"},
        "alpha": {"type": "number"},
        "outcome": {"type": "string", "enum": ["pass", "fail", "inconclusive"]},
        "tests": {"type": "array", "items": TEST_SCHEMA},
    },
}

LAYER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": [
        "layer",
        "mean",
        "std",
        "theory_mean",
        "theory_std",
        "saturated_fraction",
        "theory_saturated_fraction",
        "preact_grad_std",
        "theory_preact_grad_std",
        "weight_grad_norm",
        "theory_weight_grad_norm",
        "histogram",
    ],
    "properties": {
        "layer": {"type": "integer"},
        "mean": {"type": "number"},
        "std": {"type": "number"},
        "saturated_fraction": {"type": "number"},
        "preact_grad_std": {"type": "number"},
        "weight_grad_norm": {"type": "number"},
        "theory_mean": NUMBER_OR_NULL,
        "theory_std": NUMBER_OR_NULL,
        "theory_saturated_fraction": NUMBER_OR_NULL,
        "theory_preact_grad_std": NUMBER_OR_NULL,
        "theory_weight_grad_norm": NUMBER_OR_NULL,
        "histogram": {
            "type": "object",
            "required": ["edges", "counts", "zero_fraction", "zeros_binned"],
            "properties": {
                "edges": {"type": "array", "items": {"type": "number"}, "minItems": 2},
                "counts": {"type": "array", "items": {"type": "integer"}, "minItems": 1},
                "zero_fraction": {"type": "number"},
                "zeros_binned": {"type": "boolean"},
            },
        },
    },
}

#: What a parameter's (or its pooled group's) entries detect with power 0.99
#: (``weight_init.properties.audit._resolution.Resolution``); null: nothing detectable.
RESOLUTION_OR_NULL: dict[str, Any] = {
    "type": ["object", "null"],
    "properties": {
        "entries": {"type": "integer"},
        "pairs": {"type": "integer"},
        "tests": {"type": "integer"},
        "std_error": NUMBER_OR_NULL,
        "mean_shift": NUMBER_OR_NULL,
        "correlation": NUMBER_OR_NULL,
        "between_builds": NUMBER_OR_NULL,
        "unit_halves": NUMBER_OR_NULL,
        "input_halves": NUMBER_OR_NULL,
        "clip_mass": NUMBER_OR_NULL,
        "spike_over_bbp": NUMBER_OR_NULL,
    },
}

#: One parameter of a model audit (``weight_init.properties.audit._result.ParamAudit``).
AUDIT_PARAMETER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": [
        "name",
        "layer",
        "shape",
        "layout",
        "fans",
        "family",
        "family_distance",
        "variance",
        "closest_scheme",
        "closest_ratio",
        "fan_rule",
        "identified_rule",
        "expected",
        "expected_from",
        "outcome",
        "diagnosis",
        "tests",
    ],
    "properties": {
        "name": {"type": "string"},
        "layer": {"type": "string"},
        "shape": {"type": "array", "items": {"type": "integer"}},
        "layout": {"type": "string"},
        "fans": {"type": "array", "items": {"type": "integer"}, "minItems": 2},
        "family": {"type": "string"},
        "family_distance": NUMBER_OR_NULL,
        "variance": NUMBER_OR_NULL,
        "closest_scheme": {"type": ["string", "null"]},
        "closest_ratio": NUMBER_OR_NULL,
        "fan_rule": {"type": ["string", "null"]},
        "identified_rule": {"type": ["string", "null"]},
        "expected": {"type": ["string", "null"]},
        "expected_from": {"type": ["string", "null"]},
        "outcome": {"type": "string", "enum": ["pass", "fail", "inconclusive", "unchecked"]},
        "diagnosis": {"type": ["string", "null"]},
        "tests": {"type": ["array", "null"], "items": {"type": "object"}},
        "resolution": RESOLUTION_OR_NULL,
        "group_size": {"type": "integer"},
        "group": {"type": ["string", "null"]},
        "group_resolution": RESOLUTION_OR_NULL,
        "stated_resolution": RESOLUTION_OR_NULL,
        "target_resolution": {"type": "number"},
    },
}

#: One ``--audit`` of a report: the request and the audit of every parameter.
AUDIT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["spec", "expect", "subject", "builds", "seed", "alpha", "outcome", "parameters"],
    "properties": {
        "spec": {"type": "string"},
        "expect": {"type": "array", "items": {"type": "string"}},
        "subject": {"type": "string"},
        "builds": {"type": "integer"},
        "seed": {"type": "integer"},
        "alpha": {"type": "number"},
        "outcome": {"type": "string", "enum": ["pass", "fail", "inconclusive"]},
        "parameters": {"type": "array", "items": AUDIT_PARAMETER_SCHEMA},
    },
}

GRID = {"type": "array", "items": {"type": "array", "items": {"type": "number"}}}

SUMMARY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": [
        "experiments",
        "phase_diagram",
        "property_verdicts",
        "checks",
        "audits",
        "config",
        "versions",
    ],
    "properties": {
        "experiments": {
            "type": "array",
            "items": {
                "type": "object",
                "required": [
                    "scheme",
                    "activation",
                    "depth",
                    "width",
                    "samples",
                    "input_dim",
                    "seed",
                    "theory",
                    "layers",
                ],
                "properties": {
                    "scheme": {"type": "string"},
                    "activation": {"type": "string"},
                    "depth": {"type": "integer"},
                    "width": {"type": "integer"},
                    "samples": {"type": "integer"},
                    "input_dim": {"type": "integer"},
                    "seed": {"type": "integer"},
                    "theory": {"type": "string"},
                    "layers": {"type": "array", "items": LAYER_SCHEMA, "minItems": 1},
                },
            },
        },
        "phase_diagram": {
            "type": ["object", "null"],
            "required": [
                "sigma_w",
                "depths",
                "std",
                "theory_std",
                "saturated_fraction",
                "theory_saturated_fraction",
                "xavier_sigma_w",
                "order_chaos_sigma_w",
                "width",
                "samples",
                "threshold",
                "seed",
            ],
            "properties": {
                "sigma_w": {"type": "array", "items": {"type": "number"}, "minItems": 1},
                "depths": {"type": "array", "items": {"type": "integer"}, "minItems": 1},
                "std": GRID,
                "theory_std": GRID,
                "saturated_fraction": GRID,
                "theory_saturated_fraction": GRID,
                "xavier_sigma_w": {"type": "number"},
                "order_chaos_sigma_w": {"type": "number"},
                "width": {"type": "integer"},
                "samples": {"type": "integer"},
                "threshold": {"type": "number"},
                "seed": {"type": "integer"},
            },
        },
        "property_verdicts": {"type": "array", "items": VERDICT_SCHEMA},
        "checks": {
            "type": "array",
            "items": {
                "type": "object",
                "required": [
                    "spec",
                    "scheme",
                    "convention",
                    "outcome",
                    "declared_rule",
                    "fan_fit",
                    "verdict",
                ],
                "properties": {"verdict": VERDICT_SCHEMA},
            },
        },
        "audits": {"type": "array", "items": AUDIT_SCHEMA},
        "propagations": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["subject", "builds", "seed", "mode", "records", "passed"],
            },
        },
        "config": {"type": "object", "required": ["experiments", "depth", "width", "seed"]},
        "versions": {
            "type": "object",
            "required": ["weight_init", "python", "numpy", "scipy", "matplotlib"],
        },
    },
}


def _message(error: Any) -> str:
    """One violation as ``"<json path>: <problem>"``, in the words earlier versions used."""
    path, value, want = error.json_path, error.instance, error.validator_value
    if error.validator == "type":
        names = [want] if isinstance(want, str) else list(want)
        return f"{path}: expected {' or '.join(names)}, got {type(value).__name__}"
    if error.validator == "enum":
        return f"{path}: {value!r} not one of {want}"
    if error.validator == "required":
        missing = error.message.removesuffix(" is a required property")
        return f"{path}: missing required key {missing}"
    if error.validator == "minItems":
        return f"{path}: {len(value)} items, expected >= {want}"
    return f"{path}: {error.message}"


def _validator() -> Any:
    """Draft 2020-12, except that an ``integer`` is an int, never a float such as ``2.0``
    (a count or index written as a float is a bug in the writer)."""
    from jsonschema import Draft202012Validator, validators

    checker = Draft202012Validator.TYPE_CHECKER.redefine(
        "integer", lambda _, value: isinstance(value, int) and not isinstance(value, bool)
    )
    return validators.extend(Draft202012Validator, type_checker=checker)


def validate(value: Any, schema: dict[str, Any]) -> list[str]:
    """Every violation of ``schema`` by ``value`` (JSON Schema draft 2020-12, checked by
    :mod:`jsonschema`), as ``"<json path>: <problem>"`` lines in document order."""
    errors = _validator()(schema).iter_errors(value)
    return [_message(e) for e in sorted(errors, key=lambda e: list(map(str, e.absolute_path)))]
