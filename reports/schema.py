"""The schema of ``summary.json`` (a JSON-Schema subset) and a small validator for it.

Supported keywords: ``type`` (a name or a list of names among object, array,
string, number, integer, boolean, null), ``required``, ``properties``,
``items``, ``minItems`` and ``enum``. jsonschema is not a dependency; this is
enough to pin the summary's structure in tests and for consumers.
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
        "config": {"type": "object", "required": ["experiments", "depth", "width", "seed"]},
        "versions": {
            "type": "object",
            "required": ["weight_init", "python", "numpy", "scipy", "matplotlib"],
        },
    },
}

_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "boolean": (bool,),
    "null": (type(None),),
}


def _is(value: Any, name: str) -> bool:
    if name == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if name == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    return isinstance(value, _TYPES[name])


def validate(value: Any, schema: dict[str, Any], path: str = "$") -> list[str]:
    """Every violation of ``schema`` by ``value``, as ``"<json path>: <problem>"`` lines."""
    errors: list[str] = []
    types = schema.get("type")
    if types is not None:
        names = [types] if isinstance(types, str) else list(types)
        if not any(_is(value, n) for n in names):
            return [f"{path}: expected {' or '.join(names)}, got {type(value).__name__}"]
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{path}: {value!r} not one of {schema['enum']}")
    if isinstance(value, dict):
        for key in schema.get("required", []):
            if key not in value:
                errors.append(f"{path}: missing required key {key!r}")
        for key, sub in schema.get("properties", {}).items():
            if key in value:
                errors.extend(validate(value[key], sub, f"{path}.{key}"))
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0):
            errors.append(f"{path}: {len(value)} items, expected >= {schema['minItems']}")
        if "items" in schema:
            for i, item in enumerate(value):
                errors.extend(validate(item, schema["items"], f"{path}[{i}]"))
    return errors
