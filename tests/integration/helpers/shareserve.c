// shareserve: a static HTTP server that binds its port with raw socket calls, as
// Go and static binaries do (no libc bind() for the shim to catch), for the
// seccomp bind interception tests.
//
// Usage: shareserve [--nonblock] [--thread] [--backlog N] [--others UDPPORT PATH]
//                   HOST PORT
//   --nonblock  a SOCK_NONBLOCK socket, accepted after poll()
//   --thread    socket, bind and listen from a second thread
//   --backlog N listen(fd, N) (default 128)
//   --hostile   first makes binds no program should: a NULL and a wild
//               address pointer, length 0, a huge length, a pipe and a closed fd
//               named as the socket, a sockaddr that ends past mapped memory;
//               prints "hostile <case> errno=<errno>" for each (0: it succeeded)
//   --others    first binds 127.0.0.1:0 (TCP), 127.0.0.1:UDPPORT (UDP) and the
//               AF_UNIX path PATH, and prints each outcome:
//               "port0 port=<port>", "udp port=<port>", "unix ok" (or "... error=<errno>")
// HOST is numeric IPv4 or IPv6 ("::" is dual-stack). Prints "listening pid=<pid>
// fd=<fd> nonblock=<0|1> cloexec=<0|1>" once it listens, then answers each
// connection with "ok pid=<pid> gen=<G> end" and closes it; G is read once from
// $TP_GEN_FILE (else 0), and "start pid=<pid> gen=<G>" is appended to $TP_EVENTS
// when set (tests/integration/third_party_support.py). Dies on SIGTERM (no
// handler); exits by itself after 120 s. On a failed bind it prints
// "shareserve: bind: <strerror>" and exits 1.
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
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

static int g_nonblock;
static int g_backlog = 128;
static const char* g_host;
static int g_port;
static int g_fd = -1;

static void* open_listener(void* unused) {
  (void)unused;
  struct sockaddr_storage address;
  memset(&address, 0, sizeof address);
  socklen_t len;
  int family;
  if (strchr(g_host, ':') != NULL) {
    struct sockaddr_in6* in6 = (struct sockaddr_in6*)&address;
    family = in6->sin6_family = AF_INET6;
    in6->sin6_port = htons((unsigned short)g_port);
    inet_pton(AF_INET6, g_host, &in6->sin6_addr);
    len = sizeof *in6;
  } else {
    struct sockaddr_in* in4 = (struct sockaddr_in*)&address;
    family = in4->sin_family = AF_INET;
    in4->sin_port = htons((unsigned short)g_port);
    inet_pton(AF_INET, g_host, &in4->sin_addr);
    len = sizeof *in4;
  }
  int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC | (g_nonblock ? SOCK_NONBLOCK : 0), 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (family == AF_INET6) {
    int zero = 0;
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
  }
  if (bind(fd, (struct sockaddr*)&address, len) != 0) {
    fprintf(stderr, "shareserve: bind: %s\n", strerror(errno));
    exit(1);
  }
  if (listen(fd, g_backlog) != 0) {
    fprintf(stderr, "shareserve: listen: %s\n", strerror(errno));
    exit(1);
  }
  g_fd = fd;
  return NULL;
}

// One raw bind(2), past libc (as Go makes it); its errno, 0 on success.
static int raw_bind(int fd, const void* address, unsigned long len) {
  return syscall(SYS_bind, fd, address, len) == 0 ? 0 : errno;
}

