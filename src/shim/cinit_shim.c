// cinit_shim.so: the LD_PRELOAD object that turns a worker's bind() on a shared
// port into a request to cinit (protocol: shim_protocol.h, version 1), and keeps
// the worker's listen() and shutdown() off the socket it got back, which every
// worker shares.
//
// Libc-agnostic, not libc-free: it is linked with -nostdlib and talks to the
// kernel with raw syscalls, so the same file loads under glibc and musl. Its
// one import is __errno_location (both libcs export it) so that a failing
// bind()/listen()/shutdown() sets the caller's errno. No TLS, no allocation, no
// locks: each may run on any thread and, when the caller does, in a signal
// handler (async-signal-safe).
// Exports bind, listen and shutdown only (everything else has hidden visibility).
//
// x86_64 only: syscall numbers and the syscall instruction are per arch.
#if !defined(__x86_64__)
#error "cinit_shim: only x86_64 is implemented (raw syscalls)"
#endif

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>

#include "shim_protocol.h"

#define CINIT_SHIM_EXPORT __attribute__((visibility("default")))

// At most this many fds are accepted from one REPLY (only one is valid; the
// space for more lets us see and close extras instead of losing them).
enum { kMaxReplyFds = 4 };
// Sockets received from cinit that listen() recognises (by SO_COOKIE).
enum { kMaxSharedSockets = 64 };

// --- raw syscalls ----------------------------------------------------------

static long raw_syscall(long nr, long a1, long a2, long a3, long a4, long a5, long a6) {
  long ret;
  register long r10 __asm__("r10") = a4;
  register long r8 __asm__("r8") = a5;
  register long r9 __asm__("r9") = a6;
  __asm__ volatile("syscall"
                   : "=a"(ret)
                   : "a"(nr), "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8), "r"(r9)
                   : "rcx", "r11", "memory");
  return ret;
}

static long arg_ptr(const void* p) { return (long)(uintptr_t)p; }

// Raw syscalls return -errno, in [-4095, -1], on failure.
static int is_error(long ret) { return ret < 0 && ret >= -CINIT_SHIM_MAX_ERRNO; }

static void sys_close(int fd) {
  // Linux releases the fd even when close() reports EINTR: never retry.
  raw_syscall(SYS_close, fd, 0, 0, 0, 0, 0);
}

static int sys_getpid(void) { return (int)raw_syscall(SYS_getpid, 0, 0, 0, 0, 0, 0); }

// Reads an int-sized socket option. Returns 0 or -errno.
static long sys_getsockopt_int(int fd, int level, int name, int* value) {
  socklen_t len = sizeof *value;
  *value = 0;
  return raw_syscall(SYS_getsockopt, fd, level, name, arg_ptr(value), arg_ptr(&len), 0);
}

static long sys_bind(int fd, const struct sockaddr* addr, socklen_t len) {
  return raw_syscall(SYS_bind, fd, arg_ptr(addr), (long)len, 0, 0, 0);
}

static long sys_sendmsg(int fd, const struct msghdr* msg, int flags) {
  long ret;
  do {
    ret = raw_syscall(SYS_sendmsg, fd, arg_ptr(msg), flags, 0, 0, 0);
  } while (ret == -EINTR);
  return ret;
}

static long sys_recvmsg(int fd, struct msghdr* msg, int flags) {
  long ret;
  do {
    ret = raw_syscall(SYS_recvmsg, fd, arg_ptr(msg), flags, 0, 0, 0);
  } while (ret == -EINTR);
  return ret;
}

static long sys_read(int fd, void* buf, size_t len) {
  long ret;
  do {
    ret = raw_syscall(SYS_read, fd, arg_ptr(buf), (long)len, 0, 0, 0);
  } while (ret == -EINTR);
  return ret;
}

// --- freestanding helpers --------------------------------------------------

// GCC may emit calls to memset/memcpy for struct initialisation and copies
// even with -fno-builtin; these hidden definitions satisfy them inside the
// object (the build also passes -fno-tree-loop-distribute-patterns so that
// these loops are not turned back into calls to themselves).
void* memset(void* dst, int c, size_t n);
void* memcpy(void* dst, const void* src, size_t n);

