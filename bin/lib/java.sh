# Shared launcher for Ferry's Java programs. Source it from a bin/ script, then call one of:
#
#   ferry_java MODULE MAIN_CLASS [JVM_OPTION...] -- [ARG...]
#       exec java with MODULE's jar and its copied dependencies (MODULE/target/lib/*.jar) on
#       the class path: `java JVM_OPTION... $FERRY_JAVA_OPTS -cp ... MAIN_CLASS ARG...`.
#       For long-running programs (the program manager).
#
#   ferry_cli_java MODULE MAIN_CLASS [JVM_OPTION...] -- [ARG...]
#       the same, tuned for short-lived user commands (run, lhosts, migrateprog), which must
#       start in well under 300 ms: C1 only, serial GC, no perf data file, small stacks, and a
#       class-data-sharing archive (MODULE/target/cds/MODULE.jsa, or
#       ${XDG_CACHE_HOME:-~/.cache}/ferry/ when target/ is not writable) made on first use by a
#       training run of dev.ferry.cli.CdsTraining, and made again whenever a jar is rebuilt.
#       Also: JVM messages go to stderr or nowhere, never into the program's stdout
#       (-XX:-DisplayVMOutput also turns the SIGQUIT thread dump off); the JVM keeps the
#       shell's open-files limit; JAVA_TOOL_OPTIONS, JDK_JAVA_OPTIONS and _JAVA_OPTIONS are
#       hidden from the JVM and handed over as FERRY_CALLER_ENV_<NAME> (run gives them back to
#       the program it starts). A closed stdin, stdout or stderr is opened on /dev/null.
#
# Both replace the calling shell (exec) and exit 255 if MODULE is not built. The java binary is
# $JAVA_HOME/bin/java when JAVA_HOME is set, else the first java on PATH. FERRY_HOME is the
# checkout (the directory holding bin/). Everything on the common path is a bash builtin: a
# fork costs more than the whole rest of the script.

FERRY_HOME=${BASH_SOURCE[0]%/lib/java.sh}
[[ $FERRY_HOME == /* ]] || FERRY_HOME=$PWD/$FERRY_HOME
FERRY_HOME=${FERRY_HOME%/.}
case $FERRY_HOME in
    */bin) FERRY_HOME=${FERRY_HOME%/bin} ;;
    *) FERRY_HOME=$FERRY_HOME/.. ;;
esac

