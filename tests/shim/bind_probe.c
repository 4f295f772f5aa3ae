// bind_probe: a small server for test_shim.py that binds one socket per port
// and reports, one "key=value ..." line each, what bind() did and what the
// caller's fd looks like afterwards. It must be linked dynamically (LD_PRELOAD
// has no effect on static binaries); test_shim.py also builds it with musl-gcc.
//
// Usage: bind_probe [--family inet|inet6|unix] [--type stream|dgram]
//                   [--addr NUMERIC] [--port P[,P...]] [--path UNIX_PATH]
//                   [--v6only 0|1] [--nonblock] [--no-cloexec]
//                   [--listen BACKLOG] [--shutdown HOW] [--serve N]
//
// Several ports bind concurrently, one thread each, released together by a
// barrier. For each bind it prints
//   bind index=I rc=R errno=E domain=D type=T port=P nonblock=0|1 cloexec=0|1
//        v6only=V listening=0|1 inode=INO
// (one line). With --listen it then calls listen(BACKLOG) on each successfully
// bound socket and prints "listen index=I rc=R errno=E". With --shutdown HOW
// it then calls shutdown(HOW) on each and prints
//   shutdown index=I rc=R errno=E accept=E poll=0xM listening=0|1 nonblock=0|1
//            cloexec=0|1 inode=INO
// where accept is the errno of an accept() afterwards (-1: not tried, the
// socket still listens) and poll the revents of poll(POLLIN|POLLOUT, 0).
// With --serve N it accepts N connections on the first socket (blocking, also when the
// socket is non-blocking: it polls) and writes "hello from bind_probe PID\n" to each.
// Ends with "done". Exits 0 unless the arguments are bad (2).
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

enum { kMaxPorts = 16 };

struct options {
  int family;
  int type;
  const char* addr;
  int ports[kMaxPorts];
  int nports;
  const char* path;
  int v6only;  // -1: leave the default
  int nonblock;
  int cloexec;
  int listen_backlog;  // -1: no listen()
  int shutdown_how;    // -1: no shutdown()
  int serve;
};

struct slot {
  const struct options* opts;
  int index;
  int fd;
  int rc;
  int error;
  pthread_barrier_t* barrier;
};

static void usage(void) {
  fprintf(
      stderr,
      "usage: bind_probe [--family inet|inet6|unix] [--type stream|dgram] "
      "[--addr A] [--port P[,P...]] [--path PATH] [--v6only 0|1] "
      "[--nonblock] [--no-cloexec] [--listen BACKLOG] [--shutdown HOW] [--serve N]\n");
  exit(2);
}

static int parse_int(const char* s) {
  char* end = NULL;
  long v = strtol(s, &end, 10);
  if (end == s || *end != '\0' || v < -1 || v > 65535)
    usage();
  return (int)v;
}

static void parse_ports(const char* s, struct options* opts) {
  char buf[256];
  snprintf(buf, sizeof buf, "%s", s);
  for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok != NULL;
       tok = strtok_r(NULL, ",", &save)) {
    if (opts->nports == kMaxPorts)
      usage();
    opts->ports[opts->nports++] = parse_int(tok);
  }
}

