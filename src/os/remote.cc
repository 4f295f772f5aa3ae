#include "os/remote.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <charconv>
#include <cstring>
#include <string>
#include <string_view>

namespace cinit::os {
namespace {

std::string ProcPath(pid_t pid, std::string_view rest) {
  return "/proc/" + std::to_string(pid) + std::string(rest);
}

// Reads a small /proc file whole into out. Returns false when it cannot.
bool ReadSmall(const std::string& path, std::string* out) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return false;
  }
  UniqueFd closer(fd);
  char buf[2048];
  ssize_t n = read(fd, buf, sizeof(buf));
  if (n <= 0) {
    return false;
  }
  out->assign(buf, static_cast<size_t>(n));
  return true;
}

// The number after "name:" in a "name:\tvalue" file, in base.
bool FieldOf(std::string_view text, std::string_view name, int base, uint64_t* value) {
  size_t at = 0;
  while (at < text.size()) {
    size_t end = text.find('\n', at);
    std::string_view line =
        text.substr(at, end == std::string_view::npos ? end : end - at);
    if (line.substr(0, name.size()) == name && line.size() > name.size() &&
        line[name.size()] == ':') {
      std::string_view rest = line.substr(name.size() + 1);
      size_t start = rest.find_first_not_of(" \t");
      if (start == std::string_view::npos) {
        return false;
      }
      rest = rest.substr(start);
      auto [ptr, ec] =
          std::from_chars(rest.data(), rest.data() + rest.size(), *value, base);
      return ec == std::errc();
    }
    if (end == std::string_view::npos) {
      break;
    }
    at = end + 1;
  }
  return false;
}

int GetInt(int fd, int level, int name, int* value) {
  socklen_t len = sizeof(*value);
  return getsockopt(fd, level, name, value, &len) == 0 ? 0 : -errno;
}

bool PermissionLike(int error) { return error == EPERM || error == ENOSYS; }

// The fd's flags as fdinfo shows them (its FD_CLOEXEC folded in as O_CLOEXEC).
int FlagsOf(pid_t pid, int fd, uint64_t* flags) {
  std::string text;
  if (!ReadSmall(ProcPath(pid, "/fdinfo/" + std::to_string(fd)), &text)) {
    return errno != 0 ? -errno : -EIO;
  }
  return FieldOf(text, "flags", 8, flags) ? 0 : -EIO;
}

int InspectByPidfd(pid_t pid, int fd, RemoteSocket* socket) {
  long pidfd = syscall(SYS_pidfd_open, pid, 0);
  if (pidfd < 0) {
    return -errno;
  }
  UniqueFd pidfd_closer(static_cast<int>(pidfd));
  long copy = syscall(SYS_pidfd_getfd, static_cast<int>(pidfd), fd, 0);
  if (copy < 0) {
    return errno == EBADF ? -EBADF : -errno;
  }
  socket->copy = UniqueFd(static_cast<int>(copy));
  const int sock = socket->copy.get();
  struct stat st {};
  if (fstat(sock, &st) != 0 || !S_ISSOCK(st.st_mode)) {
    return -ENOTSOCK;
  }
  socket->inode = st.st_ino;
  if (int rc = GetInt(sock, SOL_SOCKET, SO_DOMAIN, &socket->domain); rc != 0) {
    return rc;
  }
  if (int rc = GetInt(sock, SOL_SOCKET, SO_TYPE, &socket->type); rc != 0) {
    return rc;
  }
  if (int rc = GetInt(sock, SOL_SOCKET, SO_PROTOCOL, &socket->protocol); rc != 0) {
    return rc;
  }
  int listening = 0;
  socket->listening =
      GetInt(sock, SOL_SOCKET, SO_ACCEPTCONN, &listening) == 0 && listening != 0;
  int v6only = 0;
  socket->v6only = socket->domain == AF_INET6 &&
                   GetInt(sock, IPPROTO_IPV6, IPV6_V6ONLY, &v6only) == 0 && v6only != 0;
  sockaddr_in6 local{};
  socklen_t local_len = sizeof(local);
  if (getsockname(sock, reinterpret_cast<sockaddr*>(&local), &local_len) == 0) {
    socket->bound = local.sin6_port != 0;  // sin_port sits at the same offset
  }
  return 0;
}

