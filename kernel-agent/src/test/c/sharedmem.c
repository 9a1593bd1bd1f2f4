/*
 * sharedmem TICKS: a test program for shared memory between a parent and its child. Before
 * forking, the parent maps 16 MiB of MAP_SHARED|MAP_ANONYMOUS memory (8 MiB filled with a
 * pattern) and a 1 MiB memfd (mapped shared, its fd kept open). Then both tick TICKS times,
 * 40 ms apart: the child writes its tick into the anonymous area and into the memfd, the parent
 * prints "tick N" and writes its own tick into the anonymous area. At the end the child waits
 * (up to 10 s) until it sees the parent's last tick, reports what it saw in the shared memory
 * and exits; the parent waits for it and prints whether the pattern is intact, what the child
 * wrote and saw, and whether the memfd read through its fd holds what the mapping shows. Every
 * line depends only on the memory staying shared, not on timing.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define AREA (16UL << 20)
#define PATTERN (8UL << 20)
#define MEMFD (1UL << 20)

struct board {   /* at the start of the second half of the anonymous area */
    volatile long child_tick, parent_tick, child_saw_parent, child_done;
};

static void nap(long ms) {
    struct timespec t = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&t, &t) < 0 && errno == EINTR) { }
}

static uint64_t pattern(uint64_t *mem, size_t words, int check) {
    uint64_t x = 88172645463325252ULL, sum = 0;
    for (size_t i = 0; i < words; i++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        if (check) { if (mem[i] != x) return 0; } else mem[i] = x;
        sum += x;
    }
    return sum;
}

int main(int argc, char **argv) {
    if (argc != 2) { fprintf(stderr, "usage: sharedmem TICKS\n"); return 2; }
    setvbuf(stdout, NULL, _IOLBF, 0);
    int ticks = atoi(argv[1]);
    char *area = mmap(NULL, AREA, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    int fd = memfd_create("ferry-shared", 0);
    if (area == MAP_FAILED || fd < 0 || ftruncate(fd, MEMFD) < 0) { perror("setup"); return 2; }
    unsigned char *mfd = mmap(NULL, MEMFD, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (mfd == MAP_FAILED) { perror("mmap memfd"); return 2; }
    uint64_t sum = pattern((uint64_t *)area, PATTERN / 8, 0);
    struct board *b = (struct board *)(area + PATTERN);
    pid_t child = fork();
    if (child < 0) { perror("fork"); return 2; }
    if (child == 0) {
        long last_seen = 0, increases = 0;
        for (int i = 1; i <= ticks; i++) {
            b->child_tick = i;
            mfd[i % MEMFD] = (unsigned char)i;
            long p = b->parent_tick;
            if (p > last_seen) { increases++; last_seen = p; }
            nap(40);
        }
        for (int waited = 0; b->parent_tick < ticks && waited < 250; waited++) nap(40);
        b->child_saw_parent = b->parent_tick == ticks && increases > 0 ? 1 : -1;
        b->child_done = 1;
        _exit(0);
    }
    for (int i = 1; i <= ticks; i++) {
        printf("tick %d\n", i);
        b->parent_tick = i;
        nap(40);
    }
    int status;
    while (waitpid(child, &status, 0) < 0 && errno == EINTR) { }
    printf("pattern %s\n", pattern((uint64_t *)area, PATTERN / 8, 1) == sum ? "ok" : "BAD");
    printf("child wrote tick %ld, %s the parent's last tick, %s\n", b->child_tick,
           b->child_saw_parent == 1 ? "saw" : "did NOT see", b->child_done ? "done" : "NOT done");
    long sum_map = 0, sum_fd = 0;
    unsigned char buf[4096];
    for (size_t i = 0; i < MEMFD; i++) sum_map += mfd[i] * (long)(i + 1);
    for (off_t at = 0; at < (off_t)MEMFD; at += sizeof buf) {
        if (pread(fd, buf, sizeof buf, at) != (ssize_t)sizeof buf) { perror("pread"); return 3; }
        for (size_t i = 0; i < sizeof buf; i++) sum_fd += buf[i] * (long)(at + i + 1);
    }
    printf("memfd %s through its fd (%ld)\n", sum_map == sum_fd ? "the same" : "DIFFERENT", sum_fd);
    printf("child %s\n", WIFEXITED(status) && WEXITSTATUS(status) == 0 ? "exited 0" : "FAILED");
    return 0;
}
