"""Schema-driven fuzzing of every published operation (schemathesis strategies, valid and
invalid inputs): the API never answers 5xx and every error carries a stable code."""
from __future__ import annotations

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from lianzheng.notary.api.app import create_app
from lianzheng.notary.services.keys import create_key
from lianzheng.notary.settings import Settings


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    app = create_app(Settings(data_dir=tmp_path_factory.mktemp("fuzz") / "data", rate_limit=100_000))
    with TestClient(app, raise_server_exceptions=False) as client:
        client.writer = {"Authorization": f"Bearer {create_key(client.app.state.notary.store, 'fuzzer')}"}
        spec = client.get("/openapi.json").json()
        client.operations = [r.ok() for r in schemathesis.openapi.from_dict(spec).get_all_operations()]
        yield client


def _check(client, case) -> None:
    kwargs = {"params": case.query or None, "headers": {**(case.headers or {}), **client.writer}}
    body = case.body
    if isinstance(body, (bytes, bytearray)):
        kwargs["content"] = bytes(body)
        kwargs["headers"]["Content-Type"] = case.media_type or "application/json"
    elif type(body).__name__ != "NotSet":
        kwargs["json"] = body
    response = client.request(case.method, case.formatted_path, **kwargs)
    assert response.status_code < 500, (case.method, case.formatted_path, response.status_code, response.text[:300])
    if response.status_code >= 400:
        body = response.json()
        assert isinstance(body.get("code"), str) and body.get("message"), body


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_operation_answers_5xx(served, mode):
    assert len(served.operations) >= 9
    fuzzed = 0
    for operation in served.operations:
        # Tender writes are chain transactions (and notary events): fewer examples keep this fast.
        examples = 12 if operation.path.startswith("/v1/tender") and operation.method.upper() == "POST" else 40

        @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        @given(case=operation.as_strategy(generation_mode=mode))
        def run(case):
            _check(served, case)

        try:
            run()
            fuzzed += 1
        except Unsatisfiable:  # an operation without inputs has no invalid ones
            assert mode is GenerationMode.NEGATIVE
    assert fuzzed >= 6
