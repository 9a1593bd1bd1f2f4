/*
 * ferry-signals: starts the `run` command's JVM so that it can relay SIGQUIT too.
 *
 *   ferry-signals JAVA [JVM-ARGS...]
 *
 * HotSpot keeps SIGQUIT for thread dumps and refuses to let Java code handle it, so `run`
 * could not forward Ctrl-\ to its program. This wrapper blocks the signals `run` relays
 * (HUP INT QUIT TERM TSTP CONT; those the caller left ignored stay ignored and are not
 * relayed, as for a local program), opens a signalfd for them that the JVM inherits, says
 * where in FERRY_CALLER_SIGNAL_FD, and execs JAVA with -Xrs (so HotSpot leaves those signals alone)
 * and the --add-opens that lets Java read from an inherited descriptor. Blocked signals stay
 * pending and are read from the signalfd; SIGCONT still continues the process. If the
 * signalfd cannot be made, it execs JAVA unchanged (Java then handles all but SIGQUIT itself).
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

static const int relayed[] = {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGTSTP, SIGCONT};

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: ferry-signals JAVA [JVM-ARGS...]\n");
        return 255;
    }
    sigset_t set;
    sigemptyset(&set);
    for (size_t i = 0; i < sizeof relayed / sizeof relayed[0]; i++) {
        struct sigaction old;
        if (sigaction(relayed[i], NULL, &old) == 0 && old.sa_handler != SIG_IGN) {
            sigaddset(&set, relayed[i]);
        }
    }
    int fd = signalfd(-1, &set, 0); /* no CLOEXEC: the JVM inherits it */
    if (fd < 0 || sigprocmask(SIG_BLOCK, &set, NULL) != 0) {
        if (fd >= 0) {
            close(fd);
        }
        execvp(argv[1], argv + 1);
        perror("ferry-signals: exec");
        return 255;
    }
    char fdtext[16];
    snprintf(fdtext, sizeof fdtext, "%d", fd);
    setenv("FERRY_CALLER_SIGNAL_FD", fdtext, 1);

    char **args = calloc((size_t)argc + 3, sizeof *args);
    if (args == NULL) {
        perror("ferry-signals");
        return 255;
    }
    args[0] = argv[1];
    args[1] = "-Xrs";
    args[2] = "--add-opens=java.base/java.io=ALL-UNNAMED";
    memcpy(args + 3, argv + 2, (size_t)(argc - 2) * sizeof *args);
    args[argc + 1] = NULL;
    execvp(args[0], args);
    perror("ferry-signals: exec");
    return 255;
}
