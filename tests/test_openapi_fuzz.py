"""The OpenAPI document against the real running API.

schemathesis generates requests for every operation from ``/api/v1/openapi.json``,
both valid ones and ones that break the schema (negative mode), sends them to a
real node holding the sample network, writes included (with the admin token),
and checks that no answer is a 500 and that every answer has a documented
status, media type and schema. Bounded: a few examples per operation.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from p2pnet import openapi
from p2pnet.node import api

from .test_api import LiveNode

EXAMPLES = 25
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory):
    node = LiveNode(tmp_path_factory.mktemp("fuzz"))
    yield node
    node.close()


# Generated from the same document the node serves (a test below checks they are equal).
SCHEMA = schemathesis.openapi.from_dict(openapi.document())
OPERATIONS = sorted((op["path"], op["method"]) for op in openapi.OPERATIONS.values())


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
@pytest.mark.parametrize(("path", "method"), OPERATIONS)
def test_api_answers_every_request_as_documented(fuzzed, path, method, mode):
    op = next(o for o in openapi.OPERATIONS.values() if (o["path"], o["method"]) == (path, method))
    if mode == GenerationMode.NEGATIVE and not (
        op["params"] or op.get("path_param") or op.get("body")
    ):
        pytest.skip("no input to break")
    headers = {"Authorization": f"Bearer {fuzzed.token}"}
    strategy = SCHEMA[path][method.upper()].as_strategy(generation_mode=mode)

    @settings(
        max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    @given(strategy)
    def run(case):
        case.call_and_validate(base_url=fuzzed.url, headers=headers, checks=CHECKS)

    run()


def test_every_route_is_documented_and_every_operation_served():
    documented = {(op["method"], op["path"]) for op in openapi.OPERATIONS.values()}
    served = {(method, path) for _, method, path in api.ROUTES}
    assert documented == served


def test_document_is_openapi_3_1(fuzzed):
    doc = fuzzed.json("/api/v1/openapi.json")
    assert doc == openapi.document()
    assert doc["openapi"] == "3.1.0"
    for path, item in doc["paths"].items():
        for method, op in item.items():
            assert op["responses"], (method, path)
            for status, response in op["responses"].items():
                if status.startswith(("4", "5")):
                    assert "application/problem+json" in response["content"], (method, path, status)
    codes = set(openapi.PROBLEM_CODES)
    assert {
        "not-found",
        "bad-parameter",
        "bad-cursor",
        "bad-date",
        "bad-query",
        "unauthenticated",
    } <= codes
