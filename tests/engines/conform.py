#!/usr/bin/env python3
"""Conformance of compiled SQL with `glyphsieve eval`, cell by cell.

Usage: conform.py ENGINE CASES_DIR   (ENGINE: duckdb, postgres, spark)

Each case folder holds data.csv, ENGINE.sql (the compiled query, reading the
table `listings`), and eval.jsonl (eval's rows) or eval.error (eval stopped
on the data: the engine must stop too). The CSV is loaded as a table of text
columns plus a row number, the query is run, and every cell (the input
columns unchanged, then each rule's value; floats exactly, as doubles) is
compared with eval's. Prints a JSON summary; exits 1 on any difference.
PostgreSQL: a private cluster is started in a temporary folder (on a unix
socket there) and stopped after.
"""
import csv
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile

ROW = "__gs_row"


def load_csv(path):
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    if rows and rows[0] and rows[0][0].startswith("\ufeff"):
        rows[0][0] = rows[0][0][1:]
    return rows[0], rows[1:]


def same(a, b):
    """eval's JSON value `a` against the engine's `b`, exactly."""
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        if isinstance(a, int) and isinstance(b, int):
            return a == b
        fa, fb = float(a), float(b)
        if math.isnan(fb):
            return False
        return fa == fb and math.copysign(1, fa) == math.copysign(1, fb) or (fa == fb == 0)
    return a == b


class DuckDb:
    def __init__(self):
        import duckdb

        self.con = duckdb.connect()
        self.con.execute("SET threads = 1")

    def load(self, header, rows):
        self.con.execute("DROP TABLE IF EXISTS listings")
        cols = ", ".join('"%s" VARCHAR' % h.replace('"', '""') for h in header)
        self.con.execute("CREATE TABLE listings (%s, %s BIGINT)" % (cols, ROW))
        if rows:
            marks = ", ".join("?" for _ in range(len(header) + 1))
            self.con.executemany(
                "INSERT INTO listings VALUES (%s)" % marks,
                [r + [i] for i, r in enumerate(rows)],
            )

    def run(self, sql):
        cur = self.con.execute(sql)
        names = [d[0] for d in cur.description]
        return names, cur.fetchall()

    def close(self):
        self.con.close()


class Postgres:
    def __init__(self):
        import psycopg2

        self.dir = tempfile.mkdtemp(prefix="gs-pg-")
        os.chmod(self.dir, 0o777)
        bindir = subprocess.run(
            ["pg_config", "--bindir"], capture_output=True, text=True
        ).stdout.strip() or "/usr/lib/postgresql/15/bin"
        self.bindir = bindir
        as_pg = [] if os.geteuid() != 0 else ["runuser", "-u", "postgres", "--"]
        self.as_pg = as_pg
        data = os.path.join(self.dir, "data")
        subprocess.run(
            as_pg + [os.path.join(bindir, "initdb"), "-D", data, "-U", "gs",
                     "--encoding=UTF8", "--locale=C.UTF-8", "-A", "trust"],
            check=True, capture_output=True,
        )
        subprocess.run(
            as_pg + [os.path.join(bindir, "pg_ctl"), "-D", data, "-w", "-l",
                     os.path.join(self.dir, "log"), "-o",
                     "-c listen_addresses='' -c unix_socket_directories=%s -c fsync=off" % self.dir,
                     "start"],
            check=True, capture_output=True,
        )
        self.data = data
        self.con = psycopg2.connect(host=self.dir, user="gs", dbname="postgres")
        self.con.autocommit = True

    def load(self, header, rows):
        cur = self.con.cursor()
        cur.execute("DROP TABLE IF EXISTS listings")
        cols = ", ".join('"%s" text' % h.replace('"', '""') for h in header)
        cur.execute("CREATE TABLE listings (%s, %s bigint)" % (cols, ROW))
        if rows:
            marks = ", ".join("%s" for _ in range(len(header) + 1))
            cur.executemany(
                "INSERT INTO listings VALUES (%s)" % marks,
                [r + [i] for i, r in enumerate(rows)],
            )

    def run(self, sql):
        cur = self.con.cursor()
        cur.execute(sql.replace("%", "%%") if False else sql)
        names = [d[0] for d in cur.description]
        return names, cur.fetchall()

    def close(self):
        try:
            self.con.close()
        finally:
            subprocess.run(
                self.as_pg + [os.path.join(self.bindir, "pg_ctl"), "-D", self.data,
                              "-m", "immediate", "stop"],
                capture_output=True,
            )
            shutil.rmtree(self.dir, ignore_errors=True)


