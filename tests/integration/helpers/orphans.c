// orphans: creates orphaned grandchildren and checks that they are reaped.
//
// Usage: orphans N [--batch B] [--timeout SECONDS]
//
// The "reaper" is this process's parent at start-up (cinit: PID 1 in a PID
// namespace, or a subreaper). For each batch of B (default 500) orphans, a
// middle process forks B children and exits at once, so the children are
// reparented to the reaper. The children wait until they are released, check
// that getppid() is the reaper, report the result on a pipe and exit; they
// are then zombies that only the reaper can collect. Before the next batch,
// this process waits until fewer than MAX_PENDING children of the reaper are
// left, so at most ~B + MAX_PENDING orphan processes exist at any time.
//
// At the end it waits (bounded by --timeout, default 60 s, for the whole run)
// until no process other than itself is a child of the reaper and no zombie
// child of the reaper is left; when the reaper is PID 1 it also requires that
// no process but PID 1 and itself exists at all. It prints
//   orphans: created=N reparented=R wrong_parent=W zombies=Z leftover=L
// and exits 0 when R == N, W == 0, Z == 0 and L == 0, and 1 otherwise.
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { MAX_PENDING = 1000 };

static struct timespec deadline;

static int past_deadline(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return now.tv_sec > deadline.tv_sec ||
         (now.tv_sec == deadline.tv_sec && now.tv_nsec >= deadline.tv_nsec);
}

static int remaining_ms(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  long ms = (deadline.tv_sec - now.tv_sec) * 1000 + (deadline.tv_nsec - now.tv_nsec) / 1000000;
  if (ms < 0) return 0;
  if (ms > 1000) return 1000;
  return (int)ms;
}

static void short_pause(void) {
  struct timespec step = {0, 2 * 1000 * 1000};
  nanosleep(&step, NULL);
}

// Reads state and ppid from /proc/<pid>/stat. Returns 0 on success.
static int read_stat(const char *pid, char *state, int *ppid) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%s/stat", pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  char buf[512];
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return -1;
  buf[n] = '\0';
  char *paren = strrchr(buf, ')');
  if (paren == NULL) return -1;
  if (sscanf(paren + 1, " %c %d", state, ppid) != 2) return -1;
  return 0;
}

struct census {
  int children;  // children of the reaper other than this process
  int zombies;   // zombie children of the reaper (all zombies when reaper is 1)
  int strangers; // processes other than PID 1 and this one (reaper == 1 only)
};

static struct census take_census(int reaper) {
  struct census c = {0, 0, 0};
  DIR *dir = opendir("/proc");
  if (dir == NULL) {
    perror("orphans: opendir /proc");
    exit(1);
  }
  const char *self = NULL;
  char self_buf[16];
  snprintf(self_buf, sizeof self_buf, "%d", (int)getpid());
  self = self_buf;
  struct dirent *entry;
  while ((entry = readdir(dir)) != NULL) {
    if (!isdigit((unsigned char)entry->d_name[0])) continue;
    if (strcmp(entry->d_name, self) == 0) continue;
    char state;
    int ppid;
    if (read_stat(entry->d_name, &state, &ppid) != 0) continue;
    int is_init = strcmp(entry->d_name, "1") == 0;
    if (ppid == reaper) {
      c.children++;
      if (state == 'Z') c.zombies++;
    } else if (reaper == 1 && state == 'Z') {
      c.zombies++;
    }
    if (reaper == 1 && !is_init) c.strangers++;
  }
  closedir(dir);
  return c;
}

static void grandchild(int release_fd, int report_fd, int reaper) {
  char byte;
  while (read(release_fd, &byte, 1) < 0 && errno == EINTR) {
  }
  char verdict = getppid() == reaper ? 'o' : 'x';
  while (write(report_fd, &verdict, 1) < 0 && errno == EINTR) {
  }
  _exit(0);
}

