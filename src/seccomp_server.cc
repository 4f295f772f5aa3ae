#include "seccomp_server.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <span>
#include <vector>

#include "bind_rule.h"
#include "log.h"
#include "os/process.h"
#include "os/remote.h"
#include "trapped_call.h"

namespace cinit {
namespace {

constexpr const char* kWayOut =
    "pass it the socket with --listen (LISTEN_FDS), or run one worker (-i 1)";

std::string WhyNoFilter(int error) {
  switch (error) {
    case ENOSYS:
    case EINVAL:
      return "this kernel has no seccomp user notification (Linux 5.9 or later has)";
    case EPERM:
    case EACCES:
      return "the container's seccomp profile or a security module forbids seccomp(2)";
    case EBUSY:
      return "cinit already runs under another seccomp notifier (a nested sandbox)";
    default:
      return std::strerror(error);
  }
}

// The most a sockaddr can be (sizeof(struct sockaddr_storage)).
constexpr uint32_t kMaxSockaddr = 128;

}  // namespace

SeccompServer::~SeccompServer() {
  for (auto& [fd, entry] : listeners_) {
    loop_->Unwatch(fd);
  }
}

void SeccompServer::Open() {
  if (Status s = os::BuildBindFilter(&program_); !s.ok()) {
    Log(Level::kWarning, "bind interception is off: {}", s.message());
    return;
  }
  if (int error = os::ProbeBindFilter(program_); error != 0) {
    Log(Level::kWarning,
        "bind interception is off: seccomp: {} ({}); a worker that binds without "
        "libc (Go, a static binary, a tree started with env -i) cannot share the "
        "port: {}",
        std::strerror(error), WhyNoFilter(error), kWayOut);
    return;
  }
  Log(Level::kDebug, "bind interception: a {}-instruction seccomp filter",
      program_.instructions.size());
  enabled_ = true;
}

void SeccompServer::Add(int worker_id, int slot, int report_end) {
  os::UniqueFd listener;
  int error = 0;
  os::ReceiveListener(report_end, &listener, &error);
  if (!listener.valid()) {
    if (!install_warned_) {
      install_warned_ = true;
      Log(Level::kWarning,
          "worker {}: runs without bind interception: seccomp: {} ({}); {}", slot,
          std::strerror(error), WhyNoFilter(error), kWayOut);
    }
    return;
  }
  const int fd = listener.get();
  if (loop_
          ->Watch(fd, os::kReadable,
                  [this, fd](uint32_t events, EventQueue* queue) {
                    OnReady(fd, events, queue);
                  })
          .ok()) {
    listeners_[fd] = {worker_id, std::move(listener)};
  }
}

void SeccompServer::Drop(int worker_id) {
  std::vector<int> fds;
  for (const auto& [fd, entry] : listeners_) {
    if (entry.first == worker_id) {
      fds.push_back(fd);
    }
  }
  for (int fd : fds) {
    Close(fd);
  }
}

void SeccompServer::Close(int fd) {
  loop_->Unwatch(fd);
  listeners_.erase(fd);
}

void SeccompServer::OnReady(int fd, uint32_t events, EventQueue* queue) {
  auto it = listeners_.find(fd);
  if (it == listeners_.end()) {
    return;
  }
  const int worker_id = it->second.first;
  if ((events & os::kReadable) == 0) {
    Close(fd);  // POLLHUP alone: every process under the filter is gone
    return;
  }
  // One notification per wake-up: a second RECV would block if none is pending
  // (epoll is level-triggered and comes back for the next).
  os::SeccompNotice notice;
  int got = os::ReceiveNotice(fd, &notice);
  if (got < 0) {
    Log(Level::kWarning, "bind interception: reading a notification: {}",
        std::strerror(-got));
    Close(fd);
    return;
  }
  if (got == 0) {
    return;  // its caller was killed meanwhile
  }
  if (Handle(fd, worker_id, notice)) {
    queue->push_back(WorkerReport{worker_id, WorkerReport::Kind::kListening});
  }
}

bool SeccompServer::Handle(int listener, int worker_id, const os::SeccompNotice& notice) {
  TrappedCall call = Classify(notice.arch, notice.nr, notice.args);
  if (call.kind == TrappedCall::Kind::kOther) {
    os::ContinueCall(listener, notice.id);
    return false;
  }
  const pid_t pid = os::ThreadGroupOf(notice.tid);
  if (pid <= 0 || !os::NoticeValid(listener, notice.id)) {
    os::ContinueCall(listener, notice.id);
    return false;
  }
  if (call.kind == TrappedCall::Kind::kSocketcall) {
    std::array<uint32_t, 3> words{};
    if (int rc = os::ReadRemote(pid, call.address, words.data(), sizeof(words),
                                &memory_by_proc_);
        rc != 0 || !os::NoticeValid(listener, notice.id)) {
      if (rc != 0 && rc != -EFAULT) {
        CannotRead(worker_id, pid, -rc);
      }
      os::ContinueCall(listener, notice.id);
      return false;
    }
    call = ClassifySocketcall(call.socketcall, words);
  }
  switch (call.kind) {
    case TrappedCall::Kind::kBind:
      return HandleBind(listener, worker_id, pid, notice, call.fd, call.address,
                        call.length);
    case TrappedCall::Kind::kListen:
      HandleListen(listener, pid, notice, call.fd);
      return false;
    default:
      os::ContinueCall(listener, notice.id);
      return false;
  }
}

bool SeccompServer::HandleBind(int listener, int worker_id, pid_t pid,
                               const os::SeccompNotice& notice, int fd, uint64_t address,
                               uint32_t length) {
  // The address first: most binds that are not the shared port's (AF_UNIX, port
  // 0) are let go without looking at the socket.
  uint8_t bytes[kMaxSockaddr] = {};
  const uint32_t len = std::min(length, kMaxSockaddr);
  BindCall bind;
  if (address == 0 || len == 0) {
    os::ContinueCall(listener, notice.id);
    return false;
  }
  if (int rc = os::ReadRemote(pid, address, bytes, len, &memory_by_proc_); rc != 0) {
    if (rc != -EFAULT) {
      CannotRead(worker_id, pid, -rc);
    }
    os::ContinueCall(listener, notice.id);  // EFAULT: the real bind says so
    return false;
  }
  // The memory read is the caller's only while its notification is pending.
  if (!os::NoticeValid(listener, notice.id) ||
      !ParseSockaddr(std::span<const uint8_t>(bytes, len), &bind) || bind.port == 0) {
    os::ContinueCall(listener, notice.id);
    return false;
  }
  os::RemoteSocket socket;
  if (int rc = os::InspectRemoteSocket(pid, fd, &fds_by_proc_, &socket); rc != 0) {
    if (rc != -ENOTSOCK && rc != -EBADF) {
      CannotRead(worker_id, pid, -rc);
    }
    os::ContinueCall(listener, notice.id);
    return false;
  }
  bind.domain = socket.domain;
  bind.type = socket.type;
  bind.protocol = socket.protocol;
  bind.v6only = socket.v6only;
  bind.bound = socket.bound;
  std::optional<ListenRequest> request = SharedBind(bind);
  if (!request || !os::NoticeValid(listener, notice.id)) {
    os::ContinueCall(listener, notice.id);
    return false;
  }
  const WorkerTable::Entry* worker = table_->Find(worker_id);
  const int slot = worker != nullptr ? worker->slot : -1;
  // The caller's O_NONBLOCK is set on the shared socket, never cleared (the open
  // file description is every worker's): the rule of the shim.
  int shared = sockets_->Acquire(*request, slot, worker_id, socket.nonblocking);
  if (shared < 0) {
    os::AnswerCall(listener, notice.id, -shared);
    return false;
  }
  if (int rc = os::InstallFdInCaller(listener, notice.id, shared, fd, socket.cloexec);
      rc != 0) {
    // ENOENT: the caller is gone. Anything else: let its own bind run.
    if (rc != -ENOENT) {
      Log(Level::kWarning, "worker {}: cannot hand pid {} the shared socket: {}", slot,
          pid, std::strerror(-rc));
      os::ContinueCall(listener, notice.id);
    }
    return false;
  }
  os::AnswerCall(listener, notice.id, 0);
  Log(Level::kDebug, "worker {}: pid {} bound {} port {} through the seccomp filter",
      slot, pid, request->host, request->port);
  return true;
}

void SeccompServer::HandleListen(int listener, pid_t pid, const os::SeccompNotice& notice,
                                 int fd) {
  os::RemoteSocket socket;
  if (os::InspectRemoteSocket(pid, fd, &fds_by_proc_, &socket) != 0 ||
      !os::NoticeValid(listener, notice.id)) {
    os::ContinueCall(listener, notice.id);
    return;
  }
  const bool shared = sockets_->Holds(socket.inode);
  // The /proc way cannot see SO_ACCEPTCONN (false): Repair checks cinit's own copy.
  switch (DecideListen(shared, socket.listening)) {
    case ListenVerdict::kRealListen:
      os::ContinueCall(listener, notice.id);
      return;
    case ListenVerdict::kRelisten:
      sockets_->Repair();
      [[fallthrough]];
    case ListenVerdict::kNothing:
      os::AnswerCall(listener, notice.id, 0);
      return;
  }
}

void SeccompServer::CannotRead(int worker_id, pid_t pid, int error) {
  if (read_warned_) {
    Log(Level::kDebug, "cannot read the bind() of pid {}: {}", pid, std::strerror(error));
    return;
  }
  read_warned_ = true;
  const WorkerTable::Entry* worker = table_->Find(worker_id);
  Log(Level::kWarning,
      "worker {}: cannot read the bind() of pid {} (uid {}): {}; it binds for itself "
      "(cinit needs the same uid as the process, or CAP_SYS_PTRACE): a program the "
      "bind shim reaches still shares the port; for others {}",
      worker != nullptr ? worker->slot : -1, pid, os::UidOf(pid), std::strerror(error),
      kWayOut);
}

}  // namespace cinit
