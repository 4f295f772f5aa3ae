"""A worker that writes to its Node IPC channel and never reads it.

The first start (while $FLOOD_MARKER does not exist) creates the marker, then writes
exitedAfterDisconnect lines, each of which wants an ack from the primary, as fast as
the channel takes them, and reads nothing. Every later start says pm2's 'ready' and
idles. Either way it ends within 60 s, or when the channel is closed under it.
"""

import os
import select
import sys
import time

fd = int(os.environ["NODE_CHANNEL_FD"])
marker = os.environ["FLOOD_MARKER"]
if not os.path.exists(marker):
    open(marker, "w").close()
    line = b'{"cmd":"NODE_CLUSTER","act":"exitedAfterDisconnect","seq":1}\n'
    chunk = line * 1000
    deadline = time.monotonic() + 60
    os.set_blocking(fd, True)
    try:
        for _ in range(1000):  # 64 MB at most
            view = memoryview(chunk)
            while view and time.monotonic() < deadline:
                select.select([], [fd], [], 1)
                try:
                    view = view[os.write(fd, view):]
                except BlockingIOError:
                    pass
    except OSError:
        sys.exit(0)  # cinit closed the channel
    sys.exit(0)
os.write(fd, b'"ready"\n')
time.sleep(60)
