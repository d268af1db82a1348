/* anogan-tiling.c: cutting pictures into model-sized patches
 *
 * Copyright (C) 2026 the gst-anogan authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A model sees patches of a fixed size; pictures of any size are covered
 * by a grid of such tiles.  This file places the tiles, converts the 8-bit
 * samples under them into the model's floats, and combines the per-tile
 * residual maps back into one map of the picture.
 */
#include "anogan-tiling.h"

#include <gio/gio.h>
#include <string.h>

/* Model inputs are in [-1, 1], the range of the generator's tanh:
 * x = v / 127.5 - 1 for an 8-bit sample v. */
#define SAMPLE_SCALE (1.0f / 127.5f)

/* BT.601 luma weights, folded into the sample scale. */
#define LUMA_R (0.299f * SAMPLE_SCALE)
#define LUMA_G (0.587f * SAMPLE_SCALE)
#define LUMA_B (0.114f * SAMPLE_SCALE)

/* Tile origins along one axis: 0, stride, 2·stride, ... as long as the tile
 * fits, then one more flush with the far border if the regular steps left
 * pixels uncovered.  The extra origin is strictly greater than the last
 * regular one, so no position repeats. */
static int
place_tiles (int extent, int tile, int stride, int **origins)
{
  int regular = (extent - tile) / stride + 1;
  int last = (regular - 1) * stride;
  int n = last < extent - tile ? regular + 1 : regular;
  int *o = g_new (int, n);

  for (int i = 0; i < regular; i++)
    o[i] = i * stride;
  if (n > regular)
    o[regular] = extent - tile;

  *origins = o;
  return n;
}

static gboolean
check_axis (const char *axis, int extent, int tile, int stride,
    GError **error)
{
  if (tile < 1) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "Tile %s %d is not positive", axis, tile);
    return FALSE;
  }
  if (extent < tile) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "Picture %s %d is smaller than the tile %s %d", axis, extent, axis,
        tile);
    return FALSE;
  }
  if (stride < 1 || stride > tile) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "Stride %d along the %s must be between 1 and the tile %s %d, "
        "or pixels between tiles would be missed", stride, axis, axis, tile);
    return FALSE;
  }
  return TRUE;
}

/**
 * anogan_tiling_init:
 * @tiling: (out caller-allocates): the tiling to fill
 * @width: picture width in pixels
 * @height: picture height in pixels
 * @tile_width: tile width (the model's input width)
 * @tile_height: tile height
 * @stride_x: horizontal step between tiles, 1 to @tile_width
 * @stride_y: vertical step between tiles, 1 to @tile_height
 * @error: return location for a #GError
 *
 * Places tiles from the top left in steps of the stride, adding a last
 * column and row flush with the right and bottom border where the steps
 * do not reach it.  Every pixel is then inside some tile, no tile leaves
 * the picture and no two tiles share a position.
 *
 * Release with anogan_tiling_clear().  On failure @tiling is left empty
 * (safe to clear).
 *
 * Returns: %FALSE with %G_IO_ERROR_INVALID_ARGUMENT if the picture is
 * smaller than a tile or a stride is outside 1 .. tile size.
 */
gboolean
anogan_tiling_init (AnoganTiling *tiling, int width, int height,
    int tile_width, int tile_height, int stride_x, int stride_y,
    GError **error)
{
  memset (tiling, 0, sizeof *tiling);

  if (!check_axis ("width", width, tile_width, stride_x, error) ||
      !check_axis ("height", height, tile_height, stride_y, error))
    return FALSE;

  tiling->width = width;
  tiling->height = height;
  tiling->tile_width = tile_width;
  tiling->tile_height = tile_height;
  tiling->columns = place_tiles (width, tile_width, stride_x, &tiling->xs);
  tiling->rows = place_tiles (height, tile_height, stride_y, &tiling->ys);
  return TRUE;
}

/**
 * anogan_tiling_clear:
 * @tiling: a tiling
 *
 * Frees what anogan_tiling_init() allocated and empties @tiling.
 */
void
anogan_tiling_clear (AnoganTiling *tiling)
{
  g_free (tiling->xs);
  g_free (tiling->ys);
  memset (tiling, 0, sizeof *tiling);
}

/**
 * anogan_tiling_count:
 * @tiling: a tiling
 *
 * Returns: the number of tiles, columns × rows
 */
int
anogan_tiling_count (const AnoganTiling *tiling)
{
  return tiling->columns * tiling->rows;
}

static void
extract_plane (const guint8 *pixels, const AnoganPixelLayout *layout,
    int offset, int x, int y, int height, int width, float *out)
{
  const int ps = layout->pixel_stride;

  for (int r = 0; r < height; r++) {
    const guint8 *p = pixels + (gsize) (y + r) * layout->row_stride +
        (gsize) x * ps + offset;
    float *o = out + (gsize) r * width;
    for (int c = 0; c < width; c++)
      o[c] = p[(gsize) c * ps] * SAMPLE_SCALE - 1.0f;
  }
}

