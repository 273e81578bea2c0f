"""Prints the shell command of the first container of the Job in a
Kubernetes manifest (its `args[0]`, run by `sh -c`), as the cluster would
run it."""
import sys

import yaml

with open(sys.argv[1], encoding="utf-8") as f:
    for document in yaml.safe_load_all(f):
        if document and document.get("kind") == "Job":
            container = document["spec"]["template"]["spec"]["containers"][0]
            assert container["command"] == ["/bin/sh", "-c"], container["command"]
            print(container["args"][0])
            break
