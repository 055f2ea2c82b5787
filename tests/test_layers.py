"""The worker and the operator commands run without the web framework."""

import subprocess
import sys

CHECK = """
import sys
import worker.cli, worker.main, worker.sync
loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("fastapi", "starlette"))
assert not loaded, loaded
"""


def test_the_worker_imports_no_web_framework() -> None:
    done = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
