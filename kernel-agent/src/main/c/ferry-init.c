/*
 * ferry-init: the launcher and the init of one Ferry logical host (LH).
 *
 *   ferry-init --cgroup-procs FILE [--cgroup-procs FILE ...] --status FILE
 *              --uid U --gid G [--groups G1,G2,...] [--umask OCTAL] [--cwd DIR]
 *              [--nice N] [--rlimit RES:SOFT:HARD ...] -- PROG ARGV0 [ARG ...]
 *   ferry-init --cgroup-procs FILE [...] --status FILE --restore PID [--restore-tree TREE]
 *   ferry-init --host-features
 *
 * --host-features prints "xcr0 HEX xstate-size N" (XCR0 and the size of the XSAVE area for
 * the enabled features, which is the size of ptrace's NT_X86_XSTATE) and exits, so the kernel
 * agent can refuse an image of another CPU state layout before it creates anything.
 * RES is the Linux resource number (RLIMIT_NOFILE = 7, ...); SOFT and HARD are decimal or
 * "unlimited". PROG is searched along the PATH of this process' environment, which is the
 * program's environment (the caller sets it). Without --groups the program has no
 * supplementary groups; --umask defaults to 022, --cwd to "/", --nice to 0.
 *
 * 1. Launcher (caller's pid namespace): puts the init into the LH's cgroups (born inside a
 *    single cgroup2 cgroup with clone3(CLONE_INTO_CGROUP); otherwise the launcher joins every
 *    --cgroup-procs file first and the init inherits them); opens --status; setsid() so a terminal signal aimed at the
 *    caller's session never reaches the LH; unshare(CLONE_NEWPID|CLONE_NEWNS); forks the init;
 *    closes its stdio; waits. Exits 0, or 1 for a launch failure ("ferry-init: ..." on stderr).
 * 2. Init (pid 1): makes "/" a slave mount, mounts a fresh /proc, forks exactly once (pid 2),
 *    closes its stdio copies (so the program's stdout reaches EOF when the program ends),
 *    reaps every child and, when pid 2 ends, writes the status line and exits, which makes
 *    the kernel kill whatever is left in the namespace.
 * 3. pid 2: own process group, rlimits, nice, umask, groups/gid/uid, chdir, default signal
 *    dispositions and an empty signal mask, then execvp. chdir comes after the credentials are
 *    dropped: the directory must be reachable by the user (root may not enter a root-squashed
 *    NFS home, and the user must not be parked in a directory it cannot open).
 *
 * Restore mode (--restore PID, PID >= 2): the init creates, instead of pid 2 running a program,
 * one stub at pid PID (clone3 with set_tid, issued inside the new namespace) that keeps only
 * fds 0/1/2 (the launcher's, i.e. the new stdio pipes), leads its own process group and loops
 * in pause(); it stays root. The kernel agent then seizes it with ptrace and rebuilds the
 * captured program in it (dev.ferry.agent.rebuild). The init reports the stub's wait status
 * exactly like pid 2's in launch mode. --uid/--gid and the program options are not used.
 *
 * --restore-tree TREE (with --restore PID, which must be one of its processes, a child of the
 * init) makes a stub for every process of a captured process tree instead, each at its old pid
 * and created by its old parent, so that parent links, sessions and the pids processes hold all
 * come out as they were. TREE is a comma-separated list of PID:PPID:PGID:SID:STATE, parents
 * before their children; PPID 1 is the init; SID 0 is the session the LH was started in (the
 * launcher's, outside the namespace); STATE is "r" for a process to rebuild or "zSTATUS" for a
 * zombie child still waited for, which exits at once with the raw wait status STATUS (a signal
 * death without its core-dump bit) and is left for its parent to reap. Each stub first becomes
 * a session leader (SID == PID) or process group leader (PGID == PID), then creates its own
 * children in pid order (they inherit its session), then keeps fds 0-2 and waits in pause(). A
 * stub joins a process group led by another process later (the kernel agent injects setpgid,
 * once every group leader exists).
 *
 * Status file, one text line:  "exited WAITSTATUS"  (pid 2's raw wait status)
 *                              "exec-failed ERRNO"  (exec or chdir failed)
 *                              "launch-failed TEXT" (setup failed before the program ran)
 *                              "init-killed WAITSTATUS" (the init ended without reporting)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_PROCS_FILES 8
#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif
#define CGROUP2_SUPER_MAGIC 0x63677270
#define MAX_RLIMITS 16

struct options {
    const char *procs[MAX_PROCS_FILES];
    int nprocs;
    const char *status;
    long long uid, gid;
    gid_t *groups;
    size_t ngroups;
    mode_t umask;
    const char *cwd;
    int nice;
    struct { int resource; struct rlimit limit; } rlimits[MAX_RLIMITS];
    int nrlimits;
    const char *prog;
    char **argv;
    long restore_pid;   /* 0: launch mode */
    const char *tree;   /* --restore-tree, or NULL */
};

