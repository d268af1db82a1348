/* test-tiling.c: tile placement, patch extraction, residual maps
 *
 * Copyright (C) 2026 the gst-anogan authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <gio/gio.h>
#include <math.h>
#include <string.h>

#include "anogan-test-util.h"
#include "anogan-tiling.h"

/* ---- placement ---------------------------------------------------------- */

/* Checks one axis of a tiling against the rules, independently of how the
 * library computes it: the first tile at 0, regular steps of the stride, the
 * last flush with the border, nothing outside, no repeats, every pixel
 * covered, and ceil((extent - tile) / stride) + 1 tiles. */
static void
check_axis (const char *what, const int *origins, int n, int extent,
    int tile, int stride)
{
  int expected = (extent - tile + stride - 1) / stride + 1;
  g_autofree guint8 *covered = g_malloc0 (extent);

  if (n != expected)
    g_error ("%s: %d tiles for extent %d, tile %d, stride %d; want %d",
        what, n, extent, tile, stride, expected);
  g_assert_cmpint (origins[0], ==, 0);
  g_assert_cmpint (origins[n - 1], ==, extent - tile);

  for (int i = 0; i < n; i++) {
    g_assert_cmpint (origins[i], >=, 0);
    g_assert_cmpint (origins[i] + tile, <=, extent);
    if (i > 0) {
      g_assert_cmpint (origins[i], >, origins[i - 1]);
      g_assert_cmpint (origins[i] - origins[i - 1], <=, stride);
    }
    if (i < n - 1)
      g_assert_cmpint (origins[i], ==, i * stride);
    for (int p = origins[i]; p < origins[i] + tile; p++)
      covered[p] = 1;
  }
  for (int p = 0; p < extent; p++)
    if (!covered[p])
      g_error ("%s: pixel %d not covered (extent %d, tile %d, stride %d)",
          what, p, extent, tile, stride);
}

static void
test_tiling_exhaustive_axes (void)
{
  int checked = 0;

  for (int extent = 1; extent <= 48; extent++)
    for (int tile = 1; tile <= MIN (extent, 13); tile++)
      for (int stride = 1; stride <= tile; stride++) {
        AnoganTiling t;
        GError *error = NULL;
        /* Width and height get different settings so that a mix-up of
         * the axes shows. */
        int h_extent = extent + 5, h_tile = MAX (1, tile - 1);
        int h_stride = MAX (1, h_tile / 2);

        g_assert_true (anogan_tiling_init (&t, extent, h_extent, tile, h_tile,
                stride, h_stride, &error));
        g_assert_no_error (error);
        g_assert_cmpint (t.width, ==, extent);
        g_assert_cmpint (t.height, ==, h_extent);
        g_assert_cmpint (t.tile_width, ==, tile);
        g_assert_cmpint (t.tile_height, ==, h_tile);
        check_axis ("columns", t.xs, t.columns, extent, tile, stride);
        check_axis ("rows", t.ys, t.rows, h_extent, h_tile, h_stride);
        g_assert_cmpint (anogan_tiling_count (&t), ==, t.columns * t.rows);
        anogan_tiling_clear (&t);
        g_assert_null (t.xs);
        checked++;

        /* The same along the vertical axis. */
        g_assert_true (anogan_tiling_init (&t, h_extent, extent, h_tile, tile,
                h_stride, stride, &error));
        check_axis ("rows", t.ys, t.rows, extent, tile, stride);
        anogan_tiling_clear (&t);
      }
  g_test_message ("%d tilings checked", checked);
}

/* Counts, pixel by pixel, how many tiles cover it, on awkward sizes. */
static void
test_tiling_covers_picture (void)
{
  static const int sizes[][6] = {
    /* width, height, tile w, tile h, stride x, stride y */
    { 37, 23, 8, 5, 3, 5 },
    { 64, 64, 32, 32, 32, 32 },
    { 65, 33, 32, 32, 32, 32 },
    { 100, 41, 32, 16, 7, 16 },
    { 32, 32, 32, 32, 1, 1 },
    { 45, 31, 9, 31, 9, 4 },
  };

  for (gsize s = 0; s < G_N_ELEMENTS (sizes); s++) {
    const int *z = sizes[s];
    AnoganTiling t;
    g_autofree int *cover = g_new0 (int, z[0] * z[1]);
    int n;

    g_assert_true (anogan_tiling_init (&t, z[0], z[1], z[2], z[3], z[4], z[5],
            NULL));
    n = anogan_tiling_count (&t);
    for (int i = 0; i < n; i++) {
      int x0 = t.xs[i % t.columns], y0 = t.ys[i / t.columns];
      g_assert_cmpint (x0 + z[2], <=, z[0]);
      g_assert_cmpint (y0 + z[3], <=, z[1]);
      for (int y = y0; y < y0 + z[3]; y++)
        for (int x = x0; x < x0 + z[2]; x++)
          cover[y * z[0] + x]++;
    }
    for (int p = 0; p < z[0] * z[1]; p++)
      g_assert_cmpint (cover[p], >=, 1);
    anogan_tiling_clear (&t);
  }
}

