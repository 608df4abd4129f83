"""The README is a test: every command and code block of README.md runs, in order, on a fresh copy of the data.

A small runner (no plugin): ``bash`` blocks run line by line through ``bash`` with this environment's ``bin`` first on
PATH; ``python`` blocks are joined per section and run in one interpreter; ``toml`` blocks must parse. They run in a
work folder holding a fresh copy of ``data/``, ``examples/`` and the ``Makefile``, with ``.venv`` pointing at this
environment, so ``make demo`` runs its real recipe; its install steps are marked done (the stamps are newer than
``pyproject.toml``) because a test must not reinstall the packages it runs on.

A block or line that cannot run in a test is marked in the README right above the block:

* ``<!-- readme-test: skip (reason) -->`` skips the block;
* ``<!-- readme-test: skip-line PREFIX (reason) -->`` skips the lines of the block that start with PREFIX.

The runner prints each reason.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import REPO

README = REPO / "README.md"
LANGUAGES = {"bash", "python", "toml"}
_DIRECTIVE = re.compile(r"^<!--\s*readme-test:\s*(skip-line|skip)\s*(.*?)\s*-->\s*$")
_FENCE = re.compile(r"^```\s*([\w+-]*)\s*$")


@dataclass
class Block:
    """A fenced code block of the README and the directives right above it."""

    section: str
    language: str
    code: str
    line: int  # 1-based line of the opening fence
    skip: str | None = None  # reason, when the whole block is skipped
    skip_lines: list[tuple[str, str]] = field(default_factory=list)  # (prefix, reason)


def _reason(text: str) -> tuple[str, str]:
    """Split ``PREFIX (reason)`` (the reason is the last parenthesised part) into (prefix, reason)."""
    match = re.match(r"^(.*?)\s*\(([^()]*(?:\([^()]*\)[^()]*)*)\)$", text)
    if not match or not match.group(2).strip():
        raise ValueError(f"a readme-test directive needs a reason in parentheses: {text!r}")
    return match.group(1).strip(), match.group(2).strip()


def parse(markdown: str) -> list[Block]:
    """The fenced code blocks of ``markdown``, with their section (``##`` heading) and skip directives."""
    blocks: list[Block] = []
    section, pending_skip, pending_lines = "", None, []
    lines = markdown.splitlines()
    i = 0
    while i < len(lines):
        text = lines[i]
        directive = _DIRECTIVE.match(text)
        fence = _FENCE.match(text)
        if text.startswith("## "):
            section = text[3:].strip()
        if directive:
            prefix, reason = _reason(directive.group(2))
            if directive.group(1) == "skip":
                if prefix:
                    raise ValueError(f"line {i + 1}: 'skip' takes only a reason; use skip-line PREFIX (reason)")
                pending_skip = reason
            else:
                if not prefix:
                    raise ValueError(f"line {i + 1}: 'skip-line' needs the start of the line to skip")
                pending_lines.append((prefix, reason))
        elif fence:
            end = next((j for j in range(i + 1, len(lines)) if lines[j].strip() == "```"), None)
            if end is None:
                raise ValueError(f"line {i + 1}: code block never closed")
            blocks.append(
                Block(
                    section, fence.group(1).lower(), "\n".join(lines[i + 1 : end]), i + 1, pending_skip, pending_lines
                )
            )
            pending_skip, pending_lines = None, []
            i = end
        elif text.strip() and (pending_skip or pending_lines):
            raise ValueError(f"line {i + 1}: a readme-test directive must stand right above its code block")
        i += 1
    return blocks


def commands(block: Block) -> list[tuple[str, str | None]]:
    """The shell commands of a bash block (continuation lines joined), each with its skip reason or None."""
    out: list[tuple[str, str | None]] = []
    joined = block.code.replace("\\\n", " ")
    for raw in joined.splitlines():
        cmd = raw.strip()
        if not cmd or cmd.startswith("#"):
            continue
        reason = next((r for prefix, r in block.skip_lines if cmd.startswith(prefix)), None)
        out.append((cmd, reason))
    return out


def _environment(work: Path) -> dict[str, str]:
    bin_dir = Path(sys.executable).parent
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "COV_"))}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    env["MPLBACKEND"] = "Agg"
    env["HOME"] = str(work / "home")  # nothing the README runs writes into the user's home
    return env


