// WorkerKind: does COMMAND get Node's IPC channel? Pure.
//
// --ipc node / none decide outright. With auto (the default) the channel goes to
// a program that is node itself (`node app.js`, `nodejs …`) or a script whose
// shebang runs node (`#!/usr/bin/env node`). Package managers are the exception:
// npm, npx, yarn, pnpm and corepack are node scripts that would keep the channel
// for themselves (their node process becomes the cluster worker, and the app they
// start would not get it), so they are treated as ordinary programs; the app they
// start then shares the port through the bind shim.
#ifndef CINIT_WORKER_KIND_H_
#define CINIT_WORKER_KIND_H_

#include <string>
#include <string_view>

#include "options.h"

namespace cinit {

struct IpcDecision {
  bool node_ipc = false;
  std::string why;  // for the log
};

// argv0: COMMAND as given; shebang: the first line of the file it resolves to when
// that line starts with "#!", else empty.
IpcDecision DecideNodeIpc(IpcMode mode, std::string_view argv0, std::string_view shebang);

}  // namespace cinit

#endif  // CINIT_WORKER_KIND_H_