static void
test_tiling_known_counts (void)
{
  AnoganTiling t;

  /* 80 = 0, 20, 40 and 48 flush right; 50 = 0 and 18 flush bottom. */
  g_assert_true (anogan_tiling_init (&t, 80, 50, 32, 32, 20, 20, NULL));
  g_assert_cmpint (t.columns, ==, 4);
  g_assert_cmpint (t.rows, ==, 2);
  g_assert_cmpint (t.xs[0], ==, 0);
  g_assert_cmpint (t.xs[1], ==, 20);
  g_assert_cmpint (t.xs[2], ==, 40);
  g_assert_cmpint (t.xs[3], ==, 48);
  g_assert_cmpint (t.ys[0], ==, 0);
  g_assert_cmpint (t.ys[1], ==, 18);
  g_assert_cmpint (anogan_tiling_count (&t), ==, 8);
  anogan_tiling_clear (&t);

  /* Exact fit: no extra tile. */
  g_assert_true (anogan_tiling_init (&t, 96, 64, 32, 32, 32, 32, NULL));
  g_assert_cmpint (t.columns, ==, 3);
  g_assert_cmpint (t.rows, ==, 2);
  anogan_tiling_clear (&t);

  /* A picture of exactly one tile. */
  g_assert_true (anogan_tiling_init (&t, 64, 64, 64, 64, 16, 16, NULL));
  g_assert_cmpint (anogan_tiling_count (&t), ==, 1);
  anogan_tiling_clear (&t);
}

