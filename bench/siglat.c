/* siglat: signal-forwarding latency through an init.
 *
 * usage: siglat [-n N] [-w WARMUP] [-o RAWFILE] [--no-pidns] -- INIT [INIT-ARGS...]
 *        siglat --child FD          (internal: the supervised child)
 *
 * The measurer makes a pipe and starts `INIT [INIT-ARGS...] /abs/siglat --child W`
 * (W = the pipe's write end, inherited through the init). By default the init is
 * started as PID 1 of a fresh PID namespace with its own /proc mount (like
 * `unshare --pid --fork --mount-proc`); --no-pidns runs it as a plain child.
 * The child installs a SIGUSR1 handler that writes one byte to W, then says
 * ready. The measurer then, N+WARMUP times: sleeps a random 100-600 us, takes
 * t0 = CLOCK_MONOTONIC, kill(init_pid, SIGUSR1), blocks in poll()+read() on the
 * pipe until the child's byte arrives, takes t1. Sample = t1 - t0: the init's
 * wake-up, its forwarding kill(), the child's wake-up and handler, and the pipe
 * wake-up of the measurer (the last two are the same for every init).
 *
 * Finally SIGTERM goes to the init (it forwards; the child dies; the init exits),
 * waited for at most 3 s, then SIGKILL. The init also has PDEATHSIG=SIGKILL, so it
 * dies if the measurer dies.
 *
 * Prints: n=N median_us=.. p99_us=.. mean_us=.. max_us=.. init_exit=..
 * and appends raw samples (ns, one a line) to RAWFILE if given.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int ack_fd = -1;

static void on_usr1(int sig) {
    (void)sig;
    char b = 'a';
    ssize_t r = write(ack_fd, &b, 1);
    (void)r;
}

static int child_main(int fd) {
    ack_fd = fd;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGUSR1, &sa, NULL) < 0) return 1;
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL); /* in case the init left signals blocked */
    char r = 'R';
    if (write(fd, &r, 1) != 1) return 1;
    for (;;) pause(); /* SIGTERM (default action) ends us */
}

