/* anogan-tool-image.h: reading and writing pictures for the command-line
 * tools, with gdk-pixbuf
 *
 * Copyright (C) 2026 the gst-anogan authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gdk-pixbuf/gdk-pixbuf.h>

#include "anogan-tiling.h"

G_BEGIN_DECLS

/**
 * AnoganToolImage:
 * @pixbuf: the decoded picture (owned)
 * @pixels: its first byte
 * @width: width in pixels
 * @height: height in pixels
 * @layout: where its samples are, for anogan_extract_patches()
 *
 * A decoded picture, ready for tiling.
 */
typedef struct {
  GdkPixbuf *pixbuf;
  const guint8 *pixels;
  int width;
  int height;
  AnoganPixelLayout layout;
} AnoganToolImage;

gboolean anogan_tool_image_load (AnoganToolImage *image, const char *path,
    GError **error);
void anogan_tool_image_clear (AnoganToolImage *image);

gboolean anogan_tool_save_map_png (const float *map, int width, int height,
    const char *path, GError **error);

G_END_DECLS