static void
expect_refused (int w, int h, int tw, int th, int sx, int sy,
    const char *fragment)
{
  AnoganTiling t;
  GError *error = NULL;

  g_assert_false (anogan_tiling_init (&t, w, h, tw, th, sx, sy, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  if (!strstr (error->message, fragment))
    g_error ("message \"%s\" lacks \"%s\"", error->message, fragment);
  g_test_message ("refused: %s", error->message);
  g_assert_null (t.xs);
  g_assert_null (t.ys);
  anogan_tiling_clear (&t);
  g_error_free (error);
}

static void
test_tiling_errors (void)
{
  expect_refused (31, 64, 32, 32, 32, 32, "smaller than the tile width");
  expect_refused (64, 20, 32, 32, 32, 32, "smaller than the tile height");
  expect_refused (0, 0, 32, 32, 32, 32, "smaller");
  expect_refused (64, 64, 32, 32, 0, 32, "Stride 0");
  expect_refused (64, 64, 32, 32, -4, 32, "Stride -4");
  expect_refused (64, 64, 32, 32, 33, 32, "missed");
  expect_refused (64, 64, 32, 32, 16, 40, "Stride 40 along the height");
  expect_refused (64, 64, 0, 32, 1, 1, "not positive");
}

/* ---- extraction --------------------------------------------------------- */

/* A packed picture with row padding; padding bytes hold garbage that must
 * never reach a patch. */
typedef struct {
  const char *name;
  int components;
  int offsets[3];
  int pixel_stride;
} Format;

static const Format formats[] = {
  { "GRAY8", 1, { 0, 0, 0 }, 1 },
  { "RGB", 3, { 0, 1, 2 }, 3 },
  { "BGR", 3, { 2, 1, 0 }, 3 },
  { "BGRx", 3, { 2, 1, 0 }, 4 },
  { "ARGB", 3, { 1, 2, 3 }, 4 },
  { "xBGR", 3, { 3, 2, 1 }, 4 },
};

/* The value of component `comp` (0 = R or grey) at (x, y). */
static guint8
sample_value (int x, int y, int comp)
{
  return (guint8) (x * 7 + y * 13 + comp * 85 + (x * y) % 11);
}

/* Fills a picture; the buffer ends right after the last pixel, so that a
 * read past the picture would be caught by the sanitizer build. */
static guint8 *
make_picture (const Format *f, int width, int height, int row_stride,
    AnoganPixelLayout *layout)
{
  gsize size = (gsize) row_stride * (height - 1) + width * f->pixel_stride;
  guint8 *pixels = g_malloc (size);

  memset (pixels, 0xA5, size);
  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++)
      for (int c = 0; c < f->components; c++)
        pixels[y * row_stride + x * f->pixel_stride + f->offsets[c]] =
            sample_value (x, y, c);

  layout->components = f->components;
  memcpy (layout->offsets, f->offsets, sizeof layout->offsets);
  layout->pixel_stride = f->pixel_stride;
  layout->row_stride = row_stride;
  return pixels;
}

/* What the model should see for channel `ch` of a `channels`-channel model
 * at (x, y), computed in double from the rules. */
static double
expected_input (const Format *f, int channels, int x, int y, int ch)
{
  double v;

  if (f->components == 1)
    v = sample_value (x, y, 0);
  else if (channels == 1)
    v = 0.299 * sample_value (x, y, 0) + 0.587 * sample_value (x, y, 1) +
        0.114 * sample_value (x, y, 2);
  else
    v = sample_value (x, y, ch);
  return v / 127.5 - 1.0;
}

static void
check_patch (const Format *f, int channels, int x0, int y0, int h, int w,
    const float *patch)
{
  for (int ch = 0; ch < channels; ch++)
    for (int y = 0; y < h; y++)
      for (int x = 0; x < w; x++) {
        double want = expected_input (f, channels, x0 + x, y0 + y, ch);
        float got = patch[(ch * h + y) * w + x];
        if (fabs (got - want) > 2e-6)
          g_error ("%s, %d-channel model: (%d,%d) channel %d is %.8f, want "
              "%.8f", f->name, channels, x0 + x, y0 + y, ch, got, want);
      }
}

static void
test_extract_formats (void)
{
  const int width = 23, height = 17, h = 6, w = 9;

  for (gsize i = 0; i < G_N_ELEMENTS (formats); i++) {
    const Format *f = &formats[i];
    int row_stride = width * f->pixel_stride + 5;
    AnoganPixelLayout layout;
    g_autofree guint8 *pixels = make_picture (f, width, height, row_stride,
        &layout);

    for (int channels = 1; channels <= 3; channels += 2) {
      g_autofree float *patch = g_new (float, channels * h * w);
      static const int corners[][2] = { {0, 0}, {3, 5}, {23 - 9, 17 - 6} };

      for (gsize k = 0; k < G_N_ELEMENTS (corners); k++) {
        /* Poison the output so that unwritten floats show. */
        for (int j = 0; j < channels * h * w; j++)
          patch[j] = NAN;
        anogan_extract_patch (pixels, &layout, corners[k][0], corners[k][1],
            channels, h, w, patch);
        check_patch (f, channels, corners[k][0], corners[k][1], h, w, patch);
      }
    }
  }
}

static void
test_extract_extremes (void)
{
  /* Black, white and pure primaries through luma: exact end points and
   * the BT.601 weights themselves. */
  static const guint8 rgb[] = {
    0, 0, 0, 255, 255, 255, 255, 0, 0, 0, 255, 0, 0, 0, 255,
  };
  static const double want_luma[] = { 0.0, 255.0, 0.299 * 255, 0.587 * 255,
    0.114 * 255 };
  AnoganPixelLayout layout = { 3, { 0, 1, 2 }, 3, sizeof rgb };
  float grey[5], colour[15];

  anogan_extract_patch (rgb, &layout, 0, 0, 1, 1, 5, grey);
  for (int i = 0; i < 5; i++)
    g_assert_cmpfloat_with_epsilon (grey[i], want_luma[i] / 127.5 - 1.0,
        1e-6);
  g_assert_cmpfloat (grey[0], ==, -1.0f);

  anogan_extract_patch (rgb, &layout, 0, 0, 3, 1, 5, colour);
  g_assert_cmpfloat (colour[0], ==, -1.0f);     /* R of black */
  g_assert_cmpfloat_with_epsilon (colour[1], 1.0, 1e-6);   /* R of white */
  g_assert_cmpfloat_with_epsilon (colour[2], 1.0, 1e-6);   /* R of red */
  g_assert_cmpfloat (colour[3], ==, -1.0f);     /* R of green */
  g_assert_cmpfloat_with_epsilon (colour[5 + 3], 1.0, 1e-6);  /* G of green */
  g_assert_cmpfloat_with_epsilon (colour[10 + 4], 1.0, 1e-6); /* B of blue */
  g_assert_cmpfloat (colour[10 + 2], ==, -1.0f);  /* B of red */
}

static void
test_extract_replicates_grey (void)
{
  const Format *f = &formats[0];
  AnoganPixelLayout layout;
  g_autofree guint8 *pixels = make_picture (f, 12, 10, 16, &layout);
  float patch[3 * 4 * 5];

  anogan_extract_patch (pixels, &layout, 7, 6, 3, 4, 5, patch);
  for (int i = 0; i < 20; i++) {
    g_assert_cmpfloat (patch[i], ==, patch[20 + i]);
    g_assert_cmpfloat (patch[i], ==, patch[40 + i]);
  }
  check_patch (f, 3, 7, 6, 4, 5, patch);
}

static void
test_extract_patches_order (void)
{
  const Format *f = &formats[3];        /* BGRx */
  const int width = 50, height = 30, tile = 16, channels = 3;
  const gsize patch = channels * tile * tile;
  AnoganPixelLayout layout;
  g_autofree guint8 *pixels = make_picture (f, width, height, width * 4 + 12,
      &layout);
  AnoganTiling t;
  g_autofree float *all = NULL;
  int n;

  g_assert_true (anogan_tiling_init (&t, width, height, tile, tile, 12, 12,
          NULL));
  n = anogan_tiling_count (&t);
  g_assert_cmpint (n, ==, 4 * 3);
  all = g_new (float, n * patch);
  anogan_extract_patches (pixels, &layout, &t, channels, all);

  /* Tile number row·columns + col holds the patch at (xs[col], ys[row]). */
  for (int i = 0; i < n; i++)
    check_patch (f, channels, t.xs[i % t.columns], t.ys[i / t.columns],
        tile, tile, all + i * patch);
  anogan_tiling_clear (&t);
}

/* ---- residual maps ------------------------------------------------------ */

static void
test_accumulate_residual_by_hand (void)
{
  /* A 5x2 picture, 3x2 tiles at x = 0 and 2: column 2 is shared. */
  AnoganTiling t;
  float maps[2 * 2 * 3 * 2];
  float picture[10];

  g_assert_true (anogan_tiling_init (&t, 5, 2, 3, 2, 2, 2, NULL));
  g_assert_cmpint (anogan_tiling_count (&t), ==, 2);

  /* Two channels per tile; tile 0's channels average to 1, tile 1's to 3,
   * except one pixel where tile 0 is larger. */
  for (int i = 0; i < 6; i++) {
    maps[i] = 0.5f;
    maps[6 + i] = 1.5f;
    maps[12 + i] = 2.0f;
    maps[18 + i] = 4.0f;
  }
  maps[1 * 3 + 2] = 9.5f;       /* tile 0, channel 0, row 1, col 2 */
  anogan_accumulate_residual (&t, 2, maps, picture);

  {
    const float want[10] = {
      1, 1, 3, 3, 3,
      1, 1, 5.5f, 3, 3,
    };
    for (int i = 0; i < 10; i++)
      g_assert_cmpfloat (picture[i], ==, want[i]);
  }
  anogan_tiling_clear (&t);
}

static void
test_accumulate_residual_random (void)
{
  const int width = 29, height = 21, tw = 8, th = 6, channels = 3;
  const gsize plane = tw * th;
  guint64 rng = anogan_test_rng (7);
  AnoganTiling t;
  g_autofree float *maps = NULL;
  g_autofree float *picture = g_new (float, width * height);
  int n;

  g_assert_true (anogan_tiling_init (&t, width, height, tw, th, 5, 4, NULL));
  n = anogan_tiling_count (&t);
  maps = g_new (float, n * channels * plane);
  anogan_test_fill_uniform (maps, n * channels * plane, &rng, 0.0f, 2.0f);
  for (int i = 0; i < width * height; i++)
    picture[i] = 1e9f;          /* must be overwritten, not max'ed with */
  anogan_accumulate_residual (&t, channels, maps, picture);

  /* Brute force: for each pixel, every tile that contains it. */
  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++) {
      double best = -1.0;
      for (int i = 0; i < n; i++) {
        int x0 = t.xs[i % t.columns], y0 = t.ys[i / t.columns];
        double mean = 0.0;
        if (x < x0 || x >= x0 + tw || y < y0 || y >= y0 + th)
          continue;
        for (int c = 0; c < channels; c++)
          mean += maps[(i * channels + c) * plane + (y - y0) * tw + (x - x0)];
        best = MAX (best, mean / channels);
      }
      g_assert_cmpfloat (best, >=, 0.0);
      g_assert_cmpfloat_with_epsilon (picture[y * width + x], best, 1e-6);
    }
  anogan_tiling_clear (&t);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/tiling/exhaustive-axes", test_tiling_exhaustive_axes);
  g_test_add_func ("/tiling/covers-picture", test_tiling_covers_picture);
  g_test_add_func ("/tiling/known-counts", test_tiling_known_counts);
  g_test_add_func ("/tiling/errors", test_tiling_errors);
  g_test_add_func ("/extract/formats", test_extract_formats);
  g_test_add_func ("/extract/extremes", test_extract_extremes);
  g_test_add_func ("/extract/replicates-grey", test_extract_replicates_grey);
  g_test_add_func ("/extract/patches-order", test_extract_patches_order);
  g_test_add_func ("/residual/by-hand", test_accumulate_residual_by_hand);
  g_test_add_func ("/residual/random", test_accumulate_residual_random);

  return g_test_run ();
}
