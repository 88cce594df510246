"""docs/commands.md is what the bot really says: a fresh run of docs/make_commands.py (the
scenario replayed through the emulator's encrypted callbacks) must reproduce it byte for byte."""

from __future__ import annotations

import difflib
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_commands_doc_matches_a_fresh_run(tmp_path):
    """Regenerate into a temp file; any difference means the bot's replies changed."""
    output = tmp_path / "commands.md"
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["PYTHONHASHSEED"] = "random"  # the document must not depend on set order
    result = subprocess.run([sys.executable, str(ROOT / "docs" / "make_commands.py"), str(output)],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    committed = (ROOT / "docs" / "commands.md").read_text(encoding="utf-8")
    fresh = output.read_text(encoding="utf-8")
    diff = "".join(difflib.unified_diff(committed.splitlines(True), fresh.splitlines(True),
                                        "docs/commands.md", "fresh run", n=1))
    assert fresh == committed, ("docs/commands.md is out of date; run "
                                "`python docs/make_commands.py` and review:\n" + diff[:6000])


def test_generator_is_the_documented_entry_point():
    """The document says how it is made, so a reader edits the scenario, not the output."""
    text = (ROOT / "docs" / "commands.md").read_text(encoding="utf-8")
    assert "python docs/make_commands.py" in text
    assert "⋯" in text and "```" in text
