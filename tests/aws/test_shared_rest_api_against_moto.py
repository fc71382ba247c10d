"""http events on a shared, existing REST API (`provider.apiGateway.restApiId`, with
`restApiRootResourceId` and `restApiResources`), as Serverless deploys them, against a moto
server: "another service's" API made with boto3 and its ids exported through a CloudFormation
stack; the service's paths and methods go on it, a deployment to its stage, Lambda permissions
scoped to its id; a no-op redeploy; remove takes only the toolkit's methods and the paths it
made (issue 15)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from tooling.aws.client import AwsClient
from tooling.cli import main

from .cli_runs import mutating
from .cli_runs import recorded as run
from .conftest import MOTO_ACCOUNT, REGION

HELLO = "shop-dev-hello"
HELLO_ARN = f"arn:aws:lambda:{REGION}:{MOTO_ACCOUNT}:function:{HELLO}"
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
    restApiId: {Fn::ImportValue: dev-other-restApiId}
    restApiRootResourceId: {Fn::ImportValue: dev-other-rootResourceId}
    restApiResources:
      /posts: POSTS_ID
functions:
  hello:
    handler: handler.hello
    events:
      - http: GET hello/{id}
      - http:
          path: users/me
          method: get
          cors: true
      - http: POST posts/new
stepFunctions:
  stateMachines:
    main:
      definition:
        StartAt: Hello
        States:
          Hello: {Type: Task, Resource: {Fn::GetAtt: [hello, Arn]}, End: true}
      events:
        - http: POST orders
"""


class Other:
    """The other service's REST API: GET /users and an empty /posts, deployed to `dev`."""

    def __init__(self) -> None:
        self.apigateway = boto3.client("apigateway", region_name=REGION)
        api = self.apigateway.create_rest_api(name="dev-other")
        self.id = api["id"]
        self.root = self._resource("/")
        users = self.apigateway.create_resource(
            restApiId=self.id, parentId=self.root, pathPart="users"
        )
        self.posts = self.apigateway.create_resource(
            restApiId=self.id, parentId=self.root, pathPart="posts"
        )["id"]
        where = {"restApiId": self.id, "resourceId": users["id"], "httpMethod": "GET"}
        self.apigateway.put_method(authorizationType="NONE", **where)
        self.apigateway.put_integration(type="MOCK", **where)
        self.apigateway.create_deployment(restApiId=self.id, stageName="dev")
        outputs = {
            name: {"Value": value, "Export": {"Name": f"dev-other-{name}"}}
            for name, value in (("restApiId", self.id), ("rootResourceId", self.root))
        }
        template = {
            "Resources": {"Id": {"Type": "AWS::SSM::Parameter",
                                 "Properties": {"Name": "/other/api", "Type": "String",
                                                "Value": self.id}}},
            "Outputs": outputs,
        }  # fmt: skip
        boto3.client("cloudformation", region_name=REGION).create_stack(
            StackName="other-dev", TemplateBody=json.dumps(template)
        )

    def _resource(self, path: str) -> str:
        items = self.apigateway.get_resources(restApiId=self.id)["items"]
        return str(next(r["id"] for r in items if r["path"] == path))

    def methods(self) -> dict[tuple[str, str], dict[str, Any]]:
        items = self.apigateway.get_resources(restApiId=self.id, embed=["methods"])["items"]
        return {
            (resource["path"], verb): method
            for resource in items
            for verb, method in (resource.get("resourceMethods") or {}).items()
        }

    def paths(self) -> set[str]:
        return {r["path"] for r in self.apigateway.get_resources(restApiId=self.id)["items"]}


@pytest.fixture
def shop(aws_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Other]:
    other = Other()
    folder = tmp_path / "shop"
    folder.mkdir()
    (folder / "handler.py").write_text(HANDLER)
    (folder / "serverless.yml").write_text(SERVICE.replace("POSTS_ID", other.posts))
    monkeypatch.chdir(folder)
    return folder, other


