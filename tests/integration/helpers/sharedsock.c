// sharedsock: a socket-activated HTTP worker (LISTEN_FDS, no shim: static) that
// does to the shared socket what a worker can, for test_shared_socket.py.
//
// Usage: sharedsock [--blocking] [--backlog N] [--timeout SECONDS]
//
// Checks that LISTEN_PID is its pid, LISTEN_FDS is 1 and fd 3 a listening TCP
// socket (else "sharedsock: <why>" on stderr, exit 2). With --backlog N it calls
// listen(3, N) first. Then prints, flushed,
//
//   ready pid=<pid> instance=<$NODE_APP_INSTANCE> nonblock=<0|1 as received>
//
// and sends READY=1 to $NOTIFY_SOCKET (an abstract name, "@..."), which makes
// cinit count it online;
// then answers every connection on fd 3 with "HTTP/1.0 200 OK" and the body
// "pid=<pid> instance=<k>\n". It polls before accept(), and waits 20 ms and
// tries again while fd 3 does not listen (another worker shut it down), unless
// --blocking: then it calls accept() alone, as a classic blocking server does,
// and exits 4 with "sharedsock: accept: EAGAIN" when the socket is non-blocking.
//
// SIGUSR1: shutdown(3, SHUT_RDWR), then "shutdown pid=<pid> rc=<0|errno>" on
// stdout; it serves no more (another SIGUSR1 shuts fd 3 down again). SIGUSR2,
// SIGTERM, SIGINT: exit 0. After --timeout seconds (default 120): exit 3.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static volatile sig_atomic_t stop = 0;
static volatile sig_atomic_t shutdowns = 0;

static void on_stop(int signo) {
  (void)signo;
  stop = 1;
}

static void on_usr1(int signo) {
  (void)signo;
  shutdowns = shutdowns + 1;
}

static void on_alarm(int signo) {
  (void)signo;
  static const char msg[] = "timeout\n";
  ssize_t ignored = write(STDOUT_FILENO, msg, sizeof msg - 1);
  (void)ignored;
  _exit(3);
}

static void fail(const char* what, const char* value) {
  fprintf(stderr, "sharedsock: %s (%s)\n", what, value ? value : "unset");
  exit(2);
}

static void write_all(int fd, const char* buf, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, buf, len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return;
    buf += n;
    len -= (size_t)n;
  }
}

// Reads the request head, so that closing does not reset the connection.
static void read_request(int fd) {
  char buf[8192];
  size_t used = 0;
  while (used < sizeof buf - 1) {
    ssize_t n = read(fd, buf + used, sizeof buf - 1 - used);
    if (n < 0 && errno == EINTR) {
      if (stop)
        return;
      continue;
    }
    if (n <= 0)
      return;
    used += (size_t)n;
    buf[used] = '\0';
    if (strstr(buf, "\r\n\r\n") || strstr(buf, "\n\n"))
      return;
  }
}

// sd_notify("READY=1") for an abstract $NOTIFY_SOCKET, the kind cinit gives.
static void notify_ready(void) {
  const char* name = getenv("NOTIFY_SOCKET");
  if (!name || name[0] != '@')
    return;
  struct sockaddr_un address;
  memset(&address, 0, sizeof address);
  address.sun_family = AF_UNIX;
  size_t len = strlen(name);
  if (len > sizeof address.sun_path)
    return;
  memcpy(address.sun_path + 1, name + 1, len - 1);  // sun_path[0] = 0: abstract
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return;
  static const char ready[] = "READY=1";
  sendto(fd, ready, sizeof ready - 1, 0, (struct sockaddr*)&address,
         (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len));
  close(fd);
}

static int listening(int fd) {
  int value = 0;
  socklen_t len = sizeof value;
  return getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &value, &len) == 0 && value == 1;
}

int main(int argc, char** argv) {
  int blocking = 0;
  long backlog = -1;
  long timeout_seconds = 120;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--blocking") == 0) {
      blocking = 1;
    } else if (strcmp(argv[i], "--backlog") == 0 && i + 1 < argc) {
      backlog = atol(argv[++i]);
    } else if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc) {
      timeout_seconds = atol(argv[++i]);
    } else {
      fprintf(stderr,
              "usage: sharedsock [--blocking] [--backlog N] [--timeout SECONDS]\n");
      return 2;
    }
  }
  const char* listen_pid = getenv("LISTEN_PID");
  if (!listen_pid || atol(listen_pid) != (long)getpid()) {
    fail("LISTEN_PID is not my pid", listen_pid);
  }
  const char* listen_fds = getenv("LISTEN_FDS");
  if (!listen_fds || atol(listen_fds) != 1)
    fail("LISTEN_FDS is not 1", listen_fds);
  if (!listening(3))
    fail("not a listening socket", "3");
  const int nonblock = (fcntl(3, F_GETFL) & O_NONBLOCK) != 0;
  if (backlog >= 0 && listen(3, (int)backlog) != 0)
    fail("listen", strerror(errno));
  const char* instance = getenv("NODE_APP_INSTANCE");

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_stop;  // no SA_RESTART: accept() and poll() return EINTR
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGUSR2, &sa, NULL);
  sa.sa_handler = on_usr1;
  sigaction(SIGUSR1, &sa, NULL);
  sa.sa_handler = on_alarm;
  sigaction(SIGALRM, &sa, NULL);
  alarm((unsigned)timeout_seconds);

  printf("ready pid=%ld instance=%s nonblock=%d\n", (long)getpid(),
         instance ? instance : "", nonblock);
  fflush(stdout);
  notify_ready();

  char body[128];
  int body_len = snprintf(body, sizeof body, "pid=%ld instance=%s\n", (long)getpid(),
                          instance ? instance : "");
  char response[256];
  int response_len = snprintf(response, sizeof response,
                              "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n"
                              "Content-Length: %d\r\nConnection: close\r\n\r\n%s",
                              body_len, body);
  int done_shutdowns = 0;
  while (!stop) {
    if (shutdowns != done_shutdowns) {
      done_shutdowns = shutdowns;
      int rc = shutdown(3, SHUT_RDWR);
      printf("shutdown pid=%ld rc=%d\n", (long)getpid(), rc == 0 ? 0 : errno);
      fflush(stdout);
    }
    if (done_shutdowns > 0) {
      pause();  // serves no more; a signal ends the wait
      continue;
    }
    if (!blocking) {
      struct pollfd pfd = {.fd = 3, .events = POLLIN, .revents = 0};
      if (poll(&pfd, 1, -1) < 0) {
        if (errno == EINTR)
          continue;
        perror("sharedsock: poll");
        return 2;
      }
    }
    int conn = accept4(3, NULL, NULL, SOCK_CLOEXEC);
    if (conn < 0) {
      if (errno == EINTR || errno == ECONNABORTED)
        continue;
      if (errno == EAGAIN && blocking) {
        fprintf(stderr, "sharedsock: accept: EAGAIN\n");
        return 4;
      }
      if (errno == EAGAIN)
        continue;
      if (errno == EINVAL && !listening(3)) {
        poll(NULL, 0, 20);  // shut down by another worker: until cinit repairs it
        continue;
      }
      perror("sharedsock: accept");
      return 2;
    }
    read_request(conn);
    write_all(conn, response, (size_t)response_len);
    close(conn);
  }
  return 0;
}
