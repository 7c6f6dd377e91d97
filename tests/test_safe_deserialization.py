"""Nothing in the project evaluates data it reads: no pickle (or its kin), no eval/exec, YAML loaded safely,
numpy without pickles (its default), torch weights only. A syntax-tree check of every Python file we ship."""

import ast
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

PACKAGES = ("stream", "models", "calibration", "benchmarks", "ros2_ws/src")
UNSAFE_MODULES = {"pickle", "cPickle", "_pickle", "dill", "cloudpickle", "marshal", "shelve", "jsonpickle"}
UNSAFE_YAML = {"load", "unsafe_load", "full_load", "load_all", "unsafe_load_all", "full_load_all"}


def sources() -> list[Path]:
    return sorted(p for package in PACKAGES for p in (REPO_ROOT / package).rglob("*.py") if "/build/" not in str(p))


def keyword(call: ast.Call, name: str):
    return next((k.value for k in call.keywords if k.arg == name), None)


def findings(tree: ast.AST) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [f"import {a.name}" for a in node.names if a.name.split(".")[0] in UNSAFE_MODULES]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in UNSAFE_MODULES:
            found.append(f"from {node.module} import ...")
        elif isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id in ("eval", "exec"):
                found.append(f"{func.id}(...)")
            elif isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
                owner, name = func.value.id, func.attr
                loader = keyword(node, "Loader")
                safe = isinstance(loader, ast.Attribute) and loader.attr in ("SafeLoader", "CSafeLoader")
                if owner == "yaml" and name in UNSAFE_YAML and not safe:
                    found.append(f"yaml.{name} without SafeLoader")
                pickles = keyword(node, "allow_pickle")
                if owner in ("np", "numpy") and name == "load" and pickles is not None and not (
                        isinstance(pickles, ast.Constant) and pickles.value is False):  # fmt: skip
                    found.append("numpy.load with allow_pickle")
                weights = keyword(node, "weights_only")
                if owner == "torch" and name == "load" and not (isinstance(weights, ast.Constant) and weights.value):
                    found.append("torch.load without weights_only=True")
    return found


@pytest.mark.parametrize("path", sources(), ids=lambda p: str(p.relative_to(REPO_ROOT)))
def test_no_file_evaluates_what_it_reads(path):
    assert findings(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))) == []


def test_the_check_finds_what_it_looks_for():
    code = ("import pickle\nfrom dill import loads\neval(x)\nyaml.load(s)\nyaml.load(s, Loader=yaml.SafeLoader)\n"
            "np.load(p, allow_pickle=True)\nnp.load(p)\ntorch.load(p)\ntorch.load(p, weights_only=True)\n"
            "model.eval()\n")
    assert findings(ast.parse(code)) == ["import pickle", "from dill import ...", "eval(...)",
                                         "yaml.load without SafeLoader", "numpy.load with allow_pickle",
                                         "torch.load without weights_only=True"]  # fmt: skip