/* One process of a --restore-tree. */
struct tree_entry { pid_t pid, ppid, pgid, sid; int zombie, status; };
#define MAX_TREE 4096
static struct tree_entry tree[MAX_TREE];
static int tree_size;

static int status_fd = -1;

/* A launch failure before the program runs: tell the caller on stderr and in the status file. */
static void fail(const char *what, int err) {
    const char *why = err ? strerror(err) : "invalid arguments";
    fprintf(stderr, "ferry-init: %s: %s\n", what, why);
    if (status_fd >= 0) dprintf(status_fd, "launch-failed %s: %s\n", what, why);
    _exit(1);
}

static unsigned long long number(const char *text, int base, const char *what) {
    char *end;
    errno = 0;
    unsigned long long value = strtoull(text, &end, base);
    if (errno || end == text || *end || text[0] == '-') fail(what, errno);
    return value;
}

static int signed_number(const char *text, const char *what) {
    char *end;
    errno = 0;
    long value = strtol(text, &end, 10);
    if (errno || end == text || *end) fail(what, errno);
    return (int)value;
}

static rlim_t limit_value(const char *text) {
    return strcmp(text, "unlimited") == 0 ? RLIM_INFINITY : (rlim_t)number(text, 10, "--rlimit");
}

static void parse_rlimit(struct options *o, char *spec) {
    char *soft = strchr(spec, ':'), *hard = soft ? strchr(soft + 1, ':') : NULL;
    if (!hard || o->nrlimits == MAX_RLIMITS) fail("--rlimit", 0);
    *soft++ = '\0';
    *hard++ = '\0';
    o->rlimits[o->nrlimits].resource = (int)number(spec, 10, "--rlimit");
    o->rlimits[o->nrlimits].limit.rlim_cur = limit_value(soft);
    o->rlimits[o->nrlimits].limit.rlim_max = limit_value(hard);
    o->nrlimits++;
}

static void parse_groups(struct options *o, char *list) {
    size_t n = *list ? 1 : 0;
    for (const char *c = list; *c; c++) n += *c == ',';
    free(o->groups);   /* the last --groups wins */
    o->ngroups = 0;
    o->groups = calloc(n ? n : 1, sizeof(gid_t));
    if (!o->groups) fail("--groups", ENOMEM);
    for (char *g = strtok(list, ","); g; g = strtok(NULL, ","))
        o->groups[o->ngroups++] = (gid_t)number(g, 10, "--groups");
}

static void parse(int argc, char **argv, struct options *o) {
    *o = (struct options){ .uid = -1, .gid = -1, .umask = 022, .cwd = "/" };
    int i = 1;
    for (; i < argc && strcmp(argv[i], "--") != 0; i += 2) {
        const char *opt = argv[i];
        char *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (!val) fail(opt, 0);
        if (!strcmp(opt, "--cgroup-procs") && o->nprocs < MAX_PROCS_FILES) o->procs[o->nprocs++] = val;
        else if (!strcmp(opt, "--status")) o->status = val;
        else if (!strcmp(opt, "--uid")) o->uid = (long long)number(val, 10, opt);
        else if (!strcmp(opt, "--gid")) o->gid = (long long)number(val, 10, opt);
        else if (!strcmp(opt, "--groups")) parse_groups(o, val);
        else if (!strcmp(opt, "--umask")) o->umask = (mode_t)number(val, 8, opt) & 0777;
        else if (!strcmp(opt, "--cwd")) o->cwd = val;
        else if (!strcmp(opt, "--nice")) o->nice = signed_number(val, opt);
        else if (!strcmp(opt, "--rlimit")) parse_rlimit(o, val);
        else if (!strcmp(opt, "--restore")) o->restore_pid = (long)number(val, 10, opt);
        else if (!strcmp(opt, "--restore-tree")) o->tree = val;
        else fail(opt, 0);
    }
    if (o->restore_pid) {
        if (i != argc || !o->status || o->restore_pid < 2 || o->restore_pid > 4194304) fail("usage", 0);
        return;
    }
    if (o->tree) fail("--restore-tree without --restore", 0);
    /* after "--": PROG ARGV0 [ARG ...] */
    if (i + 2 >= argc || !o->status || o->uid < 0 || o->gid < 0) fail("usage", 0);
    o->prog = argv[i + 1];
    o->argv = &argv[i + 2];
}

