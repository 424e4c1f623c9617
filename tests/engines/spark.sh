#!/usr/bin/env bash
# Conformance of `glyphsieve compile --to sql --dialect spark` with eval, in
# PySpark local mode (pip install pyspark; Java 17): the cases of
# tests/sql.rs (goldens, shipped rules, every operator and function, random
# rule sets), prepared by that test into a kept folder, then run in Spark
# with spark.sql.ansi.enabled=true and compared cell by cell.
set -euo pipefail
cd "$(dirname "$0")/../.."
python3 -c 'import pyspark' 2>/dev/null || { echo "spark.sh: python3 cannot import pyspark (pip install pyspark)" >&2; exit 2; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
GLYPHSIEVE_SQL_CASES="$dir" cargo test --quiet --test lib sql::compiled_sql_gives_evals_values >/dev/null
python3 tests/engines/conform.py spark "$dir/cases"
