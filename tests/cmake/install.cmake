# ---- cmake --install, then the installed package used from scratch (owner:
# cmake/Install.cmake, tests/install/). Needs the whole tree built first, as
# every test does. Labelled no_sanitizer: with SEPTUNE_SANITIZE the installed
# static libraries need the sanitizer runtime downstream (passed along here,
# but the sanitizer CI leaves this test out).
# tests/ is configured before cmake/Install.cmake: the same install layout here.
include(GNUInstallDirs)
set(_septune_install_ldflags "")
if(SEPTUNE_SANITIZE)
  set(_septune_install_ldflags "-fsanitize=address,undefined")
endif()
add_test(NAME test_install
  COMMAND sh "${CMAKE_CURRENT_SOURCE_DIR}/install/test_install.sh"
          "${CMAKE_BINARY_DIR}" "${CMAKE_SOURCE_DIR}" "${CMAKE_COMMAND}" "${CMAKE_C_COMPILER}" "$<CONFIG>"
          "${CMAKE_INSTALL_LIBDIR}" "${CMAKE_GENERATOR}" "${PKG_CONFIG_EXECUTABLE}" "${_septune_install_ldflags}")
# SEPTUNE_DB empty: the example's kernels get the default knobs, whatever the
# tuning database of the user running the tests holds.
set_tests_properties(test_install PROPERTIES TIMEOUT 300 LABELS "install;no_sanitizer"
  ENVIRONMENT "SEPTUNE_DB=" PROCESSORS 2)
