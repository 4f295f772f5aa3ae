// sigcatch: reports every signal it receives.
//
// Usage: sigcatch [--exit-on SIGNO] [--exit-code N] [--timeout SECONDS]
//                 [--with-child]
//
// Installs a handler for every catchable signal 1..SIGRTMAX (everything but
// SIGKILL and SIGSTOP, and the two real-time signals glibc reserves), SIGCHLD
// included so that a wrongly forwarded SIGCHLD is visible. Then prints "ready"
// and one line with the signal number for each signal delivered, flushing each
// line (write(2) from the handler). Exits with --exit-code (default 0) right
// after reporting --exit-on, or prints "timeout" and exits 3 once --timeout
// seconds (default 60) have passed.
//
// With --with-child it first forks a child that stays in the same process
// group and reports the same way, but with lines prefixed "child " (it
// prints "child ready" and exits 0 on SIGTERM); "ready" comes after
// "child ready".
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t exit_on = 0;
static volatile sig_atomic_t exit_code = 0;
static const char *prefix = "";

static void write_all(const char *buf, size_t len) {
  while (len > 0) {
    ssize_t n = write(STDOUT_FILENO, buf, len);
    if (n <= 0) return;
    buf += n;
    len -= (size_t)n;
  }
}

static void on_signal(int signo) {
  // Async-signal-safe formatting of "<signo>\n".
  char buf[16];
  size_t pos = sizeof buf;
  buf[--pos] = '\n';
  unsigned value = (unsigned)signo;
  do {
    buf[--pos] = (char)('0' + value % 10);
    value /= 10;
  } while (value != 0);
  write_all(prefix, strlen(prefix));
  write_all(buf + pos, sizeof buf - pos);
  if (signo == exit_on) _exit(exit_code);
}

int main(int argc, char **argv) {
  long timeout_seconds = 60;
  int with_child = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--exit-on") == 0 && i + 1 < argc) {
      exit_on = atoi(argv[++i]);
    } else if (strcmp(argv[i], "--exit-code") == 0 && i + 1 < argc) {
      exit_code = atoi(argv[++i]);
    } else if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc) {
      timeout_seconds = strtol(argv[++i], NULL, 10);
    } else if (strcmp(argv[i], "--with-child") == 0) {
      with_child = 1;
    } else {
      fprintf(stderr, "usage: sigcatch [--exit-on SIGNO] [--exit-code N] [--timeout SECONDS]"
              " [--with-child]\n");
      return 2;
    }
  }

  struct sigaction action;
  memset(&action, 0, sizeof action);
  action.sa_handler = on_signal;
  action.sa_flags = SA_RESTART;
  sigfillset(&action.sa_mask);  // no nesting: one line at a time
  for (int signo = 1; signo <= SIGRTMAX; signo++) {
    if (signo == SIGKILL || signo == SIGSTOP) continue;
    sigaction(signo, &action, NULL);  // fails harmlessly for 32 and 33
  }
  sigset_t all, none;
  sigfillset(&all);
  sigemptyset(&none);
  // Blocked until this process knows whether it is the child (prefix).
  sigprocmask(SIG_SETMASK, &all, NULL);
  if (with_child) {
    int ready[2];
    if (pipe(ready) != 0) return 4;
    pid_t child = fork();
    if (child < 0) return 4;
    if (child == 0) {
      prefix = "child ";
      exit_on = SIGTERM;
      exit_code = 0;
      close(ready[0]);
      sigprocmask(SIG_SETMASK, &none, NULL);
      write_all("child ready\n", 12);
      close(ready[1]);
    } else {
      close(ready[1]);
      char byte;
      if (read(ready[0], &byte, 1) != 0) return 4;  // EOF: the child is ready
      close(ready[0]);
      sigprocmask(SIG_SETMASK, &none, NULL);
      write_all("ready\n", 6);
    }
  } else {
    sigprocmask(SIG_SETMASK, &none, NULL);
    write_all("ready\n", 6);
  }

  struct timespec start;
  clock_gettime(CLOCK_MONOTONIC, &start);
  for (;;) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (now.tv_sec - start.tv_sec >= timeout_seconds) break;
    struct timespec step = {0, 100 * 1000 * 1000};
    nanosleep(&step, NULL);
  }
  write_all(prefix, strlen(prefix));
  write_all("timeout\n", 8);
  return 3;
}
