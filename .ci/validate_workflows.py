#!/usr/bin/env python3
"""Validates the documents in workflow-templates/ against the real schemas in
../shared/reference/: Argo Workflows documents against Argo Workflows' own
JSON schema, the ClusterAnalysisTemplate against Argo Rollouts' CRD schema,
both with unknown fields rejected (the schemas themselves allow them). It also
checks what no schema checks: every templateRef names a template that exists,
and every `depends` names a task of the same DAG. Core Kubernetes objects are
checked separately with `kubernetes-validate --strict` (see .ci/run). Skips,
with a message, when ../shared is absent (with CI set, that fails). Exit 0 when all is valid, else 1."""

import json
import os
import re
import sys
from pathlib import Path

import jsonschema
import yaml

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = ROOT.parent / "shared/reference/argo-workflows/schema.json"
ROLLOUTS = ROOT.parent / "shared/reference/argo-rollouts"
KINDS = {"Workflow", "WorkflowTemplate", "ClusterWorkflowTemplate"}


def closed(schema):
    """The schema with additionalProperties: false wherever it lists properties
    (except where a CRD explicitly keeps unknown fields)."""
    if isinstance(schema, dict):
        out = {k: closed(v) for k, v in schema.items()}
        keeps_unknown = out.get("x-kubernetes-preserve-unknown-fields") is True
        if "properties" in out and "additionalProperties" not in out and not keeps_unknown:
            out["additionalProperties"] = False
        return out
    if isinstance(schema, list):
        return [closed(v) for v in schema]
    return schema


def documents(kinds):
    for path in sorted((ROOT / "workflow-templates").rglob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if isinstance(doc, dict) and doc.get("kind") in kinds:
                yield path.relative_to(ROOT), doc


def analysis_templates():
    """Problems of the (Cluster)AnalysisTemplates against Argo Rollouts' CRDs."""
    problems, count = [], 0
    for kind, crd_file in [
        ("AnalysisTemplate", "analysis-template-crd.yaml"),
        ("ClusterAnalysisTemplate", "cluster-analysis-template-crd.yaml"),
    ]:
        crd = yaml.safe_load((ROLLOUTS / crd_file).read_text())
        schema = closed(crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"])
        validator = jsonschema.Draft7Validator(schema)
        for path, doc in documents({kind}):
            count += 1
            for error in validator.iter_errors(doc):
                where = "/".join(str(p) for p in error.absolute_path)
                problems.append(f"{path}: {where}: {error.message}")
    return count, problems


def references(docs):
    """Problems with templateRef and depends across all documents."""
    templates = {}
    for _, doc in docs:
        names = {t["name"] for t in doc["spec"].get("templates", [])}
        key = (doc["kind"] == "ClusterWorkflowTemplate", doc["metadata"].get("name"))
        templates[key] = names
    problems = []
    for path, doc in docs:
        local = {t["name"] for t in doc["spec"].get("templates", [])}
        for entry in ("entrypoint", "onExit"):
            if entry in doc["spec"] and doc["spec"][entry] not in local:
                problems.append(f"{path}: spec.{entry} names no template: {doc['spec'][entry]}")
        for template in doc["spec"].get("templates", []):
            calls = list(template.get("dag", {}).get("tasks", []))
            calls += [s for group in template.get("steps", []) for s in group]
            task_names = {t["name"] for t in template.get("dag", {}).get("tasks", [])}
            for call in calls:
                ref = call.get("templateRef")
                if ref:
                    names = templates.get((bool(ref.get("clusterScope")), ref["name"]))
                    if names is None or ref["template"] not in names:
                        problems.append(f"{path}: {call['name']}: templateRef {ref} names no template")
                elif "template" in call and call["template"] not in local:
                    problems.append(f"{path}: {call['name']}: template {call['template']} does not exist")
                for dep in re.findall(r"([A-Za-z0-9][-A-Za-z0-9.]*)\.(?:Succeeded|Failed|Errored|Skipped|Omitted|Daemoned|AnySucceeded|AllFailed)", call.get("depends", "")):
                    if dep not in task_names:
                        problems.append(f"{path}: {call['name']}: depends on unknown task {dep}")
    return problems


def main():
    if not SCHEMA.exists():
        if os.environ.get("CI"):
            print(f"FAILED: {SCHEMA} not found: CI needs ../shared beside the repository")
            return 1
        print(f"skipping Argo Workflows schema validation: {SCHEMA} not found (../shared is absent)")
        return 0
    schema = closed(json.loads(SCHEMA.read_text()))
    docs = list(documents(KINDS))
    problems = []
    for path, doc in docs:
        definition = {"$ref": f"#/definitions/io.argoproj.workflow.v1alpha1.{doc['kind']}"}
        validator = jsonschema.Draft202012Validator({"definitions": schema["definitions"], **definition})
        for error in validator.iter_errors(doc):
            where = "/".join(str(p) for p in error.absolute_path)
            problems.append(f"{path}: {where}: {error.message}")
    problems += references(docs)
    analyses, analysis_problems = analysis_templates()
    problems += analysis_problems
    for p in problems:
        print(f"FAILED: {p}")
    print(f"{len(docs)} Argo Workflows documents and {analyses} analysis templates checked, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
