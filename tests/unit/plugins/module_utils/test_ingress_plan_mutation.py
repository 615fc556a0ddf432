"""ingress/plan.py's node decisions, the JSON patches written out by hand (issue 18).

The operations are RFC 6902 JSON patches against the Node as the API server stores
it; keys with "/" are escaped per RFC 6901 ("/" -> "~1", "~" -> "~0").
"""

from __future__ import annotations

from ansible_collections.ackops.runbooks.plugins.module_utils.ingress import plan

LABEL_PATH = "/metadata/labels/node-role.kubernetes.io~1ingress"
ANNOTATION_PATH = "/metadata/annotations/ingress-ha.ackops.io~1dedicated-taint"
TAINT = {"key": "node-role.kubernetes.io/ingress", "value": "true", "effect": "NoSchedule"}
OTHER_TAINT = {"key": "gpu", "value": "yes", "effect": "NoSchedule"}


def bare(name="w1"):
    """A Node as some API servers return it: no labels, annotations or spec at all."""
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name}}


def test_rfc6901_escaping_of_label_keys():
    assert plan._pointer("a~b/c") == "a~0b~1c"
    assert plan._pointer("plain") == "plain"


def test_a_bare_node_gets_whole_maps_not_keys_inside_missing_ones():
    got = plan.plan_node(bare(), wanted=True, prune=False, dedicate=True)
    assert got["node"] == "w1"
    assert got["actions"] == ["label", "taint"]
    assert got["operations"] == [
        {
            "op": "add",
            "path": "/metadata/labels",
            "value": {"node-role.kubernetes.io/ingress": "true"},
        },
        {
            "op": "add",
            "path": "/metadata/annotations",
            "value": {"ingress-ha.ackops.io/dedicated-taint": "true"},
        },
        {"op": "add", "path": "/spec/taints", "value": [TAINT]},
    ]
    assert got["before"] == {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": "w1", "labels": {}, "annotations": {}},
        "spec": {"taints": []},
    }
    assert got["after"]["metadata"]["labels"] == {"node-role.kubernetes.io/ingress": "true"}
    assert got["after"]["spec"]["taints"] == [TAINT]


def test_a_labelled_node_gets_one_key_added_to_each_map():
    node = bare()
    node["metadata"]["labels"] = {"team": "edge"}
    node["metadata"]["annotations"] = {"owner": "ops"}
    node["spec"] = {"taints": [OTHER_TAINT]}
    got = plan.plan_node(node, wanted=True, prune=False, dedicate=True)
    assert got["operations"] == [
        {"op": "add", "path": LABEL_PATH, "value": "true"},
        {"op": "add", "path": ANNOTATION_PATH, "value": "true"},
        {"op": "add", "path": "/spec/taints", "value": [OTHER_TAINT, TAINT]},
    ]
    # Only the annotation this runbook owns is part of its view of the node.
    assert got["before"]["metadata"]["annotations"] == {}


def test_pruning_removes_label_annotation_and_the_only_taint():
    node = bare()
    node["metadata"]["labels"] = {"node-role.kubernetes.io/ingress": "true", "team": "edge"}
    node["metadata"]["annotations"] = {"ingress-ha.ackops.io/dedicated-taint": "true"}
    node["spec"] = {"taints": [TAINT]}
    got = plan.plan_node(node, wanted=False, prune=True, dedicate=True)
    assert got["actions"] == ["unlabel", "untaint"]
    assert got["operations"] == [
        {"op": "remove", "path": LABEL_PATH},
        {"op": "remove", "path": ANNOTATION_PATH},
        {"op": "remove", "path": "/spec/taints"},
    ]
    assert got["after"]["metadata"]["labels"] == {"team": "edge"}


def test_untainting_keeps_a_taint_someone_else_put_there():
    node = bare()
    node["metadata"]["labels"] = {"node-role.kubernetes.io/ingress": "true"}
    node["metadata"]["annotations"] = {"ingress-ha.ackops.io/dedicated-taint": "true"}
    node["spec"] = {"taints": [OTHER_TAINT, TAINT]}
    got = plan.plan_node(node, wanted=True, prune=False, dedicate=False)
    assert got["actions"] == ["untaint"]
    assert got["operations"] == [
        {"op": "remove", "path": ANNOTATION_PATH},
        {"op": "add", "path": "/spec/taints", "value": [OTHER_TAINT]},
    ]


def test_a_dedication_taint_without_our_annotation_is_never_removed():
    node = bare()
    node["metadata"]["labels"] = {"node-role.kubernetes.io/ingress": "true"}
    node["spec"] = {"taints": [TAINT]}
    assert plan.plan_node(node, wanted=True, prune=True, dedicate=False) is None


def test_a_node_that_is_right_already_needs_nothing():
    node = bare()
    node["metadata"]["labels"] = {"node-role.kubernetes.io/ingress": "true"}
    assert plan.plan_node(node, wanted=True, prune=True, dedicate=False) is None
    assert plan.plan_node(bare(), wanted=False, prune=True, dedicate=True) is None


def test_without_prune_an_unwanted_ingress_node_keeps_its_label():
    node = bare()
    node["metadata"]["labels"] = {"node-role.kubernetes.io/ingress": "true"}
    assert plan.plan_node(node, wanted=False, prune=False, dedicate=False) is None


def test_the_label_must_say_true():
    node = bare()
    node["metadata"]["labels"] = {"node-role.kubernetes.io/ingress": "false"}
    assert plan.has_ingress_label(node) is False
    got = plan.plan_node(node, wanted=True, prune=False, dedicate=False)
    assert got["operations"] == [{"op": "add", "path": LABEL_PATH, "value": "true"}]
    assert plan.has_ingress_label({}) is False
