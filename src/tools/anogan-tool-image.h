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
 * @pixbuf: the decoded picture (owned), or %NULL when the pixels are in
 *   @buffer
 * @buffer: packed pixels not from a #GdkPixbuf (owned, g_free'd), or %NULL
 * @pixels: the first byte of the picture, in @pixbuf or @buffer
 * @width: width in pixels
 * @height: height in pixels
 * @layout: where its samples are, for anogan_extract_patches()
 *
 * A decoded picture, ready for tiling.  Its pixels are either a
 * #GdkPixbuf's (pictures read from files) or a plain buffer (IDX records,
 * video frames, padded pictures); anogan_tool_image_clear() releases
 * whichever it holds.
 */
typedef struct {
  GdkPixbuf *pixbuf;
  guint8 *buffer;
  const guint8 *pixels;
  int width;
  int height;
  AnoganPixelLayout layout;
} AnoganToolImage;

gboolean anogan_tool_image_load (AnoganToolImage *image, const char *path,
    GError **error);
void anogan_tool_image_clear (AnoganToolImage *image);

void anogan_tool_image_take_packed (AnoganToolImage *image, guint8 *pixels,
    int width, int height, int components);
void anogan_tool_image_copy_rgb (AnoganToolImage *image, const guint8 *rgb,
    int width, int height, int row_stride);
void anogan_tool_image_pad (AnoganToolImage *image, int min_width,
    int min_height);

gboolean anogan_tool_save_map_png (const float *map, int width, int height,
    const char *path, GError **error);

G_END_DECLS
