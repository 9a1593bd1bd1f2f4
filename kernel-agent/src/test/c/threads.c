/*
 * threads TICKS: a test program for capturing and rebuilding every thread of a process.
 * Four threads, each blocked or busy in its own way while the main thread prints "tick N"
 * (one every 40 ms) and writes byte N into a pipe:
 *   cond    waits in pthread_cond_wait (a futex wait that restarts) until the ticks end;
 *   sleeper loops in nanosleep (cannot restart: EINTR, resumed with the remaining time);
 *   reader  blocks in read(2) on the pipe and adds up what arrives until EOF;
 *   busy    computes a fixed hash with integer and floating point (xstate) work.
 * Each thread records, when it starts, what the kernel and glibc hold for it (its tid, TLS
 * value, name, signal mask, robust list, rseq registration, clear-child-tid address,
 * alternate signal stack) and compares when it ends; the main thread then prints one line
 * per thread. The output does not depend on timing, so a checkpointed and restarted run must
 * print exactly what an uninterrupted one prints.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifndef PR_GET_TID_ADDRESS
#define PR_GET_TID_ADDRESS 40
#endif
#define RSEQ_SIG 0x53053053

extern const ptrdiff_t __rseq_offset;

struct probe {
    long tid;
    long tls;
    char name[16];
    sigset_t mask;
    void *robust_head;
    size_t robust_len;
    int rseq_errno;
    void *tid_address;
    stack_t altstack;
};

static __thread long tls_value;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int go;
static volatile int stop;
static int pipe_fds[2];

static int rseq_again(void) {
    /* registering the same area again fails with EBUSY while the registration holds */
    void *area = (char *)__builtin_thread_pointer() + __rseq_offset;
    return syscall(SYS_rseq, area, 32, 0, RSEQ_SIG) < 0 ? errno : 0;
}

static struct probe probe(void) {
    struct probe p;
    memset(&p, 0, sizeof p);
    p.tid = syscall(SYS_gettid);
    p.tls = tls_value;
    prctl(PR_GET_NAME, p.name);
    pthread_sigmask(SIG_BLOCK, NULL, &p.mask);
    syscall(SYS_get_robust_list, 0, &p.robust_head, &p.robust_len);
    p.rseq_errno = rseq_again();
    prctl(PR_GET_TID_ADDRESS, &p.tid_address);
    sigaltstack(NULL, &p.altstack);
    return p;
}

/* "same" or what changed, for one thread */
static void compare(const char *who, const struct probe *a, const struct probe *b, const char *result) {
    char diff[512] = "";
    if (a->tid != b->tid) snprintf(diff + strlen(diff), sizeof diff - strlen(diff), " tid %ld->%ld", a->tid, b->tid);
    if (a->tls != b->tls) snprintf(diff + strlen(diff), sizeof diff - strlen(diff), " tls %ld->%ld", a->tls, b->tls);
    if (strcmp(a->name, b->name)) snprintf(diff + strlen(diff), sizeof diff - strlen(diff), " name %s->%s", a->name, b->name);
    if (memcmp(&a->mask, &b->mask, 8)) snprintf(diff + strlen(diff), sizeof diff - strlen(diff), " sigmask");
    if (a->robust_head != b->robust_head || a->robust_len != b->robust_len)
        snprintf(diff + strlen(diff), sizeof diff - strlen(diff), " robust %p->%p", a->robust_head, b->robust_head);
    if (a->rseq_errno != b->rseq_errno)
        snprintf(diff + strlen(diff), sizeof diff - strlen(diff), " rseq %d->%d", a->rseq_errno, b->rseq_errno);
    if (a->tid_address != b->tid_address)
        snprintf(diff + strlen(diff), sizeof diff - strlen(diff), " tid-address %p->%p", a->tid_address, b->tid_address);
    if (a->altstack.ss_sp != b->altstack.ss_sp || a->altstack.ss_size != b->altstack.ss_size
            || a->altstack.ss_flags != b->altstack.ss_flags)
        snprintf(diff + strlen(diff), sizeof diff - strlen(diff), " altstack");
    printf("%s: %s, %s\n", who, diff[0] ? diff + 1 : "kernel state same", result);
}