void* memset(void* dst, int c, size_t n) {
  unsigned char* d = dst;
  while (n-- > 0)
    *d++ = (unsigned char)c;
  return dst;
}

void* memcpy(void* dst, const void* src, size_t n) {
  unsigned char* d = dst;
  const unsigned char* s = src;
  while (n-- > 0)
    *d++ = *s++;
  return dst;
}

static void set_errno(long negative_errno) { *__errno_location() = (int)-negative_errno; }

// --- state -----------------------------------------------------------------

// The channel to cinit, or -1. Written once by the constructor, before any
// other thread of the process can exist; read-only afterwards.
static int g_channel_fd = -1;

// SO_COOKIEs of the sockets received from cinit. Append-only; a slot is
// claimed with a CAS on the count, then filled (0 = not filled yet: socket
// cookies start at 1). A socket that no longer fits is simply not recognised
// by listen(), which then does the real syscall: harmless.
static uint64_t g_shared_cookies[kMaxSharedSockets];
static unsigned g_shared_count;

// --- CINIT_SHIM_FD and CINIT_SHIM_SOCKET ------------------------------------

// Finds the first "NAME=value" entry for one name in a stream of NUL-terminated
// "NAME=value" strings fed one chunk at a time (the envp strings, or the bytes
// of /proc/self/environ), keeping its value. The first entry with that name
// decides, as getenv() would.
enum { kMaxEnvValue = 108 };  // sun_path: the longest value either variable needs

struct env_scan {
  const char* prefix;  // "NAME="
  size_t prefix_len;
  size_t matched;  // bytes of prefix matched in the current entry
  int mismatch;    // the current entry has another name
  char value[kMaxEnvValue];
  size_t len;
  int too_long;
  int done;  // the first entry with that name has ended
};

static void env_scan_init(struct env_scan* scan, const char* prefix) {
  memset(scan, 0, sizeof *scan);
  scan->prefix = prefix;
  while (prefix[scan->prefix_len] != '\0')
    ++scan->prefix_len;
}

static void env_scan_feed(struct env_scan* scan, const char* bytes, size_t n) {
  for (size_t i = 0; i < n && !scan->done; ++i) {
    const char c = bytes[i];
    if (c == '\0') {
      if (scan->matched == scan->prefix_len) {
        scan->done = 1;
        return;
      }
      scan->matched = 0;
      scan->mismatch = 0;
    } else if (scan->mismatch) {
      // Skip the rest of this entry.
    } else if (scan->matched < scan->prefix_len) {
      if (c == scan->prefix[scan->matched]) {
        ++scan->matched;
      } else {
        scan->mismatch = 1;
      }
    } else if (scan->len < kMaxEnvValue) {
      scan->value[scan->len++] = c;
    } else {
      scan->too_long = 1;
    }
  }
}

// The value as a file descriptor number: plain decimal, else -1.
static int env_scan_fd(const struct env_scan* scan) {
  if (!scan->done || scan->too_long || scan->len == 0 || scan->len > 9)
    return -1;
  int fd = 0;
  for (size_t i = 0; i < scan->len; ++i) {
    if (scan->value[i] < '0' || scan->value[i] > '9')
      return -1;
    fd = fd * 10 + (scan->value[i] - '0');
  }
  return fd;
}

static void env_feed_all(struct env_scan* scans, int count, const char* bytes, size_t n) {
  for (int i = 0; i < count; ++i)
    env_scan_feed(&scans[i], bytes, n);
}

// The environment as glibc hands it to DT_INIT_ARRAY functions (argc, argv,
// envp). musl calls them with no arguments, so the registers hold garbage:
// trust the triple only if it has the shape of the initial process stack,
// where envp starts right after argv's terminating NULL.
static int env_from_envp(int argc, char** argv, char** envp, struct env_scan* scans,
                         int count) {
  if (argc < 0 || argc > (1 << 20) || argv == NULL || envp == NULL)
    return 0;
  if ((uintptr_t)envp != (uintptr_t)argv + ((uintptr_t)argc + 1) * sizeof(char*)) {
    return 0;
  }
  if (argv[argc] != NULL)
    return 0;
  for (char** entry = envp; *entry != NULL; ++entry) {
    const char* s = *entry;
    size_t len = 0;
    while (s[len] != '\0')
      ++len;
    env_feed_all(scans, count, s, len + 1);  // with the NUL that ends the entry
  }
  return 1;
}

