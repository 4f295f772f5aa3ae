// ShimImage: the bytes of cinit_shim.so (see shim_protocol.h), embedded in the
// cinit binary at build time, so that a static cinit can preload the shim
// into dynamically linked workers without shipping a second file.
//
// The image is a complete x86_64 ELF shared object with no DT_NEEDED entries;
// it loads under glibc and musl. Using it is the caller's job: write the bytes
// to a file the worker can open (e.g. 0444 in a tmpfs directory that cinit
// creates) or to a memfd the worker inherits, then start the worker with
// LD_PRELOAD=<that path> and CINIT_SHIM_FD=<its end of the channel>.
#ifndef CINIT_SHIM_SHIM_IMAGE_H_
#define CINIT_SHIM_SHIM_IMAGE_H_

#include <span>

namespace cinit {

// Returns the whole ELF image of cinit_shim.so as built with this cinit. The
// bytes have static storage duration and are never empty. Never fails.
std::span<const unsigned char> ShimImage();

}  // namespace cinit

#endif  // CINIT_SHIM_SHIM_IMAGE_H_
