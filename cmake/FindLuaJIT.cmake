# Finds LuaJIT through pkg-config (Debian: libluajit-5.1-dev) and the luajit
# interpreter that runs the Lua tests (Debian: luajit).
# Sets LuaJIT_FOUND, LUAJIT_EXECUTABLE and LuaJIT::LuaJIT.
find_package(PkgConfig QUIET)
if(PKG_CONFIG_FOUND)
  pkg_check_modules(PC_LUAJIT QUIET luajit)
endif()
find_path(LUAJIT_INCLUDE_DIR luajit.h HINTS ${PC_LUAJIT_INCLUDE_DIRS} PATH_SUFFIXES luajit-2.1)
find_library(LUAJIT_LIBRARY NAMES luajit-5.1 HINTS ${PC_LUAJIT_LIBRARY_DIRS})
find_program(LUAJIT_EXECUTABLE NAMES luajit)
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(LuaJIT
  REQUIRED_VARS LUAJIT_LIBRARY LUAJIT_INCLUDE_DIR LUAJIT_EXECUTABLE
  FAIL_MESSAGE "LuaJIT not found: install the Debian packages 'libluajit-5.1-dev' and 'luajit' (and pkg-config), or run scripts/setup.sh")
if(LuaJIT_FOUND AND NOT TARGET LuaJIT::LuaJIT)
  add_library(LuaJIT::LuaJIT UNKNOWN IMPORTED)
  set_target_properties(LuaJIT::LuaJIT PROPERTIES
    IMPORTED_LOCATION "${LUAJIT_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${LUAJIT_INCLUDE_DIR}"
    INTERFACE_LINK_LIBRARIES "dl;m")
endif()
