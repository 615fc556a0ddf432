"""Mutation testing of the finished core module_utils with mutmut 3 (`make mutation`).

mutmut names a mutant after the dotted path of its file relative to the directory it
runs in, and its trampolines only switch a mutant on when that name equals the
function's ``__module__``. Our tests import the plugins as
``ansible_collections.ackops.runbooks.plugins...`` through the symlinked
``collections/`` tree, so each group runs in a scratch directory holding a REAL
(copied, not symlinked) ``ansible_collections/ackops/runbooks/plugins`` tree and a copy
of ``tests/``: mutmut puts its ``mutants/`` copy of that directory first on sys.path,
the names match, and the repository itself is never touched.

Groups run one after another (each mutates its modules and runs only their unit
tests); the score per module and every surviving mutant (with its diff) are printed.

    .venv/bin/python bench/mutation.py                 # every group
    .venv/bin/python bench/mutation.py audit ingress_plan
    MUTATION_CHILDREN=2 MUTATION_WORKDIR=/tmp/x ...     # defaults shown in --help
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PKG = Path("ansible_collections/ackops/runbooks/plugins")
MU = PKG / "module_utils"
UNIT = "tests/unit/plugins/module_utils"

# group -> (files to mutate, relative to module_utils; test files that exercise them).
# One group per module (or per small set of modules sharing one set of tests), each
# mapped to ITS OWN unit tests only, so a group's run is short and can be repeated alone
# (`make mutation MUTATION_ARGS="audit"`). Test entries may be globs: kill tests added
# later (test_<module>_mutation.py / _oracle.py) are picked up without editing this table.
PLANNING_TESTS = [
    f"{UNIT}/test_plan_network.py",
    f"{UNIT}/test_mutants_planning.py",
    f"{UNIT}/test_cluster_plan*.py",
    f"{UNIT}/test_planning_*_mutation.py",
    "tests/unit/plugins/modules/test_plan_bad_inputs.py",
]
AUDIT_TESTS = [
    f"{UNIT}/test_workload_audit*.py",
    f"{UNIT}/test_workload_sources*.py",
    f"{UNIT}/test_workload_report*.py",
    f"{UNIT}/test_audit_*.py",
]
GROUPS: dict[str, tuple[list[str], list[str]]] = {
    "cidr_plan": (
        ["planning/cidr_plan.py"],
        [
            f"{UNIT}/test_cidr_plan.py",
            f"{UNIT}/test_plan_network.py",
            "tests/unit/plugins/filter/test_planning_filters.py",
            "tests/unit/plugins/filter/test_plan_docs.py",
            "tests/unit/plugins/modules/test_plan_bad_inputs.py",
            f"{UNIT}/test_prop_cidr.py",
            f"{UNIT}/test_mutants_planning.py",
        ],
    ),
    "cluster_plan": (["planning/cluster_plan.py"], PLANNING_TESTS),
    "ack_export": (["planning/ack_export.py"], PLANNING_TESTS),
    "terway": (["planning/terway.py"], PLANNING_TESTS),
    "cluster_sizing": (
        ["planning/cluster_sizing.py"],
        [
            f"{UNIT}/test_cluster_sizing*.py",
            "tests/unit/plugins/filter/test_planning_filters.py",
            *PLANNING_TESTS,
        ],
    ),
    "ingress_plan": (
        ["ingress/plan.py"],
        [
            f"{UNIT}/test_ingress_ha.py",
            # The converger drives plan.py's decisions on the fake API: they are its tests too.
            f"{UNIT}/test_ingress_converge.py",
            f"{UNIT}/test_prop_ingress.py",
            f"{UNIT}/test_mutants_ingress.py",
            f"{UNIT}/test_ingress_*_mutation.py",
        ],
    ),
    "ingress_converge": (
        ["ingress/converge.py"],
        [
            f"{UNIT}/test_ingress_converge.py",
            f"{UNIT}/test_mutants_ingress.py",
            f"{UNIT}/test_ingress_*_mutation.py",
        ],
    ),
    "ack_version": (
        ["ingress/ack_version.py"],
        [
            f"{UNIT}/test_ingress_ha.py",
            f"{UNIT}/test_prop_ingress.py",
            f"{UNIT}/test_mutants_ingress.py",
        ],
    ),
    "release_split": (
        ["release/split.py"],
        [
            f"{UNIT}/test_release_split.py",
            f"{UNIT}/test_prop_release.py",
            f"{UNIT}/test_mutants_release.py",
            "tests/unit/plugins/filter/test_release_filters.py",
        ],
    ),
    "release": (
        [
            "release/__init__.py",
            "release/ack.py",
            "release/dialect.py",
            "release/gateway.py",
            "release/policy.py",
            "release/translate.py",
            "release/upstream.py",
        ],
        [
            f"{UNIT}/test_release_translate.py",
            f"{UNIT}/test_release_ack.py",
            "tests/unit/plugins/filter/test_release_filters.py",
            f"{UNIT}/test_mutants_release.py",
            f"{UNIT}/test_release_*_mutation.py",
            "tests/unit/plugins/modules/test_release_helpers.py",
        ],
    ),
    "storage": (
        ["storage/*.py"],
        [
            f"{UNIT}/test_storage_*.py",
            "tests/unit/plugins/modules/test_storage_*.py",
            "tests/unit/plugins/filter/test_storage_filters.py",
            f"{UNIT}/test_mutants_storage.py",
        ],
    ),
    "audit": (["audit/*.py"], AUDIT_TESTS),
    # The audit's modules one by one, for complete runs that fit: the "audit" group
    # above mutates all three against every audit test, and each workload_audit.py
    # mutant then re-ran test_no_field_of_any_example_can_crash_the_audit (27 s, every
    # field of every example replaced by bad values), which made a complete run of its
    # 2271 mutants take ~17 h. workload_audit leaves that one test out (DESELECT); its
    # survivors are then re-checked against it by naming them in a run of the "audit"
    # group (`--mutants`, see bench/mutation-results.txt, session 6).
    "workload_audit": (["audit/workload_audit.py"], AUDIT_TESTS),
    "workload_report": (["audit/workload_report.py"], AUDIT_TESTS),
    "workload_sources": (["audit/workload_sources.py"], AUDIT_TESTS),
    # The label selector semantics the audit and ingress-ha share (NotIn/Exists...).
    "selectors": (
        ["k8s/selectors.py"],
        [
            f"{UNIT}/test_k8s_selectors*.py",
            f"{UNIT}/test_prop_ingress.py",
            f"{UNIT}/test_workload_audit.py",
        ],
    ),
    # renew.py's decisions (plan_renewal, preflight, renew, renew_host) are reached by
    # these tests only (mutmut's stats: 53 tests; test_renew_jobs.py never reaches
    # renew.py, test_pki_modules.py's end-to-end test runs ansible-playbook and takes
    # 14 s). They build kubeadm hosts: the KEY_POOL plugin below takes them from ~140 s
    # to ~10 s together, which is what makes a complete run of renew.py fit.
    "pki_renew": (
        ["pki/renew.py"],  # renew_jobs.py: group renew_jobs below
        [
            f"{UNIT}/test_pki.py",
            f"{UNIT}/test_pki_kubeadm_rules.py",
            f"{UNIT}/test_pki_renew*mutation*.py",
            "tests/unit/plugins/modules/test_renew_failure.py",
            "tests/unit/plugins/modules/test_pki_renew_options.py",
        ],
    ),
    # renew_jobs.py on its own: its unit tests only (none of the certificate-building
    # tests, none of which imports renew_jobs).
    "renew_jobs": (
        ["pki/renew_jobs.py"],
        [f"{UNIT}/test_renew_jobs.py", f"{UNIT}/test_renew_jobs_mutation.py"],
    ),
    # run_job (Job + ConfigMap, wait, failed pods, always delete) on the fake API.
    "k8s_jobs": (
        ["k8s/jobs.py"],
        [
            f"{UNIT}/test_k8s_jobs.py",
            f"{UNIT}/test_k8s_jobs_mutation.py",
            "tests/unit/plugins/modules/test_k8s_job_run.py",
        ],
    ),
    "cert_report": (
        ["pki/cert_report.py"],
        ["tests/unit/plugins/filter/test_cert_report.py", f"{UNIT}/test_mutants_cert_report.py"],
    ),
}

# Every group's pytest runs load PLUGIN (written to the work directory as
# mutation_plugin.py). It changes no test and no verdict, only how soon one comes:
# * each mutant's tests run fastest first (their durations from mutmut's own stats
#   run), so a killed mutant stops (-x) at the cheapest test that kills it, not at
#   whichever one the set order put first;
# * in KEY_POOL_GROUPS, whose tests build certificates, RSA arithmetic is where the
#   time goes (a 2048-bit key takes ~40 ms to make and ~30 ms to load, cryptography
#   checks it on every load): keys are handed out from a pool made once, and a PEM
#   key already loaded is not checked again. pki_renew's tests: ~140 s -> ~10 s.
KEY_POOL_GROUPS = {"pki_renew"}
# Tests left out of a group's selection (pytest --deselect node ids), with why above.
DESELECT = {
    "workload_audit": [
        "tests/unit/plugins/module_utils/test_audit_bad_inputs.py"
        "::test_no_field_of_any_example_can_crash_the_audit"
    ],
}
KEY_POOL_SIZES = {2048: 80, 3072: 8}
PLUGIN = r'''"""pytest plugin for bench/mutation.py's runs (written by it; not a test).

