// cinit's terminate handler, replacing libstdc++'s verbose one.
//
// libstdc++'s default handler demangles the type of the uncaught exception, which
// links its whole C++ demangler (~50 KiB of code) into the static binary: code that
// a PID 1 would run at most once, just before dying, but whose pages count in its
// RSS for the container's whole life. Defining the handler here keeps that archive
// member out. main() catches everything, so this runs only on a bug (an exception
// escaping a noexcept function, say).
#include <unistd.h>

#include <cstdlib>

namespace __gnu_cxx {

[[noreturn]] void __verbose_terminate_handler();

void __verbose_terminate_handler() {
  static constexpr char kMessage[] = "cinit: fatal: std::terminate called\n";
  ssize_t ignored = write(STDERR_FILENO, kMessage, sizeof(kMessage) - 1);
  (void)ignored;
  std::abort();
}

}  // namespace __gnu_cxx
