"""Takes a dead worker's pid and asks cinit's bind shim for the shared port.

    pid_thief.py PID PORT

Run inside cinit's PID namespace (nsenter --pid --mount), as root there. Sets
ns_last_pid to PID - 1 and forks until a child gets PID (bounded tries); that child
execs python3 with the bind shim preloaded ($LD_PRELOAD, $CINIT_SHIM_SOCKET from the
caller's environment) and binds 127.0.0.1:PORT. Prints one line:
  stolen       bind() returned a socket that already listens: cinit's
  refused N    bind() failed with errno N (cinit said no; the real bind collided)
  own          bind() gave a socket of its own (nothing listened on the port)
  nopid        PID could not be taken
"""

import os
import sys

BIND = """
import socket, sys
s = socket.socket()
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError as e:
    print("refused", e.errno)
    sys.exit(0)
print("stolen" if s.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN) else "own")
"""

target, port = int(sys.argv[1]), sys.argv[2]
for _ in range(50):
    with open("/proc/sys/kernel/ns_last_pid", "w") as f:
        f.write(str(target - 1))
    child = os.fork()
    if child == 0:
        if os.getpid() != target:
            os._exit(3)
        os.execv(sys.executable, [sys.executable, "-c", BIND, port])
    _, status = os.waitpid(child, 0)
    if child == target:
        sys.exit(os.waitstatus_to_exitcode(status))
print("nopid")
