"""The ``weight_init_propagate`` fixture, via pytester: a model whose signal survives passes
``assert_passes``, the notes' vanishing network fails it with the diagnosis; a model factory
given as an importable callable, a ``MODULE:FACTORY`` string or a local function."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

MODELS = """
import torch
from torch import nn

def xavier():
    layers = []
    for _ in range(6):
        lin = nn.Linear(100, 100, bias=False)
        nn.init.normal_(lin.weight, std=0.1)
        layers += [lin, nn.Tanh()]
    return nn.Sequential(*layers)

def small():
    layers = []
    for _ in range(6):
        lin = nn.Linear(100, 100, bias=False)
        nn.init.normal_(lin.weight, std=0.01)
        layers += [lin, nn.Tanh()]
    return nn.Sequential(*layers)
"""

TESTS = """
import torch
from torch import nn
from models import small, xavier

def test_xavier_survives(weight_init_propagate):
    r = weight_init_propagate.assert_passes(xavier, (64, 100), max_growth=10, builds=3)
    assert r.passed and r.records[0].name == "input"

def test_spec_string(weight_init_propagate):
    r = weight_init_propagate("models:xavier", (64, 100), builds=3)
    assert r.subject == "models:xavier" and r.diagnosis.signal is not None

def test_local_factory_runs_in_process(weight_init_propagate):
    def local():
        return nn.Sequential(nn.Linear(10, 10), nn.ReLU())
    assert weight_init_propagate(local, (8, 10), builds=2).records[-1].type == "ReLU"

def test_small_vanishes(weight_init_propagate):
    weight_init_propagate.assert_passes(small, (64, 100), max_growth=10, builds=3)

def test_bad_input_is_one_line(weight_init_propagate):
    weight_init_propagate(xavier, (64, 7), builds=1)
"""


def test_propagate_fixture(pytester: pytest.Pytester) -> None:
    pytest.importorskip("torch")
    pytester.makepyfile(models=MODELS, test_prop=TESTS)
    pytester.syspathinsert()
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=3, failed=2)
    result.stdout.fnmatch_lines(["*signal vanishes: x*< 1/10*"])
    result.stdout.fnmatch_lines(["*the model's forward raised RuntimeError*"])