/* What pid 2 tells the init through a close-on-exec pipe, only when it could not exec. */
struct child_failure { int err; char what[28]; };

static void child_fail(int report_fd, const char *what) {
    struct child_failure f = { .err = errno };
    snprintf(f.what, sizeof f.what, "%s", what);
    if (write(report_fd, &f, sizeof f) < 0) { /* the init then reports the exit status */ }
    _exit(127);
}

static void run_program(const struct options *o, int report_fd) {
    if (setpgid(0, 0) < 0) child_fail(report_fd, "setpgid");
    for (int i = 0; i < o->nrlimits; i++)
        if (setrlimit(o->rlimits[i].resource, &o->rlimits[i].limit) < 0) child_fail(report_fd, "setrlimit");
    if (setpriority(PRIO_PROCESS, 0, o->nice) < 0) child_fail(report_fd, "setpriority");
    umask(o->umask);
    if (setgroups(o->ngroups, o->groups) < 0) child_fail(report_fd, "setgroups");
    if (setgid((gid_t)o->gid) < 0) child_fail(report_fd, "setgid");
    if (setuid((uid_t)o->uid) < 0) child_fail(report_fd, "setuid");
    if (chdir(o->cwd) < 0) child_fail(report_fd, "chdir");
    /* Raw rt_sigaction: glibc refuses its internal signals 32/33, which a spawner may have left
     * ignored; a zeroed kernel sigaction is SIG_DFL with no flags. Ignored dispositions would
     * survive the exec. */
    unsigned long dfl[4] = { 0 };   /* handler, flags, restorer, mask (x86_64 and arm64 layout) */
    for (int sig = 1; sig < _NSIG; sig++) syscall(SYS_rt_sigaction, sig, dfl, NULL, sizeof(unsigned long));
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    execvp(o->prog, o->argv);
    child_fail(report_fd, "exec");
}

/* struct clone_args of clone3(2), up to set_tid_size (CLONE_ARGS_SIZE_VER1 = 80 bytes). */
struct clone3_args {
    unsigned long long flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls,
                       set_tid, set_tid_size, cgroup;
};

/* The restore stub: only the new stdio, nothing blocked, then waits to be taken over by the
 * kernel agent's tracer. A lone stub leads its own process group (`own_group`); one of a tree
 * took its group already or joins it later. */
static void run_stub(int own_group) {
    syscall(SYS_close_range, 3U, ~0U, 0U);
    if (own_group) setpgid(0, 0);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    for (;;) pause();
}

/* A child of the caller at pid `pid` (clone3 with set_tid, issued inside the LH's namespace):
 * returns 0 in the child, as fork does. */
static pid_t clone_at(pid_t pid) {
    struct clone3_args args = { .exit_signal = SIGCHLD, .set_tid = (unsigned long long)(uintptr_t)&pid,
                                .set_tid_size = 1 };
    long child = syscall(SYS_clone3, &args, sizeof args);
    if (child < 0) fail("clone3 at a restored pid", errno);
    return (pid_t)child;
}

