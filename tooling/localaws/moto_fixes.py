"""Where moto's CloudFormation differs from AWS in a way the toolkit relies on, made right.

- Executing a change set (moto 5.2.x `ChangeSet.apply`) creates or updates the resources but
  leaves the stack's Outputs as they were: a stack created through a change set has none, one
  updated keeps the old ones. AWS sets them from the new template (the toolkit reads the values
  of `resources:` from them). Fixed by setting the template and outputs as moto's own
  `Stack.update` does. Nor does a stack made by a change set import other stacks' exports
  (`Fn::ImportValue`: "No export named ... found") or export its own: both made as
  `create_stack` does.
- moto's CloudFormation has no `AWS::StepFunctions::Activity` (its Step Functions backend has
  activities): the stack skips it and `Ref` of it gives nothing. Added, as CloudFormation has
  it: `Ref` and `Fn::GetAtt .Arn` the activity's ARN, `.Name` its name (the toolkit deploys
  `stepFunctions.activities` in the stack of `resources:`, as the plugin does).
- Nor has it `AWS::ApiGateway::Authorizer` or Cognito user pools (`AWS::Cognito::UserPool`,
  `UserPoolClient`, `UserPoolDomain`), which services with http events often declare in
  `resources:`, though its API Gateway and Cognito backends have them. Added the same way, on
  those backends: `Ref` gives the authorizer's id, the pool's id, the client's id, the domain;
  `Fn::GetAtt` the attributes CloudFormation documents (a pool's `Arn`, `ProviderName`,
  `ProviderURL`, `UserPoolId`; a client's `ClientId`, `ClientSecret`, `Name`; an authorizer's
  `AuthorizerId`). A change of properties replaces the resource (CloudFormation updates some
  in place: the stand-in's ids may change where AWS's would not). SES configuration sets and
  their event destinations (`AWS::SES::ConfigurationSet`, `...EventDestination`), which user
  pools that send mail name, are added on the SES backend the same way (`Ref` gives the name).

- Lambda's ListLayerVersions takes a layer's name or its ARN; moto finds a layer by name only
  (an ARN lists no version). Made to take the ARN of a layer of the caller's account too (the
  toolkit looks up a layer's latest version by its ARN, as serverless-latest-layer-version does).
  CreateFunction's and UpdateFunctionConfiguration's SnapStart are dropped by moto (it answers
  `ApplyOn: None` always): kept, and answered (OptimizationStatus On for a published version
  of a function that applies it). PutFunctionEventInvokeConfig replaces the function's
  settings on AWS; moto adds a second entry and keeps answering the first: made to replace.
  GetFunction answers a reserved concurrency of 0 (a throttled function) on AWS; moto leaves
  it out: added.

- moto's Lambda has no provisioned concurrency configurations (Put/Get/Delete
  ProvisionedConcurrencyConfig), which the toolkit sets on a function's `provisioned` alias:
  added, kept per function and alias or version; a configuration is READY at once (AWS
  allocates the environments over minutes: IN_PROGRESS, then READY), refused on $LATEST or an
  unknown qualifier as AWS refuses it, and gone with its alias or function. Nor does it keep
  an alias's asynchronous invocation settings apart from $LATEST's (one per function whatever
  the Qualifier): kept per alias or version. Its function URL configurations take no
  Qualifier ("not yet implemented"): kept per alias.

- moto's Lambda keeps AddPermission's `FunctionUrlAuthType` as a key of the statement; AWS
  writes it as the condition `{"StringEquals": {"lambda:FunctionUrlAuthType": ...}}` (what the
  toolkit compares a function URL's public permission with): made so.
- moto's API Gateway (REST) drops CreateAuthorizer's `identityValidationExpression` (a misspelt
  keyword on its way to the model) and answers UpdateAuthorizer's `providerARNs` operations with
  an error: kept, and `add` (`/providerARNs`, the ARN as value) and `remove`
  (`/providerARNs/<arn>`) applied, as AWS applies them.
- moto's API Gateway v2 has no GetAuthorizers (the list of an HTTP API's authorizers, which
  the toolkit reads to compare an API with serverless.yml): added, answering as AWS does
  (`Items`, from the authorizers moto keeps).

Applied by the local AWS services' process (tooling.localaws.server) and by the tests' moto
server, which stands in for AWS. The fix waits for moto's CloudFormation to be imported:
importing it loads most of moto (EC2, Auto Scaling, ...), over a second of CPU that a server
never asked for a stack does not need to spend when it starts.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.machinery
import json
import sys
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any
from urllib.parse import unquote

CLOUDFORMATION_MODELS = "moto.cloudformation.models"
LAMBDA_MODELS = "moto.awslambda.models"
LAMBDA_POLICY = "moto.awslambda.policy"
LAMBDA_URLS = "moto.awslambda.urls"
LAMBDA_RESPONSES = "moto.awslambda.responses"
APIGATEWAYV2_RESPONSES = "moto.apigatewayv2.responses"
APIGATEWAYV2_MODELS = "moto.apigatewayv2.models"
APIGATEWAY_MODELS = "moto.apigateway.models"
APIGATEWAY_RESPONSES = "moto.apigateway.responses"

_applied = False
# CloudFormation types moto lacks that `apply` adds (tooling.deploy.local_stack creates them).
ADDED_TYPES = frozenset(
    {
        "AWS::StepFunctions::Activity",
        "AWS::ApiGateway::Authorizer",
        "AWS::Cognito::UserPool",
        "AWS::Cognito::UserPoolClient",
        "AWS::Cognito::UserPoolDomain",
        "AWS::SES::ConfigurationSet",
        "AWS::SES::ConfigurationSetEventDestination",
    }
)


def apply() -> None:
    """Fix moto's CloudFormation now if it is loaded, otherwise as soon as it is imported."""
    global _applied
    if _applied:
        return
    _applied = True
    for name, fix in (
        (CLOUDFORMATION_MODELS, _fix),
        (LAMBDA_MODELS, _fix_lambda),
        (LAMBDA_POLICY, _url_permission_condition),
        (LAMBDA_URLS, _provisioned_concurrency_path),
        (LAMBDA_RESPONSES, _provisioned_concurrency_calls),
        (APIGATEWAYV2_RESPONSES, _add_get_authorizers),
        (APIGATEWAYV2_MODELS, _websocket_endpoint),
        (APIGATEWAY_MODELS, _rest_authorizers),
        (APIGATEWAY_MODELS, _rest_api_settings),
        (APIGATEWAY_RESPONSES, _rest_api_binary_types),
    ):
        loaded = sys.modules.get(name)
        if loaded is not None:
            fix(loaded)
        else:
            sys.meta_path.insert(0, _FixOnImport(name, fix))


