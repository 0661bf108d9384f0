# Target helpers in the manner of abseil's absl_cc_library: one call per component, so the
# target graph (the architecture, STYLE.md section 2) reads in one place per folder.

# iocgrid_add_library(NAME core SRCS a.cc b.cc DEPS iocgrid::common PRIVATE_DEPS fmt::fmt)
function(iocgrid_add_library)
  cmake_parse_arguments(ARG "" "NAME" "SRCS;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(iocgrid_${ARG_NAME} STATIC ${ARG_SRCS})
  add_library(iocgrid::${ARG_NAME} ALIAS iocgrid_${ARG_NAME})
  target_include_directories(iocgrid_${ARG_NAME} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(iocgrid_${ARG_NAME} PUBLIC ${ARG_DEPS} PRIVATE ${ARG_PRIVATE_DEPS} iocgrid_warnings)
endfunction()

# iocgrid_add_test(NAME core SRCS x_test.cc DEPS iocgrid::core LABELS unit [FILTER gtest-filter])
function(iocgrid_add_test)
  cmake_parse_arguments(ARG "" "NAME;FILTER" "SRCS;DEPS;LABELS" ${ARGN})
  if(NOT ARG_LABELS)
    set(ARG_LABELS unit)
  endif()
  add_executable(iocgrid_${ARG_NAME}_test ${ARG_SRCS})
  target_link_libraries(iocgrid_${ARG_NAME}_test PRIVATE ${ARG_DEPS} GTest::gtest GTest::gtest_main iocgrid_warnings)
  # Test helpers are included as "tests/<component>/x.h".
  target_include_directories(iocgrid_${ARG_NAME}_test PRIVATE ${PROJECT_SOURCE_DIR})
  # Build time (CI builds every test from scratch): the headers every test file includes are
  # parsed once per test binary, and test drivers are compiled at -O0 in optimized builds (the
  # code under test keeps its -O2 in the component libraries). Both cut the test objects'
  # compile time by about a third.
  target_precompile_headers(iocgrid_${ARG_NAME}_test PRIVATE
    <gtest/gtest.h> <nlohmann/json.hpp> <chrono> <filesystem> <functional> <map> <memory> <set>
    <string> <string_view> <thread> <vector>)
  target_compile_options(iocgrid_${ARG_NAME}_test PRIVATE $<$<CONFIG:Release>:-O0>)
  target_compile_definitions(iocgrid_${ARG_NAME}_test PRIVATE
    IOCGRID_SHARED_DATA_DIR="${PROJECT_SOURCE_DIR}/../shared/data"
    IOCGRID_TEST_DATA_DIR="${PROJECT_SOURCE_DIR}/tests/data"
    IOCGRID_PROJECT_DATA_DIR="${PROJECT_SOURCE_DIR}/data")
  # FILTER: a gtest filter of the tests to register (all when not given).
  if(NOT ARG_FILTER)
    set(ARG_FILTER "*")
  endif()
  gtest_discover_tests(iocgrid_${ARG_NAME}_test
    TEST_FILTER "${ARG_FILTER}"
    PROPERTIES LABELS "${ARG_LABELS}"
    DISCOVERY_TIMEOUT 60)
endfunction()

# iocgrid_add_bench(NAME index SRCS index_bench.cc DEPS iocgrid::index)
function(iocgrid_add_bench)
  cmake_parse_arguments(ARG "" "NAME" "SRCS;DEPS" ${ARGN})
  add_executable(iocgrid_${ARG_NAME}_bench ${ARG_SRCS})
  target_link_libraries(iocgrid_${ARG_NAME}_bench PRIVATE ${ARG_DEPS} benchmark::benchmark iocgrid_warnings)
  # Shared bench helpers are included as "bench/common/x.h".
  target_include_directories(iocgrid_${ARG_NAME}_bench PRIVATE ${PROJECT_SOURCE_DIR})
  target_compile_definitions(iocgrid_${ARG_NAME}_bench PRIVATE
    IOCGRID_SHARED_DATA_DIR="${PROJECT_SOURCE_DIR}/../shared/data"
    IOCGRID_PROJECT_DATA_DIR="${PROJECT_SOURCE_DIR}/data")
endfunction()
