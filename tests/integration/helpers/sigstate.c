// sigstate: reports the process state that cinit must hand to its child.
//
// Usage: sigstate [--sleep SECONDS]
//        sigstate --parent-cwd
//
// Prints one "key=value" line each for pid, ppid, pgid, sid, tpgid (the
// foreground process group of the terminal on fd 0, or -1), SigBlk and SigIgn
// (hex, copied from /proc/self/status), fds (comma-separated list of open
// descriptors, from /proc/self/fd, without the one used to list them) and cwd,
// then "end". With --sleep it then sleeps up to SECONDS (so that a test can
// inspect cinit while this child is alive) and exits 0.
//
// With --parent-cwd it does nothing else: the first thing it does is read its
// parent's working directory (/proc/PPID/cwd), which it prints as "parent_cwd=PATH",
// so a test sees where cinit is at the earliest moment its child can look.
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void print_status_field(const char *name) {
  FILE *f = fopen("/proc/self/status", "re");
  if (f == NULL) {
    printf("%s=unknown\n", name);
    return;
  }
  char line[512];
  size_t len = strlen(name);
  while (fgets(line, sizeof line, f) != NULL) {
    if (strncmp(line, name, len) == 0 && line[len] == ':') {
      char *value = line + len + 1;
      while (*value == ' ' || *value == '\t') value++;
      value[strcspn(value, "\n")] = '\0';
      printf("%s=%s\n", name, value);
      fclose(f);
      return;
    }
  }
  fclose(f);
  printf("%s=unknown\n", name);
}

static int compare_ints(const void *a, const void *b) {
  int x = *(const int *)a;
  int y = *(const int *)b;
  return (x > y) - (x < y);
}

static void print_fds(void) {
  DIR *dir = opendir("/proc/self/fd");
  if (dir == NULL) {
    printf("fds=unknown\n");
    return;
  }
  int self_fd = dirfd(dir);
  int fds[1024];
  size_t count = 0;
  struct dirent *entry;
  while ((entry = readdir(dir)) != NULL && count < 1024) {
    if (entry->d_name[0] == '.') continue;
    int fd = atoi(entry->d_name);
    if (fd != self_fd) fds[count++] = fd;
  }
  closedir(dir);
  qsort(fds, count, sizeof fds[0], compare_ints);
  printf("fds=");
  for (size_t i = 0; i < count; i++) printf("%s%d", i == 0 ? "" : ",", fds[i]);
  printf("\n");
}

int main(int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "--parent-cwd") == 0) {
    char link[64];
    char target[PATH_MAX];
    snprintf(link, sizeof link, "/proc/%d/cwd", (int)getppid());
    ssize_t n = readlink(link, target, sizeof target - 1);
    if (n < 0) {
      printf("parent_cwd=unknown (%s)\n", strerror(errno));
      return 1;
    }
    target[n] = '\0';
    printf("parent_cwd=%s\n", target);
    return 0;
  }
  long sleep_seconds = 0;
  if (argc == 3 && strcmp(argv[1], "--sleep") == 0) {
    sleep_seconds = strtol(argv[2], NULL, 10);
  } else if (argc != 1) {
    fprintf(stderr, "usage: sigstate [--sleep SECONDS | --parent-cwd]\n");
    return 2;
  }

  printf("pid=%d\n", (int)getpid());
  printf("ppid=%d\n", (int)getppid());
  printf("pgid=%d\n", (int)getpgrp());
  printf("sid=%d\n", (int)getsid(0));
  printf("tpgid=%d\n", (int)tcgetpgrp(0));
  print_status_field("SigBlk");
  print_status_field("SigIgn");
  print_fds();
  char cwd[PATH_MAX];
  printf("cwd=%s\n", getcwd(cwd, sizeof cwd) != NULL ? cwd : "unknown");
  printf("end\n");
  fflush(stdout);

  // Sleep in one-second steps so that an interrupted sleep does not end early
  // in a way that looks like success; the deadline still bounds the run.
  struct timespec start;
  clock_gettime(CLOCK_MONOTONIC, &start);
  for (;;) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (now.tv_sec - start.tv_sec >= sleep_seconds) break;
    struct timespec step = {1, 0};
    nanosleep(&step, NULL);
  }
  return 0;
}
