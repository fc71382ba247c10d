"""provider.apiGateway.apiKeys and usagePlan read as Serverless v3 compiles them (api-keys.js,
usage-plan.js, usage-plan-keys.js): plan names and descriptions, each key in its plan, and bad
input as one problem at its file:line:column."""

from __future__ import annotations

from pathlib import Path

from tooling.config.api_keys import ApiKeyConfig, UsagePlanConfig
from tooling.config.service import ServiceConfig, load_service

HTTP = (
    "functions:\n  hello:\n    handler: handler.hello\n"
    "    events:\n      - http: {path: hi, method: get, private: true}\n"
)
VALUE = "abcdefghijabcdefghij0123"


def load(tmp_path: Path, gateway: str, *, events: str = HTTP, extra: str = "") -> ServiceConfig:
    yml = (
        "service: shop\nprovider:\n  name: aws\n  runtime: python3.12\n"
        + extra
        + "  apiGateway:\n"
        + gateway
        + events
    )
    (tmp_path / "serverless.yml").write_text(yml)
    (tmp_path / "handler.py").write_text("def hello(e, c):\n    return {}\n")
    return load_service(tmp_path, env={})


def problems(service: ServiceConfig) -> list[str]:
    return [p.render() for p in service.problems]


def test_plain_keys_go_into_the_one_default_plan(tmp_path: Path) -> None:
    service = load(
        tmp_path,
        "    apiKeys:\n"
        "      - first\n"
        f"      - {{name: second, value: {VALUE}, description: d, customerId: c, enabled: false}}\n"
        "    usagePlan:\n"
        "      quota: {limit: 5000, offset: 2, period: MONTH}\n"
        "      throttle: {burstLimit: 200, rateLimit: 100}\n",
    )
    assert problems(service) == [] and service.warnings == ()
    assert service.api is not None
    keys = service.api.api_keys
    assert keys.plans == (
        UsagePlanConfig(
            name="shop-dev",
            description="Usage plan for shop dev stage",
            quota=(("limit", 5000), ("offset", 2), ("period", "MONTH")),
            throttle=(("burstLimit", 200), ("rateLimit", 100)),
            keys=("first", "second"),
        ),
    )
    first, second = keys.keys
    assert (first.name, first.plan, first.value, first.enabled) == ("first", "shop-dev", None, True)
    assert second == ApiKeyConfig(
        name="second", plan="shop-dev", value=VALUE, description="d", customer_id="c",
        enabled=False, declared_in=second.declared_in,
    )  # fmt: skip
    assert second.declared_in == ("serverless.yml", 8, 9)


def test_usage_plan_alone_makes_its_plan_without_keys(tmp_path: Path) -> None:
    service = load(tmp_path, "    usagePlan:\n      throttle: {rateLimit: 1.5}\n")
    assert problems(service) == []
    assert service.api is not None
    (plan,) = service.api.api_keys.plans
    assert (plan.name, plan.throttle, plan.keys) == ("shop-dev", (("rateLimit", 1.5),), ())


def test_named_plans_take_their_groups_of_keys(tmp_path: Path) -> None:
    service = load(
        tmp_path,
        "    apiKeys:\n"
        "      - free:\n"
        "          - alice\n"
        f"          - {{name: bob, value: {VALUE}}}\n"
        "      - paid: [carol]\n"
        "    usagePlan:\n"
        "      - free: {quota: {limit: 10, period: DAY}}\n"
        "      - paid: {throttle: {burstLimit: 2, rateLimit: 1}}\n"
        "      - spare:\n",
    )
    assert problems(service) == []
    assert service.api is not None
    plans = {p.name: p for p in service.api.api_keys.plans}
    assert list(plans) == ["shop-free-dev", "shop-paid-dev", "shop-spare-dev"]
    assert plans["shop-free-dev"].description == 'Usage plan "free" for shop dev stage'
    assert plans["shop-free-dev"].keys == ("alice", "bob")
    assert plans["shop-paid-dev"].keys == ("carol",)
    assert plans["shop-spare-dev"].keys == ()


