#!/usr/bin/env python3
"""Validates Kubernetes manifests offline, the way the API server's schema check would.

    validate.py --kubernetes-version 1.30.0 [--crds DIR] FILE|- ...

Built-in kinds are checked against the OpenAPI schemas that PyPI's kubernetes-validate ships
(strict: an unknown field is an error, as with `kubectl apply --validate=strict`). Custom
resources are checked against the openAPIV3Schema of their CRD, found in --crds (the Gateway
API and Envoy Gateway CRDs from Envoy Gateway's chart, see scripts/install-k8s-tools.sh), with
unknown fields refused too. CEL rules (x-kubernetes-validations) are not evaluated.
A document of a kind with no schema anywhere is an error: nothing passes unchecked.
Prints one line per document and exits 1 when any is invalid.
"""
from __future__ import annotations

import argparse
import copy
import functools
import pathlib
import sys
from typing import Any, Dict, Iterator, Tuple

import jsonschema
import kubernetes_validate
import kubernetes_validate.utils
import yaml

# libyaml when present: the Gateway API CRDs alone are ~25,000 lines.
YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# kubernetes-validate re-reads its (large) schema files for every document; read each once.
kubernetes_validate.utils.schema_contents = functools.lru_cache(maxsize=None)(kubernetes_validate.utils.schema_contents)

CrdKey = Tuple[str, str, str]  # (group, version, kind)


def documents(path: str) -> Iterator[Dict[str, Any]]:
    text = sys.stdin.read() if path == "-" else pathlib.Path(path).read_text()
    for doc in yaml.load_all(text, Loader=YAML_LOADER):
        if doc:
            yield doc


def strict(schema: Any) -> Any:
    """Refuses fields the schema does not name (the API server would prune them silently)."""
    if isinstance(schema, dict):
        out = {k: strict(v) for k, v in schema.items()}
        if (
            out.get("type") == "object"
            and "properties" in out
            and "additionalProperties" not in out
            and not out.get("x-kubernetes-preserve-unknown-fields")
        ):
            out["additionalProperties"] = False
        return out
    if isinstance(schema, list):
        return [strict(v) for v in schema]
    return schema


def load_crds(directory: pathlib.Path) -> Dict[CrdKey, Any]:
    schemas: Dict[CrdKey, Any] = {}
    for file in sorted(directory.rglob("*.yaml")):
        for doc in yaml.load_all(file.read_text(), Loader=YAML_LOADER):
            if not doc or doc.get("kind") != "CustomResourceDefinition":
                continue
            spec = doc["spec"]
            for version in spec["versions"]:
                schema = copy.deepcopy(version["schema"]["openAPIV3Schema"])
                # apiVersion, kind and metadata are the API server's to check.
                schema.setdefault("properties", {}).update(
                    {"apiVersion": {"type": "string"}, "kind": {"type": "string"}, "metadata": {"type": "object"}}
                )
                schemas[(spec["group"], version["name"], spec["names"]["kind"])] = strict(schema)
    return schemas


def crd_key(doc: Dict[str, Any]) -> CrdKey:
    group, _, version = doc["apiVersion"].rpartition("/")
    return (group, version, doc["kind"])


def check(doc: Dict[str, Any], k8s_version: str, crds: Dict[CrdKey, Any]) -> str | None:
    """None when valid, else why not."""
    key = crd_key(doc)
    if key in crds:
        errors = sorted(jsonschema.Draft7Validator(crds[key]).iter_errors(doc), key=lambda e: list(e.path))
        return "; ".join(f"{'.'.join(map(str, e.path)) or '<root>'}: {e.message}" for e in errors) or None
    try:
        kubernetes_validate.validate(doc, k8s_version, strict=True)
        return None
    except kubernetes_validate.SchemaNotFoundError:
        return f"no schema for {doc['apiVersion']} {doc['kind']} (neither Kubernetes {k8s_version} nor a CRD in --crds)"
    except kubernetes_validate.ValidationError as e:
        return f"{'.'.join(map(str, e.path)) or '<root>'}: {e.message}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kubernetes-version", action="append", required=True)
    parser.add_argument("--crds", type=pathlib.Path)
    parser.add_argument("files", nargs="+")
    args = parser.parse_args()
    crds = load_crds(args.crds) if args.crds else {}
    failed = 0
    for path in args.files:
        for doc in documents(path):
            name = f"{path}: {doc.get('kind')} {doc.get('metadata', {}).get('name')}"
            for version in args.kubernetes_version:
                problem = check(doc, version, crds)
                if problem:
                    failed += 1
                    print(f"INVALID {name} (Kubernetes {version}): {problem}")
                else:
                    print(f"ok      {name} (Kubernetes {version})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