struct worker {
    const char *name;
    void *(*run)(struct worker *);
    pthread_t thread;
    struct probe before, after;
    char result[128];
};

static void start_probe(struct worker *w, long tls) {
    tls_value = tls;
    pthread_setname_np(pthread_self(), w->name);
    w->before = probe();
}

static void *cond_waiter(struct worker *w) {
    start_probe(w, 101);
    pthread_mutex_lock(&lock);
    while (!go) pthread_cond_wait(&cond, &lock);
    pthread_mutex_unlock(&lock);
    snprintf(w->result, sizeof w->result, "woken");
    w->after = probe();
    return NULL;
}

static void *sleeper(struct worker *w) {
    start_probe(w, 202);
    static char stack[65536];
    stack_t ss = { .ss_sp = stack, .ss_size = sizeof stack };
    sigaltstack(&ss, NULL);
    w->before = probe();
    long naps = 0;
    while (!stop) {
        struct timespec t = { 0, 15 * 1000 * 1000 };
        while (nanosleep(&t, &t) < 0 && errno == EINTR) { }
        naps++;
    }
    snprintf(w->result, sizeof w->result, "%s", naps > 0 ? "slept" : "never slept");
    w->after = probe();
    return NULL;
}

static void *reader(struct worker *w) {
    sigset_t usr2;
    sigemptyset(&usr2);
    sigaddset(&usr2, SIGUSR2);
    pthread_sigmask(SIG_BLOCK, &usr2, NULL);
    start_probe(w, 303);
    long sum = 0;
    unsigned char buf[64];
    for (;;) {
        ssize_t n = read(pipe_fds[0], buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        for (ssize_t i = 0; i < n; i++) sum += buf[i];
    }
    snprintf(w->result, sizeof w->result, "read sum %ld", sum);
    w->after = probe();
    return NULL;
}

static void *busy(struct worker *w) {
    start_probe(w, 404);
    uint64_t h = 1469598103934665603ULL;
    double d = 0;
    for (uint64_t i = 0; i < 800000000; i++) {
        h = (h ^ i) * 1099511628211ULL;
        d = d * 0.999999 + (double)(h & 0xffff) / 7.0;
    }
    snprintf(w->result, sizeof w->result, "hash %016llx %.3f", (unsigned long long)h, d);
    w->after = probe();
    return NULL;
}

static void *trampoline(void *arg) {
    struct worker *w = arg;
    return w->run(w);
}

int main(int argc, char **argv) {
    if (argc != 2) { fprintf(stderr, "usage: threads TICKS\n"); return 2; }
    setvbuf(stdout, NULL, _IOLBF, 0);
    int ticks = atoi(argv[1]);
    if (pipe(pipe_fds) < 0) { perror("pipe"); return 2; }
    struct worker workers[] = {
        { .name = "cond", .run = cond_waiter }, { .name = "sleeper", .run = sleeper },
        { .name = "reader", .run = reader }, { .name = "busy", .run = busy },
    };
    for (int i = 0; i < 4; i++) pthread_create(&workers[i].thread, NULL, trampoline, &workers[i]);
    struct probe before = probe();
    for (int i = 1; i <= ticks; i++) {
        printf("tick %d\n", i);
        unsigned char b = (unsigned char)i;
        if (write(pipe_fds[1], &b, 1) != 1) return 3;
        struct timespec t = { 0, 40 * 1000 * 1000 };
        while (nanosleep(&t, &t) < 0 && errno == EINTR) { }
    }
    pthread_mutex_lock(&lock);
    go = 1;
    pthread_cond_signal(&cond);
    pthread_mutex_unlock(&lock);
    close(pipe_fds[1]);
    stop = 1;
    for (int i = 0; i < 4; i++) pthread_join(workers[i].thread, NULL);
    struct probe after = probe();
    compare("main", &before, &after, "ticked");
    for (int i = 0; i < 4; i++) compare(workers[i].name, &workers[i].before, &workers[i].after, workers[i].result);
    return 0;
}
