// cinit's own log lines on its stderr, without ever blocking PID 1's loop.
//
// A log collector that stops reading (a full pipe), a terminal held by Ctrl-S or a
// stuck socket must not wedge cinit: lines are written non-blocking, through an
// open file description of cinit's own (so O_NONBLOCK never reaches the children
// that share fd 2). What cannot be written now waits in a bounded queue
// (kMaxQueued bytes); lines that do not fit are dropped and counted, and once the
// queue drains a warning says how many were lost. The loops call FlushLog() every
// turn and, while LogPending(), wake up at least every kRetry to try again.
#ifndef CINIT_OS_LOG_OUTPUT_H_
#define CINIT_OS_LOG_OUTPUT_H_

#include <chrono>
#include <cstddef>
#include <string_view>

namespace cinit::os {

inline constexpr size_t kMaxLogQueued = 64 * 1024;
inline constexpr std::chrono::milliseconds kLogRetry{100};

// The LogSink (log.h): writes line now, or queues it, or drops it. The first line
// opens the non-blocking writer.
void WriteLogLine(std::string_view line);
// Writes what is queued, as far as the reader takes it.
void FlushLog();
namespace detail {
// Mirrors of log_output.cc's state, read inline: single mode asks every loop turn
// and at start-up, and must not page in that file's code to do so (its idle RSS is
// the binary's code pages, README "Footprint and speed").
inline bool log_pending = false;
inline int log_own_fd = -1;
}  // namespace detail

// True while lines wait in the queue.
inline bool LogPending() { return detail::log_pending; }
// The descriptor cinit writes its lines through when it is one of its own (>= 3),
// else -1: DetachFromInheritedState keeps it open.
inline int LogOutputFd() { return detail::log_own_fd; }
// Before cinit exits: waits up to bound for the reader to take the queue.
void FlushLogBeforeExit(std::chrono::milliseconds bound);

}  // namespace cinit::os

#endif  // CINIT_OS_LOG_OUTPUT_H_
