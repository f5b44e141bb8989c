"""Running the `fuwu` command as a real subprocess against a test database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

FUWU = str(Path(sys.executable).with_name("fuwu"))


def run_fuwu(
    db_url: str, data_dir: Path, *args: str, **extra_env: str
) -> subprocess.CompletedProcess[str]:
    """`fuwu ARGS…` with FUWU_DATA_DIR and FUWU_DATABASE_URL set, nothing else of FUWU_*."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FUWU_")}
    env |= {"FUWU_DATA_DIR": str(data_dir), "FUWU_DATABASE_URL": db_url, "COLUMNS": "200"}
    return subprocess.run(
        [FUWU, *args], env=env | extra_env, capture_output=True, text=True, timeout=120,
        stdin=subprocess.DEVNULL,
    )  # fmt: skip
