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
    "audit": (
        ["audit/*.py"],
        [
            f"{UNIT}/test_workload_audit.py",
            f"{UNIT}/test_workload_sources_and_report.py",
            f"{UNIT}/test_audit_*.py",
        ],
    ),
    # The label selector semantics the audit and ingress-ha share (NotIn/Exists...).
    "selectors": (
        ["k8s/selectors.py"],
        [
            f"{UNIT}/test_k8s_selectors*.py",
            f"{UNIT}/test_prop_ingress.py",
            f"{UNIT}/test_workload_audit.py",
        ],
    ),
    "pki_renew": (
        ["pki/renew.py"],  # renew_jobs.py: group renew_jobs below
        [
            f"{UNIT}/test_pki.py",
            f"{UNIT}/test_renew_jobs.py",
            f"{UNIT}/test_pki_kubeadm_rules.py",
            f"{UNIT}/test_pki_renew*_mutation.py",
            "tests/unit/plugins/modules/test_renew_failure.py",
        ],
    ),
    # renew_jobs.py on its own: its unit tests only (the pki_renew group also runs the
    # certificate-building tests renew.py needs, ~60 s a mutant there, none of which
    # imports renew_jobs).
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
        *(f"    {p}" for p in (*EXTRAS, "plugins")),
        "pytest_add_cli_args_test_selection =",
        *(f"    {t}" for t in tests),
        "pytest_add_cli_args =",
        # Tests that run ansible-playbook in a subprocess never see the mutants (and need
        # the installed collection): they cannot kill anything here.
        "    -k",
        "    not in_a_playbook",
        "    -p",
        "    no:cacheprovider",
        "    -p",
        "    no:randomly",
        "",
    ]
    (wd / "setup.cfg").write_text("\n".join(cfg))
    return wd


def run_group(group: str, wd: Path, children: int, timeout: int) -> int:
    mutmut = Path(sys.executable).parent / "mutmut"
    env = dict(os.environ)
    # Nothing from the repository may shadow the mutated copy.
    env.pop("PYTHONPATH", None)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    # Property tests run fewer examples per mutant (they still run in full in `make unit`).
    env.setdefault("ACKOPS_HYPOTHESIS_EXAMPLES", "40")
    start = time.monotonic()
    proc = subprocess.Popen(
        [str(mutmut), "run", "--max-children", str(children)],
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


def collect(group: str, wd: Path) -> dict[str, dict[str, int | list[str]]]:
    scores: dict[str, dict] = {}
    for meta in sorted((wd / "mutants" / MU).rglob("*.py.meta")):
        data = json.loads(meta.read_text())
        rel = str(meta.relative_to(wd / "mutants" / MU))[: -len(".meta")]
        codes = data["exit_code_by_key"]
        s = {"total": 0, "killed": 0, "survived": [], "timeout": 0, "no_tests": [], "other": []}
        for key, code in sorted(codes.items()):
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
    ap.add_argument("groups", nargs="*", help=f"any of {', '.join(GROUPS)} (default: all)")
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
    ap.add_argument("--min-score", type=float, default=0.0, help="fail below this %% in any module")
    args = ap.parse_args()
    workdir = Path(args.workdir)
    unknown = set(args.groups) - set(GROUPS)
    if unknown:
        ap.error(f"unknown group(s) {sorted(unknown)}; known: {', '.join(GROUPS)}")
    worst = 100.0
    for group in args.groups or list(GROUPS):
        if args.files and not any(_in_group(f, GROUPS[group][0]) for f in args.files.split(",")):
            continue
        wd = prepare(group, workdir, args.baseline, args.files)
        rc = run_group(group, wd, args.children, args.timeout)
        scores = collect(group, wd)
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