/* "PID:PPID:PGID:SID:STATE,..." into tree[]; parents must come before their children. */
static void parse_tree(const struct options *o) {
    char *copy = strdup(o->tree);
    if (!copy) fail("--restore-tree", ENOMEM);
    int has_program = 0;
    for (char *item = strtok(copy, ","); item; item = strtok(NULL, ",")) {
        struct tree_entry e = { 0 };
        char state[24];
        if (tree_size == MAX_TREE || sscanf(item, "%d:%d:%d:%d:%23s", &e.pid, &e.ppid, &e.pgid, &e.sid, state) != 5)
            fail("--restore-tree", 0);
        if (state[0] == 'z') {
            e.zombie = 1;
            e.status = (int)number(state + 1, 10, "--restore-tree");
        } else if (strcmp(state, "r") != 0) {
            fail("--restore-tree", 0);
        }
        int parent_known = e.ppid == 1;
        for (int i = 0; i < tree_size; i++) {
            if (tree[i].pid == e.pid) fail("--restore-tree: a pid twice", 0);
            if (tree[i].pid == e.ppid && !tree[i].zombie) parent_known = 1;
        }
        if (e.pid < 2 || !parent_known || (e.zombie && e.ppid == 1)) fail("--restore-tree", 0);
        if (e.pid == o->restore_pid && e.ppid == 1 && !e.zombie) has_program = 1;
        tree[tree_size++] = e;
    }
    free(copy);
    if (!has_program) fail("--restore-tree does not hold the --restore pid as a child of the init", 0);
}

/* A zombie-to-be: ends at once with its recorded wait status (raw syscalls: after a raw
 * clone3, glibc's cached tid is the parent's, so raise() would signal the parent). */
static void die_as(int status) {
    if (WIFSIGNALED(status)) {
        int sig = WTERMSIG(status);
        struct rlimit none = { 0, 0 };
        setrlimit(RLIMIT_CORE, &none);
        unsigned long dfl[4] = { 0 };
        syscall(SYS_rt_sigaction, sig, dfl, NULL, sizeof(unsigned long));
        sigset_t all;
        sigemptyset(&all);
        sigprocmask(SIG_SETMASK, &all, NULL);
        syscall(SYS_kill, (pid_t)syscall(SYS_getpid), sig);
    }
    _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 127);
}

static void spawn_children(pid_t parent);

/* In the new process of tree entry `e`: its session or group, its children, then the stub. */
static void become(const struct tree_entry *e) {
    if (e->sid == e->pid) {
        if (setsid() < 0) _exit(126);
    } else if (e->pgid == e->pid) {
        setpgid(0, 0);
    }
    if (e->zombie) die_as(e->status);   /* a zombie may still lead the group of live processes */
    spawn_children(e->pid);
    run_stub(0);
}

static void spawn_children(pid_t parent) {
    for (int i = 0; i < tree_size; i++) {
        if (tree[i].ppid == parent && clone_at(tree[i].pid) == 0) become(&tree[i]);
    }
}

/* Creates the process that pid 2 would be, at pid o->restore_pid, as a stub; with a tree, every
 * process of it. Returns the program's pid (the one whose end the init reports). */
static pid_t start_stub(const struct options *o) {
    if (!o->tree) {
        pid_t child = clone_at((pid_t)o->restore_pid);
        if (child == 0) run_stub(1);
        return child;
    }
    parse_tree(o);
    spawn_children(1);
    return (pid_t)o->restore_pid;
}

static int run_init(const struct options *o) {
    if (mount(NULL, "/", NULL, MS_SLAVE | MS_REC, NULL) < 0) fail("make / a slave mount", errno);
    if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) fail("mount /proc", errno);
    int report[2];
    if (pipe2(report, O_CLOEXEC) < 0) fail("pipe", errno);
    pid_t program = o->restore_pid ? start_stub(o) : fork();
    if (program < 0) fail("fork", errno);
    if (program == 0) {
        close(report[0]);
        run_program(o, report[1]);
    }
    close(report[1]);
    close(0);
    close(1);
    close(2);

    struct child_failure failure;
    size_t got = 0;
    while (got < sizeof failure) {   /* EOF at exec (close-on-exec) or at pid 2's death */
        ssize_t n = read(report[0], (char *)&failure + got, sizeof failure - got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        got += (size_t)n;
    }
    close(report[0]);

    int status = 0;
    for (;;) {   /* orphans of the program are reparented to us: reap them until pid 2 ends */
        pid_t done = waitpid(-1, &status, 0);
        if (done == program) break;
        if (done < 0 && errno != EINTR) break;
    }
    if (got == sizeof failure && (!strcmp(failure.what, "exec") || !strcmp(failure.what, "chdir")))
        dprintf(status_fd, "exec-failed %d\n", failure.err);
    else if (got == sizeof failure)
        dprintf(status_fd, "launch-failed %s: %s\n", failure.what, strerror(failure.err));
    else
        dprintf(status_fd, "exited %d\n", status);
    return 0;
}

