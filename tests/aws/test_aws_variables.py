"""`${ssm:}`, `${cf:}` and `${s3:}` read from AWS (a moto server) as Serverless v3 reads them
(issue 15): types, `raw`/`noDecrypt`/region parameters, missing values and their fallbacks, and
what an unresolved value says."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from tooling import session
from tooling.aws.client import recording_calls
from tooling.cli import main
from tooling.errors import ConfigError

from .conftest import REGION

BASE = """\
service: vars
provider:
  name: aws
  runtime: python3.12
  environment:
{environment}
functions:
  f:
    handler: handler.main
"""


def service(folder: Path, environment: dict[str, str]) -> Path:
    lines = "\n".join(f"    {key}: {value}" for key, value in environment.items())
    (folder / "serverless.yml").write_text(BASE.format(environment=lines))
    (folder / "handler.py").write_text("def main(event, context):\n    return event\n")
    return folder


def load(folder: Path) -> Any:
    return session.load(session.Options(target="aws", directory=folder))


@pytest.fixture
def account(aws_env: str) -> Any:
    """What the tests put in the account first."""
    boto = boto3.Session(region_name=REGION)
    ssm, s3, cfn = boto.client("ssm"), boto.client("s3"), boto.client("cloudformation")
    ssm.put_parameter(Name="/app/name", Value="orders", Type="String")
    ssm.put_parameter(Name="/app/zones", Value="a,b,c", Type="StringList")
    ssm.put_parameter(Name="/app/secret", Value='{"user": "u", "port": 5432}', Type="SecureString")
    ssm.put_parameter(Name="/app/token", Value="s3cr3t", Type="SecureString")
    boto3.client("ssm", region_name="eu-west-1").put_parameter(
        Name="/app/name", Value="orders-eu", Type="String"
    )
    s3.create_bucket(Bucket="config-bucket")
    s3.put_object(Bucket="config-bucket", Key="keys/api.txt", Body=b"api-key-1")
    template = {
        "Resources": {"Q": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "shared-q"}}},
        "Outputs": {"QueueName": {"Value": {"Fn::GetAtt": ["Q", "QueueName"]}}},
    }
    cfn.create_stack(StackName="shared-dev", TemplateBody=json.dumps(template))
    boto3.client("cloudformation", region_name="eu-west-1").create_stack(
        StackName="shared-dev",
        TemplateBody=json.dumps(
            {"Resources": {"Q": {"Type": "AWS::SQS::Queue"}},
             "Outputs": {"Where": {"Value": "eu"}}}
        ),
    )  # fmt: skip
    return boto


def test_each_source_resolves_against_the_account(account: Any, tmp_path: Path) -> None:
    folder = service(
        tmp_path,
        {
            "NAME": "${ssm:/app/name}",
            "NAME_EU": "${ssm(eu-west-1):/app/name}",
            "ZONES": "${ssm(raw):/app/zones}",
            "FIRST_ZONE": "${self:custom.zones.0}",
            "USER": "${self:custom.secret.user}",
            "TOKEN": "${ssm:/app/token}",
            "RAW_SECRET": "${ssm(raw):/app/secret}",
            "QUEUE": "${cf:shared-dev.QueueName}",
            "WHERE": "${cf(eu-west-1):shared-dev.Where}",
            "API_KEY": "${s3:config-bucket/keys/api.txt}",
        },
    )
    text = (folder / "serverless.yml").read_text()
    text += "custom:\n  zones: ${ssm:/app/zones}\n  secret: ${ssm:/app/secret}\n"
    (folder / "serverless.yml").write_text(text)
    with recording_calls() as calls:
        svc = load(folder)
    assert svc.functions["f"].environment == {
        "NAME": "orders",
        "NAME_EU": "orders-eu",
        "ZONES": "a,b,c",  # raw: the StringList as written
        "FIRST_ZONE": "a",  # otherwise a list
        "USER": "u",  # a SecureString holding JSON is parsed
        "TOKEN": "s3cr3t",  # decrypted
        "RAW_SECRET": '{"user": "u", "port": 5432}',
        "QUEUE": "shared-q",
        "WHERE": "eu",
        "API_KEY": "api-key-1",
    }
    # each value is read once per command (Serverless' useCache)
    assert [c.operation for c in calls].count("GetObject") == 1


def test_no_decrypt_gives_the_stored_value(account: Any, tmp_path: Path) -> None:
    folder = service(tmp_path, {"TOKEN": "${ssm(noDecrypt):/app/token}"})
    value = load(folder).functions["f"].environment["TOKEN"]
    stored = account.client("ssm").get_parameter(Name="/app/token")["Parameter"]["Value"]
    assert value == stored


def test_a_missing_value_takes_the_fallback(account: Any, tmp_path: Path) -> None:
    folder = service(
        tmp_path,
        {
            "A": "${ssm:/app/none, 'a-default'}",
            "B": "${cf:no-such-stack.Out, 'b-default'}",
            "C": "${cf:shared-dev.NoSuchOutput, 'c-default'}",
            "D": "${s3:config-bucket/none.txt, 'd-default'}",
        },
    )
    svc = load(folder)
    assert svc.functions["f"].environment == {
        "A": "a-default",
        "B": "b-default",
        "C": "c-default",
        "D": "d-default",
    }
    assert svc.warnings == ()


@pytest.mark.parametrize(
    ("variable", "reason", "how"),
    [
        (
            "${ssm:/app/none}",
            "no SSM parameter /app/none in us-east-1, AWS account 123456789012",
            "aws ssm put-parameter --type String --name /app/none --value VALUE",
        ),
        (
            "${cf:shared-dev.Nope}",
            "stack shared-dev (us-east-1, AWS account 123456789012) has no output Nope",
            "deploy stack shared-dev (it must output Nope)",
        ),
        (
            "${s3:config-bucket/none.txt}",
            "no object none.txt in bucket config-bucket (AWS account 123456789012)",
            "aws s3 cp FILE s3://config-bucket/none.txt",
        ),
    ],
)
def test_an_unresolved_value_says_where_to_set_it(
    account: Any, tmp_path: Path, variable: str, reason: str, how: str
) -> None:
    folder = service(tmp_path, {"X": variable})
    with pytest.raises(ConfigError) as caught:
        load(folder)
    assert caught.value.message == f"cannot resolve {variable}: {reason}"
    assert (caught.value.line, caught.value.column) == (6, 8)
    assert how in (caught.value.hint or "")


def test_the_v2_suffixes_are_refused_with_the_v3_way(account: Any, tmp_path: Path) -> None:
    folder = service(tmp_path, {"X": "${ssm:/app/token~true}"})
    with pytest.raises(ConfigError) as caught:
        load(folder)
    assert '"~true"/"~split" suffixes are Serverless v2 syntax' in caught.value.message
    assert "${ssm:/app/token}" in (caught.value.hint or "")


def test_deploy_uses_the_values_read(account: Any, tmp_path: Path, monkeypatch, capsys) -> None:
    folder = service(tmp_path, {"NAME": "${ssm:/app/name}"})
    monkeypatch.chdir(folder)
    assert main(["deploy", "--target", "aws"]) == 0, capsys.readouterr().err
    config = account.client("lambda").get_function(FunctionName="vars-dev-f")["Configuration"]
    assert config["Environment"]["Variables"] == {"NAME": "orders"}
