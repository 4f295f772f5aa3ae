// listenfds: a socket-activated HTTP worker (sd_listen_fds protocol).
//
// Usage: listenfds [--fds N] [--instance-var NAME] [--timeout SECONDS]
//
// Checks that LISTEN_PID is its own pid, that LISTEN_FDS is N (default 1) and
// that fds 3..3+N-1 are listening TCP sockets; on failure it prints
// "listenfds: <why>" to stderr and exits 2. Then prints, flushed,
//
//   ready pid=<pid> instance=<$NAME> fdnames=<$LISTEN_FDNAMES>
//
// (NAME defaults to NODE_APP_INSTANCE) and answers every connection accepted
// on fd 3 with "HTTP/1.0 200 OK" and the body "pid=<pid> instance=<value>\n",
// then closes it. Exits 0 on SIGTERM or SIGINT, and prints "timeout" and
// exits 3 once --timeout seconds (default 120) have passed.
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static volatile sig_atomic_t stop = 0;

static void on_stop(int signo) {
  (void)signo;
  stop = 1;
}

static void on_alarm(int signo) {
  (void)signo;
  static const char msg[] = "timeout\n";
  ssize_t ignored = write(STDOUT_FILENO, msg, sizeof msg - 1);
  (void)ignored;
  _exit(3);
}

static void fail(const char *what, const char *value) {
  fprintf(stderr, "listenfds: %s (%s)\n", what, value ? value : "unset");
  exit(2);
}

static void write_all(int fd, const char *buf, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, buf, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    buf += n;
    len -= (size_t)n;
  }
}

// Reads the request until its empty line (or EOF, or 8 KiB), so that the
// client does not get a reset for unread data when the socket is closed.
static void read_request(int fd) {
  char buf[8192];
  size_t used = 0;
  while (used < sizeof buf - 1) {
    ssize_t n = read(fd, buf + used, sizeof buf - 1 - used);
    if (n < 0 && errno == EINTR) {
      if (stop) return;
      continue;
    }
    if (n <= 0) return;
    used += (size_t)n;
    buf[used] = '\0';
    if (strstr(buf, "\r\n\r\n") || strstr(buf, "\n\n")) return;
  }
}

int main(int argc, char **argv) {
  long want_fds = 1;
  long timeout_seconds = 120;
  const char *instance_var = "NODE_APP_INSTANCE";
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--fds") == 0 && i + 1 < argc) {
      want_fds = atol(argv[++i]);
    } else if (strcmp(argv[i], "--instance-var") == 0 && i + 1 < argc) {
      instance_var = argv[++i];
    } else if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc) {
      timeout_seconds = atol(argv[++i]);
    } else {
      fprintf(stderr, "usage: listenfds [--fds N] [--instance-var NAME] [--timeout SECONDS]\n");
      return 2;
    }
  }

  const char *listen_pid = getenv("LISTEN_PID");
  if (!listen_pid || atol(listen_pid) != (long)getpid()) fail("LISTEN_PID is not my pid", listen_pid);
  const char *listen_fds = getenv("LISTEN_FDS");
  if (!listen_fds || atol(listen_fds) != want_fds) fail("unexpected LISTEN_FDS", listen_fds);
  for (int fd = 3; fd < 3 + want_fds; fd++) {
    int accepting = 0;
    socklen_t len = sizeof accepting;
    if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &len) != 0 || !accepting) {
      char num[16];
      snprintf(num, sizeof num, "%d", fd);
      fail("not a listening socket", num);
    }
  }
  const char *instance = getenv(instance_var);
  const char *names = getenv("LISTEN_FDNAMES");

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_stop;  // no SA_RESTART: accept() returns EINTR
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  sa.sa_handler = on_alarm;
  sigaction(SIGALRM, &sa, NULL);
  alarm((unsigned)timeout_seconds);

  printf("ready pid=%ld instance=%s fdnames=%s\n", (long)getpid(), instance ? instance : "",
         names ? names : "");
  fflush(stdout);

  char body[128];
  int body_len = snprintf(body, sizeof body, "pid=%ld instance=%s\n", (long)getpid(),
                          instance ? instance : "");
  char response[256];
  int response_len = snprintf(response, sizeof response,
                              "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n"
                              "Content-Length: %d\r\nConnection: close\r\n\r\n%s",
                              body_len, body);
  while (!stop) {
    // poll() first: the socket may be non-blocking and shared by several
    // workers, so a wakeup does not guarantee a connection.
    struct pollfd pfd = {.fd = 3, .events = POLLIN};
    if (poll(&pfd, 1, -1) < 0) {
      if (errno == EINTR) continue;
      perror("listenfds: poll");
      return 2;
    }
    int conn = accept4(3, NULL, NULL, SOCK_CLOEXEC);
    if (conn < 0) {
      if (errno == EINTR || errno == ECONNABORTED || errno == EAGAIN) continue;
      perror("listenfds: accept");
      return 2;
    }
    read_request(conn);
    write_all(conn, response, (size_t)response_len);
    close(conn);
  }
  return 0;
}