def test_bad_input_is_one_problem_at_its_line(tmp_path: Path) -> None:
    service = load(
        tmp_path,
        "    apiKeys:\n"
        "      - free: [alice]\n"  # 7
        "      - nope: [bob]\n"  # 8
        "      - plain\n"  # 9
        "      - free:\n"  # 10
        "          - {name: short, value: tooShort}\n"  # 11
        "          - {name: x, colour: red}\n"  # 12
        "          - {value: abcdefghijabcdefghij0123}\n"  # 13
        "          - {name: alice}\n"  # 14
        "          - 42\n"  # 15
        "    usagePlan:\n"
        "      - free:\n"
        "          quota: {limit: -1, period: YEAR}\n"  # 18
        "          throttle: {burstLimit: 1.5, rate: 2}\n"  # 19
        "          extra: {}\n",  # 20
    )
    assert problems(service) == [
        "serverless.yml:18:26: a usage plan's quota.limit must be an integer of 0 or more (got -1)",
        "serverless.yml:18:38: a quota's period must be one of DAY, WEEK, MONTH (got 'YEAR')",
        "serverless.yml:19:34: a usage plan's throttle.burstLimit must be an integer of 0 or "
        "more (got 1.5)",
        "serverless.yml:19:45: unknown key 'rate' in a usage plan's throttle (it takes "
        "burstLimit, rateLimit)",
        "serverless.yml:20:18: unknown key 'extra' in a usage plan (it takes quota and throttle)",
        'serverless.yml:8:9: API key "nope" has no usage plan defined '
        "(API_GATEWAY_KEY_WITHOUT_USAGE_PLAN, as Serverless says) (name one of the usage plans "
        "('free'))",
        "serverless.yml:9:9: this API key names no usage plan, and provider.apiGateway.usagePlan "
        "is a list of named plans: it would belong to no plan (Serverless' template names a "
        "default plan that it does not make) (put it in a group naming its plan: - <plan>: "
        "[<key>])",
        "serverless.yml:11:34: API key 'short': API Gateway takes a key value of 20 to 128 "
        "characters (this one has 8) (use a longer value, or leave `value` out to let API "
        "Gateway generate one)",
        "serverless.yml:12:31: unknown key 'colour' in an API key (it takes name, value, "
        "description, customerId, enabled)",
        "serverless.yml:13:13: an API key needs a `name` (the toolkit finds the key by it)",
        "serverless.yml:15:13: an API key must be its name or a mapping {name, value, "
        "description, customerId, enabled}",
        "serverless.yml:14:13: API key 'alice' is given twice in provider.apiGateway.apiKeys; "
        "the toolkit finds a key by its name (give each key its own name)",
    ]


def test_a_group_naming_no_plan_with_a_default_plan(tmp_path: Path) -> None:
    service = load(tmp_path, "    apiKeys:\n      - free: [alice]\n")
    (problem,) = problems(service)
    assert problem.startswith('serverless.yml:7:9: API key "free" has no usage plan defined')
    assert problem.endswith("as a list entry {free: {quota, throttle}})")


def test_without_a_rest_api_keys_are_a_warning(tmp_path: Path) -> None:
    service = load(tmp_path, "    apiKeys: [k1]\n", events="")
    assert problems(service) == []
    assert service.warnings == (
        "serverless.yml:6:14: provider.apiGateway.apiKeys not deployed: no function or state "
        "machine has an http event, so there is no REST API (Serverless makes no key or usage "
        "plan either)",
    )


def test_a_shared_rest_api_leaves_keys_undeployed(tmp_path: Path) -> None:
    service = load(tmp_path, "    restApiId: abc123\n    apiKeys: [{name: k, value: short}]\n")
    assert problems(service) == []
    assert (
        "serverless.yml:7:14: provider.apiGateway.apiKeys not deployed: they belong to the shared "
        "REST API of restApiId, which the toolkit does not deploy to yet"
    ) in service.warnings


def test_the_legacy_provider_api_keys_are_not_read_as_in_serverless_v3(tmp_path: Path) -> None:
    service = load(tmp_path, "    usagePlan: {}\n", extra="  apiKeys: [k1]\n")
    assert problems(service) == []
    assert service.warnings == (
        "serverless.yml:5:12: unknown key 'apiKeys' in provider: Serverless does not know it "
        "either (ignored; it belongs in provider.apiGateway.apiKeys: Serverless v3 deploys no "
        "key from provider.apiKeys)",
    )
    assert service.api is not None and service.api.api_keys.keys == ()


def test_two_keys_of_one_value_are_refused(tmp_path: Path) -> None:
    service = load(
        tmp_path,
        f"    apiKeys:\n      - {{name: a, value: {VALUE}}}\n      - {{name: b, value: {VALUE}}}\n",
    )
    assert problems(service) == [
        "serverless.yml:8:9: API keys 'a' and 'b' have the same value; API Gateway keeps key "
        "values unique in an account (ConflictException) (give each key its own value)"
    ]
