// lingering: a main child that exits while a background descendant lives on.
//
// Usage: lingering --file PATH --mode MODE [--exit N] [--depth D]
//                  [--wait-for GO]
//
// Forks a grandchild that calls setsid() (so it is in neither the process
// group nor the session of this process) and, with --depth D > 1, forks a
// chain of D - 1 further descendants below it. When all of them are ready
// (and, with --wait-for, once the file GO exists; polled for up to 30 s),
// this process exits with status N (default 0). Each descendant appends one
// line per event to PATH (O_APPEND, so lines never interleave):
//   ready pid=P level=L starttime=S   set up (S: /proc/self/stat field 22)
//   TERM pid=P level=L t=T             SIGTERM received (T: CLOCK_MONOTONIC s)
//   CONT pid=P level=L t=T             SIGCONT received
//   exit pid=P level=L                 leaving on its own (exit status 0)
//   exit-without-CONT pid=P level=L    got TERM but no CONT within 5 s
//   timeout pid=P level=L              nothing happened for 60 s (status 1)
// MODE says what a descendant does with SIGTERM:
//   exit-on-term  records TERM and CONT, exits once it has seen both
//   catch-term    records TERM and CONT, never exits (needs SIGKILL)
//   ignore-term   SIGTERM is ignored (SIG_IGN), never exits (needs SIGKILL)
//   stopped       like exit-on-term, but stops itself with SIGSTOP once
//                 ready; this process waits until it is stopped ('T' in
//                 /proc/P/stat) before exiting. Needs SIGCONT to finish.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum Mode { kExitOnTerm, kCatchTerm, kIgnoreTerm, kStopped };

static int log_fd = -1;
static enum Mode mode = kExitOnTerm;
static int depth = 1;

static double monotonic_seconds(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

static void record(const char *event, int level, const char *extra) {
  char line[256];
  int n = snprintf(line, sizeof line, "%s pid=%d level=%d%s%s\n", event, (int)getpid(),
                   level, extra[0] ? " " : "", extra);
  if (n > 0) {
    ssize_t ignored = write(log_fd, line, (size_t)n);
    (void)ignored;
  }
}

static void record_time(const char *event, int level) {
  char extra[64];
  snprintf(extra, sizeof extra, "t=%.6f", monotonic_seconds());
  record(event, level, extra);
}

static long own_starttime(void) {
  int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  char buf[1024];
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return 0;
  buf[n] = '\0';
  char *p = strrchr(buf, ')');
  if (p == NULL) return 0;
  // Fields after the command: state is field 3, starttime is field 22.
  int field = 2;
  for (; *p != '\0'; p++) {
    if (*p == ' ') {
      field++;
      if (field == 22) return strtol(p + 1, NULL, 10);
    }
  }
  return 0;
}

static char proc_state(pid_t pid) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return '?';
  char buf[512];
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return '?';
  buf[n] = '\0';
  char *p = strrchr(buf, ')');
  return (p != NULL && p[1] == ' ') ? p[2] : '?';
}

// Waits up to timeout_ms for one byte on fd. Returns 0 when it came.
static int wait_byte(int fd, int timeout_ms) {
  struct pollfd p = {fd, POLLIN, 0};
  int r;
  do {
    r = poll(&p, 1, timeout_ms);
  } while (r < 0 && errno == EINTR);
  char byte;
  return (r == 1 && read(fd, &byte, 1) == 1) ? 0 : -1;
}

