"""The HTML reports: rendered by the one writer, checked in headless Chromium.

The pages come from the runbooks themselves (plan-cluster and audit-workloads
run offline; the certificate report from k8s_cert_info on a kubeadm-shaped PKI
tree and the renew_certs role's own report entry point), so the rows and the
table specs are the ones the runbooks write. Each page is loaded in Debian's
chromium, its rows, colours, sorting and filtering are checked through real
clicks and typing, and a screenshot is kept under build/test-artifacts/.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ansible_collections.ackops.runbooks.plugins.filter.report_merge import report_merge
from ansible_collections.ackops.runbooks.plugins.module_utils.common.report import (
    ReportWriteError,
    html_counts,
    make_fragment,
    merge_fragments,
    render_html,
    render_markdown_tables,
    write_report,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.pki.cert_report import build_report
from tests.html_browser import Browser, column, tables
from tests.unit.kubeadm_pki_factory import build_host

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
EVIL = "<script>window.__pwned = 1</script>"

# Background colours of the page's rows, by level (the page's CSS).
COLOURS = {
    "ok": "rgb(227, 244, 230)",
    "warning": "rgb(255, 241, 199)",
    "critical": "rgb(251, 213, 210)",
    "expired": "rgb(143, 29, 29)",
}


def spec(rows, **table):
    return {
        "title": f"Expiry {EVIL}",
        "facts": {f"owner {EVIL}": EVIL},
        "tables": [
            {
                "title": "Certificates",
                "rows": rows,
                "severity": "status",
                "columns": [
                    {"key": "host", "label": "Host"},
                    {"key": "name", "label": "Name"},
                    {"key": "days_left", "label": "Days left", "warning": 30, "critical": 7},
                    {"key": "status", "label": "Status"},
                ],
                **table,
            }
        ],
    }


ROWS = [
    {"host": "m1", "name": EVIL, "days_left": 200, "status": "ok"},
    {"host": "m1", "name": "apiserver", "days_left": 3, "status": "ok"},  # threshold: critical
    {"host": "w1", "name": "kubelet", "days_left": 20, "status": "ok"},  # threshold: warning
    {"host": "w2", "name": "old", "days_left": -4, "status": "expired"},
]


# ---------------------------------------------------------------- the writer, no browser


def test_every_value_is_escaped_and_nothing_is_loaded_from_outside():
    page = render_html(spec(ROWS), "certs")
    assert "<script>window.__pwned" not in page
    assert (
        page.count("&lt;script&gt;window.__pwned = 1&lt;/script&gt;") == 5
    )  # title and h1, fact label and value, cell
    # No external asset: no src/href at all, and the CSP allows only the inline
    # style and script by their hashes.
    assert not re.search(r"\b(src|href)\s*=", page)
    assert "http://" not in page
    assert "https://" not in page
    csp = re.search(r'Content-Security-Policy" content="([^"]+)"', page).group(1)
    for tag in ("style", "script"):
        body = re.search(rf"<{tag}>(.*?)</{tag}>", page, re.S).group(1)
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        assert f"sha256-{digest}" in csp, tag
    assert "default-src &#x27;none&#x27;" in csp


def test_levels_come_from_the_row_and_the_thresholds_the_worse_wins():
    assert html_counts(spec(ROWS)) == {"ok": 1, "warning": 1, "critical": 1, "expired": 1}
    # An "above" threshold (a count that is bad when high) and a table's own words.
    table = {
        "rows": [{"n": 1, "phase": "Bound"}, {"n": 5, "phase": "Pending"}, {"n": 50, "phase": "x"}],
        "severity": "phase",
        "levels": {"bound": "ok", "pending": "warning"},
        "columns": [{"key": "n", "warning": 3, "critical": 10, "worse": "above"}, "phase"],
    }
    assert html_counts(table) == {"ok": 1, "warning": 1, "critical": 1}


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ({"tables": []}, "html.tables"),
        ({"columns": [], "rows": []}, "html.tables[0].columns"),
        ({"columns": [{"label": "x"}], "rows": []}, "html.tables[0].columns[0]"),
        ({"columns": ["password"], "rows": []}, "html.tables[0].columns[0].key"),
        ({"columns": [{"key": "x", "label": "Access key"}], "rows": []}, "columns[0].key"),
        ({"columns": [{"key": "d", "warning": "soon"}], "rows": []}, "columns[0].warning"),
        ({"columns": [{"key": "d", "worse": "sideways"}], "rows": []}, "columns[0].worse"),
        ({"columns": ["a"], "rows": ["not a mapping"]}, "html.tables[0].rows"),
        ({"columns": ["a"], "rows": [], "levels": {"x": "purple"}}, "levels"),
    ],
)
def test_bad_specs_are_refused_naming_the_field(bad, field):
    with pytest.raises(ReportWriteError) as caught:
        render_html(bad)
    assert field in caught.value.field


def test_key_material_in_a_value_is_redacted():
    pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----"
    rows = [{"host": "m1", "name": pem, "days_left": 100, "status": "ok"}]
    page = render_html(spec(rows))
    assert "PRIVATE KEY" not in page
    assert "MIIEow" not in page
    assert "[redacted]" in page


def test_credential_named_facts_and_cell_keys_are_redacted():
    rows = [
        {
            "host": "m1",
            "name": {"POSTGRES_PASSWORD": "s3cr3t", "POSTGRES_DB": "shop"},
            "days_left": 100,
            "status": "ok",
        }
    ]
    page_spec = spec(rows)
    page_spec["facts"] = {"DB password": "hunter2", "Admin token": {"x": 1}, "Owner": "ops"}
    page = render_html(page_spec)
    for secret in ("s3cr3t", "hunter2", "x=1"):
        assert secret not in page, secret
    assert "POSTGRES_PASSWORD=[redacted], POSTGRES_DB=shop" in page
    assert "<li><b>DB password:</b> [redacted]</li>" in page
    assert "<li><b>Admin token:</b> [redacted]</li>" in page
    assert "<li><b>Owner:</b> ops</li>" in page
    markdown = render_markdown_tables(page_spec)
    assert "hunter2" not in markdown
    assert "s3cr3t" not in markdown
    assert "- DB password: [redacted]" in markdown


def test_a_fragment_stores_its_rows_redacted():
    pem = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQ\n-----END EC PRIVATE KEY-----"
    rows = [
        {
            "host": "m1",
            "name": "db",
            "days_left": 9,
            "status": "ok",
            "env": {"API_TOKEN": "tok-123", "LEVEL": "debug"},
            "secret": "plain-secret",
            "key": pem,
        }
    ]
    fragment = make_fragment("r", ["m1"], {"rows": 1}, spec(rows))
    stored = json.dumps(fragment)
    for secret in ("tok-123", "plain-secret", "MHcCAQ"):
        assert secret not in stored, secret
    assert fragment["html"]["tables"][0]["rows"] == [
        {
            "host": "m1",
            "name": "db",
            "days_left": 9,
            "status": "ok",
            "env": {"API_TOKEN": "[redacted]", "LEVEL": "debug"},
            "secret": "[redacted]",
            "key": "[redacted]",
        }
    ]
    # The spec given is left as it was (the runbook's own variable).
    assert rows[0]["secret"] == "plain-secret"


def test_written_with_the_other_files_and_unchanged_the_second_time(tmp_path):
    first = write_report(str(tmp_path), "certs", {"a": 1}, "# c", html=spec(ROWS))
    assert (tmp_path / "certs.html").read_text() == render_html(spec(ROWS), "certs")
    assert first["html_path"] == str(tmp_path / "certs.html")
    assert first["counts"]["expired"] == 1
    again = write_report(str(tmp_path), "certs", {"a": 1}, "# c", html=spec(ROWS))
    assert again["changed"] is False
    assert again["written"] == []
    with pytest.raises(ReportWriteError, match="html"):
        write_report(str(tmp_path), "x", {}, "", html=spec(ROWS), extra_files={"html": "<p>"})


def test_rows_from_named_groups():
    from ansible.errors import AnsibleFilterError

    from ansible_collections.ackops.runbooks.plugins.filter.report_rows import report_rows

    services = {
        "web": {"kind": "Deployment", "entries": [{"key": "ports", "status": "converted"}]},
        "db": {
            "kind": "StatefulSet",
            "entries": [
                {"key": "volumes", "status": "converted_with_loss"},
                {"key": "kind", "status": "not_convertible"},  # the entry's own field wins
            ],
        },
        "idle": {"kind": "Deployment", "entries": []},
    }
    rows = report_rows(services, items="entries", key="service", parent=["kind"])
    assert rows == [
        {"service": "db", "kind": "StatefulSet", "key": "volumes", "status": "converted_with_loss"},
        {"service": "db", "kind": "StatefulSet", "key": "kind", "status": "not_convertible"},
        {"service": "web", "kind": "Deployment", "key": "ports", "status": "converted"},
    ]
    assert report_rows({"h1": [{"a": 1}]}) == [{"name": "h1", "a": 1}]
    with pytest.raises(AnsibleFilterError, match=r"web\.entries is not a list of mappings"):
        report_rows({"web": {"entries": ["ports"]}}, items="entries")


# ---------------------------------------------------------------- fragments


def _cert_results(host: str, days: list[int]) -> dict:
    import datetime as dt

    now = dt.datetime(2026, 12, 4, tzinfo=dt.UTC)
    return {
        "certificates": [
            {
                "id": f"leaf:{n}",
                "name": f"cert-{n}",
                "kind": "leaf",
                "not_after": (now + dt.timedelta(days=d)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "key_matches": n != 1,
            }
            for n, d in enumerate(days)
        ]
    }


def test_cert_fragments_merge_to_the_single_run_report():
    import datetime as dt

    now = dt.datetime(2026, 12, 4, 12, tzinfo=dt.UTC)
    fleet = {"m1": [400, 5], "w1": [25, 300], "w2": [-2], "w3": [100, 100, 8]}
    single = build_report({h: _cert_results(h, d) for h, d in fleet.items()}, 30, 7, now=now)
    slices = [["m1", "w3"], ["w1"], ["w2"]]
    fragments = [
        make_fragment(
            "renew-certs",
            hosts,
            build_report({h: _cert_results(h, fleet[h]) for h in hosts}, 30, 7, now=now),
        )
        for hosts in slices
    ]
    merged = report_merge(list(reversed(fragments)))
    assert merged["covered_hosts"] == sorted(fleet)
    assert merged["data"] == single


def test_fragments_refuse_a_host_twice_and_disagreeing_values():
    a = make_fragment("r", ["h1", "h2"], {"rows": [{"host": "h1"}], "limit": 7})
    b = make_fragment("r", ["h2"], {"rows": [{"host": "h2"}], "limit": 7})
    with pytest.raises(ReportWriteError, match="h2 is covered by fragments"):
        merge_fragments([a, b])
    c = make_fragment("r", ["h3"], {"rows": [{"host": "h3"}], "limit": "seven"})
    with pytest.raises(ReportWriteError) as caught:
        merge_fragments([a, c])
    assert caught.value.field == "data.limit"
    other = make_fragment("s", ["h4"], {})
    with pytest.raises(ReportWriteError, match="not of 'r'"):
        merge_fragments([a, other])
    merged = merge_fragments(
        [a, make_fragment("r", ["h5"], {"rows": [{"host": "h5"}], "limit": 7})]
    )
    assert merged["data"] == {"rows": [{"host": "h1"}, {"host": "h5"}], "limit": 7}


# ---------------------------------------------------------------- in Chromium


# A play on this machine, with the Python running the tests (the host's modules too).
ON_LOCALHOST = (
    "-i",
    "localhost,",
    "-c",
    "local",
    "-e",
    f"ansible_python_interpreter={sys.executable}",
)


def run_playbook(tmp_path: Path, playbook, *args: str) -> subprocess.CompletedProcess:
    env = dict(
        os.environ,
        PATH=f"{BIN}:{os.environ['PATH']}",
        ACKOPS_REPORT_DIR=str(tmp_path / "reports"),
        ANSIBLE_NOCOLOR="1",
    )
    return subprocess.run(
        [str(BIN / "ansible-playbook"), str(playbook), *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture(scope="module")
def browser():
    page = Browser()
    yield page
    page.close()


def test_different_numbers_are_an_error_unless_declared_additive():
    a = make_fragment("r", ["h1"], {"failed": 2, "min_days_left": 10})
    b = make_fragment("r", ["h2"], {"failed": 2, "min_days_left": 40})
    sources = ["reports/r.fragment-a.json", "reports/r.fragment-b.json"]
    with pytest.raises(ReportWriteError) as caught:
        merge_fragments([a, b], sources=sources)
    assert caught.value.field == "data.min_days_left"
    assert "reports/r.fragment-a.json: 10; reports/r.fragment-b.json: 40" in str(caught.value)
    # A declared-additive count is summed, also when the slices' counts are equal.
    a = make_fragment(
        "r", ["h1"], {"summary": {"failed": 2}, "limit": 7}, additive=["summary.failed"]
    )
    b = make_fragment(
        "r", ["h2"], {"summary": {"failed": 2}, "limit": 7}, additive=["summary.failed"]
    )
    c = make_fragment(
        "r", ["h3"], {"summary": {"failed": 5}, "limit": 7}, additive=["summary.failed"]
    )
    assert merge_fragments([a, b, c])["data"] == {"summary": {"failed": 9}, "limit": 7}
    # Additive is the report's declaration: fragments declaring differently are refused.
    d = make_fragment("r", ["h4"], {"summary": {"failed": 1}, "limit": 7})
    with pytest.raises(ReportWriteError, match="different additive keys"):
        merge_fragments([a, d])
    # HTML facts follow the same rule.
    page = {"columns": ["host"], "rows": [], "facts": {"Hosts": 1, "Limit": 7}}
    e = make_fragment("r", ["h5"], {}, page, additive=["html.facts.Hosts"])
    f = make_fragment("r", ["h6"], {}, page, additive=["html.facts.Hosts"])
    assert merge_fragments([e, f])["html"]["facts"] == {"Hosts": 2, "Limit": 7}
    g = make_fragment("r", ["h7"], {}, {**page, "facts": {"Hosts": 1, "Limit": 8}})
    with pytest.raises(ReportWriteError) as caught:
        merge_fragments([make_fragment("r", ["h5"], {}, page), g])
    assert caught.value.field == "html.facts.Limit"


def test_cert_fragments_of_different_thresholds_are_refused():
    import datetime as dt

    from ansible.errors import AnsibleFilterError

    now = dt.datetime(2026, 12, 4, 12, tzinfo=dt.UTC)
    a = make_fragment(
        "renew-certs", ["m1"], build_report({"m1": _cert_results("m1", [20])}, 30, 7, now=now)
    )
    b = make_fragment(
        "renew-certs", ["w1"], build_report({"w1": _cert_results("w1", [20])}, 14, 3, now=now)
    )
    with pytest.raises(AnsibleFilterError, match=r"data\.thresholds\.(warning|critical)_days"):
        report_merge([a, b], sources=["a.json", "b.json"])


def test_missing_hosts_are_recorded_and_the_critical_counted():
    import datetime as dt

    now = dt.datetime(2026, 12, 4, 12, tzinfo=dt.UTC)
    fleet = {"m1": [400, 5], "w1": [25, 300], "w2": [-2]}
    fragments = [
        make_fragment(
            "renew-certs", [h], build_report({h: _cert_results(h, fleet[h])}, 30, 7, now=now)
        )
        for h in ("m1", "w1")
    ]
    merged = report_merge(fragments, expected_hosts=["w2", "m1", "w1", "m2"])
    assert merged["expected_hosts"] == ["m1", "m2", "w1", "w2"]
    assert merged["missing_hosts"] == ["m2", "w2"]
    assert merged["data"]["missing_hosts"] == ["m2", "w2"]
    assert merged["markdown"].endswith(
        "\n\n## Missing: no slice reported these hosts\n\n- m2\n- w2\n"
    )
    # m1's certificate at 5 days is critical, nothing has expired (w2 never reported).
    assert merged["severity"] == {"critical": 1, "expired": 0}
    whole = report_merge(fragments, expected_hosts=["m1", "w1"])
    assert whole["missing_hosts"] == []
    assert "Missing" not in whole["markdown"]
    # Without a certificate summary the page's rows give the counts.
    rows = [
        {"host": "a", "days_left": 2, "status": "ok"},
        {"host": "b", "days_left": -1, "status": "expired"},
    ]
    other = report_merge([make_fragment("r", ["a", "b"], {}, spec(rows))])
    assert other["severity"] == {"critical": 1, "expired": 1}


def test_fragments_of_another_run_are_refused_by_file():
    a = make_fragment("r", ["h1"], {}, run_id=812)
    b = make_fragment("r", ["h2"], {}, run_id="812")
    stale = make_fragment("r", ["h3"], {}, run_id="790")
    files = ["r.fragment-1.json", "r.fragment-2.json", "r.fragment-3.json"]
    assert a["fragment"]["run_id"] == "812"
    with pytest.raises(ReportWriteError) as caught:
        merge_fragments([a, b, stale], sources=files)
    assert caught.value.obj == "r.fragment-3.json"
    assert "r.fragment-3.json is a fragment of run 790, not of run 812" in str(caught.value)
    # An explicit run id wins over the majority.
    with pytest.raises(ReportWriteError) as caught:
        merge_fragments([a, b, stale], sources=files, run_id="790")
    assert "r.fragment-1.json is a fragment of run 812" in str(caught.value)
    # No run id on either side (a run outside AWX without ackops_report_run_id).
    none = make_fragment("r", ["h4"], {}, run_id="")
    assert none["fragment"]["run_id"] is None
    with pytest.raises(ReportWriteError, match=r"r.fragment-4.json is a fragment of run \(none\)"):
        merge_fragments([a, b, none], sources=[*files[:2], "r.fragment-4.json"])
    assert merge_fragments([a, b])["covered_hosts"] == ["h1", "h2"]


def test_report_write_module_writes_the_fragment(tmp_path):
    from ansible_collections.ackops.runbooks.plugins.module_utils.common.errors import Changes
    from ansible_collections.ackops.runbooks.plugins.modules.report_write import write

    rows = [{"host": "m1", "name": "x", "days_left": 3, "status": "ok", "token": "t-1"}]
    params = {
        "dir": str(tmp_path),
        "name": "certs",
        "data": {"n": 1},
        "markdown": "# certs",
        "extra_files": {},
        "html": spec(rows),
        "fragment_hosts": ["w1", "m1"],
        "fragment_run_id": "77",
        "fragment_additive": ["n"],
    }
    result = write(params, False, False, Changes())
    digest = hashlib.sha256(b"m1\nw1").hexdigest()[:12]
    assert result["name"] == f"certs.fragment-{digest}"
    written = json.loads((tmp_path / f"certs.fragment-{digest}.json").read_text())
    assert written == {
        "fragment": {
            "report": "certs",
            "covered_hosts": ["m1", "w1"],
            "run_id": "77",
            "additive": ["data.n"],
        },
        "data": {"n": 1},
        "html": {
            **spec(rows),
            "tables": [{**spec(rows)["tables"][0], "rows": [{**rows[0], "token": "[redacted]"}]}],
        },
    }
    assert (tmp_path / f"certs.fragment-{digest}.html").is_file()
    assert not (tmp_path / "certs.json").exists()
    plain = write({**params, "fragment_hosts": None}, False, False, Changes())
    assert plain["name"] == "certs"
    assert json.loads((tmp_path / "certs.json").read_text()) == {"n": 1}


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    """The four kinds of page, written by the runbooks (offline) and the writer."""
    tmp = tmp_path_factory.mktemp("html")
    reports = tmp / "reports"
    out = {}

    # A table with a script in every place a value goes.
    write_report(str(reports), "escaping", {}, "", html=spec(ROWS))
    out["escaping"] = reports / "escaping.html"

    inventory = tmp / "plan.yml"
    network = {
        "vpc_cidr": "192.168.0.0/16",
        "vswitches": ["192.168.0.0/24"],
        "clusters": [
            {"name": "alpha", "pod_cidr": "172.20.0.0/16", "service_cidr": "172.21.0.0/20"},
            {"name": EVIL, "pod_cidr": "172.20.0.0/16", "service_cidr": "172.22.0.0/20"},
            {"name": "gamma", "pod_cidr": "172.30.0.0/20", "service_cidr": "172.23.0.0/20"},
        ],
    }
    inventory.write_text(
        yaml.safe_dump({"all": {"vars": {"plan_cluster_network": network}}}, width=1000)
    )
    plan = run_playbook(
        tmp, "plan-cluster.yml", "-i", str(inventory), "-e", "plan_cluster_fail_on_conflict=false"
    )
    assert plan.returncode == 0, plan.stdout[-3000:]
    out["plan"] = reports / "plan-cluster.html"

    audit = run_playbook(
        tmp,
        "audit-workloads.yml",
        "-e",
        "audit_workloads_manifest_dir=examples/workloads",
        "-e",
        "audit_workloads_fail_on=none",
    )
    assert audit.returncode == 0, audit.stdout[-3000:]
    out["audit"] = reports / "audit-workloads.html"

    host = build_host(tmp / "pki", leaf_overrides={"apiserver": 4, "front-proxy-client": 20})
    play = tmp / "certs.yml"
    play.write_text(
        yaml.safe_dump(
            [
                {
                    "name": "The certificate report of one kubeadm host",
                    "hosts": "localhost",
                    "gather_facts": False,
                    "tasks": [
                        {
                            "name": "Read the certificates",
                            "ackops.runbooks.k8s_cert_info": {
                                "pki_dir": host.pki_dir,
                                "kubeconfig_dir": host.kubeconfig_dir,
                                "kubelet_pki_dir": host.kubelet_pki_dir,
                            },
                            "register": "renew_certs_inventory",
                        },
                        {
                            "name": "The runbook's report",
                            "ansible.builtin.include_role": {
                                "name": "ackops.runbooks.renew_certs",
                                "tasks_from": "report",
                            },
                            "vars": {
                                "renew_certs_report_name": "renew-certs",
                                "renew_certs_fail_on_critical": False,
                            },
                        },
                    ],
                }
            ]
        )
    )
    certs = run_playbook(tmp, play, *ON_LOCALHOST)
    assert certs.returncode == 0, certs.stdout[-3000:]
    out["certs"] = reports / "renew-certs.html"
    out["certs_play"] = play
    out["certs_json"] = reports / "renew-certs.json"
    out["audit_json"] = reports / "audit-workloads.json"
    return out


def test_a_script_in_a_value_is_text_not_code(browser, pages):
    browser.open(pages["escaping"])
    assert browser.js("typeof window.__pwned") == "undefined"
    assert browser.js("document.title") == f"Expiry {EVIL}"
    (table,) = tables(browser)
    assert EVIL in column(table, "Name")
    browser.screenshot("escaping")


def test_certificate_page_rows_colours_sorting_filter(browser, pages):
    report = json.loads(pages["certs_json"].read_text())
    browser.open(pages["certs"])
    (table,) = tables(browser)
    assert len(table["rows"]) == len(report["certificates"]) >= 16
    # Soonest first, as the report's rows are.
    assert column(table, "Certificate") == [c["name"] for c in report["certificates"]]
    by_name = {r["cells"][1]: r for r in table["rows"]}
    assert by_name["apiserver"]["severity"] == "critical"
    assert by_name["apiserver"]["background"] == COLOURS["critical"]
    assert by_name["front-proxy-client"]["background"] == COLOURS["warning"]
    assert by_name["ca"]["background"] == COLOURS["ok"]
    # The days-left cell of the critical row is outlined (its threshold).
    assert "sev-critical" in browser.js(
        "Array.from(document.querySelectorAll('tbody tr')).find(r => r.cells[1].textContent"
        " === 'apiserver').cells[4].className"
    )
    # Click "Days left" twice: descending, the CAs (ten years) first.
    browser.click("th[data-key='days_left']")
    browser.click("th[data-key='days_left']")
    days = [int(d) for d in column(tables(browser)[0], "Days left")]
    assert days == sorted(days, reverse=True)
    assert days[0] > 3000
    browser.type_into("#filter", "severity:critical")
    (shown,) = tables(browser)
    assert column(shown, "Certificate") == ["apiserver"]
    assert browser.js("document.getElementById('shown').textContent") == (
        f"1 of {len(report['certificates'])} rows shown"
    )
    browser.type_into("#filter", "")
    browser.screenshot("renew-certs")


def test_plan_page(browser, pages):
    browser.open(pages["plan"])
    conflicts, capacity = tables(browser)
    assert conflicts["rows"], conflicts
    assert all(r["background"] == COLOURS["critical"] for r in conflicts["rows"])
    assert any(EVIL in c for r in conflicts["rows"] for c in r["cells"])
    assert sorted(column(capacity, "Cluster")) == sorted(["alpha", EVIL, "gamma"])
    browser.click("table.report[data-table='1'] th[data-key='max_nodes']")
    nodes = [int(n) for n in column(tables(browser)[1], "Max nodes")]
    assert nodes == sorted(nodes)
    browser.type_into("#filter", "gamma")
    assert column(tables(browser)[1], "Cluster") == ["gamma"]
    assert column(tables(browser)[0], "Type") == []  # no conflict names gamma
    browser.type_into("#filter", "")
    assert browser.js("typeof window.__pwned") == "undefined"
    browser.screenshot("plan-cluster")


def test_audit_page(browser, pages):
    findings = json.loads(pages["audit_json"].read_text())
    browser.open(pages["audit"])
    (table,) = tables(browser)
    assert len(table["rows"]) > 10
    severities = column(table, "Severity")
    assert set(severities) == {"danger", "warning"}
    for row in table["rows"]:
        level = "critical" if row["cells"][0] == "danger" else "warning"
        assert row["background"] == COLOURS[level], row
    # Every audited object of the report shows up by name.
    names = set(column(table, "Name"))
    assert {r["Name"] for r in findings["Results"]} >= names
    browser.type_into("#filter", "severity:warning")
    assert set(column(tables(browser)[0], "Severity")) == {"warning"}
    browser.type_into("#filter", "")
    browser.screenshot("audit-workloads")


def test_fragment_written_by_the_role_merges_back_to_the_report(pages, tmp_path):
    """The same run as a slice (ackops_report_fragment), then report-merge.yml: the same report.

    The page's certificates have 4 days left (critical): the merge writes the
    fleet report, then fails with a one-line reason unless told not to; a host
    the merge expects and no fragment covered fails it, the fragments kept.
    """
    fragment = run_playbook(
        tmp_path,
        pages["certs_play"],
        *ON_LOCALHOST,
        "-e",
        "ackops_report_fragment=true",
        "-e",
        "ackops_report_run_id=nightly-7",
    )
    assert fragment.returncode == 0, fragment.stdout[-3000:]
    reports = tmp_path / "reports"
    digest = hashlib.sha256(b"localhost").hexdigest()[:12]
    written = json.loads((reports / f"renew-certs.fragment-{digest}.json").read_text())
    assert written["fragment"] == {
        "report": "renew-certs",
        "covered_hosts": ["localhost"],
        "run_id": "nightly-7",
        "additive": [],
    }
    assert written["html"]["tables"][0]["rows"] == written["data"]["certificates"]
    assert not (reports / "renew-certs.json").exists()

    def merge(*extra):
        return run_playbook(
            tmp_path,
            "report-merge.yml",
            *ON_LOCALHOST,
            "-e",
            "report_merge_name=renew-certs",
            *extra,
        )

    # An inventory without masters or workers, no expected host: refused before merging.
    alone = merge()
    assert alone.returncode != 0
    assert "report_merge_expected_hosts: no host expected" in " ".join(alone.stdout.split())

    partial = merge("-e", '{"report_merge_expected_hosts": ["localhost", "m9"]}')
    assert partial.returncode != 0
    text = " ".join(partial.stdout.split())
    assert "1 of 2 expected hosts have no fragment (a slice failed or did not run): m9" in text
    assert json.loads((reports / "renew-certs.json").read_text())["missing_hosts"] == ["m9"]
    assert list(reports.glob("renew-certs.fragment-*.json"))  # kept for a re-run

    gated = merge(
        "-e",
        '{"report_merge_expected_hosts": ["localhost"]}',
        "-e",
        "report_merge_run_id=nightly-6",
    )
    assert gated.returncode != 0
    assert (
        f"renew-certs.fragment-{digest}.json is a fragment of run nightly-7, not of run nightly-6"
        in " ".join(gated.stdout.split())
    )

    gated = merge("-e", '{"report_merge_expected_hosts": ["localhost"]}')
    assert gated.returncode != 0
    single = json.loads(pages["certs_json"].read_text())
    soonest = single["certificates"][0]
    reason = (
        f"0 expired and {single['summary']['critical']} critical certificates (under 7 days), "
        f"soonest localhost {soonest['name']} in {soonest['days_left']} days"
    )
    assert single["summary"]["critical"] > 0
    assert f"msg: {reason}" in " ".join(gated.stdout.split()), gated.stdout[-3000:]
    assert not list(reports.glob("renew-certs.fragment-*"))  # the merge was whole

    # The same again, the gate off: the fleet report equals the single run's.
    run_playbook(tmp_path, pages["certs_play"], *ON_LOCALHOST, "-e", "ackops_report_fragment=true")
    ok = merge(
        "-e",
        '{"report_merge_expected_hosts": ["localhost"]}',
        "-e",
        "report_merge_fail_on_critical=false",
    )
    assert ok.returncode == 0, ok.stdout[-3000:]
    assert not list(reports.glob("renew-certs.fragment-*"))
    merged = json.loads((reports / "renew-certs.json").read_text())
    for key in ("certificates", "summary", "thresholds", "markdown", "unreachable"):
        assert merged[key] == single[key], key
    assert merged["missing_hosts"] == []
    assert (reports / "renew-certs.html").read_text() == pages["certs"].read_text()

    again = merge("-e", '{"report_merge_expected_hosts": ["localhost"]}')
    assert again.returncode != 0
    assert "report_merge_name: no fragment renew-certs.fragment-*.json" in " ".join(
        again.stdout.split()
    )
