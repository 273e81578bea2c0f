"""Prints the shell script a shipped CI job runs to judge the zones, as its
CI reads the file: GitHub Actions, the `run` of the step with id `scan`;
GitLab CI, the job's `script` lines after the one installing fedscan.

Usage: ci_job_script.py FILE github|gitlab"""
import sys

import yaml

path, ci = sys.argv[1], sys.argv[2]
with open(path, encoding="utf-8") as f:
    workflow = yaml.safe_load(f)
if ci == "github":
    steps = [step for job in workflow["jobs"].values() for step in job["steps"]]
    print(next(step["run"] for step in steps if step.get("id") == "scan"))
else:
    (job,) = workflow.values()
    print("\n".join(line for line in job["script"] if not line.startswith("cargo install")))