// The initial environment from /proc/self/environ (musl, or any loader that
// passes no envp). Without /proc the shim stays inactive.
static void env_from_proc(struct env_scan* scans, int count) {
  long fd = raw_syscall(SYS_openat, AT_FDCWD, arg_ptr("/proc/self/environ"),
                        O_RDONLY | O_CLOEXEC, 0, 0, 0);
  if (is_error(fd))
    return;
  char buf[512];
  for (;;) {
    long n = sys_read((int)fd, buf, sizeof buf);
    if (n <= 0)
      break;
    env_feed_all(scans, count, buf, (size_t)n);
  }
  // The last entry may lack its NUL (an environment edited at run time).
  env_feed_all(scans, count, "", 1);
  sys_close((int)fd);
}

// Connects a new SOCK_SEQPACKET socket to the abstract AF_UNIX name "@name"
// (CINIT_SHIM_SOCKET). Returns the fd, or -1.
static int connect_abstract(const struct env_scan* scan) {
  if (!scan->done || scan->too_long || scan->len < 2 || scan->value[0] != '@')
    return -1;
  struct sockaddr_un address;
  memset(&address, 0, sizeof address);
  address.sun_family = AF_UNIX;
  size_t name_len = scan->len - 1;
  if (name_len + 1 > sizeof address.sun_path)
    return -1;
  memcpy(address.sun_path + 1, scan->value + 1, name_len);  // sun_path[0] = 0: abstract
  long fd = raw_syscall(SYS_socket, AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, 0, 0, 0);
  if (is_error(fd))
    return -1;
  socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + name_len);
  if (is_error(raw_syscall(SYS_connect, fd, arg_ptr(&address), len, 0, 0, 0))) {
    sys_close((int)fd);
    return -1;
  }
  return (int)fd;
}

// Returns 1 if fd is an AF_UNIX SOCK_SEQPACKET socket (what cinit passes).
static int is_channel(int fd) {
  int type;
  int domain;
  if (fd < 0)
    return 0;
  if (sys_getsockopt_int(fd, SOL_SOCKET, SO_TYPE, &type) != 0)
    return 0;
  if (sys_getsockopt_int(fd, SOL_SOCKET, SO_DOMAIN, &domain) != 0)
    return 0;
  return type == SOCK_SEQPACKET && domain == AF_UNIX;
}

static void fill_header(struct cinit_shim_header* header, unsigned type) {
  header->magic = CINIT_SHIM_MAGIC;
  header->version = CINIT_SHIM_VERSION;
  header->type = (uint16_t)type;
  header->pid = sys_getpid();
}

