// Cluster mode (-i): the sources, the Cluster policy and the loop turns that join
// them. Kept apart from main.cc (and linked after single mode's code, CMakeLists.txt)
// so that a single-mode cinit never has this code's pages in its resident set.
#ifndef CINIT_CLUSTER_MODE_H_
#define CINIT_CLUSTER_MODE_H_

#include "options.h"

namespace cinit {

// Runs COMMAND as options.instances workers until cinit stops; returns cinit's exit
// code.
int RunCluster(const Options& options);

}  // namespace cinit

#endif  // CINIT_CLUSTER_MODE_H_