def fresh_copy(work: Path) -> Path:
    """A work folder as a fresh clone has it: data, examples, Makefile, with a set-up .venv.

    ``.venv/bin`` is this environment's; the Makefile's install stamps are written after the copies of
    ``pyproject.toml`` and ``constraints.txt``, so ``make demo`` runs its recipe without reinstalling anything
    (which would re-point this environment's editable install at the copy).
    """
    work.mkdir(parents=True, exist_ok=True)
    for name in ("data", "examples"):
        shutil.copytree(REPO / name, work / name)
    earlier = time.time() - 60
    for name in ("Makefile", "pyproject.toml", "constraints.txt"):
        shutil.copyfile(REPO / name, work / name)
        os.utime(work / name, (earlier, earlier))
    venv = work / ".venv"
    venv.mkdir()
    (venv / "bin").symlink_to(Path(sys.executable).parent, target_is_directory=True)
    for stamp in (".installed", ".lab-installed"):
        (venv / stamp).touch()
    (work / "home").mkdir()
    return work


def run_readme(markdown: str, work: Path, timeout: float = 900) -> tuple[list[str], list[str]]:
    """Run every block of ``markdown`` in ``work``; return (failures, notes), each a list of readable lines."""
    failures: list[str] = []
    notes: list[str] = []
    env = _environment(work)
    blocks = parse(markdown)
    python_by_section: dict[str, list[Block]] = {}
    order: list[tuple[str, Block | str]] = []
    for block in blocks:
        if block.skip:
            notes.append(f"skipped block at README line {block.line} ({block.section}): {block.skip}")
            continue
        if block.language not in LANGUAGES:
            failures.append(
                f"README line {block.line}: a ```{block.language or '(no language)'} block: give it a "
                f"language the runner knows ({', '.join(sorted(LANGUAGES))}) or a skip reason"
            )
        elif block.language == "python":
            if block.section not in python_by_section:
                order.append(("python", block.section))
            python_by_section.setdefault(block.section, []).append(block)
        else:
            order.append((block.language, block))
    for kind, item in order:
        if kind == "python":
            section = str(item)
            parts = python_by_section[section]
            script = work / f"readme_{re.sub(r'[^a-z0-9]+', '_', section.lower())}.py"
            script.write_text("\n\n".join(b.code for b in parts) + "\n", encoding="utf-8")
            res = subprocess.run(
                [sys.executable, str(script)],
                cwd=work,
                env=env,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
            if res.returncode != 0:
                failures.append(
                    f"python block(s) of section {section!r} (README line {parts[0].line}) failed:\n"
                    f"{res.stderr[-3000:]}"
                )
        elif kind == "toml":
            assert isinstance(item, Block)
            try:
                tomllib.loads(item.code)
            except tomllib.TOMLDecodeError as exc:
                failures.append(f"toml block at README line {item.line} does not parse: {exc}")
        else:
            assert isinstance(item, Block)
            for cmd, reason in commands(item):
                if reason is not None:
                    notes.append(f"skipped {cmd!r} (README line {item.line}): {reason}")
                    continue
                res = subprocess.run(
                    ["bash", "-c", cmd], cwd=work, env=env, capture_output=True, text=True, timeout=timeout, check=False
                )
                if res.returncode != 0:
                    failures.append(
                        f"{cmd!r} (README line {item.line}) exited {res.returncode}:\n"
                        f"{(res.stdout + res.stderr)[-3000:]}"
                    )
    return failures, notes


# -- the README itself ----------------------------------------------------------------------------------------------


def test_every_readme_block_is_run_or_skipped_with_a_reason() -> None:
    blocks = parse(README.read_text(encoding="utf-8"))
    assert len(blocks) >= 6
    for b in blocks:
        assert b.skip or b.language in LANGUAGES, f"README line {b.line}: ```{b.language} cannot be run"
        for prefix, _ in b.skip_lines:  # a skip-line directive must match a line of its block
            assert any(cmd.startswith(prefix) for cmd, _ in commands(b)), f"README line {b.line}: no line {prefix!r}"
    sections = {b.section for b in blocks if not b.skip}
    assert {"Quick start", "A tour of the API", "Command line", "Your own park"} <= sections


def test_the_quick_start_is_make_demo_and_make_test() -> None:
    quick = next(b for b in parse(README.read_text(encoding="utf-8")) if b.section == "Quick start")
    assert [cmd.split("#")[0].strip() for cmd, _ in commands(quick)] == ["make demo", "make test"]


def test_makefile_test_target_does_no_system_administration() -> None:
    """`make test` installs Python packages only; `.ci/run` installs the system packages first."""
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    recipe = re.search(r"^test: .*?\n((?:\t.*\n)+)", makefile, re.MULTILINE)
    assert recipe is not None
    assert not re.search(r"apt|system-deps|mount|sudo", recipe.group(1)), recipe.group(1)
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert ci.index("system-deps.sh") < ci.index("make test")


def test_make_demo_shows_what_it_installs() -> None:
    """`make demo` on a fresh clone takes minutes to install: pip's output is shown, not silenced."""
    res = subprocess.run(
        ["make", "-n", "-B", "demo"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "MAKEFLAGS": ""},
    )
    if res.returncode != 0 and shutil.which("make") is None:
        pytest.skip("make is not installed")
    assert res.returncode == 0, res.stderr
    installs = [line for line in res.stdout.splitlines() if "pip install" in line]
    assert installs and not any("--quiet" in line or " -q" in line for line in installs), installs
    assert "setting up .venv" in res.stdout  # and says what it is doing


@pytest.mark.slow
def test_readme_runs_as_written(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    work = fresh_copy(tmp_path / "clone")
    failures, notes = run_readme(README.read_text(encoding="utf-8"), work)
    with capsys.disabled():
        for note in notes:
            print(f"\nreadme-test: {note}")
    assert not failures, "\n\n".join(failures)
    # what the README says these lines write
    assert (work / "out" / "demo.gpkg").exists() and (work / "out" / "heat-first.html").exists()
    assert not (work / "out" / "kanaalzone.png").exists()  # score writes only the GeoPackage asked for
    assert (work / "out" / "national" / "national.gpkg").exists()
    assert (work / "out" / "park.gpkg").exists() and (work / "out" / "park.png").exists()
    assert (work / "out" / "dossier" / "demo-dossier.html").exists()


# -- the runner itself ----------------------------------------------------------------------------------------------


SAMPLE = """# title

## One
<!-- readme-test: skip-line echo skipped (a reason) -->
```bash
echo ok > one.txt
echo skipped
```

## Two
```python
x = 1
```
some text
```python
assert x == 1
open("two.txt", "w").write("2")
```

## Three
<!-- readme-test: skip (not runnable here) -->
```bash
exit 3
```
"""


def test_runner_runs_blocks_and_reports_skips(tmp_path: Path) -> None:
    failures, notes = run_readme(SAMPLE, tmp_path)
    assert failures == []
    assert (tmp_path / "one.txt").read_text() == "ok\n" and (tmp_path / "two.txt").read_text() == "2"
    assert sorted(notes) == [
        "skipped 'echo skipped' (README line 5): a reason",
        "skipped block at README line 22 (Three): not runnable here",
    ]


@pytest.mark.parametrize(
    "body",
    [
        "```bash\nfalse\n```",
        "```python\nraise SystemExit(1)\n```",
        "```toml\n[a\n```",
        "```sh\necho unknown language\n```",
    ],
)
def test_runner_fails_on_a_failing_block(tmp_path: Path, body: str) -> None:
    failures, _ = run_readme(f"## S\n{body}\n", tmp_path)
    assert len(failures) == 1


def test_a_directive_without_reason_is_refused() -> None:
    with pytest.raises(ValueError, match="needs a reason"):
        parse("<!-- readme-test: skip -->\n```bash\nfalse\n```\n")
    with pytest.raises(ValueError, match="right above"):
        parse("<!-- readme-test: skip (why) -->\ntext\n```bash\nfalse\n```\n")
