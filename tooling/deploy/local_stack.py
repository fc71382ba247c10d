"""The stack of `resources:` on the local target: created through CloudFormation in the folder's
local AWS services (moto, tooling.localaws), by the same provider as on AWS
(tooling.deploy.stacks), with the template cut to what the local services can create.

moto's CloudFormation creates the types its models declare (moto/cloudformation/parsing.py:
`CloudFormationModel.__subclasses__()`); any other type it skips with a Python warning and
reports the stack complete, which would drop a resource silently. So the template sent locally
leaves out the types that are not in `MOTO_TYPES` or added by tooling.localaws.moto_fixes (and
those only AWS uses), and says which, by
name, in a warning; a resource or output that names one left out is left out too.
A value the service reads from a resource left out is an error: the local run would need it.
"""

from __future__ import annotations

import copy
from typing import Any

from tooling.config.resources import OUTPUT_PREFIX, OUTPUTS_HOLDER, named_in
from tooling.deploy.models import Stack
from tooling.errors import BadInput
from tooling.localaws.moto_fixes import ADDED_TYPES

# moto 5.2.6's CloudFormation models (tests/deploy/test_local_stack.py checks the installed moto
# against this list).
MOTO_TYPES = frozenset(
    {
        "AWS::ApiGateway::Deployment", "AWS::ApiGateway::Method", "AWS::ApiGateway::Resource",
        "AWS::ApiGateway::RestApi", "AWS::AutoScaling::AutoScalingGroup",
        "AWS::AutoScaling::LaunchConfiguration", "AWS::AutoScaling::ScheduledAction",
        "AWS::Batch::ComputeEnvironment", "AWS::Batch::JobDefinition", "AWS::Batch::JobQueue",
        "AWS::CloudFormation::Stack", "AWS::CloudWatch::Dashboard", "AWS::DataPipeline::Pipeline",
        "AWS::DynamoDB::Table", "AWS::EC2::EIP", "AWS::EC2::FlowLog", "AWS::EC2::Instance",
        "AWS::EC2::InternetGateway", "AWS::EC2::LaunchTemplate", "AWS::EC2::NatGateway",
        "AWS::EC2::NetworkInterface", "AWS::EC2::Route", "AWS::EC2::RouteTable",
        "AWS::EC2::SecurityGroup", "AWS::EC2::SecurityGroupIngress", "AWS::EC2::SpotFleet",
        "AWS::EC2::Subnet", "AWS::EC2::SubnetRouteTableAssociation", "AWS::EC2::TransitGateway",
        "AWS::EC2::VPC", "AWS::EC2::VPCEndpoint", "AWS::EC2::VPCGatewayAttachment",
        "AWS::EC2::VPCPeeringConnection", "AWS::EC2::VPNGateway", "AWS::EC2::Volume",
        "AWS::EC2::VolumeAttachment", "AWS::ECR::Repository", "AWS::ECS::Cluster",
        "AWS::ECS::Service", "AWS::ECS::TaskDefinition", "AWS::EFS::AccessPoint",
        "AWS::EFS::FileSystem", "AWS::EFS::MountTarget", "AWS::EMR::Cluster",
        "AWS::EMR::InstanceGroupConfig", "AWS::EMR::SecurityConfiguration",
        "AWS::ElasticLoadBalancing::LoadBalancer", "AWS::ElasticLoadBalancingV2::Listener",
        "AWS::ElasticLoadBalancingV2::ListenerRule", "AWS::ElasticLoadBalancingV2::LoadBalancer",
        "AWS::ElasticLoadBalancingV2::TargetGroup", "AWS::Events::Archive",
        "AWS::Events::EventBus", "AWS::Events::Rule", "AWS::IAM::AccessKey",
        "AWS::IAM::InstanceProfile", "AWS::IAM::ManagedPolicy", "AWS::IAM::Policy",
        "AWS::IAM::Role", "AWS::IAM::User", "AWS::IoT::BillingGroup", "AWS::IoT::JobTemplate",
        "AWS::IoT::Policy", "AWS::IoT::RoleAlias", "AWS::IoT::Thing", "AWS::IoT::ThingType",
        "AWS::KMS::Alias", "AWS::KMS::Key", "AWS::Kinesis::Stream",
        "AWS::Lambda::EventSourceMapping", "AWS::Lambda::Function", "AWS::Lambda::LayerVersion",
        "AWS::Lambda::Permission", "AWS::Lambda::Version", "AWS::Logs::LogGroup",
        "AWS::Logs::ResourcePolicy", "AWS::RDS::DBInstance", "AWS::RDS::DBParameterGroup",
        "AWS::RDS::DBSecurityGroup", "AWS::RDS::DBSubnetGroup", "AWS::Redshift::Cluster",
        "AWS::Redshift::ClusterParameterGroup", "AWS::Redshift::ClusterSubnetGroup",
        "AWS::Route53::HealthCheck", "AWS::Route53::HostedZone", "AWS::Route53::RecordSet",
        "AWS::Route53::RecordSetGroup", "AWS::S3::Bucket", "AWS::SNS::Topic", "AWS::SQS::Queue",
        "AWS::SSM::Document", "AWS::SSM::Parameter", "AWS::SageMaker::Endpoint",
        "AWS::SageMaker::EndpointConfig", "AWS::SageMaker::Model",
        "AWS::SageMaker::NotebookInstance", "AWS::SageMaker::NotebookInstanceLifecycleConfig",
        "AWS::StepFunctions::StateMachine",
    }
)  # fmt: skip
# Types moto creates but the local target leaves out: they decide how AWS invokes the service's
# functions (the local runtime invokes them itself, and moto refuses them since those functions
# live in the local runtime, not in moto).
AWS_ONLY_TYPES = frozenset({"AWS::Lambda::Permission", "AWS::Lambda::EventSourceMapping"})
# Types that belong to the http events' REST API, which the local target keeps itself (`tool
# serve`), not in the local AWS services: left out, and a value read from one is a stand-in
# (`local-<logical id>`; `tool serve` checks no authorizer and says so).
LOCAL_API_TYPES = frozenset({"AWS::ApiGateway::Authorizer", "AWS::ApiGateway::GatewayResponse"})
LOCAL_STAND_IN = "local-{logical_id}"
LOCAL_PLACEHOLDER = "ToolLocalPlaceholder"  # the one resource of a stack left empty locally
# Types that attach to roles (`Roles`): one naming a role the template does not define (the
# service's function role, which the local runtime keeps itself, or a role of the account) is
# left out too: the local AWS services hold no such role, and the local runtime enforces no IAM.
ROLE_ATTACHMENTS = frozenset(
    {"AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::IAM::InstanceProfile"}
)


