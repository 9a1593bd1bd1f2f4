/*
 * family TICKS: a test program for capturing and rebuilding a process tree. The parent makes
 * three children, each with a pipe back to it, and remembers their pids:
 *   child 1 says "early" into its pipe and exits 11 at once (a zombie until the end: its
 *           parent waits for it last, and its pipe keeps the bytes with no writer left);
 *   child 2 ticks TICKS/2 times in nanosleep, then says how many ticks and exits 12;
 *   child 3 computes a hash, says it, then dies of SIGUSR1 (sent to itself).
 * The parent prints "tick N" TICKS times (every 40 ms), then reads each child's pipe to its end
 * and waits for each by pid (3, 2, 1), printing what it said and how it ended, and whether the
 * pids, parent pids, process group and session everyone sees are still the ones it saw at the
 * start. Nothing printed depends on timing or on the pid numbers themselves.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void nap(long ms) {
    struct timespec t = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&t, &t) < 0 && errno == EINTR) { }
}

static void say(int fd, const char *text) {
    if (write(fd, text, strlen(text)) < 0) _exit(3);
}

/* what a child checks about itself before it ends: its parent and group are what it started with */
static const char *same(pid_t ppid0, pid_t pgrp0, pid_t sid0) {
    return getppid() == ppid0 && getpgrp() == pgrp0 && getsid(0) == sid0 ? "ids same" : "ids CHANGED";
}

static void child(int which, int ticks, int fd) {
    pid_t ppid0 = getppid(), pgrp0 = getpgrp(), sid0 = getsid(0);
    char text[160];
    if (which == 1) {
        say(fd, "early");
        _exit(11);
    }
    if (which == 2) {
        int n = 0;
        for (int i = 0; i < ticks / 2; i++, n++) nap(40);
        snprintf(text, sizeof text, "ticked %d, %s", n, same(ppid0, pgrp0, sid0));
        say(fd, text);
        _exit(12);
    }
    uint64_t h = 1469598103934665603ULL;
    for (uint64_t i = 0; i < 400000000; i++) h = (h ^ i) * 1099511628211ULL;
    snprintf(text, sizeof text, "hash %016llx, %s", (unsigned long long)h, same(ppid0, pgrp0, sid0));
    say(fd, text);
    close(fd);
    kill(getpid(), SIGUSR1);
    _exit(13);
}

int main(int argc, char **argv) {
    if (argc != 2) { fprintf(stderr, "usage: family TICKS\n"); return 2; }
    setvbuf(stdout, NULL, _IOLBF, 0);
    int ticks = atoi(argv[1]);
    pid_t me = getpid(), parent = getppid(), group = getpgrp(), session = getsid(0);
    pid_t kids[4];
    int pipes[4];
    for (int i = 1; i <= 3; i++) {
        int p[2];
        if (pipe(p) < 0) { perror("pipe"); return 2; }
        kids[i] = fork();
        if (kids[i] < 0) { perror("fork"); return 2; }
        if (kids[i] == 0) {
            close(p[0]);
            for (int j = 1; j < i; j++) close(pipes[j]);
            child(i, ticks, p[1]);
        }
        close(p[1]);
        pipes[i] = p[0];
    }
    for (int i = 1; i <= ticks; i++) {
        printf("tick %d\n", i);
        nap(40);
    }
    int order[] = { 3, 2, 1 };
    for (int k = 0; k < 3; k++) {
        int i = order[k];
        char said[160] = "";
        size_t got = 0;
        ssize_t n;
        while ((n = read(pipes[i], said + got, sizeof said - 1 - got)) > 0 || (n < 0 && errno == EINTR)) {
            if (n > 0) got += (size_t)n;
        }
        said[got] = '\0';
        int status;
        pid_t done;
        while ((done = waitpid(kids[i], &status, 0)) < 0 && errno == EINTR) { }
        char how[64];
        if (done != kids[i]) snprintf(how, sizeof how, "waitpid failed (%s)", strerror(errno));
        else if (WIFEXITED(status)) snprintf(how, sizeof how, "exited %d", WEXITSTATUS(status));
        else snprintf(how, sizeof how, "killed by signal %d", WTERMSIG(status));
        printf("child %d said \"%s\", %s\n", i, said, how);
    }
    printf("parent: %s\n", getpid() == me && getppid() == parent && getpgrp() == group && getsid(0) == session
            ? "ids same" : "ids CHANGED");
    return 0;
}