Test order: the tests selected for a mutant run fastest first, by the durations
mutmut measured (mutmut-stats.json in the directory the tests run in).

Keys (only when ACKOPS_MUTATION_KEY_POOL names a pool file): rsa.generate_private_key
hands out real, distinct keys from that pool (each test starts at the same place in
it, after the keys taken while importing, so no two keys handed out within one test
are the same; past the pool, or for a size not in it, real generation);
serialization.load_pem_private_key remembers what it loaded by the PEM bytes (the
same bytes give an equal, immutable key; failures are not remembered).
The tests' inputs and assertions and the code under test are unchanged.
"""

import json
import os

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

_generate = rsa.generate_private_key
_load = serialization.load_pem_private_key
_pool = {}
_loaded = {}
_next = {}
_start = {}


def pytest_collection_modifyitems(session, config, items):
    try:
        with open("mutmut-stats.json") as handle:
            durations = json.load(handle).get("duration_by_test", {})
    except (OSError, ValueError):
        return
    items.sort(key=lambda item: durations.get(item.nodeid, 0.0))


def _remember(key):
    for fmt in (serialization.PrivateFormat.TraditionalOpenSSL, serialization.PrivateFormat.PKCS8):
        pem = key.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption())
        _loaded[(pem.strip(), None)] = key


def make_pool(path, sizes):
    keys = [_generate(public_exponent=65537, key_size=size)
            for size, count in sizes.items() for _ in range(count)]
    pems = [k.private_bytes(serialization.Encoding.PEM,
                            serialization.PrivateFormat.TraditionalOpenSSL,
                            serialization.NoEncryption()).strip() for k in keys]
    with open(path + ".tmp", "wb") as handle:
        handle.write(b"\n\n".join(pems) + b"\n")
    os.replace(path + ".tmp", path)


def generate_private_key(public_exponent, key_size, *args, **kwargs):
    pool = _pool.get(key_size, [])
    at = _next.get(key_size, 0)
    if public_exponent == 65537 and at < len(pool):
        _next[key_size] = at + 1
        return pool[at]
    return _generate(public_exponent, key_size, *args, **kwargs)


def load_pem_private_key(data, password, *args, **kwargs):
    if args or kwargs:
        return _load(data, password, *args, **kwargs)
    cache_key = (bytes(data).strip(), password)
    if cache_key not in _loaded:
        _loaded[cache_key] = _load(data, password)
    return _loaded[cache_key]


_file = os.environ.get("ACKOPS_MUTATION_KEY_POOL", "")
if _file and os.path.exists(_file):
    with open(_file, "rb") as handle:
        for block in handle.read().split(b"\n\n"):
            if block.strip():
                key = _load(block, None, unsafe_skip_rsa_key_validation=True)
                _pool.setdefault(key.key_size, []).append(key)
                _remember(key)
    rsa.generate_private_key = generate_private_key
    serialization.load_pem_private_key = load_pem_private_key


def pytest_runtest_setup(item):
    if not _start:
        _start.update(_next, started=True)
    for size in _pool:
        _next[size] = _start.get(size, 0)
'''


KILLED = {1, 3}
SURVIVED = {0}
TIMEOUT = {36, -24, 24, 152, 255}
NO_TESTS = {5, 33}


def _ignore(_dir: str, names: list[str]) -> set[str]:
    return {n for n in names if n in ("__pycache__", ".pytest_cache") or n.endswith(".pyc")}


# Statements not mutated: `raise` statements only build the error (its message and
# class); the decision to raise is the `if` before it, which is mutated. Their
# "XX"-wrapped message mutants would survive every substring match and say nothing.
DO_NOT_MUTATE = [r"^\s*raise\b"]
# Tests written for this run; --baseline leaves them out to score the suite before them.
# Files and directories some tests read relative to the repository root.
EXTRAS = ("roles", "docs", "playbooks", "galaxy.yml", "meta", "examples", "lab")
NEW_TESTS = (
    "test_prop_*.py",
    "test_mutants_*.py",
    "test_*_mutation.py",
    "test_*_oracle.py",
    "test_cluster_plan.py",
)


def _in_group(file: str, patterns: list[str]) -> bool:
    return any(fnmatch.fnmatch(file, p) for p in patterns)


def prepare(group: str, workdir: Path, baseline: bool = False, only: str = "") -> Path:
    """A scratch copy: the plugins as a real collection tree, tests/, and a setup.cfg."""
    files, tests = GROUPS[group]
    if only:
        files = [f for f in only.split(",") if _in_group(f, files)]
    wd = workdir / group
    if wd.exists():
        shutil.rmtree(wd)
    wd.mkdir(parents=True)
    shutil.copytree(REPO / "plugins", wd / PKG, ignore=_ignore)
    shutil.copytree(REPO / "tests", wd / "tests", ignore=_ignore)
    if baseline:
        for pattern in NEW_TESTS:
            for path in (wd / "tests").rglob(pattern):
                path.unlink()
    # Files some tests read relative to the repository root.
    for extra in EXTRAS:
        src = REPO / extra
        if src.is_dir():
            shutil.copytree(src, wd / extra, ignore=_ignore, symlinks=True)
        elif src.is_file():
            shutil.copy2(src, wd / extra)
    # Tests that read plugin sources (their DOCUMENTATION) find them at plugins/.
    (wd / "plugins").symlink_to(PKG)
    (wd / "mutation_plugin.py").write_text(PLUGIN)
    if group in KEY_POOL_GROUPS:
        pool = workdir / "rsa-key-pool.pem"  # kept between runs: made once (~10 s)
        if not pool.exists():
            make = f"import mutation_plugin as m; m.make_pool({str(pool)!r}, {KEY_POOL_SIZES!r})"
            subprocess.run([sys.executable, "-c", make], cwd=wd, check=True)
    # Globs expand against the copy (so tests added since the table was written count).
    tests = sorted({str(p.relative_to(wd)) for t in tests for p in wd.glob(t)})
    patterns = [str(MU / f) for f in files]
    cfg = [
        "[mutmut]",
        f"source_paths = {PKG}",
        "only_mutate =",
        *(f"    {p}" for p in patterns),
        "do_not_mutate_patterns =",
        *(f"    {p}" for p in DO_NOT_MUTATE),
        "also_copy =",
        *(f"    {p}" for p in (*EXTRAS, "plugins", "mutation_plugin.py")),
        "pytest_add_cli_args_test_selection =",
        *(f"    {t}" for t in tests),
        *(f"    {a}" for t in DESELECT.get(group, []) for a in ("--deselect", t)),
        "pytest_add_cli_args =",
        # Tests that run ansible-playbook in a subprocess never see the mutants (and need
        # the installed collection): they cannot kill anything here.
        "    -k",
        "    not in_a_playbook",
        "    -p",
        "    no:cacheprovider",
        "    -p",
        "    no:randomly",
        "    -p",
        "    mutation_plugin",
        "",
    ]
    (wd / "setup.cfg").write_text("\n".join(cfg))
    return wd


def run_group(
    group: str, wd: Path, children: int, timeout: int, mutants: list[str] | None = None
) -> int:
    mutmut = Path(sys.executable).parent / "mutmut"
    env = dict(os.environ)
    # Nothing from the repository may shadow the mutated copy.
    env.pop("PYTHONPATH", None)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    # Property tests run fewer examples per mutant (they still run in full in `make unit`).
    env.setdefault("ACKOPS_HYPOTHESIS_EXAMPLES", "40")
    if group in KEY_POOL_GROUPS:
        env["ACKOPS_MUTATION_KEY_POOL"] = str(wd.parent / "rsa-key-pool.pem")
    start = time.monotonic()
    proc = subprocess.Popen(
        [str(mutmut), "run", "--max-children", str(children), *(mutants or [])],
        cwd=wd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        out, _ = proc.communicate(timeout=timeout)
        rc = proc.returncode
        tail = out.strip().splitlines()[-3:]
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 15)  # mutmut and its forked workers, nothing else
        proc.communicate()
        rc, tail = -1, [f"timed out after {timeout}s: partial results below"]
    print(f"-- mutmut run ({group}): rc={rc} in {time.monotonic() - start:.0f}s")
    for line in tail:
        # mutmut's progress lines are \r-separated spinners: keep the last frame.
        print("   ", line.split("\r")[-1][:200])
    return rc


def collect(
    group: str, wd: Path, only: set[str] = frozenset()
) -> dict[str, dict[str, int | list[str]]]:
    scores: dict[str, dict] = {}
    for meta in sorted((wd / "mutants" / MU).rglob("*.py.meta")):
        data = json.loads(meta.read_text())
        rel = str(meta.relative_to(wd / "mutants" / MU))[: -len(".meta")]
        codes = data["exit_code_by_key"]
        s = {"total": 0, "killed": 0, "survived": [], "timeout": 0, "no_tests": [], "other": []}
        for key, code in sorted(codes.items()):
            if only and not any(fnmatch.fnmatchcase(key, name) for name in only):
                continue
            s["total"] += 1
            if code in KILLED:
                s["killed"] += 1
            elif code in TIMEOUT:
                s["timeout"] += 1  # an infinite loop is caught: counted as killed
            elif code in SURVIVED:
                s["survived"].append(key)
            elif code in NO_TESTS:
                s["no_tests"].append(key)
            else:
                s["other"].append(f"{key} ({code})")
        if s["total"]:
            scores[rel] = s
    return scores


# Diffs of many mutants in one process: `mutmut show` re-parses the whole mutated module
# for every mutant (about a second each); this parses each module once.
_DIFFS = """
import json, sys
from difflib import unified_diff
import libcst as cst
from mutmut.mutation import diff_apply as d
out, modules = {}, {}
for key, path in json.load(sys.stdin):
    try:
        if path not in modules:
            modules[path] = d.read_mutants_module(path)
        funcs = (d.read_original_function(modules[path], key),
                 d.read_mutant_function(modules[path], key))
        a, b = (cst.Module([f]).code.strip().split("\\n") for f in funcs)
        out[key] = "\\n".join(unified_diff(a, b, lineterm=""))
    except Exception as exc:
        out[key] = f"(no diff: {exc})"
