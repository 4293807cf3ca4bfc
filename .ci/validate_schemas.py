#!/usr/bin/env python3
"""Checks the published JSON Schemas in schemas/ (README.md, "Schemas"):

- each schema is a valid draft 2020-12 schema, and the $defs the schemas share are identical;
- every example of environment.yaml, dag.yaml and health.yaml in the repository validates: the files of those
  names (examples/config/) and the YAML blocks of README.md's sections about them;
- inline cases, good and bad, get the expected verdict from the schema and, with EXECUTOR_BIN
  set, from `executor dag validate` too (it parses both files), so schema and parser cannot drift;
- every *.json under REPORT_SAMPLES_DIR (the reports the
  integration tests wrote, see tests/it/common/mod.rs) validates against schemas/report.schema.json,
  there must be some, and broken reports are refused.

What a check needs and cannot find (EXECUTOR_BIN, REPORT_SAMPLES_DIR) fails it with CI set, and
skips it with a message otherwise. Exit 0 when all is valid, else 1."""

import json
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import jsonschema
import yaml

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = ROOT / "schemas"
# The input files and their schemas.
INPUTS = {"environment": "environment.yaml", "dag": "dag.yaml", "health": "health.yaml"}
REPORT_SCHEMA = SCHEMAS / "report.schema.json"
# README.md sections whose ```yaml blocks are whole examples of one file.
README_SECTIONS = {"### environment.yaml": "environment", "## The DAG file": "dag", "### health.yaml": "health"}
MODELINE = re.compile(r"^#\s*yaml-language-server:\s*\$schema=(\S+)", re.MULTILINE)
# ExitCode::SUCCESS and ExitCode::INVALID (src/exit.rs).
SUCCESS, INVALID = 0, 3


class Loader(yaml.SafeLoader):
    """PyYAML without YAML 1.1 timestamps: the executor (serde_yaml) reads 2026-01-07 as text."""


Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


@dataclass
class Case:
    """An inline document: `valid` is the schema's verdict, `parser` the one of `executor dag
    validate` when it differs (a check that only a run makes)."""

    kind: str
    title: str
    text: str
    valid: bool
    parser: bool | None = None


ENV = "name: dev\ndomain: dev.example.com\ngitRepository: https://git.example.com/p.git\ngitRevision: main\n"
ENV_DAG = ENV + "clusterName: dev-1\n"  # the environment.yaml beside every dag case
DAG = "stacks:\n  - name: s\n    apps:\n      - name: a\n"  # the dag.yaml beside every environment case
LONG = "a" * 254


def health(check):
    """A health.yaml of one check of app `a` (DAG's app), the check's body given."""
    return "checks:\n  - name: c\n    app: a\n" + check


def env(extra):
    return ENV + extra


def dag(stack):
    return "stacks:\n  - name: s\n" + stack