def _fix_lambda(models: ModuleType) -> None:
    original = models.LambdaBackend.list_layer_versions

    def list_layer_versions(self: Any, layer_name: str) -> Any:
        name = unquote(layer_name)
        if name.startswith("arn:"):
            parts = name.split(":")
            if len(parts) != 7 or parts[4] != self.account_id or parts[3] != self.region_name:
                return []  # another account's or region's layer: none here
            name = parts[6]
        return original(self, name)

    models.LambdaBackend.list_layer_versions = list_layer_versions

    def put_function_event_invoke_config(self: Any, function_name: str, config: Any) -> Any:
        function = self.get_function(function_name)
        function.event_invoke_config = []  # one per function (and qualifier), as on AWS
        return put_config(self, function_name, config)

    put_config = models.LambdaBackend.put_function_event_invoke_config
    models.LambdaBackend.put_function_event_invoke_config = put_function_event_invoke_config
    get_code = models.LambdaFunction.get_code

    def get_code_with_concurrency(self: Any) -> Any:
        answer = get_code(self)
        if self.reserved_concurrency is not None and "Concurrency" not in answer:
            answer["Concurrency"] = {"ReservedConcurrentExecutions": self.reserved_concurrency}
        return answer

    models.LambdaFunction.get_code = get_code_with_concurrency
    update_configuration = models.LambdaFunction.update_configuration

    def update_all_of_the_configuration(self: Any, updates: dict[str, Any]) -> Any:
        # moto's UpdateFunctionConfiguration drops these settings, which AWS applies
        if "TracingConfig" in updates:
            self.tracing_config = updates["TracingConfig"]
        if "EphemeralStorage" in updates:
            self.ephemeral_storage = updates["EphemeralStorage"]["Size"]
        if "ImageConfig" in updates:
            self.image_config = models.ImageConfig(updates["ImageConfig"])
        if "KMSKeyArn" in updates:
            self.kms_key_arn = updates["KMSKeyArn"] or None
        if "SnapStart" in updates:
            self.tool_snap_start = updates["SnapStart"].get("ApplyOn") or "None"
        return update_configuration(self, updates)

    models.LambdaFunction.update_configuration = update_all_of_the_configuration
    create = models.LambdaFunction.__init__

    def created_with_snap_start(self: Any, account_id: str, spec: dict[str, Any], *args: Any,
                                **kwargs: Any) -> None:  # fmt: skip
        create(self, account_id, spec, *args, **kwargs)
        self.tool_snap_start = (spec.get("SnapStart") or {}).get("ApplyOn") or "None"

    models.LambdaFunction.__init__ = created_with_snap_start
    configuration = models.LambdaFunction.get_configuration

    def configuration_with_snap_start(self: Any, *args: Any, **kwargs: Any) -> Any:
        answer = configuration(self, *args, **kwargs)
        apply_on = getattr(self, "tool_snap_start", "None")
        published = str(self.version) != "$LATEST" and apply_on == "PublishedVersions"
        answer["SnapStart"] = {"ApplyOn": apply_on, "OptimizationStatus": "On" if published
                               else "Off"}  # fmt: skip
        return answer

    models.LambdaFunction.get_configuration = configuration_with_snap_start


