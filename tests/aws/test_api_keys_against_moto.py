"""provider.apiGateway.apiKeys and usagePlan deployed with `--target aws` against a moto server:
keys tagged as the toolkit's (found by name AND tags: another key of the same name is left
alone), named usage plans on the REST API's stage with their quota, throttle and keys; a no-op
redeploy; a changed quota and key; a changed value replaces the key inside its plan; `tool info`
lists the keys' values; `tool remove` deletes plans and keys."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from .cli_runs import mutating
from .cli_runs import recorded as run
from .conftest import REGION

API = "dev-shop"
VALUE = "abcdefghijabcdefghij0123"
HANDLER = """\
def hello(event, context):
    return {"statusCode": 200, "body": "hi"}
"""
SERVICE = """\
service: shop
provider:
  name: aws
  runtime: python3.12
  apiGateway:
    apiKeys:
      - free:
          - alice
          - name: bob
            value: %(value)s
            description: Bob's key
            customerId: c-1
      - paid:
          - carol
    usagePlan:
      - free:
          quota: {limit: %(limit)s, period: MONTH}
          throttle: {burstLimit: 2, rateLimit: 1}
      - paid:
          throttle: {burstLimit: 20, rateLimit: 10}
functions:
  hello:
    handler: handler.hello
    events:
      - http: {path: hi, method: get, private: true}
