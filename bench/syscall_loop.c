// syscall_loop: the cost of one system call, for bench/share_seccomp.py: times
// N getppid() calls (raw syscall, no libc cache) and prints
// "ns_per_call=<ns, 2 decimals> calls=N", then waits for SIGTERM (so that it can
// run as a cluster worker without being restarted).
// Usage: syscall_loop [N]   (default 20000000)
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char** argv) {
  long n = argc > 1 ? atol(argv[1]) : 20000000L;
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  for (long i = 0; i < n; ++i) {
    syscall(SYS_getppid);
  }
  clock_gettime(CLOCK_MONOTONIC, &b);
  long long ns = (b.tv_sec - a.tv_sec) * 1000000000LL + (b.tv_nsec - a.tv_nsec);
  long long hundredths = ns * 100 / n;
  printf("ns_per_call=%lld.%02lld calls=%ld\n", hundredths / 100, hundredths % 100, n);
  fflush(stdout);
  pause();
  return 0;
}
