"""Architecture rules, checked on the source: the engine is pure; one module calls boto3."""

import ast
import sys
from pathlib import Path

TOOLING = Path(__file__).resolve().parents[1] / "tooling"

# The Lambda trigger function runs inside AWS Lambda with plain boto3; it cannot ship the client.
BOTO3_MODULES = {"tooling/aws/client.py", "tooling/triggers/lambda_handler.py"}
ENGINE_MAY_IMPORT = {
    "jsonpath_ng",
    "jsonata",
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
