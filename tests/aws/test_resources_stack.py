"""`resources:` on the AWS target, against a moto server: one CloudFormation stack per service
and stage, created and updated with change sets, its values read back into the service
(definitions, IAM statements, environment), removed after what depends on it (issue 15)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from .cli_runs import mutating, run, service_folder
from .conftest import MOTO_ACCOUNT, REGION

STACK = "shop-dev"
TABLE = "shop-dev-orders"
TABLE_ARN = f"arn:aws:dynamodb:{REGION}:{MOTO_ACCOUNT}:table/{TABLE}"
MACHINE_ARN = f"arn:aws:states:{REGION}:{MOTO_ACCOUNT}:stateMachine:shop-dev-main"
FUNCTION = "shop-dev-save"
MACHINE_ROLE = "shop-dev-us-east-1-main-sfnRole"

SERVERLESS = """\
service: shop
provider:
  name: aws
  runtime: python3.12
  environment:
    TABLE: !Ref OrdersTable
functions:
  save:
    handler: handler.save
stepFunctions:
  stateMachines:
    main:
      definition:
        StartAt: Put
        States:
          Put:
            Type: Task
            Resource: arn:aws:states:::dynamodb:putItem
            Parameters:
              TableName: !Ref OrdersTable
              Item: {id: {S.$: $.id}}
            ResultPath: null
            Next: Note
          Note:
            Type: Pass
            Parameters:
              table: !GetAtt OrdersTable.Arn
            Next: Save
          Save:
            Type: Task
            Resource: !GetAtt save.Arn
            End: true
      iamRoleStatements:
        - Effect: Allow
          Action: dynamodb:PutItem
          Resource: !GetAtt OrdersTable.Arn
resources:
  Resources:
    OrdersTable:
      Type: AWS::DynamoDB::Table
      Properties:
        TableName: ${self:service}-${sls:stage}-orders
        BillingMode: PAY_PER_REQUEST
        AttributeDefinitions: [{AttributeName: id, AttributeType: S}]
        KeySchema: [{AttributeName: id, KeyType: HASH}]