// Runs before main() (glibc: possibly even before libc's own constructors, as
// this object has no DT_NEEDED): raw syscalls only.
__attribute__((constructor)) static void shim_init(int argc, char** argv, char** envp) {
  struct env_scan scans[2];
  env_scan_init(&scans[0], CINIT_SHIM_ENV "=");
  env_scan_init(&scans[1], CINIT_SHIM_SOCKET_ENV "=");
  if (!env_from_envp(argc, argv, envp, scans, 2))
    env_from_proc(scans, 2);
  int fd = env_scan_fd(&scans[0]);
  if (!is_channel(fd)) {
    // The inherited channel did not make it here (a parent such as Node's
    // child_process passes only stdio): connect to cinit's shim socket instead.
    fd = connect_abstract(&scans[1]);
    if (!is_channel(fd))
      return;
  }
  g_channel_fd = fd;

  struct cinit_shim_hello hello;
  memset(&hello, 0, sizeof hello);
  fill_header(&hello.header, CINIT_SHIM_TYPE_HELLO);
  struct iovec iov = {.iov_base = &hello, .iov_len = sizeof hello};
  struct msghdr msg;
  memset(&msg, 0, sizeof msg);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  // Never block the program's start on a full channel; a lost HELLO only
  // makes cinit warn.
  sys_sendmsg(g_channel_fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
}

// --- bind ------------------------------------------------------------------

// The result of asking cinit: kPassThrough (do the real bind), or the value
// bind() returns as a syscall would (0 or -errno).
enum { kPassThrough = 1 };

// Fills *req from the caller's socket and address. Returns 0 if bind(fd,
// addr, len) is one to ask cinit about (see shim_protocol.h), else -1.
// A bad non-NULL addr faults here, where the bare syscall would fail with
// EFAULT; no program relies on that.
static int describe_bind(int fd, const struct sockaddr* addr, socklen_t len,
                         struct cinit_shim_bind_request* req) {
  if (addr == NULL || len < sizeof(sa_family_t))
    return -1;
  const int family = addr->sa_family;
  if (family == AF_INET) {
    if (len < sizeof(struct sockaddr_in))
      return -1;
    const struct sockaddr_in* in4 = (const struct sockaddr_in*)addr;
    req->port = __builtin_bswap16(in4->sin_port);  // network -> host (x86_64)
    memcpy(req->addr, &in4->sin_addr, sizeof in4->sin_addr);
  } else if (family == AF_INET6) {
    if (len < sizeof(struct sockaddr_in6))
      return -1;
    const struct sockaddr_in6* in6 = (const struct sockaddr_in6*)addr;
    req->port = __builtin_bswap16(in6->sin6_port);
    memcpy(req->addr, &in6->sin6_addr, sizeof in6->sin6_addr);
    req->scope_id = in6->sin6_scope_id;
  } else {
    return -1;
  }
  if (req->port == 0)
    return -1;

  int domain;
  int type;
  int protocol;
  if (sys_getsockopt_int(fd, SOL_SOCKET, SO_DOMAIN, &domain) != 0)
    return -1;
  if (sys_getsockopt_int(fd, SOL_SOCKET, SO_TYPE, &type) != 0)
    return -1;
  if (sys_getsockopt_int(fd, SOL_SOCKET, SO_PROTOCOL, &protocol) != 0) {
    return -1;
  }
  if (domain != family)
    return -1;
  if (!((type == SOCK_STREAM && protocol == IPPROTO_TCP) ||
        (type == SOCK_DGRAM && protocol == IPPROTO_UDP))) {
    return -1;
  }
  int v6only = 0;
  if (family == AF_INET6 &&
      sys_getsockopt_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only) != 0) {
    return -1;
  }

  // Already bound (explicitly, or by connect/listen): the real bind fails
  // with EINVAL, and cinit must not swap the socket under the caller.
  struct sockaddr_in6 local;
  socklen_t local_len = sizeof local;
  memset(&local, 0, sizeof local);
  if (raw_syscall(SYS_getsockname, fd, arg_ptr(&local), arg_ptr(&local_len), 0, 0, 0) !=
      0) {
    return -1;
  }
  if (local.sin6_port != 0)
    return -1;  // sin_port sits at the same offset

  fill_header(&req->header, CINIT_SHIM_TYPE_BIND);
  req->family = family;
  req->socktype = type;
  req->protocol = protocol;
  req->v6only = v6only != 0;
  return 0;
}

// One iovec and a zeroed control buffer of len bytes, as sendmsg/recvmsg want.
static void init_msg(struct msghdr* msg, struct iovec* iov, char* control, size_t len) {
  memset(control, 0, len);
  memset(msg, 0, sizeof *msg);
  msg->msg_iov = iov;
  msg->msg_iovlen = 1;
  msg->msg_control = control;
  msg->msg_controllen = len;
}

