"""serverless.yml as real projects write it: params, strToBool, sls:instanceId, variables read
from AWS services, definitions two files deep, keys Serverless knows, and the seams where a
CloudFormation stack's values and AWS readers plug in."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tooling.config.missing import MISSING
from tooling.config.service import load_service
from tooling.errors import ConfigError


def write(folder: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return folder


BASE = "service: s\nprovider:\n  name: aws\n"


def load(folder: Path, **kwargs: Any):
    kwargs.setdefault("env", {})
    return load_service(folder, **kwargs)


def env_of(tmp_path: Path, environment: str, extra: str = "", **kwargs: Any) -> dict[str, str]:
    yml = (
        BASE + "  environment:\n" + environment + "functions:\n  f:\n    handler: h.main\n" + extra
    )
    return load(write(tmp_path, {"serverless.yml": yml}), **kwargs).functions["f"].environment


# -- ${param:}, ${strToBool()}, ${sls:instanceId} ---------------------------------------------


PARAMS = (
    "params:\n  default:\n    domain: d.example\n    empty: null\n  prod:\n    domain: p.example\n"
)


def test_params_resolve_cli_first_then_stage_then_default(tmp_path: Path) -> None:
    environment = "    DOMAIN: ${param:domain}\n"
    assert env_of(tmp_path, environment, PARAMS) == {"DOMAIN": "d.example"}
    assert env_of(tmp_path, environment, PARAMS, stage="prod") == {"DOMAIN": "p.example"}
    assert env_of(tmp_path, environment, PARAMS, stage="prod", params={"domain": "c"}) == {
        "DOMAIN": "c"
    }


def test_a_missing_param_says_where_to_set_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        env_of(tmp_path, "    X: ${param:empty}\n", PARAMS, stage="qa")
    err = caught.value
    assert (err.line, err.column) == (5, 8)
    assert "no parameter 'empty' for stage qa" in err.message
    assert err.hint is not None
    assert "--param empty=VALUE" in err.hint and "params.<stage> or params.default" in err.hint
    assert env_of(tmp_path, "    X: ${param:empty, 'fallback'}\n", PARAMS) == {"X": "fallback"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [("true", "true"), ("1", "true"), (" FALSE ", "false"), ("0", "false")],
)
def test_str_to_bool(tmp_path: Path, text: str, expected: str) -> None:
    assert env_of(tmp_path, f"    B: ${{strToBool({text})}}\n") == {"B": expected}


def test_str_to_bool_refuses_other_text(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="invalid \"strToBool\" input 'yes'"):
        env_of(tmp_path, "    B: ${strToBool(yes)}\n")


def test_instance_id_is_one_value_per_load(tmp_path: Path) -> None:
    environment = "    A: ${sls:instanceId}\n    B: id-${sls:instanceId}\n"
    assert env_of(tmp_path, environment, instance_id="1733500000000") == {
        "A": "1733500000000",
        "B": "id-1733500000000",
    }


# -- variables read from AWS services ---------------------------------------------------------


@pytest.mark.parametrize(
    ("variable", "what"),
    [
        ("${ssm:/app/key}", "an SSM Parameter Store parameter"),
        ("${ssm(eu-west-1, raw):/app/key}", "an SSM Parameter Store parameter"),
        ("${cf:other-stack-dev.ApiUrl}", "a CloudFormation stack output"),
        ("${s3:bucket/key.txt}", "an S3 object"),
    ],
)
def test_aws_service_variables_say_how_to_give_the_value(
    tmp_path: Path, variable: str, what: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        env_of(tmp_path, f"    X: {variable}\n")
    assert f"the toolkit does not read {what} yet" in caught.value.message
    assert "--param NAME=VALUE" in (caught.value.hint or "")


def test_their_fallback_is_used_with_a_warning(tmp_path: Path) -> None:
    yml = BASE + "functions:\n  f:\n    handler: h.main\n    environment:\n"
    yml += "      X: ${ssm:/app/key, 'local-key'}\n"
    svc = load(write(tmp_path, {"serverless.yml": yml}))
    assert svc.functions["f"].environment == {"X": "local-key"}
    assert svc.warnings == (
        "serverless.yml:8:10: ${ssm:/app/key, 'local-key'}: the toolkit does not read ${ssm:} "
        'values yet (variables from AWS services); using the fallback "local-key"',
    )


class FakeAws:
    """The seam: what a reader wired to AWS would answer."""

    def resolve(self, kind: str, address: str, params: tuple[str, ...]) -> Any:
        return {("ssm", "/app/key"): "from-ssm"}.get((kind, address), MISSING)

    def missing_reason(self, kind: str, address: str) -> str:
        return f"{kind} has no {address}"


def test_a_wired_reader_answers_through_the_seam(tmp_path: Path) -> None:
    assert env_of(tmp_path, "    X: ${ssm:/app/key}\n", external=FakeAws()) == {"X": "from-ssm"}
    with pytest.raises(ConfigError, match="ssm has no /other"):
        env_of(tmp_path, "    X: ${ssm:/other}\n", external=FakeAws())


# -- resources: values, through their seam ----------------------------------------------------


RESOURCE_YML = """\
service: s
provider:
  name: aws
  iam:
    role:
      statements:
        - Effect: Allow
          Action: dynamodb:PutItem
          Resource: !GetAtt Orders.Arn
  environment:
    TABLE: !Ref Orders