static void
extract_luma (const guint8 *pixels, const AnoganPixelLayout *layout,
    int x, int y, int height, int width, float *out)
{
  const int ps = layout->pixel_stride;
  const int ro = layout->offsets[0], go = layout->offsets[1],
      bo = layout->offsets[2];

  for (int r = 0; r < height; r++) {
    const guint8 *p = pixels + (gsize) (y + r) * layout->row_stride +
        (gsize) x * ps;
    float *o = out + (gsize) r * width;
    for (int c = 0; c < width; c++, p += ps)
      o[c] = LUMA_R * p[ro] + LUMA_G * p[go] + LUMA_B * p[bo] - 1.0f;
  }
}

/**
 * anogan_extract_patch:
 * @pixels: the picture's first byte
 * @layout: where the samples are
 * @x: left edge of the patch
 * @y: top edge of the patch
 * @channels: the model's channels, 1 or 3
 * @height: patch height
 * @width: patch width
 * @out: (out caller-allocates): @channels × @height × @width floats
 *
 * Converts the 8-bit samples of one patch to model inputs,
 * x = v / 127.5 - 1, plane by plane ([C][H][W]).  A one-channel model fed
 * colour gets BT.601 luma, 0.299 R + 0.587 G + 0.114 B, unrounded; a
 * three-channel model fed grey gets the grey value in all three planes.
 * The patch must lie inside the picture.
 */
void
anogan_extract_patch (const guint8 *pixels, const AnoganPixelLayout *layout,
    int x, int y, int channels, int height, int width, float *out)
{
  const gsize plane = (gsize) height * width;

  g_return_if_fail (channels == 1 || channels == 3);
  g_return_if_fail (layout->components == 1 || layout->components == 3);

  if (channels == 1 && layout->components == 3) {
    extract_luma (pixels, layout, x, y, height, width, out);
    return;
  }

  extract_plane (pixels, layout, layout->offsets[0], x, y, height, width, out);
  for (int c = 1; c < channels; c++) {
    if (layout->components == 1)
      memcpy (out + c * plane, out, plane * sizeof (float));
    else
      extract_plane (pixels, layout, layout->offsets[c], x, y, height, width,
          out + c * plane);
  }
}

/**
 * anogan_extract_patches:
 * @pixels: the picture's first byte
 * @layout: where the samples are
 * @tiling: the tiles, laid out on a picture of this size
 * @channels: the model's channels, 1 or 3
 * @out: (out caller-allocates): anogan_tiling_count() patches of
 *   @channels × tile height × tile width floats, NCHW
 *
 * anogan_extract_patch() for every tile, in tiling order.
 */
void
anogan_extract_patches (const guint8 *pixels, const AnoganPixelLayout *layout,
    const AnoganTiling *tiling, int channels, float *out)
{
  const gsize patch = (gsize) channels * tiling->tile_height *
      tiling->tile_width;

  for (int r = 0; r < tiling->rows; r++)
    for (int c = 0; c < tiling->columns; c++) {
      anogan_extract_patch (pixels, layout, tiling->xs[c], tiling->ys[r],
          channels, tiling->tile_height, tiling->tile_width, out);
      out += patch;
    }
}

/**
 * anogan_accumulate_residual:
 * @tiling: the tiles
 * @channels: channels of each residual map
 * @residual_maps: anogan_tiling_count() maps of @channels × tile height ×
 *   tile width floats (|x - G(z)|, NCHW), in tiling order
 * @picture_map: (out caller-allocates): width × height floats
 *
 * Combines per-tile residuals into one map of the picture: each pixel is
 * the mean over channels, and where tiles overlap the largest of their
 * values, so an anomaly seen by any tile stays visible.  @picture_map is
 * overwritten; since the tiles cover the picture, every pixel gets a value.
 */
void
anogan_accumulate_residual (const AnoganTiling *tiling, int channels,
    const float *residual_maps, float *picture_map)
{
  const int th = tiling->tile_height, tw = tiling->tile_width;
  const gsize plane = (gsize) th * tw;
  const float inv_channels = 1.0f / channels;

  /* Residuals are non-negative, so zero is a neutral start for max. */
  memset (picture_map, 0,
      (gsize) tiling->width * tiling->height * sizeof (float));

  for (int r = 0; r < tiling->rows; r++)
    for (int c = 0; c < tiling->columns; c++) {
      const float *map = residual_maps;
      float *dst = picture_map + (gsize) tiling->ys[r] * tiling->width +
          tiling->xs[c];

      for (int i = 0; i < th; i++, dst += tiling->width)
        for (int j = 0; j < tw; j++) {
          float sum = 0.0f;
          for (int k = 0; k < channels; k++)
            sum += map[k * plane + (gsize) i * tw + j];
          dst[j] = MAX (dst[j], sum * inv_channels);
        }
      residual_maps += channels * plane;
    }
}