// Sends *req with reply_end attached. Returns 0 or -errno.
static long send_request(const struct cinit_shim_bind_request* req, int reply_end) {
  struct iovec iov = {.iov_base = (void*)(uintptr_t)req, .iov_len = sizeof *req};
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } control;
  struct msghdr msg;
  init_msg(&msg, &iov, control.buf, sizeof control.buf);
  struct cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(cmsg), &reply_end, sizeof reply_end);
  // MSG_NOSIGNAL: a gone cinit must give EPIPE (and a real bind), not kill
  // the worker with SIGPIPE.
  long ret = sys_sendmsg(g_channel_fd, &msg, MSG_NOSIGNAL);
  return ret < 0 ? ret : 0;
}

// Waits for the REPLY on reply_end. Returns kPassThrough, -errno (cinit's
// error), or 0 with *sock set to the received socket.
static long receive_reply(int reply_end, int* sock) {
  struct cinit_shim_reply reply;
  memset(&reply, 0, sizeof reply);
  struct iovec iov = {.iov_base = &reply, .iov_len = sizeof reply};
  union {
    char buf[CMSG_SPACE(sizeof(int) * kMaxReplyFds)];
    struct cmsghdr align;
  } control;
  struct msghdr msg;
  init_msg(&msg, &iov, control.buf, sizeof control.buf);
  const long n = sys_recvmsg(reply_end, &msg, MSG_CMSG_CLOEXEC);
  if (n < 0)
    return kPassThrough;

  // Collect every fd that arrived, so that none leaks whatever the verdict.
  int fds[kMaxReplyFds];
  int nfds = 0;
  const size_t header_len = CMSG_LEN(0);
  if (msg.msg_controllen >= sizeof(struct cmsghdr)) {
    size_t offset = 0;
    while (offset + sizeof(struct cmsghdr) <= msg.msg_controllen) {
      struct cmsghdr* cmsg = (struct cmsghdr*)(void*)(control.buf + offset);
      if (cmsg->cmsg_len < header_len || offset + cmsg->cmsg_len > msg.msg_controllen) {
        break;
      }
      if (cmsg->cmsg_level == SOL_SOCKET && cmsg->cmsg_type == SCM_RIGHTS) {
        const size_t count = (cmsg->cmsg_len - header_len) / sizeof(int);
        for (size_t i = 0; i < count && nfds < kMaxReplyFds; ++i) {
          memcpy(&fds[nfds++], CMSG_DATA(cmsg) + i * sizeof(int), sizeof(int));
        }
      }
      offset += CMSG_ALIGN(cmsg->cmsg_len);
    }
  }

  // n == 0 without fds is EOF: cinit declined or is gone.
  long result = kPassThrough;
  const int well_formed = (size_t)n == sizeof reply &&
                          !(msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) &&
                          reply.header.magic == CINIT_SHIM_MAGIC &&
                          reply.header.version == CINIT_SHIM_VERSION &&
                          reply.header.type == CINIT_SHIM_TYPE_REPLY;
  if (well_formed && reply.error > 0 && reply.error <= CINIT_SHIM_MAX_ERRNO) {
    result = -(long)reply.error;
  } else if (well_formed && reply.error == 0 && nfds == 1) {
    *sock = fds[0];
    return 0;
  }
  for (int i = 0; i < nfds; ++i)
    sys_close(fds[i]);
  return result;
}

static void remember_shared_socket(int fd) {
  uint64_t cookie = 0;
  socklen_t len = sizeof cookie;
  if (raw_syscall(SYS_getsockopt, fd, SOL_SOCKET, SO_COOKIE, arg_ptr(&cookie),
                  arg_ptr(&len), 0) != 0 ||
      cookie == 0) {
    return;
  }
  unsigned slot = __atomic_load_n(&g_shared_count, __ATOMIC_RELAXED);
  do {
    if (slot >= kMaxSharedSockets)
      return;
  } while (!__atomic_compare_exchange_n(&g_shared_count, &slot, slot + 1, 0,
                                        __ATOMIC_RELAXED, __ATOMIC_RELAXED));
  __atomic_store_n(&g_shared_cookies[slot], cookie, __ATOMIC_RELEASE);
}

