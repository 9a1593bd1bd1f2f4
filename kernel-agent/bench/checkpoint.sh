#!/bin/sh
# Checkpoint/restart benchmark of the kernel agent (as root, after
# `mvn -o -q -B -pl kernel-agent install`, which builds the test classes and C programs).
#   kernel-agent/bench/checkpoint.sh [RUNS [DISK_DIR [SIZES_MIB]]]     e.g. 3 /var/tmp 64,1024
# DISK_DIR "none" skips the disk (+fsync) runs and measures images on tmpfs (/dev/shm) only.
# Runs with a 256 MiB heap: page data never passes through the Java heap.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
cp_file=target/bench.classpath
if [ ! -s "$cp_file" ] || [ pom.xml -nt "$cp_file" ]; then
    mvn -o -q -B dependency:build-classpath -Dmdep.outputFile="$cp_file" >/dev/null
fi
exec java -Xmx256m ${FERRY_BENCH_JAVA_OPTS:-} -Dferry.kernelAgent="$here" \
    -cp "target/test-classes:target/classes:$(cat "$cp_file")" dev.ferry.agent.bench.CheckpointBench "$@"
