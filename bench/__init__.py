"""Benchmarks for filingbot (run as scripts, e.g. `python bench/callback.py`)."""

import importlib.util
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
SANDBOX_PATH = REPO_ROOT / "bot" / "wecom" / "sandbox.py"


def load_sandbox():
    """Load bot/wecom/sandbox.py by path, without importing the `bot` package.

    The floor must stay independent of the app: importing `bot` would run the app's package
    initialisation (and pull its dependencies into the floor's workers).
    """
    spec = importlib.util.spec_from_file_location("_bench_wecom_sandbox", SANDBOX_PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
