# SEPTUNE_FUZZ: everything is built for libFuzzer (tests/fuzz): coverage
# instrumentation for the fuzzer to follow, ASan and UBSan to turn a bad
# access or undefined behaviour into a crash it reports. Needs clang and its
# fuzzer runtime (Debian: clang and libclang-rt-14-dev, which
# scripts/setup.sh installs); a build without SEPTUNE_FUZZ needs neither.
if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
  message(FATAL_ERROR "SEPTUNE_FUZZ needs clang's libFuzzer: configure with CC=clang "
                      "(the C compiler is ${CMAKE_C_COMPILER_ID})")
endif()
include(CheckCSourceCompiles)
set(CMAKE_REQUIRED_FLAGS "-fsanitize=fuzzer,address,undefined")
check_c_source_compiles("
#include <stddef.h>
#include <stdint.h>
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return data && size ? 0 : 0; }"
  SEPTUNE_HAVE_LIBFUZZER)
unset(CMAKE_REQUIRED_FLAGS)
if(NOT SEPTUNE_HAVE_LIBFUZZER)
  message(FATAL_ERROR "SEPTUNE_FUZZ: ${CMAKE_C_COMPILER} cannot link -fsanitize=fuzzer "
                      "(Debian: apt-get install libclang-rt-14-dev, or run scripts/setup.sh)")
endif()
add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer
                    -fno-sanitize-recover=undefined)
add_link_options(-fsanitize=address,undefined)
