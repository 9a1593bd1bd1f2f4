/*
 * churn MIB MB_PER_S [--layout] [--ticks]: a test and benchmark program for live migration.
 * Maps an arena of MIB MiB, writes every page once, prints "ready PID", then rewrites random
 * pages at MB_PER_S megabytes (10^6 bytes) per second, in 1 ms steps, for ever. Each page holds
 * its index, a version and a check word; a table (in the process' own memory too) holds every
 * page's current version, so a page that a migration lost, tore or brought back stale no longer
 * matches. --layout also changes the memory layout every 100 ms: a side mapping is unmapped and
 * mapped again, and a few arena pages are dropped with MADV_DONTNEED (they must read as zeros).
 * --ticks prints "tick N" every 100 ms. SIGUSR1 checks the arena and prints "check ok PAGES" or
 * "check bad page I", and goes on. SIGTERM ends it.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096UL
#define WORDS (PAGE / 8)
#define SIDE_PAGES 16

static volatile sig_atomic_t check_requested;
static uint64_t *arena, *versions;
static size_t pages;
static uint64_t counter, rng = 88172645463325252ULL;

static void on_usr1(int sig) { (void)sig; check_requested = 1; }

static uint64_t next_random(void) {
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return rng;
}

static void write_page(size_t i) {
    uint64_t *p = arena + i * WORDS;
    uint64_t v = ++counter;
    p[0] = i;
    p[1] = v;
    p[WORDS - 1] = v ^ (i * 0x9e3779b97f4a7c15ULL);
    versions[i] = v;
}

static long check(void) {
    for (size_t i = 0; i < pages; i++) {
        uint64_t *p = arena + i * WORDS, v = versions[i];
        int good = v == 0 ? (p[0] == 0 && p[1] == 0 && p[WORDS - 1] == 0)
                          : (p[0] == i && p[1] == v && p[WORDS - 1] == (v ^ (i * 0x9e3779b97f4a7c15ULL)));
        if (!good) return -(long)i - 1;
    }
    return (long)pages;
}

static uint64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000ULL + (uint64_t)t.tv_nsec;
}

static char *side;

static void change_layout(void) {
    if (side) munmap(side, SIDE_PAGES * PAGE);
    side = mmap(NULL, SIDE_PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (side == MAP_FAILED) { perror("mmap"); exit(3); }
    memset(side, 0x5a, SIDE_PAGES * PAGE);
    size_t i = next_random() % (pages > 4 ? pages - 4 : 1);
    size_t n = pages - i < 4 ? pages - i : 4;
    madvise(arena + i * WORDS, n * PAGE, MADV_DONTNEED);
    for (size_t k = 0; k < n; k++) versions[i + k] = 0;
}

int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: churn MIB MB_PER_S [--layout] [--ticks]\n"); return 2; }
    pages = (size_t)atol(argv[1]) * 256;
    double rate = atof(argv[2]);
    int layout = 0, ticks = 0;
    for (int a = 3; a < argc; a++) {
        if (!strcmp(argv[a], "--layout")) layout = 1;
        else if (!strcmp(argv[a], "--ticks")) ticks = 1;
        else { fprintf(stderr, "churn: unknown option %s\n", argv[a]); return 2; }
    }
    struct sigaction sa = { .sa_handler = on_usr1, .sa_flags = SA_RESTART };
    sigaction(SIGUSR1, &sa, NULL);
    arena = mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    versions = calloc(pages ? pages : 1, sizeof *versions);
    if (arena == MAP_FAILED || !versions) { perror("churn"); return 3; }
    for (size_t i = 0; i < pages; i++) write_page(i);
    printf("ready %d\n", (int)getpid());
    fflush(stdout);
    double per_ms = rate * 1e6 / PAGE / 1000.0, owed = 0;
    uint64_t start = now_ns(), last_layout = start, last_tick = start;
    long tick = 0;
    for (;;) {
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
        owed += per_ms;
        for (; owed >= 1 && pages; owed -= 1) write_page(next_random() % pages);
        uint64_t t = now_ns();
        if (layout && t - last_layout >= 100000000ULL) { change_layout(); last_layout = t; }
        if (ticks && t - last_tick >= 100000000ULL) { printf("tick %ld\n", tick++); fflush(stdout); last_tick = t; }
        if (check_requested) {
            check_requested = 0;
            long r = check();
            if (r >= 0) printf("check ok %ld\n", r); else printf("check bad page %ld\n", -r - 1);
            fflush(stdout);
        }
    }
}
