"""`${ssm:}`, `${cf:}` and `${s3:}` read from AWS (or from the local AWS services, which answer
the same API), as Serverless v3 reads them (lib/configuration/variables/sources/instance-dependent
/get-ssm.js, get-cf.js, get-s3.js, v3.40.0):

- `${ssm(region?, raw?, noDecrypt?):/path}`: GetParameter, decrypted unless `noDecrypt`; a
  StringList is a list (its text with `raw`); a SecureString holding JSON (it starts with `{`) is
  parsed unless `raw`; a parameter that does not exist gives no value (a fallback applies);
- `${cf(region?):stack.output}`: DescribeStacks; a stack that does not exist, or an output it does
  not have, gives no value;
- `${s3:bucket/key}`: GetObject, the body as text; a key that does not exist gives no value (a
  bucket that does not exist is an error, as in Serverless);
- a layer ARN written `...:latest` (kind `layer`, with serverless-latest-layer-version named):
  the ARN of the layer's highest version (ListLayerVersions in the ARN's region, as the plugin
  reads it); a layer with no version gives no value;
- `Fn::ImportValue` (in definitions, IAM statements, environment, ...; kind `export`): the value
  another stack exports (ListExports); one no stack exports gives no value.

Each value is read once per command (Serverless' `useCache`). Every call goes through
`AwsClient`; the region parameter picks a client for that region.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from tooling.aws.client import AwsClient
from tooling.config.missing import MISSING
from tooling.errors import NotFound

ClientFor = Callable[[str | None], AwsClient]  # region (None: the service's) -> client
SSM_FLAGS = ("raw", "noDecrypt")


class AwsVariables:
    """The `ExternalSources` of tooling.config.external, read through `client_for`. `where`
    names the services for messages ("AWS account 1234...", "the local AWS services")."""

    layers_needed = True  # functions run with their layers here: a layer with no version fails

    def __init__(self, client_for: ClientFor, where: str, set_it: str = "") -> None:
        self.client_for = client_for
        self.where = where
        self.set_it = set_it  # how to reach these services from the shell, for hints
        self._values: dict[tuple[str, str, tuple[str, ...]], Any] = {}
        self._reasons: dict[tuple[str, str], str] = {}
        self._exports: dict[str, dict[str, str]] = {}  # region -> export name -> value

    def resolve(self, kind: str, address: str, params: tuple[str, ...]) -> Any:
        key = (kind, address, params)
        if key not in self._values:
            readers = {"ssm": self._ssm, "cf": self._cf, "s3": self._s3,
                       "export": self._export, "layer": self._layer}  # fmt: skip
            reader = readers[kind]
            self._values[key] = reader(address, params)
        return self._values[key]

    def missing_reason(self, kind: str, address: str) -> str:
        return self._reasons.get((kind, address), f"{self.where} gave no value")

    def how_to_set(self, kind: str, address: str) -> str:
        """What to run so that the value exists."""
        prefix = self.set_it
        if kind == "ssm":
            return f"{prefix}aws ssm put-parameter --type String --name {address} --value VALUE"
        if kind == "s3":
            return f"{prefix}aws s3 cp FILE s3://{address}"
        if kind == "export":
            return f"deploy the stack that exports {address}"
        if kind == "layer":
            name, region = address.split(":")[6], address.split(":")[3]
            return (f"{prefix}aws lambda publish-layer-version --region {region} "
                    f"--layer-name {name} --zip-file fileb://LAYER.zip, or write its version "
                    "in place of latest")  # fmt: skip
        stack = address.split(".", 1)[0]
        return f"deploy stack {stack} (it must output {address.split('.', 1)[-1]})"

    # -- the three sources ------------------------------------------------------------------

    def _ssm(self, address: str, params: tuple[str, ...]) -> Any:
        raw, no_decrypt = "raw" in params, "noDecrypt" in params
        region = next((p for p in params if p not in SSM_FLAGS), None)
        client = self.client_for(region)
        try:
            answer = client.call(
                "ssm", "get_parameter", what=f"read SSM parameter {address}", Name=address,
                WithDecryption=not no_decrypt,
            )  # fmt: skip
        except NotFound:
            self._missing("ssm", address, f"no SSM parameter {address} in {self._in(client)}")
            return MISSING
        parameter = answer["Parameter"]
        value = str(parameter.get("Value", ""))
        kind = parameter.get("Type")
        if kind == "StringList":
            return value if raw else value.split(",")
        if kind == "SecureString" and not raw and value.startswith("{"):
            try:
                return json.loads(value)
            except ValueError:
                return value
        return value

    def _cf(self, address: str, params: tuple[str, ...]) -> Any:
        stack, _, output = address.partition(".")
        client = self.client_for(params[0] if params else None)
        answer = client.find(
            "cloudformation", "describe_stacks", what=f"read the outputs of stack {stack}",
            StackName=stack,
        )  # fmt: skip
        if not answer or not answer.get("Stacks"):
            self._missing("cf", address, f"no stack {stack} in {self._in(client)}")
            return MISSING
        for item in answer["Stacks"][0].get("Outputs") or []:
            if item.get("OutputKey") == output:
                return item.get("OutputValue")
        self._missing("cf", address, f"stack {stack} ({self._in(client)}) has no output {output}")
        return MISSING

    def _export(self, address: str, params: tuple[str, ...]) -> Any:
        """`Fn::ImportValue`: a value another stack exports (ListExports), read once per
        command and region."""
        client = self.client_for(params[0] if params else None)
        region = client.settings.region
        if region not in self._exports:
            self._exports[region] = {
                str(item["Name"]): str(item["Value"])
                for page in client.pages(
                    "cloudformation", "list_exports", what="list the CloudFormation exports"
                )
                for item in page.get("Exports", [])
                if item.get("Name") is not None and item.get("Value") is not None  # moto: no value
            }
        if address in self._exports[region]:
            return self._exports[region][address]
        self._missing("export", address, f"no stack exports {address} in {self._in(client)}")
        return MISSING

    def _layer(self, address: str, params: tuple[str, ...]) -> Any:
        """`address` is `arn:...:layer:<name>`; the highest version's ARN."""
        client = self.client_for(address.split(":")[3])
        versions = [
            item
            for page in client.pages(
                "lambda",
                "list_layer_versions",
                what=f"list the versions of layer {address}",
                LayerName=address,
            )  # fmt: skip
            for item in page.get("LayerVersions", [])
        ]
        if not versions:
            self._missing("layer", address, f"layer {address} has no version ({self.where})")
            return MISSING
        return str(max(versions, key=lambda item: int(item["Version"]))["LayerVersionArn"])

    def _s3(self, address: str, params: tuple[str, ...]) -> Any:
        bucket, _, key = address.partition("/")
        client = self.client_for(None)
        try:
            answer = client.call(
                "s3", "get_object", what=f"read s3://{address}", Bucket=bucket, Key=key
            )
        except NotFound:
            self._missing("s3", address, f"no object {key} in bucket {bucket} ({self.where})")
            return MISSING
        body = answer["Body"].read()
        return body.decode("utf-8", errors="replace")

    def _missing(self, kind: str, address: str, reason: str) -> None:
        self._reasons[(kind, address)] = reason

    def _in(self, client: AwsClient) -> str:
        return f"{client.settings.region}, {self.where}"
