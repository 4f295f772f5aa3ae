// write_shim_image: writes cinit::ShimImage() to the file named by its one
// argument, so that test_shim.py can check that the bytes embedded in a
// program are the built cinit_shim.so and that a copy of them preloads.
// Prints the number of bytes written. Exits 0 on success, 1 on an I/O error,
// 2 on bad usage.
#include <cstdio>

#include "shim/shim_image.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: write_shim_image OUTPUT\n");
    return 2;
  }
  const auto image = cinit::ShimImage();
  std::FILE* out = std::fopen(argv[1], "wb");
  if (out == nullptr) {
    std::perror("write_shim_image: fopen");
    return 1;
  }
  const bool ok = std::fwrite(image.data(), 1, image.size(), out) == image.size();
  if (std::fclose(out) != 0 || !ok) {
    std::perror("write_shim_image: write");
    return 1;
  }
  std::printf("%zu\n", image.size());
  return 0;
}
