"""Benchmark: two versions of groenkans side by side, one core each, for before/after CPU ratios on a noisy machine.

Run by hand:  .venv/bin/python bench/side_by_side.py --old REV [--new REV] [--what batch|laagraven]
                                                    [--parks 40] [--rounds 3] [--country DIR]

On a shared or virtual machine the speed drifts by tens of per cent between runs minutes apart, which hides a change
of a few per cent when old and new code are run one after the other. Here the two versions run at the same time,
each in its own process on its own core (on a two-core machine: the whole machine), so both see the same phase of
the machine. Each round starts both together and prints their CPU seconds and the ratio new / old; the median ratio
is the figure to quote.

``--old`` / ``--new``: a git revision (checked out with ``git worktree`` into a temporary folder and removed
afterwards) or ``.`` for the working tree (the default for ``--new``).

``--what batch`` (default): ``run_batch(..., workers=1, limit=--parks)`` on a synthetic country (``--country``, else
one of 60 parks is made first), after a three-park warm-up (imports, numba caches). ``--what laagraven``: load the
real Laagraven park, then ``score_park`` + ``rank_candidates`` (CPU of those two, after one warm-up run).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

_CHILD = r"""
import sys, tempfile, time, warnings
from pathlib import Path
warnings.simplefilter("ignore")
import groenkans as gk
what, arg = sys.argv[1], sys.argv[2]
if what == "batch":
    country, parks = Path(arg), int(sys.argv[3])
    gk.run_batch(country / "country.toml", Path(tempfile.mkdtemp()) / "warm", workers=1, limit=3, progress=False)
    c = time.process_time()
    gk.run_batch(country / "country.toml", Path(tempfile.mkdtemp()) / "out", workers=1, limit=parks, progress=False)
else:
    park = gk.load_park(arg)
    gk.rank_candidates(park, gk.score_park(park))
    park = gk.load_park(arg)
    c = time.process_time()
    gk.rank_candidates(park, gk.score_park(park))
print(time.process_time() - c)
"""


def _source(rev: str, work: Path, made: list[Path]) -> Path:
    """The ``src`` folder of a revision: the working tree's for ``.``, else a temporary git worktree's (added to
    ``made`` as soon as it exists, for removal)."""
    if rev == ".":
        return REPO / "src"
    folder = work / f"rev_{rev.replace('/', '_')}"
    done = subprocess.run(
        ["git", "-C", str(REPO), "worktree", "add", "--detach", "-f", str(folder), rev], capture_output=True, text=True
    )
    if done.returncode:
        raise SystemExit(f"cannot check out {rev!r}: {done.stderr.strip()}")
    made.append(folder)
    return folder / "src"


def _start(src: Path, args: list[str]) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(src)}
    return subprocess.Popen([sys.executable, "-c", _CHILD, *args], env=env, stdout=subprocess.PIPE, text=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--old", required=True, help="git revision of the code before (or . for the working tree)")
    ap.add_argument("--new", default=".", help="git revision of the code after (default: the working tree)")
    ap.add_argument("--what", choices=["batch", "laagraven"], default="batch")
    ap.add_argument("--parks", type=int, default=40, help="parks per batch run (default 40)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--country", type=Path, help="a country folder made earlier (make_country); else one is made")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="gk_side_by_side_"))
    print(f"load average before: {' '.join(f'{v:.2f}' for v in os.getloadavg())} on {os.cpu_count()} cores")
    made: list[Path] = []
    try:
        old_src = _source(args.old, work, made)
        new_src = _source(args.new, work, made)
        if args.what == "batch":
            country = args.country
            if country is None:
                from groenkans.samples import make_country

                country = make_country(work / "country", parks=max(60, args.parks + 3), seed=1, park_size_m=(300, 900))
            child_args = ["batch", str(country), str(args.parks)]
            label = f"run_batch of {args.parks} parks"
        else:
            child_args = ["laagraven", str(REPO / "examples" / "laagraven")]
            label = "Laagraven score_park + rank_candidates"
        ratios = []
        for r in range(1, args.rounds + 1):
            old, new = _start(old_src, child_args), _start(new_src, child_args)
            old_out, _ = old.communicate()
            new_out, _ = new.communicate()
            if old.returncode or new.returncode:
                raise SystemExit(f"round {r}: a run failed (old exit {old.returncode}, new exit {new.returncode})")
            t_old, t_new = float(old_out.split()[-1]), float(new_out.split()[-1])
            ratios.append(t_new / t_old)
            print(
                f"round {r}: {label}: old {args.old} {t_old:.2f} CPU-s, new {args.new} {t_new:.2f} CPU-s, "
                f"new/old {t_new / t_old:.3f}",
                flush=True,
            )
        print(
            f"median new/old over {len(ratios)} rounds: {statistics.median(ratios):.3f} "
            f"(range {min(ratios):.3f}–{max(ratios):.3f})"
        )
        print(f"load average after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    finally:
        for folder in made:
            subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(folder)], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
