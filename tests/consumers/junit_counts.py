"""Reads a JUnit XML report the way CI test dashboards do (junitparser) and
prints its counts as JSON: totals, and per test suite."""
import json
import sys

from junitparser import JUnitXml

report = JUnitXml.fromfile(sys.argv[1])
suites = []
totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
for suite in report:
    counts = {"name": suite.name, "tests": suite.tests, "failures": suite.failures,
              "errors": suite.errors, "skipped": suite.skipped}
    # Count the cases too: the attributes must agree with what is inside.
    cases = list(suite)
    counts["cases"] = len(cases)
    counts["failed_cases"] = sum(1 for c in cases for r in c.result if r._tag == "failure")
    counts["error_cases"] = sum(1 for c in cases for r in c.result if r._tag == "error")
    counts["skipped_cases"] = sum(1 for c in cases for r in c.result if r._tag == "skipped")
    counts["case_names"] = [c.name for c in cases]
    suites.append(counts)
    for key in totals:
        totals[key] += counts[key]
print(json.dumps({"totals": totals, "suites": suites}))
