#include "os/socket.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>

#include "log.h"
#include "os/errno_status.h"

namespace cinit::os {

Status SocketPair(PairType type, UniqueFd* ours, UniqueFd* theirs) {
  int fds[2];
  int kind = type == PairType::kSeqpacket ? SOCK_SEQPACKET : SOCK_STREAM;
  if (socketpair(AF_UNIX, kind | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, fds) != 0) {
    return ErrnoStatus("socketpair", errno);
  }
  ours->Reset(fds[0]);
  theirs->Reset(fds[1]);
  return Status::Ok();
}

ssize_t SendWithFd(int socket, std::string_view bytes, int fd) {
  iovec iov{const_cast<char*>(bytes.data()), bytes.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  if (fd >= 0) {
    std::memset(control, 0, sizeof(control));
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
  }
  for (;;) {
    ssize_t n = sendmsg(socket, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n >= 0) {
      return n;
    }
    if (errno != EINTR) {
      return -errno;
    }
  }
}

namespace {

// recvmsg() with the descriptors that came along (appended to *fds) and, when
// the socket has SO_PASSCRED, the sender's pid (*pid, else 0); *flags gets msg_flags.
ssize_t ReceiveWithFds(int socket, char* buf, size_t size, std::vector<UniqueFd>* fds,
                       int* flags, Peer* peer = nullptr) {
  iovec iov{buf, size};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(ucred)) + CMSG_SPACE(sizeof(int) * 8)];
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  ssize_t n;
  do {
    n = recvmsg(socket, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    return -errno;
  }
  if (peer != nullptr) {
    *peer = Peer{};
  }
  for (cmsghdr* cmsg = CMSG_FIRSTHDR(&msg); cmsg != nullptr;
       cmsg = CMSG_NXTHDR(&msg, cmsg)) {
    if (cmsg->cmsg_level != SOL_SOCKET) {
      continue;
    }
    if (cmsg->cmsg_type == SCM_RIGHTS) {
      size_t count = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (size_t i = 0; i < count; ++i) {
        int fd;
        std::memcpy(&fd, CMSG_DATA(cmsg) + i * sizeof(int), sizeof(int));
        fds->emplace_back(fd);
      }
    } else if (cmsg->cmsg_type == SCM_CREDENTIALS && peer != nullptr) {
      ucred credentials{};
      std::memcpy(&credentials, CMSG_DATA(cmsg), sizeof(credentials));
      peer->pid = credentials.pid;
      peer->uid = static_cast<int>(credentials.uid);
    }
  }
  *flags = msg.msg_flags;
  return n;
}

}  // namespace

ssize_t Receive(int socket, char* buf, size_t size) {
  // A worker has no reason to send cinit descriptors: any that came close here.
  std::vector<UniqueFd> strays;
  int flags = 0;
  return ReceiveWithFds(socket, buf, size, &strays, &flags);
}

ssize_t ReceiveDatagram(int socket, char* buf, size_t size, std::vector<UniqueFd>* fds) {
  int flags = 0;
  ssize_t n = ReceiveWithFds(socket, buf, size, fds, &flags);
  // A truncated datagram is refused whole; the descriptors that did arrive close
  // with the caller's vector.
  return n >= 0 && (flags & (MSG_TRUNC | MSG_CTRUNC)) ? -EMSGSIZE : n;
}

namespace {

// Binds sock to a unique abstract name "prefix-<random>"; stores "@…" in *name.
// Abstract names live in the network namespace: random, since containers sharing
// the host's network would otherwise collide.
Status BindAbstract(int sock, std::string_view prefix, std::string* name) {
  uint64_t nonce = 0;
  if (getrandom(&nonce, sizeof(nonce), GRND_NONBLOCK) != sizeof(nonce)) {
    nonce = static_cast<uint64_t>(getpid()) ^ reinterpret_cast<uintptr_t>(&nonce);
  }
  std::string abstract = fmt::format("{}-{:016x}", prefix, nonce);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path + 1, abstract.data(), abstract.size());
  socklen_t length =
      static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + abstract.size());
  if (bind(sock, reinterpret_cast<sockaddr*>(&address), length) != 0) {
    return ErrnoStatus(fmt::format("bind(@{})", abstract), errno);
  }
  *name = "@" + abstract;
  return Status::Ok();
}

}  // namespace

