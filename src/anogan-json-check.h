/* anogan-json-check.h: limits on JSON text read from files
 *
 * Copyright (C) 2026 the gst-anogan authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * ANOGAN_JSON_MAX_DEPTH:
 *
 * How deep arrays and objects may nest in JSON text that
 * anogan_json_check() accepts.
 */
#define ANOGAN_JSON_MAX_DEPTH 64

/**
 * ANOGAN_JSON_MAX_VALUES:
 *
 * How many values (numbers, strings, literals, arrays and objects, at any
 * depth) JSON text that anogan_json_check() accepts may hold.
 */
#define ANOGAN_JSON_MAX_VALUES (1 << 20)

char *anogan_json_check (const char *text, gsize length, const char *what);

G_END_DECLS
