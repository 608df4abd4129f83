#!/usr/bin/env bash
# Mutation testing of the scoring weights and formula constants with cosmic-ray.
#
#   scripts/mutation.sh                          # every group of scripts/mutation.toml, killed by its test-command
#   GROUP=weights scripts/mutation.sh            # one group ([groenkans-mutation.groups.<name>]; comma-separate more)
#   TESTS="tests/test_scoring.py" scripts/mutation.sh   # the same mutants against other tests
#   INIT_ONLY=1 scripts/mutation.sh              # only count the mutants
#   SINCE=REV GROUP=weights,indicators scripts/mutation.sh   # only the listed names whose code changed since REV
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
python - "$WORK/mutation.toml" "$OUT" "$GROUP" "${SINCE:-}" <<'PY'
import ast, subprocess, sys, tomllib
from pathlib import Path
from cosmic_ray.tools.filters.line_filter import LineFilter
from cosmic_ray.work_db import WorkDB, use_db
from cosmic_ray.work_item import WorkerOutcome, WorkResult


def names_in(body, prefix=""):
    """name -> node of the functions, classes and assignments of a body (Class.name inside)."""
    found = {}
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            found[prefix + node.name] = node
            if isinstance(node, ast.ClassDef) and not prefix:
                found.update(names_in(node.body, node.name + "."))
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            for t in node.targets if isinstance(node, ast.Assign) else [node.target]:
                if isinstance(t, ast.Name):
                    found[prefix + t.id] = node
    return found


cfg = tomllib.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
groups = cfg["groenkans-mutation"]["groups"]
wanted = [g for g in sys.argv[3].split(",") if g] or list(groups)
unknown = set(wanted) - set(groups)
if unknown:
    sys.exit(f"mutation.toml: no group {sorted(unknown)} (groups: {sorted(groups)})")
since = sys.argv[4]


def changed(path, found, names):
    """The names whose code (as parsed: comments aside) differs from revision ``since``; all of them without it."""
    if not since:
        return names
    old = subprocess.run(["git", "show", f"{since}:{path}"], capture_output=True, text=True).stdout
    before = {n: ast.dump(v) for n, v in names_in(ast.parse(old).body).items()} if old else {}
    return [n for n in names if before.get(n) != ast.dump(found[n])]


ranges = {}
for group in wanted:
    for path, names in groups[group].items():
        found = names_in(ast.parse(Path(path).read_text(encoding="utf-8")).body)
        missing = set(names) - set(found)
        if missing:  # renamed or merged by a refactoring: say so, run the rest
            print(f"mutation.toml: {path} has no {sorted(missing)} (left out; update the list)", file=sys.stderr)
        names = changed(path, found, [n for n in names if n in found])
        if since:
            print(f"changed since {since}: {path} {names}", file=sys.stderr)
        ranges.setdefault(Path(path), []).extend((found[n].lineno, found[n].end_lineno) for n in names)


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
if [[ -z "${NO_FORKSERVER:-}" ]]; then
    # A fork server imports numpy, pandas, geopandas, scipy and pytest once; each test-command asks it for a fresh
    # child that imports groenkans (the mutated copy) and runs pytest.main with the same arguments: about 1 s a mutant
    # instead of 5-10 s of interpreter start-up. NO_FORKSERVER=1 runs the test-command as written.
    cat > "$WORK/forkserver.py" <<'PY'
import json, os, socket, sys


def serve(path):
    sys.dont_write_bytecode = True  # a mutant of the same size and second must never load a stale .pyc
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    import geopandas, numpy, pandas, pyproj, pytest, rasterio, scipy.stats, shapely  # noqa: F401 (not groenkans)

    assert not any(m == "groenkans" or m.startswith("groenkans.") for m in sys.modules), "groenkans pre-imported"
    srv = socket.socket(socket.AF_UNIX)
    srv.bind(path)
    srv.listen(1)
    while True:
        conn, _ = srv.accept()
        args = json.loads(conn.makefile().readline())
        pid = os.fork()
        if pid == 0:
            srv.close()
            code = 99
            try:
                import signal

                signal.alarm(110)  # a mutant that loops is killed (below cosmic-ray's own timeout)
                sys.path.insert(0, os.path.abspath("src"))
                null = os.open(os.devnull, os.O_WRONLY)
                os.dup2(null, 1)
                os.dup2(null, 2)
                code = int(pytest.main(args))
                mod = sys.modules.get("groenkans")
                if mod is not None and not os.path.abspath(mod.__file__).startswith(os.path.abspath("src")):
                    code = 97  # the installed groenkans was tested, not the mutated copy
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        code = os.waitstatus_to_exitcode(status)
        conn.sendall(f"{code if code >= 0 else 96}\n".encode())
        conn.close()


def run(path, args):
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    s.sendall((json.dumps(args) + "\n").encode())
    answer = s.makefile().readline().strip()
    sys.exit(int(answer) if answer else 98)


if __name__ == "__main__":
    (serve if sys.argv[1] == "serve" else run)(sys.argv[2], *([sys.argv[3:]] if sys.argv[1] == "run" else []))
PY
    python "$WORK/forkserver.py" serve "$WORK/sock" &
    SERVER=$!
    trap 'kill "$SERVER" 2>/dev/null; rm -rf "$WORK"' EXIT
    for _ in $(seq 120); do [[ -S "$WORK/sock" ]] && break; sleep 0.5; done
    python - "$WORK/mutation.toml" "python $WORK/forkserver.py run $WORK/sock" <<'PY'
import re, sys
path, client = sys.argv[1], sys.argv[2]
text = open(path, encoding="utf-8").read()
text, n = re.subn(r'^(test-command = ")[^"]*?-m pytest ', lambda m: m.group(1) + client + " ", text, flags=re.M)
assert n == 1, "test-command is not a 'python -m pytest ...' command"
open(path, "w", encoding="utf-8").write(text)
PY
    grep '^test-command' "$WORK/mutation.toml"
fi
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
