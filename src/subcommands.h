// The subcommands of the name `cinit`: `ctl` (a line to the control FIFO) and
// `status` (the exec probe). Apart from main.cc, and linked after single mode's code,
// like cluster mode (cluster_mode.h), whose files they read and write.
#ifndef CINIT_SUBCOMMANDS_H_
#define CINIT_SUBCOMMANDS_H_

#include <span>
#include <string_view>

namespace cinit {

// `cinit ctl [--control PATH] COMMAND...`: writes one line to the control FIFO.
// Returns the exit code: 2 for a bad command, 1 when no cinit reads the FIFO.
// `cinit ctl [--control PATH] status [--json] [--status-file PATH]` prints the
// cluster's view instead (ctl_status.h): exit 0, or 1 with the reason when cinit
// does not run or has no view to give.
int RunCtl(std::span<const std::string_view> args);

// `cinit status [--status-file PATH] --ready|--live`: exits 0 when the verdict cinit
// published says so, 1 otherwise (also when there is none).
int RunStatus(std::span<const std::string_view> args);

}  // namespace cinit

#endif  // CINIT_SUBCOMMANDS_H_
