# EmbedText.cmake — run as a script (cmake -DINPUT=... -DOUTPUT=... -DNAME=...
# -P EmbedText.cmake): writes OUTPUT, a C fragment defining
#   static const char *const NAME[] = { "line 1\n", "line 2\n", ..., 0 };
# holding the text of INPUT line by line. One literal per line keeps every
# literal far below the 4095 characters C99 promises a compiler handles.
# OUTPUT is only replaced when its text changes, so that an unrelated
# touch of INPUT does not rebuild what includes it.
if(NOT INPUT OR NOT OUTPUT OR NOT NAME)
  message(FATAL_ERROR "EmbedText.cmake: set INPUT, OUTPUT and NAME")
endif()
file(READ "${INPUT}" text)
# Escapes first, then one literal per line. '?' is escaped so that no "??x"
# in the text can form a trigraph.
string(REPLACE "\\" "\\\\" text "${text}")
string(REPLACE "\"" "\\\"" text "${text}")
string(REPLACE "?" "\\?" text "${text}")
string(REPLACE "\t" "\\t" text "${text}")
string(REPLACE "\r" "\\r" text "${text}")
string(REPLACE "\n" "\\n\",\n  \"" text "${text}")
file(WRITE "${OUTPUT}.tmp"
  "/* Generated from ${INPUT} by cmake/EmbedText.cmake. Do not edit. */\n"
  "static const char *const ${NAME}[] = {\n  \"${text}\",\n  0\n};\n")
execute_process(COMMAND "${CMAKE_COMMAND}" -E copy_if_different "${OUTPUT}.tmp" "${OUTPUT}")
file(REMOVE "${OUTPUT}.tmp")
