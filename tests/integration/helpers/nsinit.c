// nsinit: a minimal PID 1 that runs cinit as an ordinary (non-PID-1) process.
//
// Usage: nsinit COMMAND [ARG...]
//
// Meant to run as PID 1 of a fresh PID namespace (unshare --pid --fork
// --mount-proc), so that a cinit under test that is *not* PID 1 still lives in
// a sandbox: whatever it signals or leaks stays inside the namespace and dies
// with it. Runs COMMAND as its only child and waits for it; it does not reap
// anything else, so processes that escape COMMAND stay visible. When COMMAND
// has exited, it counts the processes left in the namespace (from /proc),
// prints "nsinit: leftover=N" to stderr, one "nsinit: left pid=P state=S
// comm=C" line for each, and exits with COMMAND's status (128+N for signal N).
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: nsinit COMMAND [ARG...]\n");
    return 2;
  }
  pid_t child = fork();
  if (child < 0) {
    perror("nsinit: fork");
    return 1;
  }
  if (child == 0) {
    execvp(argv[1], argv + 1);
    perror("nsinit: exec");
    _exit(127);
  }
  int status = 0;
  while (waitpid(child, &status, 0) < 0) {
    if (errno != EINTR) {
      perror("nsinit: waitpid");
      return 1;
    }
  }

  int leftover = 0;
  char report[4096] = "";
  size_t used = 0;
  DIR *dir = opendir("/proc");
  struct dirent *entry;
  while (dir != NULL && (entry = readdir(dir)) != NULL) {
    if (!isdigit((unsigned char)entry->d_name[0]) || strcmp(entry->d_name, "1") == 0) continue;
    char path[300], buf[512];
    snprintf(path, sizeof path, "/proc/%s/stat", entry->d_name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) continue;
    buf[n] = '\0';
    char *open_paren = strchr(buf, '(');
    char *close_paren = strrchr(buf, ')');
    if (open_paren == NULL || close_paren == NULL || close_paren[1] != ' ') continue;
    *close_paren = '\0';
    leftover++;
    if (used < sizeof report - 128) {
      int w = snprintf(report + used, sizeof report - used,
                       "nsinit: left pid=%s state=%c comm=%s\n", entry->d_name, close_paren[2],
                       open_paren + 1);
      if (w > 0) used += (size_t)w;
    }
  }
  if (dir != NULL) closedir(dir);
  fprintf(stderr, "nsinit: leftover=%d\n%s", leftover, report);
  fflush(stderr);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return WEXITSTATUS(status);
}
