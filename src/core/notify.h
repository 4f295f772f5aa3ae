// Notify: the sd_notify(3) datagram format, as far as cinit reads it. Pure.
//
// A worker (any language; libsystemd's sd_notify() or a one-line socket write)
// sends newline-separated KEY=VALUE assignments to the AF_UNIX datagram socket
// named by $NOTIFY_SOCKET. cinit acts on READY=1 (the worker is online); other
// assignments (STATUS=, RELOADING=1, STOPPING=1, MAINPID=, WATCHDOG=1) are
// accepted and ignored.
#ifndef CINIT_NOTIFY_H_
#define CINIT_NOTIFY_H_

#include <string_view>

namespace cinit::notify {

// Returns true when the datagram holds the assignment READY=1.
bool SaysReady(std::string_view datagram);

}  // namespace cinit::notify

#endif  // CINIT_NOTIFY_H_
