# cmake --install: the two libraries and their headers, the `septune` tool,
# the Lua generator and templates it reads at run time, the model files, a
# CMake package (find_package(septune CONFIG): septune::septune, septune::rt,
# septune_add_kernels) and pkg-config files (septune, septune-rt).
#
# Layout under the prefix (GNUInstallDirs):
#   bin/septune
#   include/septune.h, include/septune_kernel_table.h
#   lib/libseptune.a, lib/libseptune_rt.a, lib/libseptune_rt.so (.so.0.1, .so.0.1.0)
#   lib/cmake/septune/      package config, targets, Find modules, septune_add_kernels
#   lib/pkgconfig/          septune.pc, septune-rt.pc
#   share/septune/          generator/*.lua, templates/*, models/*.txt, lua/ (the
#                           Lua modules septune and septune.generator)
#   share/doc/septune/      LICENSE
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(SEPTUNE_INSTALL_DATADIR  "${CMAKE_INSTALL_DATADIR}/septune")
set(SEPTUNE_INSTALL_CMAKEDIR "${CMAKE_INSTALL_LIBDIR}/cmake/septune")

# libseptune and the tool look for the generator in the configured install
# directory (SEPTUNE_LUA_INSTALL_ROOT, runtime/CMakeLists.txt) and, for a
# prefix moved after the build, relative to the running executable. Both must
# name the directory the generator is installed into below.
if(NOT IS_ABSOLUTE "${CMAKE_INSTALL_BINDIR}" AND NOT IS_ABSOLUTE "${CMAKE_INSTALL_DATADIR}")
  file(RELATIVE_PATH _septune_exe_to_data "/prefix/${CMAKE_INSTALL_BINDIR}" "/prefix/${SEPTUNE_INSTALL_DATADIR}")
  target_compile_definitions(septune PRIVATE SEPTUNE_LUA_EXE_RELATIVE="${_septune_exe_to_data}")
endif()

# ---- libraries, headers, tool ------------------------------------------------
# Users write septune::rt and septune::rt_shared, not septune::septune_rt.
set_target_properties(septune_rt PROPERTIES EXPORT_NAME rt)
set_target_properties(septune_rt_shared PROPERTIES EXPORT_NAME rt_shared)

# (Their include directory for users is $<INSTALL_INTERFACE:...INCLUDEDIR>, set
# in runtime/CMakeLists.txt.)
install(TARGETS septune septune_rt septune_rt_shared EXPORT septuneTargets
  ARCHIVE       DESTINATION "${CMAKE_INSTALL_LIBDIR}"
  LIBRARY       DESTINATION "${CMAKE_INSTALL_LIBDIR}"
  PUBLIC_HEADER DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}")
install(TARGETS septune_cli RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}")

# What the tool and libseptune read at run time. DIRECTORY (not a configure-
# time glob) so that a Lua file added later is installed without re-running
# cmake.
install(DIRECTORY "${PROJECT_SOURCE_DIR}/generator/"
  DESTINATION "${SEPTUNE_INSTALL_DATADIR}/generator" FILES_MATCHING PATTERN "*.lua")
install(DIRECTORY "${PROJECT_SOURCE_DIR}/templates/"
  DESTINATION "${SEPTUNE_INSTALL_DATADIR}/templates")
# The layer lists, for `septune tune` and examples/embed.
install(DIRECTORY "${PROJECT_SOURCE_DIR}/models/"
  DESTINATION "${SEPTUNE_INSTALL_DATADIR}/models" FILES_MATCHING PATTERN "*.txt")

# The Lua modules (require "septune", require "septune.generator"), and
# where the installed septune.lua finds the header and libseptune_rt.so.
install(DIRECTORY "${PROJECT_SOURCE_DIR}/lua/"
  DESTINATION "${SEPTUNE_INSTALL_DATADIR}/lua" FILES_MATCHING PATTERN "*.lua")
if(IS_ABSOLUTE "${CMAKE_INSTALL_DATADIR}" OR IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}"
   OR IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  set(SEPTUNE_LUA_TO_INCLUDEDIR "${CMAKE_INSTALL_FULL_INCLUDEDIR}")
  set(SEPTUNE_LUA_TO_LIBDIR "${CMAKE_INSTALL_FULL_LIBDIR}")
else()
  file(RELATIVE_PATH SEPTUNE_LUA_TO_INCLUDEDIR "/prefix/${SEPTUNE_INSTALL_DATADIR}/lua" "/prefix/${CMAKE_INSTALL_INCLUDEDIR}")
  file(RELATIVE_PATH SEPTUNE_LUA_TO_LIBDIR "/prefix/${SEPTUNE_INSTALL_DATADIR}/lua" "/prefix/${CMAKE_INSTALL_LIBDIR}")
