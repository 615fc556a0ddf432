"""storage/schema.py's readers, each rule against its source (issue 18 kill tests).

Names: RFC 1123 as the API server checks them (a label at most 63 characters, a
subdomain at most 253, lowercase alphanumerics and '-', '.' between labels). Label
values: at most 63, alphanumeric at both ends. Quantities: the Kubernetes suffixes,
binary (Ki = 2**10 ... Ei = 2**60) and decimal (k = 10**3 ... E = 10**18).
"""

from __future__ import annotations

import pytest

from ansible_collections.ackops.runbooks.plugins.module_utils.storage import schema
from ansible_collections.ackops.runbooks.plugins.module_utils.storage.schema import (
    Item,
    Size,
    StorageInputError,
)

KEYS = ("name", "count", "mode", "list", "map", "size", "flag", "secret", "items")


def item(path="things[0]", secret_keys=(), **raw):
    return Item(raw, path, "thing t", KEYS, secret_keys=secret_keys)


def failure(call) -> StorageInputError:
    with pytest.raises(StorageInputError) as info:
        call()
    return info.value


def test_show_cuts_long_values_at_80_characters():
    assert schema.show("a" * 78) == repr("a" * 78)  # 80 with the quotes: whole
    assert schema.show("a" * 79) == repr("a" * 79)[:77] + "..."
    assert len(schema.show("a" * 200)) == 80


def test_one_of_joins_with_comma_and_space():
    assert schema.one_of([1, "b"]) == "1, b"


def test_an_item_that_is_no_dict_names_its_path_and_keys():
    error = failure(lambda: Item(["x"], "things[0]", "thing t", ("a", "b")))
    assert (error.obj, error.field) == ("thing t", "things[0]")
    assert error.cause == "must be a dict, got list; allowed: a dict with keys among a, b"
    assert error.details == {"allowed": ["a", "b"]}


def test_an_unknown_key_is_named_with_its_path_or_alone_at_the_top():
    error = failure(lambda: Item({"zz": 1}, "things[0]", "thing t", ("a",)))
    assert (error.field, error.cause) == ("things[0].zz", "unknown key 'zz'; allowed: the keys a")
    assert error.details == {"allowed": ["a"]}
    error = failure(lambda: Item({"zz": 1}, "", "plan", ("a",)))
    assert error.field == "zz"
    assert Item({}, "", "plan", ("a",)).field("a") == "a"


def test_error_type_and_details():
    error = StorageInputError("c", obj="o", field="f", allowed=["x"])
    assert (error.error_type, error.details) == ("input", {"allowed": ["x"]})
    assert StorageInputError("c", obj="o", field="f").details == {}


def test_text_accepts_numbers_strips_and_refuses_the_rest():
    assert item(name=" web ").text("name") == "web"
    assert item(count=3).text("count") == "3"
    assert item(count=1.5).text("count") == "1.5"
    assert item().text("name", default="d") == "d"
    error = failure(lambda: item(flag=True).text("flag", what="a word"))
    assert (error.field, error.cause) == (
        "things[0].flag",
        "must be a string, got bool; allowed: a word",
    )
    error = failure(lambda: item(list=["a"]).text("list"))
    assert error.cause == "must be a string, got list; allowed: text"
    error = failure(lambda: item(name="  ").text("name"))
    assert error.cause == "must not be empty; allowed: a non-empty string"
    error = failure(lambda: item(name="").text("name", what="a name"))
    assert error.cause == "must not be empty; allowed: a name"


def test_text_required_names_the_choices_or_what():
    error = failure(lambda: item().text("mode", required=True, choices=("a", "b")))
    assert (error.field, error.cause, error.details) == (
        "things[0].mode",
        "is required; allowed: a, b",
        {"allowed": ["a", "b"]},
    )
    error = failure(lambda: item().text("mode", required=True, what="a mode"))
    assert (error.cause, error.details) == ("is required; allowed: a mode", {})
    error = failure(lambda: item().text("mode", required=True))
    assert error.cause == "is required; allowed: a non-empty string"


def test_text_choices_and_patterns_hide_secret_values():
    error = failure(lambda: item(mode="c").text("mode", choices=("a", "b")))
    assert (error.cause, error.details) == (
        "'c' is not allowed; allowed: a, b",
        {"allowed": ["a", "b"]},
    )
    error = failure(
        lambda: item(secret_keys=("secret",), secret="LTAI-x").text("secret", choices=("a",))
    )
    assert error.cause == "<hidden> is not allowed; allowed: a"
    error = failure(
        lambda: item(secret_keys=("secret",), secret="LTAI-x").text(
            "secret", pattern=schema.DNS_LABEL, what="a name"
        )
    )
    assert error.cause == "<hidden> is not valid; allowed: a name"
    error = failure(lambda: item(name="A").text("name", pattern=schema.DNS_LABEL, what="a name"))
    assert error.cause == "'A' is not valid; allowed: a name"


