# septune_add_kernels(TARGET MODEL DB OUT [NAME name] [ISA isa] [THREADS t] [TOOL tool])
#
# Runs `septune emit` at build time and compiles the kernels it writes into
# TARGET: OUT/NAME.h (declares `extern const septune_kernel_table
# NAME_kernels;`), OUT/NAME_table.c and one OUT/NAME_kNN.c per distinct layer
# of MODEL. OUT is added to TARGET's include directories, so a source of
# TARGET can `#include "NAME.h"` and call
# septune_register_kernels(&NAME_kernels, &err). Link TARGET with septune::rt
# (or septune::septune).
#
#   TARGET  an existing target of the calling directory
#   MODEL   the layer list (relative: to CMAKE_CURRENT_SOURCE_DIR)
#   DB      where the tuned knobs come from (quote it: "" must stay an argument)
#             a file   its records for this CPU (relative: to the source dir);
#                      the kernels are emitted again when it changes
#             ""       whatever `septune emit` finds at build time: $SEPTUNE_DB,
#                      else the default tuning database when it exists. The
#                      kernels then depend on the machine and the user that
#                      build them
#             NONE     no database (`emit --no-db`): every kernel has the default
#                      knobs. Use this or a file for a reproducible build
#   OUT     directory for the emitted files (relative: to CMAKE_CURRENT_BINARY_DIR)
#   NAME    the table's name, a C identifier (default: MODEL's base name made
#           an identifier, e.g. mobilenet_v2)
#   ISA     emit kernels for this ISA (scalar sse avx2 avx512; default: the best
#           the building machine has)
#   THREADS the thread count the kernels' work split is for (`emit --threads`:
#           the records tuned for it, else the 1-thread ones with the default
#           split for it; default: the CPUs of the building machine). Plans of
#           any thread count run the kernels
#   TOOL    the `septune` command: an imported target or a path (default:
#           septune::septune_tool of the installed package)
#
# The tool is asked at configure time for the file names (`septune emit
# --list`), which depend only on MODEL and NAME; MODEL is watched, so editing
# it re-runs cmake. The tool must therefore exist at configure time: the
# installed one, or a path to a built one (not a target of the same build).

function(septune_add_kernels TARGET MODEL DB OUT)
  cmake_parse_arguments(PARSE_ARGV 4 ARG "" "NAME;ISA;THREADS;TOOL" "")
  if(ARG_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "septune_add_kernels: unexpected arguments: ${ARG_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT TARGET "${TARGET}")
    message(FATAL_ERROR "septune_add_kernels: ${TARGET} is not a target")
  endif()
  get_filename_component(model "${MODEL}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
  get_filename_component(out "${OUT}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_BINARY_DIR}")
  if(NOT EXISTS "${model}" OR IS_DIRECTORY "${model}")
    message(FATAL_ERROR "septune_add_kernels: model file ${model} does not exist")
  endif()

  # The tool: the installed package's imported target, or a path.
  set(tool "${ARG_TOOL}")
  if(NOT tool)
    if(TARGET septune::septune_tool)
      set(tool septune::septune_tool)
    elseif(SEPTUNE_EXECUTABLE)
      set(tool "${SEPTUNE_EXECUTABLE}")
    else()
      message(FATAL_ERROR "septune_add_kernels: no septune tool: find_package(septune) first, or pass TOOL")
    endif()
  endif()
  # A function sees its caller's variables: start from clean ones.
  set(db "")
  if(TARGET "${tool}")
    get_target_property(imported "${tool}" IMPORTED)
    if(NOT imported)
      message(FATAL_ERROR "septune_add_kernels: TOOL ${tool} is built by this project; "
                          "--list needs a tool that exists at configure time (pass its path)")
    endif()
    set(tool_command "$<TARGET_FILE:${tool}>")
    get_target_property(tool_path "${tool}" IMPORTED_LOCATION)
  else()
    set(tool_command "${tool}")
    set(tool_path "${tool}")
  endif()

  set(emit_args emit --model "${model}" --out "${out}")
  if(ARG_NAME)
    list(APPEND emit_args --name "${ARG_NAME}")
  endif()
  set(depends "${model}" "${tool}")
  set(db_args "")
  if(DB STREQUAL "NONE")
    set(db_args --no-db)
  elseif(NOT DB STREQUAL "")
    get_filename_component(db "${DB}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
    if(NOT EXISTS "${db}" OR IS_DIRECTORY "${db}")
      message(FATAL_ERROR "septune_add_kernels: tuning database ${db} does not exist (pass \"\" or NONE for none)")
    endif()
    list(APPEND depends "${db}")
    set(db_args --db "${db}")
  endif()
  # MODEL decides which files there are.
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${model}")

  # Ask the installed tool which files it will write. --list reads neither
  # the database nor the generator: only MODEL and NAME matter.
  execute_process(COMMAND "${tool_path}" ${emit_args} --list
    OUTPUT_VARIABLE listed ERROR_VARIABLE error RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    string(STRIP "${error}" error)
    string(JOIN " " command "${tool_path}" ${emit_args} --list)
    message(FATAL_ERROR "septune_add_kernels(${TARGET}): `${command}` failed (${rc}):\n${error}")
  endif()
  string(REGEX MATCHALL "[^\n]+" names "${listed}")
  set(outputs "")
  set(sources "")
  foreach(name IN LISTS names)
    list(APPEND outputs "${out}/${name}")
    if(name MATCHES "\\.c$")
      list(APPEND sources "${out}/${name}")
    endif()
  endforeach()
  if(NOT sources)
    message(FATAL_ERROR "septune_add_kernels(${TARGET}): `septune emit --list` named no source file")
  endif()
  # A newer tool may name its files otherwise.
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${tool_path}")
  set(build_args ${emit_args} ${db_args})
  if(ARG_ISA)
    list(APPEND build_args --isa "${ARG_ISA}")
  endif()
  if(ARG_THREADS)
    list(APPEND build_args --threads "${ARG_THREADS}")
  endif()
  add_custom_command(OUTPUT ${outputs}
    COMMAND "${tool_command}" ${build_args}
    DEPENDS ${depends}
    COMMENT "septune emit: kernels of ${MODEL} for ${TARGET}"
    VERBATIM)
  target_sources(${TARGET} PRIVATE ${sources})
  target_include_directories(${TARGET} PRIVATE "${out}")
endfunction()
