"""Fail when a committed .mo is stale or the ja catalogue has untranslated or fuzzy entries.

The product speaks Japanese first: a string without its Japanese text is a bug, not a detail.
"""

import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    problems = []
    for po in sorted(ROOT.glob("locale/*/LC_MESSAGES/*.po")):
        mo = po.with_suffix(".mo")
        with tempfile.TemporaryDirectory() as tmp:
            fresh = Path(tmp) / "fresh.mo"
            stats = subprocess.run(
                ["msgfmt", "--check", "--statistics", "-o", str(fresh), str(po)],
                capture_output=True,
                text=True,
                check=False,
            )
            if stats.returncode != 0:
                problems.append(f"{po.relative_to(ROOT)}: msgfmt failed: {stats.stderr.strip()}")
                continue
            if "untranslated" in stats.stderr or "fuzzy" in stats.stderr:
                problems.append(f"{po.relative_to(ROOT)}: {stats.stderr.strip()}")
            if not mo.exists() or mo.read_bytes() != fresh.read_bytes():
                problems.append(f"{mo.relative_to(ROOT)} is stale: run `make messages` and commit it")
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