static long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int cmp_ll(const void *a, const void *b) {
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

static void nap_us(long us) {
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

/* Wait for one byte on fd for at most ms; returns the byte, or -1. */
static int read_byte(int fd, int ms) {
    struct pollfd p = {fd, POLLIN, 0};
    for (;;) {
        int r = poll(&p, 1, ms);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return -1;
        char b;
        ssize_t n = read(fd, &b, 1);
        if (n < 0 && errno == EINTR) continue;
        return n == 1 ? (unsigned char)b : -1;
    }
}

static int reap_bounded(pid_t pid, int ms, int *status) {
    for (int waited = 0; waited <= ms; waited += 5) {
        pid_t r = waitpid(pid, status, WNOHANG);
        if (r == pid) return 0;
        if (r < 0 && errno != EINTR) return -1;
        nap_us(5000);
    }
    return -1;
}

int main(int argc, char **argv) {
    if (argc == 3 && !strcmp(argv[1], "--child")) return child_main(atoi(argv[2]));

    int n = 500, warm = 20, pidns = 1;
    const char *raw = NULL;
    int i = 1;
    for (; i < argc; i++) {
        if (!strcmp(argv[i], "-n") && i + 1 < argc) n = atoi(argv[++i]);
        else if (!strcmp(argv[i], "-w") && i + 1 < argc) warm = atoi(argv[++i]);
        else if (!strcmp(argv[i], "-o") && i + 1 < argc) raw = argv[++i];
        else if (!strcmp(argv[i], "--no-pidns")) pidns = 0;
        else if (!strcmp(argv[i], "--")) {
            i++;
            break;
        } else break;
    }
    if (i >= argc || n <= 0) {
        fprintf(stderr, "usage: siglat [-n N] [-w WARMUP] [-o RAWFILE] [--no-pidns] -- INIT [ARGS...]\n");
        return 2;
    }
    int ninit = argc - i;

    char self[4096];
    ssize_t sl = readlink("/proc/self/exe", self, sizeof self - 1);
    if (sl <= 0) {
        perror("siglat: readlink /proc/self/exe");
        return 1;
    }
    self[sl] = 0;

    int p[2];
    if (pipe(p) < 0) {
        perror("siglat: pipe");
        return 1;
    }
    fcntl(p[0], F_SETFD, FD_CLOEXEC); /* the write end p[1] must be inherited */
    char fdbuf[16];
    snprintf(fdbuf, sizeof fdbuf, "%d", p[1]);

    char **cargv = calloc((size_t)ninit + 4, sizeof(char *));
    if (!cargv) return 1;
    for (int k = 0; k < ninit; k++) cargv[k] = argv[i + k];
    cargv[ninit] = self;
    cargv[ninit + 1] = "--child";
    cargv[ninit + 2] = fdbuf;
    cargv[ninit + 3] = NULL;

    pid_t parent = getpid();
    pid_t pid = pidns ? (pid_t)syscall(SYS_clone, (unsigned long)(SIGCHLD | CLONE_NEWPID), 0, 0, 0, 0) : fork();
    if (pid < 0) {
        perror("siglat: fork");
        return 1;
    }
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent && !pidns) _exit(1);
        if (pidns) {
            if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
                mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) {
                perror("siglat: mount-proc");
                _exit(126);
            }
        }
        int dn = open("/dev/null", O_RDWR);
        if (dn >= 0) {
            dup2(dn, 0);
            dup2(dn, 1);
            if (dn > 2) close(dn);
        }
        execv(cargv[0], cargv);
        perror("siglat: exec");
        _exit(127);
    }
    close(p[1]);

    int rc = 0;
    long long *s = calloc((size_t)n, sizeof(long long));
    if (!s) return 1;
    int got = 0, lost = 0;
    int r = read_byte(p[0], 5000);
    if (r != 'R') {
        fprintf(stderr, "siglat: child never got ready (%d)\n", r);
        rc = 1;
        goto out;
    }
    srand((unsigned)now_ns());
    for (int k = 0; k < warm + n; k++) {
        nap_us(100 + rand() % 500);
        long long t0 = now_ns();
        if (kill(pid, SIGUSR1) < 0) {
            perror("siglat: kill");
            rc = 1;
            goto out;
        }
        int b = read_byte(p[0], 1000);
        long long t1 = now_ns();
        if (b != 'a') {
            fprintf(stderr, "siglat: no ack within 1 s (round %d)\n", k);
            if (++lost > 3) {
                rc = 1;
                goto out;
            }
            continue;
        }
        if (k >= warm && got < n) s[got++] = t1 - t0;
    }
out:;
    int st = 0;
    kill(pid, SIGTERM);
    if (reap_bounded(pid, 3000, &st) < 0) {
        fprintf(stderr, "siglat: init did not exit on SIGTERM within 3 s; SIGKILL\n");
        kill(pid, SIGKILL);
        reap_bounded(pid, 3000, &st);
        rc = rc ? rc : 1;
    }
    if (raw && got) {
        FILE *f = fopen(raw, "a");
        if (f) {
            for (int k = 0; k < got; k++) fprintf(f, "%lld\n", s[k]);
            fclose(f);
        }
    }
    if (got) {
        long long sum = 0;
        for (int k = 0; k < got; k++) sum += s[k];
        qsort(s, (size_t)got, sizeof(long long), cmp_ll);
        int k99 = (int)(0.99 * got + 0.999999) - 1;
        printf("n=%d median_us=%.2f p99_us=%.2f mean_us=%.2f max_us=%.2f lost=%d init_exit=%d\n", got,
               (double)s[(got + 1) / 2 - 1] / 1e3, (double)s[k99] / 1e3, (double)sum / got / 1e3,
               (double)s[got - 1] / 1e3, lost, WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
    }
    return rc;
}
