"""The README's walkthrough, every command of it, run against a dev cluster of its own.

The walkthrough's first code block is the first terminal: it starts ``kreconcile dev``
and is run as it stands, in the background. The other blocks are the second terminal:
their commands run one after the other in one shell, each retried for a while if it
fails (as a reader would run it again a moment later: some commands read what an
operator writes in the background). The commands run in a directory that looks like the
repository (its ``.venv`` and ``config``), so ``.kreconcile/dev`` is the test's own; the
only change made to them is the metrics port, a free one instead of 8080.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
from pathlib import Path

from tests.integration.controllers.processes import free_address
from tests.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]
SECTION = "## Walkthrough"
METRICS = "127.0.0.1:8080"
RETRIES, RETRY_DELAY = 40, 0.5
EXPECTED = (
    "OOMKilled",  # kubectl get rr / kubectl restarts
    'pod_monitor_container_restart_total{container="web",namespace="default",pod="web"',
    "AbnormalRestarts",
    "reserved ci-agents-",
    "build-1",
    "riops=4000",
)


def walkthrough_blocks(readme: str) -> list[str]:
    """The ``sh`` code blocks of the walkthrough section, in order."""
    start = readme.index(SECTION)
    end = readme.find("\n## ", start + 1)
    section = readme[start : end if end > 0 else None]
    return re.findall(r"```sh\n(.*?)```", section, flags=re.DOTALL)


def commands(block: str) -> list[str]:
    """One command per non-empty, non-comment line."""
    return [line for line in block.splitlines() if line.strip() and not line.startswith("#")]


def script(blocks: list[str]) -> str:
    """A bash script running each command, retrying a failing one; stops at the first
    command that keeps failing."""
    lines = [
        "run() {",
        "  printf '$ %s\\n' \"$1\"",
        f"  for attempt in $(seq {RETRIES}); do",
        '    if eval "$1"; then return 0; fi',
        f"    sleep {RETRY_DELAY}",
        "  done",
        '  echo "walkthrough command failed: $1" >&2',
        "  exit 1",
        "}",
    ]
    for block in blocks:
        lines += [f"run {shlex.quote(command)}" for command in commands(block)]
    return "\n".join(lines) + "\n"


def test_walkthrough_blocks_are_found() -> None:
    blocks = walkthrough_blocks((ROOT / "README.md").read_text())
    assert len(blocks) >= 5 and "kreconcile dev" in blocks[0]
    assert sum(len(commands(block)) for block in blocks[1:]) >= 20


def test_every_walkthrough_command_works(tmp_path: Path) -> None:
    blocks = walkthrough_blocks((ROOT / "README.md").read_text())
    work = tmp_path / "repository"
    work.mkdir()
    for name in (".venv", "config"):
        (work / name).symlink_to(ROOT / name)
    metrics = free_address()
    env = {**os.environ, "HOME": str(tmp_path / "home"), "PYTHONUNBUFFERED": "1"}
    env.pop("KUBECONFIG", None)  # kubectl's cache goes under the test's own HOME

    with (tmp_path / "dev.log").open("w") as log:
        dev = subprocess.Popen(
            ["bash", "-c", blocks[0].replace(METRICS, metrics)],
            cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        wait_for((work / ".kreconcile/dev/kubeconfig").exists, timeout=60, what="kreconcile dev")
        second = [block.replace(METRICS, metrics) for block in blocks[1:]]
        done = subprocess.run(
            ["bash", "-c", script(second)],
            check=False, cwd=work, env=env, capture_output=True, text=True, timeout=420,
        )  # fmt: skip
        transcript = done.stdout + done.stderr
        print(transcript)  # shown when the test fails
        assert done.returncode == 0, transcript
        for expected in EXPECTED:
            assert expected in done.stdout, f"{expected!r} not in the walkthrough's output"
        os.killpg(dev.pid, signal.SIGINT)
        assert dev.wait(30) == 0, "Ctrl-C stops the dev cluster cleanly"
    finally:
        if dev.poll() is None:
            os.killpg(dev.pid, signal.SIGKILL)
            dev.wait(10)