static void parse_args(int argc, char** argv, struct options* opts) {
  memset(opts, 0, sizeof *opts);
  opts->family = AF_INET;
  opts->type = SOCK_STREAM;
  opts->v6only = -1;
  opts->cloexec = 1;
  opts->listen_backlog = -1;
  opts->shutdown_how = -1;
  for (int i = 1; i < argc; ++i) {
    const char* a = argv[i];
    if (strcmp(a, "--nonblock") == 0) {
      opts->nonblock = 1;
      continue;
    }
    if (strcmp(a, "--no-cloexec") == 0) {
      opts->cloexec = 0;
      continue;
    }
    if (i + 1 >= argc)
      usage();
    const char* v = argv[++i];
    if (strcmp(a, "--family") == 0) {
      if (strcmp(v, "inet") == 0) {
        opts->family = AF_INET;
      } else if (strcmp(v, "inet6") == 0) {
        opts->family = AF_INET6;
      } else if (strcmp(v, "unix") == 0) {
        opts->family = AF_UNIX;
      } else {
        usage();
      }
    } else if (strcmp(a, "--type") == 0) {
      opts->type = strcmp(v, "dgram") == 0 ? SOCK_DGRAM : SOCK_STREAM;
    } else if (strcmp(a, "--addr") == 0) {
      opts->addr = v;
    } else if (strcmp(a, "--port") == 0) {
      parse_ports(v, opts);
    } else if (strcmp(a, "--path") == 0) {
      opts->path = v;
    } else if (strcmp(a, "--v6only") == 0) {
      opts->v6only = parse_int(v);
    } else if (strcmp(a, "--listen") == 0) {
      opts->listen_backlog = parse_int(v);
    } else if (strcmp(a, "--shutdown") == 0) {
      opts->shutdown_how = parse_int(v);
    } else if (strcmp(a, "--serve") == 0) {
      opts->serve = parse_int(v);
    } else {
      usage();
    }
  }
  if (opts->nports == 0)
    opts->ports[opts->nports++] = 0;
  if (opts->family == AF_UNIX) {
    if (opts->path == NULL)
      usage();
    opts->nports = 1;
  }
  if (opts->addr == NULL)
    opts->addr = opts->family == AF_INET6 ? "::1" : "127.0.0.1";
}

// Creates the socket and binds it; records rc and errno in *slot.
static void* bind_one(void* arg) {
  struct slot* slot = arg;
  const struct options* opts = slot->opts;
  int flags = opts->type | (opts->nonblock ? SOCK_NONBLOCK : 0) |
              (opts->cloexec ? SOCK_CLOEXEC : 0);
  slot->fd = socket(opts->family, flags, 0);
  if (slot->fd < 0) {
    perror("bind_probe: socket");
    exit(1);
  }
  if (opts->v6only >= 0 && setsockopt(slot->fd, IPPROTO_IPV6, IPV6_V6ONLY, &opts->v6only,
                                      sizeof opts->v6only) != 0) {
    perror("bind_probe: IPV6_V6ONLY");
    exit(1);
  }
  struct sockaddr_storage ss;
  memset(&ss, 0, sizeof ss);
  socklen_t len;
  const int port = opts->ports[slot->index];
  if (opts->family == AF_INET) {
    struct sockaddr_in* in4 = (struct sockaddr_in*)&ss;
    in4->sin_family = AF_INET;
    in4->sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, opts->addr, &in4->sin_addr) != 1)
      usage();
    len = sizeof *in4;
  } else if (opts->family == AF_INET6) {
    struct sockaddr_in6* in6 = (struct sockaddr_in6*)&ss;
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons((uint16_t)port);
    if (inet_pton(AF_INET6, opts->addr, &in6->sin6_addr) != 1)
      usage();
    len = sizeof *in6;
  } else {
    struct sockaddr_un* un = (struct sockaddr_un*)&ss;
    un->sun_family = AF_UNIX;
    snprintf(un->sun_path, sizeof un->sun_path, "%s", opts->path);
    len = (socklen_t)sizeof *un;
  }
  pthread_barrier_wait(slot->barrier);
  errno = 0;
  slot->rc = bind(slot->fd, (struct sockaddr*)&ss, len);
  slot->error = slot->rc == 0 ? 0 : errno;
  return NULL;
}

static int int_option(int fd, int level, int name) {
  int value = -1;
  socklen_t len = sizeof value;
  if (getsockopt(fd, level, name, &value, &len) != 0)
    return -1;
  return value;
}

