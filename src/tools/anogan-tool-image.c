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

/* gdk-pixbuf names the file when it cannot open or recognise it, but a
 * loader that fails half-way ("Fatal error reading PNG image file: ...")
 * does not; a list of pictures then needs the name to find the bad one. */
static void
name_file_in_error (GError **error, const char *path)
{
  g_autofree char *shown = NULL;

  if (!error || !*error)
    return;
  shown = g_filename_display_name (path);
  if (!strstr ((*error)->message, shown))
    g_prefix_error (error, "%s: ", shown);
}

/* A one- or three-component layout of packed samples, for pictures whose
 * pixels are in image->buffer. */
static void
set_packed_layout (AnoganToolImage *image, int components)
{
  memset (&image->layout, 0, sizeof image->layout);
  image->layout.components = components;
  image->layout.pixel_stride = components;
  image->layout.row_stride = image->width * components;
  for (int c = 0; c < components; c++)
    image->layout.offsets[c] = c;
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
  if (!decoded) {
    name_file_in_error (error, path);
    return FALSE;
  }

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
  g_free (image->buffer);
  memset (image, 0, sizeof *image);
}

/**
 * anogan_tool_image_take_packed:
 * @image: (out caller-allocates): where to put the picture
 * @pixels: (transfer full): @width × @height pixels of @components bytes,
 *   row after row with no gap, allocated with g_malloc()
 * @width: width in pixels
 * @height: height in pixels
 * @components: 1 (grey) or 3 (R, G, B)
 *
 * Makes @image the owner of @pixels; anogan_tool_image_clear() frees them.
 */
void
anogan_tool_image_take_packed (AnoganToolImage *image, guint8 *pixels,
    int width, int height, int components)
{
  g_return_if_fail (components == 1 || components == 3);

  memset (image, 0, sizeof *image);
  image->buffer = pixels;
  image->pixels = pixels;
  image->width = width;
  image->height = height;
  set_packed_layout (image, components);
}

/**
 * anogan_tool_image_copy_rgb:
 * @image: (out caller-allocates): where to put the picture
 * @rgb: @height rows of @width R, G, B triplets
 * @width: width in pixels
 * @height: height in pixels
 * @row_stride: bytes from one row of @rgb to the next
 *
 * Copies an RGB picture (a decoded video frame, say) into pixels @image
 * owns.  A picture whose pixels are all grey is kept as one byte per
 * pixel, as anogan_tool_image_load() presents grey files, which also
 * takes a third of the memory when a video's frames pile up.
 */
void
anogan_tool_image_copy_rgb (AnoganToolImage *image, const guint8 *rgb,
    int width, int height, int row_stride)
{
  const int components = is_grey (rgb, width, height, 3, row_stride) ? 1 : 3;
  guint8 *pixels = g_malloc ((gsize) width * height * components);

  for (int y = 0; y < height; y++) {
    const guint8 *src = rgb + (gsize) y * row_stride;
    guint8 *dst = pixels + (gsize) y * width * components;
    if (components == 3)
      memcpy (dst, src, (gsize) width * 3);
    else
      for (int x = 0; x < width; x++)
        dst[x] = src[3 * x];
  }
  anogan_tool_image_take_packed (image, pixels, width, height, components);
}

/**
 * anogan_tool_image_pad:
 * @image: a picture
 * @min_width: the smallest width wanted
 * @min_height: the smallest height wanted
 *
 * Pads a picture narrower than @min_width or lower than @min_height with
 * black (sample 0) around it, centred: a 28x28 picture padded to 32x32
 * gets 2 pixels on every side; an odd margin puts the extra pixel right
 * and below.  The padded picture keeps the number of components and owns
 * its pixels.  A picture already large enough is left as it is.
 */
void
anogan_tool_image_pad (AnoganToolImage *image, int min_width, int min_height)
{
  const AnoganPixelLayout *in = &image->layout;
  const int components = in->components;
  const int width = MAX (image->width, min_width);
  const int height = MAX (image->height, min_height);
  const int left = (width - image->width) / 2;
  const int top = (height - image->height) / 2;
  guint8 *pixels;

  if (width == image->width && height == image->height)
    return;

  pixels = g_malloc0 ((gsize) width * height * components);
  for (int y = 0; y < image->height; y++) {
    const guint8 *src = image->pixels + (gsize) y * in->row_stride;
    guint8 *dst = pixels +
        ((gsize) (top + y) * width + left) * components;
    for (int x = 0; x < image->width; x++, src += in->pixel_stride)
      for (int c = 0; c < components; c++)
        *dst++ = src[in->offsets[c]];
  }

  anogan_tool_image_clear (image);
  anogan_tool_image_take_packed (image, pixels, width, height, components);
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
