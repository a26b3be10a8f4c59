"""``weight-init audit``: per-parameter verdicts on small torch models, through ``main`` in this
process (the factory still runs in the command's isolated child, forked from a server that
has imported torch): bad input (a factory that raises or exits among it) and verdicts alike.
The command as a user runs it, a subprocess, is tested in tests/test_audit_walk.py and
tests/test_cli_fuzz.py.

Each parameter's check has family-wise false-alarm rate 1e-4 (Holm) and the power plan of
``check``; where an outcome other than ``fail`` is asserted (or the verdicts are merely
compared) the command runs at ``--alpha`` ``PASS_ALPHA`` = 1e-7 (tests/_levels.py); builds
are seeded from the drawn seed (torch.manual_seed per build).
torchvision does not install on this CPU build: no ResNet-18 test
(tests/audit_models.py:resnet_style_cnn reproduces its conv re-initialization).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("torch")
pytestmark = pytest.mark.torch

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

import audit_models  # noqa: E402
import cli_helpers  # noqa: E402
from _levels import PASS_ALPHA_ARGS  # noqa: E402
from weight_init.properties.audit._loop import audit_torch, parse_expect  # noqa: E402
from weight_init.properties.conformance._kernels import NO_RF_IN  # noqa: E402


def _main(capsys: pytest.CaptureFixture[str], *args: str) -> subprocess.CompletedProcess[str]:
    return cli_helpers.run_main(capsys, "audit", *args, cwd=HERE)


@pytest.mark.slow
@settings(max_examples=1, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_small_cnn_defaults_pass_where_conclusive(seed: int) -> None:
    r = audit_torch(audit_models.small_cnn, builds=300, seed=seed, resolution=0.01)
    by = {p.name: p for p in r.params}
    # >= 129,600 pooled entries each at 300 builds: the uniform plan needs 127,711 (Holm at 1e-5)
    for name in ("0.weight", "3.weight", "5.weight"):
        assert by[name].outcome == "pass", by[name].note()
    assert by["1.weight"].outcome == "pass" and by["1.bias"].outcome == "pass"  # ones, zeros
    assert by["5.weight"].layout == "torch.conv_transpose"
    assert by["5.weight"].fans.as_tuple() == (8 * 16, 32 * 16)  # torch reads dim 1 (O/g)
    assert by["3.weight"].fans.as_tuple() == (4 * 9, 32 * 9)  # groups=4: I/g * rf
    assert by["0.bias"].outcome == "inconclusive"  # 16 entries per build: too few
    assert r.outcome == "inconclusive" and not r.passed


@settings(max_examples=1, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_buggy_conv_fails_with_the_quirk_named(seed: int) -> None:
    r = audit_torch(audit_models.buggy_cnn, builds=30, seed=seed)  # 9x the variance
    p = next(p for p in r.params if p.name == "0.weight")
    assert p.outcome == "fail"
    assert p.fan_rule == NO_RF_IN
    assert NO_RF_IN in p.note()


@pytest.mark.slow
@settings(max_examples=1, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_resnet_style_reinit_is_identified_and_declarable(seed: int) -> None:
    r = audit_torch(audit_models.resnet_style_cnn, builds=120, seed=seed)
    p = next(p for p in r.params if p.name == "0.weight")
    assert p.outcome == "fail"  # against torch's default
    assert (p.family, p.identified) == ("normal", "2/fan_out")
    expect = [parse_expect("[03].weight=he_normal_fan_out@torch.conv", _he_fan_out)]
    r2 = audit_torch(
        audit_models.resnet_style_cnn,
        builds=240,
        seed=seed,
        expect=expect,
        resolution=0.01,  # the check's design: each parameter alone against 1% std error
        pool=False,
    )
    by = {p.name: p for p in r2.params}
    assert by["3.weight"].outcome == "pass", by["3.weight"].note()  # 1152 x 240 >= 263842
    assert by["0.weight"].outcome == "inconclusive"  # 432 x 240 < 263842 (normal's plan)


def _he_fan_out(text: str):  # type: ignore[no-untyped-def]
    from weight_init.schemes import variance_scaling

    assert text == "he_normal_fan_out"
    return variance_scaling(2.0, "fan_out", "normal", name=text)


def test_cli_prints_the_table_and_exits_1_when_inconclusive(
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = _main(
        capsys,
        *("audit_models:small_transformer", "--builds", "20", "--seed", "3", "--resolution", "1%"),
        *PASS_ALPHA_ARGS,
    )
    assert out.returncode == 1, out.stderr
    assert "encoder.self_attn.in_proj_weight" in out.stdout
    assert "MultiheadAttention" in out.stdout and "glorot_uniform" in out.stdout
    assert "INCONCLUSIVE" in out.stdout.splitlines()[0]
    assert out.stderr == ""


def test_cli_json(capsys: pytest.CaptureFixture[str]) -> None:
    out = _main(capsys, "audit_models:small_cnn", "--builds", "20", "--json", *PASS_ALPHA_ARGS)
    assert out.returncode == 1
    d = json.loads(out.stdout)
    names = [p["name"] for p in d["parameters"]]
    assert names[0] == "0.weight" and d["builds"] == 20
    assert {p["outcome"] for p in d["parameters"]} <= {"pass", "fail", "inconclusive"}


def test_cli_exit_0_when_every_checked_parameter_passes(capsys: pytest.CaptureFixture[str]) -> None:
    out = _main(capsys, "audit_models:norm_only", "--builds", "20", *PASS_ALPHA_ARGS)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "PASS" in out.stdout.splitlines()[0]


def test_cli_fails_on_a_buggy_model(capsys: pytest.CaptureFixture[str]) -> None:
    out = _main(capsys, "audit_models:buggy_cnn", "--builds", "30")
    assert out.returncode == 1
    assert NO_RF_IN in out.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("audit_models:not_a_model",), "not a torch.nn.Module"),
        (("audit_models:raising_factory",), "raised RuntimeError: boom"),
        (("audit_models:exiting_factory",), "raised SystemExit"),
        (("audit_models:small_cnn", "--expect", "x"), "PATTERN=SCHEME"),
        (("audit_models:small_cnn", "--expect", "*=nope"), "unknown scheme"),
        (("audit_models:small_cnn", "--expect", "*=he_normal@nope"), "unknown layout"),
        (("no_such_module:f",), "cannot import"),
        (("audit_models:small_cnn", "--builds", "0"), "positive integer"),
        (("audit_models:small_cnn", "--resolution", "0"), "between 0 and 100%"),
        (("audit_models:small_cnn", "--resolution", "ten"), "percentage such as 10%"),
        (("audit_models:small_cnn", "--workers", "2", "--scheduler", "x"), "not allowed"),
    ],
)
def test_cli_bad_input_is_one_line_exit_2(
    args: tuple[str, ...], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    out = _main(capsys, *args)
    assert out.returncode == 2
    assert out.stdout == ""
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], out.stderr


def test_cli_expect_takes_scheme_expressions_and_layouts(
    capsys: pytest.CaptureFixture[str],
) -> None:
    rule = "[03].weight=variance_scaling(2, fan_out, normal)@torch.conv"
    out = _main(
        capsys,
        "audit_models:resnet_style_cnn",
        *("--builds", "30", "--expect", rule, "--json", "--resolution", "1%", *PASS_ALPHA_ARGS),
    )
    assert out.returncode == 1, out.stderr  # 30 builds: too few entries to pass, none fail
    by = {p["name"]: p for p in json.loads(out.stdout)["parameters"]}
    for name in ("0.weight", "3.weight"):
        assert by[name]["expected"] == "variance_scaling(2, fan_out, normal)"
        assert by[name]["expected_from"] == "--expect [03].weight"
        assert by[name]["outcome"] == "inconclusive"
        assert by[name]["identified_rule"] == "2/fan_out"


def test_tied_fans_name_every_rule_that_fits() -> None:
    """At fans (64, 64) 2/fan_in, 2/fan_out and 2/fan_avg are one number: the draws cannot
    separate them, so the identification names all three (exact arithmetic, no sampling)."""
    import numpy as np

    from weight_init.layouts import Fans
    from weight_init.properties.audit._loop import _identify

    z = np.random.default_rng(0).standard_normal(100_000)
    z *= np.sqrt(2.0 / 64) / np.sqrt(np.mean(z * z))  # mean w^2 exactly 2/64
    assert _identify(z, Fans(64, 64))[5] == "2/fan_in = 2/fan_out = 2/fan_avg"
    assert _identify(z, Fans(64, 128))[5] == "2/fan_in"  # 2/64: no other c/n fits
    assert _identify(z * np.sqrt(0.5), Fans(64, 128))[5] == "1/fan_in = 2/fan_out"


def test_cli_workers_give_the_verdicts_of_one_process(capsys: pytest.CaptureFixture[str]) -> None:
    """Builds on two worker processes: the same JSON, byte for byte, as in one process (the
    chunks and their merge order depend on the build count only)."""
    args = ("audit_models:small_cnn", "--builds", "12", "--json", *PASS_ALPHA_ARGS)
    one = _main(capsys, *args)
    two = _main(capsys, *args, "--workers", "2")
    assert one.returncode == two.returncode == 1, one.stderr + two.stderr
    assert one.stdout == two.stdout


@pytest.mark.cluster
def test_cli_on_a_dask_scheduler_gives_the_verdicts_of_one_process(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``--scheduler``: a real Dask cluster on the loopback address, one worker with two
    threads (so two chunks share one process, its torch generator included): the same JSON
    as one process."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=1,
        threads_per_worker=2,
        processes=False,
        protocol="tcp://",
        host="127.0.0.1",
        dashboard_address=None,
    ) as cluster:
        args = ("audit_models:small_cnn", "--builds", "12", "--json", *PASS_ALPHA_ARGS)
        dask = _main(capsys, *args, "--scheduler", cluster.scheduler_address)
    local = _main(capsys, *args)
    assert dask.returncode == local.returncode == 1, dask.stderr
    assert dask.stdout == local.stdout


def test_a_located_rule_is_checked_at_its_mean() -> None:
    """``normal(std=0.1, mean=1.0)``: the entries are checked against N(1, 0.01), not N(0,
    0.01) (a correct draw passes; one at the mean 0 fails on the mean)."""
    from _levels import PASS_ALPHA

    rule = "weight=normal(std=0.1, mean=1.0)"
    ok = audit_torch(
        audit_models.located_normal, builds=40, expect=[parse_expect(rule)], alpha=PASS_ALPHA
    )
    assert ok.params[0].outcome == "pass", ok.params[0].note()
    wrong = audit_torch(
        audit_models.located_normal,
        builds=40,
        expect=[parse_expect("weight=normal(std=0.1)")],
        alpha=PASS_ALPHA,
    )
    assert wrong.params[0].outcome == "fail"


def test_the_commands_preset_choices_are_the_presets() -> None:
    """The command line names the presets without importing them (``weight-init --help``
    loads no numpy); the two lists are one."""
    import argparse

    from weight_init.app._commands import audit as command
    from weight_init.properties.audit._expect_torch import PRESETS

    parser = argparse.ArgumentParser()
    command.register(parser.add_subparsers())
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    (preset,) = [a for a in sub.choices["audit"]._actions if "--preset" in a.option_strings]
    assert tuple(preset.choices) == tuple(PRESETS)


def test_an_audit_leaves_the_garbage_collector_as_it_found_it() -> None:
    """While it runs the audit exempts the objects that existed before it from the garbage
    collector (a frozen heap, seen at every step), and unfreezes them after; a heap the caller
    froze itself stays frozen, nothing added to it (its count only drops as frozen objects
    are freed)."""
    import gc

    import torch

    def factory() -> torch.nn.Module:
        return torch.nn.Linear(4, 3)

    before = gc.get_freeze_count()
    seen: list[int] = []
    audit_torch(factory, builds=3, on_step=lambda step: seen.append(gc.get_freeze_count()))
    assert seen and all(count > 0 for count in seen)
    assert gc.get_freeze_count() == before
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        audit_torch(factory, builds=3)
        assert 0 < gc.get_freeze_count() <= frozen
    finally:
        gc.unfreeze()


def _with_free_parameter() -> object:
    """A model with a parameter no layer documents (unchecked: identification only)."""
    import torch
    from torch import nn

    class Model(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.linear = nn.Linear(64, 256)
            self.norm = nn.LayerNorm(256)
            self.head = nn.Linear(256, 16)
            self.free = nn.Parameter(torch.randn(32, 32))

    return Model()


@settings(max_examples=1, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_each_parameter_is_read_in_the_builds_its_resolution_needs(seed: int) -> None:
    """Built 40 times, a 16,384-entry weight that reaches the target in one build is read
    whole in the first 2 builds (MIN_READS), compared with the others in the first 10
    (MIN_BUILDS), and states the resolution of the entries read whole; a 256-entry bias
    likewise in the builds its own need asks for, at most 10; a 16-entry bias tested alone
    (no pooling), which needs more than 40, in every build; the LayerNorm's constants in
    every build; the unchecked parameter in 10. The counts come from the shapes and options
    alone: the same with two workers."""
    from weight_init.properties.audit._loop import MIN_BUILDS, MIN_READS

    builds = 40
    opts = {"builds": builds, "seed": seed, "alpha": 1e-7, "pool": False}
    r = audit_torch(_with_free_parameter, **opts)
    by = {p.name: p for p in r.params}
    weight, bias, small = by["linear.weight"], by["linear.bias"], by["head.bias"]
    assert weight.builds_needed == 1 and weight.builds_read == MIN_READS
    assert weight.builds_compared == MIN_BUILDS
    assert weight.resolution is not None
    assert weight.resolution.entries == MIN_READS * 64 * 256
    assert 1 < bias.builds_needed <= MIN_BUILDS
    assert bias.builds_read == max(MIN_READS, bias.builds_needed)
    assert bias.builds_compared == MIN_BUILDS
    assert small.builds_needed > builds and small.builds_read == small.builds_compared == builds
    assert small.outcome == "inconclusive"
    for name in ("norm.weight", "norm.bias"):
        assert by[name].builds_read == by[name].builds_compared == builds
    assert by["free"].outcome == "unchecked" and by["free"].builds_read == MIN_BUILDS
    assert weight.outcome == "pass"
    assert weight.to_dict()["builds_read"] == MIN_READS
    assert weight.to_dict()["builds_compared"] == MIN_BUILDS
    two = audit_torch(_with_free_parameter, workers=2, **opts)
    assert [p.builds_read for p in two.params] == [p.builds_read for p in r.params]
    assert two.to_json() == r.to_json()


def _one_thread_outside(parent: int, log: Path) -> object:
    """A factory whose builds in any process but ``parent`` raise when torch's intra-op
    threads or a BLAS's threads are more than one (the audit reports the factory's error),
    and otherwise append the process id to ``log``; such a process takes 0.3 s to exit (a
    finalizer of multiprocessing's, run as a worker ends), so that an audit that returned
    before reaping its workers would find them still there."""
    import os
    import time
    from multiprocessing import util

    import torch
    from threadpoolctl import threadpool_info

    def factory() -> object:
        pid = os.getpid()
        if pid != parent:
            blas = [int(i["num_threads"]) for i in threadpool_info() if i["user_api"] == "blas"]
            counts = (torch.get_num_threads(), *blas)
            if any(n != 1 for n in counts):
                raise RuntimeError(f"a worker built on {counts} threads")
            if str(pid) not in log.read_text().split():
                util.Finalize(None, time.sleep, args=(0.3,), exitpriority=0)
            with log.open("a") as f:
                f.write(f"{pid}\n")
        return torch.nn.Linear(8, 4)

    return factory


def test_forked_workers_build_on_one_thread_and_are_gone_after(tmp_path: Path) -> None:
    """With two workers, each build in a worker sees one torch thread and one BLAS thread
    (the limits the auditing process holds while it forks them), whatever the caller set;
    after the audit the caller's own settings are back and the workers are gone."""
    import os

    import torch

    pytest.importorskip("threadpoolctl")
    from threadpoolctl import threadpool_info, threadpool_limits

    def blas() -> list[int]:
        return [int(i["num_threads"]) for i in threadpool_info() if i["user_api"] == "blas"]

    log = tmp_path / "pids"
    log.write_text("")
    saved = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        with threadpool_limits(2, user_api="blas"):
            before = blas()
            factory = _one_thread_outside(os.getpid(), log)
            r = audit_torch(factory, builds=12, workers=2, progress=False)
            assert [p.name for p in r.params] == ["weight", "bias"]
            pids = log.read_text().split()
            assert len(pids) == 11  # builds 1 .. 11, in the workers
            assert torch.get_num_threads() == 2
            assert blas() == before
    finally:
        torch.set_num_threads(saved)
    for pid in set(pids):  # the workers exited and were reaped before the audit returned
        with pytest.raises(ProcessLookupError):
            os.kill(int(pid), 0)


def _late_defects(seed: int, builds: int) -> object:
    """A factory whose builds 5 and 10 of ``builds`` (seeded from ``seed``) have a NaN weight
    and whose build 35 has a bias entry 10x beyond its uniform law's bound: build 5 among
    the builds the weight is compared in but not read whole, builds 10 and 35 past both
    (build 10 in the chunk of builds 6 .. 10)."""
    from weight_init.properties.audit._builds import build_seeds

    seeds = build_seeds(builds, seed)

    def factory() -> object:
        import torch

        layer = torch.nn.Linear(64, 256)
        with torch.no_grad():
            if torch.initial_seed() in (seeds[5], seeds[10]):
                layer.weight[3, 5] = float("nan")
            if torch.initial_seed() == seeds[35]:
                layer.bias[7] = 10.0 / 8.0  # the bound is 1 / sqrt(64)
        return layer

    return factory


@settings(max_examples=1, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_builds_past_the_sample_are_read_for_their_range(seed: int) -> None:
    """A weight read whole in 2 builds of 40 and compared in 10 still has every build's
    range read: NaNs in builds 5 and 10 fail ``finite`` (named at the first, counted in
    both) and an entry beyond the law's support in build 35 fails ``bounds``; the
    statistical tests read the builds read whole only. Either way with two workers."""
    from weight_init.properties.audit._loop import MIN_READS

    builds = 40
    for workers in (1, 2):
        r = audit_torch(_late_defects(seed, builds), builds=builds, seed=seed, workers=workers)
        by = {p.name: p for p in r.params}
        weight, bias = by["weight"], by["bias"]
        assert weight.builds_read == MIN_READS and weight.builds_compared == 10
        assert bias.builds_compared == 10
        assert weight.outcome == bias.outcome == "fail"
        assert weight.verdict is not None and bias.verdict is not None
        finite = next(t for t in weight.verdict.checks if t.check.name == "finite")
        assert finite.failed and "in build 5" in finite.test.detail, finite.test.detail
        assert "in 2 calls" in finite.test.detail, finite.test.detail
        bounds = next(t for t in bias.verdict.checks if t.check.name == "bounds")
        assert bounds.failed and bounds.test.statistic >= 9.0 * 3**0.5, bounds.test.detail
        assert weight.resolution is not None
        assert weight.resolution.entries == MIN_READS * 64 * 256
