#include "os/log_output.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <string>
#include <utility>

#include "log.h"
#include "os/unique_fd.h"

namespace cinit::os {
namespace {

struct Output {
  UniqueFd owned;  // our own non-blocking description of fd 2, when we have one
  int fd = STDERR_FILENO;
  bool socket = false;      // send(MSG_DONTWAIT) works without a description of our own
  bool poll_first = false;  // no description of our own: write only when poll says so
  std::string queue;
  size_t head = 0;       // bytes of queue already written
  uint64_t dropped = 0;  // lines lost since the queue last drained
  bool opened = false;
};

Output& State() {
  static Output output;
  return output;
}

// Writes some of bytes without blocking. Returns the count written (0: no room).
size_t WriteSome(Output& out, std::string_view bytes) {
  if (out.poll_first) {
    pollfd p{out.fd, POLLOUT, 0};
    if (poll(&p, 1, 0) != 1 || !(p.revents & POLLOUT)) {
      return 0;
    }
    // One pipe buffer at most: a write that fits in the room poll saw never blocks.
    bytes = bytes.substr(0, 4096);
  }
  for (;;) {
    ssize_t n =
        out.socket ? send(out.fd, bytes.data(), bytes.size(), MSG_DONTWAIT | MSG_NOSIGNAL)
                   : write(out.fd, bytes.data(), bytes.size());
    if (n >= 0) {
      return static_cast<size_t>(n);
    }
    if (errno == EINTR) {
      continue;
    }
    if (errno != EAGAIN) {
      // EPIPE, EBADF, EIO: nobody will ever read it. Pretend it was written rather
      // than keep it.
      return bytes.size();
    }
    return 0;
  }
}

// Writes the queue's head; true when it is empty.
bool Drain(Output& out) {
  while (out.head < out.queue.size()) {
    size_t n = WriteSome(out, std::string_view(out.queue).substr(out.head));
    if (n == 0) {
      return false;
    }
    out.head += n;
  }
  out.head = 0;
  if (out.queue.capacity() > 4096) {
    std::string().swap(out.queue);  // a backlog's 64 KiB is not kept for good
  } else {
    out.queue.clear();
  }
  return true;
}

// Once the backlog has drained: says how many lines were lost meanwhile.
void ReportDropped(Output& out) {
  if (out.dropped > 0) {
    uint64_t dropped = std::exchange(out.dropped, 0);
    Log(Level::kWarning, "{} log line(s) dropped: stderr was not being read", dropped);
  }
}

// Opened on the first line: a run that logs nothing pays nothing.
void Open(Output& out) {
  out.opened = true;
  struct stat st {};
  if (fstat(STDERR_FILENO, &st) != 0) {
    return;  // closed: writes fail with EBADF and are dropped
  }
  if (S_ISSOCK(st.st_mode)) {
    out.socket = true;
    return;
  }
  if (S_ISREG(st.st_mode) || S_ISBLK(st.st_mode)) {
    return;  // a file: writes do not wait for a reader
  }
  // A pipe or a terminal: open it again, non-blocking, as a description of our own.
  out.owned.Reset(open("/proc/self/fd/2", O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY));
  if (out.owned.valid()) {
    out.fd = out.owned.get();
    detail::log_own_fd = out.fd;
  } else {
    out.poll_first = true;  // no /proc
  }
}

}  // namespace

void WriteLogLine(std::string_view line) {
  Output& out = State();
  struct Sync {
    Output& out;
    ~Sync() { detail::log_pending = !out.queue.empty(); }
  } sync{out};
  if (!out.opened) {
    Open(out);
  }
  if (!out.queue.empty() && !Drain(out)) {
    if (out.queue.size() - out.head + line.size() <= kMaxLogQueued) {
      out.queue.append(line);
    } else {
      ++out.dropped;
    }
    return;
  }
  // The count of lines lost goes first; it may itself land in the queue (a reader
  // still slow), and then this line must queue behind it, not overwrite it.
  ReportDropped(out);
  if (!out.queue.empty()) {
    if (out.queue.size() - out.head + line.size() <= kMaxLogQueued) {
      out.queue.append(line);
    } else {
      ++out.dropped;
    }
    return;
  }
  size_t n = WriteSome(out, line);
  if (n < line.size()) {
    if (line.size() - n <= kMaxLogQueued) {
      out.queue.assign(line.substr(n));
      out.head = 0;
    } else {
      ++out.dropped;
    }
  }
}

void FlushLog() {
  Output& out = State();
  if (!out.queue.empty() && Drain(out)) {
    ReportDropped(out);
  }
  detail::log_pending = !out.queue.empty();
}

void FlushLogBeforeExit(std::chrono::milliseconds bound) {
  Output& out = State();
  const auto until = std::chrono::steady_clock::now() + bound;
  while (!out.queue.empty()) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        until - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      return;
    }
    pollfd p{out.fd, POLLOUT, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) < 0 && errno != EINTR) {
      return;
    }
    FlushLog();
  }
}

}  // namespace cinit::os