static void report(const struct slot* slot) {
  const int fd = slot->fd;
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  memset(&ss, 0, sizeof ss);
  int port = -1;
  if (getsockname(fd, (struct sockaddr*)&ss, &len) == 0) {
    if (ss.ss_family == AF_INET)
      port = ntohs(((struct sockaddr_in*)&ss)->sin_port);
    if (ss.ss_family == AF_INET6)
      port = ntohs(((struct sockaddr_in6*)&ss)->sin6_port);
  }
  const int domain = int_option(fd, SOL_SOCKET, SO_DOMAIN);
  struct stat st;
  memset(&st, 0, sizeof st);
  fstat(fd, &st);
  printf(
      "bind index=%d rc=%d errno=%d domain=%d type=%d port=%d nonblock=%d "
      "cloexec=%d v6only=%d listening=%d inode=%llu\n",
      slot->index, slot->rc, slot->error, domain, int_option(fd, SOL_SOCKET, SO_TYPE),
      port, (fcntl(fd, F_GETFL) & O_NONBLOCK) != 0,
      (fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0,
      domain == AF_INET6 ? int_option(fd, IPPROTO_IPV6, IPV6_V6ONLY) : -1,
      int_option(fd, SOL_SOCKET, SO_ACCEPTCONN), (unsigned long long)st.st_ino);
  fflush(stdout);
}

static void shut_down(int fd, int index, int how) {
  errno = 0;
  const int rc = shutdown(fd, how);
  const int error = rc == 0 ? 0 : errno;
  const int listening = int_option(fd, SOL_SOCKET, SO_ACCEPTCONN);
  int accept_errno = -1;
  if (listening != 1) {
    errno = 0;
    const int conn = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    accept_errno = conn < 0 ? errno : 0;
    if (conn >= 0)
      close(conn);
  }
  struct pollfd pfd = {.fd = fd, .events = POLLIN | POLLOUT, .revents = 0};
  poll(&pfd, 1, 0);
  struct stat st;
  memset(&st, 0, sizeof st);
  fstat(fd, &st);
  printf(
      "shutdown index=%d rc=%d errno=%d accept=%d poll=%#x listening=%d nonblock=%d "
      "cloexec=%d inode=%llu\n",
      index, rc, error, accept_errno, (unsigned)pfd.revents, listening,
      (fcntl(fd, F_GETFL) & O_NONBLOCK) != 0, (fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0,
      (unsigned long long)st.st_ino);
  fflush(stdout);
}

static void serve(int fd, int count) {
  char line[64];
  snprintf(line, sizeof line, "hello from bind_probe %d\n", (int)getpid());
  for (int served = 0; served < count;) {
    struct pollfd pfd = {.fd = fd, .events = POLLIN, .revents = 0};
    if (poll(&pfd, 1, -1) < 0 && errno != EINTR) {
      perror("bind_probe: poll");
      exit(1);
    }
    int conn = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
    if (conn < 0) {
      if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED)
        continue;
      perror("bind_probe: accept");
      exit(1);
    }
    if (write(conn, line, strlen(line)) < 0)
      perror("bind_probe: write");
    close(conn);
    ++served;
    printf("served %d\n", served);
    fflush(stdout);
  }
}

int main(int argc, char** argv) {
  struct options opts;
  parse_args(argc, argv, &opts);
  struct slot slots[kMaxPorts];
  pthread_t threads[kMaxPorts];
  pthread_barrier_t barrier;
  pthread_barrier_init(&barrier, NULL, (unsigned)opts.nports);
  for (int i = 0; i < opts.nports; ++i) {
    slots[i] = (struct slot){.opts = &opts, .index = i, .fd = -1, .barrier = &barrier};
    if (pthread_create(&threads[i], NULL, bind_one, &slots[i]) != 0) {
      fprintf(stderr, "bind_probe: pthread_create failed\n");
      return 1;
    }
  }
  for (int i = 0; i < opts.nports; ++i)
    pthread_join(threads[i], NULL);
  for (int i = 0; i < opts.nports; ++i)
    report(&slots[i]);
  if (opts.listen_backlog >= 0) {
    for (int i = 0; i < opts.nports; ++i) {
      if (slots[i].rc != 0)
        continue;
      errno = 0;
      int rc = listen(slots[i].fd, opts.listen_backlog);
      printf("listen index=%d rc=%d errno=%d\n", i, rc, rc == 0 ? 0 : errno);
      fflush(stdout);
    }
  }
  if (opts.shutdown_how >= 0) {
    for (int i = 0; i < opts.nports; ++i) {
      if (slots[i].rc == 0)
        shut_down(slots[i].fd, i, opts.shutdown_how);
    }
  }
  if (opts.serve > 0 && slots[0].rc == 0)
    serve(slots[0].fd, opts.serve);
  printf("done\n");
  fflush(stdout);
  return 0;
}
