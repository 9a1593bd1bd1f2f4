/*
 * dirtier PAGES [--uid UID]: a test program for the dirty-page trackers.
 * Forks at once so that the worker is not a child of the JVM (the JDK's process reaper would
 * swallow its ptrace stops); the parent only waits and exits with the worker's status.
 * The worker (optionally as UID, dumpable again) maps an arena of PAGES pages, writes each
 * once, prints "ready PID ARENA" and then obeys one command per stdin line, answering "ok ..."
 * after it is done:
 *   w I J K...   write a new value into arena pages I, J, K        -> ok
 *   s I V        write the value V (hex, not 0) into arena page I, so a page can change and
 *                then change back to exactly what it was          -> ok
 *   z I N        drop arena pages I.. (MADV_DONTNEED: they read as zeros, not present) -> ok
 *   R SEED N     write N pseudo-random arena pages                   -> ok
 *   m N          mmap N fresh pages and write each                   -> ok ADDR
 *   b N          grow the heap by N pages with sbrk and write each   -> ok ADDR
 *   M            mremap the arena to a new address (registration is lost) -> ok ADDR
 *   u ADDR N     munmap N pages at ADDR                              -> ok
 *   F I N        map N fresh pages over arena pages I.. (MAP_FIXED: same place, same
 *                permissions, a new mapping: registrations are gone) and write each -> ok
 *   q            check the arena against what it wrote, exit 0 ("bye ok") or 1 ("bye bad")
 * Every "w" and "R" write stores a fresh counter value, so such a page always changes its content.
 */
#define _GNU_SOURCE
#include <grp.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAGE 4096UL

static uint64_t *arena;
static uint64_t *expected;   /* per arena page: the value written, 0 once dropped */
static size_t pages;
static uint64_t counter;

static void store(size_t i, uint64_t value) {
    uint64_t *p = (uint64_t *)((char *)arena + i * PAGE);
    p[0] = value;
    p[PAGE / 8 - 1] = ~value;
    expected[i] = value;
}

static void write_page(size_t i) {
    store(i, ++counter);
}

static void touch(char *base, size_t n) {
    for (size_t i = 0; i < n; i++) base[i * PAGE] = (char)(i + 1);
}

static int check(void) {
    for (size_t i = 0; i < pages; i++) {
        uint64_t *p = (uint64_t *)((char *)arena + i * PAGE);
        uint64_t last = expected[i] ? ~expected[i] : 0;
        if (p[0] != expected[i] || p[PAGE / 8 - 1] != last) return 0;
    }
    return 1;
}

static void drop_to(const char *uid_text) {
    uid_t uid = (uid_t)atoi(uid_text);
    if (setgroups(0, NULL) || setresgid(uid, uid, uid) || setresuid(uid, uid, uid)) { perror("drop"); exit(2); }
    prctl(PR_SET_DUMPABLE, 1);   /* as after an exec: /proc/PID files belong to the user again */
}

static int worker(void) {
    arena = mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    expected = calloc(pages, sizeof *expected);
    if (arena == MAP_FAILED || !expected) { perror("arena"); return 2; }
    for (size_t i = 0; i < pages; i++) write_page(i);
    printf("ready %d %" PRIxPTR "\n", getpid(), (uintptr_t)arena);
    fflush(stdout);
    char line[1 << 16];
    while (fgets(line, sizeof line, stdin)) {
        char *rest = line + 1;
        switch (line[0]) {
        case 'w': {
            char *end;
            for (unsigned long i = strtoul(rest, &end, 10); end != rest; i = strtoul(rest, &end, 10)) {
                if (i < pages) write_page(i);
                rest = end;
            }
            printf("ok\n");
            break;
        }
        case 's': {
            unsigned long i = 0;
            uint64_t value = 0;
            if (sscanf(rest, "%lu %" SCNx64, &i, &value) != 2 || i >= pages || value == 0) { printf("what?\n"); break; }
            store(i, value);
            printf("ok\n");
            break;
        }
        case 'z': {
            size_t first = 0, n = 0;
            if (sscanf(rest, "%zu %zu", &first, &n) != 2 || first + n > pages) { printf("what?\n"); break; }
            if (madvise((char *)arena + first * PAGE, n * PAGE, MADV_DONTNEED)) { perror("madvise"); return 2; }
            for (size_t i = first; i < first + n; i++) expected[i] = 0;
            printf("ok\n");
            break;
        }
        case 'R': {
            unsigned long seed = 0, n = 0;
            sscanf(rest, "%lu %lu", &seed, &n);
            uint64_t x = seed * 2654435761UL + 1;
            for (unsigned long k = 0; k < n; k++) {
                x ^= x << 13; x ^= x >> 7; x ^= x << 17;
                write_page(x % pages);
            }
            printf("ok\n");
            break;
        }
        case 'm': {
            size_t n = strtoul(rest, NULL, 10);
            char *m = mmap(NULL, n * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (m == MAP_FAILED) { perror("mmap"); return 2; }
            touch(m, n);
            printf("ok %" PRIxPTR "\n", (uintptr_t)m);
            break;
        }
        case 'b': {
            size_t n = strtoul(rest, NULL, 10);
            char *old = sbrk((intptr_t)(n * PAGE));
            if (old == (void *)-1) { perror("sbrk"); return 2; }
            touch(old, n);
            printf("ok %" PRIxPTR "\n", (uintptr_t)old);
            break;
        }
        case 'M': {
            /* reserve a new place, then move the arena onto it */
            void *to = mmap(NULL, pages * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            void *moved = mremap(arena, pages * PAGE, pages * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, to);
            if (to == MAP_FAILED || moved == MAP_FAILED) { perror("mremap"); return 2; }
            arena = moved;
            printf("ok %" PRIxPTR "\n", (uintptr_t)arena);
            break;
        }
        case 'u': {
            uintptr_t addr = 0;
            size_t n = 0;
            sscanf(rest, "%" SCNxPTR " %zu", &addr, &n);
            if (munmap((void *)addr, n * PAGE)) { perror("munmap"); return 2; }
            printf("ok\n");
            break;
        }
        case 'F': {
            size_t first = 0, n = 0;
            sscanf(rest, "%zu %zu", &first, &n);
            char *at = (char *)arena + first * PAGE;
            if (mmap(at, n * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != at) {
                perror("mmap fixed");
                return 2;
            }
            touch(at, n);
            printf("ok\n");
            break;
        }
        case 'q': {
            int good = check();
            printf("bye %s\n", good ? "ok" : "bad");
            return good ? 0 : 1;
        }
        default:
            printf("what?\n");
        }
        fflush(stdout);
    }
    return 3;   /* stdin closed without q */
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: dirtier PAGES [--uid UID]\n"); return 2; }
    pages = strtoul(argv[1], NULL, 10);
    pid_t child = fork();
    if (child < 0) { perror("fork"); return 2; }
    if (child == 0) {
        if (argc >= 4 && strcmp(argv[2], "--uid") == 0) drop_to(argv[3]);
        return worker();
    }
    int status;
    while (waitpid(child, &status, 0) < 0) {}
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
