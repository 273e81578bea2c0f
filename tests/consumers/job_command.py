"""Prints the shell command of a container of a Job in a Kubernetes manifest
(its `args[0]`, run by `sh -c`), as the cluster would run it; and, with
`--policy`, the Job's pod failure policy and limits as JSON.

Usage: job_command.py MANIFEST JOB [init|main|--policy]"""
import json
import sys

import yaml

manifest, job, part = sys.argv[1], sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else "main"
with open(manifest, encoding="utf-8") as f:
    for document in yaml.safe_load_all(f):
        if document and document.get("kind") == "Job" and document["metadata"]["name"] == job:
            spec = document["spec"]
            if part == "--policy":
                print(json.dumps({key: spec.get(key) for key in
                                  ["podFailurePolicy", "backoffLimit", "backoffLimitPerIndex", "maxFailedIndexes"]}))
                break
            pod = spec["template"]["spec"]
            container = (pod["initContainers"] if part == "init" else pod["containers"])[0]
            assert container["command"] == ["/bin/sh", "-c"], container["command"]
            print(container["args"][0])
            break
    else:
        sys.exit(f"no Job {job} in {manifest}")
