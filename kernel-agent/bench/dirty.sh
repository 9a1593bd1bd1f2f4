#!/bin/sh
# Dirty-tracker benchmark of the kernel agent (as root, after
# `mvn -o -q -B -pl kernel-agent install`, which builds the test classes and C programs):
# cost of one collect() over a 1 GiB program with 0, 1 and 10 MB rewritten between collects.
#   kernel-agent/bench/dirty.sh [RUNS [MIB [TRACKERS]]]     e.g. 7 1024 uffd-wp,hash
# The class path of the dependencies (JNA) comes from FERRY_BENCH_CLASSPATH when set (bin/bench-migration
# runs this script from a snapshot of the build, where there is no pom.xml), else from
# `mvn -o dependency:build-classpath`, cached in target/bench.classpath; FERRY_MAVEN_ARGS is added
# to that mvn call (e.g. FERRY_MAVEN_ARGS=-Dmaven.repo.local=/path/to/repo).
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
if [ -n "${FERRY_BENCH_CLASSPATH:-}" ]; then
    classpath=$FERRY_BENCH_CLASSPATH
else
    cp_file=target/bench.classpath
    if [ ! -s "$cp_file" ] || [ pom.xml -nt "$cp_file" ]; then
        # shellcheck disable=SC2086 # FERRY_MAVEN_ARGS is a list of words on purpose
        mvn -o -q -B ${FERRY_MAVEN_ARGS:-} dependency:build-classpath -Dmdep.outputFile="$cp_file" >/dev/null
    fi
    classpath=$(cat "$cp_file")
fi
exec java -Xmx256m ${FERRY_BENCH_JAVA_OPTS:-} \
    -cp "target/test-classes:target/classes:$classpath" dev.ferry.agent.dirty.DirtyTrackerBench "$@"