functions:
  f:
    handler: h.main
resources:
  Resources:
    Orders: {Type: 'AWS::DynamoDB::Table'}
"""


def test_resources_references_are_problems_at_their_lines(tmp_path: Path) -> None:
    svc = load(write(tmp_path, {"serverless.yml": RESOURCE_YML}))
    assert sorted((p.line, p.column) for p in svc.problems) == [(9, 21), (11, 12)]
    assert all(
        "from `resources:`, and its" in p.message
        and "is not known: the stack of `resources:` gives none" in p.message
        for p in svc.problems
    )
    assert svc.provider_iam_statements == ()
    assert svc.functions["f"].environment == {}


class StackOutputs:
    def ref(self, logical_id: str) -> str | None:
        return {"Orders": "orders-table"}.get(logical_id)

    def get_att(self, logical_id: str, attribute: str) -> str | None:
        arn = "arn:aws:dynamodb:us-east-1:000000000000:table/orders-table"
        return arn if (logical_id, attribute) == ("Orders", "Arn") else None


def test_stack_values_plug_in_through_resource_values(tmp_path: Path) -> None:
    svc = load(write(tmp_path, {"serverless.yml": RESOURCE_YML}), resource_values=StackOutputs())
    assert svc.problems == ()
    assert svc.provider_iam_statements[0]["Resource"].endswith(":table/orders-table")
    assert svc.functions["f"].environment == {"TABLE": "orders-table"}


# -- definitions two files deep ---------------------------------------------------------------


def test_a_definition_through_two_files_keeps_its_own_positions(tmp_path: Path) -> None:
    yml = BASE + "stepFunctions:\n  stateMachines: ${file(sm.yml)}\n"
    files = {
        "serverless.yml": yml,
        "sm.yml": "main:\n  definition: ${file(def.yml)}\n",
        "def.yml": "StartAt: A\nStates:\n  A:\n    Type: Pass\n    End: true\n",
    }
    machine = load(write(tmp_path, files)).state_machines["main"]
    assert machine.source is not None and machine.source.file == "def.yml"
    assert machine.source.positions["/States/A/Type"].line == 4


# -- keys -------------------------------------------------------------------------------------


def test_provider_keys_are_used_said_unsupported_or_unknown(tmp_path: Path) -> None:
    yml = BASE + (
        "  deploymentBucket: {name: b}\n"  # no effect without a stack: nothing said
        "  runtimeManagement: auto\n"  # Serverless knows it, the toolkit not
        "  packages: {}\n"  # nobody knows it
        "  stage_name: x\n"
    )
    warnings = load(write(tmp_path, {"serverless.yml": yml})).warnings
    assert tuple(sorted(warnings)) == (
        "serverless.yml:5:22: provider.runtimeManagement is not supported by the toolkit yet "
        "(ignored; see README, serverless.yml)",
        "serverless.yml:6:13: unknown key 'packages' in provider: Serverless does not know it "
        "either (ignored)",
        "serverless.yml:7:15: unknown key 'stage_name' in provider: Serverless does not know it "
        "either (ignored)",
    )


def test_function_keys_the_toolkit_does_not_use_are_said(tmp_path: Path) -> None:
    yml = BASE + "functions:\n  f:\n    handler: h.main\n    fileSystemConfig: {}\n"
    (warning,) = load(write(tmp_path, {"serverless.yml": yml})).warnings
    assert warning.startswith("serverless.yml:7:23: functions.f.fileSystemConfig is not supported")


def test_function_events_the_toolkit_does_not_deploy_are_said_by_type(tmp_path: Path) -> None:
    yml = BASE + "functions:\n  f:\n    handler: h.main\n    events:\n      - http: GET /\n"
    yml += "      - iot: {sql: SELECT}\n"
    (warning,) = load(write(tmp_path, {"serverless.yml": yml})).warnings
    assert warning.startswith(
        "serverless.yml:9:9: function 'f': `iot` events of functions are not supported"
    )


def test_state_machine_keys_and_events_the_toolkit_does_not_deploy_are_said(
    tmp_path: Path,
) -> None:
    yml = BASE + (
        "stepFunctions:\n  stateMachines:\n    m:\n"
        "      definition: {StartAt: A, States: {A: {Type: Pass, End: true}}}\n"
        "      dependsOn: [Other]\n"  # CloudFormation ordering: nothing to say
        "      useExactVersion: true\n"
        "      alarms: {topics: {alarm: arn:aws:sns:us-east-1:1:t}, metrics: [executionsFailed]}\n"
        "      events:\n        - http: {path: go, method: POST}\n"
        "        - schedule: rate(1 hour)\n"
        "        - eventBridge: {event: {source: [my.app]}}\n"
    )
    warnings = set(load(write(tmp_path, {"serverless.yml": yml})).warnings)
    # schedule, http, eventBridge and alarms are deployed now (tests/config/test_events.py),
    # and useExactVersion (tests/aws/test_function_versions_against_moto.py)
    assert warnings == set()


def test_state_machines_by_the_plugins_logical_ids_in_definitions(tmp_path: Path) -> None:
    yml = BASE + (
        "stepFunctions:\n  stateMachines:\n"
        "    child:\n      id: ChildMachine\n"
        "      definition: {StartAt: A, States: {A: {Type: Pass, End: true}}}\n"
        "    other-one:\n"
        "      definition: {StartAt: A, States: {A: {Type: Pass, End: true}}}\n"
        "    parent:\n      definition:\n        StartAt: Run\n        States:\n"
        "          Run:\n            Type: Task\n"
        "            Resource: arn:aws:states:::states:startExecution\n"
        "            Parameters:\n"
        "              StateMachineArn: !Ref ChildMachine\n"
        "              Other: !GetAtt [OtherDashoneStepFunctionsStateMachine, Name]\n"
        "            End: true\n"
    )
    svc = load(write(tmp_path, {"serverless.yml": yml}))
    assert svc.state_machines["child"].logical_id == "ChildMachine"
    assert svc.state_machines["other-one"].logical_id == "OtherDashoneStepFunctionsStateMachine"
    parameters = svc.state_machines["parent"].definition["States"]["Run"]["Parameters"]
    assert parameters == {
        "StateMachineArn": svc.state_machines["child"].arn,
        "Other": "s-dev-other-one",
    }


@pytest.mark.parametrize(
    ("variable", "expected"),
    [
        ("${cf:stackonly}", "<stack-name>.<output-id>"),
        ("${s3:bucketonly}", "<bucket-name>/<key>"),
        ("${ssm:}", "/path/to/param"),
    ],
)
def test_aws_service_addresses_have_serverless_form(
    tmp_path: Path, variable: str, expected: str
) -> None:
    with pytest.raises(ConfigError, match="unsupported address") as caught:
        env_of(tmp_path, f"    X: {variable}\n")
    assert expected in (caught.value.hint or "")


def test_managed_policies_are_checked_with_their_line_and_resolved(tmp_path: Path) -> None:
    yml = BASE + (
        "  iam:\n    role:\n      managedPolicies:\n"
        "        - !Sub arn:${AWS::Partition}:iam::aws:policy/ReadOnlyAccess\n"
        "        - ReadOnlyAccess\n"
        "functions:\n  f:\n    handler: h.main\n"
    )
    svc = load(write(tmp_path, {"serverless.yml": yml}))
    (problem,) = svc.problems
    assert (problem.line, problem.column) == (8, 11)
    assert "managedPolicies[1] must be a policy ARN" in problem.message
    from tooling import iam

    assert iam.function_role(svc).managed_policies == ("arn:aws:iam::aws:policy/ReadOnlyAccess",)


def test_self_service_name_is_the_service_name_as_serverless_v2_reads_it(tmp_path: Path) -> None:
    """`${self:service.name}` with `service: <name>` (written for the v1/v2 object form, kept
    after moving to the string form): Serverless v1 and v2 read it as `${self:service}`, with
    a warning here, since v3 finds no value there; the object form still gives its name."""
    extra = "custom:\n  prefix: ${self:service.name}-${sls:stage}\n"
    yml = (
        BASE
        + "  environment:\n    PREFIX: ${self:custom.prefix}\n    AGAIN: ${self:service.name}\n"
        + "functions:\n  f:\n    handler: h.main\n"
        + extra
    )
    service = load(write(tmp_path, {"serverless.yml": yml}))
    assert service.functions["f"].environment == {"PREFIX": "s-dev", "AGAIN": "s"}
    said = [w for w in service.warnings if "${self:service.name}" in w]
    assert len(said) == 2 and "write ${self:service}" in said[0]
    assert said[0].startswith("serverless.yml:")
    object_form = yml.replace("service: s\n", "service:\n  name: s\n")
    service = load(write(tmp_path, {"serverless.yml": object_form}))
    assert service.functions["f"].environment == {"PREFIX": "s-dev", "AGAIN": "s"}
    assert not [w for w in service.warnings if "${self:service.name}" in w]