"""
TOPIC = "    Topic:\n      Type: AWS::SNS::Topic\n"


@pytest.fixture
def shop(aws_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    handler = "def save(event, context):\n    return event\n"
    return service_folder(
        tmp_path, monkeypatch, {"serverless.yml": SERVERLESS, "handler.py": handler}
    )


def clients() -> Any:
    boto = boto3.Session(region_name=REGION)

    class Clients:
        cfn = boto.client("cloudformation")
        ddb = boto.client("dynamodb")
        sfn = boto.client("stepfunctions")
        iam = boto.client("iam")
        lambda_ = boto.client("lambda")

    return Clients()


def test_the_stack_is_created_first_and_its_values_reach_the_service(
    shop: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err, calls = run(capsys, "deploy")
    assert code == 0, err
    assert out.splitlines()[0] == f"create    stack {STACK}"
    done = mutating(calls)
    assert done[:2] == ["CreateChangeSet", "ExecuteChangeSet"]  # before anything else
    assert "CreateStack" not in done and "UpdateStack" not in done
    assert f"stack {STACK}: add OrdersTable (AWS::DynamoDB::Table)" in err  # progress lines
    aws = clients()
    stack = aws.cfn.describe_stacks(StackName=STACK)["Stacks"][0]
    assert {t["Key"]: t["Value"] for t in stack["Tags"]} == {
        "tool:service": "shop",
        "tool:stage": "dev",
    }
    assert aws.ddb.describe_table(TableName=TABLE)["Table"]["TableArn"] == TABLE_ARN
    definition = json.loads(
        aws.sfn.describe_state_machine(stateMachineArn=MACHINE_ARN)["definition"]
    )
    assert definition["States"]["Put"]["Parameters"]["TableName"] == TABLE
    assert definition["States"]["Note"]["Parameters"] == {"table": TABLE_ARN}  # Fn::GetAtt
    policy = aws.iam.get_role_policy(
        RoleName=MACHINE_ROLE,
        PolicyName=aws.iam.list_role_policies(RoleName=MACHINE_ROLE)["PolicyNames"][0],
    )["PolicyDocument"]
    statements = policy["Statement"]
    assert {"Effect": "Allow", "Action": "dynamodb:PutItem", "Resource": TABLE_ARN} in statements
    config = aws.lambda_.get_function(FunctionName=FUNCTION)["Configuration"]
    assert config["Environment"]["Variables"] == {"TABLE": TABLE}


def test_a_redeploy_with_nothing_to_do_creates_no_change_set(
    shop: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "deploy")[0] == 0
    code, out, err, calls = run(capsys, "deploy")
    assert code == 0, err
    assert out.splitlines()[0] == f"unchanged stack {STACK}"
    assert out.splitlines()[-1] == "No changes."
    assert mutating(calls) == []  # no CreateChangeSet, nothing else either
    ops = [call.operation for call in calls]
    assert "DescribeStacks" in ops and "GetTemplate" in ops


def test_a_change_is_planned_as_data_and_applied_through_a_change_set(
    shop: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "deploy")[0] == 0
    (shop / "serverless.yml").write_text(SERVERLESS + TOPIC)
    code, out, err, calls = run(capsys, "plan", "--json")
    assert code == 0, err
    assert mutating(calls) == []
    plan = json.loads(out)
    assert plan["changes"][0] == {
        "kind": "stack",
        "name": STACK,
        "action": "update",
        "reasons": ["resources added: Topic"],
        "attributes": ["TemplateBody"],
        "dependsOn": [],
    }
    # the table is not changed: the service keeps its known values, nothing else changes
    assert {c["action"] for c in plan["changes"][1:]} == {"unchanged"}
    code, out, err, calls = run(capsys, "deploy")
    assert code == 0, err
    assert mutating(calls) == ["CreateChangeSet", "ExecuteChangeSet"]
    assert clients().cfn.describe_stack_resource(StackName=STACK, LogicalResourceId="Topic")


def test_plan_before_the_first_deploy_says_which_values_wait_for_the_stack(
    shop: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err, calls = run(capsys, "plan", "--json")
    assert code == 0, err
    assert mutating(calls) == []
    changes = {(c["kind"], c["name"]): c for c in json.loads(out)["changes"]}
    assert list(changes)[0] == ("stack", STACK)
    assert changes[("stack", STACK)]["action"] == "create"
    assert changes[("function", FUNCTION)]["reasons"] == [
        "uses values known after the stack is created: OrdersTable"
    ]
    assert changes[("state machine", "shop-dev-main")]["reasons"] == [
        "uses values known after the stack is created: OrdersTable, OrdersTable.Arn"
    ]
    assert changes[("role", MACHINE_ROLE)]["reasons"] == [
        "uses values known after the stack is created: OrdersTable.Arn"
    ]
    assert {"kind": "stack", "name": STACK} in changes[("state machine", "shop-dev-main")][
        "dependsOn"
    ]
    with pytest.raises(Exception, match="does not exist"):
        clients().cfn.describe_stacks(StackName=STACK)


def test_remove_deletes_the_stack_after_the_state_machine(
    shop: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "deploy")[0] == 0
    code, out, err, calls = run(capsys, "remove")
    assert code == 0, err
    assert out.splitlines()[-1] == f"delete    stack {STACK} (tool remove)"
    done = mutating(calls)
    assert done.index("DeleteStateMachine") < done.index("DeleteStack")
    assert done.index("DeleteFunction") < done.index("DeleteStack")
    aws = clients()
    with pytest.raises(aws.ddb.exceptions.ResourceNotFoundException):
        aws.ddb.describe_table(TableName=TABLE)
    with pytest.raises(Exception, match="does not exist"):
        aws.cfn.describe_stacks(StackName=STACK)


def test_someone_elses_stack_with_the_name_is_refused_before_anything_changes(
    shop: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    aws = clients()
    theirs = {"Resources": {"Q": {"Type": "AWS::SQS::Queue"}}}
    aws.cfn.create_stack(StackName=STACK, TemplateBody=json.dumps(theirs))
    code, out, err, calls = run(capsys, "deploy")
    assert code == 2
    assert out == ""
    assert err.splitlines()[-1].startswith(
        f"error: stack {STACK} already exists on the aws target (account {MOTO_ACCOUNT}) and was "
        "not deployed by tool for this service and stage"
    )
    assert mutating(calls) == []
    template = aws.cfn.get_template(StackName=STACK)["TemplateBody"]
    assert json.loads(json.dumps(template)) == theirs
    code, _, err, calls = run(capsys, "remove")
    assert code == 0, err
    assert f"warning: left stack {STACK} alone" in err
    assert "DeleteStack" not in mutating(calls)


@pytest.fixture
def failing_cloudformation(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """CloudFormation failing a resource, as AWS reports it: the resource's FAILED event with
    its reason, then the rollback (moto itself never fails a stack: it runs in the request)."""
    from moto.cloudformation import models

    executed: list[str] = []

    def execute_change_set(self: Any, change_set_name: str, stack_name: str | None = None) -> None:
        change_set = next(
            cs for cs in self.change_sets.values() if cs.change_set_name == change_set_name
        )
        stack = self.stacks[change_set.stack_id]
        kind = change_set.change_set_type
        executed.append(kind)
        stack._add_stack_event(f"{kind}_IN_PROGRESS", resource_status_reason="User Initiated")
        stack.events.append(
            models.Event(
                stack_id=stack.stack_id,
                stack_name=stack.name,
                logical_resource_id="OrdersTable",
                physical_resource_id="",
                resource_type="AWS::DynamoDB::Table",
                resource_status=f"{kind}_FAILED",
                resource_status_reason='Resource handler returned message: "One or more '
                'parameter values were invalid: Missing the key id"',
                resource_properties=None,
            )
        )
        final = "ROLLBACK_COMPLETE" if kind == "CREATE" else "UPDATE_ROLLBACK_COMPLETE"
        stack._add_stack_event(final)
        stack.status = final
        change_set.execution_status = "EXECUTE_FAILED"

    monkeypatch.setattr(models.CloudFormationBackend, "execute_change_set", execute_change_set)
    yield executed


def test_a_failed_creation_says_why_in_one_line_and_leaves_nothing(
    shop: Path, capsys: pytest.CaptureFixture[str], failing_cloudformation: list[str]
) -> None:
    code, out, err, calls = run(capsys, "deploy")
    assert code == 1
    assert failing_cloudformation == ["CREATE"]
    last = err.splitlines()[-1]
    assert last.startswith(
        f"error: stack {STACK} could not be created: OrdersTable (AWS::DynamoDB::Table) "
        'CREATE_FAILED: Resource handler returned message: "One or more parameter values were '
        'invalid: Missing the key id"; it was rolled back and deleted'
    )
    assert "Traceback" not in err
    done = mutating(calls)
    assert done == ["CreateChangeSet", "ExecuteChangeSet", "DeleteStack"]  # nothing else
    with pytest.raises(Exception, match="does not exist"):
        clients().cfn.describe_stacks(StackName=STACK)


def test_a_failed_update_is_rolled_back_and_says_why(
    shop: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run(capsys, "deploy")[0] == 0
    (shop / "serverless.yml").write_text(SERVERLESS + TOPIC)
    from moto.cloudformation import models

    original = models.CloudFormationBackend.execute_change_set
    failed: list[str] = []

    def execute_change_set(self: Any, change_set_name: str, stack_name: str | None = None) -> None:
        stack = next(s for s in self.stacks.values() if s.name == STACK)
        failed.append(change_set_name)
        stack.events.append(
            models.Event(stack.stack_id, stack.name, "Topic", "", "AWS::SNS::Topic",
                         "UPDATE_FAILED", "Topic limit exceeded", None)
        )  # fmt: skip
        stack._add_stack_event("UPDATE_ROLLBACK_COMPLETE")
        stack.status = "UPDATE_ROLLBACK_COMPLETE"

    monkeypatch.setattr(models.CloudFormationBackend, "execute_change_set", execute_change_set)
    code, _, err, calls = run(capsys, "deploy")
    assert code == 1
    assert err.splitlines()[-1].startswith(
        f"error: stack {STACK} could not be updated: Topic (AWS::SNS::Topic) UPDATE_FAILED: "
        "Topic limit exceeded; it was rolled back to what it was (UPDATE_ROLLBACK_COMPLETE)"
    )
    assert mutating(calls) == ["CreateChangeSet", "ExecuteChangeSet"]  # nothing else changed
    monkeypatch.setattr(models.CloudFormationBackend, "execute_change_set", original)
    code, out, err, _ = run(capsys, "deploy")  # an updatable stack: the next deploy goes on
    assert code == 0, err
    assert out.splitlines()[0] == f"update    stack {STACK} (resources added: Topic)"


def test_a_creation_cut_short_is_made_again(shop: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # A deploy killed after CreateChangeSet leaves a stack in REVIEW_IN_PROGRESS, holding nothing.
    aws = clients()
    aws.cfn.create_change_set(
        StackName=STACK,
        ChangeSetName="tool-cut-short",
        ChangeSetType="CREATE",
        TemplateBody=json.dumps({"Resources": {"Q": {"Type": "AWS::SQS::Queue"}}}),
        Tags=[{"Key": "tool:service", "Value": "shop"}, {"Key": "tool:stage", "Value": "dev"}],
    )
    code, out, err, _ = run(capsys, "deploy")
    assert code == 0, err
    assert out.splitlines()[0] == (
        f"update    stack {STACK} (its creation did not finish (REVIEW_IN_PROGRESS): made again)"
    )
    assert aws.ddb.describe_table(TableName=TABLE)
    assert aws.cfn.describe_stacks(StackName=STACK)["Stacks"][0]["StackStatus"] == (
        "CREATE_COMPLETE"
    )


def test_a_template_over_the_request_limit_is_refused_before_anything_changes(
    shop: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    queues = "".join(
        f"    Queue{n}:\n      Type: AWS::SQS::Queue\n      Properties:\n"
        f"        QueueName: queue-{n}-{'x' * 40}\n"
        for n in range(600)
    )
    (shop / "serverless.yml").write_text(SERVERLESS + queues)
    code, _, err, calls = run(capsys, "deploy")
    assert code == 2
    assert "CloudFormation takes at most 51200 bytes in a request" in err.splitlines()[-1]
    assert mutating(calls) == []


def test_a_stack_that_names_the_service_and_is_read_by_nothing_goes_after_it(
    shop: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = SERVERLESS.replace("  environment:\n    TABLE: !Ref OrdersTable\n", "")
    text = text.replace("!Ref OrdersTable", "orders").replace("!GetAtt OrdersTable.Arn", "'*'")
    text += (
        "    MachineArn:\n      Type: AWS::SSM::Parameter\n      Properties:\n"
        "        Name: /shop/machine\n        Type: String\n"
        "        Value: !Ref MainStepFunctionsStateMachine\n"
        "      DependsOn: SaveLambdaFunction\n"
    )
    (shop / "serverless.yml").write_text(text)
    code, out, err, _ = run(capsys, "deploy")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[-1] == f"create    stack {STACK}"  # after the state machine it names
    ssm = boto3.client("ssm", region_name=REGION)
    assert ssm.get_parameter(Name="/shop/machine")["Parameter"]["Value"] == MACHINE_ARN
    template = clients().cfn.get_template(StackName=STACK)["TemplateBody"]
    assert "DependsOn" not in template["Resources"]["MachineArn"]  # the function is not in it
    code, out, err, calls = run(capsys, "remove")
    assert code == 0, err
    assert out.splitlines()[0] == f"delete    stack {STACK} (tool remove)"


def test_a_stack_no_longer_declared_is_deleted_after_its_readers_change(
    shop: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "deploy")[0] == 0
    text = SERVERLESS[: SERVERLESS.index("resources:")]
    text = text.replace("  environment:\n    TABLE: !Ref OrdersTable\n", "")
    text = text.replace("!Ref OrdersTable", "orders").replace("!GetAtt OrdersTable.Arn", "'*'")
    (shop / "serverless.yml").write_text(text)
    code, out, err, calls = run(capsys, "deploy")
    assert code == 0, err
    assert out.splitlines()[-1] == f"delete    stack {STACK} (no longer in serverless.yml)"
    done = mutating(calls)
    assert done.index("UpdateStateMachine") < done.index("DeleteStack")
    with pytest.raises(Exception, match="does not exist"):
        clients().cfn.describe_stacks(StackName=STACK)


def test_info_lists_the_resources_of_the_stack(
    shop: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (shop / "serverless.yml").write_text(SERVERLESS + TOPIC)
    assert run(capsys, "deploy")[0] == 0
    code, out, err, calls = run(capsys, "info", "--json")
    assert code == 0, err
    assert mutating(calls) == []
    rows = json.loads(out)["resources"]
    kinds = [row["kind"] for row in rows]
    at = kinds.index("stack")
    members = {row["kind"]: row for row in rows[at + 1 : at + 3]}  # right after the stack
    assert members["AWS::DynamoDB::Table"] == {
        "kind": "AWS::DynamoDB::Table",
        "name": TABLE,
        "arn": TABLE_ARN,
        "details": f"OrdersTable in stack {STACK}, CREATE_COMPLETE",
    }
    topic = members["AWS::SNS::Topic"]
    assert topic["arn"] == topic["name"] and topic["arn"].startswith(
        f"arn:aws:sns:{REGION}:{MOTO_ACCOUNT}:"
    )


POLICY = """\
    SendPolicy:
      Type: AWS::IAM::Policy
      Properties:
        PolicyName: send-orders
        Roles: [!Ref IamRoleLambdaExecution]
        PolicyDocument:
          Version: "2012-10-17"
          Statement: [{Effect: Allow, Action: sns:Publish, Resource: "*"}]
