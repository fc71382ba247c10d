"""Whole-service checks: serverless.yml, handlers, Lambda resources, resolved definitions."""

from __future__ import annotations

import json
from pathlib import Path

from tooling.session import Options
from tooling.validate import validate_directory


def run(directory: Path) -> list[tuple[str, str | None, int | None]]:
    return [(d.code, d.file, d.line) for d in validate_directory(Options(directory=directory))]


def edit_definition(directory: Path, change) -> None:  # noqa: ANN001 - a small test helper
    path = directory / "statemachine.asl.json"
    definition = json.loads(path.read_text())
    change(definition)
    path.write_text(json.dumps(definition, indent=2))


def test_the_example_service_is_clean(service_dir: Path) -> None:
    assert run(service_dir) == []


def test_handler_syntax_error_is_located(service_dir: Path) -> None:
    lines = (service_dir / "handler.py").read_text().splitlines()
    lines[2] = lines[2] + " ;;("
    (service_dir / "handler.py").write_text("\n".join(lines))
    assert run(service_dir) == [("HANDLER_SYNTAX", "handler.py", 3)]


def test_missing_handler_function_and_file(service_dir: Path) -> None:
    text = (service_dir / "handler.py").read_text().replace("def lambda_handler", "def handler")
    (service_dir / "handler.py").write_text(text)
    [diagnostic] = validate_directory(Options(directory=service_dir))
    assert diagnostic.code == "HANDLER_FUNCTION_MISSING"
    assert "lambda_handler" in diagnostic.message
    (service_dir / "handler.py").unlink()
    assert [code for code, _, _ in run(service_dir)] == ["HANDLER_FILE_MISSING"]


def test_definition_errors_point_into_the_definition_file(service_dir: Path) -> None:
    edit_definition(service_dir, lambda d: d["States"]["LambdaFunction"].update(Next="ChoiseState"))
    [diagnostic] = validate_directory(Options(directory=service_dir))
    assert diagnostic.code == "STATE_NEXT_MISSING"
    assert diagnostic.file == "statemachine.asl.json"
    assert 'did you mean "ChoiceState"' in diagnostic.message
    text = (service_dir / "statemachine.asl.json").read_text().splitlines()
    assert diagnostic.line is not None and diagnostic.column is not None
    assert '"ChoiseState"' in text[diagnostic.line - 1]
    assert text[diagnostic.line - 1][diagnostic.column - 1] == '"'


def test_lambda_invoke_must_name_a_function_of_the_service(service_dir: Path) -> None:
    def use_invoke(name: str):  # noqa: ANN202
        def change(definition: dict) -> None:
            state = definition["States"]["LambdaFunction"]
            state["Resource"] = "arn:aws:states:::lambda:invoke"
            state["Parameters"] = {"FunctionName": name, "Payload.$": "$"}

        return change

    edit_definition(service_dir, use_invoke("hello"))
    [diagnostic] = validate_directory(Options(directory=service_dir))
    assert diagnostic.code == "LAMBDA_FUNCTION_UNKNOWN"
    assert 'did you mean "hello-loop-dev-hello"' in diagnostic.message
    edit_definition(service_dir, use_invoke("hello-loop-dev-hello"))
    assert run(service_dir) == []
    edit_definition(
        service_dir, use_invoke("arn:aws:lambda:eu-west-1:123456789012:function:elsewhere")
    )
    assert run(service_dir) == []


def test_unknown_getatt_target_is_reported(service_dir: Path) -> None:
    edit_definition(
        service_dir,
        lambda d: d["States"]["LambdaFunction"].update(Resource={"Fn::GetAtt": ["helo", "Arn"]}),
    )
    [diagnostic] = validate_directory(Options(directory=service_dir))
    assert (diagnostic.code, diagnostic.file) == ("RESOURCE_UNRESOLVED", "statemachine.asl.json")
    assert "'hello'" in diagnostic.message


def test_unresolvable_variable_is_named_with_its_location(service_dir: Path) -> None:
    config = (service_dir / "serverless.yml").read_text()
    config = config.replace("memorySize: 128", "memorySize: ${self:custom.memory}")
    (service_dir / "serverless.yml").write_text(config)
    [diagnostic] = validate_directory(Options(directory=service_dir))
    assert diagnostic.code == "VARIABLE_UNRESOLVED"
    assert diagnostic.file == "serverless.yml" and diagnostic.line is not None
    line = config.splitlines()[diagnostic.line - 1]
    assert "memorySize" in line
    assert "custom.memory" in diagnostic.message


def test_config_warnings_become_located_warnings(service_dir: Path) -> None:
    config = (service_dir / "serverless.yml").read_text()
    (service_dir / "serverless.yml").write_text(config.replace("timeout: 10", "timeuot: 10"))
    [diagnostic] = validate_directory(Options(directory=service_dir))
    assert (diagnostic.code, diagnostic.severity.value) == ("CONFIG_WARNING", "WARNING")
    assert diagnostic.file == "serverless.yml" and diagnostic.line is not None
    assert (
        "timeuot" in config.replace("timeout: 10", "timeuot: 10").splitlines()[diagnostic.line - 1]
    )


def test_full_arn_in_the_service_account_naming_no_function_is_a_warning(
    service_dir: Path,
) -> None:
    arn = "arn:aws:lambda:us-east-1:000000000000:function:hello-loop-dev-helo"
    edit_definition(service_dir, lambda d: d["States"]["LambdaFunction"].update(Resource=arn))
    [diagnostic] = validate_directory(Options(directory=service_dir))
    assert (diagnostic.code, diagnostic.severity.value) == ("LAMBDA_FUNCTION_UNKNOWN", "WARNING")
    assert 'did you mean "hello-loop-dev-hello"' in diagnostic.message
