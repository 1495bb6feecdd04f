"""How long the command line takes to start: `counterplan --help`,
`--version`, `check` on the textbook example, and a bare `python -c pass`
for the floor.  Each command runs as a new process, best (and median) of
``--repeat`` runs, wall clock and CPU (user + system, which other jobs on a
shared machine do not inflate as much).

    .venv/bin/python benchmarks/bench_startup.py --repeat 7
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

COMMANDS = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "counterplan --help": [sys.executable, "-m", "counterplan.cli", "--help"],
    "counterplan --version": [sys.executable, "-m", "counterplan.cli", "--version"],
    "counterplan solve --help": [sys.executable, "-m", "counterplan.cli", "solve", "--help"],
    "counterplan check tb": [sys.executable, "-m", "counterplan.cli", "check", "tb"],
}


def timed(argv: list[str], cwd: Path) -> tuple[float, float]:
    """(wall, cpu) seconds of one run of ``argv``."""
    before = os.times()
    start = time.perf_counter()
    subprocess.run(argv, cwd=cwd, check=True, capture_output=True)
    wall = time.perf_counter() - start
    after = os.times()
    return wall, (after.children_user - before.children_user
                  + after.children_system - before.children_system)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cwd = Path(tmp)
        subprocess.run([sys.executable, "-m", "counterplan.cli", "example", "textbook", "tb"],
                       cwd=cwd, check=True, capture_output=True)
        print(f"{'command':26} {'wall best':>9} {'median':>7} {'cpu best':>9}")
        for name, argv in COMMANDS.items():
            runs = [timed(argv, cwd) for _ in range(args.repeat)]
            walls, cpus = [w for w, _ in runs], [c for _, c in runs]
            print(f"{name:26} {min(walls):8.2f}s {statistics.median(walls):6.2f}s "
                  f"{min(cpus):8.2f}s")
    print(f"load average during the runs: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
