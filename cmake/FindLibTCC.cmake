# Finds Debian's libtcc: the header, the static archive (Debian ships no shared
# libtcc) and the directory holding tcc's runtime (libtcc1.a) and its headers,
# which a TCCState needs at run time (tcc_set_lib_path).
#
# Sets LibTCC_FOUND, LIBTCC_INCLUDE_DIR, LIBTCC_LIBRARY, LIBTCC_RUNTIME_DIR and
# the imported target LibTCC::LibTCC.
find_path(LIBTCC_INCLUDE_DIR libtcc.h)
find_library(LIBTCC_LIBRARY NAMES libtcc.a tcc)
find_path(LIBTCC_RUNTIME_DIR libtcc1.a
  PATHS /usr/lib/${CMAKE_LIBRARY_ARCHITECTURE}/tcc /usr/lib/tcc /usr/local/lib/tcc
  NO_DEFAULT_PATH)

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(LibTCC
  REQUIRED_VARS LIBTCC_LIBRARY LIBTCC_INCLUDE_DIR LIBTCC_RUNTIME_DIR
  FAIL_MESSAGE "libtcc not found: install the Debian packages 'libtcc-dev' (libtcc.h, libtcc.a) and 'tcc' (libtcc1.a), or run scripts/setup.sh")

if(LibTCC_FOUND AND NOT TARGET LibTCC::LibTCC)
  add_library(LibTCC::LibTCC STATIC IMPORTED)
  set_target_properties(LibTCC::LibTCC PROPERTIES
    IMPORTED_LOCATION "${LIBTCC_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${LIBTCC_INCLUDE_DIR}"
    INTERFACE_LINK_LIBRARIES "dl;pthread;m")
endif()