"""


def test_a_policy_on_the_function_role_in_a_stack_read_first_gets_the_role_first(
    shop: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """In Serverless' one stack CloudFormation creates the role before the policy on it; here
    the stack comes first (the service reads its values), so the role is deployed with it."""
    (shop / "serverless.yml").write_text(SERVERLESS + POLICY)
    code, out, err, calls = run(capsys, "deploy")
    assert code == 0, err
    lines = out.splitlines()
    role = "shop-dev-us-east-1-lambdaRole"
    assert lines[:2] == [f"create    role {role}", f"create    stack {STACK}"]
    assert "is deployed before the functions" not in err  # nothing to warn about
    done = mutating(calls)
    assert done.index("CreateRole") < done.index("CreateChangeSet")
    aws = clients()
    assert "send-orders" in aws.iam.list_role_policies(RoleName=role)["PolicyNames"]
    assert aws.lambda_.get_function(FunctionName=FUNCTION)["Configuration"]["Role"].endswith(
        f":role/{role}"
    )
    code, out, err, calls = run(capsys, "deploy")
    assert code == 0 and out.splitlines()[-1] == "No changes.", out + err


def test_a_role_whose_policy_reads_the_stack_goes_first_and_gets_its_whole_policy_after(
    shop: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The stack's policy names the function role, and the role's own policy reads the table of
    the stack (rafael-ts of the field test, with a queue): the role is made first without that
    statement, the stack next, then the role's whole policy."""
    reads = SERVERLESS.replace(
        "functions:",
        "  iamRoleStatements:\n"
        "    - {Effect: Allow, Action: dynamodb:GetItem, Resource: !GetAtt OrdersTable.Arn}\n"
        "functions:",
        1,
    )
    (shop / "serverless.yml").write_text(reads + POLICY)
    code, out, err, calls = run(capsys, "deploy")
    assert code == 0, err
    role = "shop-dev-us-east-1-lambdaRole"
    assert out.splitlines()[:2] == [f"create    role {role}", f"create    stack {STACK}"]
    done = mutating(calls)
    assert done.index("CreateRole") < done.index("CreateChangeSet")
    iam = clients().iam
    document = iam.get_role_policy(RoleName=role, PolicyName="tool-function")["PolicyDocument"]
    resources = [s["Resource"] for s in document["Statement"] if s["Action"] == "dynamodb:GetItem"]
    assert resources == [TABLE_ARN]
    code, out, err, calls = run(capsys, "deploy")
    assert code == 0 and out.splitlines()[-1] == "No changes.", out + err