static void join_cgroup(const char *procs_file) {
    int fd = open(procs_file, O_WRONLY | O_CLOEXEC);
    if (fd < 0 || dprintf(fd, "%d\n", (int)getpid()) < 0) fail(procs_file, errno);
    close(fd);
}

/* The LH's cgroup directory when it is a single cgroup2 cgroup, else -1. Moving a running
 * process into a cgroup waits for an RCU grace period (8-14 ms on these machines, most of an
 * LH's start); creating the init directly inside it with clone3(CLONE_INTO_CGROUP) does not.
 * The launcher itself then stays outside the LH's cgroup, which nothing needs. */
static int cgroup2_dir(const struct options *o) {
    if (o->nprocs != 1) return -1;
    char dir[4096];
    if (snprintf(dir, sizeof dir, "%s", o->procs[0]) >= (int)sizeof dir) return -1;
    char *slash = strrchr(dir, '/');
    if (slash == NULL || slash == dir) return -1;
    *slash = '\0';
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return -1;
    struct statfs fs;
    if (fstatfs(fd, &fs) < 0 || fs.f_type != CGROUP2_SUPER_MAGIC) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Forks the init inside the LH's cgroup(s): born there when it can be, else the launcher joins
 * them first and the init inherits them. */
static pid_t fork_init(const struct options *o, int cgroup_fd) {
    if (cgroup_fd >= 0) {
        struct clone3_args args = { .flags = CLONE_INTO_CGROUP, .exit_signal = SIGCHLD,
                                    .cgroup = (unsigned long long)cgroup_fd };
        long child = syscall(SYS_clone3, &args, sizeof args);
        if (child >= 0) return (pid_t)child;
        /* an older kernel (ENOSYS, E2BIG, EINVAL): join the usual way */
    }
    for (int i = 0; i < o->nprocs; i++) join_cgroup(o->procs[i]);
    return fork();
}

static int host_features(void) {
#if defined(__x86_64__)
    unsigned int eax, ebx, ecx, edx, lo, hi;
    __asm__ volatile("cpuid" : "=a"(eax), "=b"(ebx), "=c"(ecx), "=d"(edx) : "a"(0xd), "c"(0));
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    printf("xcr0 %llx xstate-size %u\n", ((unsigned long long)hi << 32) | lo, ebx);
    return 0;
#else
    fprintf(stderr, "ferry-init: --host-features is only known for x86_64\n");
    return 1;
#endif
}

int main(int argc, char **argv) {
    if (argc == 2 && !strcmp(argv[1], "--host-features")) return host_features();
    struct options o;
    parse(argc, argv, &o);
    status_fd = open(o.status, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (status_fd < 0) fail(o.status, errno);
    int cgroup_fd = cgroup2_dir(&o);
    if (setsid() < 0) fail("setsid", errno);
    if (unshare(CLONE_NEWPID | CLONE_NEWNS) < 0) fail("unshare", errno);
    pid_t init = fork_init(&o, cgroup_fd);
    if (init < 0) fail("fork", errno);
    if (init == 0) _exit(run_init(&o));
    if (cgroup_fd >= 0) close(cgroup_fd);
    close(0);
    close(1);
    close(2);

    int status;
    while (waitpid(init, &status, 0) < 0)
        if (errno != EINTR) fail("wait for init", errno);
    if (WIFEXITED(status)) return WEXITSTATUS(status) == 0 ? 0 : 1;
    if (lseek(status_fd, 0, SEEK_CUR) == 0) dprintf(status_fd, "init-killed %d\n", status);
    return 0;
}
