"""Validates a JSON document, or each line of an NDJSON file, against a JSON
Schema (draft 2020-12 or draft-07, with format checks). Prints one line per
problem and exits 1 if there is any.

    validate_json.py SCHEMA FILE            # one document
    validate_json.py SCHEMA FILE --ndjson   # each record against its $defs
"""
import json
import sys

import jsonschema

schema_path, path = sys.argv[1], sys.argv[2]
ndjson = "--ndjson" in sys.argv[3:]
with open(schema_path, encoding="utf-8") as f:
    schema = json.load(f)
validator_class = jsonschema.validators.validator_for(schema)
validator_class.check_schema(schema)
format_checker = validator_class.FORMAT_CHECKER

problems = []
with open(path, encoding="utf-8") as f:
    if not ndjson:
        document = json.load(f)
        validator = validator_class(schema, format_checker=format_checker)
        problems = [f"{e.json_path}: {e.message[:300]}" for e in validator.iter_errors(document)]
    else:
        # Each record against the definition of its kind; the `scan` record
        # against the report's own fields.
        kinds = {"finding": "finding", "fixed": "fixed", "note": "note", "summary": "summary"}
        for number, line in enumerate(f, 1):
            record = json.loads(line)
            kind = record.get("record")
            if kind == "scan":
                sub = dict(schema)
                sub["required"] = [k for k in schema["required"] if k not in ("summary", "findings", "finished_at")]
                sub["properties"] = dict(schema["properties"], record={"const": "scan"})
            elif kind in kinds:
                sub = {"$defs": schema["$defs"], "allOf": [{"$ref": f"#/$defs/{kinds[kind]}"}]}
                if kind in ("finding", "note"):
                    # A finding's fields are the JSON report's, after `record`.
                    record = {k: v for k, v in record.items() if k != "record"}
            else:
                problems.append(f"line {number}: unknown record {kind!r}")
                continue
            validator = validator_class(sub, format_checker=format_checker)
            problems += [f"line {number} {e.json_path}: {e.message[:300]}" for e in validator.iter_errors(record)]
for problem in problems:
    print(problem)
sys.exit(1 if problems else 0)
