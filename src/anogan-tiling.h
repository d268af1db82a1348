/* anogan-tiling.h: cutting pictures into model-sized patches
 *
 * Copyright (C) 2026 the gst-anogan authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * AnoganTiling:
 * @width: width of the area tiled
 * @height: height of the area tiled
 * @tile_width: width of a tile (the model's input width)
 * @tile_height: height of a tile
 * @columns: tiles across
 * @rows: tiles down
 * @xs: left edge of each column, @columns entries
 * @ys: top edge of each row, @rows entries
 *
 * Tiles step by the stride from the top left; the last column and row are
 * aligned to the right and bottom border, so every pixel is covered and no
 * tile reaches outside.  Tile (col, row) is number row·columns + col.
 */
typedef struct {
  int width;
  int height;
  int tile_width;
  int tile_height;
  int columns;
  int rows;
  int *xs;
  int *ys;
} AnoganTiling;

gboolean anogan_tiling_init (AnoganTiling *tiling, int width, int height,
    int tile_width, int tile_height, int stride_x, int stride_y,
    GError **error);
void anogan_tiling_clear (AnoganTiling *tiling);
int anogan_tiling_count (const AnoganTiling *tiling);

/**
 * AnoganPixelLayout:
 * @components: 1 (grey) or 3 (colour)
 * @offsets: byte offset of R, G, B (or of the grey value) in a pixel
 * @pixel_stride: bytes from one pixel to the next
 * @row_stride: bytes from one row to the next
 *
 * Where the 8-bit samples of a packed picture are, so that any packed
 * format (GRAY8, RGB, BGRx, ARGB, ...) or one plane can be read.
 */
typedef struct {
  int components;
  int offsets[3];
  int pixel_stride;
  int row_stride;
} AnoganPixelLayout;

void anogan_extract_patch (const guint8 *pixels,
    const AnoganPixelLayout *layout, int x, int y, int channels, int height,
    int width, float *out);
void anogan_extract_patches (const guint8 *pixels,
    const AnoganPixelLayout *layout, const AnoganTiling *tiling,
    int channels, float *out);
void anogan_accumulate_residual (const AnoganTiling *tiling, int channels,
    const float *residual_maps, float *picture_map);

G_END_DECLS
