/* spawn: start-up cost of `INIT true` versus bare `true`.
 *
 * usage: spawn [-n ITERS] [-w WARMUP] [--pidns] NAME=CMD [NAME=CMD ...]
 *
 * CMD is split on spaces (no quoting). Each iteration runs every candidate once,
 * fork+exec+wait, timed with CLOCK_MONOTONIC from just before fork() to just after
 * waitpid() returns. The order of candidates rotates every iteration, so that
 * each candidate sits in each position equally often and slow drifts of the
 * machine hit all of them alike (ABAB... interleaving at the finest grain).
 * With --pidns, every run gets a fresh PID namespace (clone(CLONE_NEWPID)), so the
 * command runs as PID 1, as an init does in a container; /proc is not remounted.
 * The child's stdin/stdout/stderr are /dev/null (tini warns when not PID 1).
 *
 * Prints, one line per candidate:
 *   NAME n=N median_us=.. p10_us=.. p90_us=.. mean_us=.. paired_ovh_us=.. fails=F
 * paired_ovh_us: the median over iterations of (this candidate's time - the FIRST
 * candidate's time in the same iteration); with the bare command first, that is
 * the start-up overhead, and pairing within an iteration cancels slow drifts of
 * the machine better than a difference of two medians does.
 * A run that does not exit with status 0 is a failure (not timed); exit status is
 * 1 if any run failed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAXC 16
#define MAXARGS 32

struct cand {
    const char *name;
    char *argv[MAXARGS];
    double *samples; /* sorted later */
    double *by_iter; /* by iteration; NAN where the run failed */
    int n;
    int fails;
};

static double now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double pct(const double *s, int n, double p) { /* nearest rank, sorted input */
    if (n == 0) return 0;
    int k = (int)(p * n + 0.999999) - 1;
    if (k < 0) k = 0;
    if (k >= n) k = n - 1;
    return s[k];
}

static int devnull = -1;

static pid_t do_fork(int pidns) {
    if (pidns) return (pid_t)syscall(SYS_clone, (unsigned long)(SIGCHLD | CLONE_NEWPID), 0, 0, 0, 0);
    return fork();
}

/* Returns elapsed microseconds, or -1 on failure. */
static double run_once(struct cand *c, int pidns) {
    double t0 = now_us();
    pid_t pid = do_fork(pidns);
    if (pid < 0) {
        perror("spawn: fork");
        return -1;
    }
    if (pid == 0) {
        dup2(devnull, 0);
        dup2(devnull, 1);
        dup2(devnull, 2);
        execv(c->argv[0], c->argv);
        _exit(127);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0) {
        if (errno != EINTR) {
            perror("spawn: waitpid");
            return -1;
        }
    }
    double t1 = now_us();
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) return -1;
    return t1 - t0;
}

int main(int argc, char **argv) {
    int iters = 2000, warm = 100, pidns = 0;
    struct cand c[MAXC];
    int nc = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-n") && i + 1 < argc) iters = atoi(argv[++i]);
        else if (!strcmp(argv[i], "-w") && i + 1 < argc) warm = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--pidns")) pidns = 1;
        else {
            char *eq = strchr(argv[i], '=');
            if (!eq || nc == MAXC) {
                fprintf(stderr, "usage: spawn [-n ITERS] [-w WARMUP] [--pidns] NAME=CMD...\n");
                return 2;
            }
            *eq = 0;
            memset(&c[nc], 0, sizeof c[nc]);
            c[nc].name = argv[i];
            int k = 0;
            for (char *tok = strtok(eq + 1, " "); tok && k < MAXARGS - 1; tok = strtok(NULL, " "))
                c[nc].argv[k++] = tok;
            c[nc].argv[k] = NULL;
            if (k == 0) {
                fprintf(stderr, "spawn: empty command for %s\n", c[nc].name);
                return 2;
            }
            nc++;
        }
    }
    if (nc == 0 || iters <= 0) {
        fprintf(stderr, "usage: spawn [-n ITERS] [-w WARMUP] [--pidns] NAME=CMD...\n");
        return 2;
    }
    devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (devnull < 0) {
        perror("/dev/null");
        return 1;
    }
    for (int j = 0; j < nc; j++) {
        c[j].samples = calloc((size_t)iters, sizeof(double));
        c[j].by_iter = calloc((size_t)iters, sizeof(double));
        if (!c[j].samples || !c[j].by_iter) return 1;
        for (int k = 0; k < iters; k++) c[j].by_iter[k] = NAN;
    }
    int anyfail = 0;
    for (int i = 0; i < warm + iters; i++) {
        for (int jj = 0; jj < nc; jj++) {
            struct cand *cc = &c[(i + jj) % nc];
            double t = run_once(cc, pidns);
            if (t < 0) {
                cc->fails++;
                anyfail = 1;
                if (cc->fails > 20) {
                    fprintf(stderr, "spawn: %s keeps failing, giving up\n", cc->name);
                    return 1;
                }
                continue;
            }
            if (i >= warm) {
                cc->samples[cc->n++] = t;
                cc->by_iter[i - warm] = t;
            }
        }
    }
    double *diff = calloc((size_t)iters, sizeof(double));
    if (!diff) return 1;
    for (int j = 0; j < nc; j++) {
        int nd = 0;
        for (int k = 0; k < iters; k++)
            if (!isnan(c[j].by_iter[k]) && !isnan(c[0].by_iter[k])) diff[nd++] = c[j].by_iter[k] - c[0].by_iter[k];
        qsort(diff, (size_t)nd, sizeof(double), cmp_d);
        qsort(c[j].samples, (size_t)c[j].n, sizeof(double), cmp_d);
        double sum = 0;
        for (int k = 0; k < c[j].n; k++) sum += c[j].samples[k];
        printf("%s n=%d median_us=%.2f p10_us=%.2f p90_us=%.2f mean_us=%.2f paired_ovh_us=%.2f fails=%d\n",
               c[j].name, c[j].n, pct(c[j].samples, c[j].n, 0.5), pct(c[j].samples, c[j].n, 0.1),
               pct(c[j].samples, c[j].n, 0.9), c[j].n ? sum / c[j].n : 0.0, pct(diff, nd, 0.5), c[j].fails);
    }
    return anyfail;
}
