"""Resources under the service's names that the toolkit did not make, against a moto server:
`tool deploy` refuses before changing anything, `tool remove` leaves them alone (issue 11)."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest

from .cli_runs import mutating
from .cli_runs import recorded as run
from .conftest import MOTO_ACCOUNT, REGION

QUEUE = "hello-loop-dev-loop-trigger"
DLQ = f"{QUEUE}-dlq"
TRIGGER_FUNCTION = "hello-loop-dev-loop-sqs-trigger"
TRIGGER_ROLE = "hello-loop-dev-us-east-1-loop-sqsRole"
TRIGGER_LOG_GROUP = f"/aws/lambda/{TRIGGER_FUNCTION}"
FUNCTION = "hello-loop-dev-hello"
FUNCTION_ROLE = "hello-loop-dev-us-east-1-lambdaRole"
MACHINE = "hello-loop-dev-loop"
MACHINE_ARN = f"arn:aws:states:{REGION}:{MOTO_ACCOUNT}:stateMachine:{MACHINE}"
TEAM_B = {"owner": "team-b"}
TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)
THEIR_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "sqs:*", "Resource": "*"}],
}


class Account:
    """boto3 clients on the moto server, acting as team B."""

    def __init__(self) -> None:
        boto = boto3.Session(region_name=REGION)
        self.sqs = boto.client("sqs")
        self.lambda_ = boto.client("lambda")
        self.iam = boto.client("iam")
        self.logs = boto.client("logs")
        self.sfn = boto.client("stepfunctions")

    def queue(self, name: str, messages: int) -> str:
        url = self.sqs.create_queue(QueueName=name, tags=TEAM_B)["QueueUrl"]
        for n in range(messages):
            self.sqs.send_message(QueueUrl=url, MessageBody=f"team-b message {n}")
        return str(url)

    def role(self, name: str) -> str:
        arn = self.iam.create_role(
            RoleName=name,
            AssumeRolePolicyDocument=TRUST,
            Tags=[{"Key": "owner", "Value": "team-b"}],
        )["Role"]["Arn"]
        self.iam.put_role_policy(
            RoleName=name, PolicyName="team-b", PolicyDocument=json.dumps(THEIR_POLICY)
        )
        return str(arn)

    def function(self, name: str, role_arn: str) -> None:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("theirs.py", "def handle(event, context):\n    return 'team-b'\n")
        self.lambda_.create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=role_arn,
            Handler="theirs.handle",
            Code={"ZipFile": buffer.getvalue()},
            Timeout=3,
            Tags=TEAM_B,
        )

    def log_group(self, name: str) -> None:
        self.logs.create_log_group(logGroupName=name, tags=TEAM_B)

    def mapping(self, queue_name: str, function: str) -> str:
        arn = f"arn:aws:sqs:{REGION}:{MOTO_ACCOUNT}:{queue_name}"
        answer = self.lambda_.create_event_source_mapping(
            EventSourceArn=arn, FunctionName=function, Enabled=False, BatchSize=5, Tags=TEAM_B
        )
        return str(answer["UUID"])

    def state_machine(self, name: str) -> None:
        self.sfn.create_state_machine(
            name=name,
            definition=json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}),
            roleArn=f"arn:aws:iam::{MOTO_ACCOUNT}:role/team-b-machine",
            tags=[{"key": "owner", "value": "team-b"}],
        )

    def snapshot(self) -> dict[str, Any]:
        """Everything observable of team B's resources (and of anything else in the account)."""
        queues = {}
        for url in self.sqs.list_queues().get("QueueUrls", []):
            attributes = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])
            kept = attributes["Attributes"]
            queues[url.rsplit("/", 1)[1]] = {
                "messages": kept["ApproximateNumberOfMessages"],
                "VisibilityTimeout": kept["VisibilityTimeout"],
                "RedrivePolicy": kept.get("RedrivePolicy"),
                "tags": self.sqs.list_queue_tags(QueueUrl=url).get("Tags"),
            }
        functions = {}
        for function in self.lambda_.list_functions()["Functions"]:
            functions[function["FunctionName"]] = {
                key: function.get(key) for key in ("CodeSha256", "Handler", "Role", "Timeout")
            }
        roles = {}
        for role in self.iam.list_roles()["Roles"]:
            name = role["RoleName"]
            roles[name] = {
                policy: self.iam.get_role_policy(RoleName=name, PolicyName=policy)["PolicyDocument"]
                for policy in self.iam.list_role_policies(RoleName=name)["PolicyNames"]
            }
        mappings = {
            m["UUID"]: (m["EventSourceArn"], m["FunctionArn"], m["BatchSize"], m["State"])
            for m in self.lambda_.list_event_source_mappings()["EventSourceMappings"]
        }
        return {
            "queues": queues,
            "functions": functions,
            "roles": roles,
            "log groups": [g["logGroupName"] for g in self.logs.describe_log_groups()["logGroups"]],
            "mappings": mappings,
            "state machines": [m["name"] for m in self.sfn.list_state_machines()["stateMachines"]],
        }


@pytest.fixture
def account(aws_env: str) -> Account:
    return Account()


def error_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("error:")]


