"""The planning plugins' documentation parses as written and says what the code returns.

A flow mapping with a comma in a description (``{description: a, b, type: str}``)
is valid YAML that silently means something else: the documented keys are
compared with what the filters really return.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest
import yaml

from ansible_collections.ackops.runbooks.plugins.filter.master_spec import master_spec_filter
from ansible_collections.ackops.runbooks.plugins.filter.max_nodes import max_nodes_filter

REPO = Path(__file__).resolve().parents[4]
PLUGINS = [
    "filter/cidr_conflicts",
    "filter/free_cidrs",
    "filter/master_spec",
    "filter/max_nodes",
    "filter/worker_plan",
    "modules/cluster_plan_info",
]


def docs(plugin: str) -> dict:
    module = importlib.import_module(
        "ansible_collections.ackops.runbooks.plugins." + plugin.replace("/", ".")
    )
    return {
        name: yaml.safe_load(getattr(module, name))
        for name in ("DOCUMENTATION", "EXAMPLES", "RETURN")
    }


def documented_keys(node: dict) -> set[str]:
    return set(node["contains"])


def every_description_is_text(node, path=""):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "description":
                items = value if isinstance(value, list) else [value]
                assert all(isinstance(i, str) for i in items), f"{path}: {value!r}"
            else:
                every_description_is_text(value, f"{path}.{key}")


@pytest.mark.parametrize("plugin", PLUGINS)
def test_docs_parse_and_every_description_is_a_string(plugin):
    parsed = docs(plugin)
    every_description_is_text(parsed["DOCUMENTATION"])
    every_description_is_text(parsed["RETURN"])


def test_max_nodes_return_doc_lists_exactly_what_it_returns():
    value = docs("filter/max_nodes")["RETURN"]["_value"]
    result = max_nodes_filter("172.20.0.0/16", pods_per_node=128)
    assert documented_keys(value) == set(result)
    assert documented_keys(value["contains"]["node_block"]) == set(result["node_block"])


def test_master_spec_return_doc_lists_exactly_what_it_returns():
    value = docs("filter/master_spec")["RETURN"]["_value"]
    assert documented_keys(value) == set(master_spec_filter(120))


def test_no_flow_mapping_description_holds_a_bare_comma():
    for plugin in PLUGINS:
        text = (REPO / "plugins" / f"{plugin}.py").read_text()
        for match in re.finditer(r"\{description: ([^\"}][^}]*)\}", text):
            description = match.group(1).rsplit(", type:", 1)[0]
            assert "," not in description, f"{plugin}: {match.group(0)}"