PROVISIONED_PATH = (
    r"{0}/(?P<api_version>[^/]+)/functions/(?P<function_name>[\w_:%-]+)/provisioned-concurrency/?$"
)


def _provisioned_concurrency_path(urls: ModuleType) -> None:
    if PROVISIONED_PATH not in urls.url_paths:
        urls.url_paths[PROVISIONED_PATH] = urls.LambdaResponse.dispatch


def _provisioned_concurrency_calls(responses: ModuleType) -> None:
    """Put/Get/DeleteProvisionedConcurrencyConfig on moto's Lambda, kept on its backend."""
    import json
    from datetime import UTC, datetime

    from moto.core.exceptions import JsonRESTError

    handler = responses.LambdaResponse
    if hasattr(handler, "put_provisioned_concurrency_config"):
        return

    def configs(self: Any) -> dict[tuple[str, str], dict[str, Any]]:
        backend = self.backend
        if not hasattr(backend, "tool_provisioned"):
            backend.tool_provisioned = {}
        kept: dict[tuple[str, str], dict[str, Any]] = backend.tool_provisioned
        return kept

    def target(self: Any) -> tuple[str, str]:
        name = unquote(self.path.rsplit("/", 2)[-2])
        qualifier = (self.querystring.get("Qualifier") or [""])[0]
        function = self.backend.get_function(name)  # ResourceNotFoundException if none
        name = function.function_name
        if not qualifier or qualifier == "$LATEST":
            raise JsonRESTError(
                "InvalidParameterValueException",
                "Provisioned Concurrency Configs cannot be applied to unpublished function "
                "versions.",
            )
        if qualifier.isdigit():
            self.backend.get_function(name, qualifier)
        else:
            self.backend.get_alias(qualifier, name)
        return name, qualifier

    def put_provisioned_concurrency_config(self: Any) -> Any:
        key = target(self)
        wanted = int(json.loads(self.body)["ProvisionedConcurrentExecutions"])
        answer = {
            "RequestedProvisionedConcurrentExecutions": wanted,
            "AvailableProvisionedConcurrentExecutions": wanted,
            "AllocatedProvisionedConcurrentExecutions": wanted,
            "Status": "READY",
            "LastModified": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        configs(self)[key] = answer
        return 202, {"status": 202}, json.dumps(answer)

    def get_provisioned_concurrency_config(self: Any) -> Any:
        key = target(self)
        answer = configs(self).get(key)
        if answer is None:
            error = JsonRESTError(
                "ProvisionedConcurrencyConfigNotFoundException",
                "No Provisioned Concurrency Config found for this function",
            )
            error.code = 404
            raise error
        return 200, {}, json.dumps(answer)

    def delete_provisioned_concurrency_config(self: Any) -> Any:
        configs(self).pop(target(self), None)
        return 204, {"status": 204}, ""

    def forgetting(original: Callable[..., Any], which: Callable[..., bool]) -> Callable[..., Any]:
        def call(self: Any, *args: Any, **kwargs: Any) -> Any:
            answer = original(self, *args, **kwargs)
            name = unquote(self.path.split("/functions/", 1)[1].split("/", 1)[0])
            name = name.rsplit(":function:", 1)[-1].split(":", 1)[0]
            kept = configs(self)
            for key in [key for key in kept if key[0] == name and which(self, key)]:
                del kept[key]
            return answer

        return call

    _qualified_invoke_configs(handler)
    _qualified_url_configs(handler)
    handler.put_provisioned_concurrency_config = put_provisioned_concurrency_config
    handler.get_provisioned_concurrency_config = get_provisioned_concurrency_config
    handler.delete_provisioned_concurrency_config = delete_provisioned_concurrency_config
    handler.delete_alias = forgetting(  # an alias takes its configuration with it
        handler.delete_alias, lambda self, key: key[1] == unquote(self.path.rsplit("/", 1)[-1])
    )
    handler.delete_function = forgetting(
        handler.delete_function,
        lambda self, key: (self._get_param("Qualifier", None) or key[1]) == key[1],
    )


def _qualified_invoke_configs(handler: Any) -> None:
    """Put/Get/DeleteFunctionEventInvokeConfig with a Qualifier (an alias or version) kept
    apart from $LATEST's, as on AWS (moto keeps one per function whatever the qualifier)."""
    import json

    from moto.core.exceptions import JsonRESTError

    def qualifier(self: Any) -> str | None:
        value = (self.querystring.get("Qualifier") or [None])[0]
        return None if value in (None, "$LATEST") else str(value)

    def kept(self: Any) -> dict[tuple[str, str], dict[str, Any]]:
        if not hasattr(self.backend, "tool_invoke_configs"):
            self.backend.tool_invoke_configs = {}
        configs: dict[tuple[str, str], dict[str, Any]] = self.backend.tool_invoke_configs
        return configs

    def key(self: Any) -> tuple[str, str]:
        name = unquote(self.path.rsplit("/", 2)[1])
        function = self.backend.get_function(name)
        which = qualifier(self) or ""
        if which.isdigit():
            self.backend.get_function(function.function_name, which)
        else:
            self.backend.get_alias(which, function.function_name)
        return function.function_name, which

    def wrap(original: Callable[..., Any], qualified: Callable[[Any], Any]) -> Callable[..., Any]:
        def call(self: Any) -> Any:
            return original(self) if qualifier(self) is None else qualified(self)

        return call

    def put(self: Any) -> Any:
        name, which = key(self)
        answer = {
            "FunctionArn": f"{self.backend.get_function(name).function_arn}:{which}",
            "LastModified": 0,
            **json.loads(self.body),
        }
        kept(self)[(name, which)] = answer
        return 200, {}, json.dumps(answer)

    def get(self: Any) -> Any:
        answer = kept(self).get(key(self))
        if answer is None:
            error = JsonRESTError(
                "ResourceNotFoundException", "The function has no asynchronous invocation settings"
            )
            error.code = 404
            raise error
        return 200, {}, json.dumps(answer)

    def delete(self: Any) -> Any:
        kept(self).pop(key(self), None)
        return 204, {"status": 204}, "{}"

    handler.put_function_event_invoke_config = wrap(handler.put_function_event_invoke_config, put)
    handler.get_function_event_invoke_config = wrap(handler.get_function_event_invoke_config, get)
    handler.delete_function_event_invoke_config = wrap(
        handler.delete_function_event_invoke_config, delete
    )


def _qualified_url_configs(handler: Any) -> None:
    """Create/Get/Update/DeleteFunctionUrlConfig with a Qualifier (an alias), kept per alias
    (moto refuses a Qualifier: "not yet implemented")."""
    import json
    import uuid
    from datetime import UTC, datetime

    from moto.core.exceptions import JsonRESTError

    def qualifier(self: Any) -> str | None:
        value = (self.querystring.get("Qualifier") or [None])[0]
        return None if value in (None, "$LATEST") else str(value)

    def kept(self: Any) -> dict[tuple[str, str], dict[str, Any]]:
        if not hasattr(self.backend, "tool_url_configs"):
            self.backend.tool_url_configs = {}
        configs: dict[tuple[str, str], dict[str, Any]] = self.backend.tool_url_configs
        return configs

    def key(self: Any) -> tuple[str, str]:
        name = unquote(self.path.split("/")[-2])
        function = self.backend.get_function(name)
        which = str(qualifier(self))
        self.backend.get_alias(which, function.function_name)  # an alias, as AWS requires
        return function.function_name, which

    def missing() -> JsonRESTError:
        error = JsonRESTError(
            "ResourceNotFoundException", "The resource you requested does not exist."
        )
        error.code = 404
        return error

    def wrap(original: Callable[..., Any], qualified: Callable[[Any], Any]) -> Callable[..., Any]:
        def call(self: Any) -> Any:
            return original(self) if qualifier(self) is None else qualified(self)

        return call

    def create(self: Any) -> Any:
        name, which = key(self)
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")
        answer = {
            "FunctionUrl": f"https://{uuid.uuid4().hex}.lambda-url.{self.region}.on.aws/",
            "FunctionArn": f"{self.backend.get_function(name).function_arn}:{which}",
            "CreationTime": now,
            "LastModifiedTime": now,
            "InvokeMode": "BUFFERED",
            **json.loads(self.body),
        }
        kept(self)[(name, which)] = answer
        return 201, {"status": 201}, json.dumps(answer)

    def get(self: Any) -> Any:
        answer = kept(self).get(key(self))
        if answer is None:
            raise missing()
        return 200, {}, json.dumps(answer)

    def update(self: Any) -> Any:
        answer = kept(self).get(key(self))
        if answer is None:
            raise missing()
        answer.update(json.loads(self.body))
        return 200, {}, json.dumps(answer)

    def delete(self: Any) -> Any:
        if kept(self).pop(key(self), None) is None:
            raise missing()
        return 204, {"status": 204}, "{}"

    for name, qualified in (("create", create), ("get", get), ("update", update),
                            ("delete", delete)):  # fmt: skip
        method = f"{name}_function_url_config"
        setattr(handler, method, wrap(getattr(handler, method), qualified))


def _url_permission_condition(module: ModuleType) -> None:
    policy = module.Policy
    original = policy.condition_merge
    if getattr(original, "_tool_fixed", False):
        return

    def condition_merge(self: Any, obj: dict[str, Any]) -> None:
        original(self, obj)
        if "FunctionUrlAuthType" in obj:
            condition = obj.setdefault("Condition", {}).setdefault("StringEquals", {})
            condition["lambda:FunctionUrlAuthType"] = obj.pop("FunctionUrlAuthType")

    # a mark on the function: applied once
    condition_merge._tool_fixed = True  # type: ignore[attr-defined]
    policy.condition_merge = condition_merge


def _add_get_authorizers(module: ModuleType) -> None:
    import json

    responses = module.ApiGatewayV2Response
    if hasattr(responses, "get_authorizers"):
        return  # a moto that has it

    def get_authorizers(self: Any) -> tuple[int, dict[str, str], str]:
        api = self.apigatewayv2_backend.get_api(self.path.split("/")[-2])
        items = [authorizer.to_json() for authorizer in api.authorizers.values()]
        return 200, {}, json.dumps({"items": items})

    responses.get_authorizers = get_authorizers


def _rest_api_binary_types(responses: ModuleType) -> None:
    """CreateRestApi keeps `binaryMediaTypes`, as API Gateway does (moto drops them)."""
    handler = responses.APIGatewayResponse
    original = handler.create_rest_api
    if getattr(original, "_tool_fixed", False):
        return

    def create_rest_api(self: Any) -> Any:
        status, headers, body = original(self)
        types = self._get_param("binaryMediaTypes")
        if status == 200 and types:
            api = self.backend.get_rest_api(json.loads(body)["id"])
            api.binaryMediaTypes = list(types)
            body = json.dumps(api.to_dict())
        return status, headers, body

    create_rest_api._tool_fixed = True  # type: ignore[attr-defined]  # a mark: applied once
    handler.create_rest_api = create_rest_api


def _rest_api_settings(models: ModuleType) -> None:
    """UpdateRestApi as API Gateway applies it: a binary media type added or removed by its
    path (`/binaryMediaTypes/image~1png`, no value), and minimumCompressionSize replaced (moto
    reads the type from the value and ignores the size)."""
    rest_api = models.RestAPI
    original = rest_api.apply_patch_operations
    if getattr(original, "_tool_fixed", False):
        return

    def apply_patch_operations(self: Any, operations: list[dict[str, Any]]) -> None:
        left = []
        for operation in operations:
            path = str(operation.get("path", ""))
            if path.startswith("/binaryMediaTypes/") and operation.get("op") in ("add", "remove"):
                media = path.removeprefix("/binaryMediaTypes/").replace("~1", "/")
                if operation["op"] == "add" and media not in self.binaryMediaTypes:
                    self.binaryMediaTypes.append(media)
                elif operation["op"] == "remove" and media in self.binaryMediaTypes:
                    self.binaryMediaTypes.remove(media)
            elif path == "/minimumCompressionSize" and operation.get("op") == "replace":
                value = operation.get("value")
                self.minimum_compression_size = int(value) if value not in (None, "") else None
            else:
                left.append(operation)
        original(self, left)

    apply_patch_operations._tool_fixed = True  # type: ignore[attr-defined]  # a mark: applied once
    rest_api.apply_patch_operations = apply_patch_operations


def _rest_authorizers(models: ModuleType) -> None:
    authorizer = models.Authorizer
    original_init, original_apply = authorizer.__init__, authorizer.apply_operations
    if getattr(original_init, "_tool_fixed", False):
        return

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        misspelt = kwargs.pop("identiy_validation_expression", None)
        kwargs.setdefault("identity_validation_expression", misspelt)
        original_init(self, *args, **kwargs)

    def apply_operations(self: Any, operations: list[dict[str, Any]]) -> Any:
        rest = []
        for op in operations:
            path = str(op.get("path", ""))
            if path == "/providerARNs" and op.get("op") == "add":
                self.provider_arns = [*(self.provider_arns or []), op["value"]]
            elif path.startswith("/providerARNs/") and op.get("op") == "remove":
                arn = unquote(path.removeprefix("/providerARNs/"))
                self.provider_arns = [a for a in self.provider_arns or [] if a != arn]
            else:
                rest.append(op)
        return original_apply(self, rest)

    __init__._tool_fixed = True  # type: ignore[attr-defined]  # a mark: applied once
    authorizer.__init__ = __init__
    authorizer.apply_operations = apply_operations


def _websocket_endpoint(models: ModuleType) -> None:
    """AWS answers a WebSocket API's ApiEndpoint as wss://<id>.execute-api.<region>.amazonaws.com
    (moto: https:// whatever the protocol)."""
    api = models.Api
    original = api.__init__
    if getattr(original, "_tool_fixed", False):
        return

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        if self.protocol_type == "WEBSOCKET":
            self.api_endpoint = "wss://" + self.api_endpoint.removeprefix("https://")

    __init__._tool_fixed = True  # type: ignore[attr-defined]  # a mark: applied once
    api.__init__ = __init__


def _fix(models: ModuleType) -> None:
    change_set = models.ChangeSet
    original = change_set.apply

    def apply_with_outputs(self: Any) -> None:
        stack = self.stack
        backend = models.cloudformation_backends[stack.account_id][stack.region_name]
        stack.resource_map.cross_stack_resources = backend.exports  # Fn::ImportValue
        original(self)
        stack.template = self.template
        stack._parse_template()
        stack.output_map = stack._create_output_map()
        for export in stack.exports:  # what it exports, other stacks import
            backend.exports[export.name] = export

    change_set.apply = apply_with_outputs
    _add_backed_models()


def _add_backed_models() -> None:
    """CloudFormation models over moto backends that have the resource but no model of it."""
    from moto.apigateway.exceptions import NotFoundException
    from moto.apigateway.models import apigateway_backends
    from moto.cloudformation import parsing
    from moto.cloudformation.exceptions import ValidationError
    from moto.cognitoidp.exceptions import ResourceNotFoundError
    from moto.cognitoidp.models import cognitoidp_backends
    from moto.core.common_models import CloudFormationModel
    from moto.ses.models import ses_backends
    from moto.stepfunctions.models import stepfunctions_backends

    GONE = (NotFoundException, ResourceNotFoundError)

    class BackedResource:
        """One resource of a backend: `made` is what the backend answered when creating it. A
        mixin: moto finds models among CloudFormationModel's direct subclasses."""

        TYPE = ""
        ATTRIBUTES: tuple[str, ...] = ()
        NAME_PROPERTY = ""  # the property moto fills with a generated name when it is absent

        def __init__(self, made: Any, properties: dict[str, Any]) -> None:
            self.made = made
            self.properties = properties

        @classmethod
        def cloudformation_name_type(cls) -> str:
            return cls.NAME_PROPERTY

        @classmethod
        def cloudformation_type(cls) -> str:
            return cls.TYPE

        @classmethod
        def has_cfn_attr(cls, attr: str) -> bool:
            return attr in cls.ATTRIBUTES

        @classmethod
        def make(cls, properties: dict[str, Any], account: str, region: str, name: str) -> Any:
            """Create it in the backend (`name`: the one moto generated, when it takes one)."""
            raise NotImplementedError

        def remove(self, account: str, region: str) -> None:
            raise NotImplementedError

        @classmethod
        def create_from_cloudformation_json(
            cls,
            resource_name: str,
            cloudformation_json: dict[str, Any],
            account_id: str,
            region_name: str,
            **kwargs: Any,
        ) -> Any:
            properties = dict(cloudformation_json.get("Properties", {}))
            try:
                made = cls.make(properties, account_id, region_name, resource_name)
            except Exception as exc:  # noqa: BLE001 - the backend's refusal, whatever its class
                # AWS fails the resource (CREATE_FAILED, then a rollback); moto has no failed
                # stacks, so the request is refused with the reason, as CloudFormation's XML.
                reason = getattr(exc, "message", None) or str(exc)
                raise ValidationError(
                    message=f"{cls.TYPE} {resource_name}: {reason} (the resource failed)"
                ) from None
            return cls(made, properties)

        @classmethod
        def update_from_cloudformation_json(
            cls,
            original_resource: Any,
            new_resource_name: str,
            cloudformation_json: dict[str, Any],
            account_id: str,
            region_name: str,
        ) -> Any:
            if cloudformation_json.get("Properties", {}) == original_resource.properties:
                return original_resource
            original_resource.delete(account_id, region_name)
            return cls.create_from_cloudformation_json(
                new_resource_name, cloudformation_json, account_id, region_name
            )

        def delete(self, account_id: str, region_name: str) -> None:
            # already gone (an authorizer with its REST API): deleted, as CloudFormation takes it
            with contextlib.suppress(*GONE):
                self.remove(account_id, region_name)

    class Activity(BackedResource, CloudFormationModel):
        TYPE = "AWS::StepFunctions::Activity"
        ATTRIBUTES = ("Arn", "Name")
        NAME_PROPERTY = "Name"

        @classmethod
        def make(cls, properties: dict[str, Any], account: str, region: str, name: str) -> Any:
            tags = [{"key": t["Key"], "value": t["Value"]} for t in properties.get("Tags", [])]
            backend = stepfunctions_backends[account][region]
            return backend.create_activity(properties.get("Name", name), tags or None)

        @property
        def physical_resource_id(self) -> str:
            return str(self.made.arn)

        def get_cfn_attribute(self, attribute_name: str) -> str:
            return str(self.made.arn if attribute_name == "Arn" else self.made.name)

        def remove(self, account: str, region: str) -> None:
            stepfunctions_backends[account][region].delete_activity(self.made.arn)

    class Authorizer(BackedResource, CloudFormationModel):
        TYPE = "AWS::ApiGateway::Authorizer"
        ATTRIBUTES = ("AuthorizerId",)

        @classmethod
        def make(cls, properties: dict[str, Any], account: str, region: str, name: str) -> Any:
            ttl = properties.get("AuthorizerResultTtlInSeconds")
            return apigateway_backends[account][region].create_authorizer(
                properties["RestApiId"],
                properties.get("Name", "authorizer"),
                properties.get("Type", "TOKEN"),
                provider_arns=properties.get("ProviderARNs"),
                auth_type=properties.get("AuthType"),
                authorizer_uri=properties.get("AuthorizerUri"),
                authorizer_credentials=properties.get("AuthorizerCredentials"),
                identity_source=properties.get("IdentitySource"),
                identiy_validation_expression=properties.get("IdentityValidationExpression"),
                authorizer_result_ttl=int(ttl) if ttl is not None else None,
            )

        @property
        def physical_resource_id(self) -> str:
            return str(self.made.id)

        def get_cfn_attribute(self, attribute_name: str) -> str:
            return str(self.made.id)

        def remove(self, account: str, region: str) -> None:
            backend = apigateway_backends[account][region]
            backend.delete_authorizer(self.properties["RestApiId"], self.made.id)

    class UserPool(BackedResource, CloudFormationModel):
        TYPE = "AWS::Cognito::UserPool"
        ATTRIBUTES = ("Arn", "ProviderName", "ProviderURL", "UserPoolId")

        @classmethod
        def make(cls, properties: dict[str, Any], account: str, region: str, name: str) -> Any:
            config = {k: v for k, v in properties.items() if k != "UserPoolName"}
            name = properties.get("UserPoolName", "user-pool")
            return cognitoidp_backends[account][region].create_user_pool(name, config)

        @property
        def physical_resource_id(self) -> str:
            return str(self.made.id)

        def get_cfn_attribute(self, attribute_name: str) -> str:
            pool = self.made
            region = pool.arn.split(":")[3]
            values = {
                "Arn": pool.arn,
                "ProviderName": f"cognito-idp.{region}.amazonaws.com/{pool.id}",
                "ProviderURL": f"https://cognito-idp.{region}.amazonaws.com/{pool.id}",
            }
            return str(values.get(attribute_name, pool.id))

        def remove(self, account: str, region: str) -> None:
            cognitoidp_backends[account][region].delete_user_pool(self.made.id)

    class UserPoolClient(BackedResource, CloudFormationModel):
        TYPE = "AWS::Cognito::UserPoolClient"
        ATTRIBUTES = ("ClientId", "ClientSecret", "Name")

        @classmethod
        def make(cls, properties: dict[str, Any], account: str, region: str, name: str) -> Any:
            config = {k: v for k, v in properties.items() if k not in ("UserPoolId",)}
            return cognitoidp_backends[account][region].create_user_pool_client(
                properties["UserPoolId"], bool(properties.get("GenerateSecret")), config
            )

        @property
        def physical_resource_id(self) -> str:
            return str(self.made.id)

        def get_cfn_attribute(self, attribute_name: str) -> str:
            client = self.made
            values = {"ClientSecret": client.secret, "Name": self.properties.get("ClientName", "")}
            return str(values.get(attribute_name, client.id))

        def remove(self, account: str, region: str) -> None:
            backend = cognitoidp_backends[account][region]
            backend.delete_user_pool_client(self.made.user_pool_id, self.made.id)

    class UserPoolDomain(BackedResource, CloudFormationModel):
        TYPE = "AWS::Cognito::UserPoolDomain"

        @classmethod
        def make(cls, properties: dict[str, Any], account: str, region: str, name: str) -> Any:
            return cognitoidp_backends[account][region].create_user_pool_domain(
                properties["UserPoolId"],
                properties["Domain"],
                properties.get("CustomDomainConfig"),
            )

        @property
        def physical_resource_id(self) -> str:
            return str(self.made.domain)

        def get_cfn_attribute(self, attribute_name: str) -> str:
            return str(self.made.domain)

        def remove(self, account: str, region: str) -> None:
            cognitoidp_backends[account][region].delete_user_pool_domain(self.made.domain)

    class ConfigurationSet(BackedResource, CloudFormationModel):
        TYPE = "AWS::SES::ConfigurationSet"
        NAME_PROPERTY = "Name"

        @classmethod
        def make(cls, properties: dict[str, Any], account: str, region: str, name: str) -> Any:
            name = properties.get("Name", name)
            ses_backends[account][region].create_configuration_set(name)
            return name

        @property
        def physical_resource_id(self) -> str:
            return str(self.made)

        def remove(self, account: str, region: str) -> None:
            backend = ses_backends[account][region]
            backend.config_set_event_destination.pop(self.made, None)
            backend.delete_configuration_set(self.made)

    class ConfigurationSetEventDestination(BackedResource, CloudFormationModel):
        TYPE = "AWS::SES::ConfigurationSetEventDestination"

        @classmethod
        def make(cls, properties: dict[str, Any], account: str, region: str, name: str) -> Any:
            destination = dict(properties.get("EventDestination") or {})
            destination.setdefault("Name", name)
            ses_backends[account][region].create_configuration_set_event_destination(
                properties["ConfigurationSetName"], destination
            )
            return destination["Name"]

        @property
        def physical_resource_id(self) -> str:
            return str(self.made)

        def remove(self, account: str, region: str) -> None:
            backend = ses_backends[account][region]
            backend.config_set_event_destination.pop(self.properties["ConfigurationSetName"], None)
            backend.event_destinations.pop(self.made, None)

    for cached in (parsing.get_model_map, parsing.get_name_type_map):  # built from subclasses
        cached.cache_clear()


class _FixOnImport(importlib.abc.MetaPathFinder):
    """Finds one moto module as usual, with a loader that fixes it once run."""

    def __init__(self, module: str, fix: Callable[[ModuleType], None]) -> None:
        self.module = module
        self.fix = fix

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != self.module:
            return None
        sys.meta_path.remove(self)  # once is enough
        spec = importlib.machinery.PathFinder.find_spec(fullname, path, target)
        if spec is not None and spec.loader is not None:
            spec.loader = _FixingLoader(spec.loader, self.fix)
        return spec


class _FixingLoader(importlib.abc.Loader):
    def __init__(self, loader: importlib.abc.Loader, fix: Callable[[ModuleType], None]) -> None:
        self.loader = loader
        self.fix = fix

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self.loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self.loader.exec_module(module)
        self.fix(module)

    def __getattr__(self, name: str) -> Any:  # get_source, get_filename, ... of the real one
        return getattr(self.loader, name)