endif()
configure_file("${PROJECT_SOURCE_DIR}/cmake/install_layout.lua.in" "${PROJECT_BINARY_DIR}/install_layout.lua" @ONLY)
install(FILES "${PROJECT_BINARY_DIR}/install_layout.lua" DESTINATION "${SEPTUNE_INSTALL_DATADIR}/lua/septune")

# The licence, where Debian and the FHS put a package's documents.
install(FILES "${PROJECT_SOURCE_DIR}/LICENSE" DESTINATION "${CMAKE_INSTALL_DOCDIR}")

# ---- CMake package -------------------------------------------------------------
install(EXPORT septuneTargets NAMESPACE septune::
  FILE septuneTargets.cmake DESTINATION "${SEPTUNE_INSTALL_CMAKEDIR}")

configure_package_config_file("${PROJECT_SOURCE_DIR}/cmake/septuneConfig.cmake.in"
  "${PROJECT_BINARY_DIR}/septuneConfig.cmake"
  INSTALL_DESTINATION "${SEPTUNE_INSTALL_CMAKEDIR}"
  PATH_VARS CMAKE_INSTALL_BINDIR SEPTUNE_INSTALL_DATADIR)
# 0.x: a new minor version may change the API or the kernel-table ABI.
write_basic_package_version_file("${PROJECT_BINARY_DIR}/septuneConfigVersion.cmake"
  VERSION "${PROJECT_VERSION}" COMPATIBILITY SameMinorVersion)
install(FILES
  "${PROJECT_BINARY_DIR}/septuneConfig.cmake"
  "${PROJECT_BINARY_DIR}/septuneConfigVersion.cmake"
  "${PROJECT_SOURCE_DIR}/cmake/SeptuneAddKernels.cmake"
  # septune::septune links LibTCC::LibTCC and LuaJIT::LuaJIT: the config finds
  # them with the same modules this build used.
  "${PROJECT_SOURCE_DIR}/cmake/FindLibTCC.cmake"
  "${PROJECT_SOURCE_DIR}/cmake/FindLuaJIT.cmake"
  "${PROJECT_SOURCE_DIR}/cmake/FindPthreadpool.cmake"
  DESTINATION "${SEPTUNE_INSTALL_CMAKEDIR}")

# ---- pkg-config ------------------------------------------------------------------
# prefix is computed from the .pc file's own place (${pcfiledir}), so the files
# stay right after `cmake --install --prefix elsewhere` or a moved prefix.
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  set(SEPTUNE_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
  set(SEPTUNE_PC_LIBDIR "${CMAKE_INSTALL_LIBDIR}")
else()
  file(RELATIVE_PATH _septune_pc_up "/prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/prefix")
  string(REGEX REPLACE "/$" "" _septune_pc_up "${_septune_pc_up}")
  set(SEPTUNE_PC_PREFIX "\${pcfiledir}/${_septune_pc_up}")
  set(SEPTUNE_PC_LIBDIR "\${prefix}/${CMAKE_INSTALL_LIBDIR}")
endif()
if(IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
  set(SEPTUNE_PC_INCLUDEDIR "${CMAKE_INSTALL_INCLUDEDIR}")
else()
  set(SEPTUNE_PC_INCLUDEDIR "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
endif()

# libseptune is a static archive only, so its dependencies go to
# Libs.private / Requires.private and users link with `pkg-config --static`
# (septune-rt.pc lists the static libseptune_rt's in its Libs.private).
# LuaJIT ships a .pc file (Debian); when it does not, name the library itself.
# libtcc has none: its archive by full path (Debian ships no shared libtcc).
set(SEPTUNE_PC_REQUIRES_PRIVATE "")
set(SEPTUNE_PC_LIBS_PRIVATE "${LIBTCC_LIBRARY}")
if(PC_LUAJIT_FOUND)
  set(SEPTUNE_PC_REQUIRES_PRIVATE "luajit")
else()
  string(APPEND SEPTUNE_PC_LIBS_PRIVATE " ${LUAJIT_LIBRARY}")
endif()
string(APPEND SEPTUNE_PC_LIBS_PRIVATE " -lpthreadpool -ldl -lpthread -lm")

configure_file("${PROJECT_SOURCE_DIR}/cmake/septune.pc.in"    "${PROJECT_BINARY_DIR}/septune.pc" @ONLY)
configure_file("${PROJECT_SOURCE_DIR}/cmake/septune-rt.pc.in" "${PROJECT_BINARY_DIR}/septune-rt.pc" @ONLY)
install(FILES "${PROJECT_BINARY_DIR}/septune.pc" "${PROJECT_BINARY_DIR}/septune-rt.pc"
  DESTINATION "${CMAKE_INSTALL_LIBDIR}/pkgconfig")
