/* anogan-json-check.c: limits on JSON text read from files
 *
 * Copyright (C) 2026 the gst-anogan authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * json-glib parses whatever it is given, and a file can make that costly:
 * it recurses once per level of nesting (a hundred thousand levels
 * overflow the stack), finds a repeated key of an object by walking the
 * object's keys (a megabyte of repeated keys takes seconds, a header of
 * the largest size hours), builds a node of a hundred bytes or so for a
 * value of two, wraps integers beyond 64 bits (-18446744073709551611 reads
 * as 5), and takes comments and single quotes.  Text from a file is
 * therefore checked first, in one pass that recurses at most
 * ANOGAN_JSON_MAX_DEPTH levels: it must be strict JSON (RFC 8259), which
 * json-glib reads as this check does, with every number in range and no
 * key twice in an object, and stay within the limits.
 */
#include "anogan-json-check.h"

#include <math.h>
#include <stdarg.h>
#include <string.h>

typedef struct {
  const char *text, *p, *end;
  const char *what;             /* "header", for the messages */
  int depth;
  guint values;
  char *problem;
} Scan;

static gboolean refuse (Scan *s, const char *format, ...) G_GNUC_PRINTF (2, 3);

/* Records the first problem, with where it is; returns FALSE. */
static gboolean
refuse (Scan *s, const char *format, ...)
{
  va_list args;
  va_start (args, format);
  char *problem = g_strdup_vprintf (format, args);
  va_end (args);
  s->problem = g_strdup_printf ("%s %s (byte %" G_GSIZE_FORMAT ")", s->what,
      problem, (gsize) (s->p - s->text));
  g_free (problem);
  return FALSE;
}

static gboolean
syntax_error (Scan *s, const char *expected)
{
  if (s->p >= s->end)
    return refuse (s, "is not JSON: %s expected, found the end", expected);
  guchar c = *s->p;
  if (g_ascii_isgraph (c))
    return refuse (s, "is not JSON: %s expected, found '%c'", expected, c);
  return refuse (s, "is not JSON: %s expected, found byte 0x%02x", expected,
      c);
}

static void
skip_space (Scan *s)
{
  while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n'
          || *s->p == '\r'))
    s->p++;
}

static gboolean
accept (Scan *s, char c)
{
  skip_space (s);
  if (s->p >= s->end || *s->p != c)
    return FALSE;
  s->p++;
  return TRUE;
}

/* ---- Strings ---- */

/* Four hex digits, or -1. */
static int
read_hex4 (Scan *s)
{
  if (s->end - s->p < 4)
    return -1;
  int value = 0;
  for (int i = 0; i < 4; i++) {
    int digit = g_ascii_xdigit_value (s->p[i]);
    if (digit < 0)
      return -1;
    value = value * 16 + digit;
  }
  s->p += 4;
  return value;
}

/* A \u escape, s->p past the 'u'.  Half a surrogate pair has no meaning
 * as a character, and json-glib makes bytes of it that are not UTF-8. */
static gboolean
scan_unicode_escape (Scan *s, GString *out)
{
  int unit = read_hex4 (s);
  if (unit < 0)
    return refuse (s, "is not JSON: bad \\u escape");
  gunichar c = unit;
  if (unit >= 0xd800 && unit <= 0xdbff && s->end - s->p >= 2
      && s->p[0] == '\\' && s->p[1] == 'u') {
    s->p += 2;
    int low = read_hex4 (s);
    if (low >= 0xdc00 && low <= 0xdfff)
      c = 0x10000 + ((unit - 0xd800) << 10) + (low - 0xdc00);
  }
  if (c >= 0xd800 && c <= 0xdfff)
    return refuse (s, "has half a surrogate pair in a \\u escape");
  if (out != NULL)
    g_string_append_unichar (out, c);
  return TRUE;
}

/* A string, s->p at its opening quote; its characters go to @out unless
 * that is NULL.  The text is UTF-8 already. */
static gboolean
scan_string (Scan *s, GString *out)
{
  static const char escapes[] = "\"\\/bfnrt", meanings[] = "\"\\/\b\f\n\r\t";
  s->p++;
  while (s->p < s->end) {
    guchar c = *s->p;
    if (c == '"') {
      s->p++;
      return TRUE;
    }
    if (c < 0x20)
      return refuse (s, "is not JSON: control character in a string");
    s->p++;
    if (c != '\\') {
      if (out != NULL)
        g_string_append_c (out, c);
      continue;
    }
    char e = s->p < s->end ? *s->p++ : '\0';
    const char *known = e != '\0' ? strchr (escapes, e) : NULL;
    if (e == 'u' && !scan_unicode_escape (s, out))
      return FALSE;
    if (e != 'u' && known == NULL)
      return refuse (s, "is not JSON: bad escape in a string");
    if (e != 'u' && out != NULL)
      g_string_append_c (out, meanings[known - escapes]);
  }
  return refuse (s, "is not JSON: unterminated string");
}

/* ---- Numbers and literals ---- */

static gboolean
skip_digits (Scan *s)
{
  if (s->p >= s->end || !g_ascii_isdigit (*s->p))
    return syntax_error (s, "a digit");
  while (s->p < s->end && g_ascii_isdigit (*s->p))
    s->p++;
  return TRUE;
}

/* An integer must fit in 64 bits, any other number in a double. */
static gboolean
check_number_range (Scan *s, const char *start, gboolean integer)
{
  g_autofree char *token = g_strndup (start, s->p - start);
  gint64 v;
  if (integer ? g_ascii_string_to_signed (token, 10, G_MININT64, G_MAXINT64,
          &v, NULL) : isfinite (g_ascii_strtod (token, NULL)))
    return TRUE;
  s->p = start;
  return refuse (s, "has the number %.40s%s, beyond the range of %s", token,
      strlen (token) > 40 ? "..." : "", integer ? "a 64-bit integer"
      : "a double");
}