_Noreturn static void linger(int level, int ready_fd) {
  sigset_t waited;
  sigemptyset(&waited);
  sigaddset(&waited, SIGCONT);
  if (mode == kIgnoreTerm) {
    signal(SIGTERM, SIG_IGN);
  } else {
    sigaddset(&waited, SIGTERM);
  }
  sigprocmask(SIG_BLOCK, &waited, NULL);

  // Each process forks the next level; a child continues the loop one level
  // deeper, a parent waits until everything below it is ready.
  while (level < depth) {
    int pipe_fds[2];
    if (pipe2(pipe_fds, O_CLOEXEC) != 0) _exit(4);
    pid_t child = fork();
    if (child < 0) _exit(4);
    if (child == 0) {
      close(pipe_fds[0]);
      close(ready_fd);
      ready_fd = pipe_fds[1];
      level++;
      continue;
    }
    close(pipe_fds[1]);
    if (wait_byte(pipe_fds[0], 10000) != 0) _exit(5);
    close(pipe_fds[0]);
    break;
  }

  char extra[64];
  snprintf(extra, sizeof extra, "starttime=%ld", own_starttime());
  record("ready", level, extra);
  ssize_t ignored = write(ready_fd, "r", 1);
  (void)ignored;
  close(ready_fd);
  if (mode == kStopped) raise(SIGSTOP);

  int got_term = 0, got_cont = 0;
  double term_at = 0;
  double give_up = monotonic_seconds() + 60;
  while (monotonic_seconds() < give_up) {
    struct timespec step = {0, 100 * 1000 * 1000};
    int signo = sigtimedwait(&waited, NULL, &step);
    if (signo == SIGTERM) {
      record_time("TERM", level);
      got_term = 1;
      term_at = monotonic_seconds();
    } else if (signo == SIGCONT) {
      record_time("CONT", level);
      got_cont = 1;
    }
    if (mode == kExitOnTerm || mode == kStopped) {
      if (got_term && got_cont) {
        record("exit", level, "");
        _exit(0);
      }
      if (got_term && monotonic_seconds() - term_at > 5) {
        record("exit-without-CONT", level, "");
        _exit(0);
      }
    }
  }
  record("timeout", level, "");
  _exit(1);
}

int main(int argc, char **argv) {
  const char *path = NULL;
  const char *go_path = NULL;
  int exit_code = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--file") == 0 && i + 1 < argc) {
      path = argv[++i];
    } else if (strcmp(argv[i], "--exit") == 0 && i + 1 < argc) {
      exit_code = atoi(argv[++i]);
    } else if (strcmp(argv[i], "--wait-for") == 0 && i + 1 < argc) {
      go_path = argv[++i];
    } else if (strcmp(argv[i], "--depth") == 0 && i + 1 < argc) {
      depth = atoi(argv[++i]);
    } else if (strcmp(argv[i], "--mode") == 0 && i + 1 < argc) {
      const char *m = argv[++i];
      if (strcmp(m, "exit-on-term") == 0) mode = kExitOnTerm;
      else if (strcmp(m, "catch-term") == 0) mode = kCatchTerm;
      else if (strcmp(m, "ignore-term") == 0) mode = kIgnoreTerm;
      else if (strcmp(m, "stopped") == 0) mode = kStopped;
      else path = NULL, i = argc;
    } else {
      path = NULL;
      break;
    }
  }
  if (path == NULL || depth < 1) {
    fprintf(stderr,
            "usage: lingering --file PATH --mode MODE [--exit N] [--depth D] [--wait-for GO]\n");
    return 2;
  }
  log_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) {
    perror("lingering: open");
    return 2;
  }

  int ready[2];
  if (pipe2(ready, O_CLOEXEC) != 0) return 4;
  pid_t grandchild = fork();
  if (grandchild < 0) return 4;
  if (grandchild == 0) {
    close(ready[0]);
    setsid();
    linger(1, ready[1]);
  }
  close(ready[1]);
  if (wait_byte(ready[0], 10000) != 0) {
    fprintf(stderr, "lingering: descendants did not get ready\n");
    return 5;
  }
  if (mode == kStopped) {
    int stopped = 0;
    for (int i = 0; i < 10000 && !stopped; i++) {
      stopped = proc_state(grandchild) == 'T';
      if (!stopped) {
        struct timespec step = {0, 1000 * 1000};
        nanosleep(&step, NULL);
      }
    }
    if (!stopped) {
      fprintf(stderr, "lingering: grandchild did not stop\n");
      return 5;
    }
  }
  if (go_path != NULL) {
    double give_up = monotonic_seconds() + 30;
    while (access(go_path, F_OK) != 0) {
      if (monotonic_seconds() > give_up) {
        fprintf(stderr, "lingering: %s did not appear\n", go_path);
        return 5;
      }
      struct timespec step = {0, 1000 * 1000};
      nanosleep(&step, NULL);
    }
  }
  return exit_code;
}
