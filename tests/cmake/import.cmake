# ---- septune import: ONNX models made by real exporters (owner:
# tuner/lib/onnx_*.c, tuner/cmd_import.c, tests/import/). make_models.py runs
# first (a fixture) with Debian's Python, which has python3-torch,
# python3-torchvision and python3-onnx (scripts/setup.sh): torch.onnx.export
# of torchvision's networks with random weights, small graphs built with the
# onnx package, and PyTorch's outputs to compare with.
set(SEPTUNE_TEST_PYTHON "/usr/bin/python3" CACHE FILEPATH
  "The Python with torch, torchvision and onnx that makes the import tests' models (Debian's)")
set(_septune_onnx_models "${CMAKE_CURRENT_BINARY_DIR}/onnx_models")
add_test(NAME import_make_models
  COMMAND "${SEPTUNE_TEST_PYTHON}" "${CMAKE_CURRENT_SOURCE_DIR}/import/make_models.py" "${_septune_onnx_models}")
set_tests_properties(import_make_models PROPERTIES FIXTURES_SETUP onnx_models TIMEOUT 300)

add_executable(test_import "${CMAKE_CURRENT_SOURCE_DIR}/import/test_import.c")
target_include_directories(test_import PRIVATE "${CMAKE_SOURCE_DIR}/runtime/internal")
target_compile_definitions(test_import PRIVATE SEPTUNE_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
target_link_libraries(test_import PRIVATE septune_tuner CMocka::CMocka m)
add_test(NAME test_import COMMAND test_import)
set_tests_properties(test_import PROPERTIES FIXTURES_REQUIRED onnx_models TIMEOUT 300
  ENVIRONMENT "SEPTUNE_DB=;SEPTUNE_ONNX_MODELS=${_septune_onnx_models}")

add_test(NAME lua_test_cli_import COMMAND ${LUAJIT_EXECUTABLE} "${CMAKE_CURRENT_SOURCE_DIR}/import/test_cli_import.lua")
set_tests_properties(lua_test_cli_import PROPERTIES FIXTURES_REQUIRED onnx_models TIMEOUT 600
  ENVIRONMENT "LUA_PATH=${CMAKE_CURRENT_SOURCE_DIR}/lua/?.lua\;;SEPTUNE_DB=;SEPTUNE_TMPDIR=${CMAKE_CURRENT_BINARY_DIR};SEPTUNE_BIN=$<TARGET_FILE:septune_cli>;SEPTUNE_ONNX_MODELS=${_septune_onnx_models};SEPTUNE_SOURCE_DIR=${CMAKE_SOURCE_DIR}")
