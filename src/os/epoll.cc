#include "os/epoll.h"

#include <cerrno>

#include "os/errno_status.h"

namespace cinit::os {

Status Epoll::Open(Epoll* epoll) {
  int fd = epoll_create1(EPOLL_CLOEXEC);
  if (fd < 0) {
    return ErrnoStatus("epoll_create1", errno);
  }
  epoll->fd_.Reset(fd);
  return Status::Ok();
}

namespace {
Status Control(int epfd, int op, int fd, uint32_t events, uint64_t data,
               std::string_view what) {
  epoll_event event{};
  event.events = events;
  event.data.u64 = data;
  if (epoll_ctl(epfd, op, fd, &event) != 0) {
    return ErrnoStatus(what, errno);
  }
  return Status::Ok();
}
}  // namespace

Status Epoll::Add(int fd, uint32_t events, uint64_t data) {
  return Control(fd_.get(), EPOLL_CTL_ADD, fd, events, data, "epoll_ctl(ADD)");
}

Status Epoll::Modify(int fd, uint32_t events, uint64_t data) {
  return Control(fd_.get(), EPOLL_CTL_MOD, fd, events, data, "epoll_ctl(MOD)");
}

Status Epoll::Remove(int fd) {
  return Control(fd_.get(), EPOLL_CTL_DEL, fd, 0, 0, "epoll_ctl(DEL)");
}

int Epoll::Wait(std::span<epoll_event> out,
                std::optional<std::chrono::milliseconds> timeout) {
  int timeout_ms = -1;
  if (timeout) {
    auto ms = std::max<std::chrono::milliseconds::rep>(timeout->count(), 0);
    timeout_ms = static_cast<int>(std::min<std::chrono::milliseconds::rep>(ms, 1 << 30));
  }
  for (;;) {
    int n = epoll_wait(fd_.get(), out.data(), static_cast<int>(out.size()), timeout_ms);
    if (n >= 0 || errno != EINTR) {
      return n;
    }
  }
}

}  // namespace cinit::os
