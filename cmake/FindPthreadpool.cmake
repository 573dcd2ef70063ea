# Finds pthreadpool, the thread pool plans run on (Debian: libpthreadpool-dev;
# it ships no pkg-config file and no CMake package).
# Sets Pthreadpool_FOUND, PTHREADPOOL_INCLUDE_DIR, PTHREADPOOL_LIBRARY and
# Pthreadpool::Pthreadpool.
find_path(PTHREADPOOL_INCLUDE_DIR pthreadpool.h)
find_library(PTHREADPOOL_LIBRARY NAMES pthreadpool)
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(Pthreadpool
  REQUIRED_VARS PTHREADPOOL_LIBRARY PTHREADPOOL_INCLUDE_DIR
  FAIL_MESSAGE "pthreadpool not found: install the Debian package 'libpthreadpool-dev', or run scripts/setup.sh")
if(Pthreadpool_FOUND AND NOT TARGET Pthreadpool::Pthreadpool)
  add_library(Pthreadpool::Pthreadpool UNKNOWN IMPORTED)
  set_target_properties(Pthreadpool::Pthreadpool PROPERTIES
    IMPORTED_LOCATION "${PTHREADPOOL_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${PTHREADPOOL_INCLUDE_DIR}")
endif()