CASES = [
    Case("environment", "the four required fields", ENV, True),
    Case("environment", "every field", env(
        "clusterName: dev-1\nargocdNamespace: argocd\nworkflowsNamespace: argo\n"
        "argocd: {server: 'https://argocd.example.com', project: platform, appNamespace: team-a}\n"
        "timeouts: {sync: 5m, health: 1h 30m}\nretries: {maxAttempts: 5, backoff: 1500ms}\n"
        "health: {degradedGracePeriod: 30s, suspendedIs: failed}\n"
        "sync: {prune: true, options: [ServerSideApply=true]}\n"), True),
    Case("environment", "durations humantime reads", env(
        "timeouts: {sync: 0, health: 1.5h}\nretries: {backoff: 2 hours 1 min}\n"
        "health: {degradedGracePeriod: ' 90 s '}\n"), True),
    Case("environment", "more duration units", env("timeouts: {sync: 1h30m, health: 5\u00b5s}\nretries: {backoff: 1w}\n"), True),
    # The executor's bound (src/vocabulary/duration.rs MAX); a pattern cannot count to 7d.
    Case("environment", "a duration longer than 7d", env("retries: {backoff: 1M}\n"), True, parser=False),
    Case("environment", "empty sections", env("argocd:\ntimeouts:\nretries:\nhealth:\nsync:\n  options:\n"), True),
    Case("environment", "numbers and dates as text, ~ for unset", ENV.replace("gitRevision: main", "gitRevision: 2024.10").replace("domain: dev.example.com", "domain: 2026-01-07")
         + "clusterName: ~\nsync: {prune: ~, options: [1, true]}\n", True),
    Case("environment", "an unknown field", env("domian: x\n"), False),
    Case("environment", "an unknown nested field", env("timeouts: {synk: 5m}\n"), False),
    Case("environment", "no name", ENV.replace("name: dev\n", ""), False),
    Case("environment", "suspendedIs is lowercase", env("health: {suspendedIs: Healthy}\n"), False),
    Case("environment", "suspendedIs names a state", env("health: {suspendedIs: paused}\n"), False),
    Case("environment", "a duration without a unit", env("timeouts: {sync: 5}\n"), False),
    Case("environment", "a duration in words", env("timeouts: {sync: soon}\n"), False),
    Case("environment", "a negative duration", env("timeouts: {health: -5s}\n"), False),
    Case("environment", "a duration ending in a number", env("retries: {backoff: 5s5}\n"), False),
    Case("environment", "a duration with an underscore", env("retries: {backoff: 1_000ms}\n"), False),
    Case("environment", "an unset duration", env("timeouts: {sync: ~}\n"), False),
    Case("environment", "prune as text", env("sync: {prune: 'true'}\n"), False),
    Case("environment", "options not a list", env("sync: {options: ServerSideApply=true}\n"), False),
    Case("environment", "maxAttempts as text", env("retries: {maxAttempts: '3'}\n"), False),
    Case("environment", "maxAttempts negative", env("retries: {maxAttempts: -1}\n"), False),
    # src/cli/load.rs rejects it for a run; `dag validate` does not read retries.
    Case("environment", "maxAttempts 0", env("retries: {maxAttempts: 0}\n"), False, parser=True),
    Case("environment", "appNamespace not a namespace name", env("argocd: {appNamespace: Team_A}\n"), False),
    Case("environment", "appNamespace ~", env("argocd: {appNamespace: ~}\n"), False),
    Case("environment", "not a mapping", "- name: dev\n", False),
    Case("environment", "a compliance section", env(
        "compliance:\n  requiredLabels: [app, team]\n  exemptions:\n"
        "    - {rule: host-pid, app: agent, kind: DaemonSet, namespace: mon, name: agent, reason: node metrics, expires: 2027-03-31}\n"), True),
    Case("environment", "an empty compliance section", env("compliance:\n"), True),
    Case("environment", "an exemption of no rule", env("compliance:\n  exemptions: [{rule: hostPID, reason: x, expires: 2027-03-31}]\n"), False),
    Case("environment", "an exemption without expiry", env("compliance:\n  exemptions: [{rule: probes, reason: x}]\n"), False),
    Case("environment", "an exemption without a reason", env("compliance:\n  exemptions: [{rule: probes, reason: '  ', expires: 2027-03-31}]\n"), False),
    Case("environment", "an expiry that is no date", env("compliance:\n  exemptions: [{rule: probes, reason: x, expires: next week}]\n"), False),

    Case("dag", "one stack of one app", DAG, True),
    Case("dag", "every field", (
        "defaults:\n  timeouts: {sync: 5m, health: 10m}\n  simulation: {readyAfter: 800ms, jitter: 200ms}\n"
        "stacks:\n"
        "  - name: infra\n    app: platform-infra\n    namespace: infra-apps\n    cluster: dev-1\n"
        "    timeouts: {health: 15m}\n    simulation: {readyAfter: 500ms, outcome: Degraded}\n"
        "    apps:\n"
        "      - name: cert-manager\n        namespace: team-a\n        cluster: dev-1\n"
        "        timeouts: {sync: 1h 30m}\n        simulation: {outcome: OperationFailed, jitter: 0}\n"
        "    resources:\n"
        "      - name: cert-manager-crds\n        apiVersion: apiextensions.k8s.io/v1\n"
        "        kind: CustomResourceDefinition\n        resourceName: certificates.cert-manager.io\n"
        "        namespace: cert-manager\n        condition: Established\n        dependsOn: [cert-manager]\n"
        "        timeouts: {sync: 1m}\n        cluster: dev-1\n        simulation: {readyAfter: 1s, outcome: Healthy}\n"
        "  - name: storage\n    dependsOn: [infra]\n    resources:\n"
        "      - {name: ceph.crds, apiVersion: v1, kind: Namespace, condition: Exists, dependsOn: ['cert-manager@dev-1']}\n"
    ), True),
    Case("dag", "a grouping stack, unset fields", dag(
        "    app: ~\n    namespace: ~\n    dependsOn:\n    apps:\n      - {name: a, namespace: ~, cluster: ~, simulation: {outcome: ~}}\n"), True),
    Case("dag", "numbers as names", "stacks:\n  - name: 2048\n    apps: [{name: 1.0, dependsOn: [3]}, {name: 3}]\n", True),
    Case("dag", "a 253-character name", dag(f"    apps: [{{name: {LONG[:253]}}}]\n"), True),
    Case("dag", "an unknown field", dag("    apps: [{name: a, dependson: [b]}, {name: b}]\n"), False),
    Case("dag", "an unknown top-level field", "stack: []\n" + DAG, False),
    Case("dag", "an app without a name", dag("    apps: [{namespace: team-a}]\n"), False),
    Case("dag", "a resource without apiVersion", dag("    resources: [{name: r, kind: Namespace}]\n"), False),
    Case("dag", "no stacks", "stacks: []\n", False),
    Case("dag", "no stacks key", "defaults: {timeouts: {sync: 5m}}\n", False),
    Case("dag", "stacks as a map", "stacks: {s: {apps: [{name: a}]}}\n", False),
    Case("dag", "an empty stack", dag("    app: platform-s\n"), False),
    Case("dag", "a stack with empty lists", dag("    apps: []\n    resources:\n"), False),
    Case("dag", "an uppercase name", dag("    apps: [{name: Cert-Manager}]\n"), False),
    Case("dag", "a name with an underscore", dag("    apps: [{name: cert_manager}]\n"), False),
    Case("dag", "a name ending in '-'", dag("    apps: [{name: cert-}]\n"), False),
    Case("dag", "a 254-character name", dag(f"    apps: [{{name: {LONG}}}]\n"), False),
    Case("dag", "a 254-character dependency", dag(f"    apps: [{{name: a, dependsOn: [{LONG}]}}]\n"), False),
    Case("dag", "an app-of-apps name with a space", dag("    app: 'platform s'\n    apps: [{name: a}]\n"), False),
    Case("dag", "a namespace on a grouping stack", dag("    namespace: team-a\n    apps: [{name: a}]\n"), False),
    Case("dag", "an app namespace that is no namespace name", dag("    apps: [{name: a, namespace: team.a}]\n"), False),
    Case("dag", "outcome is capitalised", dag("    apps: [{name: a, simulation: {outcome: healthy}}]\n"), False),
    Case("dag", "a dependency with two clusters", dag("    apps: [{name: a, dependsOn: ['b@dev-1@x']}, {name: b}]\n"), False),
    Case("dag", "a dependency with an empty cluster", dag("    apps: [{name: a, dependsOn: ['b@']}, {name: b}]\n"), False),
    Case("dag", "dependsOn not a list", dag("    apps: [{name: a, dependsOn: b}, {name: b}]\n"), False),
    Case("dag", "a duration without a unit", dag("    timeouts: {sync: 5}\n    apps: [{name: a}]\n"), False),
    Case("dag", "an unset duration", dag("    apps: [{name: a, timeouts: {health: ~}}]\n"), False),
    Case("dag", "a duration longer than 7d", dag("    apps: [{name: a, timeouts: {health: 500000000000y}}]\n"), True, parser=False),

    Case("health", "every kind of check", (
        "builtins: {cephCluster: false, workloads: true}\n"
        "checks:\n"
        "  - name: ceph\n    app: a\n    resource: {apiVersion: ceph.rook.io/v1, kind: CephCluster, namespace: rook-ceph, name: rook-ceph,\n"
        "      field: {path: status.ceph.health, in: [HEALTH_OK, HEALTH_WARN]}}\n"
        "  - name: pods\n    app: a\n    resource: {apiVersion: v1, kind: Pod, namespace: vault, selector: app=vault, condition: Ready}\n"
        "  - name: vault\n    app: a\n    vault: {url: 'https://vault.vault.svc:8200', timeout: 2s}\n"
        "  - name: ui\n    app: a\n    http: {url: 'http://ui.example.com/health', status: 204, json: {status: UP, 'checks[0].ok': true}}\n"
    ), True),
    Case("health", "an empty file's sections", "builtins:\nchecks:\n", True),
    Case("health", "a resource without a rule", health("    resource: {apiVersion: v1, kind: ConfigMap, namespace: x, name: y}\n"), True),
    Case("health", "two probes", health("    vault: {url: 'http://v'}\n    http: {url: 'http://v'}\n"), False),
    Case("health", "no probe", health(""), False),
    Case("health", "name and selector", health("    resource: {apiVersion: v1, kind: Pod, name: x, selector: a=b}\n"), False),
    Case("health", "neither name nor selector", health("    resource: {apiVersion: v1, kind: Pod}\n"), False),
    Case("health", "condition and field", health("    resource: {apiVersion: v1, kind: Pod, name: x, condition: Ready, field: {path: a}}\n"), False),
    Case("health", "equals and in", health("    resource: {apiVersion: v1, kind: Pod, name: x, field: {path: a, equals: 1, in: [1]}}\n"), False),
    Case("health", "an empty in", health("    resource: {apiVersion: v1, kind: Pod, name: x, field: {path: a, in: []}}\n"), False),
    Case("health", "an ftp url", health("    vault: {url: 'ftp://v'}\n"), False),
    Case("health", "a status out of range", health("    http: {url: 'http://v', status: 999}\n"), False),
    Case("health", "an uppercase name", "checks:\n  - name: C\n    app: a\n    vault: {url: 'http://v'}\n", False),
    Case("health", "an unknown built-in", "builtins: {ceph: false}\n", False),
    Case("health", "an unknown field", health("    vault: {url: 'http://v'}\n    critical: true\n"), False),
    # What only the executor can tell: the app is not the DAG's, a name used twice, a path filter.
    Case("health", "an app outside the DAG", "checks:\n  - name: c\n    app: b\n    vault: {url: 'http://v'}\n", True, parser=False),
    Case("health", "a name used twice", health("    vault: {url: 'http://v'}\n  - name: c\n    app: a\n    vault: {url: 'http://w'}\n"), True, parser=False),
    Case("health", "a path filter", health("    resource: {apiVersion: v1, kind: Pod, name: x, field: {path: 'a[?(@.b)]'}}\n"), True, parser=False),
    Case("health", "a timeout over 60s", health("    vault: {url: 'http://v', timeout: 2m}\n"), True, parser=False),
]