// Runs one batch. Adds to *reparented / *wrong_parent. Returns 0 on success.
static int run_batch(int size, int reaper, long *reparented, long *wrong_parent) {
  int release[2], report[2];
  if (pipe2(release, O_CLOEXEC) != 0 || pipe2(report, O_CLOEXEC) != 0) {
    perror("orphans: pipe");
    return -1;
  }
  pid_t middle = fork();
  if (middle < 0) {
    perror("orphans: fork middle");
    return -1;
  }
  if (middle == 0) {
    close(release[1]);
    close(report[0]);
    for (int i = 0; i < size; i++) {
      pid_t child = fork();
      if (child == 0) grandchild(release[0], report[1], reaper);
      if (child < 0) _exit(3);
    }
    _exit(0);
  }
  close(release[0]);
  close(report[1]);

  int status = 0;
  for (;;) {
    pid_t got = waitpid(middle, &status, WNOHANG);
    if (got == middle) break;
    if (got < 0 && errno != EINTR) {
      perror("orphans: waitpid middle");
      return -1;
    }
    if (past_deadline()) {
      fprintf(stderr, "orphans: middle process did not exit\n");
      return -1;
    }
    short_pause();
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    fprintf(stderr, "orphans: middle process failed (status %d)\n", status);
    return -1;
  }

  close(release[1]);  // EOF on release[0]: every grandchild may go
  long seen = 0;
  for (;;) {
    struct pollfd p = {report[0], POLLIN, 0};
    int ready = poll(&p, 1, remaining_ms());
    if (ready < 0 && errno != EINTR) {
      perror("orphans: poll");
      return -1;
    }
    if (ready > 0) {
      char buf[512];
      ssize_t n = read(report[0], buf, sizeof buf);
      if (n == 0) break;  // every grandchild has closed its end: all exited
      for (ssize_t i = 0; i < n; i++) {
        if (buf[i] == 'o') (*reparented)++;
        else (*wrong_parent)++;
        seen++;
      }
    } else if (past_deadline()) {
      fprintf(stderr, "orphans: grandchildren did not report in time\n");
      return -1;
    }
  }
  close(report[0]);
  if (seen != size) {
    fprintf(stderr, "orphans: %ld of %d grandchildren reported\n", seen, size);
    return -1;
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: orphans N [--batch B] [--timeout SECONDS]\n");
    return 2;
  }
  long total = strtol(argv[1], NULL, 10);
  int batch = 500;
  long timeout_seconds = 60;
  for (int i = 2; i < argc; i++) {
    if (strcmp(argv[i], "--batch") == 0 && i + 1 < argc) {
      batch = atoi(argv[++i]);
    } else if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc) {
      timeout_seconds = strtol(argv[++i], NULL, 10);
    } else {
      fprintf(stderr, "orphans: unknown argument %s\n", argv[i]);
      return 2;
    }
  }
  if (total < 0 || batch <= 0) return 2;

  clock_gettime(CLOCK_MONOTONIC, &deadline);
  deadline.tv_sec += timeout_seconds;
  int reaper = (int)getppid();

  long created = 0, reparented = 0, wrong_parent = 0;
  int failed = 0;
  while (created < total && !failed) {
    int size = total - created < batch ? (int)(total - created) : batch;
    if (run_batch(size, reaper, &reparented, &wrong_parent) != 0) {
      failed = 1;
      break;
    }
    created += size;
    // Throttle: let the reaper catch up before making more zombies.
    while (take_census(reaper).children >= MAX_PENDING) {
      if (past_deadline()) {
        fprintf(stderr, "orphans: reaper does not reap (pending >= %d)\n", MAX_PENDING);
        failed = 1;
        break;
      }
      short_pause();
    }
  }

  struct census c;
  for (;;) {
    c = take_census(reaper);
    if (c.children == 0 && c.zombies == 0 && c.strangers == 0) break;
    if (past_deadline()) break;
    short_pause();
  }
  printf("orphans: created=%ld reparented=%ld wrong_parent=%ld zombies=%d leftover=%d\n",
         created, reparented, wrong_parent, c.zombies,
         reaper == 1 ? c.strangers : c.children);
  fflush(stdout);
  int ok = !failed && created == total && reparented == total && wrong_parent == 0 &&
           c.children == 0 && c.zombies == 0 && c.strangers == 0;
  return ok ? 0 : 1;
}
