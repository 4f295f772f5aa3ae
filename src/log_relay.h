// LogRelay: --log-prefix. Workers' stdout and stderr become pipes to cinit, which
// writes every line to its own stdout or stderr with "[k] " (the worker's index) in
// front. No policy beyond these bounds:
//   - lines are written whole, one write each, so they never interleave mid-line;
//     a line longer than kMaxLine is cut into kMaxLine pieces, each prefixed;
//   - cinit never blocks on a slow reader of its output: it writes non-blocking and
//     queues at most kMaxQueued bytes per output; lines that do not fit are dropped,
//     with one warning when dropping starts and a count when writing resumes.
// Without --log-prefix workers inherit cinit's stdout and stderr (no copy at all).
#ifndef CINIT_LOG_RELAY_H_
#define CINIT_LOG_RELAY_H_

#include <cstdint>
#include <map>
#include <string>

#include "event_loop.h"
#include "os/unique_fd.h"
#include "status.h"

namespace cinit {

class LogRelay {
 public:
  static constexpr size_t kMaxLine = 16 * 1024;
  static constexpr size_t kMaxQueued = 1024 * 1024;

  explicit LogRelay(EventLoop* loop) : loop_(loop) {}
  ~LogRelay();
  LogRelay(const LogRelay&) = delete;
  LogRelay& operator=(const LogRelay&) = delete;

  // Prepares cinit's outputs (non-blocking writers of its stdout and stderr).
  Status Open();

  // Creates the pipes for a new worker of slot; *out and *err receive the write
  // ends, to give the worker as its stdout and stderr and close after the spawn.
  Status AddWorker(int slot, os::UniqueFd* out, os::UniqueFd* err);

 private:
  struct Source {
    os::UniqueFd fd;
    int slot = 0;
    int stream = 1;  // 1 stdout, 2 stderr
    std::string partial;
  };
  struct Output {
    os::UniqueFd owned;  // our own writer, when we could make one
    int fd = -1;
    std::string queue;
    size_t head = 0;  // bytes of queue already written
    uint64_t dropped = 0;
    bool watching = false;
  };

  void OnReadable(int fd);
  void Emit(const Source& source, std::string_view line);
  void Flush(Output& output);
  static Status OpenOutput(int stdio, Output* output);

  EventLoop* loop_;
  Output outputs_[2];  // stdout, stderr
  std::map<int, Source> sources_;
};

}  // namespace cinit

#endif  // CINIT_LOG_RELAY_H_
