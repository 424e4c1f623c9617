"""Tag GPU listings with glyphsieve rules in Spark, from SQL compiled once.

    glyphsieve compile rules/ --to sql --dialect spark --header-from examples/listings.csv > tag.sql
    spark-submit examples/spark_tag.py tag.sql examples/listings.csv tagged.parquet

Reads the CSV at INPUT (a file or a folder of them, any path Spark reads:
local, hdfs://, s3a://) with every column as text, runs the compiled query
over it as the view `listings`, and writes the tagged rows as Parquet to
OUTPUT. ANSI mode is on: an int overflow stops the job, as in eval (E501).
The same script runs on a cluster with spark-submit --master ....
"""

import sys

from pyspark.sql import SparkSession


def main(argv):
    if len(argv) != 4:
        sys.exit("usage: spark_tag.py QUERY.sql INPUT OUTPUT")
    query_path, source, output = argv[1:]
    spark = (
        SparkSession.builder.appName("glyphsieve-tag")
        .config("spark.sql.ansi.enabled", "true")
        .getOrCreate()
    )
    with open(query_path, encoding="utf-8") as f:
        query = f.read()
    # header=True and no schema inference: every column is a string, as the
    # compiled query expects (it reads cells as eval reads them).
    spark.read.csv(source, header=True).createOrReplaceTempView("listings")
    spark.sql(query).write.mode("overwrite").parquet(output)
    spark.stop()


if __name__ == "__main__":
    main(sys.argv)
