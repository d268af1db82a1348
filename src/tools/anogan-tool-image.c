/* anogan-tool-image.c: reading and writing pictures for the command-line
 * tools, with gdk-pixbuf
 *
 * Copyright (C) 2026 the gst-anogan authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "anogan-tool-image.h"

#include <math.h>
#include <string.h>

/* gdk-pixbuf decodes grey files as RGB.  Presenting such pictures as grey
 * again gives a one-channel model the exact samples instead of a luma
 * computed from three equal ones. */
static gboolean
is_grey (const guint8 *pixels, int width, int height, int pixel_stride,
    int row_stride)
{
  for (int y = 0; y < height; y++) {
    const guint8 *p = pixels + (gsize) y * row_stride;
    for (int x = 0; x < width; x++, p += pixel_stride)
      if (p[0] != p[1] || p[0] != p[2])
        return FALSE;
  }
  return TRUE;
}

/**
 * anogan_tool_image_load:
 * @image: (out caller-allocates): where to put the picture
 * @path: a file gdk-pixbuf can decode (PNG, JPEG, ...)
 * @error: return location for a #GError
 *
 * Decodes @path, turned upright as its EXIF orientation says.  Alpha is
 * ignored: the model sees the colour samples as they are.  Pictures whose
 * pixels are all grey get a one-component layout.
 *
 * Returns: %FALSE if the file cannot be read or decoded; @image is then
 * empty (safe to clear)
 */
gboolean
anogan_tool_image_load (AnoganToolImage *image, const char *path,
    GError **error)
{
  g_autoptr (GdkPixbuf) decoded = NULL;
  GdkPixbuf *upright;
  int channels;

  memset (image, 0, sizeof *image);

  decoded = gdk_pixbuf_new_from_file (path, error);
  if (!decoded)
    return FALSE;

  channels = gdk_pixbuf_get_n_channels (decoded);
  if (gdk_pixbuf_get_colorspace (decoded) != GDK_COLORSPACE_RGB ||
      gdk_pixbuf_get_bits_per_sample (decoded) != 8 || channels < 3) {
    g_set_error (error, GDK_PIXBUF_ERROR, GDK_PIXBUF_ERROR_UNKNOWN_TYPE,
        "%s: not an 8-bit RGB picture once decoded", path);
    return FALSE;
  }

  upright = gdk_pixbuf_apply_embedded_orientation (decoded);
  image->pixbuf = upright;
  image->pixels = gdk_pixbuf_read_pixels (upright);
  image->width = gdk_pixbuf_get_width (upright);
  image->height = gdk_pixbuf_get_height (upright);
  image->layout.pixel_stride = channels;
  image->layout.row_stride = gdk_pixbuf_get_rowstride (upright);

  if (is_grey (image->pixels, image->width, image->height, channels,
          image->layout.row_stride)) {
    image->layout.components = 1;
  } else {
    image->layout.components = 3;
    image->layout.offsets[1] = 1;
    image->layout.offsets[2] = 2;
  }
  return TRUE;
}

/**
 * anogan_tool_image_clear:
 * @image: a picture
 *
 * Releases the picture and empties @image.
 */
void
anogan_tool_image_clear (AnoganToolImage *image)
{
  g_clear_object (&image->pixbuf);
  memset (image, 0, sizeof *image);
}

/**
 * anogan_tool_save_map_png:
 * @map: @width × @height non-negative floats, row by row
 * @width: width of the map
 * @height: height of the map
 * @path: the PNG file to write
 * @error: return location for a #GError
 *
 * Writes @map as a grey PNG, scaled so that its largest value is white and
 * zero black.  The scale is the map's own, so the picture shows where the
 * residual is, not how large it is compared to other pictures.
 *
 * Returns: %FALSE if the file could not be written
 */
gboolean
anogan_tool_save_map_png (const float *map, int width, int height,
    const char *path, GError **error)
{
  g_autoptr (GdkPixbuf) out = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8,
      width, height);
  guint8 *pixels;
  int row_stride;
  float top = 0.0f, scale;

  if (!out) {
    g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOMEM,
        "%s: no memory for a %dx%d picture", path, width, height);
    return FALSE;
  }
  pixels = gdk_pixbuf_get_pixels (out);
  row_stride = gdk_pixbuf_get_rowstride (out);

  for (gsize i = 0; i < (gsize) width * height; i++)
    if (isfinite (map[i]))
      top = MAX (top, map[i]);
  scale = top > 0.0f ? 255.0f / top : 0.0f;

  for (int y = 0; y < height; y++) {
    guint8 *p = pixels + (gsize) y * row_stride;
    const float *m = map + (gsize) y * width;
    for (int x = 0; x < width; x++, p += 3) {
      float v = isfinite (m[x]) ? CLAMP (m[x] * scale, 0.0f, 255.0f) : 255.0f;
      p[0] = p[1] = p[2] = (guint8) lrintf (v);
    }
  }

  return gdk_pixbuf_save (out, path, "png", error, NULL);
}