int InspectByProc(pid_t pid, int fd, RemoteSocket* socket) {
  const std::string link = ProcPath(pid, "/fd/" + std::to_string(fd));
  char target[64] = {};
  ssize_t n = readlink(link.c_str(), target, sizeof(target) - 1);
  if (n < 0) {
    return errno == ENOENT ? -EBADF : -errno;
  }
  std::string_view name(target, static_cast<size_t>(n));
  constexpr std::string_view kPrefix = "socket:[";
  if (name.substr(0, kPrefix.size()) != kPrefix || name.back() != ']') {
    return -ENOTSOCK;
  }
  std::string_view digits = name.substr(kPrefix.size(), name.size() - kPrefix.size() - 1);
  auto [ptr, ec] =
      std::from_chars(digits.data(), digits.data() + digits.size(), socket->inode);
  if (ec != std::errc()) {
    return -ENOTSOCK;
  }
  char proto[32] = {};
  ssize_t len = getxattr(link.c_str(), "system.sockprotoname", proto, sizeof(proto) - 1);
  if (len <= 0) {
    return len < 0 && errno != ENODATA ? -errno : -ENOTSOCK;
  }
  std::string_view protocol(proto, static_cast<size_t>(len));
  if (!protocol.empty() && protocol.back() == '\0') {
    protocol.remove_suffix(1);
  }
  if (protocol == "TCP" || protocol == "TCPv6") {
    socket->type = SOCK_STREAM;
    socket->protocol = IPPROTO_TCP;
  } else if (protocol == "UDP" || protocol == "UDPv6") {
    socket->type = SOCK_DGRAM;
    socket->protocol = IPPROTO_UDP;
  } else {
    return -ENOTSOCK;
  }
  const bool v6 = protocol.back() == '6';
  socket->domain = v6 ? AF_INET6 : AF_INET;
  if (v6) {
    std::string text;
    socket->v6only = ReadSmall("/proc/sys/net/ipv6/bindv6only", &text) && !text.empty() &&
                     text[0] == '1';
  }
  return 0;
}

}  // namespace

pid_t ThreadGroupOf(pid_t tid) {
  std::string text;
  uint64_t tgid = 0;
  if (!ReadSmall(ProcPath(tid, "/status"), &text) || !FieldOf(text, "Tgid", 10, &tgid) ||
      tgid == 0) {
    return -1;
  }
  return static_cast<pid_t>(tgid);
}

int ReadRemote(pid_t pid, uint64_t address, void* buf, size_t len, bool* use_proc) {
  if (!*use_proc) {
    iovec local{buf, len};
    iovec remote{reinterpret_cast<void*>(static_cast<uintptr_t>(address)), len};
    ssize_t n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
    if (n == static_cast<ssize_t>(len)) {
      return 0;
    }
    if (n >= 0) {
      return -EFAULT;
    }
    if (!PermissionLike(errno)) {
      return -errno;
    }
  }
  int fd = open(ProcPath(pid, "/mem").c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return -errno;
  }
  UniqueFd closer(fd);
  ssize_t n = pread(fd, buf, len, static_cast<off_t>(address));
  if (n != static_cast<ssize_t>(len)) {
    return n < 0 ? -errno : -EFAULT;
  }
  *use_proc = true;
  return 0;
}

int InspectRemoteSocket(pid_t pid, int fd, bool* use_proc, RemoteSocket* socket) {
  bool by_proc = *use_proc;
  if (!by_proc) {
    int rc = InspectByPidfd(pid, fd, socket);
    if (rc != 0 && !PermissionLike(-rc)) {
      return rc;
    }
    if (rc != 0) {
      socket->copy.Reset();
      by_proc = true;
    }
  }
  if (by_proc) {
    if (int rc = InspectByProc(pid, fd, socket); rc != 0) {
      return rc;
    }
  }
  uint64_t flags = 0;
  if (int rc = FlagsOf(pid, fd, &flags); rc != 0) {
    return rc;
  }
  socket->nonblocking = (flags & O_NONBLOCK) != 0;
  socket->cloexec = (flags & O_CLOEXEC) != 0;
  *use_proc = by_proc;
  return 0;
}

uint64_t InodeOf(int fd) {
  struct stat st {};
  return fstat(fd, &st) == 0 ? st.st_ino : 0;
}

}  // namespace cinit::os
