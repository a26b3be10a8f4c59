"""index.html opens in headless Chromium with every image loaded.

Skipped when no Chromium is installed (Debian: ``apt-get install chromium``). The
report is copied and a probe script appended to the copy of index.html; after the
window's load event it records, for every <img>, ``complete && naturalWidth > 0``
into the DOM, which ``--dump-dom`` prints.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from weight_init.reports._config import ExperimentSpec, PhaseConfig, ReportConfig
from weight_init.reports._render import INDEX, generate

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
BROWSER = next((b for b in BROWSERS if shutil.which(b)), None)

PROBE = """
<script>
window.addEventListener("load", function () {
  var imgs = Array.prototype.slice.call(document.images);
  var bad = imgs.filter(function (i) { return !(i.complete && i.naturalWidth > 0); })
                .map(function (i) { return i.getAttribute("src"); });
  var out = document.createElement("pre");
  out.id = "probe";
  out.textContent = "PROBE " + (imgs.length - bad.length) + "/" + imgs.length +
                    " BAD[" + bad.join(",") + "]";
  document.body.appendChild(out);
});
</script>
"""


def chromium_image_check(report_dir: Path, browser: str) -> tuple[int, int, list[str]]:
    """``(loaded, total, failed srcs)`` for the report's index.html in headless Chromium."""
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "report"
        shutil.copytree(report_dir, copy)
        page = copy / INDEX
        page.write_text(
            page.read_text(encoding="utf-8").replace("</body>", PROBE + "</body>"),
            encoding="utf-8",
        )
        profile = Path(tmp) / "profile"
        cmd = [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={profile}",
            "--virtual-time-budget=20000",
            "--dump-dom",
            page.as_uri(),
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    m = re.search(r"PROBE (\d+)/(\d+) BAD\[([^\]]*)\]", proc.stdout)
    assert m, f"no probe output from {browser} (exit {proc.returncode}): {proc.stderr[-500:]}"
    bad = [s for s in m.group(3).split(",") if s]
    return int(m.group(1)), int(m.group(2)), bad


@pytest.mark.skipif(BROWSER is None, reason="no Chromium installed (apt-get install chromium)")
def test_index_html_opens_with_every_image_loaded(tmp_path: Path) -> None:
    config = ReportConfig(
        experiments=(ExperimentSpec("xavier", "tanh"), ExperimentSpec("he_normal", "relu")),
        depth=4,
        width=64,
        samples=128,
        input_dim=64,
        phase=PhaseConfig(n_sigma=5, depth=6, width=32, samples=64),
        suite=False,
        formats=("html",),
    )
    out = tmp_path / "report"
    generate(config, out)
    assert BROWSER is not None
    loaded, total, bad = chromium_image_check(out, BROWSER)
    expected = len(list((out / "figures").glob("*.png")))
    assert total == expected == 1 + 2 * 2 + 2, (total, expected)
    assert loaded == total and not bad, f"{BROWSER}: images not loaded: {bad}"
