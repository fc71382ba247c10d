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
- Nor has it `AWS::ApiGateway::Authorizer` (its API Gateway backend has authorizers): added,
  `Ref` the authorizer's id, as CloudFormation has it (a template names one on the REST API of
  the service's http events, which the toolkit makes before the stack).

Applied by the local AWS services' process (tooling.localaws.server) and by the tests' moto
server, which stands in for AWS. The fix waits for moto's CloudFormation to be imported:
importing it loads most of moto (EC2, Auto Scaling, ...), over a second of CPU that a server
never asked for a stack does not need to spend when it starts.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import Any

CLOUDFORMATION_MODELS = "moto.cloudformation.models"

_applied = False
# CloudFormation types moto lacks that `apply` adds (tooling.deploy.local_stack creates the
# activities; an authorizer names the REST API, which the local target keeps itself).
ADDED_TYPES = frozenset({"AWS::StepFunctions::Activity", "AWS::ApiGateway::Authorizer"})


def apply() -> None:
    """Fix moto's CloudFormation now if it is loaded, otherwise as soon as it is imported."""
    global _applied
    if _applied:
        return
    _applied = True
    loaded = sys.modules.get(CLOUDFORMATION_MODELS)
    if loaded is not None:
        _fix(loaded)
    else:
        sys.meta_path.insert(0, _FixOnImport())


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
    _add_activities()
    _add_authorizers()


def _add_activities() -> None:
    from moto.cloudformation import parsing
    from moto.core.common_models import CloudFormationModel
    from moto.stepfunctions.models import stepfunctions_backends

    class ActivityResource(CloudFormationModel):
        def __init__(self, arn: str, name: str) -> None:
            self.arn = arn
            self.name = name

        @staticmethod
        def cloudformation_name_type() -> str:
            return "Name"

        @staticmethod
        def cloudformation_type() -> str:
            return "AWS::StepFunctions::Activity"

        @classmethod
        def has_cfn_attr(cls, attr: str) -> bool:
            return attr in ("Arn", "Name")

        @property
        def physical_resource_id(self) -> str:
            return self.arn

        def get_cfn_attribute(self, attribute_name: str) -> str:
            return self.arn if attribute_name == "Arn" else self.name

        @classmethod
        def create_from_cloudformation_json(
            cls,
            resource_name: str,
            cloudformation_json: dict[str, Any],
            account_id: str,
            region_name: str,
            **kwargs: Any,
        ) -> ActivityResource:
            properties = cloudformation_json.get("Properties", {})
            tags = [{"key": t["Key"], "value": t["Value"]} for t in properties.get("Tags", [])]
            backend = stepfunctions_backends[account_id][region_name]
            activity = backend.create_activity(properties.get("Name", resource_name), tags or None)
            return cls(activity.arn, activity.name)

        @classmethod
        def update_from_cloudformation_json(
            cls,
            original_resource: ActivityResource,
            new_resource_name: str,
            cloudformation_json: dict[str, Any],
            account_id: str,
            region_name: str,
        ) -> ActivityResource:
            name = cloudformation_json.get("Properties", {}).get("Name", new_resource_name)
            if name == original_resource.name:
                return original_resource
            original_resource.delete(account_id, region_name)
            return cls.create_from_cloudformation_json(
                new_resource_name, cloudformation_json, account_id, region_name
            )

        def delete(self, account_id: str, region_name: str) -> None:
            stepfunctions_backends[account_id][region_name].delete_activity(self.arn)

    for cached in (parsing.get_model_map, parsing.get_name_type_map):  # built from subclasses
        cached.cache_clear()


def _add_authorizers() -> None:
    from moto.apigateway.models import apigateway_backends
    from moto.cloudformation import parsing
    from moto.core.common_models import CloudFormationModel

    class AuthorizerResource(CloudFormationModel):
        def __init__(self, api_id: str, authorizer_id: str) -> None:
            self.api_id = api_id
            self.id = authorizer_id

        @staticmethod
        def cloudformation_name_type() -> str:
            return "Name"

        @staticmethod
        def cloudformation_type() -> str:
            return "AWS::ApiGateway::Authorizer"

        @classmethod
        def has_cfn_attr(cls, attr: str) -> bool:
            return attr == "AuthorizerId"

        @property
        def physical_resource_id(self) -> str:
            return self.id

        def get_cfn_attribute(self, attribute_name: str) -> str:
            return self.id

        @classmethod
        def create_from_cloudformation_json(
            cls,
            resource_name: str,
            cloudformation_json: dict[str, Any],
            account_id: str,
            region_name: str,
            **kwargs: Any,
        ) -> AuthorizerResource:
            properties = cloudformation_json.get("Properties", {})
            api_id = str(properties["RestApiId"])
            ttl = properties.get("AuthorizerResultTtlInSeconds")
            authorizer = apigateway_backends[account_id][region_name].create_authorizer(
                api_id,
                properties.get("Name", resource_name),
                properties.get("Type"),
                provider_arns=properties.get("ProviderARNs"),
                auth_type=properties.get("AuthType"),
                authorizer_uri=properties.get("AuthorizerUri"),
                authorizer_credentials=properties.get("AuthorizerCredentials"),
                identity_source=properties.get("IdentitySource"),
                identiy_validation_expression=properties.get("IdentityValidationExpression"),
                authorizer_result_ttl=int(ttl) if ttl is not None else None,
            )
            return cls(api_id, str(authorizer.id))

        @classmethod
        def update_from_cloudformation_json(
            cls,
            original_resource: AuthorizerResource,
            new_resource_name: str,
            cloudformation_json: dict[str, Any],
            account_id: str,
            region_name: str,
        ) -> AuthorizerResource:
            original_resource.delete(account_id, region_name)
            return cls.create_from_cloudformation_json(
                new_resource_name, cloudformation_json, account_id, region_name
            )

        def delete(self, account_id: str, region_name: str) -> None:
            backend = apigateway_backends[account_id][region_name]
            api = backend.apis.get(self.api_id)
            if api is not None:  # deleting an API deletes its authorizers
                api.authorizers.pop(self.id, None)

    for cached in (parsing.get_model_map, parsing.get_name_type_map):  # built from subclasses
        cached.cache_clear()


class _FixOnImport(importlib.abc.MetaPathFinder):
    """Finds moto's CloudFormation models as usual, with a loader that fixes them once run."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != CLOUDFORMATION_MODELS:
            return None
        sys.meta_path.remove(self)  # once is enough
        spec = importlib.machinery.PathFinder.find_spec(fullname, path, target)
        if spec is not None and spec.loader is not None:
            spec.loader = _FixingLoader(spec.loader)
        return spec


class _FixingLoader(importlib.abc.Loader):
    def __init__(self, loader: importlib.abc.Loader) -> None:
        self.loader = loader

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self.loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self.loader.exec_module(module)
        _fix(module)

    def __getattr__(self, name: str) -> Any:  # get_source, get_filename, ... of the real one
        return getattr(self.loader, name)
