// bindport: a static server that binds its port itself, as a Go server does (no
// libc bind() for the shim to catch: a static binary cannot load it).
//
// Usage: bindport PORT
//
// Binds 127.0.0.1:PORT and listens; on success prints "listening pid=<pid>"
// and waits up to 60 s (exits 0 on SIGTERM). On failure prints
// "bindport: bind: <strerror>" to stderr and exits 1, as a server would.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: bindport PORT\n");
    return 2;
  }
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in address;
  memset(&address, 0, sizeof address);
  address.sin_family = AF_INET;
  address.sin_port = htons((unsigned short)atoi(argv[1]));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || bind(fd, (struct sockaddr*)&address, sizeof address) != 0 ||
      listen(fd, 16) != 0) {
    fprintf(stderr, "bindport: bind: %s\n", strerror(errno));
    return 1;
  }
  printf("listening pid=%d\n", (int)getpid());
  fflush(stdout);
  signal(SIGTERM, SIG_DFL);
  sleep(60);
  return 0;
}
