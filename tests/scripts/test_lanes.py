"""scripts/lanes.sh, which runs the test stages' lanes side by side: a failure in any lane fails the
whole run (CI must not pass on a lane nobody waited for), a failing lane stops, the others finish."""

from __future__ import annotations

import subprocess
from pathlib import Path

LANES = Path(__file__).resolve().parents[2] / "scripts" / "lanes.sh"

# ping and pong each wait (up to 10 s) for the other's file: both succeed only when run at once
MAKEFILE = """\
ping:
\t@touch ping; for i in $$(seq 100); do [ -e pong ] && break; sleep 0.1; done; [ -e pong ] && echo met pong
pong:
\t@touch pong; for i in $$(seq 100); do [ -e ping ] && break; sleep 0.1; done; [ -e ping ] && echo met ping
slow:
\t@sleep 1; echo slow done
fast:
\t@echo fast done
broken:
\t@echo about to fail; exit 3
after-broken:
\t@echo must not run
lane:
\t@echo lane is $(LANE)
"""


def lanes(tmp_path: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    makefile = tmp_path / "Makefile"
    makefile.write_text(MAKEFILE, encoding="utf-8")
    environment = {"MAKE": f"make -f {makefile}", "PATH": "/usr/bin:/bin"}
    return subprocess.run(
        [str(LANES), *arguments], cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=60
    )


def test_lanes_run_side_by_side_and_each_line_names_its_target(tmp_path: Path) -> None:
    result = lanes(tmp_path, "ping", "fast pong", "lane")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "[ping] met pong" in result.stdout and "[pong] met ping" in result.stdout
    assert "[fast] fast done" in result.stdout
    assert "[lane] lane is 1" in result.stdout  # targets see LANE=1: they skip setup and training


def test_a_failing_target_fails_the_run_stops_its_lane_and_the_others_finish(tmp_path: Path) -> None:
    result = lanes(tmp_path, "broken after-broken", "slow")
    assert result.returncode == 1
    assert "[broken] about to fail" in result.stdout
    assert "[broken] FAILED" in result.stdout
    assert "must not run" not in result.stdout
    assert "[slow] slow done" in result.stdout


def test_a_failure_in_the_last_lane_counts_too(tmp_path: Path) -> None:
    assert lanes(tmp_path, "fast", "fast", "broken").returncode == 1
