"""serverless-step-functions' `configureTaskTimeouts`, `encryptionConfig` and `kmsKeyArns`
(tooling/config/machine_settings.py), read through load_service, and what the generated role
is granted for them (tooling/iam.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tooling.config.service import load_service
from tooling.errors import ConfigError
from tooling.iam import state_machine_role

KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"

SERVICE = """\
service: timed
provider: {name: aws, runtime: python3.12, timeout: 9}
functions:
  slow: {handler: handler.work, timeout: 40}
  plain: {handler: handler.work}
stepFunctions:
  stateMachines:
    flow:
MACHINE
      definition:
        StartAt: A
        States:
          A: {Type: Task, Resource: {Fn::GetAtt: [slow, Arn]}, Next: B}
          B:
            Type: Task
            Resource: arn:aws:states:::lambda:invoke
            Parameters: {FunctionName: {Ref: PlainLambdaFunction}, Payload.$: $}
            Next: P
          P:
            Type: Parallel
            Branches:
              - StartAt: C
                States:
                  C: {Type: Task, Resource: !GetAtt plain.Arn, TimeoutSeconds: 99, End: true}
            Next: M
          M:
            Type: Map
            ItemProcessor:
              StartAt: D
              States:
                D: {Type: Task, Resource: !GetAtt slow.Arn, TimeoutSecondsPath: $.t, End: true}
            Next: E
          E: {Type: Task, Resource: arn:aws:lambda:us-east-1:123456789012:function:other, End: true}
"""


def load(tmp_path: Path, machine: str) -> Any:
    (tmp_path / "serverless.yml").write_text(SERVICE.replace("MACHINE\n", machine))
    (tmp_path / "handler.py").write_text("def work(event, context):\n    return event\n")
    return load_service(tmp_path, env={})


def test_configure_task_timeouts_gives_each_task_its_function_s_timeout(tmp_path: Path) -> None:
    svc = load(tmp_path, "      configureTaskTimeouts: true\n")
    assert not svc.problems
    states = svc.state_machines["flow"].definition["States"]
    assert states["A"]["TimeoutSeconds"] == 40  # the function's own
    assert states["B"]["TimeoutSeconds"] == 9  # provider.timeout, by the function's logical id
    branch = states["P"]["Branches"][0]["States"]["C"]
    assert branch["TimeoutSeconds"] == 99  # written: kept, with a warning
    inner = states["M"]["ItemProcessor"]["States"]["D"]
    assert "TimeoutSeconds" not in inner  # TimeoutSecondsPath written: left alone
    assert "TimeoutSeconds" not in states["E"]  # not one of the service's functions
    (warning,) = [w for w in svc.warnings if "TimeoutSeconds (99 s)" in w]
    assert "function 'plain''s timeout (9 s)" in warning
    assert warning.startswith("serverless.yml:24:22:")  # the state C


def test_without_configure_task_timeouts_the_definition_is_as_written(tmp_path: Path) -> None:
    svc = load(tmp_path, "")
    assert "TimeoutSeconds" not in svc.state_machines["flow"].definition["States"]["A"]
    assert not [w for w in svc.warnings if "configureTaskTimeouts" in w]


def test_configure_task_timeouts_must_be_a_boolean(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, "      configureTaskTimeouts: yes please\n")
    assert caught.value.line == 9


def test_encryption_config_and_kms_key_arns_are_kept_and_granted(tmp_path: Path) -> None:
    svc = load(
        tmp_path,
        "      encryptionConfig:\n        Type: CUSTOMER_MANAGED_KMS_KEY\n"
        "        KmsKeyId: arn:aws:kms:${AWS::Region}:123456789012:key/1234abcd-12ab-34cd-56ef-"
        "1234567890ab\n        KmsDataKeyReusePeriodSeconds: 120\n"
        f"      kmsKeyArns: [{KEY}]\n",
    )
    assert not svc.problems and not [w for w in svc.warnings if "not supported" in w]
    machine = svc.state_machines["flow"]
    assert machine.encryption is not None
    assert machine.encryption.api() == {
        "type": "CUSTOMER_MANAGED_KMS_KEY",
        "kmsKeyId": KEY,  # through Fn::Sub, as the plugin passes it
        "kmsDataKeyReusePeriodSeconds": 120,
    }
    assert machine.kms_key_arns == (KEY,)
    statements = state_machine_role(svc, machine).inline_policies
    (policy,) = statements.values()
    granted = {
        tuple(s["Action"]) if isinstance(s["Action"], list) else (s["Action"],): s["Resource"]
        for s in policy["Statement"]
    }
    assert granted[
        ("kms:Decrypt", "kms:Encrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey")
    ] == [KEY]
    assert granted[("kms:Decrypt", "kms:Encrypt")] == KEY


def test_an_aws_owned_key_is_the_default_type(tmp_path: Path) -> None:
    svc = load(tmp_path, "      encryptionConfig: {}\n")
    machine = svc.state_machines["flow"]
    assert machine.encryption is not None and machine.encryption.api() == {"type": "AWS_OWNED_KEY"}


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("{Type: SOMETHING}", "Type must be AWS_OWNED_KEY or CUSTOMER_MANAGED_KMS_KEY"),
        ("{Type: CUSTOMER_MANAGED_KMS_KEY}", "KmsKeyId is needed"),
        (f"{{Type: CUSTOMER_MANAGED_KMS_KEY, KmsKeyId: {KEY}, KmsDataKeyReusePeriodSeconds: 5}}",
         "must be 60 to 900"),
        ("{Kind: x}", "key `Kind` is not one the plugin allows"),
    ],
)  # fmt: skip
def test_bad_encryption_configs_are_refused_at_their_line(
    tmp_path: Path, setting: str, message: str
) -> None:
    svc_problems: list[Any]
    try:
        svc = load(tmp_path, f"      encryptionConfig: {setting}\n")
        svc_problems = list(svc.problems)
    except ConfigError as exc:
        svc_problems = [exc]
    assert len(svc_problems) == 1 and message in str(svc_problems[0])
    assert svc_problems[0].line == 9


def test_kms_key_arns_that_are_not_arns_are_refused(tmp_path: Path) -> None:
    svc = load(tmp_path, "      kmsKeyArns: [my-key]\n")
    (problem,) = svc.problems
    assert "kmsKeyArns[0] is not an ARN" in str(problem) and problem.line == 9