@pytest.mark.parametrize(
    ("value", "label", "subdomain"),
    [
        ("a", True, True),
        ("a-1", True, True),
        ("a" * 63, True, True),
        ("a" * 64, False, True),
        ("a.b", False, True),
        ("-a", False, False),
        ("a-", False, False),
        ("A", False, False),
        ("a_b", False, False),
        ("a..b", False, False),
        (".".join(["a" * 63] * 4)[:253], False, True),
        (".".join(["a" * 63] * 4)[:252] + "aa", False, False),  # 254 characters
    ],
)
def test_names_follow_rfc_1123(value, label, subdomain):
    assert bool(schema.DNS_LABEL.match(value)) is label
    assert bool(schema.DNS_SUBDOMAIN.match(value)) is subdomain
    for as_subdomain, valid in ((False, label), (True, subdomain)):
        reader = item(name=value)
        if valid:
            assert reader.name(subdomain=as_subdomain) == value
        else:
            error = failure(lambda reader=reader, s=as_subdomain: reader.name(subdomain=s))
            assert error.field == "things[0].name"


def test_name_messages_say_which_rule():
    error = failure(lambda: item(name="A").name())
    assert error.cause == (
        "'A' is not valid; allowed: a DNS label (lowercase letters, digits and '-', at most 63, "
        "alphanumeric at both ends)"
    )
    error = failure(lambda: item(name="A").name(subdomain=True))
    assert error.cause == (
        "'A' is not valid; allowed: a DNS subdomain name (lowercase letters, digits, '-' and "
        "'.', at most 253)"
    )
    assert item().name(required=False) is None
    assert failure(lambda: item().name()).cause.startswith("is required; allowed: a DNS label")


@pytest.mark.parametrize(
    ("value", "expected"),
    [(True, True), (False, False), ("true", True), (" Yes ", True), ("FALSE", False),
     ("no", False), (None, "default")],
)  # fmt: skip
def test_flags(value, expected):
    raw = {} if value is None else {"flag": value}
    assert Item(raw, "p", "o", KEYS).flag("flag", default="default") == expected


@pytest.mark.parametrize("value", ["on", 1, "t", ["true"]])
def test_a_flag_that_is_no_boolean_is_refused(value):
    error = failure(lambda: item(flag=value).flag("flag"))
    assert (error.field, error.cause) == (
        "things[0].flag",
        f"{schema.show(value)} is not a boolean; allowed: true, false",
    )


def test_integers_from_numbers_and_strings_within_bounds():
    assert item(count=5).integer("count") == 5
    assert item(count=" -5 ").integer("count") == -5
    assert item(count="7").integer("count", minimum=7, maximum=7) == 7
    assert item().integer("count", default=3) == 3
    for bad in (True, "5.0", 5.0, "x"):
        error = failure(lambda bad=bad: item(count=bad).integer("count", minimum=1))
        assert error.cause == (
            f"{schema.show(bad)} is not a whole number; allowed: a whole number of at least 1"
        )
    error = failure(lambda: item(count=0).integer("count", minimum=1, maximum=9))
    assert error.cause == "0 is out of range; allowed: a whole number from 1 to 9"
    error = failure(lambda: item(count=10).integer("count", minimum=1, maximum=9))
    assert error.cause == "10 is out of range; allowed: a whole number from 1 to 9"
    error = failure(lambda: item(count=10).integer("count", maximum=9))
    assert error.cause == "10 is out of range; allowed: a whole number of at most 9"
    error = failure(lambda: item().integer("count", required=True))
    assert (error.field, error.cause) == ("things[0].count", "is required; allowed: a whole number")
    assert item(count=-3).integer("count") == -3


def test_strings_a_single_string_is_a_list_of_one():
    assert item(list="a").strings("list") == ["a"]
    assert item(list=["a", 2, " b "]).strings("list") == ["a", "2", "b"]
    assert item().strings("list", default=["d"]) == ["d"]
    assert item().strings("list") == []
    error = failure(lambda: item(list={"a": 1}).strings("list"))
    assert (error.field, error.cause) == (
        "things[0].list",
        "must be a list, got dict; allowed: a list of strings",
    )
    error = failure(lambda: item(list=["a", True]).strings("list"))
    assert (error.field, error.cause) == (
        "things[0].list[1]",
        "must be a string, got bool; allowed: a string",
    )
    error = failure(lambda: item(list=["a", " "]).strings("list"))
    assert (error.field, error.cause) == (
        "things[0].list[1]",
        "must not be empty; allowed: a non-empty string",
    )
    error = failure(lambda: item(list=[]).strings("list", required=True))
    assert (error.field, error.cause) == (
        "things[0].list",
        "must not be empty; allowed: a non-empty list of strings",
    )
    error = failure(lambda: item().strings("list", required=True))
    assert error.cause == "is required; allowed: a non-empty list of strings"


