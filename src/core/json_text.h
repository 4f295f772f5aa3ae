// JsonText: the one way cinit turns JSON into text. Any bytes may reach a JSON
// value (a cgroup path, a worker's key, a reason): invalid UTF-8 is replaced by
// U+FFFD instead of throwing, so no string can make PID 1 fail to answer.
#ifndef CINIT_JSON_TEXT_H_
#define CINIT_JSON_TEXT_H_

#include <nlohmann/json.hpp>
#include <string>

namespace cinit {

// indent -1: one line.
inline std::string JsonText(const nlohmann::json& value, int indent = -1) {
  return value.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace cinit

#endif  // CINIT_JSON_TEXT_H_