"""


class Gateway:
    def __init__(self) -> None:
        self.client = boto3.Session(region_name=REGION).client("apigateway")

    def api_id(self) -> str:
        (api,) = [a for a in self.client.get_rest_apis()["items"] if a["name"] == API]
        return str(api["id"])

    def keys(self, name: str) -> list[dict[str, Any]]:
        items = self.client.get_api_keys(nameQuery=name, includeValues=True)["items"]
        return [k for k in items if k["name"] == name]

    def plans(self) -> dict[str, dict[str, Any]]:
        return {p["name"]: p for p in self.client.get_usage_plans()["items"]}

    def plan_keys(self, plan_id: str) -> list[str]:
        items = self.client.get_usage_plan_keys(usagePlanId=plan_id)["items"]
        return sorted(k["name"] for k in items)


def write(folder: Path, *, value: str = VALUE, limit: int = 50000) -> None:
    (folder / "serverless.yml").write_text(SERVICE % {"value": value, "limit": limit})


@pytest.fixture
def shop(aws_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "shop"
    folder.mkdir()
    (folder / "handler.py").write_text(HANDLER)
    write(folder)
    monkeypatch.chdir(folder)
    return folder


def test_keys_and_usage_plans_deploy_redeploy_and_remove(
    shop: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    gateway = Gateway()
    # Someone else's key of the same name: not the toolkit's, left alone throughout.
    foreign = gateway.client.create_api_key(name="alice", enabled=True)["id"]

    code, out, err, calls = run(capsys, "plan", "--target", "aws", "--json")
    assert code == 0, err
    assert mutating(calls) == []
    planned = {(c["kind"], c["name"]): c for c in json.loads(out)["changes"]}
    assert planned[("usage plan", "shop-free-dev")]["dependsOn"] == [
        {"kind": "rest api", "name": API},
        {"kind": "api key", "name": "alice"},
        {"kind": "api key", "name": "bob"},
    ]
    assert planned[("api key", "alice")]["action"] == "create"

    code, out, err, _ = run(capsys, "deploy", "--target", "aws")
    assert code == 0, err
    api_id = gateway.api_id()
    (alice,) = [k for k in gateway.keys("alice") if k["id"] != foreign]
    assert alice["tags"] == {"tool:service": "shop", "tool:stage": "dev"}
    assert alice["enabled"] is True
    (bob,) = gateway.keys("bob")
    assert (bob["value"], bob["description"], bob["customerId"]) == (VALUE, "Bob's key", "c-1")
    plans = gateway.plans()
    free, paid = plans["shop-free-dev"], plans["shop-paid-dev"]
    assert free["description"] == 'Usage plan "free" for shop dev stage'
    assert free["apiStages"] == [{"apiId": api_id, "stage": "dev"}]
    assert free["quota"] == {"limit": 50000, "period": "MONTH"}
    assert free["throttle"] == {"burstLimit": 2, "rateLimit": 1}
    assert "quota" not in paid
    assert gateway.plan_keys(free["id"]) == ["alice", "bob"]
    assert gateway.plan_keys(paid["id"]) == ["carol"]

    code, out, err, calls = run(capsys, "deploy", "--target", "aws")
    assert code == 0, err
    assert out.splitlines()[-1] == "No changes."
    assert mutating(calls) == []

    code, out, err, _ = run(capsys, "info", "--target", "aws")
    assert code == 0, err
    assert out.splitlines()[-4:][0] == "api keys:"
    assert f"  bob: {VALUE} - Bob's key" in out.splitlines()
    code, out, err, _ = run(capsys, "info", "--target", "aws", "--json")
    keys = {k["name"]: k for k in json.loads(out)["apiKeys"]}
    assert keys["alice"]["value"] == alice["value"]
    assert keys["bob"] == {
        "name": "bob",
        "value": VALUE,
        "description": "Bob's key",
        "customerId": "c-1",
        "enabled": True,
    }

    # A new quota updates the plan in place; a new value replaces bob's key, in its plan.
    write(shop, value=VALUE + "x", limit=10)
    code, out, err, calls = run(capsys, "deploy", "--target", "aws")
    assert code == 0, err
    assert "update    api key bob" in out
    assert "update    usage plan shop-free-dev" in out
    assert "CreateApiKey" in mutating(calls) and "DeleteApiKey" in mutating(calls)
    (new_bob,) = gateway.keys("bob")
    assert new_bob["value"] == VALUE + "x" and new_bob["id"] != bob["id"]
    free = gateway.plans()["shop-free-dev"]
    assert free["quota"]["limit"] == 10
    assert gateway.plan_keys(free["id"]) == ["alice", "bob"]
    code, out, err, calls = run(capsys, "deploy", "--target", "aws")
    assert out.splitlines()[-1] == "No changes.", out
    assert mutating(calls) == []

    code, out, err, calls = run(capsys, "remove", "--target", "aws")
    assert code == 0, err
    # API Gateway deletes no plan that has API stages: they are taken out first.
    done = mutating(calls)
    assert done.index("UpdateUsagePlan") < done.index("DeleteUsagePlan")
    assert done.index("DeleteUsagePlan") < done.index("DeleteRestApi")
    assert gateway.plans() == {}
    assert [k["id"] for k in gateway.keys("alice")] == [foreign]
    assert gateway.keys("bob") == [] and gateway.keys("carol") == []


def test_a_key_dropped_from_a_plan_leaves_it(
    shop: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err, _ = run(capsys, "deploy", "--target", "aws")
    assert code == 0, err
    text = (shop / "serverless.yml").read_text().replace("      - paid:\n          - carol\n", "")
    (shop / "serverless.yml").write_text(text)
    code, out, err, _ = run(capsys, "deploy", "--target", "aws")
    assert code == 0, err
    assert "delete    api key carol" in out
    gateway = Gateway()
    assert gateway.plan_keys(gateway.plans()["shop-paid-dev"]["id"]) == []
    assert gateway.keys("carol") == []


def test_a_replacement_killed_before_the_old_key_went_is_finished_by_the_next_deploy(
    shop: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Killed after CreateApiKey of the new value, before it joined the plan and the old key
    went: two keys of the toolkit's named bob, the old one (still valid) alone in the plan."""
    code, out, err, _ = run(capsys, "deploy", "--target", "aws")
    assert code == 0, err
    gateway = Gateway()
    (old,) = gateway.keys("bob")
    tags = {"tool:service": "shop", "tool:stage": "dev"}
    new = gateway.client.create_api_key(
        name="bob",
        value=VALUE + "x",
        enabled=True,
        tags=tags,
        description="Bob's key",
        customerId="c-1",
    )  # as the killed deploy made it
    write(shop, value=VALUE + "x")

    code, out, err, _ = run(capsys, "deploy", "--target", "aws")
    assert code == 0, err
    (bob,) = gateway.keys("bob")
    assert bob["value"] == VALUE + "x"
    free = gateway.plans()["shop-free-dev"]
    items = gateway.client.get_usage_plan_keys(usagePlanId=free["id"])["items"]
    assert sorted((k["name"], k["value"]) for k in items if k["name"] == "bob") == [
        ("bob", VALUE + "x")
    ]
    assert old["id"] not in {k["id"] for k in items}
    assert bob["id"] == new["id"]  # values are unique in an account: the one made is kept
    code, out, err, calls = run(capsys, "deploy", "--target", "aws")
    assert out.splitlines()[-1] == "No changes.", out
    assert mutating(calls) == []


def test_key_settings_and_a_throttle_change_in_place(
    shop: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err, _ = run(capsys, "deploy", "--target", "aws")
    assert code == 0, err
    gateway = Gateway()
    (bob,) = gateway.keys("bob")
    text = (shop / "serverless.yml").read_text()
    text = text.replace("description: Bob's key", "description: Bob's\n            enabled: false")
    text = text.replace("      - paid:\n          throttle: {burstLimit: 20, rateLimit: 10}\n",
                        "      - paid: {}\n")  # fmt: skip
    (shop / "serverless.yml").write_text(text)
    code, out, err, calls = run(capsys, "deploy", "--target", "aws")
    assert code == 0, err
    assert "update    api key bob (description changed, enabled changed)" in out
    assert "update    usage plan shop-paid-dev (throttle changed)" in out
    assert "CreateApiKey" not in mutating(calls)
    (updated,) = gateway.keys("bob")
    assert (updated["id"], updated["description"], updated["enabled"]) == (
        bob["id"],
        "Bob's",
        False,
    )
    assert "throttle" not in gateway.plans()["shop-paid-dev"]
    code, out, err, calls = run(capsys, "deploy", "--target", "aws")
    assert out.splitlines()[-1] == "No changes.", out
    assert mutating(calls) == []
