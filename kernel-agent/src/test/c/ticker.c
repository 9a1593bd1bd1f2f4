/*
 * ticker MIB OFFSET_FILE APPEND_FILE: a test program for capture and rebuild.
 * Fills MIB MiB of heap with a pattern, then prints "tick N" lines (one write(2) each, to
 * stdout, to OFFSET_FILE at its file offset and to APPEND_FILE opened O_APPEND) every few
 * milliseconds until SIGUSR1 arrives (its handler is installed with sigaction); then checks the
 * pattern, grows the heap with sbrk, checks that CLOCK_MONOTONIC did not go back, prints
 * "sum ok", "brk ok", "clock ok", "pid P" and exits 0.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_usr1(int sig) { (void)sig; stop = 1; }

static uint64_t pattern(uint64_t *mem, size_t words, int check) {
    uint64_t x = 88172645463325252ULL, sum = 0;
    for (size_t i = 0; i < words; i++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        if (check) { if (mem[i] != x) return 0; } else mem[i] = x;
        sum += x;
    }
    return sum;
}

static void say(const char *text) {
    if (write(1, text, strlen(text)) < 0) _exit(3);
}

int main(int argc, char **argv) {
    if (argc != 4) { fprintf(stderr, "usage: ticker MIB OFFSET_FILE APPEND_FILE\n"); return 2; }
    struct sigaction sa = { .sa_handler = on_usr1, .sa_flags = SA_RESTART };
    sigaction(SIGUSR1, &sa, NULL);
    int offset_fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int append_fd = open(argv[3], O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (offset_fd < 0 || append_fd < 0) { perror("open"); return 2; }
    size_t words = (size_t)atoi(argv[1]) << 17;
    uint64_t *mem = malloc(words * 8 + 8);
    uint64_t sum = pattern(mem, words, 0);
    struct timespec t0, pause = { 0, 5 * 1000 * 1000 };
    clock_gettime(CLOCK_MONOTONIC, &t0);
    char line[64];
    for (int i = 1; !stop; i++) {
        int n = snprintf(line, sizeof line, "tick %d\n", i);
        if (write(1, line, n) != n || write(offset_fd, line, n) != n || write(append_fd, line, n) != n) return 3;
        nanosleep(&pause, NULL);
    }
    say(pattern(mem, words, 1) == sum ? "sum ok\n" : "sum BAD\n");
    char *grown = sbrk(1 << 20);
    if (grown != (void *)-1) { memset(grown, 7, 1 << 20); say("brk ok\n"); }
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    say(t1.tv_sec > t0.tv_sec || (t1.tv_sec == t0.tv_sec && t1.tv_nsec >= t0.tv_nsec) ? "clock ok\n" : "clock BAD\n");
    snprintf(line, sizeof line, "pid %d\n", (int)getpid());
    say(line);
    return 0;
}