def load(text):
    return yaml.load(text, Loader=Loader)


def errors(validator, doc):
    return [
        f"{'/'.join(str(p) for p in e.absolute_path) or '(top)'}: {e.message}"
        for e in sorted(validator.iter_errors(doc), key=lambda e: list(map(str, e.absolute_path)))
    ]


def need(what):
    """A check cannot run: a problem with CI set, a skip otherwise."""
    if os.environ.get("CI"):
        return [what]
    print(f"skipping: {what}")
    return []


def optional_problems(kind, defs):
    """`$defs/optionalX` must be `$defs/X` that may also be null (an empty value or `~`)."""
    problems = []
    for name, optional in defs.items():
        if not name.startswith("optional"):
            continue
        base_name = name[8].lower() + name[9:]
        base = defs.get(base_name)
        rest = lambda d: {k: v for k, v in d.items() if k not in ("type", "description")}
        if base is None or rest(optional) != rest(base) or sorted(optional["type"]) != sorted(base["type"] + ["null"]):
            problems.append(f"schemas/{kind}.schema.json: $defs/{name} is not $defs/{base_name} or null")
    return problems


def check_schemas(schemas):
    problems = []
    for kind, schema in schemas.items():
        try:
            jsonschema.Draft202012Validator.check_schema(schema)
        except jsonschema.SchemaError as e:
            problems.append(f"schemas/{kind}.schema.json is not a valid draft 2020-12 schema: {e.message}")
        problems += optional_problems(kind, schema["$defs"])
    env_defs, dag_defs = schemas["environment"]["$defs"], schemas["dag"]["$defs"]
    for name in sorted(set(env_defs) & set(dag_defs)):
        if env_defs[name] != dag_defs[name]:
            problems.append(f"$defs/{name} differs between environment.schema.json and dag.schema.json")
    return problems


