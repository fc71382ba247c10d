from __future__ import annotations

import pytest

from tooling.names import QueueAddress, parse_queue_url, partition_for

ACCOUNT = "123456789012"


@pytest.mark.parametrize(
    ("url", "on_aws", "arn"),
    [
        (f"https://sqs.eu-west-1.amazonaws.com/{ACCOUNT}/jobs", True, "eu-west-1"),
        (f"https://sqs-fips.us-gov-west-1.amazonaws.com/{ACCOUNT}/jobs", True, "us-gov-west-1"),
        (f"https://sqs.eu-west-1.api.aws/{ACCOUNT}/jobs", True, "eu-west-1"),
        (f"https://sqs.cn-north-1.amazonaws.com.cn/{ACCOUNT}/jobs", True, "cn-north-1"),
        (f"https://ap-south-1.queue.amazonaws.com/{ACCOUNT}/jobs", True, "ap-south-1"),
        (f"https://queue.amazonaws.com/{ACCOUNT}/jobs", True, "us-east-1"),
        (
            f"http://sqs.eu-west-1.localhost.localstack.cloud:4566/{ACCOUNT}/jobs",
            False,
            "eu-west-1",
        ),
        (f"http://localhost:4566/{ACCOUNT}/jobs", False, "sa-east-1"),
        (f"http://127.0.0.1:4566/queue/eu-west-1/{ACCOUNT}/jobs", False, "eu-west-1"),
    ],
)
def test_queue_urls_name_their_queue(url: str, on_aws: bool, arn: str) -> None:
    address = parse_queue_url(url)
    assert address is not None and address.on_aws is on_aws
    region = arn
    expected = f"arn:{partition_for(region)}:sqs:{region}:{ACCOUNT}:jobs"
    assert address.arn("sa-east-1") == expected  # sa-east-1: used only when the URL has none


def test_a_host_that_is_no_sqs_endpoint_is_not_a_queue_url() -> None:
    assert parse_queue_url(f"https://example.com/{ACCOUNT}/jobs") is None
    assert parse_queue_url("not a url") is None


def test_a_known_host_without_account_and_name_names_no_queue() -> None:
    address = parse_queue_url("https://sqs.eu-west-1.amazonaws.com/jobs")
    assert address == QueueAddress(True, "eu-west-1", None, None)
    assert address.arn("eu-west-1") is None
