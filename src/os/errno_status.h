// ErrnoStatus: the single adapter from a failed syscall to a Status.
#ifndef CINIT_OS_ERRNO_STATUS_H_
#define CINIT_OS_ERRNO_STATUS_H_

#include <fmt/format.h>

#include <cstring>
#include <string_view>

#include "status.h"

namespace cinit::os {

// Returns "context: strerror(error)" as a failed Status.
inline Status ErrnoStatus(std::string_view context, int error) {
  return Status::Error(fmt::format("{}: {}", context, std::strerror(error)));
}

}  // namespace cinit::os

#endif  // CINIT_OS_ERRNO_STATUS_H_