class Spark:
    def __init__(self):
        from pyspark.sql import SparkSession

        self.spark = (
            SparkSession.builder.master("local[1]")
            .appName("glyphsieve-conformance")
            .config("spark.sql.ansi.enabled", "true")
            .config("spark.ui.enabled", "false")
            .config("spark.sql.shuffle.partitions", "1")
            .getOrCreate()
        )
        self.spark.sparkContext.setLogLevel("ERROR")

    def load(self, header, rows):
        from pyspark.sql.types import LongType, StringType, StructField, StructType

        schema = StructType(
            [StructField(h, StringType()) for h in header]
            + [StructField(ROW, LongType())]
        )
        df = self.spark.createDataFrame([r + [i] for i, r in enumerate(rows)], schema)
        df.createOrReplaceTempView("listings")

    def run(self, sql):
        df = self.spark.sql(sql)
        names = df.columns
        return names, [tuple(r) for r in df.collect()]

    def close(self):
        self.spark.stop()


def main():
    engine_name, cases_dir = sys.argv[1], sys.argv[2]
    engine = {"duckdb": DuckDb, "postgres": Postgres, "spark": Spark}[engine_name]()
    summary = {"engine": engine_name, "cases": 0, "cells": 0, "refused": 0,
               "errors_matched": 0, "differences": []}
    try:
        for case in sorted(os.listdir(cases_dir)):
            d = os.path.join(cases_dir, case)
            sql_path = os.path.join(d, engine_name + ".sql")
            if not os.path.exists(sql_path):
                summary["refused"] += 1
                continue
            summary["cases"] += 1
            header, rows = load_csv(os.path.join(d, "data.csv"))
            engine.load(header, rows)
            with open(sql_path, encoding="utf-8") as f:
                sql = f.read()
            eval_error = os.path.exists(os.path.join(d, "eval.error"))
            try:
                names, got = engine.run(sql)
            except Exception as e:  # the engine stopped the query
                if engine_name == "postgres" and "underflow" in str(e) and not eval_error:
                    # Documented (docs/sql.md): PostgreSQL raises when a float
                    # product or quotient underflows to zero; eval gives 0.
                    summary["documented"] = summary.get("documented", 0) + 1
                    continue
                if eval_error:
                    summary["errors_matched"] += 1
                else:
                    summary["differences"].append(
                        {"case": case, "engine_error": str(e).splitlines()[0][:300]})
                continue
            if eval_error:
                summary["differences"].append({"case": case, "eval_error_engine_ran": True})
                continue
            with open(os.path.join(d, "eval.jsonl"), encoding="utf-8") as f:
                want = [json.loads(line) for line in f if line.strip()]
            k = names.index(ROW)
            got.sort(key=lambda r: r[k])
            if len(got) != len(want):
                summary["differences"].append(
                    {"case": case, "rows": [len(want), len(got)]})
                continue
            for i, (w, g) in enumerate(zip(want, got)):
                row = {n: v for n, v in zip(names, g) if n != ROW}
                if list(w.keys()) != list(row.keys()):
                    summary["differences"].append(
                        {"case": case, "row": i + 1, "columns": [list(w), list(row)]})
                    break
                for col, wv in w.items():
                    summary["cells"] += 1
                    gv = row[col]
                    if col in header:
                        gv = "" if gv is None else gv
                    if not same(wv, gv):
                        summary["differences"].append(
                            {"case": case, "row": i + 1, "column": col,
                             "eval": wv, "engine": repr(gv)})
    finally:
        engine.close()
    json.dump(summary, sys.stdout)
    print()
    sys.exit(1 if summary["differences"] else 0)


if __name__ == "__main__":
    main()
