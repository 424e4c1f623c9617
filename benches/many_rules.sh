#!/usr/bin/env bash
# Times the many-rules job (N generated rules) against the floor, polars and DuckDB, in one run.
#
# usage: benches/many_rules.sh [ROWS...]          100 rules at each size (default 100000 1000000)
#        benches/many_rules.sh --sweep [ROWS]     1, 10, 100 and 1000 rules at one size (default 100000)
#
# The rules are benches/make_rules.py N (N=100 is benches/hundred_rules.rule); the peers run
# the same rules with glyphsieve's missing-value semantics through ../shared/bench/tag_many.py.
# Each size is one hyperfine run (one warm-up, then $RUNS runs, default 5); the script then
# checks that every rule column of glyphsieve's output equals polars' and DuckDB's (floats as
# numbers, true/false as 1/0, empty as missing), measures peak RSS with /usr/bin/time, and
# prints each command's fastest and median time as a ratio to the floor's.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
kit=${KIT:-$here/../../shared/bench}
[[ -d $kit ]] || kit=/work/shared/bench
work=${WORK:-/tmp/glyphsieve-bench}
runs=${RUNS:-5}
mkdir -p "$work"

command -v hyperfine >/dev/null || { apt-get update -qq && apt-get install -y -qq hyperfine >/dev/null; }
python3 -c 'import duckdb, polars' 2>/dev/null || pip install -q duckdb polars
# GLYPHSIEVE=path times that binary instead of building this checkout's.
gs=${GLYPHSIEVE:-}
[[ -n $gs ]] || { gs=$here/../target/release/glyphsieve && (cd "$here/.." && cargo build --release -q); }
floor=$work/floor/target/release/floor
if [[ ! -x $floor ]]; then
  cp -r "$kit/floor" "$work/" && (cd "$work/floor" && cargo build --release -q)
fi

# check OUT_GLYPHSIEVE OUT_PEER...: every rule column (r0, r1, ...) equal, as numbers.
check() {
  python3 - "$@" <<'PY'
import sys
import polars as pl
def cols(path):
    df = pl.read_csv(path, infer_schema=False)
    rules = [c for c in df.columns if c[0] == "r" and c[1:].isdigit()]
    num = lambda c: (pl.when(pl.col(c) == "true").then(pl.lit("1"))
                     .when(pl.col(c) == "false").then(pl.lit("0"))
                     .otherwise(pl.col(c)).cast(pl.Float64, strict=False).alias(c))
    return df.select([num(c) for c in rules])
ours = cols(sys.argv[1])
for peer in sys.argv[2:]:
    theirs = cols(peer)
    assert ours.columns == theirs.columns, f"{peer}: columns differ"
    bad = [c for c in ours.columns
           if not pl.DataFrame({"a": ours[c], "b": theirs[c]}).select(
               (pl.col("a").is_null() & pl.col("b").is_null())
               | ((pl.col("a") - pl.col("b")).abs() <= 1e-9 * pl.col("b").abs().clip(1.0, None))
           ).to_series().fill_null(False).all()]
    assert not bad, f"{peer}: columns {bad[:5]} differ from glyphsieve's"
print(f"answers agree: {ours.height} rows x {ours.width} rules, {len(sys.argv) - 2} peers")
PY
}

# run NAME ROWS N: one hyperfine run of floor, glyphsieve and the peers on N rules; a table.
run() {
  local rows=$1 n=$2 peers=${3:-yes}
  local in=$work/listings_$rows.csv rules=$work/rules_$n.rule
  [[ -s $in ]] || python3 "$kit/make_data.py" "$rows" "$in"
  python3 "$here/make_rules.py" "$n" >"$rules"
  local -a names=(floor glyphsieve) cmds=(
    "$floor $in $work/many_floor.csv"
    "$gs eval --schema $here/peer_schema.yaml $rules $in -o $work/many_glyphsieve.csv"
  )
  if [[ $peers == yes ]]; then
    names+=(polars duckdb)
    cmds+=("python3 $kit/tag_many.py polars $n $in $work/many_polars.csv"
      "python3 $kit/tag_many.py duckdb $n $in $work/many_duckdb.csv")
  fi
  local args=() i
  for i in "${!names[@]}"; do args+=(-n "${names[$i]}" "${cmds[$i]}"); done
  hyperfine -w 1 -r "$runs" --export-json "$work/many.json" "${args[@]}" >/dev/null
  for i in "${!names[@]}"; do
    /usr/bin/time -f '%M' -o "$work/rss_many_${names[$i]}" sh -c "${cmds[$i]}" >/dev/null 2>&1 || true
  done
  if [[ $peers == yes ]]; then
    check "$work/many_glyphsieve.csv" "$work/many_polars.csv" "$work/many_duckdb.csv"
  fi
  python3 - "$work" "$rows" "$n" <<'PY'
import json, sys
work, rows, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
res = json.load(open(f"{work}/many.json"))["results"]
floor = next(r for r in res if r["command"] == "floor")
print(f"\n**{rows:,} rows, {n} rules** ({len(res[0]['times'])} runs each)\n")
print("| command | fastest s | median s | fastest, x floor | median, x floor | peak RSS MB |")
print("| --- | ---: | ---: | ---: | ---: | ---: |")
for r in res:
    name = r["command"]
    rss = int(open(f"{work}/rss_many_{name}").read().split()[-1]) / 1024
    print(f"| {name} | {r['min']:.3f} | {r['median']:.3f} | {r['min'] / floor['min']:.2f} "
          f"| {r['median'] / floor['median']:.2f} | {rss:.1f} |")
PY
  rm -f "$work"/many_*.csv
}

if [[ ${1:-} == --sweep ]]; then
  rows=${2:-100000}
  for n in 1 10 100 1000; do run "$rows" "$n" "${PEERS:-yes}"; done
else
  (($# > 0)) || set -- 100000 1000000
  for rows in "$@"; do run "$rows" 100; done
fi