def test_another_owners_trigger_resources_are_neither_taken_over_nor_removed(
    account: Account, service: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The scenario of issue 11: a fresh checkout (no `.tool`), team B's queues holding
    messages, their trigger function, its role and log group, and their mapping."""
    account.queue(DLQ, messages=2)
    account.queue(QUEUE, messages=3)
    role_arn = account.role(TRIGGER_ROLE)
    account.function(TRIGGER_FUNCTION, role_arn)
    account.log_group(TRIGGER_LOG_GROUP)
    account.mapping(QUEUE, TRIGGER_FUNCTION)
    before = account.snapshot()
    assert not (service / ".tool").exists()

    code, out, err, calls = run(capsys, "deploy", "--target", "aws")
    assert (code, out) == (2, "")
    (line,) = error_lines(err)
    assert line.startswith(
        f"error: queue {DLQ} already exists on the aws target (account {MOTO_ACCOUNT}) and was "
        "not deployed by tool for this service and stage (and 5 more: "
        f"queue {QUEUE}, role {TRIGGER_ROLE}, log group {TRIGGER_LOG_GROUP}, function "
        f"{TRIGGER_FUNCTION}, event source mapping {QUEUE} -> {TRIGGER_FUNCTION}); nothing was "
        "changed"
    ), line
    assert mutating(calls) == []
    assert account.snapshot() == before

    code, out, err, calls = run(capsys, "remove", "--target", "aws")
    assert code == 0, err
    assert out == "Nothing of hello-loop (dev) to remove.\n"
    for left in (
        f"queue {DLQ}",
        f"queue {QUEUE}",
        f"role {TRIGGER_ROLE}",
        f"log group {TRIGGER_LOG_GROUP}",
        f"function {TRIGGER_FUNCTION}",
        f"event source mapping {QUEUE} -> {TRIGGER_FUNCTION}",
    ):
        assert (
            f"warning: left {left} alone: it was not deployed by tool for this service and stage"
            in err.splitlines()
        ), err
    assert mutating(calls) == []
    after = account.snapshot()
    assert after == before
    assert (after["queues"][QUEUE]["messages"], after["queues"][DLQ]["messages"]) == ("3", "2")


def _their_mapping(account: Account) -> str:
    """Team B's mapping from our queue to our trigger function, where ours was (our deploy and
    record gone, as in a fresh checkout after they rewired it)."""
    for mapping in account.lambda_.list_event_source_mappings()["EventSourceMappings"]:
        account.lambda_.delete_event_source_mapping(UUID=mapping["UUID"])
    return account.mapping(QUEUE, TRIGGER_FUNCTION)


# One foreign resource of each kind under the service's name, made after (for the mapping)
# or instead of the service's own: (kind and name in the refusal, how team B makes it).
KINDS: dict[str, tuple[str, Callable[[Account], object]]] = {
    "queue": (f"queue {DLQ}", lambda a: a.queue(DLQ, messages=1)),
    "role": (f"role {FUNCTION_ROLE}", lambda a: a.role(FUNCTION_ROLE)),
    "function": (
        f"function {FUNCTION}",
        lambda a: a.function(FUNCTION, a.role("team-b-role")),
    ),
    "log group": (
        f"log group /aws/lambda/{FUNCTION}",
        lambda a: a.log_group(f"/aws/lambda/{FUNCTION}"),
    ),
    "state machine": (f"state machine {MACHINE}", lambda a: a.state_machine(MACHINE)),
    # The trigger's own role, function and log group (a deploy before issue 11 took them over).
    "trigger role": (f"role {TRIGGER_ROLE}", lambda a: a.role(TRIGGER_ROLE)),
    "trigger function": (
        f"function {TRIGGER_FUNCTION}",
        lambda a: a.function(TRIGGER_FUNCTION, a.role("team-b-role")),
    ),
    "trigger log group": (
        f"log group {TRIGGER_LOG_GROUP}",
        lambda a: a.log_group(TRIGGER_LOG_GROUP),
    ),
    "event source mapping": (f"event source mapping {QUEUE} -> {TRIGGER_FUNCTION}", _their_mapping),
}


@pytest.mark.parametrize("kind", list(KINDS))
def test_a_foreign_resource_of_each_kind_stops_the_deploy_and_survives_remove(
    kind: str, account: Account, service: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    label, make = KINDS[kind]
    if kind == "event source mapping":
        assert run(capsys, "deploy", "--target", "aws")[0] == 0
        (service / ".tool" / "deployed" / "aws-dev.json").unlink()
    make(account)
    before = account.snapshot()

    code, out, err, calls = run(capsys, "deploy", "--target", "aws")
    assert (code, out) == (2, "")
    (line,) = error_lines(err)
    assert line.startswith(f"error: {label} already exists on the aws target"), line
    assert "not deployed by tool for this service and stage" in line
    assert mutating(calls) == []
    assert account.snapshot() == before

    code, out, err, calls = run(capsys, "remove", "--target", "aws")
    assert code == 0, err
    assert f"warning: left {label} alone: it was not deployed by tool" in err
    after = account.snapshot()
    if kind == "event source mapping":  # the toolkit's own resources went, theirs stayed
        assert list(after["mappings"]) == list(before["mappings"])
        assert after["functions"] == {}
    else:
        assert after == before


def test_a_mapping_the_toolkit_made_before_it_tagged_mappings_is_still_its_own(
    account: Account, service: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "deploy", "--target", "aws")[0] == 0
    (mapping,) = account.lambda_.list_event_source_mappings()["EventSourceMappings"]
    account.lambda_.untag_resource(
        Resource=mapping["EventSourceMappingArn"], TagKeys=["tool:service", "tool:stage"]
    )
    (service / ".tool" / "deployed" / "aws-dev.json").unlink()  # a fresh checkout
    code, out, err, calls = run(capsys, "deploy", "--target", "aws")
    assert code == 0, err
    assert out.splitlines()[-1] == "No changes."
    assert mutating(calls) == []