// Puts the received socket in place of the caller's fd. Returns 0 or
// kPassThrough (the caller's fd is untouched then).
static long install_socket(int fd, int sock, const struct cinit_shim_bind_request* req) {
  int domain;
  int type;
  if (sys_getsockopt_int(sock, SOL_SOCKET, SO_DOMAIN, &domain) != 0 ||
      sys_getsockopt_int(sock, SOL_SOCKET, SO_TYPE, &type) != 0 ||
      domain != req->family || type != req->socktype) {
    return kPassThrough;
  }
  const long status_flags = raw_syscall(SYS_fcntl, fd, F_GETFL, 0, 0, 0, 0);
  const long fd_flags = raw_syscall(SYS_fcntl, fd, F_GETFD, 0, 0, 0, 0);
  const long shared_flags = raw_syscall(SYS_fcntl, sock, F_GETFL, 0, 0, 0, 0);
  if (is_error(status_flags) || is_error(fd_flags) || is_error(shared_flags))
    return kPassThrough;
  // O_NONBLOCK lives in the open file description, which every holder of the
  // shared socket sees. A caller that wants it gets it; one that does not never
  // takes it from the others: uvicorn's parent binds a blocking socket while
  // its asyncio children accept on the shared one, and making that blocking
  // under them would leave them stuck in accept() past their SIGTERM. So a
  // socket once non-blocking stays so (a blocking caller then sees EAGAIN from
  // accept() when another worker took the connection).
  if ((status_flags & O_NONBLOCK) && !(shared_flags & O_NONBLOCK) &&
      raw_syscall(SYS_fcntl, sock, F_SETFL, shared_flags | O_NONBLOCK, 0, 0, 0) != 0) {
    return kPassThrough;
  }
  const long dup_flags = (fd_flags & FD_CLOEXEC) ? O_CLOEXEC : 0;
  if (raw_syscall(SYS_dup3, sock, fd, dup_flags, 0, 0, 0) != fd) {
    return kPassThrough;
  }
  remember_shared_socket(fd);
  return 0;
}

static long ask_cinit(int fd, const struct sockaddr* addr, socklen_t len) {
  if (g_channel_fd < 0)
    return kPassThrough;
  struct cinit_shim_bind_request req;
  memset(&req, 0, sizeof req);
  if (describe_bind(fd, addr, len, &req) != 0)
    return kPassThrough;
  // The program may have closed the channel and reused its number.
  if (!is_channel(g_channel_fd))
    return kPassThrough;

  int pair[2];
  if (raw_syscall(SYS_socketpair, AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0,
                  arg_ptr(pair), 0, 0) != 0) {
    return kPassThrough;
  }
  const long sent = send_request(&req, pair[1]);
  // cinit holds its own copy now; without ours, cinit closing its copy (or
  // dying) is EOF on pair[0].
  sys_close(pair[1]);
  if (sent != 0) {
    sys_close(pair[0]);
    return kPassThrough;
  }
  int sock = -1;
  long result = receive_reply(pair[0], &sock);
  sys_close(pair[0]);
  if (result == 0) {
    result = install_socket(fd, sock, &req);
    sys_close(sock);
  }
  return result;
}

CINIT_SHIM_EXPORT int bind(int fd, const struct sockaddr* addr, socklen_t len) {
  long ret = ask_cinit(fd, addr, len);
  if (ret == kPassThrough)
    ret = sys_bind(fd, addr, len);
  if (ret < 0) {
    set_errno(ret);
    return -1;
  }
  return 0;
}

// --- listen ----------------------------------------------------------------

// Returns 1 if fd is a socket received from cinit (the shim installed it).
static int is_shared(int fd) {
  const unsigned count = __atomic_load_n(&g_shared_count, __ATOMIC_ACQUIRE);
  if (count == 0)
    return 0;
  uint64_t cookie = 0;
  socklen_t len = sizeof cookie;
  if (raw_syscall(SYS_getsockopt, fd, SOL_SOCKET, SO_COOKIE, arg_ptr(&cookie),
                  arg_ptr(&len), 0) != 0) {
    return 0;
  }
  int found = 0;
  for (unsigned i = 0; i < count && i < kMaxSharedSockets && !found; ++i) {
    found = __atomic_load_n(&g_shared_cookies[i], __ATOMIC_ACQUIRE) == cookie;
  }
  return found;
}

