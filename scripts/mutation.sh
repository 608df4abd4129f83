#!/usr/bin/env bash
# Mutation testing of the scoring weights and formula constants with cosmic-ray.
#
#   scripts/mutation.sh                 # mutants of scripts/mutation.toml, killed by its test-command
#   TESTS="tests/test_scoring.py" scripts/mutation.sh   # the same mutants against other tests
#   INIT_ONLY=1 scripts/mutation.sh     # only count the mutants
#
# Works on a scratch clone of the committed HEAD (commit first), so that the mutated copy under src/ is what
# the tests import (PYTHONPATH=src) and the working tree is never touched. Prints cr-report and cr-rate;
# the session database is left in $OUT (default: mutation-session.sqlite in the current folder).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VENV:-$ROOT/.venv}"
OUT="${OUT:-$PWD/mutation-session.sqlite}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
export PATH="$VENV/bin:$PATH"

git clone -q "$ROOT" "$WORK/repo"
cd "$WORK/repo"
cp "$ROOT/scripts/mutation.toml" "$WORK/mutation.toml"
if [[ -n "${TESTS:-}" ]]; then  # swap the tests of the test-command
    python - "$WORK/mutation.toml" "$TESTS" <<'PY'
import re, sys
path, tests = sys.argv[1], sys.argv[2]
text = open(path, encoding="utf-8").read()
text = re.sub(r'(test-command = ".*?)tests/test_pinned_constants\.py"', lambda m: m.group(1) + tests + '"', text)
open(path, "w", encoding="utf-8").write(text)
PY
fi
rm -f session.sqlite
cosmic-ray init "$WORK/mutation.toml" session.sqlite
cr-filter-operators session.sqlite "$WORK/mutation.toml"
# keep only mutants inside the functions (or module-level assignments) named in [groenkans-mutation.functions]
python - "$WORK/mutation.toml" session.sqlite <<'PY'
import ast, sys, tomllib
from pathlib import Path
from cosmic_ray.tools.filters.line_filter import LineFilter
from cosmic_ray.work_db import WorkDB, use_db

cfg = tomllib.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
ranges = {}
for path, names in cfg["groenkans-mutation"]["functions"].items():
    tree = ast.parse(Path(path).read_text(encoding="utf-8"))
    found = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            found[node.name] = (node.lineno, node.end_lineno)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            for t in node.targets if isinstance(node, ast.Assign) else [node.target]:
                if isinstance(t, ast.Name):
                    found[t.id] = (node.lineno, node.end_lineno)
    missing = set(names) - set(found)
    if missing:
        sys.exit(f"mutation.toml: {path} has no {sorted(missing)}")
    ranges[Path(path)] = [found[n] for n in names]
with use_db(sys.argv[2], WorkDB.Mode.open) as db:
    LineFilter()._skip_filtered(db, ranges)
    print(f"mutants to run: {db.num_work_items - db.num_results}")
PY
[[ -n "${INIT_ONLY:-}" ]] && exit 0
cosmic-ray baseline "$WORK/mutation.toml"
cosmic-ray exec "$WORK/mutation.toml" session.sqlite
cr-report --surviving-only --show-diff session.sqlite
cr-rate session.sqlite
cp session.sqlite "$OUT"