def readme_examples():
    """(where, kind, text) of each ```yaml block in README_SECTIONS, and the problems."""
    found, heading, block, problems = [], None, None, []
    for number, line in enumerate((ROOT / "README.md").read_text().splitlines(), 1):
        if block is not None:
            if line.strip() == "```":
                found.append((f"README.md:{block[0]} ({heading})", README_SECTIONS[heading], "\n".join(block[1])))
                block = None
            else:
                block[1].append(line)
        elif line.startswith("#"):
            heading = line.strip()
        elif line.strip() == "```yaml" and heading in README_SECTIONS:
            block = (number, [])
    for heading, kind in README_SECTIONS.items():
        if not any(h.endswith(f"({heading})") for h, _, _ in found):
            problems.append(f"README.md has no ```yaml example under {heading!r}: update README_SECTIONS")
    return found, problems


def file_examples():
    """(where, kind, text) of every file named environment.yaml or dag.yaml, as .ci/run's yamllint finds them."""
    names = {file: kind for kind, file in INPUTS.items()}
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "--", *(f"*{n}" for n in names)],
        cwd=ROOT, check=True, capture_output=True, text=True,
    ).stdout.split()
    return [(p, names[Path(p).name], (ROOT / p).read_text()) for p in sorted(listed) if Path(p).name in names]


