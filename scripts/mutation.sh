#!/usr/bin/env bash
# Mutation testing of the scoring weights and formula constants with cosmic-ray.
#
#   scripts/mutation.sh                          # every group of scripts/mutation.toml, killed by its test-command
#   GROUP=weights scripts/mutation.sh            # one group ([groenkans-mutation.groups.<name>]; comma-separate more)
#   TESTS="tests/test_scoring.py" scripts/mutation.sh   # the same mutants against other tests
#   INIT_ONLY=1 scripts/mutation.sh              # only count the mutants
#
# Works on a scratch clone of the committed HEAD (commit first), so that the mutated copy under src/ is what
# the tests import (PYTHONPATH=src) and the working tree is never touched. Prints cr-report and cr-rate.
# The session database is $OUT (default: groenkans-mutation-<group>.sqlite in the temporary folder, never in the
# repository); it is written as the run goes, so `cr-report $OUT | tail -3` shows the progress of a running job.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VENV:-$ROOT/.venv}"
GROUP="${GROUP:-}"
OUT="${OUT:-${TMPDIR:-/tmp}/groenkans-mutation-${GROUP:-all}.sqlite}"
OUT="$(cd "$(dirname "$OUT")" && pwd)/$(basename "$OUT")"
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
text = re.sub(r'^(test-command = ".*?-W ignore ).*"$', lambda m: m.group(1) + tests + '"', text, flags=re.M)
open(path, "w", encoding="utf-8").write(text)
PY
fi
rm -f "$OUT"
cosmic-ray init "$WORK/mutation.toml" "$OUT"
cr-filter-operators "$OUT" "$WORK/mutation.toml"
# keep only mutants inside the functions, classes or module-level assignments named in the groups
python - "$WORK/mutation.toml" "$OUT" "$GROUP" <<'PY'
import ast, sys, tomllib
from pathlib import Path
from cosmic_ray.tools.filters.line_filter import LineFilter
from cosmic_ray.work_db import WorkDB, use_db
from cosmic_ray.work_item import WorkerOutcome, WorkResult


def names_in(body, prefix=""):
    """name -> (first line, last line) of the functions, classes and assignments of a body (Class.name inside)."""
    found = {}
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            found[prefix + node.name] = (node.lineno, node.end_lineno)
            if isinstance(node, ast.ClassDef) and not prefix:
                found.update(names_in(node.body, node.name + "."))
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            for t in node.targets if isinstance(node, ast.Assign) else [node.target]:
                if isinstance(t, ast.Name):
                    found[prefix + t.id] = (node.lineno, node.end_lineno)
    return found


cfg = tomllib.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
groups = cfg["groenkans-mutation"]["groups"]
wanted = [g for g in sys.argv[3].split(",") if g] or list(groups)
unknown = set(wanted) - set(groups)
if unknown:
    sys.exit(f"mutation.toml: no group {sorted(unknown)} (groups: {sorted(groups)})")
ranges = {}
for group in wanted:
    for path, names in groups[group].items():
        found = names_in(ast.parse(Path(path).read_text(encoding="utf-8")).body)
        missing = set(names) - set(found)
        if missing:  # renamed or merged by a refactoring: say so, run the rest
            print(f"mutation.toml: {path} has no {sorted(missing)} (left out; update the list)", file=sys.stderr)
        ranges.setdefault(Path(path), []).extend(found[n] for n in names if n in found)


def is_text(node):
    """A string, an f-string, or a + of them: concatenated message text, not arithmetic."""
    if isinstance(node, ast.JoinedStr) or (isinstance(node, ast.Constant) and isinstance(node.value, str)):
        return True
    return isinstance(node, ast.BinOp) and (is_text(node.left) or is_text(node.right))


# an operator mutant of message text ("m² at least " + width) is no formula: leave out the lines of such text
text_lines = {}
for path in ranges:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.BinOp) and is_text(node):
            text_lines.setdefault(path, set()).update(range(node.lineno, node.end_lineno + 1))
with use_db(sys.argv[2], WorkDB.Mode.open) as db:
    LineFilter()._skip_filtered(db, ranges)
    text_jobs = [
        item.job_id
        for item in db.pending_work_items
        if any(
            m.operator_name.startswith("core/ReplaceBinaryOperator") and m.start_pos[0] in text_lines.get(m.module_path, ())
            for m in item.mutations
        )
    ]
    if text_jobs:
        db.set_multiple_results(
            text_jobs, WorkResult(output="Filtered: message text", worker_outcome=WorkerOutcome.SKIPPED)
        )
    print(f"mutants to run ({', '.join(wanted)}): {db.num_work_items - db.num_results}")
PY
[[ -n "${INIT_ONLY:-}" ]] && exit 0
cosmic-ray baseline "$WORK/mutation.toml"
cosmic-ray exec "$WORK/mutation.toml" "$OUT"
cr-report --surviving-only --show-diff "$OUT"
cr-rate "$OUT"
# the same counts over the mutants that ran (cr-report and cr-rate count the filtered-out ones as complete)
python - "$OUT" <<'PY'
import sys
from cosmic_ray.work_db import WorkDB, use_db
from cosmic_ray.work_item import TestOutcome, WorkerOutcome

with use_db(sys.argv[1], WorkDB.Mode.open) as db:
    ran = [r for _, r in db.results if r.worker_outcome != WorkerOutcome.SKIPPED]
killed = sum(r.test_outcome == TestOutcome.KILLED for r in ran)
survived = sum(r.test_outcome == TestOutcome.SURVIVED for r in ran)
other = len(ran) - killed - survived
print(f"mutants run: {len(ran)}, killed: {killed}, survived: {survived}, other (incompetent, timeout): {other}, "
      f"kill rate: {killed / max(1, killed + survived):.1%}")
PY