CINIT_SHIM_EXPORT int listen(int fd, int backlog) {
  // The shared accept queue's size is cinit's choice (see shim_protocol.h): a
  // listening shared socket is left alone, one that is not (something bypassed
  // the shim's shutdown) listens again with cinit's backlog, never the app's.
  long ret = 0;
  if (is_shared(fd)) {
    int listening = 0;
    if (sys_getsockopt_int(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening) != 0 ||
        listening != 1) {
      ret = raw_syscall(SYS_listen, fd, SOMAXCONN, 0, 0, 0, 0);
    }
  } else {
    ret = raw_syscall(SYS_listen, fd, backlog, 0, 0, 0, 0);
  }
  if (ret < 0) {
    set_errno(ret);
    return -1;
  }
  return 0;
}

// --- shutdown --------------------------------------------------------------

// shutdown() of a shared socket would act on the one socket every worker and
// cinit hold: SHUT_RD on a listener stops the kernel listening for all of
// them, and on a datagram socket it ends reading for all. Instead the caller's
// fd gets a socket of its own, so that it sees what it asked for while the
// others keep the shared one. Returns the result as a syscall would (0 or
// -errno), or kPassThrough when fd is not shared.
static long shutdown_shared(int fd, int how) {
  if (!is_shared(fd))
    return kPassThrough;
  if (how != SHUT_RD && how != SHUT_WR && how != SHUT_RDWR)
    return -EINVAL;
  int domain;
  int type;
  int protocol;
  if (sys_getsockopt_int(fd, SOL_SOCKET, SO_DOMAIN, &domain) != 0 ||
      sys_getsockopt_int(fd, SOL_SOCKET, SO_TYPE, &type) != 0 ||
      sys_getsockopt_int(fd, SOL_SOCKET, SO_PROTOCOL, &protocol) != 0) {
    return -EBADF;
  }
  // Linux: SHUT_WR alone does nothing to a listener. Nothing to hide.
  if (type == SOCK_STREAM && how == SHUT_WR)
    return 0;
  const long status_flags = raw_syscall(SYS_fcntl, fd, F_GETFL, 0, 0, 0, 0);
  const long fd_flags = raw_syscall(SYS_fcntl, fd, F_GETFD, 0, 0, 0, 0);
  if (is_error(status_flags))
    return status_flags;
  if (is_error(fd_flags))
    return fd_flags;
  // A fresh, unbound socket of the same kind: for a stream socket it is what a
  // shut-down listener looks like (state CLOSE: accept() fails with EINVAL,
  // poll() says POLLOUT|POLLHUP); a datagram socket gets the shutdown itself.
  const long fresh =
      raw_syscall(SYS_socket, domain, type | SOCK_CLOEXEC, protocol, 0, 0, 0);
  if (is_error(fresh))
    return fresh;
  long result = 0;
  if (type != SOCK_STREAM) {
    // Unconnected: -ENOTCONN, as the shared socket would have said, and the
    // shutdown is recorded (reads end, poll says POLLHUP).
    result = raw_syscall(SYS_shutdown, fresh, how, 0, 0, 0, 0);
  }
  raw_syscall(SYS_fcntl, fresh, F_SETFL, status_flags, 0, 0, 0);
  const long dup_flags = (fd_flags & FD_CLOEXEC) ? O_CLOEXEC : 0;
  const long dup = raw_syscall(SYS_dup3, fresh, fd, dup_flags, 0, 0, 0);
  sys_close((int)fresh);
  return dup == fd ? result : (is_error(dup) ? dup : -EBADF);
}

CINIT_SHIM_EXPORT int shutdown(int fd, int how) {
  long ret = shutdown_shared(fd, how);
  if (ret == kPassThrough)
    ret = raw_syscall(SYS_shutdown, fd, how, 0, 0, 0, 0);
  if (ret < 0) {
    set_errno(ret);
    return -1;
  }
  return 0;
}
