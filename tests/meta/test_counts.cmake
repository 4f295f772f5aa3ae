# The suite proves its own count (ctest -P script, registered as meta.counts):
#  - every doctest case is one ctest entry: CMake's test discovery splits a case
#    name at ';' into entries that each run zero cases and pass, so a mismatch
#    between `cinit_unit_tests --count` and the `unit` entries fails here;
#  - every tests/integration/test_*.py file is registered as integration.<name>.
# Inputs: CTEST, BUILD_DIR, UNIT_TESTS (the doctest binary), INTEGRATION_DIR.

execute_process(COMMAND ${UNIT_TESTS} --count OUTPUT_VARIABLE count_out RESULT_VARIABLE rc)
if(NOT rc EQUAL 0 OR NOT count_out MATCHES "passing the current filters: ([0-9]+)")
  message(FATAL_ERROR "cannot count the doctest cases: ${count_out}")
endif()
set(cases ${CMAKE_MATCH_1})

execute_process(COMMAND ${CTEST} --test-dir ${BUILD_DIR} -N -L "^unit$" -E "^meta\\."
  OUTPUT_VARIABLE list_out RESULT_VARIABLE rc)
if(NOT rc EQUAL 0 OR NOT list_out MATCHES "Total Tests: ([0-9]+)")
  message(FATAL_ERROR "cannot list the unit entries: ${list_out}")
endif()
set(entries ${CMAKE_MATCH_1})
if(NOT cases EQUAL entries)
  message(FATAL_ERROR "${cases} doctest cases but ${entries} ctest unit entries: "
    "a case name with ';' (or a stale discovery) makes entries that run nothing")
endif()
message(STATUS "unit: ${cases} doctest cases, ${entries} ctest entries")

file(GLOB files RELATIVE ${INTEGRATION_DIR} ${INTEGRATION_DIR}/test_*.py)
list(LENGTH files wanted)
execute_process(COMMAND ${CTEST} --test-dir ${BUILD_DIR} -N -R "^integration\\."
  OUTPUT_VARIABLE list_out RESULT_VARIABLE rc)
if(NOT list_out MATCHES "Total Tests: ([0-9]+)")
  message(FATAL_ERROR "cannot list the integration entries: ${list_out}")
endif()
set(registered ${CMAKE_MATCH_1})
if(NOT wanted EQUAL registered)
  message(FATAL_ERROR "${wanted} tests/integration/test_*.py files but ${registered} "
    "integration entries: register each file in tests/integration/CMakeLists.txt")
endif()
message(STATUS "integration: ${wanted} files, ${registered} entries")