/* A number as RFC 8259 spells it: no '+', no leading zero, no bare '.'. */
static gboolean
scan_number (Scan *s)
{
  const char *start = s->p;
  gboolean integer = TRUE;
  if (*s->p == '-')
    s->p++;
  if (s->p < s->end && *s->p == '0')
    s->p++;
  else if (!skip_digits (s))
    return FALSE;
  if (s->p < s->end && *s->p == '.') {
    s->p++;
    integer = FALSE;
    if (!skip_digits (s))
      return FALSE;
  }
  if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
    s->p++;
    integer = FALSE;
    if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
      s->p++;
    if (!skip_digits (s))
      return FALSE;
  }
  return check_number_range (s, start, integer);
}

static gboolean
scan_literal (Scan *s)
{
  static const char *const literals[] = { "true", "false", "null" };
  for (gsize i = 0; i < G_N_ELEMENTS (literals); i++) {
    gsize n = strlen (literals[i]);
    if ((gsize) (s->end - s->p) >= n && memcmp (s->p, literals[i], n) == 0) {
      s->p += n;
      return TRUE;
    }
  }
  return syntax_error (s, "a value");
}

/* ---- Arrays and objects ---- */

static gboolean scan_value (Scan *s);

static gboolean
enter (Scan *s)
{
  if (s->depth == ANOGAN_JSON_MAX_DEPTH)
    return refuse (s, "nests arrays and objects more than %d deep",
        ANOGAN_JSON_MAX_DEPTH);
  s->depth++;
  s->p++;
  return TRUE;
}

static gboolean
scan_array (Scan *s)
{
  if (!enter (s))
    return FALSE;
  if (!accept (s, ']')) {
    do {
      if (!scan_value (s))
        return FALSE;
    } while (accept (s, ','));
    if (!accept (s, ']'))
      return syntax_error (s, "',' or ']'");
  }
  s->depth--;
  return TRUE;
}

/* A key of an object, which must differ from its others as json-glib
 * compares them: decoded, and up to a first NUL. */
static gboolean
scan_key (Scan *s, GHashTable *keys)
{
  skip_space (s);
  if (s->p >= s->end || *s->p != '"')
    return syntax_error (s, "a string key");
  const char *start = s->p;
  GString *key = g_string_new (NULL);
  if (!scan_string (s, key)) {
    g_string_free (key, TRUE);
    return FALSE;
  }
  char *name = g_string_free (key, FALSE);
  if (!g_hash_table_contains (keys, name)) {
    g_hash_table_add (keys, name);
    return TRUE;
  }
  g_autofree char *shown = g_strescape (name, NULL);
  g_free (name);
  s->p = start;
  return refuse (s, "has the key \"%.40s%s\" twice in one object", shown,
      strlen (shown) > 40 ? "..." : "");
}

static gboolean
scan_object (Scan *s)
{
  if (!enter (s))
    return FALSE;
  if (accept (s, '}')) {
    s->depth--;
    return TRUE;
  }
  GHashTable *keys = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      NULL);
  gboolean ok;
  do {
    ok = scan_key (s, keys) && (accept (s, ':') || syntax_error (s, "':'"))
        && scan_value (s);
  } while (ok && accept (s, ','));
  g_hash_table_unref (keys);
  if (ok && !accept (s, '}'))
    ok = syntax_error (s, "',' or '}'");
  s->depth--;
  return ok;
}

static gboolean
scan_value (Scan *s)
{
  skip_space (s);
  if (++s->values > ANOGAN_JSON_MAX_VALUES)
    return refuse (s, "holds more than %d values", ANOGAN_JSON_MAX_VALUES);
  if (s->p >= s->end)
    return syntax_error (s, "a value");
  if (*s->p == '-' || g_ascii_isdigit (*s->p))
    return scan_number (s);
  switch (*s->p) {
    case '{':
      return scan_object (s);
    case '[':
      return scan_array (s);
    case '"':
      return scan_string (s, NULL);
    default:
      return scan_literal (s);
  }
}

/**
 * anogan_json_check:
 * @text: JSON text from a file
 * @length: its length in bytes
 * @what: what to call it in the message ("header")
 *
 * Checks, before json-glib parses @text, that it is strict JSON (RFC
 * 8259, UTF-8, no comments, no single quotes), nested at most
 * %ANOGAN_JSON_MAX_DEPTH deep, with at most %ANOGAN_JSON_MAX_VALUES
 * values, every integer within 64 bits and every other number within a
 * double, and no key twice in one object.  The pass takes time linear in
 * @length and recurses no deeper than the limit.
 *
 * Returns: (transfer full) (nullable): %NULL when @text passes, else what
 *   is wrong, starting with @what ("header nests arrays and objects more
 *   than 64 deep (byte 72)")
 */
char *
anogan_json_check (const char *text, gsize length, const char *what)
{
  g_return_val_if_fail (text != NULL || length == 0, NULL);
  g_return_val_if_fail (what != NULL, NULL);

  Scan s = { text, text, text + length, what, 0, 0, NULL };
  if (length > 0 && !g_utf8_validate (text, length, NULL))
    return g_strdup_printf ("%s is not JSON: not UTF-8", what);
  if (scan_value (&s)) {
    skip_space (&s);
    if (s.p < s.end)
      syntax_error (&s, "the end");
  }
  return s.problem;
}
