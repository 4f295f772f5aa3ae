// The bytes behind ShimImage(), pulled in by the assembler (.incbin) from the
// cinit_shim.so that CMake built. CMake passes its path as CINIT_SHIM_SO_PATH,
// makes cinit_shim_blob depend on the cinit_shim target, and lists the .so as
// OBJECT_DEPENDS of this file, so a rebuilt .so rebuilds this object.
#include "shim/shim_image.h"

#ifndef CINIT_SHIM_SO_PATH
#error "CINIT_SHIM_SO_PATH must name the built cinit_shim.so"
#endif

// A section of its own, so that --gc-sections keeps it exactly when
// ShimImage() is linked in. Not a .rodata.* one: the linker places this orphan
// after .rodata, so its 18 KiB (used only by cluster mode) do not sit between the
// read-only data every start touches, which would spread that over one more
// 64 KiB fault-around window (+64 KiB idle RSS in single mode, measured).
// 64-byte alignment is for whoever copies it.
asm(".pushsection .cinit_shim_image,\"a\",@progbits\n"
    ".balign 64\n"
    ".globl cinit_shim_image_begin\n"
    ".hidden cinit_shim_image_begin\n"
    ".type cinit_shim_image_begin, @object\n"
    "cinit_shim_image_begin:\n"
    ".incbin \"" CINIT_SHIM_SO_PATH
    "\"\n"
    ".globl cinit_shim_image_end\n"
    ".hidden cinit_shim_image_end\n"
    "cinit_shim_image_end:\n"
    ".size cinit_shim_image_begin, cinit_shim_image_end - cinit_shim_image_begin\n"
    ".popsection\n");

extern "C" {
extern const unsigned char cinit_shim_image_begin[];
extern const unsigned char cinit_shim_image_end[];
}

namespace cinit {

std::span<const unsigned char> ShimImage() {
  return {cinit_shim_image_begin, cinit_shim_image_end};
}

}  // namespace cinit
