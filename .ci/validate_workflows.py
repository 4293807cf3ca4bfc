#!/usr/bin/env python3
"""Validates every Argo Workflows document in workflow-templates/ against Argo
Workflows' own JSON schema (../shared/reference/argo-workflows/schema.json),
rejecting unknown fields (the schema itself allows them), and checks what no
schema checks: every templateRef names a template that exists, and every
`depends` names a task of the same DAG. Skips, with a message, when ../shared
is absent. Exit 0 when everything is valid, 1 otherwise."""

import json
import re
import sys
from pathlib import Path

import jsonschema
import yaml

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = ROOT.parent / "shared/reference/argo-workflows/schema.json"
KINDS = {"Workflow", "WorkflowTemplate", "ClusterWorkflowTemplate"}


def closed(schema):
    """The schema with additionalProperties: false wherever it lists properties."""
    if isinstance(schema, dict):
        out = {k: closed(v) for k, v in schema.items()}
        if "properties" in out and "additionalProperties" not in out:
            out["additionalProperties"] = False
        return out
    if isinstance(schema, list):
        return [closed(v) for v in schema]
    return schema


def documents():
    for path in sorted((ROOT / "workflow-templates").rglob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if isinstance(doc, dict) and doc.get("kind") in KINDS:
                yield path.relative_to(ROOT), doc


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
        print(f"skipping Argo Workflows schema validation: {SCHEMA} not found (../shared is absent)")
        return 0
    schema = closed(json.loads(SCHEMA.read_text()))
    docs = list(documents())
    problems = []
    for path, doc in docs:
        definition = {"$ref": f"#/definitions/io.argoproj.workflow.v1alpha1.{doc['kind']}"}
        validator = jsonschema.Draft202012Validator({"definitions": schema["definitions"], **definition})
        for error in validator.iter_errors(doc):
            where = "/".join(str(p) for p in error.absolute_path)
            problems.append(f"{path}: {where}: {error.message}")
    problems += references(docs)
    for p in problems:
        print(f"FAILED: {p}")
    print(f"{len(docs)} Argo Workflows documents checked, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
