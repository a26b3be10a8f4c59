"""The rule of every output directory (:mod:`weight_init.reports._output_dir`), tested once for
all writers: the report's staged directory, a calibration run's directory (created staged,
grown in place, its report files replaced) and ``weight-init propagate --out``'s (staged, kind
``propagation``, what any later writer does). Then calibrate, the writer that overwrote a
user's files, as a user runs it."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from weight_init.app._calibration.records import RunStore
from weight_init.app._cli import main
from weight_init.errors import ReportOutputError
from weight_init.reports import _output_dir as output_dir
from weight_init.reports._calibration_render import write_report

Writer = Callable[[Path, bool], Path]


def staged_writer(what: str) -> Writer:
    def write(out: Path, overwrite: bool) -> Path:
        with output_dir.staged(out, overwrite, what) as tmp:
            (tmp / "result.txt").write_text("ours\n")
        return output_dir.target_of(out, what)

    return write


def calibration_writer(out: Path, overwrite: bool) -> Path:
    store = RunStore.open(out, {"seed": 0}, resume=False, overwrite=overwrite)
    store.close()
    write_report(store.directory)
    return store.directory


WRITERS: dict[str, tuple[str, Writer]] = {
    "report": ("report", staged_writer("report")),
    "calibration run": ("calibration run", calibration_writer),
    "propagation": ("propagation", staged_writer("propagation")),
}


def user_files(directory: Path) -> dict[str, str]:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "notes.txt").write_text("mine\n")
    (directory / "calibration.md").write_text("my page\n")
    return {"notes.txt": "mine\n", "calibration.md": "my page\n"}


def unchanged(directory: Path, files: dict[str, str]) -> bool:
    return all((directory / k).read_text() == v for k, v in files.items())


@pytest.fixture(params=sorted(WRITERS))
def writer(request: pytest.FixtureRequest) -> tuple[str, Writer]:
    return WRITERS[request.param]


def test_a_directory_weight_init_did_not_write_is_refused(
    tmp_path: Path, writer: tuple[str, Writer]
) -> None:
    _, write = writer
    out = tmp_path / "mine"
    files = user_files(out)
    for overwrite in (False, True):
        with pytest.raises(ReportOutputError, match="did not write"):
            write(out, overwrite)
        assert unchanged(out, files) and sorted(p.name for p in out.iterdir()) == sorted(files)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine"], "staging left behind"


def test_files_added_to_our_output_are_kept_unless_overwrite(
    tmp_path: Path, writer: tuple[str, Writer]
) -> None:
    what, write = writer
    out = tmp_path / "out"
    write(out, False)
    assert output_dir._manifest(out) is not None and output_dir._manifest(out)[0] == what  # type: ignore[index]
    (out / "added.txt").write_text("mine\n")
    with pytest.raises(ReportOutputError, match=r"did not write \(added.txt\)"):
        write(out, False)
    assert (out / "added.txt").read_text() == "mine\n"
    write(out, True)
    assert not (out / "added.txt").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_output_of_another_kind_is_replaced_only_with_overwrite(
    tmp_path: Path, writer: tuple[str, Writer]
) -> None:
    what, write = writer
    other = "calibration run" if what != "calibration run" else "report"
    out = tmp_path / "out"
    WRITERS[other][1](out, False)
    with pytest.raises(ReportOutputError, match=f"holds a weight-init {other}, not a {what}"):
        write(out, False)
    write(out, True)
    assert output_dir._manifest(out)[0] == what  # type: ignore[index]


def test_a_symlink_is_followed_only_into_our_own_output(
    tmp_path: Path, writer: tuple[str, Writer]
) -> None:
    _, write = writer
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    link = tmp_path / "link"
    link.symlink_to(theirs, target_is_directory=True)
    with pytest.raises(ReportOutputError, match="symbolic link"):
        write(link, True)
    assert list(theirs.iterdir()) == []
    dangling = tmp_path / "dangling"
    dangling.symlink_to(tmp_path / "nowhere")
    with pytest.raises(ReportOutputError, match="symbolic link"):
        write(dangling, False)
    assert not (tmp_path / "nowhere").exists()
    ours = tmp_path / "ours"
    write(ours, False)
    link.unlink()
    link.symlink_to(ours, target_is_directory=True)
    write(link, True)
    assert link.is_symlink() and os.readlink(link) == str(ours)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dangling", "link", "ours", "theirs"]


def test_a_name_too_long_or_unusable_is_one_line(
    tmp_path: Path, writer: tuple[str, Writer]
) -> None:
    _, write = writer
    with pytest.raises(ReportOutputError, match="bytes long; at most"):
        write(tmp_path / ("x" * 300), False)
    with pytest.raises(ReportOutputError, match=r"too long|cannot"):
        write(tmp_path.joinpath(*["d" * 200] * 30), False)
    with pytest.raises(ReportOutputError):
        write(Path("bad\0name"), False)
    assert list(tmp_path.iterdir()) == []


def test_a_failure_half_way_leaves_nothing(tmp_path: Path) -> None:
    out = tmp_path / "a" / "b" / "out"
    with pytest.raises(RuntimeError), output_dir.staged(out, False, "propagation") as tmp:
        (tmp / "half.txt").write_text("half")
        raise RuntimeError("stop")
    assert list(tmp_path.iterdir()) == []


def test_rerendered_files_replace_a_symlink_instead_of_writing_through_it(
    tmp_path: Path,
) -> None:
    out = calibration_writer(tmp_path / "run", False)
    victim = tmp_path / "victim.md"
    victim.write_text("the user's\n")
    (out / "calibration.md").unlink()
    (out / "calibration.md").symlink_to(victim)
    output_dir.add_to_manifest(out, "calibration run", ["calibration.md"])
    write_report(out)
    assert victim.read_text() == "the user's\n"
    assert not (out / "calibration.md").is_symlink()


def test_records_behind_a_symlink_are_refused(tmp_path: Path) -> None:
    out = calibration_writer(tmp_path / "run", False)
    victim = tmp_path / "victim.jsonl"
    victim.write_text("")
    (out / "records.jsonl").unlink()
    (out / "records.jsonl").symlink_to(victim)
    with pytest.raises(Exception, match="symbolic link"):
        RunStore.open(out, {"seed": 0}, resume=True)
    assert victim.read_text() == ""


def test_calibrate_no_longer_writes_into_a_users_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``weight-init calibrate --out docs`` replaced a clone's docs/calibration.md."""
    docs = tmp_path / "docs"
    files = user_files(docs)
    argv = ["calibrate", "--checks", "1", "--workers", "1", "--quiet", "--out", str(docs)]
    assert main(argv) == 2
    assert "did not write" in capsys.readouterr().err
    assert main([*argv, "--overwrite"]) == 2
    assert unchanged(docs, files) and sorted(p.name for p in docs.iterdir()) == sorted(files)
    assert main(["report", "--calibration", str(docs)]) == 2
    assert unchanged(docs, files)


def test_a_run_from_before_the_marker_is_adopted(tmp_path: Path) -> None:
    """A calibration run written before the marker (run.json, records.jsonl, its page) is
    reopened and re-rendered; its directory gets the marker."""
    out = calibration_writer(tmp_path / "run", False)
    (out / output_dir.MARKER).unlink()
    assert main(["report", "--calibration", str(out)]) == 0
    assert output_dir._manifest(out)[0] == "calibration run"  # type: ignore[index]