json.dump(out, sys.stdout)
"""


def show_diffs(wd: Path, keys: list[tuple[str, str]]) -> dict[str, str]:
    """{mutant: one-line diff} for (mutant, source path relative to wd) pairs."""
    if not keys:
        return {}
    proc = subprocess.run(
        [sys.executable, "-c", _DIFFS],
        cwd=wd,
        input=json.dumps(keys),
        capture_output=True,
        text=True,
        check=False,
    )
    try:
        diffs = json.loads(proc.stdout)
    except ValueError:
        diffs = {key: f"(no diff: {proc.stderr.strip()[-200:]})" for key, _ in keys}
    short = {}
    for key, diff in diffs.items():
        lines = [
            ln
            for ln in diff.splitlines()
            if ln.startswith(("+", "-")) and not ln.startswith(("+++", "---"))
        ]
        short[key] = (" | ".join(ln.strip() for ln in lines) or diff)[:300]
    return short


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument(
        "groups", nargs="*", help=f"any of {', '.join(GROUPS)} (default: all but audit)"
    )
    ap.add_argument(
        "--workdir", default=os.environ.get("MUTATION_WORKDIR", str(REPO / "build" / "mutation"))
    )
    ap.add_argument("--children", type=int, default=int(os.environ.get("MUTATION_CHILDREN", "2")))
    ap.add_argument(
        "--timeout",
        type=int,
        default=int(os.environ.get("MUTATION_TIMEOUT", "900")),
        help="seconds per group",
    )
    ap.add_argument("--no-diffs", action="store_true", help="list survivors without their diffs")
    ap.add_argument(
        "--baseline", action="store_true", help=f"without the tests named {' or '.join(NEW_TESTS)}"
    )
    ap.add_argument(
        "--files",
        default=os.environ.get("MUTATION_FILES", ""),
        help="comma-separated files under module_utils to mutate instead of the groups' "
        "(e.g. planning/cidr_plan.py,release/split.py); groups without one are skipped",
    )
    ap.add_argument(
        "--mutants",
        default="",
        help="comma-separated mutant names (as printed: audit.workload_audit.x_f__mutmut_3; "
        "fnmatch patterns allowed: 'audit.workload_audit.x_f__mutmut_*') or @FILE with one a "
        "line: run only those (re-check survivors against a wider group); the scores then "
        "count only them",
    )
    ap.add_argument("--min-score", type=float, default=0.0, help="fail below this %% in any module")
    args = ap.parse_args()
    workdir = Path(args.workdir)
    unknown = set(args.groups) - set(GROUPS)
    if unknown:
        ap.error(f"unknown group(s) {sorted(unknown)}; known: {', '.join(GROUPS)}")
    named = args.mutants
    if named.startswith("@"):
        named = ",".join(Path(named[1:]).read_text().split())
    prefix = ".".join(MU.parts) + "."
    mutants = [m if m.startswith(prefix) else prefix + m for m in named.split(",") if m]
    worst = 100.0
    # "audit" (all three audit modules against every audit test) is what the three
    # workload_* groups split; it runs only when named (re-checks, --mutants).
    for group in args.groups or [g for g in GROUPS if g != "audit"]:
        if args.files and not any(_in_group(f, GROUPS[group][0]) for f in args.files.split(",")):
            continue
        wd = prepare(group, workdir, args.baseline, args.files)
        rc = run_group(group, wd, args.children, args.timeout, mutants)
        scores = collect(group, wd, set(mutants))
        if rc not in (0, -1):  # mutmut could not start (e.g. a test fails unmutated)
            print(f"== {group}: mutmut failed (rc={rc}), see its output above")
            worst = 0.0
            continue
        print(f"== {group}" + (" (baseline: without the new tests)" if args.baseline else ""))
        if not scores:
            print("   no mutants recorded (see the mutmut output above)")
            worst = 0.0
        for mod, s in scores.items():
            caught = s["killed"] + s["timeout"]
            pct = 100.0 * caught / s["total"]
            worst = min(worst, pct)
            print(
                f"   {mod:32} {pct:6.1f}% killed  ({caught}/{s['total']}; "
                f"survived {len(s['survived'])}, no tests {len(s['no_tests'])}, "
                f"timeout {s['timeout']}, other {len(s['other'])})"
            )
        wanted = [
            (key.split(" ")[0], str(MU / mod))
            for mod, s in scores.items()
            for key in s["survived"] + s["no_tests"] + s["other"]
        ]
        diffs = {} if args.no_diffs else show_diffs(wd, wanted)
        for s in scores.values():
            for key in s["survived"] + s["no_tests"] + s["other"]:
                kind = (
                    "no tests"
                    if key in s["no_tests"]
                    else "not checked"
                    if key in s["other"]
                    else "survived"
                )
                diff = "" if args.no_diffs else "  " + diffs.get(key.split(" ")[0], "")
                short = key.replace(".".join(MU.parts) + ".", "")
                print(f"   {kind}: {short}{diff}")
        sys.stdout.flush()
    if worst < args.min_score:
        print(f"lowest module score {worst:.1f}% is below {args.min_score}%")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