def modeline_problems(where, kind, text):
    """A `# yaml-language-server: $schema=` comment must point at the file's own schema."""
    problems = []
    file = ROOT / where.split(":", 1)[0]  # README.md:<line> for a README block
    for target in MODELINE.findall(text):
        if (file.parent / target).resolve() != (SCHEMAS / f"{kind}.schema.json").resolve():
            problems.append(f"{where}: its $schema comment points at {target}, not schemas/{kind}.schema.json")
    return problems


def check_examples(validators):
    readme, problems = readme_examples()
    examples = file_examples() + readme
    for kind in INPUTS:
        if not any(k == kind for _, k, _ in examples):
            problems.append(f"no example of {INPUTS[kind]} found")
    for where, kind, text in examples:
        problems += [f"{where}: {e}" for e in errors(validators[kind], load(text))]
        problems += modeline_problems(where, kind, text)
    print(f"{len(examples)} examples checked: {', '.join(w for w, _, _ in examples)}")
    return problems


def executor_verdict(exe, case):
    """True or False as `executor dag validate` exits SUCCESS or INVALID with the case's file in place."""
    with tempfile.TemporaryDirectory() as config:
        files = {"environment": ENV_DAG, "dag": DAG} if case.kind != "dag" else {"environment": ENV_DAG}
        files[case.kind] = case.text
        for kind, text in files.items():
            Path(config, INPUTS[kind]).write_text(text)
        run = subprocess.run([exe, "dag", "validate", "--config-dir", config], capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if run.returncode not in (SUCCESS, INVALID):
        raise RuntimeError(f"executor dag validate exited {run.returncode}: {run.stderr.strip()}")
    return run.returncode == SUCCESS, run.stderr.strip()


def check_cases(validators):
    problems = []
    for case in CASES:
        found = errors(validators[case.kind], load(case.text))
        if (not found) != case.valid:
            verdict = f"rejects it: {found}" if found else f"accepts it: {case.text!r}"
            problems.append(f"{case.kind} case {case.title!r}: the schema {verdict}")
    exe = os.environ.get("EXECUTOR_BIN")
    if not exe:
        problems += need("EXECUTOR_BIN is not set: the cases are not compared with `executor dag validate`")
    else:
        for case in CASES:
            expected = case.valid if case.parser is None else case.parser
            accepted, stderr = executor_verdict(exe, case)
            if accepted != expected:
                verdict = "accepts it" if accepted else f"rejects it: {stderr}"
                problems.append(f"{case.kind} case {case.title!r}: `executor dag validate` {verdict}")
    bad = sum(not c.valid for c in CASES)
    against = f" and against {exe}" if exe else ""
    print(f"{len(CASES)} inline cases ({bad} that must be rejected) checked against the schemas{against}")
    return problems


def check_reports():
    if not REPORT_SCHEMA.exists():
        return [f"{REPORT_SCHEMA.relative_to(ROOT)} is missing"]
    schema = json.loads(REPORT_SCHEMA.read_text())
    try:
        jsonschema.Draft202012Validator.check_schema(schema)
    except jsonschema.SchemaError as e:
        return [f"schemas/report.schema.json is not a valid draft 2020-12 schema: {e.message}"]
    directory = os.environ.get("REPORT_SAMPLES_DIR")
    if not directory:
        return need("REPORT_SAMPLES_DIR is not set: no report samples to check (.ci/run collects them from the tests)")
    samples = sorted(Path(directory).rglob("*.json"))
    if not samples:
        return [f"no report samples (*.json) in {directory}: the tests wrote none"]
    validator = jsonschema.Draft202012Validator(schema)
    problems = [f"{path}: {e}" for path in samples for e in errors(validator, json.loads(path.read_text()))]
    # The schema must be able to refuse: v1's shape and a report without its run id.
    sample = json.loads(samples[0].read_text())
    broken = {
        "v1's apiVersion": {**sample, "apiVersion": "executor.report/v1"},
        "no runId": {k: v for k, v in sample.items() if k != "runId"},
        "v1's timedOut counter": {**sample, "summary": {**sample["summary"], "timedOut": 0}},
        "an unknown component status": {**sample, "components": [{**(sample["components"] or [{}])[0], "status": "done"}]},
    }
    for what, report in broken.items():
        if not errors(validator, report):
            problems.append(f"schemas/report.schema.json accepts a report with {what}")
    print(f"{len(samples)} report samples from {directory} checked, and {len(broken)} broken ones refused")
    return problems


def main():
    problems, schemas = [], {}
    for kind in INPUTS:
        path = SCHEMAS / f"{kind}.schema.json"
        if not path.exists():
            problems.append(f"{path.relative_to(ROOT)} is missing")
            continue
        schemas[kind] = json.loads(path.read_text())
    if not problems:
        problems += check_schemas(schemas)
    if not problems:
        validators = {kind: jsonschema.Draft202012Validator(s) for kind, s in schemas.items()}
        problems += check_examples(validators)
        problems += check_cases(validators)
    problems += check_reports()
    for p in problems:
        print(f"FAILED: {p}")
    print(f"schemas checked, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
