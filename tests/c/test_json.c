/*
 * test_json.c — the JSON writer of the septune command (tuner/lib/json.c):
 * commas and nesting, escaping, bytes that are not UTF-8, numbers JSON
 * cannot carry, and the format header of every document.
 */
#define _GNU_SOURCE /* open_memstream */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "json.h"

/* The document `build` writes, as a malloc'd string. */
static char *document(void (*build)(json_writer *w))
{
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  assert_non_null(f);
  json_writer w;
  json_document_begin(&w, f, "test");
  build(&w);
  assert_int_equal(json_document_end(&w), 0);
  fclose(f);
  return text;
}

static void build_nested(json_writer *w)
{
  json_key(w, "a");
  json_array_begin(w);
  json_int(w, 1);
  json_object_begin(w);
  json_key_bool(w, "t", 1);
  json_key(w, "n");
  json_null(w);
  json_object_end(w);
  json_array_begin(w);
  json_array_end(w);
  json_uint(w, 18446744073709551615ull);
  json_array_end(w);
  json_key_int(w, "b", -7);
}

static void nesting_and_commas(void **state)
{
  (void)state;
  char *s = document(build_nested);
  assert_string_equal(s, "{\"format\":\"septune-test\",\"format_version\":1,"
                         "\"a\":[1,{\"t\":true,\"n\":null},[],18446744073709551615],\"b\":-7}\n");
  free(s);
}

static void build_strings(json_writer *w)
{
  json_key_string(w, "quote", "a\"b\\c");
  json_key_string(w, "control", "l1\nl2\tx\001\177");
  json_key_string(w, "utf8", "caf\xc3\xa9 \xf0\x9f\x98\x80");
  json_key_string(w, "latin1", "caf\xe9");
  json_key_string(w, "broken", "\xff\xc3(\xed\xa0\x80\xf4\x90\x80\x80\xc0\xaf");
  json_key_string(w, "null", NULL);
}

static void strings_escaped_and_valid_utf8(void **state)
{
  (void)state;
  char *s = document(build_strings);
  assert_non_null(strstr(s, "\"quote\":\"a\\\"b\\\\c\""));
  assert_non_null(strstr(s, "\"control\":\"l1\\nl2\\tx\\u0001\\u007f\""));
  /* Valid UTF-8 passes through as it is. */
  assert_non_null(strstr(s, "\"utf8\":\"caf\xc3\xa9 \xf0\x9f\x98\x80\""));
  /* Every byte of an invalid sequence becomes U+FFFD: a lone high byte, a
   * truncated sequence, a surrogate, a code point past U+10FFFF, an
   * overlong form. */
  assert_non_null(strstr(s, "\"latin1\":\"caf\\ufffd\""));
  assert_non_null(strstr(s, "\"broken\":\"\\ufffd\\ufffd(\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd"
                            "\\ufffd\\ufffd\""));
  assert_non_null(strstr(s, "\"null\":null"));
  /* No other byte above 0x7f: those of "é" (2) and the emoji (4) only. */
  int high = 0;
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) high += *p >= 0x80;
  assert_int_equal(high, 6);
  free(s);
}

static void build_numbers(json_writer *w)
{
  json_key_number(w, "x", 0.5);
  json_key_number(w, "nan", NAN);
  json_key_number(w, "inf", -INFINITY);
  json_key_number(w, "big", 1e300);
}

static void numbers(void **state)
{
  (void)state;
  char *s = document(build_numbers);
  assert_non_null(strstr(s, "\"x\":0.5,\"nan\":null,\"inf\":null,\"big\":1e+300}"));
  free(s);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(nesting_and_commas),
    cmocka_unit_test(strings_escaped_and_valid_utf8),
    cmocka_unit_test(numbers),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
