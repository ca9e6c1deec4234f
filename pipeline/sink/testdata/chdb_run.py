"""Runs awumeter's rendered modern DDL and the query pack on chDB, an embedded
current ClickHouse, for the compatibility test in querypack_test.go.

Input (JSON file, argv[1]): {"setup": [sql, ...], "queries": {name: sql},
"query_errors": bool}.
Output (JSON on stdout): {"version": str, "results": {name: tsv}} or
{"error": str, "statement": sql} with exit status 1. With "query_errors", a
query that fails is reported as the result "ERROR: " + the message instead.
"""
import json
import sys
import tempfile

from chdb import session


def main():
    with open(sys.argv[1]) as f:
        job = json.load(f)
    with tempfile.TemporaryDirectory() as path:
        s = session.Session(path)
        try:
            version = s.query("SELECT version()", "TabSeparated").bytes().decode().strip()
            for stmt in job["setup"]:
                try:
                    s.query(stmt)
                except Exception as e:  # report which statement failed
                    json.dump({"error": str(e), "statement": stmt}, sys.stdout)
                    return 1
            results = {}
            for name, sql in job["queries"].items():
                try:
                    results[name] = s.query(sql, "TabSeparated").bytes().decode()
                except Exception as e:
                    if job.get("query_errors"):
                        results[name] = "ERROR: " + str(e)
                        continue
                    json.dump({"error": str(e), "statement": sql}, sys.stdout)
                    return 1
            json.dump({"version": version, "results": results}, sys.stdout)
            return 0
        finally:
            s.close()


if __name__ == "__main__":
    sys.exit(main())
