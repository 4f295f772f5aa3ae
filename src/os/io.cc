#include "os/io.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "os/errno_status.h"

extern char** environ;

namespace cinit::os {

ssize_t Read(int fd, char* buf, size_t size) {
  for (;;) {
    ssize_t n = read(fd, buf, size);
    if (n >= 0 || errno != EINTR) {
      return n >= 0 ? n : -errno;
    }
  }
}

ssize_t Write(int fd, std::string_view bytes) {
  for (;;) {
    ssize_t n = write(fd, bytes.data(), bytes.size());
    if (n >= 0 || errno != EINTR) {
      return n >= 0 ? n : -errno;
    }
  }
}

Status Pipe(UniqueFd* read_end, UniqueFd* write_end) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    return ErrnoStatus("pipe2", errno);
  }
  read_end->Reset(fds[0]);
  write_end->Reset(fds[1]);
  if (fcntl(fds[0], F_SETFL, O_NONBLOCK) != 0) {
    return ErrnoStatus("fcntl(O_NONBLOCK)", errno);
  }
  return Status::Ok();
}

UniqueFd OpenOwnWriter(int stdio) {
  struct stat st {};
  if (fstat(stdio, &st) != 0 || !S_ISFIFO(st.st_mode)) {
    return UniqueFd();
  }
  return UniqueFd(open(fmt::format("/proc/self/fd/{}", stdio).c_str(),
                       O_WRONLY | O_NONBLOCK | O_CLOEXEC));
}

std::vector<std::string_view> Environment() {
  std::vector<std::string_view> entries;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    entries.emplace_back(*entry);
  }
  return entries;
}

}  // namespace cinit::os
