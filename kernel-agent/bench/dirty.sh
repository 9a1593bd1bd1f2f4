#!/bin/sh
# Dirty-tracker benchmark of the kernel agent (as root, after
# `mvn -o -q -B -pl kernel-agent install`, which builds the test classes and C programs):
# cost of one collect() over a 1 GiB program with 0, 1 and 10 MB rewritten between collects.
#   kernel-agent/bench/dirty.sh [RUNS [MIB [TRACKERS]]]     e.g. 7 1024 uffd-wp,hash
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
cp_file=target/bench.classpath
if [ ! -s "$cp_file" ] || [ pom.xml -nt "$cp_file" ]; then
    mvn -o -q -B dependency:build-classpath -Dmdep.outputFile="$cp_file" >/dev/null
fi
exec java -Xmx256m ${FERRY_BENCH_JAVA_OPTS:-} \
    -cp "target/test-classes:target/classes:$(cat "$cp_file")" dev.ferry.agent.dirty.DirtyTrackerBench "$@"
