// Reads what CpuCount needs from the kernel: the affinity mask and the cgroup CPU
// quotas on the path from cinit's cgroup to the root (v2 cpu.max, v1 cfs quota).
#ifndef CINIT_OS_CPU_H_
#define CINIT_OS_CPU_H_

#include "cpu_count.h"

namespace cinit::os {

// Never fails: what cannot be read is left out of the decision (and out of `how`).
CpuLimit ReadUsableCpus();

}  // namespace cinit::os

#endif  // CINIT_OS_CPU_H_
