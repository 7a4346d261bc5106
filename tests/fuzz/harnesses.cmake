# The fuzz harnesses, shared by the two programs that drive them: the
# libFuzzer targets (tests/fuzz/CMakeLists.txt, clang with -DHLO_FUZZ=ON) and
# fuzz_replay in the normal build (tests/CMakeLists.txt). Sets
#   HLO_FUZZ_TARGETS        one target per harness file <target>.cc
#   HLO_FUZZ_SUPPORT        what every harness links besides its own file
#   HLO_FUZZ_WEB_CONFIG     whether exporter/web_config.h exists to be fuzzed;
#                           its harness compiles exporter/web_config.cc itself
#                           (it needs only yaml-cpp), not all of exporter_lib
set(HLO_FUZZ_TARGETS
  fuzz_event_line
  fuzz_event_document
  fuzz_jsonl_reader
  fuzz_inventory
  fuzz_timestamp)
set(HLO_FUZZ_WEB_CONFIG OFF)
if(EXISTS ${PROJECT_SOURCE_DIR}/exporter/web_config.h
   AND EXISTS ${PROJECT_SOURCE_DIR}/exporter/web_config.cc)
  set(HLO_FUZZ_WEB_CONFIG ON)
  list(APPEND HLO_FUZZ_TARGETS fuzz_web_config)
endif()
set(HLO_FUZZ_SUPPORT ${PROJECT_SOURCE_DIR}/tests/fuzz/fuzz_support.cc)
set(HLO_FUZZ_WEB_CONFIG_SOURCES ${PROJECT_SOURCE_DIR}/exporter/web_config.cc)
