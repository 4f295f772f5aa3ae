#include "line_splitter.h"

namespace cinit {

void LineSplitter::Feed(std::string_view bytes, std::vector<std::string>* lines,
                        std::vector<size_t>* dropped_at) {
  while (!bytes.empty()) {
    size_t newline = bytes.find('\n');
    std::string_view chunk = bytes.substr(0, newline);
    if (!discarding_) {
      if (partial_.size() + chunk.size() > max_line_) {
        partial_.clear();
        discarding_ = true;
        ++dropped_;
      } else {
        partial_.append(chunk);
      }
    }
    if (newline == std::string_view::npos) {
      return;
    }
    if (!discarding_) {
      lines->push_back(std::move(partial_));
    } else if (dropped_at != nullptr) {
      dropped_at->push_back(lines->size());
    }
    partial_.clear();
    discarding_ = false;
    bytes.remove_prefix(newline + 1);
  }
}

}  // namespace cinit