Status NotifySocket(UniqueFd* fd, std::string* name) {
  UniqueFd sock(socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!sock.valid()) {
    return ErrnoStatus("socket(AF_UNIX, SOCK_DGRAM)", errno);
  }
  int one = 1;
  if (setsockopt(sock.get(), SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) != 0) {
    return ErrnoStatus("setsockopt(SO_PASSCRED)", errno);
  }
  if (Status s = BindAbstract(sock.get(), "cinit-notify", name); !s.ok()) {
    return s;
  }
  *fd = std::move(sock);
  return Status::Ok();
}

Status ListeningSeqpacket(std::string_view prefix, UniqueFd* fd, std::string* name) {
  UniqueFd sock(socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!sock.valid()) {
    return ErrnoStatus("socket(AF_UNIX, SOCK_SEQPACKET)", errno);
  }
  if (Status s = BindAbstract(sock.get(), prefix, name); !s.ok()) {
    return s;
  }
  if (listen(sock.get(), 64) != 0) {
    return ErrnoStatus("listen", errno);
  }
  *fd = std::move(sock);
  return Status::Ok();
}

int AcceptPeer(int listener, UniqueFd* connection, Peer* peer) {
  int fd;
  do {
    fd = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
  } while (fd < 0 && (errno == EINTR || errno == ECONNABORTED));
  if (fd < 0) {
    return -errno;
  }
  connection->Reset(fd);
  ucred credentials{};
  socklen_t length = sizeof(credentials);
  *peer = Peer{};
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &length) == 0) {
    peer->pid = credentials.pid;
    peer->uid = static_cast<int>(credentials.uid);
  }
  return 0;
}

ssize_t ReceiveNotify(int socket, char* buf, size_t size, Peer* peer) {
  std::vector<UniqueFd> strays;  // sd_notify's FDSTORE: not kept, closed here
  int flags = 0;
  return ReceiveWithFds(socket, buf, size, &strays, &flags, peer);
}

namespace {

int CreateSocket(const ListenerSpec& spec, bool nonblocking);

}  // namespace

int OpenListener(const std::vector<ListenerSpec>& candidates) {
  int result = -EINVAL;
  for (const ListenerSpec& spec : candidates) {
    result = CreateSocket(spec, /*nonblocking=*/true);
    if (result >= 0) {
      break;
    }
  }
  return result;
}

namespace {
int spare_fd = -1;
}  // namespace

void KeepSpareFd() {
  if (spare_fd < 0) {
    // An eventfd: needs no file system (an empty chroot has no /dev/null).
    spare_fd = eventfd(0, EFD_CLOEXEC);
  }
}

bool ShedConnection(int listener) {
  if (spare_fd < 0) {
    return false;
  }
  close(spare_fd);
  int fd = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
  if (fd >= 0) {
    close(fd);
  }
  spare_fd = eventfd(0, EFD_CLOEXEC);
  return fd >= 0;
}

int Accept(int listener) {
  for (;;) {
    int fd = accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0 || errno != EINTR) {
      return fd >= 0 ? fd : -errno;
    }
  }
}

ssize_t SendSome(int socket, std::string_view bytes) {
  for (;;) {
    ssize_t n = send(socket, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n >= 0 || errno != EINTR) {
      return n >= 0 ? n : -errno;
    }
  }
}

namespace {

int CreateSocket(const ListenerSpec& spec, bool nonblocking) {
  const int family = spec.ipv6 ? AF_INET6 : AF_INET;
  const int type = spec.transport == Transport::kUdp ? SOCK_DGRAM : SOCK_STREAM;
  int fd = socket(family, type | SOCK_CLOEXEC | (nonblocking ? SOCK_NONBLOCK : 0), 0);
  if (fd < 0) {
    return -errno;
  }
  UniqueFd socket_fd(fd);
  int one = 1;
  // As libuv does for every TCP server: rebinding over TIME_WAIT must work.
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (spec.reuseport_slot >= 0 &&
      setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0) {
    return -errno;
  }
  sockaddr_storage storage{};
  socklen_t length = 0;
  if (spec.ipv6) {
    int v6only = spec.v6only ? 1 : 0;
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only));
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&storage);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(static_cast<uint16_t>(spec.port));
    const char* text = spec.address.empty() ? "::" : spec.address.c_str();
    if (inet_pton(AF_INET6, text, &sin6->sin6_addr) != 1) {
      return -EINVAL;
    }
    length = sizeof(sockaddr_in6);
  } else {
    auto* sin = reinterpret_cast<sockaddr_in*>(&storage);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(static_cast<uint16_t>(spec.port));
    const char* text = spec.address.empty() ? "0.0.0.0" : spec.address.c_str();
    if (inet_pton(AF_INET, text, &sin->sin_addr) != 1) {
      return -EINVAL;
    }
    length = sizeof(sockaddr_in);
  }
  if (bind(fd, reinterpret_cast<sockaddr*>(&storage), length) != 0) {
    return -errno;
  }
  if (type == SOCK_STREAM && listen(fd, SOMAXCONN) != 0) {
    return -errno;
  }
  return socket_fd.Release();
}

