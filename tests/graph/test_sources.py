import json
from pathlib import Path
from typing import Any

import pytest

from tooling import session
from tooling.errors import DefinitionError
from tooling.graph import sources

OTHER_ARN = "arn:aws:states:us-east-1:000000000000:stateMachine:elsewhere"
OTHER = {"StartAt": "Only", "States": {"Only": {"Type": "Succeed"}}}


class DeployedOnly:
    """A backend that knows one state machine the service does not declare."""

    def __init__(self, deployed: dict[str, Any] | None) -> None:
        self.deployed = deployed

    def find_state_machine(self, arn: str) -> dict[str, Any] | None:
        return self.deployed if arn == OTHER_ARN else None


def run_of(machine_arn: str) -> sources.Run:
    description = {"stateMachineArn": machine_arn, "name": "run-1", "status": "SUCCEEDED"}
    return sources.Run(description, [])


def test_a_run_of_the_services_machine_is_drawn_with_its_definition(service: Path) -> None:
    config = session.load(session.Options(directory=service))
    machine = config.state_machines["loop"]
    # DeployedOnly answers the one Backend method machine_of_run calls.
    found = sources.machine_of_run(config, DeployedOnly(None), run_of(machine.arn))  # type: ignore[arg-type]
    assert found.name == "hello-loop-dev-loop"
    assert found.definition["StartAt"] == "LambdaFunction"
    assert sources.run_title(found, run_of(machine.arn)) == (
        "hello-loop-dev-loop · execution run-1 · SUCCEEDED"
    )


def test_a_run_of_another_machine_uses_the_deployed_definition(service: Path) -> None:
    config = session.load(session.Options(directory=service))
    backend = DeployedOnly({"name": "elsewhere", "definition": json.dumps(OTHER)})
    # DeployedOnly answers the one Backend method machine_of_run calls.
    found = sources.machine_of_run(config, backend, run_of(OTHER_ARN))  # type: ignore[arg-type]
    assert (found.name, found.definition) == ("elsewhere", OTHER)


def test_a_run_whose_machine_is_nowhere_asks_for_the_definition_file(service: Path) -> None:
    config = session.load(session.Options(directory=service))
    with pytest.raises(DefinitionError) as caught:
        # DeployedOnly answers the one Backend method machine_of_run calls.
        sources.machine_of_run(config, DeployedOnly(None), run_of(OTHER_ARN))  # type: ignore[arg-type]
    assert "tool graph DEFINITION --execution" in (caught.value.hint or "")


def test_a_definition_file_with_bad_json_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "machine.json"
    path.write_text('{\n  "StartAt": "A",\n  "States": {,}\n}')
    with pytest.raises(DefinitionError) as caught:
        sources.from_file(path)
    assert (caught.value.file, caught.value.line) == (str(path), 3)
