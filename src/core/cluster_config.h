// ClusterConfig: how cluster mode (-i) runs its workers. Each default is kept here
// once: Options (options.h) holds one of these, filled from flags and environment,
// and the Cluster (cluster.h) runs on it. kill_timeout is single mode's too (the
// drain of what COMMAND leaves behind).
#ifndef CINIT_CLUSTER_CONFIG_H_
#define CINIT_CLUSTER_CONFIG_H_

#include <chrono>
#include <cstdint>

#include "signal_policy.h"

namespace cinit {

struct ClusterConfig {
  int workers = 1;        // resolved from -i at start-up (cpu_count.h)
  bool node_ipc = false;  // workers have Node's IPC channel: AskWorkerToLeave works
  // Workers load the bind shim: each must say HELLO within shim_hello_wait, or
  // cinit warns that it did not load (a static or set-uid program, LD_PRELOAD
  // removed on the way).
  bool shim = false;
  std::chrono::milliseconds shim_hello_wait{3000};
  int stop_signal = 15;  // SIGTERM (--stop-signal)
  // Between the stop signal and SIGKILL for what is left: of a worker's tree when
  // its own process exited on its own, of every process when cinit drains at its
  // end (single mode's too), and after a second SIGTERM (--kill-timeout).
  std::chrono::milliseconds kill_timeout{1600};
  // A worker's time to exit after it was asked to ('shutdown' + disconnect for
  // Node, the stop signal for the others) before SIGKILL goes to its tree
  // (--graceful-timeout, PM2_GRACEFUL_TIMEOUT).
  std::chrono::milliseconds graceful_timeout{8000};
  // Lame duck (--drain-delay, CINIT_DRAIN_DELAY): after SIGTERM/SIGINT cinit says
  // not ready at once but the workers keep serving this long before the graceful
  // stop begins, while endpoints and load balancers stop sending. 0: stop at once.
  std::chrono::milliseconds drain_delay{0};
  // A worker that dies sooner than this after its start has crashed; max_restarts
  // crashes in a row of one slot make cinit give up.
  std::chrono::milliseconds min_uptime{1000};
  int max_restarts = 10;
  // The limit while no worker has ever been online (an app that cannot start):
  // with the default backoff, the fifth crash comes about 3 s after the first.
  int never_online_restarts = 4;
  std::chrono::milliseconds backoff_base{100};
  std::chrono::milliseconds backoff_max{15000};
  // Rolling reload: a replacement's time to come online (--listen-timeout,
  // PM2_GRACEFUL_LISTEN_TIMEOUT), slots replaced at a time, and whether a silent
  // replacement aborts the reload (--strict-reload) instead of being taken as online.
  std::chrono::milliseconds listen_timeout{3000};
  int reload_batch = 1;
  bool strict_reload = false;
  SignalRewrite rewrite;  // --rewrite: applied to the signals forwarded to workers
  // --max-memory: a worker whose tree's memory (PSS) stays above this for
  // memory_over_for is replaced gracefully; 0: off. Sampled every memory_every.
  uint64_t max_memory = 0;
  std::chrono::milliseconds memory_every{1000};
  std::chrono::milliseconds memory_over_for{3000};
};

}  // namespace cinit

#endif  // CINIT_CLUSTER_CONFIG_H_
