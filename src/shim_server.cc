#include "shim_server.h"

#include <fmt/format.h>

#include <cerrno>
#include <span>
#include <vector>

#include "log.h"
#include "os/epoll.h"
#include "os/pid1.h"
#include "os/socket.h"
#include "shim_codec.h"
#ifdef CINIT_HAVE_SHIM
#include "shim/shim_image.h"
#endif

namespace cinit {

ShimServer::~ShimServer() {
  for (auto& [fd, channel] : channels_) {
    loop_->Unwatch(fd);
  }
  if (listener_.valid()) {
    loop_->Unwatch(listener_.get());
  }
}

void ShimServer::Open() {
#ifdef CINIT_HAVE_SHIM
  // Named by content: cinits of other versions sharing /run (tests, or a host's
  // many containers) never replace each other's image under a starting worker.
  std::span<const unsigned char> image = ShimImage();
  uint64_t hash = 14695981039346656037ULL;  // FNV-1a
  for (unsigned char byte : image) {
    hash = (hash ^ byte) * 1099511628211ULL;
  }
  std::string name = fmt::format("cinit_shim-{:016x}.so", hash);
  if (Status s = os::WriteSharedFile(name, image, &path_); !s.ok()) {
    path_.clear();
    Log(Level::kWarning,
        "cannot write the bind shim ({}): workers will bind their ports themselves",
        s.message());
    return;
  }
  Log(Level::kDebug, "bind shim at {}", path_);
  os::KeepSpareFd();
  if (Status s = os::ListeningSeqpacket("cinit-shim", &listener_, &socket_name_);
      !s.ok()) {
    Log(Level::kWarning, "no shim socket: {}", s.message());
  } else if (!loop_
                  ->Watch(listener_.get(), os::kReadable,
                          [this](uint32_t, EventQueue*) { OnConnection(); })
                  .ok()) {
    socket_name_.clear();
  }
#else
  Log(Level::kWarning,
      "this build has no bind shim: workers bind their ports themselves");
#endif
}

void ShimServer::Add(int worker_id, os::UniqueFd fd) {
  int number = fd.get();
  if (loop_
          ->Watch(number, os::kReadable,
                  [this, number](uint32_t, EventQueue* queue) { OnReady(number, queue); })
          .ok()) {
    channels_[number] = {worker_id, std::move(fd)};
  }
}

void ShimServer::Drop(int worker_id) {
  std::vector<int> fds;
  for (const auto& [fd, channel] : channels_) {
    if (channel.first == worker_id) {
      fds.push_back(fd);
    }
  }
  for (int fd : fds) {
    Close(fd);
  }
}

void ShimServer::Close(int fd) {
  loop_->Unwatch(fd);
  channels_.erase(fd);
}

void ShimServer::OnConnection() {
  for (int round = 0; round < 16; ++round) {
    os::UniqueFd connection;
    os::Peer peer;
    int error = os::AcceptPeer(listener_.get(), &connection, &peer);
    if (error != 0 && os::OutOfFds(-error) && os::ShedConnection(listener_.get())) {
      // Out of descriptors: shed it (its shim falls back to a real bind) rather
      // than spin on a listener that stays readable.
      Log(Level::kWarning, "bind shim: out of file descriptors; a connection was shed");
      continue;
    }
    if (error != 0) {
      return;  // EAGAIN, or out of fds with no spare: epoll comes back
    }
    if (auto worker = table_->OfPeer(peer)) {
      Add(*worker, std::move(connection));
    } else {
      Log(Level::kWarning,
          "bind shim: refused a connection from pid {} (uid {}), which is no live "
          "worker's",
          peer.pid, peer.uid);
    }
  }
}

void ShimServer::OnReady(int fd, EventQueue* queue) {
  auto it = channels_.find(fd);
  if (it == channels_.end()) {
    return;
  }
  const int worker_id = it->second.first;
  const WorkerTable::Entry* worker = table_->Find(worker_id);
  const int slot = worker != nullptr ? worker->slot : -1;
  for (int round = 0; round < 16; ++round) {
    char buf[128];
    std::vector<os::UniqueFd> fds;
    ssize_t n = os::ReceiveDatagram(fd, buf, sizeof(buf), &fds);
    if (n == -EAGAIN) {
      return;
    }
    if (n == 0 || (n < 0 && n != -EMSGSIZE)) {
      Close(fd);  // every process holding this end is gone
      return;
    }
    shim::Message message =
        n < 0 ? shim::Message(shim::Invalid{"an oversized datagram"})
              : shim::Decode(std::string_view(buf, static_cast<size_t>(n)),
                             static_cast<int>(fds.size()));
    if (const auto* hello = std::get_if<shim::Hello>(&message)) {
      // Every process image of the worker's tree says HELLO (wrappers too).
      Log(Level::kDebug, "worker {}: bind shim loaded in pid {}", slot, hello->pid);
      queue->push_back(WorkerReport{worker_id, WorkerReport::Kind::kShimLoaded});
    } else if (const auto* bind = std::get_if<shim::BindRequest>(&message)) {
      int socket =
          sockets_->Acquire(bind->listen, slot, worker_id, /*nonblocking=*/false);
      const os::UniqueFd& reply_channel = fds.front();
      if (socket >= 0) {
        os::SendWithFd(reply_channel.get(), shim::EncodeReply(0, 0), socket);
        queue->push_back(WorkerReport{worker_id, WorkerReport::Kind::kListening});
      } else {
        os::SendWithFd(reply_channel.get(), shim::EncodeReply(-socket, 0), -1);
      }
    } else {
      // fds (a reply channel, if any) close here: the shim falls back to a real bind.
      Log(Level::kWarning, "worker {}: dropping a malformed bind-shim message ({})", slot,
          std::get<shim::Invalid>(message).why);
    }
  }
}

}  // namespace cinit
