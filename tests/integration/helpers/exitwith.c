// exitwith: ends in a chosen way.
//
// Usage: exitwith CODE          exit with status CODE (0..255)
//        exitwith --signal SIG  die from signal number SIG (default action)
//
// With --signal the disposition is reset to default and the signal unblocked
// before raise(), and core dumps are disabled, so the result is the same
// whatever state the process inherited.
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc == 2) return atoi(argv[1]);
  if (argc == 3 && strcmp(argv[1], "--signal") == 0) {
    int signo = atoi(argv[2]);
    struct rlimit no_core = {0, 0};
    setrlimit(RLIMIT_CORE, &no_core);
    signal(signo, SIG_DFL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, signo);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    raise(signo);
    fprintf(stderr, "exitwith: signal %d did not kill me\n", signo);
    return 99;
  }
  fprintf(stderr, "usage: exitwith CODE | exitwith --signal SIGNO\n");
  return 98;
}