# Sets FERRY_CLASSPATH for MODULE, or exits 255 when its jar is missing.
ferry_classpath() {
    local module=$1 target="$FERRY_HOME/$1/target" jar classpath=
    for jar in "$target/$module"-*.jar; do
        case $jar in *-sources.jar | *-javadoc.jar | *-tests.jar) continue ;; esac
        [[ -f $jar ]] && classpath=$jar && break
    done
    if [[ -z $classpath ]]; then
        echo "ferry: $module is not built: run 'mvn -o -q -B install' in $FERRY_HOME" >&2
        exit 255
    fi
    for jar in "$target"/lib/*.jar; do
        [[ -f $jar ]] && classpath+=":$jar"
    done
    FERRY_CLASSPATH=$classpath
}

# Sets FERRY_JAVA to the java binary, or exits 255 when there is none.
ferry_find_java() {
    if [[ -n $JAVA_HOME ]]; then
        FERRY_JAVA=$JAVA_HOME/bin/java
        [[ -x $FERRY_JAVA ]] && return
    else
        FERRY_JAVA=java
        hash java 2>/dev/null && return # a PATH lookup without a fork
    fi
    echo "ferry: cannot find java (install a JDK 17 or set JAVA_HOME)" >&2
    exit 255
}

ferry_java() {
    local module=$1 main=$2
    shift 2
    local jvm_options=()
    while (($#)) && [[ $1 != -- ]]; do
        jvm_options+=("$1")
        shift
    done
    (($#)) && shift
    ferry_classpath "$module"
    ferry_find_java
    # shellcheck disable=SC2086 # FERRY_JAVA_OPTS is a list of words on purpose
    exec "$FERRY_JAVA" "${jvm_options[@]}" $FERRY_JAVA_OPTS -cp "$FERRY_CLASSPATH" "$main" "$@"
}

FERRY_CLI_JVM_OPTIONS=(
    -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -XX:-UsePerfData -Xss512k -XX:-MaxFDLimit
    -XX:+UnlockDiagnosticVMOptions -XX:-DisplayVMOutput
    -Xlog:disable -Xlog:all=warning:stderr -Xlog:cds=off -Xlog:cds+dynamic=off
)

ferry_cli_java() {
    local module=$1 main=$2
    shift 2
    local jvm_options=("${FERRY_CLI_JVM_OPTIONS[@]}")
    while (($#)) && [[ $1 != -- ]]; do
        jvm_options+=("$1")
        shift
    done
    (($#)) && shift
    ferry_classpath "$module"
    ferry_find_java
    local name
    for name in JAVA_TOOL_OPTIONS JDK_JAVA_OPTIONS _JAVA_OPTIONS; do
        if [[ -v $name ]]; then
            export "FERRY_CALLER_ENV_$name=${!name}"
            unset "$name"
        fi
    done
    # A closed stdio fd would be reused by the first file the JVM opens (a jar), and the
    # command would read or write that file: give it /dev/null instead (bash checks
    # /dev/fd/N itself, without opening anything).
    [[ -e /dev/fd/0 ]] || exec </dev/null
    [[ -e /dev/fd/1 ]] || exec >/dev/null
    [[ -e /dev/fd/2 ]] || exec 2>/dev/null
    local archive
    if ferry_cds_archive "$module"; then
        jvm_options+=(-XX:SharedArchiveFile="$archive" -Xshare:auto)
    fi
    # FERRY_CLI_WRAPPER (a shell variable, never exported): a program that execs the JVM for us,
    # bin/run's ferry-signals. Used only when it is built.
    local wrapper=()
    [[ -n ${FERRY_CLI_WRAPPER:-} && -x $FERRY_CLI_WRAPPER ]] && wrapper=("$FERRY_CLI_WRAPPER")
    # shellcheck disable=SC2086
    exec ${wrapper[@]+"${wrapper[@]}"} "$FERRY_JAVA" "${jvm_options[@]}" $FERRY_JAVA_OPTS -cp "$FERRY_CLASSPATH" "$main" "$@"
}

# Sets `archive` (a local of the caller) to a usable CDS archive for MODULE, making one if
# none is fresh. Returns 1 when there is none (then the JVM just starts without it).
ferry_cds_archive() {
    local module=$1 dir
    for dir in "$FERRY_HOME/$module/target/cds" "${XDG_CACHE_HOME:-$HOME/.cache}/ferry"; do
        archive=$dir/$module.jsa
        ferry_cds_fresh && return 0
    done
    for dir in "$FERRY_HOME/$module/target/cds" "${XDG_CACHE_HOME:-$HOME/.cache}/ferry"; do
        archive=$dir/$module.jsa
        if { [[ -d $dir ]] || mkdir -p "$dir" 2>/dev/null; } && [[ -w $dir ]]; then
            ferry_cds_train && return 0
            return 1
        fi
    done
    return 1
}

# True when $archive exists and is newer than every jar on the class path. (A JDK update is
# not noticed: dpkg keeps file times. The JVM then ignores the archive, silently; delete it.)
ferry_cds_fresh() {
    [[ -f $archive ]] || return 1
    local IFS=: jar
    for jar in $FERRY_CLASSPATH; do
        [[ $jar -nt $archive ]] && return 1
    done
    return 0
}

# One training run writes the archive under a private name, then renames it into place, so
# concurrent first uses never see half an archive. Takes about half a second, once.
ferry_cds_train() {
    local partial=$archive.$$.partial
    if "$FERRY_JAVA" "${FERRY_CLI_JVM_OPTIONS[@]}" -Xlog:disable -XX:ArchiveClassesAtExit="$partial" \
        -cp "$FERRY_CLASSPATH" dev.ferry.cli.CdsTraining </dev/null >/dev/null 2>&1 &&
        [[ -s $partial ]] && mv -f "$partial" "$archive"; then
        return 0
    fi
    rm -f "$partial"
    return 1
}
