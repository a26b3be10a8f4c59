"""The decision log: every Holm decision appended to ``WEIGHT_INIT_DECISION_LOG`` with its
context, the pytest option that opens one and labels each decision with its test, and
``weight-init decisions FILE`` that sums it (docs/error-rates.md, "A default test run").
Nothing statistical is asserted here: the p-values are fixed numbers.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from weight_init.app._cli import main
from weight_init.properties import _decision_log as decision_log
from weight_init.properties._multiple_testing import holm_reject

pytest_plugins = ["pytester"]


@pytest.fixture
def no_log(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    monkeypatch.delenv(decision_log.LOG_ENV, raising=False)
    monkeypatch.delenv(decision_log.CONTEXT_ENV, raising=False)
    return monkeypatch


def test_every_holm_decision_is_logged_with_its_context_when_asked(
    tmp_path: Path, no_log: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "decisions.tsv"
    holm_reject([0.5], 0.01)
    assert not path.exists()
    no_log.setenv(decision_log.LOG_ENV, str(path))
    holm_reject([0.2, 0.004], 0.01)
    no_log.setenv(decision_log.CONTEXT_ENV, "my\tstep")
    holm_reject([1e-9, 0.3, 0.9], 1e-5)
    holm_reject([1e-9], 1e-5, log=False)  # a table of recorded p-values: not logged
    got = decision_log.read_log(path)
    assert [(d.level, d.tests, d.rejected, d.smallest) for d in got] == [
        (0.01, 2, True, 0.004),
        (1e-05, 3, True, 1e-9),
    ]
    assert [d.context for d in got] == ["", "my step"]  # a tab cannot split the line
    assert {d.caller for d in got} == {__name__}  # the module that asked


def test_the_summary_sums_the_levels_of_decisions_that_did_not_reject(tmp_path: Path) -> None:
    path = tmp_path / "decisions.tsv"
    path.write_text(
        "1e-05\t7\t0\t0.3\ttests/a.py::t1\tweight_init.properties.conformance._runner\n"
        "1e-05\t7\t0\t0.2\ttests/a.py::t2\tweight_init.properties.conformance._runner\n"
        "0.0001\t3\t0\t0.5\ttests/b.py::t\tweight_init.properties._verdict\n"
        "1e-05\t7\t1\t1e-300\ttests/c.py::t\tweight_init.properties.conformance._runner\n"
        "0.001\t2\t1\t1e-4\tstep 3\tmine\n"
    )
    s = decision_log.summarize(decision_log.read_log(path))
    assert s.kept == 3 and s.total_level == pytest.approx(1.2e-4)
    assert s.by_level == ((1e-05, 2), (0.0001, 1))
    assert s.by_context[0] == ("tests/b.py::t", 1, 1e-4)
    assert len(s.rejected) == 2
    assert s.closest_kept == pytest.approx(0.5 / (1e-4 / 3))  # the smallest ratio
    text = s.to_markdown()
    assert "| **sum** | **3** | **0.00012** |" in text
    assert "| smallest p <= 1e-10 x Holm's first threshold | 1 |" in text
    assert "| step 3 | mine | 0.2 |" in text  # a rejection near its threshold is listed
    assert "<= 0.00012 (1 in 8333)" in text


def test_the_decisions_command_prints_the_summary_and_refuses_a_bad_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "decisions.tsv"
    path.write_text("0.0001\t3\t0\t0.5\ttests/b.py::t\tm\n")
    assert main(["decisions", str(path)]) == 0
    out, err = capsys.readouterr()
    assert "| tests/b.py::t | 1 | 0.0001 |" in out and err == ""
    for text in ("0.0001\t3\t0\n", "2\t3\t0\t0.5\tc\tm\n", "x\t3\t0\t0.5\tc\tm\n"):
        path.write_text(text)
        assert main(["decisions", str(path)]) == 2
        out, err = capsys.readouterr()
        assert out == "" and len(err.strip().splitlines()) == 1 and "line 1" in err, err
    assert main(["decisions", str(tmp_path / "missing.tsv")]) == 2
    assert "cannot read a decision log" in capsys.readouterr().err


TESTS = """
import os
import subprocess
import sys

from weight_init.properties._multiple_testing import holm_reject

def test_in_process():
    holm_reject([0.5, 0.7], 1e-4)

def test_in_a_child():
    code = "from weight_init.properties._multiple_testing import holm_reject; " \\
        "holm_reject([0.25], 1e-3)"
    subprocess.run([sys.executable, "-c", code], check=True)
"""


def test_the_pytest_option_labels_each_decision_with_its_test(
    pytester: pytest.Pytester, no_log: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(test_decide=TESTS)
    result = pytester.runpytest_inprocess(
        "-p", "no:cacheprovider", "-p", "no:xdist", "--weight-init-decision-log", "run.tsv"
    )
    result.assert_outcomes(passed=2)
    got = decision_log.read_log(pytester.path / "run.tsv")
    assert [(d.context, d.level, d.tests) for d in got] == [
        ("test_decide.py::test_in_process", 1e-4, 2),
        ("test_decide.py::test_in_a_child", 1e-3, 1),  # the child inherits both variables
    ]
    assert decision_log.LOG_ENV not in os.environ  # restored when the run ends
    assert decision_log.CONTEXT_ENV not in os.environ
    again = pytester.runpytest_inprocess("-p", "no:xdist", "--weight-init-decision-log", "run.tsv")
    assert again.ret == pytest.ExitCode.USAGE_ERROR
    again.stderr.fnmatch_lines(["*--weight-init-decision-log run.tsv: the file exists*"])
    assert len(decision_log.read_log(pytester.path / "run.tsv")) == 2  # left as it was
    quiet = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-p", "no:xdist")
    quiet.assert_outcomes(passed=2)
    assert len(decision_log.read_log(pytester.path / "run.tsv")) == 2  # no option: no log