static void bind_hostile(void) {
  struct sockaddr_in in4;
  memset(&in4, 0, sizeof in4);
  in4.sin_family = AF_INET;
  in4.sin_port = htons((unsigned short)g_port);
  in4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int tcp = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int pipe_fds[2];
  if (pipe(pipe_fds) != 0) {
    pipe_fds[0] = -1;
  }
  // The sockaddr's last bytes on a page that is not mapped.
  long page = sysconf(_SC_PAGESIZE);
  char* pages = mmap(NULL, 2 * (size_t)page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  munmap(pages + page, (size_t)page);
  char* edge = pages + page - 8;
  memcpy(edge, &in4, 8);
  printf("hostile null errno=%d\n", raw_bind(tcp, NULL, sizeof in4));
  printf("hostile wild errno=%d\n", raw_bind(tcp, (void*)16, sizeof in4));
  printf("hostile zero-length errno=%d\n", raw_bind(tcp, &in4, 0));
  printf("hostile huge-length errno=%d\n", raw_bind(tcp, &in4, 1UL << 40));
  printf("hostile pipe errno=%d\n", raw_bind(pipe_fds[0], &in4, sizeof in4));
  printf("hostile closed-fd errno=%d\n", raw_bind(987, &in4, sizeof in4));
  printf("hostile edge errno=%d\n", raw_bind(tcp, edge, sizeof in4));
  fflush(stdout);
  close(tcp);
}

static void bind_others(int udp_port, const char* path) {
  struct sockaddr_in in4;
  memset(&in4, 0, sizeof in4);
  in4.sin_family = AF_INET;
  in4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int tcp = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (bind(tcp, (struct sockaddr*)&in4, sizeof in4) != 0) {
    printf("port0 error=%d\n", errno);
  } else {
    socklen_t len = sizeof in4;
    getsockname(tcp, (struct sockaddr*)&in4, &len);
    printf("port0 port=%d\n", ntohs(in4.sin_port));
  }
  in4.sin_port = htons((unsigned short)udp_port);
  int udp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (bind(udp, (struct sockaddr*)&in4, sizeof in4) != 0) {
    printf("udp error=%d\n", errno);
  } else {
    socklen_t len = sizeof in4;
    getsockname(udp, (struct sockaddr*)&in4, &len);
    printf("udp port=%d\n", ntohs(in4.sin_port));
  }
  struct sockaddr_un un;
  memset(&un, 0, sizeof un);
  un.sun_family = AF_UNIX;
  snprintf(un.sun_path, sizeof un.sun_path, "%s", path);
  int unix_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (bind(unix_fd, (struct sockaddr*)&un, sizeof un) != 0) {
    printf("unix error=%d\n", errno);
  } else {
    printf("unix ok\n");
  }
  fflush(stdout);
}

int main(int argc, char** argv) {
  int thread = 0;
  int hostile = 0;
  int i = 1;
  for (; i < argc && strncmp(argv[i], "--", 2) == 0; ++i) {
    if (strcmp(argv[i], "--nonblock") == 0) {
      g_nonblock = 1;
    } else if (strcmp(argv[i], "--thread") == 0) {
      thread = 1;
    } else if (strcmp(argv[i], "--backlog") == 0 && i + 1 < argc) {
      g_backlog = atoi(argv[++i]);
    } else if (strcmp(argv[i], "--hostile") == 0) {
      hostile = 1;
    } else if (strcmp(argv[i], "--others") == 0 && i + 2 < argc) {
      bind_others(atoi(argv[i + 1]), argv[i + 2]);
      i += 2;
    } else {
      break;
    }
  }
  if (argc - i != 2) {
    fprintf(stderr, "usage: shareserve [options] HOST PORT\n");
    return 2;
  }
  g_host = argv[i];
  g_port = atoi(argv[i + 1]);
  alarm(120);
  if (hostile) {
    bind_hostile();
  }
  if (thread) {
    pthread_t t;
    pthread_create(&t, NULL, open_listener, NULL);
    pthread_join(t, NULL);
  } else {
    open_listener(NULL);
  }
  int fl = fcntl(g_fd, F_GETFL);
  int fdfl = fcntl(g_fd, F_GETFD);
  printf("listening pid=%d fd=%d nonblock=%d cloexec=%d\n", getpid(), g_fd,
         (fl & O_NONBLOCK) != 0, (fdfl & FD_CLOEXEC) != 0);
  fflush(stdout);
  char gen[32] = "0";
  const char* gen_file = getenv("TP_GEN_FILE");
  FILE* f = gen_file != NULL ? fopen(gen_file, "r") : NULL;
  if (f != NULL) {
    if (fscanf(f, "%31s", gen) != 1) {
      strcpy(gen, "0");
    }
    fclose(f);
  }
  const char* events = getenv("TP_EVENTS");
  f = events != NULL ? fopen(events, "a") : NULL;
  if (f != NULL) {
    fprintf(f, "start pid=%d gen=%s\n", getpid(), gen);
    fclose(f);
  }
  char body[96];
  int body_len = snprintf(body, sizeof body, "ok pid=%d gen=%s end\n", getpid(), gen);
  char response[256];
  int len = snprintf(response, sizeof response,
                     "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: "
                     "%d\r\nconnection: close\r\n\r\n%s",
                     body_len, body);
  for (;;) {
    if (g_nonblock) {
      struct pollfd p = {.fd = g_fd, .events = POLLIN};
      poll(&p, 1, 1000);
    }
    int c = accept4(g_fd, NULL, NULL, SOCK_CLOEXEC);
    if (c < 0) {
      if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED) {
        continue;
      }
      fprintf(stderr, "shareserve: accept: %s\n", strerror(errno));
      return 1;
    }
    char request[2048];
    ssize_t got = 0;
    // Read up to the end of the request head (or 2 s of nothing).
    struct pollfd p = {.fd = c, .events = POLLIN};
    while (got < (ssize_t)sizeof request - 1 && poll(&p, 1, 2000) > 0) {
      ssize_t n = read(c, request + got, sizeof request - 1 - (size_t)got);
      if (n <= 0) {
        break;
      }
      got += n;
      request[got] = 0;
      if (strstr(request, "\r\n\r\n") != NULL) {
        break;
      }
    }
    ssize_t ignored = write(c, response, (size_t)len);
    (void)ignored;
    close(c);
  }
}
