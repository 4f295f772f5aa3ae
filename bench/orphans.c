/* orphans: make PID 1 reap many orphaned grandchildren, and measure its cost.
 *
 * usage (as the init's child, in a fresh PID namespace with its own /proc):
 *   unshare --pid --fork --mount-proc INIT orphans [TOTAL [BATCH [MAXLIVE]]]
 *
 * Defaults: TOTAL=20000 BATCH=500 MAXLIVE=1000.
 * In batches, it forks a "middle" process that forks BATCH children which exit at
 * once; the middle exits without waiting, so its (mostly already zombie) children
 * are re-parented to PID 1, which must reap them. We reap the middle ourselves.
 * Before each batch it waits until fewer than MAXLIVE-BATCH processes other than
 * PID 1 and itself exist (scan of /proc), so that at most ~MAXLIVE PIDs are used
 * at a time (pid_max may be small). At the end it waits until /proc holds no
 * process but PID 1 and itself (so no zombie is left), bounded by a deadline.
 *
 * The init's CPU time is read from /proc/1/schedstat (ns of CPU, precise) and
 * /proc/1/stat utime+stime (clock ticks, coarse) before and after.
 *
 * Prints one line:
 *   orphans=N wall_ms=.. init_cpu_ms=.. init_ticks_ms=.. peak_backlog=.. waits=..
 * peak_backlog: the most processes (besides PID 1 and us) seen in any scan.
 * Exits 1 on error or if the deadline (60 s) passes.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void nap_us(long us) {
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

/* Number of processes in our /proc besides PID 1 and ourselves; *zombies gets
 * how many of those are in state Z (only when zombies != NULL: costs a read each). */
static int count_procs(pid_t self, int *zombies) {
    DIR *d = opendir("/proc");
    if (!d) {
        perror("orphans: opendir /proc");
        exit(1);
    }
    int n = 0, z = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!isdigit((unsigned char)e->d_name[0])) continue;
        long pid = strtol(e->d_name, NULL, 10);
        if (pid == 1 || pid == self) continue;
        n++;
        if (zombies) {
            char path[64], buf[256];
            snprintf(path, sizeof path, "/proc/%ld/stat", pid);
            FILE *f = fopen(path, "re");
            if (!f) continue;
            size_t r = fread(buf, 1, sizeof buf - 1, f);
            fclose(f);
            buf[r] = 0;
            char *p = strrchr(buf, ')');
            if (p && p[1] == ' ' && p[2] == 'Z') z++;
        }
    }
    closedir(d);
    if (zombies) *zombies = z;
    return n;
}

static double init_cpu_ns(void) {
    FILE *f = fopen("/proc/1/schedstat", "re");
    if (!f) return -1;
    unsigned long long ns = 0;
    if (fscanf(f, "%llu", &ns) != 1) ns = 0;
    fclose(f);
    return (double)ns;
}

static double init_ticks(void) {
    FILE *f = fopen("/proc/1/stat", "re");
    if (!f) return -1;
    char buf[1024];
    size_t r = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[r] = 0;
    char *p = strrchr(buf, ')');
    if (!p) return -1;
    /* after ") " : field 3 is state; utime is field 14, stime 15 */
    unsigned long ut = 0, st = 0;
    if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2) return -1;
    return (double)(ut + st);
}

int main(int argc, char **argv) {
    int total = argc > 1 ? atoi(argv[1]) : 20000;
    int batch = argc > 2 ? atoi(argv[2]) : 500;
    int maxlive = argc > 3 ? atoi(argv[3]) : 1000;
    if (total <= 0 || batch <= 0 || maxlive < batch) {
        fprintf(stderr, "usage: orphans [TOTAL [BATCH [MAXLIVE>=BATCH]]]\n");
        return 2;
    }
    pid_t self = getpid();
    if (self == 1) {
        fprintf(stderr, "orphans: I am PID 1; run me under an init in a new PID namespace\n");
        return 2;
    }
    if (getppid() != 1) {
        fprintf(stderr, "orphans: warning: my parent is not PID 1 (ppid=%d); orphans go to PID 1 anyway\n",
                (int)getppid());
    }
    long hz = sysconf(_SC_CLK_TCK);
    double cpu0 = init_cpu_ns(), tk0 = init_ticks();
    double t0 = now_ms(), deadline = t0 + 60000;
    int created = 0, peak = 0;
    long waits = 0;
    while (created < total) {
        int n = total - created < batch ? total - created : batch;
        for (;;) {
            int live = count_procs(self, NULL);
            if (live > peak) peak = live;
            if (live + n <= maxlive) break;
            if (now_ms() > deadline) {
                fprintf(stderr, "orphans: deadline passed while throttling (%d procs left)\n", live);
                return 1;
            }
            waits++;
            nap_us(200);
        }
        pid_t m = fork();
        if (m < 0) {
            perror("orphans: fork middle");
            return 1;
        }
        if (m == 0) {
            for (int i = 0; i < n; i++) {
                pid_t c = fork();
                if (c == 0) _exit(0);
                if (c < 0) _exit(1);
            }
            _exit(0);
        }
        int st;
        while (waitpid(m, &st, 0) < 0) {
            if (errno != EINTR) {
                perror("orphans: waitpid");
                return 1;
            }
        }
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            fprintf(stderr, "orphans: middle process failed (status 0x%x)\n", st);
            return 1;
        }
        created += n;
    }
    int zombies = 0;
    for (;;) {
        int live = count_procs(self, &zombies);
        if (live > peak) peak = live;
        if (live == 0) break;
        if (now_ms() > deadline) {
            fprintf(stderr, "orphans: deadline passed: %d processes (%d zombies) never reaped\n", live, zombies);
            return 1;
        }
        waits++;
        nap_us(200);
    }
    double t1 = now_ms();
    double cpu1 = init_cpu_ns(), tk1 = init_ticks();
    printf("orphans=%d wall_ms=%.2f init_cpu_ms=%.3f init_ticks_ms=%.0f peak_backlog=%d waits=%ld\n", created,
           t1 - t0, cpu0 >= 0 && cpu1 >= 0 ? (cpu1 - cpu0) / 1e6 : -1.0,
           tk0 >= 0 && tk1 >= 0 ? (tk1 - tk0) * 1000.0 / (double)hz : -1.0, peak, waits);
    return 0;
}