// The backlog of a listening TCP socket: Linux reports sk_max_ack_backlog in
// tcp_info's tcpi_sacked for a listener (what `ss -ltn` shows as Send-Q). -1
// when it cannot be read.
int Backlog(int fd) {
  tcp_info info{};
  socklen_t length = sizeof(info);
  if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &length) != 0 ||
      length < offsetof(tcp_info, tcpi_sacked) + sizeof(info.tcpi_sacked)) {
    return -1;
  }
  return static_cast<int>(info.tcpi_sacked);
}

bool IsListening(int fd) {
  int listening = 0;
  socklen_t length = sizeof(listening);
  return getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &length) == 0 &&
         listening == 1;
}

}  // namespace

bool Listeners::HoldsInode(uint64_t inode) const {
  for (const auto& [key, held] : sockets_) {
    struct stat st {};
    if (fstat(held.fd.get(), &st) == 0 && st.st_ino == inode) {
      return true;
    }
  }
  return false;
}

int Listeners::Acquire(const std::vector<ListenerSpec>& candidates, bool nonblocking) {
  int result = -EINVAL;
  for (const ListenerSpec& spec : candidates) {
    std::string key = spec.Key();
    if (auto it = sockets_.find(key); it != sockets_.end()) {
      const int fd = it->second.fd.get();
      if (nonblocking) {
        // Shared by every holder (one open file): a worker blocked in accept()
        // on it would not notice; they are all of one program anyway.
        int flags = fcntl(fd, F_GETFL);
        if (flags >= 0 && (flags & O_NONBLOCK) == 0) {
          fcntl(fd, F_SETFL, flags | O_NONBLOCK);
        }
      }
      return fd;
    }
    result = CreateSocket(spec, nonblocking);
    if (result >= 0) {
      Log(Level::kInfo, "listening on {} for the workers", key);
      Held held;
      held.fd.Reset(result);
      held.spec = spec;
      held.address_length = sizeof(held.address);
      if (getsockname(result, reinterpret_cast<sockaddr*>(&held.address),
                      &held.address_length) != 0) {
        held.address_length = 0;
      }
      if (spec.transport == Transport::kTcp) {
        held.backlog = Backlog(result);
      }
      sockets_.emplace(key, std::move(held));
      return result;
    }
    Log(Level::kWarning, "cannot open {} for the workers: {}", key,
        std::strerror(-result));
  }
  return result;
}

void Listeners::Close(int fd) {
  for (auto it = sockets_.begin(); it != sockets_.end(); ++it) {
    if (it->second.fd.get() == fd) {
      Log(Level::kInfo, "closing {}: no worker uses it", it->first);
      sockets_.erase(it);
      return;
    }
  }
}

std::vector<ListenerRepair> Listeners::Repair() {
  std::vector<ListenerRepair> repairs;
  for (auto& [key, held] : sockets_) {
    if (held.spec.transport != Transport::kTcp) {
      continue;
    }
    const int fd = held.fd.get();
    ListenerRepair repair;
    repair.was_listening = IsListening(fd);
    if (repair.was_listening) {
      repair.backlog_seen = Backlog(fd);
      if (repair.backlog_seen < 0 || repair.backlog_seen >= held.backlog) {
        continue;
      }
    } else if (held.address_length > 0) {
      // A socket bound to a real port keeps it through a shutdown (the bind
      // fails with EINVAL); one bound to port 0 lost its port: take it again.
      bind(fd, reinterpret_cast<const sockaddr*>(&held.address), held.address_length);
    }
    repair.key = key;
    repair.backlog = held.backlog;
    if (listen(fd, SOMAXCONN) != 0) {
      repair.error = errno;
    }
    repairs.push_back(std::move(repair));
  }
  return repairs;
}

}  // namespace cinit::os