def test_http_events_deploy_on_the_shared_api_and_remove_leaves_it(
    shop: tuple[Path, Other], capsys: pytest.CaptureFixture[str]
) -> None:
    _, other = shop
    code, out, err, calls = run(capsys, "deploy", "--target", "aws")
    assert code == 0, err
    assert "CreateRestApi" not in mutating(calls)
    apigateway = other.apigateway
    assert [a["id"] for a in apigateway.get_rest_apis()["items"]] == [other.id]
    methods = other.methods()
    assert set(methods) == {
        ("/users", "GET"),  # theirs
        ("/hello/{id}", "GET"),
        ("/users/me", "GET"),
        ("/users/me", "OPTIONS"),
        ("/posts/new", "POST"),  # under the resource restApiResources names
        ("/orders", "POST"),  # the state machine's
    }
    proxy = methods[("/hello/{id}", "GET")]["methodIntegration"]
    assert proxy["type"] == "AWS_PROXY"
    assert HELLO_ARN in proxy["uri"]
    assert methods[("/orders", "POST")]["methodIntegration"]["type"] == "AWS"
    assert methods[("/users", "GET")]["methodIntegration"]["type"] == "MOCK"
    items = apigateway.get_resources(restApiId=other.id)["items"]
    posts_new = next(r for r in items if r["path"] == "/posts/new")
    assert posts_new["parentId"] == other.posts
    (statement,) = json.loads(
        boto3.client("lambda", region_name=REGION).get_policy(FunctionName=HELLO)["Policy"]
    )["Statement"]
    assert statement["Condition"]["ArnLike"]["AWS:SourceArn"] == (
        f"arn:aws:execute-api:{REGION}:{MOTO_ACCOUNT}:{other.id}/*/*"
    )
    deployments = apigateway.get_deployments(restApiId=other.id)["items"]
    assert len(deployments) == 2  # theirs, then the service's to stage dev

    code, out, err, calls = run(capsys, "deploy", "--target", "aws")
    assert code == 0, err
    assert out.splitlines()[-1] == "No changes."
    assert mutating(calls) == []

    code, out, err, calls = run(capsys, "remove", "--target", "aws")
    assert code == 0, err
    assert "DeleteRestApi" not in mutating(calls)
    assert [a["id"] for a in apigateway.get_rest_apis()["items"]] == [other.id]
    assert set(other.methods()) == {("/users", "GET")}
    assert other.paths() == {"/", "/users", "/posts"}
    assert boto3.client("lambda", region_name=REGION).list_functions()["Functions"] == []


def test_a_changed_service_updates_only_its_own_methods(
    shop: tuple[Path, Other], capsys: pytest.CaptureFixture[str]
) -> None:
    folder, other = shop
    code, _, err, _ = run(capsys, "deploy", "--target", "aws")
    assert code == 0, err
    config = folder / "serverless.yml"
    config.write_text(
        config.read_text()
        .replace("      - http: POST posts/new\n", "")
        .replace("GET hello/{id}", "PUT hello/{id}")
    )
    code, _, err, calls = run(capsys, "deploy", "--target", "aws")
    assert code == 0, err
    assert set(other.methods()) == {
        ("/users", "GET"),
        ("/hello/{id}", "PUT"),
        ("/users/me", "GET"),
        ("/users/me", "OPTIONS"),
        ("/orders", "POST"),
    }
    assert "/posts" in other.paths() and "/posts/new" not in other.paths()


def test_a_method_of_the_other_service_is_not_taken_over(
    shop: tuple[Path, Other], capsys: pytest.CaptureFixture[str]
) -> None:
    folder, other = shop
    config = folder / "serverless.yml"
    config.write_text(config.read_text().replace("GET hello/{id}", "GET users"))
    code, _, err, _ = run(capsys, "deploy", "--target", "aws")
    assert code == 2
    assert (
        f"method GET /users of REST API {other.id} is not the toolkit's "
        "(provider.apiGateway.restApiId); it is left alone" in err
    )
    assert other.methods()[("/users", "GET")]["methodIntegration"]["type"] == "MOCK"


def test_a_shared_api_that_does_not_exist(
    shop: tuple[Path, Other], capsys: pytest.CaptureFixture[str]
) -> None:
    folder, _ = shop
    config = folder / "serverless.yml"
    text = config.read_text().replace("{Fn::ImportValue: dev-other-restApiId}", "nosuchapi")
    config.write_text(text.replace("    restApiResources:\n      /posts: ", "    x-unused: "))
    code, _, err, _ = run(capsys, "deploy", "--target", "aws")
    assert code == 2
    assert "REST API nosuchapi (provider.apiGateway.restApiId) does not exist on the aws" in err


class Killed(BaseException):
    """Stands for a SIGKILL: nothing after the call it interrupts runs."""


@pytest.mark.parametrize("then", ["deploy", "remove"])
def test_a_deploy_killed_between_a_method_and_its_integration(
    shop: tuple[Path, Other],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    then: str,
) -> None:
    """PutMethod carries the marker: the half-made method is the toolkit's to finish or
    remove, never left as someone else's (which would block the API's deployments)."""
    _, other = shop
    real = AwsClient.call

    def dies_at_put_integration(self: AwsClient, service: str, method: str, **kw: Any) -> Any:
        if method == "put_integration":
            raise Killed
        return real(self, service, method, **kw)

    monkeypatch.setattr(AwsClient, "call", dies_at_put_integration)
    with pytest.raises(Killed):
        main(["deploy", "--target", "aws"])
    monkeypatch.setattr(AwsClient, "call", real)
    half_made = [key for key, m in other.methods().items() if "methodIntegration" not in m]
    assert len(half_made) == 1
    capsys.readouterr()
    code, _, err, _ = run(capsys, then, "--target", "aws")
    assert code == 0, err
    if then == "deploy":
        assert all("methodIntegration" in m for m in other.methods().values())
        assert len(other.methods()) == 6
    else:
        assert set(other.methods()) == {("/users", "GET")}
        assert other.paths() == {"/", "/users", "/posts"}
