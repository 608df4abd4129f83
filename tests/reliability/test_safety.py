"""Safety by inspection of the source tree: no code execution from data, SQL built with parameters only.

The scan parses every module under ``src/groenkans`` (AST, not grep, so comments and
docstrings do not count). Documented exceptions would be listed in ``ALLOWED``;
there are none.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "groenkans"
MODULES = sorted(SRC.rglob("*.py"))
#: (module relative to src/groenkans, call) pairs allowed on purpose, with the reason in a comment. None.
ALLOWED: set[tuple[str, str]] = set()

FORBIDDEN_CALLS = {
    "eval",
    "exec",
    "compile",
    "__import__",
    "pickle.load",
    "pickle.loads",
    "pickle.Unpickler",
    "marshal.load",
    "marshal.loads",
    "shelve.open",
    "yaml.load",
    "yaml.unsafe_load",
    "dill.load",
    "dill.loads",
    "joblib.load",
    "cloudpickle.load",
    "cloudpickle.loads",
    "os.system",
    "os.popen",
    "numpy.load",
    "np.load",
    "pandas.read_pickle",
    "pd.read_pickle",
}
SQL_METHODS = {"execute", "executemany", "executescript"}


def _name(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_name(node.value)}.{node.attr}"
    return "?"


def _calls(path: Path) -> list[ast.Call]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return [n for n in ast.walk(tree) if isinstance(n, ast.Call)]


def test_scan_sees_the_package() -> None:
    assert len(MODULES) > 20
    # the scanner itself finds what it should
    bad = ast.parse("import pickle\neval(x)\npickle.loads(b)\ncon.execute(f'SELECT {t}')\n")
    calls = [n for n in ast.walk(bad) if isinstance(n, ast.Call)]
    assert {_name(c.func) for c in calls} >= {"eval", "pickle.loads", "con.execute"}


@pytest.mark.parametrize("path", MODULES, ids=[str(p.relative_to(SRC)) for p in MODULES])
def test_no_code_execution_from_data(path: Path) -> None:
    rel = str(path.relative_to(SRC))
    found = []
    for call in _calls(path):
        name = _name(call.func)
        short = name.rsplit(".", 2)[-2:] if "." in name else [name]
        dotted = ".".join(short)
        if (name in FORBIDDEN_CALLS or dotted in FORBIDDEN_CALLS) and (rel, dotted) not in ALLOWED:
            found.append(f"{rel}:{call.lineno} {name}(")
        if dotted.endswith(("subprocess.run", "subprocess.Popen", "subprocess.call", "subprocess.check_output")):
            for kw in call.keywords:
                if kw.arg == "shell" and not (isinstance(kw.value, ast.Constant) and kw.value.value is False):
                    found.append(f"{rel}:{call.lineno} {name}(shell=...)")
    assert not found, f"unsafe calls: {found}"


@pytest.mark.parametrize("path", MODULES, ids=[str(p.relative_to(SRC)) for p in MODULES])
def test_sql_uses_parameters_not_string_formatting(path: Path) -> None:
    """``con.execute(f"... {name}")`` would let a layer or column name inject SQL; values go in as ``?`` parameters."""
    rel = str(path.relative_to(SRC))
    found = []
    for call in _calls(path):
        if isinstance(call.func, ast.Attribute) and call.func.attr in SQL_METHODS and call.args:
            sql = call.args[0]
            formatted = (
                isinstance(sql, ast.JoinedStr)
                or (isinstance(sql, ast.BinOp) and isinstance(sql.op, (ast.Mod, ast.Add)))
                or (isinstance(sql, ast.Call) and _name(sql.func).endswith("format"))
            )
            if formatted:
                found.append(f"{rel}:{call.lineno}")
    assert not found, f"SQL built by string formatting (use ? parameters or validate/quote identifiers): {found}"


def test_toml_is_read_with_the_standard_reader() -> None:
    """Configs and manifests use :mod:`tomllib` (no eval, no third-party parser with custom types)."""
    readers = []
    for path in MODULES:
        text = path.read_text(encoding="utf-8")
        tree = ast.parse(text)
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                for n in names:
                    assert n.split(".")[0] not in {
                        "toml",
                        "tomli",
                        "yaml",
                        "pickle",
                        "dill",
                        "cloudpickle",
                        "shelve",
                        "marshal",
                    }, f"{path.relative_to(SRC)} imports {n}"
                    if n == "tomllib":
                        readers.append(path.name)
    assert {"config.py", "io.py"} <= set(readers)


def test_layer_names_written_to_sql_are_validated(tmp_path: Path) -> None:
    """A layer name that is not a plain identifier is refused before anything is written."""
    import geopandas as gpd
    from shapely.geometry import box

    import groenkans as gk
    from groenkans.errors import OutputError

    parcels = gpd.GeoDataFrame({"x": [1]}, geometry=[box(0, 0, 1, 1)], crs="EPSG:28992").rename_axis("perceel_id")
    out = tmp_path / "o.gpkg"
    with pytest.raises(OutputError, match="not allowed"):
        gk.to_geopackage(parcels, None, out, extra_layers={'x"; DROP TABLE gpkg_contents; --': parcels})
    assert not out.exists() and not list(tmp_path.iterdir())
