"""Running the real `mtqa` command line in a fresh process, as a user would (shared by tests)."""

from __future__ import annotations

import subprocess
import sys


def mtqa(
    *args: str, stdin: bytes | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mtqa.cli", *args],
        input=stdin,
        capture_output=True,
        timeout=600,
        env=env,
    )
