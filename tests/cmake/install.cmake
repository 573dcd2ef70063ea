# ---- cmake --install, then the installed package used from scratch (owner:
# cmake/Install.cmake, tests/install/). The test builds its own copy of the
# source tree (so that it can take that tree away), with the compiler,
# generator and build type of this build. Labelled no_sanitizer: the
# sanitizer CI leaves this long test out (its copy is an ordinary build).
# tests/ is configured before cmake/Install.cmake: the same install layout here.
include(GNUInstallDirs)
add_test(NAME test_install
  COMMAND sh "${CMAKE_CURRENT_SOURCE_DIR}/install/test_install.sh"
          "${CMAKE_SOURCE_DIR}" "${CMAKE_COMMAND}" "${CMAKE_C_COMPILER}" "$<CONFIG>"
          "${CMAKE_INSTALL_LIBDIR}" "${CMAKE_GENERATOR}" "${PKG_CONFIG_EXECUTABLE}" "${LUAJIT_EXECUTABLE}"
          "${CMAKE_READELF}")
# SEPTUNE_DB empty: the example's kernels get the default knobs, whatever the
# tuning database of the user running the tests holds.
set_tests_properties(test_install PROPERTIES TIMEOUT 900 LABELS "install;no_sanitizer"
  ENVIRONMENT "SEPTUNE_DB=" PROCESSORS 2)
