"""A state machine's `encryptionConfig`, `kmsKeyArns` and `configureTaskTimeouts` deploy as the
plugin deploys them, against a moto server: the machine's encryption, its role's KMS grants,
the timeouts in its definition, nothing changed by a no-op redeploy, and an edit of the key
made by UpdateStateMachine."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from .cli_runs import mutating, run
from .conftest import MOTO_ACCOUNT, REGION

SERVICE = """\
service: sealed
provider: {name: aws, runtime: python3.12, region: us-east-1}
functions:
  work: {handler: handler.work, timeout: 25}
stepFunctions:
  stateMachines:
    flow:
      configureTaskTimeouts: true
      encryptionConfig:
        Type: CUSTOMER_MANAGED_KMS_KEY
        KmsKeyId: THE_KEY_ARN
        KmsDataKeyReusePeriodSeconds: 300
      kmsKeyArns: [THE_KEY_ARN]
      definition:
        StartAt: W
        States:
          W: {Type: Task, Resource: {Fn::GetAtt: [work, Arn]}, End: true}
"""
MACHINE = f"arn:aws:states:{REGION}:{MOTO_ACCOUNT}:stateMachine:sealed-dev-flow"


@pytest.fixture
def keys(aws_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    kms: Any = boto3.Session(region_name=REGION).client("kms")
    made = [kms.create_key()["KeyMetadata"]["Arn"] for _ in range(2)]
    (tmp_path / "serverless.yml").write_text(SERVICE.replace("THE_KEY_ARN", made[0]))
    (tmp_path / "handler.py").write_text("def work(event, context):\n    return event\n")
    monkeypatch.chdir(tmp_path)
    return made


def test_encryption_timeouts_and_grants_deploy_and_a_no_op_redeploy_changes_nothing(
    keys: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err, _ = run(capsys, "deploy")
    assert code == 0, err
    session = boto3.Session(region_name=REGION)
    sfn: Any = session.client("stepfunctions")
    described = sfn.describe_state_machine(stateMachineArn=MACHINE)
    assert described["encryptionConfiguration"] == {
        "type": "CUSTOMER_MANAGED_KMS_KEY",
        "kmsKeyId": keys[0],
        "kmsDataKeyReusePeriodSeconds": 300,
    }
    assert json.loads(described["definition"])["States"]["W"]["TimeoutSeconds"] == 25
    iam: Any = session.client("iam")
    role = "sealed-dev-us-east-1-flow-sfnRole"
    (name,) = iam.list_role_policies(RoleName=role)["PolicyNames"]
    statements = iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]["Statement"]
    kms_grants = [s for s in statements if any("kms:" in a for a in s["Action"])]
    assert {a for s in kms_grants for a in s["Action"]} >= {"kms:GenerateDataKey*", "kms:Decrypt"}

    code, out, err, calls = run(capsys, "deploy")
    assert code == 0, err
    assert out.splitlines()[-1] == "No changes." and mutating(calls) == []


def test_a_new_key_is_one_update_of_the_machine(
    keys: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "deploy")[0] == 0
    yml = Path("serverless.yml")
    yml.write_text(yml.read_text().replace(f"KmsKeyId: {keys[0]}", f"KmsKeyId: {keys[1]}"))
    code, _, err, calls = run(capsys, "deploy")
    assert code == 0, err
    assert "UpdateStateMachine" in mutating(calls) and "CreateStateMachine" not in mutating(calls)
    sfn: Any = boto3.Session(region_name=REGION).client("stepfunctions")
    described = sfn.describe_state_machine(stateMachineArn=MACHINE)
    assert described["encryptionConfiguration"]["kmsKeyId"] == keys[1]
