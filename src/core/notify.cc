#include "notify.h"

namespace cinit::notify {

bool SaysReady(std::string_view datagram) {
  while (!datagram.empty()) {
    size_t newline = datagram.find('\n');
    std::string_view line = datagram.substr(0, newline);
    if (line == "READY=1") {
      return true;
    }
    if (newline == std::string_view::npos) {
      break;
    }
    datagram.remove_prefix(newline + 1);
  }
  return false;
}

}  // namespace cinit::notify
