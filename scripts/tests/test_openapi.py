"""docs/openapi.yaml must describe what the gateway serves: a valid OpenAPI 3 document whose message
schemas list exactly the fields of the protobuf messages (their JSON names), the .proto being the one
source of truth for the bodies."""
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "clients" / "python" / "src"))

from prism_client._proto import explain_pb2, fleet_pb2, teacher_pb2  # noqa: E402

SPEC = yaml.safe_load((ROOT / "docs" / "openapi.yaml").read_text())
MESSAGES = {
    "ExplainRequest": explain_pb2.ExplainRequest, "ExplainReply": explain_pb2.ExplainReply,
    "ExplainTimings": explain_pb2.ExplainTimings, "Ranking": explain_pb2.Ranking,
    "ItemFacts": teacher_pb2.ItemFacts, "HealthReply": fleet_pb2.HealthReply, "ServiceHealth": fleet_pb2.ServiceHealth,
}


@pytest.mark.parametrize("name", sorted(MESSAGES))
def test_schema_fields_are_the_message_fields(name):
    fields = {f.json_name for f in MESSAGES[name].DESCRIPTOR.fields}
    assert set(SPEC["components"]["schemas"][name]["properties"]) == fields


def test_grounding_enum_matches_the_proto():
    values = [v.name for v in explain_pb2.DESCRIPTOR.enum_types_by_name["Grounding"].values]
    assert SPEC["components"]["schemas"]["ExplainReply"]["properties"]["grounding"]["enum"] == values


def test_every_reference_resolves_and_the_routes_are_the_gateways():
    def refs(node):
        if isinstance(node, dict):
            for k, v in node.items():
                if k == "$ref":
                    yield v
                else:
                    yield from refs(v)
        elif isinstance(node, list):
            for v in node:
                yield from refs(v)
    for ref in refs(SPEC):
        target = SPEC
        for part in ref.lstrip("#/").split("/"):
            target = target[part]
    assert set(SPEC["paths"]) == {"/v1/explain", "/v1/services/{service}:call", "/v1/health", "/metrics"}
    assert SPEC["openapi"].startswith("3.")
