"""schemathesis against the live app: no request it generates from the API document gets a
500, and every answer's status and body are the ones the document declares (both databases).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import Live

pytestmark = pytest.mark.slow
CHECKS = "not_a_server_error,status_code_conformance,response_schema_conformance"
EXAMPLES = os.environ.get("FUWU_TEST_SCHEMATHESIS_EXAMPLES", "10")
# Operations that would end the run's own access: revoking tokens (the run's among them).
EXCLUDED = r"^/api/v1/tokens/"


def test_the_api_keeps_its_document(live: Live, tmp_path: Path) -> None:
    command = [
        str(Path(sys.executable).parent / "st"), "run", f"{live.url}/api/openapi.json",
        "-H", f"Authorization: Bearer {live.token}",
        "-c", CHECKS, "-n", EXAMPLES, "--seed", "20261207",
        "--phases", "examples,coverage,fuzzing",
        "--exclude-path-regex", EXCLUDED,
        "--report", "junit", "--report-dir", str(tmp_path),
        "--no-color",
    ]  # fmt: skip
    run = subprocess.run(command, capture_output=True, text=True, timeout=900, check=False)
    summary = run.stdout[-6000:]
    assert run.returncode == 0, summary
    assert " passed" in summary