def local_template(stack: Stack) -> tuple[dict[str, Any], list[str]]:
    """(the template to send to the local AWS services, warnings naming what is left out)."""
    template = copy.deepcopy(stack.template)
    resources: dict[str, Any] = template.get("Resources") or {}
    left_out = {
        logical_id: str(spec.get("Type"))
        for logical_id, spec in resources.items()
        if (
            spec.get("Type") not in MOTO_TYPES | ADDED_TYPES
            or spec.get("Type") in AWS_ONLY_TYPES | LOCAL_API_TYPES
        )
        and logical_id != OUTPUTS_HOLDER  # creates nothing, here as on AWS (moto skips it)
    }
    outside = {
        logical_id: spec
        for logical_id, spec in resources.items()
        if spec.get("Type") in ROLE_ATTACHMENTS and _roles_outside(spec, resources)
    }
    left_out.update({logical_id: str(spec.get("Type")) for logical_id, spec in outside.items()})
    if not left_out:
        return template, []
    because: dict[str, str] = {}
    changed = True
    while changed:  # what names a resource left out is left out too
        changed = False
        for logical_id, spec in resources.items():
            if logical_id in left_out:
                continue
            named = _named(spec) & set(left_out)
            if named:
                left_out[logical_id] = str(spec.get("Type"))
                because[logical_id] = sorted(named)[0]
                changed = True
    outputs: dict[str, Any] = template.get("Outputs") or {}
    stand_ins = []
    for key, spec in outputs.items():
        named = _named(spec) & set(left_out)
        if (
            key.startswith(OUTPUT_PREFIX)
            and named
            and {left_out[n] for n in named} <= (LOCAL_API_TYPES)
        ):
            logical_id = sorted(named)[0]
            spec["Value"] = LOCAL_STAND_IN.format(logical_id=logical_id)
            stand_ins.append(logical_id)
    needed = [
        key
        for key, spec in outputs.items()
        if key.startswith(OUTPUT_PREFIX) and _named(spec) & set(left_out)
    ]
    if needed:
        names = sorted({n for key in needed for n in _named(outputs[key]) & set(left_out)})
        raise BadInput(
            "the service reads the value of "
            + ", ".join(f"{n} ({left_out[n]})" for n in names)
            + f" from resources: in {stack.declared_in}, and the local AWS services cannot "
            "create it",
            hint="deploy to AWS (--target aws), or give the value another way on the local target "
            "(e.g.  with --param NAME=VALUE)",
        )
    dropped_outputs = [key for key, spec in outputs.items() if _named(spec) & set(left_out)]
    for key in dropped_outputs:
        del outputs[key]
    for logical_id in left_out:
        del resources[logical_id]
    if not resources and set(left_out.values()) <= LOCAL_API_TYPES:
        # only what `tool serve` answers itself (gateway responses, authorizers): an empty
        # stack, as CloudFormation takes one (a resource that makes nothing)
        resources[LOCAL_PLACEHOLDER] = {"Type": "AWS::CloudFormation::WaitConditionHandle"}
    if not resources:
        raise BadInput(
            f"none of resources: in {stack.declared_in} can be created by the local AWS services ("
            + ", ".join(f"{k} ({v})" for k, v in left_out.items())
            + ")",
            hint="deploy to AWS (--target aws)",
        )
    parts = []
    for logical_id, kind in left_out.items():
        if logical_id in because:
            why = f"it names {because[logical_id]}"
        elif logical_id in outside:
            why = (
                "it attaches to a role the local AWS services do not hold; the local runtime "
                "keeps the service's roles itself and enforces no IAM"
            )
        elif kind in AWS_ONLY_TYPES:
            why = "only AWS uses it: the local runtime invokes the functions itself"
        elif kind in LOCAL_API_TYPES:
            why = (
                "the local target keeps the REST API itself, and `tool serve` applies no "
                "authorizer or gateway response"
                + (f"; its value is {LOCAL_STAND_IN.format(logical_id=logical_id)!r}"
                   if logical_id in stand_ins else "")
            )  # fmt: skip
        else:
            why = "the local AWS services (moto) cannot create it"
        parts.append(f"{logical_id} ({kind}: {why})")
    warning = (
        f"resources: left out on the local target: {', '.join(parts)}; the rest of resources: "
        "is deployed"
    )
    if dropped_outputs:
        warning += f" (outputs left out too: {', '.join(dropped_outputs)})"
    return template, [warning]


def _named(value: Any) -> set[str]:
    names = {found.name for found in named_in(value)}
    if isinstance(value, dict):
        depends = value.get("DependsOn")
        if isinstance(depends, str):
            names.add(depends)
        elif isinstance(depends, list):
            names.update(d for d in depends if isinstance(d, str))
    return names


def _roles_outside(spec: dict[str, Any], resources: dict[str, Any]) -> bool:
    """Whether a policy or instance profile names a role that the template does not define."""
    roles = (spec.get("Properties") or {}).get("Roles")
    for role in roles if isinstance(roles, list) else []:
        target = role.get("Ref") if isinstance(role, dict) else None
        defined = isinstance(target, str) and (resources.get(target) or {}).get("Type") == (
            "AWS::IAM::Role"
        )
        if not defined:
            return True
    return False
