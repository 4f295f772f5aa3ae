#include "log_relay.h"

#include <fmt/format.h>

#include <cerrno>
#include <iterator>

#include "log.h"
#include "os/epoll.h"
#include "os/io.h"

namespace cinit {

LogRelay::~LogRelay() {
  for (auto& [fd, source] : sources_) {
    loop_->Unwatch(fd);
  }
  for (auto& output : outputs_) {
    if (output.watching) {
      loop_->Unwatch(output.fd);
    }
  }
}

Status LogRelay::OpenOutput(int stdio, Output* output) {
  // A pipe (docker's log driver, kubectl logs): a writer of our own, so O_NONBLOCK
  // is ours alone and not forced on every process sharing fd 1/2.
  output->owned = os::OpenOwnWriter(stdio);
  if (output->owned.valid()) {
    output->fd = output->owned.get();
    return Status::Ok();
  }
  // A terminal or a file (or no /proc): write to it as it is.
  output->fd = stdio;
  return Status::Ok();
}

Status LogRelay::Open() {
  if (Status s = OpenOutput(1, &outputs_[0]); !s.ok()) {
    return s;
  }
  return OpenOutput(2, &outputs_[1]);
}

Status LogRelay::AddWorker(int slot, os::UniqueFd* out, os::UniqueFd* err) {
  for (int stream = 1; stream <= 2; ++stream) {
    os::UniqueFd reader;
    if (Status s = os::Pipe(&reader, stream == 1 ? out : err); !s.ok()) {
      return s;
    }
    int fd = reader.get();
    if (Status s = loop_->Watch(fd, os::kReadable,
                                [this, fd](uint32_t, EventQueue*) { OnReadable(fd); });
        !s.ok()) {
      return s;
    }
    Source& source = sources_[fd];
    source.fd = std::move(reader);
    source.slot = slot;
    source.stream = stream;
  }
  return Status::Ok();
}

void LogRelay::OnReadable(int fd) {
  auto it = sources_.find(fd);
  if (it == sources_.end()) {
    return;
  }
  Source& source = it->second;
  char buf[16 * 1024];
  for (int round = 0; round < 4; ++round) {
    ssize_t n = os::Read(fd, buf, sizeof(buf));
    if (n < 0) {
      return;  // EAGAIN
    }
    if (n == 0) {  // every writer closed: the worker (and its children) are gone
      if (!source.partial.empty()) {
        Emit(source, source.partial);
      }
      loop_->Unwatch(fd);
      sources_.erase(it);
      return;
    }
    std::string_view chunk(buf, static_cast<size_t>(n));
    while (!chunk.empty()) {
      size_t newline = chunk.find('\n');
      size_t take = newline == std::string_view::npos ? chunk.size() : newline;
      size_t room = kMaxLine - source.partial.size();
      if (take > room) {  // over-long: emit what fits, the rest follows as more pieces
        source.partial.append(chunk.substr(0, room));
        Emit(source, source.partial);
        source.partial.clear();
        chunk.remove_prefix(room);
        continue;
      }
      source.partial.append(chunk.substr(0, take));
      if (newline == std::string_view::npos) {
        break;
      }
      Emit(source, source.partial);
      source.partial.clear();
      chunk.remove_prefix(newline + 1);
    }
  }
}

void LogRelay::Emit(const Source& source, std::string_view line) {
  Output& output = outputs_[source.stream - 1];
  constexpr size_t kPrefixRoom = 16;  // "[NNNN] " and the newline, generously
  if (output.queue.size() - output.head + line.size() + kPrefixRoom > kMaxQueued) {
    if (output.dropped++ == 0) {
      Log(Level::kWarning,
          "dropping worker output: the reader of cinit's {} is too slow ({} KiB queued)",
          source.stream == 1 ? "stdout" : "stderr", kMaxQueued / 1024);
    }
    return;
  }
  fmt::format_to(std::back_inserter(output.queue), "[{}] {}\n", source.slot, line);
  if (!output.watching) {  // else EPOLLOUT will say when the reader has room
    Flush(output);
  }
}

void LogRelay::Flush(Output& output) {
  while (output.head < output.queue.size()) {
    ssize_t n = os::Write(output.fd, std::string_view(output.queue).substr(output.head));
    if (n == -EAGAIN) {
      // Keep the unwritten tail; drop what is written once it is most of the buffer.
      if (output.head > output.queue.size() / 2) {
        output.queue.erase(0, output.head);
        output.head = 0;
      }
      if (!output.watching &&
          loop_
              ->Watch(output.fd, os::kWritable,
                      [this, &output](uint32_t, EventQueue*) { Flush(output); })
              .ok()) {
        output.watching = true;
      }
      return;
    }
    if (n <= 0) {
      break;  // EPIPE and friends: nobody reads; nothing to keep
    }
    output.head += static_cast<size_t>(n);
  }
  output.queue.clear();
  output.head = 0;
  if (output.watching) {
    loop_->Unwatch(output.fd);
    output.watching = false;
  }
  if (output.dropped > 0) {
    Log(Level::kWarning, "dropped {} line(s) of worker output; writing again",
        output.dropped);
    output.dropped = 0;
  }
}

}  // namespace cinit
