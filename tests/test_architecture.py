"""Architecture rules, checked on the source: the engine is pure; one module calls boto3; layers
import only downward, nothing imports in a cycle; deploy code never asks which target it is on."""

import ast
import os
import shutil
import sys
from pathlib import Path

TOOLING = Path(__file__).resolve().parents[1] / "tooling"

# The Lambda trigger function runs inside AWS Lambda with plain boto3; it cannot ship the client.
BOTO3_MODULES = {"tooling/aws/client.py", "tooling/triggers/lambda_handler.py"}
ENGINE_MAY_IMPORT = {
    "jsonpath_ng",
    "jsonata",
    "tooling.asl",
    "tooling.engine",
    "tooling.errors",
    "tooling.sourcemap",
}


def imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def modules(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.py"))


def test_the_engine_imports_only_the_stdlib_and_its_own_libraries():
    offending = {}
    for path in modules(TOOLING / "engine"):
        bad = {
            name
            for name in imports(path)
            if name.split(".")[0] not in sys.stdlib_module_names
            and not any(
                name == allowed or name.startswith(allowed + ".") for allowed in ENGINE_MAY_IMPORT
            )
        }
        if bad:
            offending[str(path.relative_to(TOOLING.parent))] = sorted(bad)
    assert offending == {}


def test_only_the_aws_client_module_imports_boto3_or_botocore():
    users = {
        str(path.relative_to(TOOLING.parent))
        for path in modules(TOOLING)
        if any(name.split(".")[0] in ("boto3", "botocore") for name in imports(path))
    }
    assert users <= BOTO3_MODULES, users - BOTO3_MODULES
    assert "tooling/aws/client.py" in users


# -- import-linter: layers, no cycles, a target-blind planner (contracts in pyproject.toml) ----

PROJECT = TOOLING.parent


def lint_imports(project: Path) -> tuple[int, str]:
    """`lint-imports` on a project folder: its exit code and its report."""
    import subprocess

    linter = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run(
        [str(linter), "--no-cache", str(project / "pyproject.toml")],
        cwd=project,
        env={"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(project)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done.returncode, done.stdout + done.stderr


def test_the_import_contracts_hold():
    code, report = lint_imports(PROJECT)
    assert code == 0, report
    assert "4 kept, 0 broken" in report, report


def test_an_added_import_cycle_breaks_the_contracts(tmp_path: Path):
    # A copy of the package where the bottom layer imports the top one.
    shutil.copytree(TOOLING, tmp_path / "tooling", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(PROJECT / "pyproject.toml", tmp_path / "pyproject.toml")
    names = tmp_path / "tooling" / "names.py"
    names.write_text(names.read_text() + "\nfrom tooling.cli import app  # noqa: E402, F401\n")
    code, report = lint_imports(tmp_path)
    assert code == 1, report
    assert "Layers import only downward (README, Development) BROKEN" in report
    assert "No import cycles between modules or packages, at any depth BROKEN" in report
    assert "tooling.names -> tooling.cli" in report


DEPLOY_AND_TRIGGERS = [*modules(TOOLING / "deploy"), *modules(TOOLING / "triggers")]
TARGET_NAMES = {"local", "aws"}


def target_checks(path: Path) -> list[str]:
    """Comparisons with a target's name or a `.target` attribute, and getattr(_, "aws")."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            if any(
                (isinstance(side, ast.Constant) and side.value in TARGET_NAMES)
                or (isinstance(side, ast.Attribute) and side.attr == "target")
                for side in sides
            ):
                found.append(f"{path.name}:{node.lineno}")
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "getattr"
            and any(isinstance(a, ast.Constant) and a.value in TARGET_NAMES for a in node.args)
        ):
            found.append(f"{path.name}:{node.lineno}")
    return found


def test_deploy_and_trigger_code_never_asks_which_target_it_is_on():
    assert [hit for path in DEPLOY_AND_TRIGGERS for hit in target_checks(path)] == []


def test_the_triggers_use_no_sqlite_of_their_own():
    users = [
        str(path.relative_to(PROJECT))
        for path in modules(TOOLING / "triggers")
        if {"sqlite3", "tooling.localrt.sqlite", "tooling.localrt.store"} & imports(path)
    ]
    assert users == []
