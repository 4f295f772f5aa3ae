# The layers of src/, checked on every build (target check_layers, which the cinit
# binary depends on) and by ctest (meta.layers):
#  - system headers (POSIX, Linux) are included only in src/os/ and src/shim/, and
#    in the few places of ALLOWED below, each with its reason;
#  - src/os/ does not include the core's events, policies or the shell;
#  - src/core/ includes nothing of os/ or the shell (its include path also makes
#    that a compile error).
# Input: SRC (the src/ directory).

cmake_minimum_required(VERSION 3.24)

set(system_header
  "^(sys/|unistd\\.h|fcntl\\.h|signal\\.h|netinet/|arpa/|linux/|sched\\.h|spawn\\.h|dirent\\.h|poll\\.h|errno\\.h|pwd\\.h|grp\\.h|termios\\.h|seccomp\\.h|net/|netdb\\.h|pthread\\.h)")
# file:header, each justified.
set(ALLOWED
  # inet_ntop and the AF_/SOCK_ constants of the shim protocol: formatting only.
  "core/shim_codec.cc:arpa/inet.h" "core/shim_codec.cc:sys/socket.h"
  "core/shim_codec_test.cc:netinet/in.h" "core/shim_codec_test.cc:sys/socket.h"
  # The same constants and inet_ntop for the one bind rule of both front-ends.
  "core/bind_rule.cc:arpa/inet.h" "core/bind_rule.cc:netinet/in.h"
  "core/bind_rule.cc:sys/socket.h" "core/bind_rule_test.cc:arpa/inet.h"
  "core/bind_rule_test.cc:netinet/in.h" "core/bind_rule_test.cc:sys/socket.h"
  # inet_pton checks --listen and --health addresses: a pure parser.
  "core/options.cc:arpa/inet.h"
  # The W* macros of a wait status: bit arithmetic.
  "core/wait_status.cc:sys/wait.h"
  # write(2) in the terminate handler, the last thing cinit does on a bug.
  "terminate.cc:unistd.h")

file(GLOB_RECURSE sources RELATIVE ${SRC} ${SRC}/*.h ${SRC}/*.cc)
set(problems "")
foreach(file IN LISTS sources)
  file(STRINGS ${SRC}/${file} lines REGEX "^[ \t]*#[ \t]*include")
  foreach(line IN LISTS lines)
    if(line MATCHES "#[ \t]*include[ \t]*<([^>]+)>")
      set(header ${CMAKE_MATCH_1})
      if(header MATCHES "${system_header}" AND NOT file MATCHES "^(os|shim)/"
         AND NOT "${file}:${header}" IN_LIST ALLOWED)
        list(APPEND problems "${file}: <${header}> is a system header: wrap the call in src/os/")
      endif()
    elseif(line MATCHES "#[ \t]*include[ \t]*\"([^\"]+)\"")
      set(header ${CMAKE_MATCH_1})
      if(file MATCHES "^os/" AND header MATCHES "^(events|cluster|supervisor|drain|executor|event_loop|workers)\\.h$")
        list(APPEND problems "${file}: \"${header}\": os/ must not know the core's events, policies or the shell")
      endif()
      if(file MATCHES "^core/" AND (header MATCHES "^os/" OR NOT EXISTS ${SRC}/core/${header})
         AND NOT header STREQUAL "shim_protocol.h")
        list(APPEND problems "${file}: \"${header}\": the core includes only core headers")
      endif()
    endif()
  endforeach()
endforeach()

if(problems)
  list(JOIN problems "\n  " text)
  message(FATAL_ERROR "layer check failed:\n  ${text}")
endif()
list(LENGTH sources count)
message(STATUS "layers: ${count} files checked")