def test_mappings_sorted_as_text_and_labels_checked():
    assert item(map={"b": 2, "a": "x"}).mapping("map") == {"a": "x", "b": "2"}
    assert list(item(map={"b": 1, "a": 1}).mapping("map")) == ["a", "b"]
    assert item().mapping("map") == {}
    error = failure(lambda: item(map=["a"]).mapping("map"))
    assert error.cause == "must be a dict, got list; allowed: a dict of string to string"
    error = failure(lambda: item(map={"a": None}).mapping("map"))
    assert (error.field, error.cause) == (
        "things[0].map.a",
        "must be a string, got NoneType; allowed: a string",
    )
    # Not labels: any text goes; labels: the API server's rules.
    assert item(map={"a b": "c d"}).mapping("map") == {"a b": "c d"}
    assert item(map={"example.com/tier": "a_b.c-1"}).mapping("map", labels=True)
    for bad in ({"a b": "c"}, {"a": "c d"}, {"a": "x" * 64}, {"a": "-x"}, {"Example.com/a": "b"}):
        error = failure(lambda bad=bad: item(map=bad).mapping("map", labels=True))
        (key,) = bad
        assert error.field == f"things[0].map.{key}"
        assert error.cause == (
            f"{schema.show(key)}: {schema.show(bad[key])} is not a valid label; allowed: keys "
            "[prefix/]name and values of at most 63 letters, digits, '-', '_' and '.'"
        )
    assert item(map={"a": ""}).mapping("map", labels=True) == {"a": ""}
    assert item(map={"a": "x" * 63}).mapping("map", labels=True)


def test_items_are_a_list():
    assert item(items=({"a": 1},)).items("items") == [{"a": 1}]
    assert item().items("items") == []
    error = failure(lambda: item(items={"a": 1}).items("items"))
    assert error.cause == "must be a list, got dict; allowed: a list of dicts"


def test_size_reader_required_and_refused():
    assert item(size=5).size("size").quantity == "5Gi"
    assert item().size("size", required=False) is None
    error = failure(lambda: item().size("size"))
    assert (error.field, error.cause) == ("things[0].size", f"is required; allowed: {Size.WHAT}")
    error = failure(lambda: item(size="5GB").size("size"))
    assert error.cause == f"'5GB' is not a size; allowed: {Size.WHAT}"


@pytest.mark.parametrize(
    ("value", "quantity", "size_bytes"),
    [
        (1, "1Gi", 2**30),
        (" 7 ", "7Gi", 7 * 2**30),
        ("3Ki", "3Ki", 3 * 2**10),
        ("3Mi", "3Mi", 3 * 2**20),
        ("3Ti", "3Ti", 3 * 2**40),
        ("3Pi", "3Pi", 3 * 2**50),
        ("3Ei", "3Ei", 3 * 2**60),
        ("3k", "3k", 3 * 10**3),
        ("3M", "3M", 3 * 10**6),
        ("3G", "3G", 3 * 10**9),
        ("3T", "3T", 3 * 10**12),
        ("3P", "3P", 3 * 10**15),
        ("3E", "3E", 3 * 10**18),
    ],
)
def test_quantities_as_kubernetes_counts_them(value, quantity, size_bytes):
    size = Size.parse(value)
    assert (size.quantity, size.bytes) == (quantity, size_bytes)
    assert repr(size) == f"Size({quantity})"


def test_gib_rounds_up_as_the_disk_driver_does():
    assert Size.parse("1024Mi").gib == 1
    assert Size.parse("1025Mi").gib == 2
    assert Size.parse("1Ki").gib == 1
    assert Size.parse("3Ti").gib == 3072


def test_every_refusal_names_the_key_it_read():
    cases = [
        (lambda: item(count="x").integer("count", maximum=9), "things[0].count",
         "'x' is not a whole number; allowed: a whole number of at most 9"),
        (lambda: item(items="x").items("items"), "things[0].items", None),
        (lambda: item(map="x").mapping("map"), "things[0].map", None),
        (lambda: item(name="").text("name"), "things[0].name", None),
    ]  # fmt: skip
    for call, field, cause in cases:
        error = failure(call)
        assert error.field == field
        if cause:
            assert error.cause == cause


def test_a_required_integer_says_its_bounds():
    error = failure(lambda: item().integer("count", required=True, minimum=1, maximum=65535))
    assert error.cause == "is required; allowed: a whole number from 1 to 65535"


def test_mapping_keys_of_mixed_types_are_sorted_as_text():
    assert item(map={10: "a", "b": "c", 2: "d"}).mapping("map") == {"10": "a", "2": "d", "b": "c"}
