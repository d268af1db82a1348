/* test-anoganfilter.c: the anoganfilter element in GstHarness
 *
 * Copyright (C) 2026 the gst-anogan authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The element is loaded from the build's plugin directory (tests/meson.build
 * points GST_PLUGIN_PATH_1_0 there) and run on small synthetic frames with
 * a few search steps, so that the suite stays quick.  Scores are compared
 * with a search run here straight on libanogan, on tiles cut by this file's
 * own code: the reference shares the search, not the element's plumbing.
 */
#include "gstanoganmeta.h"
#include "gstanoganoverlay.h"

#include "anogan-model.h"
#include "anogan-search.h"

#include <gdk-pixbuf/gdk-pixbuf.h>
#include <gst/check/gstharness.h>
#include <gst/video/video.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The embedded default model: 32x32 grey tiles. */
#define TILE 32
#define FEW_ITERATIONS 4
#define FRAME_DURATION (40 * GST_MSECOND)

static const gchar *const formats[] = {
  "GRAY8", "RGB", "BGR", "RGBx", "BGRx", "xRGB", "xBGR", "RGBA", "BGRA",
  "ARGB", "ABGR", "I420", "YV12", "NV12", "NV21",
};

/* ---- helpers ------------------------------------------------------------ */

static gchar *
source_path (const gchar * relative)
{
  const gchar *root = g_getenv ("ANOGAN_SOURCE_ROOT");

  g_assert_nonnull (root);
  return g_build_filename (root, relative, NULL);
}

/* An anoganfilter analysing every frame in turn, quickly, drawing
 * nothing; further properties as for g_object_set(). */
static GstElement *
make_filter (const gchar * first_property, ...)
{
  GstElement *e = gst_element_factory_make ("anoganfilter", NULL);
  va_list args;

  g_assert_nonnull (e);
  /* The optimising search, short: what most tests compare with a
   * search of their own.  The mode tests choose their modes. */
  g_object_set (e, "schedule", 1 /* every-frame */ , "mode",
      1 /* optimise */ , "iterations", FEW_ITERATIONS, "overlay",
      0 /* none */ , NULL);
  if (first_property) {
    va_start (args, first_property);
    g_object_set_valist (G_OBJECT (e), first_property, args);
    va_end (args);
  }
  return e;
}

static gchar *
caps_string (const gchar * format, gint width, gint height)
{
  return g_strdup_printf ("video/x-raw,format=%s,width=%d,height=%d,"
      "framerate=25/1", format, width, height);
}

#define OVERLAY_FEATURE GST_CAPS_FEATURE_META_GST_VIDEO_OVERLAY_COMPOSITION

/* The same with the feature that lets the overlay travel as a meta. */
static gchar *
feature_caps_string (const gchar * format, gint width, gint height)
{
  return g_strdup_printf ("video/x-raw(" OVERLAY_FEATURE "),format=%s,"
      "width=%d,height=%d,framerate=25/1", format, width, height);
}

/* A harness around @e (which it takes), with a bus on the element so that
 * its messages can be read. */
static GstHarness *
start (GstElement * e, const gchar * format, gint width, gint height,
    GstBus ** bus)
{
  g_autofree gchar *caps = caps_string (format, width, height);
  GstHarness *h;

  if (bus) {
    *bus = gst_bus_new ();
    gst_element_set_bus (e, *bus);
  }
  h = gst_harness_new_with_element (e, "sink", "src");
  gst_object_unref (e);
  gst_harness_set_src_caps_str (h, caps);
  return h;
}

/* Tears @h down and drops @bus.  The messages still on the bus hold the
 * element, which holds the bus: flushed first, or the two keep each
 * other alive. */
static void
stop (GstHarness * h, GstBus * bus)
{
  gst_bus_set_flushing (bus, TRUE);
  gst_harness_teardown (h);
  gst_object_unref (bus);
}

/* A frame of @format whose bytes are a seeded texture, every plane
 * filled. */
static GstBuffer *
make_frame (const gchar * format, gint width, gint height, guint seed,
    GstClockTime pts)
{
  GstVideoInfo info;
  GstBuffer *buffer;
  GstMapInfo map;
  guint32 state = 0x9E3779B9u ^ (seed * 0x85EBCA6Bu);

  g_assert_true (gst_video_info_set_format (&info,
          gst_video_format_from_string (format), width, height));
  buffer = gst_buffer_new_allocate (NULL, GST_VIDEO_INFO_SIZE (&info), NULL);
  g_assert_true (gst_buffer_map (buffer, &map, GST_MAP_WRITE));
  for (gsize i = 0; i < map.size; i++) {
    state = state * 1664525u + 1013904223u;
    map.data[i] = (guint8) (state >> 24);
  }
  gst_buffer_unmap (buffer, &map);
  GST_BUFFER_PTS (buffer) = pts;
  GST_BUFFER_DURATION (buffer) = FRAME_DURATION;
  return buffer;
}

/* A GRAY8 frame from @pixels, width × height bytes, rows unpadded. */
static GstBuffer *
gray_frame (const guint8 * pixels, gint width, gint height, GstClockTime pts)
{
  GstVideoInfo info;
  GstVideoFrame frame;
  GstBuffer *buffer;

  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_GRAY8, width, height);
  buffer = gst_buffer_new_allocate (NULL, GST_VIDEO_INFO_SIZE (&info), NULL);
  g_assert_true (gst_video_frame_map (&frame, &info, buffer, GST_MAP_WRITE));
  for (gint y = 0; y < height; y++)
    memcpy ((guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&frame, 0) +
        (gsize) y * GST_VIDEO_FRAME_PLANE_STRIDE (&frame, 0),
        pixels + (gsize) y * width, width);
  gst_video_frame_unmap (&frame);
  GST_BUFFER_PTS (buffer) = pts;
  GST_BUFFER_DURATION (buffer) = FRAME_DURATION;
  return buffer;
}

static guint8 *
texture (gint width, gint height, guint seed)
{
  guint8 *p = g_malloc ((gsize) width * height);
  guint32 state = 12345u + seed * 2654435761u;

  for (gsize i = 0; i < (gsize) width * height; i++) {
    state = state * 1664525u + 1013904223u;
    p[i] = (guint8) (state >> 24);
  }
  return p;
}

static const GstStructure *
result_of (GstBuffer * buffer)
{
  GstCustomMeta *meta = gst_buffer_get_custom_meta (buffer,
      GST_ANOGAN_META_NAME);

  return meta ? gst_custom_meta_get_structure (meta) : NULL;
}

static gint
get_int (const GstStructure * s, const gchar * field)
{
  gint v;

  g_assert_true (gst_structure_get_int (s, field, &v));
  return v;
}

static gdouble
get_double (const GstStructure * s, const gchar * field)
{
  gdouble v;

  g_assert_true (gst_structure_get_double (s, field, &v));
  return v;
}

static guint64
get_uint64 (const GstStructure * s, const gchar * field)
{
  guint64 v;

  g_assert_true (gst_structure_get_uint64 (s, field, &v));
  return v;
}

static gint
array_int (const GstStructure * s, const gchar * field, guint i)
{
  const GValue *a = gst_structure_get_value (s, field);

  g_assert_nonnull (a);
  g_assert_cmpuint (i, <, gst_value_array_get_size (a));
  return g_value_get_int (gst_value_array_get_value (a, i));
}

static guint
array_size (const GstStructure * s, const gchar * field)
{
  const GValue *a = gst_structure_get_value (s, field);

  g_assert_nonnull (a);
  g_assert_true (GST_VALUE_HOLDS_ARRAY (a));
  return gst_value_array_get_size (a);
}

static gdouble *
scores_of (const GstStructure * s, guint * n)
{
  const GValue *a = gst_structure_get_value (s, "scores");
  gdouble *out;

  g_assert_nonnull (a);
  *n = gst_value_array_get_size (a);
  out = g_new (gdouble, *n);
  for (guint i = 0; i < *n; i++)
    out[i] = g_value_get_double (gst_value_array_get_value (a, i));
  return out;
}

/* Pushes @buffer and returns what comes out. */
static GstBuffer *
push_pull (GstHarness * h, GstBuffer * buffer)
{
  g_assert_cmpint (gst_harness_push (h, buffer), ==, GST_FLOW_OK);
  return gst_harness_pull (h);
}

/* The tile origins along one axis, as docs/anogan-score.md describes
 * them: steps of @stride from 0 while a tile fits, then one flush with
 * the far border if pixels are left. */
static GArray *
expected_origins (gint extent, gint tile, gint stride)
{
  GArray *o = g_array_new (FALSE, FALSE, sizeof (gint));
  gint last = 0;

  for (gint x = 0; x + tile <= extent; x += stride) {
    g_array_append_val (o, x);
    last = x;
  }
  if (last + tile < extent) {
    gint flush = extent - tile;
    g_array_append_val (o, flush);
  }
  return o;
}

/* ---- the reference: libanogan's search on tiles cut here ---------------- */

/* The candidate starts the model's card says its threshold was calibrated
 * with: the element searches from them, so the reference does too. */
static gint
card_candidates (const AnoganModel * m)
{
  JsonObject *calibration;

  if (!json_object_has_member (m->metadata, "calibration"))
    return 0;
  calibration = json_object_get_object_member (m->metadata, "calibration");
  return json_object_has_member (calibration, "candidates") ?
      (gint) json_object_get_int_member (calibration, "candidates") : 0;
}

static AnoganModel *
load_model (const gchar * path)
{
  g_autoptr (GError) error = NULL;
  AnoganModel *m = anogan_model_load (path, &error);

  g_assert_no_error (error);
  return m;
}

static AnoganModel *
load_default_model (void)
{
  g_autofree gchar *path = source_path ("models/brick/brick.safetensors");

  return load_model (path);
}

/* The search run here on the tiles of a grey picture at @xs × @ys, row
 * by row, with @options; @z_in and @z_out as in anogan_search_run(), and
 * @results, when not NULL, what it found for each tile.  Returns the
 * tiles' scores. */
static gfloat *
reference_search (AnoganModel * m, const guint8 * pixels, gint width,
    GArray * xs, GArray * ys, const AnoganSearchOptions * options,
    const gfloat * z_in, gfloat ** z_out, AnoganPatchResult ** results)
{
  const gint n = (gint) (xs->len * ys->len);
  g_autofree gfloat *patches = g_new (gfloat, (gsize) n * TILE * TILE);
  AnoganPatchResult *found = g_new0 (AnoganPatchResult, n);
  AnoganSearchOutputs out = { .results = found };
  g_autoptr (AnoganSearch) search = NULL;
  g_autoptr (GError) error = NULL;
  gfloat *scores;
  gint k = 0;

  for (guint r = 0; r < ys->len; r++)
    for (guint c = 0; c < xs->len; c++, k++)
      for (gint y = 0; y < TILE; y++)
        for (gint x = 0; x < TILE; x++) {
          guint8 v = pixels[(gsize) (g_array_index (ys, gint, r) + y) * width
              + g_array_index (xs, gint, c) + x];
          patches[((gsize) k * TILE + y) * TILE + x] =
              v * (1.0f / 127.5f) - 1.0f;
        }

  search = anogan_search_new (m, options, &error);
  g_assert_no_error (error);
  if (z_out) {
    *z_out = g_new (gfloat, (gsize) n * m->nz);
    out.z = *z_out;
  }
  g_assert_true (anogan_search_run (search, n, patches, z_in, &out, &error));
  g_assert_no_error (error);

  scores = g_new (gfloat, n);
  for (gint i = 0; i < n; i++)
    scores[i] = found[i].score;
  if (results)
    *results = found;
  else
    g_free (found);
  return scores;
}

/* The scores of reference_search() with the settings the element takes
 * from the brick model's card (learning rate 0.01, lambda 0.1, its
 * candidate starts) and @iterations steps. */
static gfloat *
reference_scores (AnoganModel * m, const guint8 * pixels, gint width,
    GArray * xs, GArray * ys, gint iterations, const gfloat * z_in,
    gfloat ** z_out)
{
  AnoganSearchOptions options;

  anogan_search_options_init (&options);
  options.iterations = iterations;
  options.learning_rate = 0.01f;
  options.lambda = 0.1f;
  options.candidates = card_candidates (m);
  options.threads = 1;
  return reference_search (m, pixels, width, xs, ys, &options, z_in, z_out,
      NULL);
}

static gint
compare_floats (gconstpointer a, gconstpointer b)
{
  const gfloat x = *(const gfloat *) a, y = *(const gfloat *) b;

  return (x > y) - (x < y);
}

/* @n scores, in ascending order. */
static gfloat *
sorted_copy (const gfloat * scores, guint n)
{
  gfloat *sorted = g_memdup2 (scores, n * sizeof (gfloat));

  qsort (sorted, n, sizeof (gfloat), compare_floats);
  return sorted;
}

static void
assert_scores_match (const GstStructure * s, const gfloat * want, guint n)
{
  g_autofree gdouble *got = NULL;
  guint got_n;

  got = scores_of (s, &got_n);
  g_assert_cmpuint (got_n, ==, n);
  for (guint i = 0; i < n; i++)
    g_assert_cmpfloat_with_epsilon (got[i], want[i], 1e-5 * fabs (want[i]));
}

/* ---- caps --------------------------------------------------------------- */

/* Every format of the pad template negotiates, is read and analysed. */
static void
test_caps_accepted (void)
{
  for (guint f = 0; f < G_N_ELEMENTS (formats); f++) {
    GstHarness *h = start (make_filter (NULL), formats[f], 40, 36, NULL);
    GstBuffer *out = push_pull (h, make_frame (formats[f], 40, 36, f, 0));
    const GstStructure *s = result_of (out);
    g_autofree gdouble *scores = NULL;
    guint n;

    g_assert_nonnull (s);
    g_assert_cmpint (get_int (s, "columns"), ==, 2);
    g_assert_cmpint (get_int (s, "rows"), ==, 2);
    scores = scores_of (s, &n);
    g_assert_cmpuint (n, ==, 4);
    for (guint i = 0; i < n; i++)
      g_assert_true (isfinite (scores[i]) && scores[i] > 0.0);
    gst_buffer_unref (out);
    gst_harness_teardown (h);
  }
}

/* Formats outside the template are refused at the sink pad. */
static void
test_caps_refused (void)
{
  const gchar *const refused[] = {
    "video/x-raw,format=UYVY,width=64,height=48,framerate=25/1",
    "video/x-raw,format=GRAY16_LE,width=64,height=48,framerate=25/1",
    "video/x-raw,format=AYUV,width=64,height=48,framerate=25/1",
    "video/x-bayer,format=rggb,width=64,height=48,framerate=25/1",
  };
  GstElement *e = make_filter (NULL);
  GstPad *sink = gst_element_get_static_pad (e, "sink");

  for (guint i = 0; i < G_N_ELEMENTS (refused); i++) {
    GstCaps *caps = gst_caps_from_string (refused[i]);

    g_assert_false (gst_pad_query_accept_caps (sink, caps));
    gst_caps_unref (caps);
  }
  {
    g_autofree gchar *ok = caps_string ("NV21", 64, 48);
    GstCaps *caps = gst_caps_from_string (ok);

    g_assert_true (gst_pad_query_accept_caps (sink, caps));
    gst_caps_unref (caps);
  }
  /* The overlay composition feature is taken, other memory is not. */
  {
    g_autofree gchar *ok = feature_caps_string ("NV21", 64, 48);
    GstCaps *caps = gst_caps_from_string (ok);

    g_assert_true (gst_pad_query_accept_caps (sink, caps));
    gst_caps_unref (caps);
    caps = gst_caps_from_string ("video/x-raw(memory:GLMemory),format=RGBA,"
        "width=64,height=48,framerate=25/1");
    g_assert_false (gst_pad_query_accept_caps (sink, caps));
    gst_caps_unref (caps);
  }
  gst_object_unref (sink);
  gst_object_unref (e);
}

/* Packed formats are read at their own byte offsets: the same picture in
 * any RGB layout scores the same, and a grey picture the same in GRAY8 and
 * in RGB with equal channels (luma of equal channels is the grey value, up
 * to float rounding). */
static void
test_caps_layouts_agree (void)
{
  static const struct
  {
    const gchar *format;
    gint r, g, b, bpp;
  } layouts[] = {
    {"RGB", 0, 1, 2, 3}, {"BGR", 2, 1, 0, 3}, {"RGBx", 0, 1, 2, 4},
    {"BGRx", 2, 1, 0, 4}, {"xRGB", 1, 2, 3, 4}, {"xBGR", 3, 2, 1, 4},
    {"RGBA", 0, 1, 2, 4}, {"BGRA", 2, 1, 0, 4}, {"ARGB", 1, 2, 3, 4},
    {"ABGR", 3, 2, 1, 4},
  };
  const gint w = 48, h = 40;
  g_autofree guint8 *red = texture (w, h, 1);
  g_autofree guint8 *green = texture (w, h, 2);
  g_autofree guint8 *blue = texture (w, h, 3);
  g_autofree gdouble *first = NULL;
  g_autofree gdouble *grey_scores = NULL;
  guint n_first = 0, n_grey;

  for (guint pass = 0; pass < 2; pass++) {
    /* pass 0: a colour picture; pass 1: grey, red = green = blue */
    const guint8 *g = pass == 0 ? green : red;
    const guint8 *b = pass == 0 ? blue : red;

    g_clear_pointer (&first, g_free);
    for (guint l = 0; l < G_N_ELEMENTS (layouts); l++) {
      GstHarness *hs = start (make_filter (NULL), layouts[l].format, w, h,
          NULL);
      GstVideoInfo info;
      GstVideoFrame frame;
      GstBuffer *in, *out;
      g_autofree gdouble *scores = NULL;
      guint n;

      gst_video_info_set_format (&info,
          gst_video_format_from_string (layouts[l].format), w, h);
      in = gst_buffer_new_allocate (NULL, GST_VIDEO_INFO_SIZE (&info), NULL);
      g_assert_true (gst_video_frame_map (&frame, &info, in, GST_MAP_WRITE));
      for (gint y = 0; y < h; y++) {
        guint8 *row = (guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&frame, 0) +
            (gsize) y * GST_VIDEO_FRAME_PLANE_STRIDE (&frame, 0);
        for (gint x = 0; x < w; x++) {
          guint8 *p = row + (gsize) x * layouts[l].bpp;
          if (layouts[l].bpp == 4)
            memset (p, 0x5a, 4);        /* padding or alpha: ignored */
          p[layouts[l].r] = red[y * w + x];
          p[layouts[l].g] = g[y * w + x];
          p[layouts[l].b] = b[y * w + x];
        }
      }
      gst_video_frame_unmap (&frame);
      GST_BUFFER_PTS (in) = 0;

      out = push_pull (hs, in);
      scores = scores_of (result_of (out), &n);
      if (first == NULL) {
        first = g_steal_pointer (&scores);
        n_first = n;
      } else {
        g_assert_cmpuint (n, ==, n_first);
        for (guint i = 0; i < n; i++)
          g_assert_cmpfloat (scores[i], ==, first[i]);
      }
      gst_buffer_unref (out);
      gst_harness_teardown (hs);
    }
  }

  /* first now holds the grey picture's scores read from RGB. */
  {
    GstHarness *hs = start (make_filter (NULL), "GRAY8", w, h, NULL);
    GstBuffer *out = push_pull (hs, gray_frame (red, w, h, 0));

    grey_scores = scores_of (result_of (out), &n_grey);
    g_assert_cmpuint (n_grey, ==, n_first);
    for (guint i = 0; i < n_grey; i++)
      g_assert_cmpfloat_with_epsilon (grey_scores[i], first[i],
          1e-3 * fabs (first[i]));
    gst_buffer_unref (out);
    gst_harness_teardown (hs);
  }
}

/* ---- tiling ------------------------------------------------------------- */

static void
assert_layout (const GstStructure * s, gint width, gint height, gint stride,
    gint roi_x, gint roi_y)
{
  g_autoptr (GArray) xs = expected_origins (MAX (width, TILE), TILE, stride);
  g_autoptr (GArray) ys = expected_origins (MAX (height, TILE), TILE, stride);

  g_assert_cmpint (get_int (s, "tile-width"), ==, TILE);
  g_assert_cmpint (get_int (s, "tile-height"), ==, TILE);
  g_assert_cmpint (get_int (s, "columns"), ==, xs->len);
  g_assert_cmpint (get_int (s, "rows"), ==, ys->len);
  g_assert_cmpuint (array_size (s, "tile-x"), ==, xs->len);
  g_assert_cmpuint (array_size (s, "tile-y"), ==, ys->len);
  g_assert_cmpuint (array_size (s, "scores"), ==, xs->len * ys->len);
  g_assert_cmpuint (array_size (s, "iterations"), ==, xs->len * ys->len);
  for (guint c = 0; c < xs->len; c++)
    g_assert_cmpint (array_int (s, "tile-x", c), ==,
        roi_x + g_array_index (xs, gint, c));
  for (guint r = 0; r < ys->len; r++)
    g_assert_cmpint (array_int (s, "tile-y", r), ==,
        roi_y + g_array_index (ys, gint, r));

  /* Every pixel of the area is in some tile, and no tile leaves it
   * unless the area is smaller than a tile. */
  if (width >= TILE && height >= TILE) {
    g_autofree guint8 *covered = g_new0 (guint8, (gsize) width * height);

    for (guint r = 0; r < ys->len; r++)
      for (guint c = 0; c < xs->len; c++) {
        gint x0 = array_int (s, "tile-x", c) - roi_x;
        gint y0 = array_int (s, "tile-y", r) - roi_y;

        g_assert_cmpint (x0 + TILE, <=, width);
        g_assert_cmpint (y0 + TILE, <=, height);
        for (gint y = y0; y < y0 + TILE; y++)
          memset (covered + (gsize) y * width + x0, 1, TILE);
      }
    for (gsize i = 0; i < (gsize) width * height; i++)
      g_assert_cmpint (covered[i], ==, 1);
  }
}

/* Awkward sizes and strides: the last column and row flush with the
 * border; frames smaller than a tile padded into one tile. */
static void
test_tiling_layout (void)
{
  static const struct
  {
    gint width, height, stride;
  } cases[] = {
    {40, 36, 0}, {70, 45, 0}, {64, 48, 20}, {100, 33, 7}, {32, 32, 32},
    {33, 95, 16}, {20, 20, 0}, {20, 50, 0}, {90, 17, 30},
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    const gint w = cases[i].width, h = cases[i].height;
    const gint stride = cases[i].stride ? cases[i].stride : TILE;
    GstHarness *hs = start (make_filter ("tile-stride", cases[i].stride,
            "iterations", 2, NULL), "GRAY8", w, h, NULL);
    GstBuffer *out = push_pull (hs, make_frame ("GRAY8", w, h, i, 0));
    const GstStructure *s = result_of (out);

    g_test_message ("%dx%d stride %d", w, h, stride);
    g_assert_nonnull (s);
    assert_layout (s, w, h, stride, 0, 0);
    gst_buffer_unref (out);
    gst_harness_teardown (hs);
  }
}

/* A frame smaller than a tile is padded by repeating its last column and
 * row: a 20x20 frame scores as the 32x32 picture padded here does. */
static void
test_tiling_small_frame_padded (void)
{
  g_autoptr (AnoganModel) m = load_default_model ();
  g_autofree guint8 *small = texture (20, 20, 7);
  g_autofree guint8 *padded = g_new (guint8, TILE * TILE);
  g_autoptr (GArray) origin = expected_origins (TILE, TILE, TILE);
  g_autofree gfloat *want = NULL;
  GstHarness *h;
  GstBuffer *out;

  for (gint y = 0; y < TILE; y++)
    for (gint x = 0; x < TILE; x++)
      padded[y * TILE + x] = small[MIN (y, 19) * 20 + MIN (x, 19)];
  want = reference_scores (m, padded, TILE, origin, origin, FEW_ITERATIONS,
      NULL, NULL);

  h = start (make_filter ("overlay", 3, NULL), "GRAY8", 20, 20, NULL);
  out = push_pull (h, gray_frame (small, 20, 20, 0));
  assert_layout (result_of (out), 20, 20, TILE, 0, 0);
  assert_scores_match (result_of (out), want, 1);
  gst_buffer_unref (out);
  gst_harness_teardown (h);
}

/* The roi is tiled on its own, in frame coordinates, and cut to the frame;
 * a roi outside the frame falls back to the whole frame, with a warning. */
static void
test_tiling_roi (void)
{
  static const struct
  {
    const gchar *roi;
    gint x, y, width, height;
  } cases[] = {
    {"10,6,40,30", 10, 6, 40, 30},
    {" 8 , 4 , 50 , 40 ", 8, 4, 50, 40},
    {"60,40,20,20", 60, 40, 4, 8},
    {"0,0,64,48", 0, 0, 64, 48},
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    GstHarness *h = start (make_filter ("roi", cases[i].roi, "overlay", 3,
            "iterations", 2, NULL), "GRAY8", 64, 48, NULL);
    GstBuffer *out = push_pull (h, make_frame ("GRAY8", 64, 48, i, 0));

    g_test_message ("roi %s", cases[i].roi);
    assert_layout (result_of (out), cases[i].width, cases[i].height, TILE,
        cases[i].x, cases[i].y);
    gst_buffer_unref (out);
    gst_harness_teardown (h);
  }

  {
    GstBus *bus;
    GstHarness *h = start (make_filter ("roi", "100,100,5,5", "iterations",
            2, NULL), "GRAY8", 64, 48, &bus);
    GstBuffer *out = push_pull (h, make_frame ("GRAY8", 64, 48, 0, 0));
    GstMessage *warning = gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING);

    assert_layout (result_of (out), 64, 48, TILE, 0, 0);
    g_assert_nonnull (warning);
    gst_message_unref (warning);
    gst_buffer_unref (out);
    stop (h, bus);
  }
}

/* A stride larger than the tile is cut to the tile, with a warning. */
static void
test_tiling_stride_too_large (void)
{
  GstBus *bus;
  GstHarness *h = start (make_filter ("tile-stride", 40, "iterations", 2,
          NULL), "GRAY8", 64, 48, &bus);
  GstBuffer *out = push_pull (h, make_frame ("GRAY8", 64, 48, 0, 0));
  GstMessage *warning = gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING);

  assert_layout (result_of (out), 64, 48, TILE, 0, 0);
  g_assert_nonnull (warning);
  gst_message_unref (warning);
  gst_buffer_unref (out);
  stop (h, bus);
}

/* ---- results ------------------------------------------------------------ */

/* Every field, consistent with itself, with the threshold property and
 * with a search run here on the same tiles. */
static void
test_meta_fields (void)
{
  const gint w = 70, h = 45;
  g_autoptr (AnoganModel) m = load_default_model ();
  g_autofree guint8 *pixels = texture (w, h, 3);
  g_autoptr (GArray) xs = expected_origins (w, TILE, TILE);
  g_autoptr (GArray) ys = expected_origins (h, TILE, TILE);
  const guint n = xs->len * ys->len;
  g_autofree gfloat *want = reference_scores (m, pixels, w, xs, ys,
      FEW_ITERATIONS, NULL, NULL);
  g_autofree gfloat *sorted = sorted_copy (want, n);
  gfloat threshold;
  GstHarness *hs;
  GstBuffer *out;
  const GstStructure *s;
  g_autofree gdouble *scores = NULL;
  gdouble max = -INFINITY;
  guint over = 0, n_scores, n_roi = 0;
  gpointer state = NULL;
  GstMeta *meta;
  const gchar *model;

  /* A threshold between the scores, so some tiles are over and some
   * not: the median. */
  threshold = sorted[n / 2];

  hs = start (make_filter ("threshold", threshold, NULL), "GRAY8", w, h,
      NULL);
  out = push_pull (hs, gray_frame (pixels, w, h, 7 * FRAME_DURATION));
  s = result_of (out);
  g_assert_nonnull (s);

  assert_scores_match (s, want, n);
  scores = scores_of (s, &n_scores);
  for (guint i = 0; i < n_scores; i++) {
    max = MAX (max, scores[i]);
    over += scores[i] >= threshold;
    g_assert_cmpint (array_int (s, "iterations", i), ==, FEW_ITERATIONS);
  }
  g_assert_cmpfloat (get_double (s, "score"), ==, max);
  g_assert_cmpfloat (get_double (s, "threshold"), ==, threshold);
  {
    gboolean anomalous;

    g_assert_true (gst_structure_get_boolean (s, "anomalous", &anomalous));
    g_assert_cmpint (anomalous, ==, max >= threshold);
    g_assert_true (anomalous);
  }
  g_assert_cmpuint (over, >, 0);
  g_assert_cmpuint (over, <, n);
  g_assert_cmpuint (get_uint64 (s, "analysed-pts"), ==, 7 * FRAME_DURATION);
  g_assert_cmpuint (get_uint64 (s, "processing-time"), >, 0);
  model = gst_structure_get_string (s, "model");
  g_assert_cmpstr (model, ==, "default");

  /* One region of interest per tile over the threshold. */
  while ((meta = gst_buffer_iterate_meta_filtered (out, &state,
              GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE))) {
    GstVideoRegionOfInterestMeta *roi = (GstVideoRegionOfInterestMeta *) meta;

    g_assert_cmpuint (roi->roi_type, ==,
        g_quark_from_string (GST_ANOGAN_ROI_TYPE));
    n_roi++;
  }
  g_assert_cmpuint (n_roi, ==, over);

  gst_buffer_unref (out);
  gst_harness_teardown (hs);
}

/* Left at their defaults, the threshold and the number of search steps
 * are the model's: those its card says it was calibrated with. */
static void
test_meta_model_calibration (void)
{
  g_autoptr (AnoganModel) m = load_default_model ();
  JsonObject *card = json_object_get_object_member (m->metadata,
      "calibration");
  const gint calibrated = (gint) json_object_get_int_member (card,
      "iterations");
  GstHarness *h = start (make_filter ("iterations", 0, NULL), "GRAY8", 32, 32,
      NULL);
  GstBuffer *out = push_pull (h, make_frame ("GRAY8", 32, 32, 0, 0));

  g_assert_cmpint (calibrated, >, FEW_ITERATIONS);
  g_assert_cmpint (array_int (result_of (out), "iterations", 0), ==,
      calibrated);
  g_assert_cmpfloat_with_epsilon (get_double (result_of (out), "threshold"),
      m->threshold, 1e-4 * m->threshold);
  gst_buffer_unref (out);
  gst_harness_teardown (h);
}

/* One "anogan" message per analysed frame, with level's timing fields. */
static void
test_messages (void)
{
  GstBus *bus;
  GstHarness *h = start (make_filter (NULL), "GRAY8", 64, 48, &bus);
  GstSegment segment;

  /* A segment that starts at 1 s, so running and stream time differ
   * from the timestamp. */
  gst_segment_init (&segment, GST_FORMAT_TIME);
  segment.start = GST_SECOND;
  segment.time = 10 * GST_SECOND;
  g_assert_true (gst_harness_push_event (h, gst_event_new_segment (&segment)));

  for (guint i = 0; i < 3; i++) {
    const GstClockTime pts = GST_SECOND + i * FRAME_DURATION;
    GstBuffer *out = push_pull (h, make_frame ("GRAY8", 64, 48, i, pts));
    GstMessage *msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ELEMENT);
    const GstStructure *s;

    g_assert_nonnull (msg);
    g_assert_true (GST_MESSAGE_SRC (msg) == GST_OBJECT (h->element));
    s = gst_message_get_structure (msg);
    g_assert_true (gst_structure_has_name (s, GST_ANOGAN_MESSAGE_NAME));
    g_assert_cmpuint (get_uint64 (s, "timestamp"), ==, pts);
    g_assert_cmpuint (get_uint64 (s, "running-time"), ==, pts - GST_SECOND);
    g_assert_cmpuint (get_uint64 (s, "stream-time"), ==,
        pts - GST_SECOND + 10 * GST_SECOND);
    g_assert_cmpuint (get_uint64 (s, "duration"), ==, FRAME_DURATION);
    g_assert_cmpuint (get_uint64 (s, "analysed-pts"), ==, pts);
    g_assert_cmpfloat (get_double (s, "score"), ==,
        get_double (result_of (out), "score"));
    g_assert_cmpint (get_int (s, "columns"), ==, 2);
    g_assert_cmpuint (array_size (s, "scores"), ==, 4);
    gst_message_unref (msg);
    gst_buffer_unref (out);
  }
  g_assert_null (gst_bus_pop_filtered (bus, GST_MESSAGE_ELEMENT));

  /* post-messages=false: results on buffers, nothing on the bus. */
  g_object_set (h->element, "post-messages", FALSE, NULL);
  gst_buffer_unref (push_pull (h, make_frame ("GRAY8", 64, 48, 9,
              2 * GST_SECOND)));
  g_assert_null (gst_bus_pop_filtered (bus, GST_MESSAGE_ELEMENT));

  stop (h, bus);
}

/* every-frame is deterministic: the same frame, in one element or two,
 * gets the same scores, bit for bit.  Unchanged tiles are analysed again
 * (skip-unchanged=-1), or there would be nothing to compare. */
static void
test_determinism (void)
{
  gdouble *runs[3];
  guint n[3];

  /* runs[0], runs[1]: one element, the frame twice; runs[2]: a second
   * element with another thread count. */
  for (guint run = 0; run < 2; run++) {
    GstHarness *h = start (make_filter ("threads", run + 1,
            "skip-unchanged", -1.0f, NULL), "RGBx", 64, 48, NULL);

    for (guint frame = 0; frame < (run == 0 ? 2u : 1u); frame++) {
      const guint k = run == 0 ? frame : 2;
      GstBuffer *out = push_pull (h, make_frame ("RGBx", 64, 48, 5,
              frame * FRAME_DURATION));

      runs[k] = scores_of (result_of (out), &n[k]);
      gst_buffer_unref (out);
    }
    gst_harness_teardown (h);
  }
  for (guint k = 1; k < 3; k++) {
    g_assert_cmpuint (n[k], ==, n[0]);
    g_assert_cmpmem (runs[k], n[k] * sizeof (gdouble), runs[0],
        n[0] * sizeof (gdouble));
  }
  for (guint k = 0; k < 3; k++)
    g_free (runs[k]);
}

/* warm-start: the second analysis of a tiling starts each tile where its
 * first search ended, as a search started from those z does here. */
static void
test_warm_start (void)
{
  const gint w = 64, h = 48;
  g_autoptr (AnoganModel) m = load_default_model ();
  g_autofree guint8 *a = texture (w, h, 11);
  g_autofree guint8 *b = texture (w, h, 12);
  g_autoptr (GArray) xs = expected_origins (w, TILE, TILE);
  g_autoptr (GArray) ys = expected_origins (h, TILE, TILE);
  g_autofree gfloat *z = NULL;
  g_autofree gfloat *first = reference_scores (m, a, w, xs, ys,
      FEW_ITERATIONS, NULL, &z);
  g_autofree gfloat *second = reference_scores (m, b, w, xs, ys,
      FEW_ITERATIONS, z, NULL);
  g_autofree gfloat *cold = reference_scores (m, b, w, xs, ys,
      FEW_ITERATIONS, NULL, NULL);
  GstHarness *hs = start (make_filter ("warm-start", TRUE, NULL), "GRAY8", w,
      h, NULL);
  GstBuffer *out;

  out = push_pull (hs, gray_frame (a, w, h, 0));
  assert_scores_match (result_of (out), first, 4);
  gst_buffer_unref (out);
  out = push_pull (hs, gray_frame (b, w, h, FRAME_DURATION));
  assert_scores_match (result_of (out), second, 4);
  gst_buffer_unref (out);
  /* and the warm start made a difference */
  g_assert_true (memcmp (second, cold, 4 * sizeof (gfloat)) != 0);
  gst_harness_teardown (hs);
}

/* interval=3: frames 0, 3 and 6 are analysed; the others carry the
 * latest result, which says which frame it belongs to. */
static void
test_interval (void)
{
  GstBus *bus;
  GstHarness *h = start (make_filter ("interval", 3, NULL), "GRAY8", 48, 40,
      &bus);
  guint messages = 0;
  GstMessage *msg;

  for (guint i = 0; i < 7; i++) {
    GstBuffer *out = push_pull (h, make_frame ("GRAY8", 48, 40, i,
            i * FRAME_DURATION));
    const GstStructure *s = result_of (out);

    g_assert_nonnull (s);
    g_assert_cmpuint (get_uint64 (s, "analysed-pts"), ==,
        (i / 3) * 3 * FRAME_DURATION);
    gst_buffer_unref (out);
  }
  while ((msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ELEMENT))) {
    g_assert_cmpuint (get_uint64 (gst_message_get_structure (msg),
            "analysed-pts"), ==, messages * 3 * FRAME_DURATION);
    messages++;
    gst_message_unref (msg);
  }
  g_assert_cmpuint (messages, ==, 3);
  stop (h, bus);
}

/* latest-frame: every buffer comes out, in order; results arrive later,
 * each naming a frame that was pushed, never one still to come. */
static void
test_latest_frame (void)
{
  const guint n = 30;
  GstBus *bus;
  GstHarness *h = start (make_filter ("schedule", 2, "iterations", 20,
          "interval", 2, NULL), "GRAY8", 96, 64, &bus);
  GstMessage *msg;
  GstBuffer *out;
  guint64 analysed;

  for (guint i = 0; i < n; i++)
    g_assert_cmpint (gst_harness_push (h, make_frame ("GRAY8", 96, 64, i,
                i * FRAME_DURATION)), ==, GST_FLOW_OK);
  for (guint i = 0; i < n; i++) {
    const GstStructure *s;

    out = gst_harness_pull (h);
    g_assert_nonnull (out);
    g_assert_cmpuint (GST_BUFFER_PTS (out), ==, i * FRAME_DURATION);
    s = result_of (out);
    if (s) {
      analysed = get_uint64 (s, "analysed-pts");
      g_assert_cmpuint (analysed % (2 * FRAME_DURATION), ==, 0);
      g_assert_cmpuint (analysed, <=, GST_BUFFER_PTS (out));
      g_assert_cmpint (get_int (s, "columns"), ==, 3);
    }
    gst_buffer_unref (out);
  }

  /* A result is published before its message is posted, so once the
   * message is there the next buffer carries a result.  The timeout only
   * bounds a hang. */
  msg = gst_bus_timed_pop_filtered (bus, 600 * GST_SECOND,
      GST_MESSAGE_ELEMENT);
  g_assert_nonnull (msg);
  analysed = get_uint64 (gst_message_get_structure (msg), "analysed-pts");
  g_assert_cmpuint (analysed % (2 * FRAME_DURATION), ==, 0);
  g_assert_cmpuint (analysed, <, n * FRAME_DURATION);
  gst_message_unref (msg);

  out = push_pull (h, make_frame ("GRAY8", 96, 64, n, n * FRAME_DURATION));
  g_assert_nonnull (result_of (out));
  analysed = get_uint64 (result_of (out), "analysed-pts");
  g_assert_cmpuint (analysed % (2 * FRAME_DURATION), ==, 0);
  g_assert_cmpuint (analysed, <=, n * FRAME_DURATION);
  gst_buffer_unref (out);

  /* EOS waits for the analysis in progress: its message is posted before
   * EOS leaves the element. */
  g_assert_true (gst_harness_push_event (h, gst_event_new_eos ()));
  stop (h, bus);
}

/* latest-frame and a flush (a seek back): a result of a frame from before
 * it, finished or under way, describes a picture the stream has left, so
 * no frame after the flush carries one. */
static void
test_latest_frame_flush (void)
{
  const GstClockTime before = 100 * GST_SECOND;
  GstBus *bus;
  GstHarness *h = start (make_filter ("schedule", 2, "iterations", 20, NULL),
      "GRAY8", 96, 64, &bus);
  GstSegment segment;
  GstMessage *msg;
  GstBuffer *out;

  /* a finished result of a frame from before the flush, and frames
   * waiting or under analysis */
  out = push_pull (h, make_frame ("GRAY8", 96, 64, 0, before));
  gst_buffer_unref (out);
  msg = gst_bus_timed_pop_filtered (bus, 600 * GST_SECOND,
      GST_MESSAGE_ELEMENT);
  g_assert_nonnull (msg);
  gst_message_unref (msg);
  for (guint i = 1; i < 4; i++) {
    out = push_pull (h, make_frame ("GRAY8", 96, 64, i,
            before + i * FRAME_DURATION));
    g_assert_nonnull (result_of (out));
    gst_buffer_unref (out);
  }

  g_assert_true (gst_harness_push_event (h, gst_event_new_flush_start ()));
  g_assert_true (gst_harness_push_event (h, gst_event_new_flush_stop (TRUE)));
  gst_segment_init (&segment, GST_FORMAT_TIME);
  g_assert_true (gst_harness_push_event (h, gst_event_new_segment (&segment)));

  /* Frames after the flush carry no result, or one of a frame after it;
   * then the worker posts one of theirs, which the next frame carries. */
  for (guint i = 0; i < 4; i++) {
    const GstStructure *s;

    out = push_pull (h, make_frame ("GRAY8", 96, 64, i, i * FRAME_DURATION));
    s = result_of (out);
    if (i == 0)
      g_assert_null (s);
    else if (s)
      g_assert_cmpuint (get_uint64 (s, "analysed-pts"), <, before);
    gst_buffer_unref (out);
  }
  while ((msg = gst_bus_timed_pop_filtered (bus, 600 * GST_SECOND,
              GST_MESSAGE_ELEMENT))) {
    guint64 analysed = get_uint64 (gst_message_get_structure (msg),
        "analysed-pts");

    gst_message_unref (msg);
    if (analysed < before)
      break;
  }
  g_assert_nonnull (msg);
  out = push_pull (h, make_frame ("GRAY8", 96, 64, 4, 4 * FRAME_DURATION));
  g_assert_nonnull (result_of (out));
  g_assert_cmpuint (get_uint64 (result_of (out), "analysed-pts"), <, before);
  gst_buffer_unref (out);
  stop (h, bus);
}

/* ---- overlay ------------------------------------------------------------ */

static gboolean
same_bytes (GstBuffer * a, GstBuffer * b)
{
  GstMapInfo ma, mb;
  gboolean same;

  g_assert_true (gst_buffer_map (a, &ma, GST_MAP_READ));
  g_assert_true (gst_buffer_map (b, &mb, GST_MAP_READ));
  same = ma.size == mb.size && memcmp (ma.data, mb.data, ma.size) == 0;
  gst_buffer_unmap (a, &ma);
  gst_buffer_unmap (b, &mb);
  return same;
}

/* overlay=none leaves every pixel as it was; boxes over a threshold of 0
 * (every tile anomalous) and the heatmap change pixels. */
static void
test_overlay (void)
{
  static const gchar *const tested[] = { "RGBx", "I420", "GRAY8", "NV12" };

  for (guint f = 0; f < G_N_ELEMENTS (tested); f++)
    for (gint mode = 0; mode <= 3; mode++) {
      GstHarness *h = start (make_filter ("overlay", mode, "threshold", 0.0f,
              "overlay-alpha", 1.0f, NULL), tested[f], 64, 48, NULL);
      GstBuffer *in = make_frame (tested[f], 64, 48, mode, 0);
      GstBuffer *copy = gst_buffer_copy_deep (in);
      GstBuffer *out = push_pull (h, in);

      g_test_message ("%s overlay %d", tested[f], mode);
      g_assert_nonnull (result_of (out));
      if (mode == 0)
        g_assert_true (same_bytes (out, copy));
      else
        g_assert_false (same_bytes (out, copy));
      gst_buffer_unref (out);
      gst_buffer_unref (copy);
      gst_harness_teardown (h);
    }
}

/* ---- the overlay as a meta ---------------------------------------------- */

static guint
n_compositions (GstBuffer * buffer)
{
  gpointer state = NULL;
  guint n = 0;

  while (gst_buffer_iterate_meta_filtered (buffer, &state,
          GST_VIDEO_OVERLAY_COMPOSITION_META_API_TYPE))
    n++;
  return n;
}

static GstVideoOverlayComposition *
composition_of (GstBuffer * buffer)
{
  GstVideoOverlayCompositionMeta *meta =
      gst_buffer_get_video_overlay_composition_meta (buffer);

  return meta ? meta->overlay : NULL;
}

/* One frame through an element, 64x48, every tile over the threshold. */
typedef struct
{
  const gchar *format;
  gint mode;
  gfloat alpha;
  gboolean upstream_feature;    /* upstream's caps carry the feature */
  const gchar *downstream;      /* the caps the sink takes; NULL: any */
  gboolean draws;               /* the sink lists the meta when asked */
  GstVideoOverlayComposition *upstream;         /* on the frame, or NULL */
} OverlayRun;

/* Runs @r; returns the frame that comes out, @input a copy of the frame
 * that went in, @feature whether the caps the element chose downstream
 * carry the feature. */
static GstBuffer *
overlay_run (const OverlayRun * r, GstBuffer ** input, gboolean * feature)
{
  GstElement *e = make_filter ("overlay", r->mode, "threshold", 0.0f,
      "overlay-alpha", r->alpha, NULL);
  GstHarness *h = gst_harness_new_with_element (e, "sink", "src");
  g_autofree gchar *caps = r->upstream_feature ?
      feature_caps_string (r->format, 64, 48) :
      caps_string (r->format, 64, 48);
  GstBuffer *in = make_frame (r->format, 64, 48, r->mode, 0);
  GstBuffer *out;
  GstCaps *negotiated;

  gst_object_unref (e);
  /* What a sink that draws overlays does (glimagesink, xvimagesink). */
  if (r->draws)
    gst_harness_add_propose_allocation_meta (h,
        GST_VIDEO_OVERLAY_COMPOSITION_META_API_TYPE, NULL);
  if (r->downstream)
    gst_harness_set_sink_caps_str (h, r->downstream);
  gst_harness_set_src_caps_str (h, caps);
  if (r->upstream)
    gst_buffer_add_video_overlay_composition_meta (in, r->upstream);
  *input = gst_buffer_copy_deep (in);
  out = push_pull (h, in);

  negotiated = gst_pad_get_current_caps (h->sinkpad);
  g_assert_nonnull (negotiated);
  *feature = gst_caps_features_contains (gst_caps_get_features (negotiated,
          0), OVERLAY_FEATURE);
  gst_caps_unref (negotiated);
  gst_harness_teardown (h);
  return out;
}

/* The overlay goes on as a GstVideoOverlayCompositionMeta, the pixels
 * untouched, when the caps downstream carry the feature and either
 * upstream's do too or the sink says it draws the meta; otherwise it is
 * blended in and no composition is attached.  overlay=none does neither. */
static void
test_overlay_meta (void)
{
  static const struct
  {
    gboolean upstream_feature;
    const gchar *downstream;
    gboolean draws;
    gboolean want_feature;
    gboolean want_meta;
  } cases[] = {
    /* a sink that takes any caps (fakesink, appsink) but draws nothing
     * gets the plain caps, as it would from textoverlay */
    {FALSE, NULL, FALSE, FALSE, FALSE},
    /* one that takes any caps and draws overlays */
    {FALSE, NULL, TRUE, TRUE, TRUE},
    /* plain caps: the meta could be lost on the way, whatever the sink */
    {FALSE, "video/x-raw", TRUE, FALSE, FALSE},
    {FALSE, "video/x-raw(" OVERLAY_FEATURE ")", TRUE, TRUE, TRUE},
    /* the feature or nothing, from a sink that does not say it draws:
     * blended under the feature */
    {FALSE, "video/x-raw(" OVERLAY_FEATURE ")", FALSE, TRUE, FALSE},
    /* upstream attaches overlays: so does the element */
    {TRUE, NULL, FALSE, TRUE, TRUE},
    {TRUE, "video/x-raw(" OVERLAY_FEATURE ")", FALSE, TRUE, TRUE},
  };
  static const gchar *const tested[] = { "RGBx", "I420", "GRAY8" };

  for (guint c = 0; c < G_N_ELEMENTS (cases); c++)
    for (guint f = 0; f < G_N_ELEMENTS (tested); f++)
      for (gint mode = 0; mode <= 3; mode++) {
        const OverlayRun r = { tested[f], mode, 1.0f,
          cases[c].upstream_feature, cases[c].downstream, cases[c].draws,
          NULL
        };
        GstBuffer *in, *out;
        gboolean feature;
        GstVideoOverlayComposition *comp;

        g_test_message ("case %u, %s, overlay %d", c, tested[f], mode);
        out = overlay_run (&r, &in, &feature);
        g_assert_nonnull (result_of (out));
        g_assert_cmpint (feature, ==, cases[c].want_feature);
        comp = composition_of (out);
        if (mode == 0) {
          g_assert_null (comp);
          g_assert_true (same_bytes (out, in));
        } else if (cases[c].want_meta) {
          g_assert_nonnull (comp);
          g_assert_cmpuint (n_compositions (out), ==, 1);
          /* heatmap, boxes, or both: the heat first, the boxes on top */
          g_assert_cmpuint (gst_video_overlay_composition_n_rectangles
              (comp), ==, mode == 3 ? 2 : 1);
          g_assert_true (same_bytes (out, in));
        } else {
          g_assert_null (comp);
          g_assert_false (same_bytes (out, in));
        }
        gst_buffer_unref (in);
        gst_buffer_unref (out);
      }
}

/* The pixel at (@x, @y) of @rect, premultiplied, as A, R, G, B. */
static guint32
rectangle_pixel (GstVideoOverlayRectangle * rect, gint x, gint y)
{
  GstBuffer *pixels = gst_video_overlay_rectangle_get_pixels_unscaled_argb
      (rect, GST_VIDEO_OVERLAY_FORMAT_FLAG_PREMULTIPLIED_ALPHA);
  GstVideoMeta *meta = gst_buffer_get_video_meta (pixels);
  GstVideoInfo info;
  GstVideoFrame frame;
  const guint8 *p;
  guint32 argb;

  g_assert_nonnull (meta);
  gst_video_info_set_format (&info, meta->format, meta->width, meta->height);
  g_assert_true (gst_video_frame_map (&frame, &info, pixels, GST_MAP_READ));
  p = (const guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&frame, 0) +
      (gsize) y * GST_VIDEO_FRAME_PLANE_STRIDE (&frame, 0) + 4 * x;
  argb = (guint32) p[GST_VIDEO_FRAME_COMP_POFFSET (&frame,
          GST_VIDEO_COMP_A)] << 24 | (guint32) p[GST_VIDEO_FRAME_COMP_POFFSET
      (&frame, GST_VIDEO_COMP_R)] << 16 | (guint32)
      p[GST_VIDEO_FRAME_COMP_POFFSET (&frame, GST_VIDEO_COMP_G)] << 8 |
      p[GST_VIDEO_FRAME_COMP_POFFSET (&frame, GST_VIDEO_COMP_B)];
  gst_video_frame_unmap (&frame);
  return argb;
}

/* What a sink draws from the meta is what the element would have blended:
 * the composition blended into the untouched frame gives, bit for bit,
 * the frame the element blends for a sink that does not draw overlays.
 * And it is where the tiles are: with every tile over the threshold, the
 * heat and the outlines both cover the whole 64x48 frame, the outlines
 * red at the border and clear inside. */
static void
test_overlay_meta_draws_the_same (void)
{
  static const gchar *const tested[] = { "RGBx", "I420", "GRAY8", "RGBA" };

  for (guint f = 0; f < G_N_ELEMENTS (tested); f++) {
    const OverlayRun attach = { tested[f], 3, 0.5f, TRUE,
      "video/x-raw(" OVERLAY_FEATURE ")", FALSE, NULL
    };
    const OverlayRun blend = { tested[f], 3, 0.5f, FALSE, "video/x-raw",
      FALSE, NULL
    };
    GstBuffer *in, *in_again, *attached, *blended;
    GstVideoOverlayComposition *comp;
    GstVideoFrame frame;
    GstVideoInfo info;
    gboolean feature;

    g_test_message ("%s", tested[f]);
    attached = overlay_run (&attach, &in, &feature);
    blended = overlay_run (&blend, &in_again, &feature);
    g_assert_true (same_bytes (in, in_again));
    comp = composition_of (attached);
    g_assert_nonnull (comp);
    g_assert_cmpuint (gst_video_overlay_composition_n_rectangles (comp), ==,
        2);

    for (guint i = 0; i < 2; i++) {
      GstVideoOverlayRectangle *rect =
          gst_video_overlay_composition_get_rectangle (comp, i);
      gint x, y;
      guint w, h;

      gst_video_overlay_rectangle_get_render_rectangle (rect, &x, &y, &w, &h);
      g_assert_cmpint (x, ==, 0);
      g_assert_cmpint (y, ==, 0);
      g_assert_cmpuint (w, ==, 64);
      g_assert_cmpuint (h, ==, 48);
    }
    {
      GstVideoOverlayRectangle *boxes =
          gst_video_overlay_composition_get_rectangle (comp, 1);

      /* red at an opacity of 0.8 (outlines are never fainter),
       * premultiplied: 204, 204, 0, 0 */
      g_assert_cmpuint (rectangle_pixel (boxes, 0, 0), ==, 0xcccc0000u);
      g_assert_cmpuint (rectangle_pixel (boxes, 63, 47), ==, 0xcccc0000u);
      /* tiles at x 0 and 32, y 0 and 16 (flush with the bottom), outlined
       * 2 pixels wide inside: these pixels are on no outline */
      g_assert_cmpuint (rectangle_pixel (boxes, 16, 8), ==, 0);
      g_assert_cmpuint (rectangle_pixel (boxes, 48, 40), ==, 0);
    }

    g_assert_true (gst_video_info_set_format (&info,
            gst_video_format_from_string (tested[f]), 64, 48));
    g_assert_true (gst_video_frame_map (&frame, &info, in,
            GST_MAP_READWRITE));
    g_assert_true (gst_anogan_overlay_blend (comp, &frame));
    gst_video_frame_unmap (&frame);
    g_assert_true (same_bytes (in, blended));

    gst_buffer_unref (in);
    gst_buffer_unref (in_again);
    gst_buffer_unref (attached);
    gst_buffer_unref (blended);
  }
}

/* A frame that comes with upstream's overlays as a meta leaves with one
 * meta: upstream's rectangles, then the element's on top. */
static void
test_overlay_meta_joins_upstream (void)
{
  GstBuffer *pixels = gst_buffer_new_allocate (NULL, 8 * 8 * 4, NULL);
  GstVideoOverlayRectangle *theirs;
  GstVideoOverlayComposition *upstream, *comp;
  GstBuffer *in, *out;
  gboolean feature;

  gst_buffer_memset (pixels, 0, 0xff, 8 * 8 * 4);
  gst_buffer_add_video_meta (pixels, GST_VIDEO_FRAME_FLAG_NONE,
      GST_VIDEO_OVERLAY_COMPOSITION_FORMAT_RGB, 8, 8);
  theirs = gst_video_overlay_rectangle_new_raw (pixels, 5, 6, 8, 8,
      GST_VIDEO_OVERLAY_FORMAT_FLAG_NONE);
  upstream = gst_video_overlay_composition_new (theirs);

  for (gint mode = 0; mode <= 3; mode++) {
    const OverlayRun r = { "I420", mode, 1.0f, TRUE, NULL, FALSE, upstream };
    const guint ours = mode == 3 ? 2 : mode ? 1 : 0;

    out = overlay_run (&r, &in, &feature);
    g_assert_true (feature);
    g_assert_true (same_bytes (out, in));
    g_assert_cmpuint (n_compositions (out), ==, 1);
    comp = composition_of (out);
    g_assert_cmpuint (gst_video_overlay_composition_n_rectangles (comp), ==,
        1 + ours);
    g_assert_true (gst_video_overlay_composition_get_rectangle (comp, 0) ==
        theirs);
    gst_buffer_unref (in);
    gst_buffer_unref (out);
  }

  gst_video_overlay_composition_unref (upstream);
  gst_video_overlay_rectangle_unref (theirs);
  gst_buffer_unref (pixels);
}

/* ---- models ------------------------------------------------------------- */

/* A model that does not load fails the start, with an error naming the
 * file. */
static void
assert_start_fails (const gchar * path, gint code)
{
  GstElement *e = make_filter ("model", path, NULL);
  GstBus *bus = gst_bus_new ();
  GstMessage *msg;
  GError *error = NULL;

  gst_element_set_bus (e, bus);
  g_assert_cmpint (gst_element_set_state (e, GST_STATE_PAUSED), ==,
      GST_STATE_CHANGE_FAILURE);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  g_assert_nonnull (msg);
  gst_message_parse_error (msg, &error, NULL);
  g_assert_error (error, GST_RESOURCE_ERROR, code);
  g_assert_nonnull (strstr (error->message, path));
  g_error_free (error);
  gst_message_unref (msg);
  g_assert_cmpint (gst_element_set_state (e, GST_STATE_NULL), ==,
      GST_STATE_CHANGE_SUCCESS);
  gst_bus_set_flushing (bus, TRUE);
  gst_object_unref (e);
  gst_object_unref (bus);
}

static void
test_model_bad (void)
{
  g_autofree gchar *dir = g_dir_make_tmp ("anoganfilter-XXXXXX", NULL);
  g_autofree gchar *missing = g_build_filename (dir, "missing.safetensors",
      NULL);
  g_autofree gchar *garbage = g_build_filename (dir, "garbage.safetensors",
      NULL);

  g_assert_nonnull (dir);
  assert_start_fails (missing, GST_RESOURCE_ERROR_OPEN_READ);
  g_assert_true (g_file_set_contents (garbage, "not a model at all", -1,
          NULL));
  assert_start_fails (garbage, GST_RESOURCE_ERROR_SETTINGS);
  g_unlink (garbage);
  g_rmdir (dir);
}

/* A model set while playing loads in the background: frames go on with
 * the old one until it has.  Pushes 64x48 GRAY8 frames until one comes out
 * analysed by the model named @name, and returns it; every frame before
 * it must come from the model named @old. */
static GstBuffer *
push_until_model (GstHarness * h, const gchar * old, const gchar * name)
{
  for (guint f = 0; f < 1000; f++) {
    GstBuffer *out = push_pull (h, make_frame ("GRAY8", 64, 48, f,
            f * FRAME_DURATION));
    const gchar *got = gst_structure_get_string (result_of (out), "model");

    if (g_strcmp0 (got, name) == 0)
      return out;
    g_assert_cmpstr (got, ==, old);
    gst_buffer_unref (out);
    g_usleep (1000);
  }
  g_assert_not_reached ();
}

/* Set while playing: a model loads in the background and is used from
 * the first frame after it has, the old one until then; one that does not
 * load leaves the old one at work, with a warning posted at once. */
static void
test_model_swap (void)
{
  g_autofree gchar *other = source_path
      ("models/fashion-mnist/class-0.safetensors");
  GstBus *bus;
  GstHarness *h = start (make_filter (NULL), "GRAY8", 64, 48, &bus);
  GstBuffer *out;
  GstMessage *msg;
  gchar *value;

  g_object_set (h->element, "model", "/nonexistent/missing.safetensors",
      NULL);
  /* The model loads in the background and its warning comes as soon as
   * the load has failed, with no frame needed to carry it; the frames
   * after go on with the old model. */
  msg = gst_bus_timed_pop_filtered (bus, 20 * GST_SECOND,
      GST_MESSAGE_WARNING);
  g_assert_nonnull (msg);
  out = push_pull (h, make_frame ("GRAY8", 64, 48, 0, 0));
  g_assert_cmpstr (gst_structure_get_string (result_of (out), "model"),
      ==, "default");
  gst_buffer_unref (out);
  {
    GError *error = NULL;

    gst_message_parse_warning (msg, &error, NULL);
    g_assert_nonnull (strstr (error->message,
            "/nonexistent/missing.safetensors"));
    g_error_free (error);
  }
  gst_message_unref (msg);
  g_object_get (h->element, "model", &value, NULL);
  g_assert_null (value);

  g_object_set (h->element, "model", other, NULL);
  gst_buffer_unref (push_until_model (h, "default", "class-0.safetensors"));
  g_object_get (h->element, "model", &value, NULL);
  g_assert_cmpstr (value, ==, other);
  g_free (value);

  stop (h, bus);
}

/* ---- properties --------------------------------------------------------- */

/* A malformed roi is refused with a warning and the old value kept.  Run
 * in a subprocess, where warnings are not fatal: GLib 2.74 cannot expect
 * structured log messages. */
static void
test_property_roi_refused (void)
{
  if (g_test_subprocess ()) {
    static const gchar *const bad[] = {
      "1,2,3", "1,2,3,4,5", "a,b,c,d", "0,0,0,10", "0,0,10,0", "-1,0,10,10",
      "0,0,10,10x", ",,,", "0,0,99999999999,10",
    };
    GstElement *e = make_filter ("roi", "0,0,32,32", NULL);
    gchar *value;

    g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
    for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
      g_object_set (e, "roi", bad[i], NULL);
      g_object_get (e, "roi", &value, NULL);
      g_print ("roi=%s\n", value);
      g_free (value);
    }
    gst_object_unref (e);
    return;
  }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
  g_test_trap_assert_stderr ("*roi \"1,2,3\" is not \"x,y,width,height\"*"
      "keeping \"0,0,32,32\"*");
  g_test_trap_assert_stdout ("roi=0,0,32,32\nroi=0,0,32,32\nroi=0,0,32,32\n"
      "roi=0,0,32,32\nroi=0,0,32,32\nroi=0,0,32,32\nroi=0,0,32,32\n"
      "roi=0,0,32,32\nroi=0,0,32,32\n");
}

/* Values out of a property's range are refused by GLib, the old value
 * kept; an empty roi is the whole frame. */
static void
test_property_out_of_range (void)
{
  if (g_test_subprocess ()) {
    GstElement *e = make_filter ("iterations", 7, "overlay-alpha", 0.25f,
        "roi", "1,2,33,34", NULL);
    guint iterations, interval;
    gfloat alpha, lambda;
    gchar *roi;

    g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
    g_object_set (e, "iterations", 100001, NULL);
    g_object_set (e, "overlay-alpha", 1.5f, NULL);
    g_object_set (e, "interval", 0, NULL);
    g_object_set (e, "lambda", 2.0f, NULL);
    g_object_get (e, "iterations", &iterations, "overlay-alpha", &alpha,
        "interval", &interval, "lambda", &lambda, "roi", &roi, NULL);
    g_print ("iterations=%u alpha=%.2f interval=%u lambda=%.1f roi=%s\n",
        iterations, alpha, interval, lambda, roi);
    g_free (roi);
    g_object_set (e, "roi", "", NULL);
    g_object_get (e, "roi", &roi, NULL);
    g_print ("empty roi=%s\n", roi ? roi : "(null)");
    g_free (roi);
    gst_object_unref (e);
    return;
  }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
  g_test_trap_assert_stderr ("*out of range*iterations*");
  g_test_trap_assert_stdout ("iterations=7 alpha=0.25 interval=1 "
      "lambda=-1.0 roi=1,2,33,34\nempty roi=(null)\n");
}

/* The properties of the search modes refuse values out of their range,
 * and the encoder modes while the model in use has no encoder, with a
 * warning, keeping the value they had. */
static void
test_property_modes_refused (void)
{
  if (g_test_subprocess ()) {
    g_autofree gchar *plain = source_path ("tests/golden/data/dcgan32/"
        "model.safetensors");
    GstHarness *h = start (make_filter ("model", plain, "mode",
            1 /* optimise */ , "patience", 3, "tolerance", 0.25f,
            "refine-above", 0.5f, "skip-unchanged", 2.0f, NULL), "GRAY8", 32,
        32, NULL);
    gint mode, patience;
    gfloat tolerance, refine, skip;

    g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
    g_object_set (h->element, "patience", -2, NULL);
    g_object_set (h->element, "tolerance", 1.5f, NULL);
    g_object_set (h->element, "refine-above", 11.0f, NULL);
    g_object_set (h->element, "skip-unchanged", 256.0f, NULL);
    /* that model, loaded now, has no encoder */
    gst_buffer_unref (push_pull (h, make_frame ("GRAY8", 32, 32, 0, 0)));
    g_object_set (h->element, "mode", 3 /* hybrid */ , NULL);
    g_object_set (h->element, "mode", 2 /* encoder */ , NULL);
    g_object_get (h->element, "mode", &mode, "patience", &patience,
        "tolerance", &tolerance, "refine-above", &refine, "skip-unchanged",
        &skip, NULL);
    g_print ("mode=%d patience=%d tolerance=%.2f refine-above=%.1f "
        "skip-unchanged=%.1f\n", mode, patience, tolerance, refine, skip);
    gst_harness_teardown (h);
    return;
  }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
  g_test_trap_assert_stderr ("*out of range*patience*out of range*tolerance*"
      "out of range*refine-above*out of range*skip-unchanged*"
      "mode hybrid needs a model with an encoder*keeping mode optimise*"
      "mode encoder needs a model with an encoder*");
  g_test_trap_assert_stdout ("mode=1 patience=3 tolerance=0.25 "
      "refine-above=0.5 skip-unchanged=2.0\n");
}

/* ---- state changes, renegotiation, latency ------------------------------ */

/* The threads of this process, from /proc. */
static guint
count_threads (void)
{
  GDir *dir = g_dir_open ("/proc/self/task", 0, NULL);
  guint n = 0;

  g_assert_nonnull (dir);
  while (g_dir_read_name (dir))
    n++;
  g_dir_close (dir);
  return n;
}

/* The process's threads once at most @expected remain, or after ten
 * seconds: a pool's thread told to stop may still be on its way out when
 * the pool is freed, a thread left behind stays. */
static guint
threads_settled (guint expected)
{
  gint64 until = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  guint n;

  while ((n = count_threads ()) > expected && g_get_monotonic_time () < until)
    g_usleep (10 * 1000);
  return n;
}

/* One element taken 1000 times (ANOGAN_STATE_CYCLES; 50 under valgrind)
 * from NULL to PLAYING and back, in both
 * schedules, half of the runs torn down right after frames went in (the
 * worker still searching): nothing hangs, every run analyses afresh, and
 * nothing leaks (under AddressSanitizer, and valgrind in the plain build:
 * tests/meson.build).  The model is one without a calibration card, so
 * each start plans a plain search: the default model's bank of 256
 * candidate starts would cost valgrind minutes a cycle, and is covered
 * by the other tests.  The process's threads must not grow in number
 * from the first cycle to the last. */
static void
test_state_cycles (void)
{
  g_autofree gchar *model = source_path ("tests/golden/data/dcgan32/"
      "model.safetensors");
  GstElement *e = make_filter ("iterations", 2, "model", model, NULL);
  const gchar *env = g_getenv ("ANOGAN_STATE_CYCLES");
  const guint cycles = env ? (guint) g_ascii_strtoull (env, NULL, 10) : 1000;
  guint threads_after_first = 0;

  g_assert_cmpuint (cycles, >=, 2);
  for (guint i = 0; i < cycles; i++) {
    const gboolean latest = i % 2;
    const gboolean drain = i % 4 < 2;
    GstHarness *h;

    g_object_set (e, "schedule", latest ? 2 : 1, NULL);
    h = gst_harness_new_with_element (e, "sink", "src");
    gst_harness_set_src_caps_str (h, "video/x-raw,format=I420,width=48,"
        "height=40,framerate=25/1");
    for (guint f = 0; f < 3; f++)
      g_assert_cmpint (gst_harness_push (h, make_frame ("I420", 48, 40, f,
                  f * FRAME_DURATION)), ==, GST_FLOW_OK);
    if (drain) {
      for (guint f = 0; f < 3; f++) {
        GstBuffer *out = gst_harness_pull (h);
        const GstStructure *s = result_of (out);

        /* every-frame analyses each frame of each run anew */
        if (!latest)
          g_assert_cmpuint (get_uint64 (s, "analysed-pts"), ==,
              f * FRAME_DURATION);
        gst_buffer_unref (out);
      }
      g_assert_true (gst_harness_push_event (h, gst_event_new_eos ()));
    }
    /* sets the element to NULL, waiting for the worker */
    gst_harness_teardown (h);
    g_assert_cmpint (GST_STATE (e), ==, GST_STATE_NULL);
    /* No thread is left behind: GLib may keep idle pool threads for
     * reuse, but their number must not grow with the cycles. */
    if (i == 0)
      threads_after_first = count_threads ();
  }
  g_test_message ("%u cycles: %u threads after the first, %u after the "
      "last", cycles, threads_after_first, count_threads ());
  g_assert_cmpuint (threads_settled (threads_after_first), <=,
      threads_after_first);
  gst_object_unref (e);
}

/* New caps mid-stream re-plan the tiling: the first frame of the new size
 * is analysed, and no result of the old size is carried on. */
static void
test_renegotiation (void)
{
  for (gint latest = 0; latest < 2; latest++) {
    GstHarness *h = start (make_filter ("schedule", latest ? 2 : 1,
            "overlay", 3, "interval", 4, NULL), "GRAY8", 64, 48, NULL);
    GstBuffer *out;

    out = push_pull (h, make_frame ("GRAY8", 64, 48, 0, 0));
    if (!latest) {
      g_assert_cmpint (get_int (result_of (out), "columns"), ==, 2);
      g_assert_cmpint (get_int (result_of (out), "rows"), ==, 2);
    }
    gst_buffer_unref (out);

    gst_harness_set_src_caps_str (h, "video/x-raw,format=GRAY8,width=96,"
        "height=64,framerate=25/1");
    for (guint i = 1; i < 6; i++) {
      const GstStructure *s;

      out = push_pull (h, make_frame ("GRAY8", 96, 64, i,
              i * FRAME_DURATION));
      s = result_of (out);
      if (!latest)
        g_assert_nonnull (s);
      if (s) {
        g_assert_cmpint (get_int (s, "columns"), ==, 3);
        g_assert_cmpint (get_int (s, "rows"), ==, 2);
        g_assert_cmpuint (get_uint64 (s, "analysed-pts"), >=,
            FRAME_DURATION);
        /* counted again from the first frame of the new size */
        if (!latest)
          g_assert_cmpuint (get_uint64 (s, "analysed-pts"), ==,
              (1 + (i - 1) / 4 * 4) * FRAME_DURATION);
      }
      gst_buffer_unref (out);
    }
    gst_harness_teardown (h);
  }
}

/* every-frame adds its analysis time to the latency, at least what the
 * first analysis took; latest-frame (and auto on a live upstream, as the
 * harness is) adds nothing. */
static void
test_latency (void)
{
  for (gint schedule = 0; schedule < 3; schedule++) {
    GstHarness *h = start (make_filter ("schedule", schedule, NULL), "GRAY8",
        64, 48, NULL);
    GstBuffer *out = push_pull (h, make_frame ("GRAY8", 64, 48, 0, 0));
    const GstStructure *s = result_of (out);
    GstQuery *query = gst_query_new_latency ();
    GstClockTime min, max;
    gboolean live;

    g_assert_true (gst_pad_peer_query (h->sinkpad, query));
    gst_query_parse_latency (query, &live, &min, &max);
    g_assert_true (live);
    g_assert_false (GST_CLOCK_TIME_IS_VALID (max));
    if (schedule == 1) {
      g_assert_nonnull (s);
      g_assert_cmpuint (min, >=, get_uint64 (s, "processing-time"));
      g_assert_cmpuint (min, >, 0);
    } else {
      g_assert_cmpuint (min, ==, 0);
    }
    gst_query_unref (query);
    gst_buffer_unref (out);
    gst_harness_teardown (h);
  }
}

/* ---- search modes, early stop, reused tiles ----------------------------- */

/* Where the models made for the tests are written; emptied by main(). */
static gchar *model_dir;

/* A card for the test model with an encoder: each mode its own threshold
 * and settings, so that scores tell whose settings they were searched
 * with. */
#define MODE_CARDS \
  "\"calibration\": {\"threshold\": 100, \"iterations\": 3, "           \
  "\"learning_rate\": 0.01, \"lambda\": 0.1}, "                         \
  "\"calibration_encoder\": {\"threshold\": 200, \"lambda\": 0.2}, "    \
  "\"calibration_hybrid\": {\"threshold\": 150, \"iterations\": 5, "    \
  "\"learning_rate\": 0.02, \"lambda\": 0.15}"

static const gdouble mode_thresholds[] = { 100, 200, 150 };

/* tests/golden/data/dcgan32/model.safetensors (which has no card) with an
 * encoder of random weights and the members of @card, a JSON object's
 * members, added to its description; saved as @name in model_dir.
 * Returns the file's path. */
static gchar *
make_model (const gchar * name, const gchar * card)
{
  g_autofree gchar *golden = source_path ("tests/golden/data/dcgan32/"
      "model.safetensors");
  g_autofree gchar *json = g_strdup_printf ("{%s}", card);
  g_autoptr (GError) error = NULL;
  g_autoptr (AnoganModel) plain = anogan_model_load (golden, &error);
  g_autoptr (AnoganModel) m = NULL;
  g_autoptr (JsonNode) node = NULL;
  g_autoptr (GList) members = NULL;
  JsonObject *object;
  gchar *path;

  g_assert_no_error (error);
  m = anogan_model_add_encoder (plain, NULL, 7, &error);
  g_assert_no_error (error);
  node = json_from_string (json, &error);
  g_assert_no_error (error);
  object = json_node_get_object (node);
  members = json_object_get_members (object);
  for (GList *l = members; l; l = l->next)
    json_object_set_member (m->metadata, l->data,
        json_node_copy (json_object_get_member (object, l->data)));
  path = g_build_filename (model_dir, name, NULL);
  g_assert_true (anogan_model_save (m, path, &error));
  g_assert_no_error (error);
  return path;
}

/* A test model made by make_model(), loaded here too, and the tiles of a
 * @width × @height frame at the stride of a tile. */
typedef struct
{
  gchar *path;
  AnoganModel *model;
  gint width;
  gint height;
  GArray *xs;
  GArray *ys;
  guint n;
} Scene;

static void
scene_init (Scene * sc, const gchar * name, const gchar * card, gint width,
    gint height)
{
  sc->path = make_model (name, card);
  sc->model = load_model (sc->path);
  sc->width = width;
  sc->height = height;
  sc->xs = expected_origins (width, TILE, TILE);
  sc->ys = expected_origins (height, TILE, TILE);
  sc->n = sc->xs->len * sc->ys->len;
}

static void
scene_clear (Scene * sc)
{
  g_free (sc->path);
  anogan_model_free (sc->model);
  g_array_unref (sc->xs);
  g_array_unref (sc->ys);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Scene, scene_clear)

/* reference_search() on the scene's tiles of @pixels. */
static gfloat *
scene_search (Scene * sc, const guint8 * pixels,
    const AnoganSearchOptions * o, const gfloat * z_in, gfloat ** z_out,
    AnoganPatchResult ** results)
{
  return reference_search (sc->model, pixels, sc->width, sc->xs, sc->ys, o,
      z_in, z_out, results);
}

/* The options the element takes from MODE_CARDS for @mode. */
static void
mode_options (AnoganSearchOptions * o, AnoganMode mode)
{
  anogan_search_options_init (o);
  o->threads = 1;
  switch (mode) {
    case ANOGAN_MODE_OPTIMISE:
      o->iterations = 3;
      o->learning_rate = 0.01f;
      o->lambda = 0.1f;
      break;
    case ANOGAN_MODE_ENCODER:
      anogan_search_options_set_mode (o, mode, -1);
      o->lambda = 0.2f;
      break;
    case ANOGAN_MODE_HYBRID:
      anogan_search_options_set_mode (o, mode, 5);
      o->learning_rate = 0.02f;
      o->lambda = 0.15f;
      break;
  }
}

static const gchar *
mode_of (const GstStructure * s)
{
  const gchar *mode = gst_structure_get_string (s, "mode");

  g_assert_nonnull (mode);
  return mode;
}

/* Each mode's tile scores are those of a search run here with the mode's
 * settings from the card, its steps those the search took (none in the
 * encoder mode); the meta and the message carry the mode and the mode's
 * threshold. */
static void
test_mode_scores (void)
{
  const gint w = 96, h = 64;
  g_auto (Scene) sc = { 0 };
  g_autofree guint8 *pixels = texture (w, h, 21);
  guint n;

  scene_init (&sc, "modes.safetensors", MODE_CARDS, w, h);
  n = sc.n;

  for (gint mode = ANOGAN_MODE_OPTIMISE; mode <= ANOGAN_MODE_HYBRID; mode++) {
    g_autofree AnoganPatchResult *found = NULL;
    g_autofree gfloat *want = NULL;
    AnoganSearchOptions o;
    GstBus *bus;
    GstHarness *hs;
    GstBuffer *out;
    GstMessage *msg;
    const GstStructure *s;

    mode_options (&o, mode);
    want = scene_search (&sc, pixels, &o, NULL, NULL, &found);
    hs = start (make_filter ("model", sc.path, "mode", mode + 1, "iterations",
            0, NULL), "GRAY8", w, h, &bus);
    out = push_pull (hs, gray_frame (pixels, w, h, 0));
    s = result_of (out);

    g_test_message ("mode %s", anogan_mode_name (mode));
    g_assert_cmpstr (mode_of (s), ==, anogan_mode_name (mode));
    g_assert_cmpfloat (get_double (s, "threshold"), ==, mode_thresholds[mode]);
    assert_scores_match (s, want, n);
    for (guint i = 0; i < n; i++) {
      g_assert_cmpint (array_int (s, "iterations", i), ==,
          found[i].iterations);
      g_assert_cmpint (found[i].iterations, ==, o.iterations);
    }
    g_assert_cmpint (get_int (s, "tiles-analysed"), ==, n);

    msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ELEMENT);
    g_assert_nonnull (msg);
    g_assert_cmpstr (mode_of (gst_message_get_structure (msg)), ==,
        anogan_mode_name (mode));
    g_assert_cmpfloat (get_double (gst_message_get_structure (msg),
            "threshold"), ==, mode_thresholds[mode]);
    g_assert_cmpuint (array_size (gst_message_get_structure (msg),
            "iterations"), ==, n);
    gst_message_unref (msg);
    g_assert_null (gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING));

    gst_buffer_unref (out);
    stop (hs, bus);
  }
}

/* auto runs the mode the card recommends when the model is calibrated for
 * it, else encoder, else hybrid, as far as the model is calibrated for
 * them, else optimise; at each mode's threshold. */
static void
test_mode_auto (void)
{
  static const struct
  {
    const gchar *card;          /* NULL: the embedded model */
    AnoganMode want;
  } cases[] = {
    {MODE_CARDS, ANOGAN_MODE_ENCODER},
    {MODE_CARDS ", \"recommended_mode\": \"hybrid\"", ANOGAN_MODE_HYBRID},
    {"\"calibration_hybrid\": {\"threshold\": 150}", ANOGAN_MODE_HYBRID},
    {MODE_CARDS ", \"recommended_mode\": \"optimise\"", ANOGAN_MODE_OPTIMISE},
    {"\"calibration_encoder\": {\"threshold\": 200}, "
          "\"recommended_mode\": \"hybrid\"", ANOGAN_MODE_ENCODER},
    {"\"calibration\": {\"threshold\": 100}", ANOGAN_MODE_OPTIMISE},
    {NULL, ANOGAN_MODE_ENCODER},        /* calibrated for every mode */
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autofree gchar *name = g_strdup_printf ("auto-%u.safetensors", i);
    g_autofree gchar *path = cases[i].card ? make_model (name,
        cases[i].card) : NULL;
    GstHarness *h = start (make_filter ("model", path, "mode", 0 /* auto */ ,
            NULL), "GRAY8", 64, 48, NULL);
    GstBuffer *out = push_pull (h, make_frame ("GRAY8", 64, 48, i, 0));
    gint mode;

    g_test_message ("case %u", i);
    g_object_get (h->element, "mode", &mode, NULL);
    g_assert_cmpint (mode, ==, 0 /* auto */ );
    g_assert_cmpstr (mode_of (result_of (out)), ==,
        anogan_mode_name (cases[i].want));
    if (cases[i].card)
      g_assert_cmpfloat (get_double (result_of (out), "threshold"), ==,
          mode_thresholds[cases[i].want]);
    gst_buffer_unref (out);
    gst_harness_teardown (h);
  }
}

/* The mode changes while playing, from the next frame: the same frame is
 * analysed anew in each mode, and coming back to a mode gives its scores
 * again. */
static void
test_mode_change (void)
{
  const gint w = 64, h = 64;
  g_auto (Scene) sc = { 0 };
  g_autofree guint8 *pixels = texture (w, h, 5);
  static const AnoganMode order[] = {
    ANOGAN_MODE_OPTIMISE, ANOGAN_MODE_ENCODER, ANOGAN_MODE_HYBRID,
    ANOGAN_MODE_ENCODER,
  };
  GstHarness *hs;

  scene_init (&sc, "change.safetensors", MODE_CARDS, w, h);
  hs = start (make_filter ("model", sc.path, "iterations", 0, NULL), "GRAY8",
      w, h, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (order); i++) {
    g_autofree gfloat *want = NULL;
    AnoganSearchOptions o;
    GstBuffer *out;
    const GstStructure *s;

    mode_options (&o, order[i]);
    want = scene_search (&sc, pixels, &o, NULL, NULL, NULL);
    g_object_set (hs->element, "mode", order[i] + 1, NULL);
    out = push_pull (hs, gray_frame (pixels, w, h, i * FRAME_DURATION));
    s = result_of (out);
    g_assert_cmpstr (mode_of (s), ==, anogan_mode_name (order[i]));
    g_assert_cmpint (get_int (s, "tiles-analysed"), ==, 4);
    assert_scores_match (s, want, 4);
    if (order[i] == ANOGAN_MODE_ENCODER)
      for (guint t = 0; t < 4; t++)
        g_assert_cmpint (array_int (s, "iterations", t), ==, 0);
    gst_buffer_unref (out);
  }
  gst_harness_teardown (hs);
}

/* A model without an encoder cannot run the encoder modes: asked before
 * it is loaded, or loaded while they are asked for, the element searches
 * in mode optimise and says so with a warning message. */
static void
test_mode_fallback (void)
{
  g_autofree gchar *path = make_model ("fallback.safetensors", MODE_CARDS);
  g_autofree gchar *plain = source_path ("tests/golden/data/dcgan32/"
      "model.safetensors");
  GstBus *bus;
  GstHarness *h;
  GstBuffer *out;
  GstMessage *msg;
  gint mode;

  /* a model without an encoder, mode=encoder set before it is loaded */
  h = start (make_filter ("model", plain, "mode", 2 /* encoder */ , NULL),
      "GRAY8", 64, 48, &bus);
  out = push_pull (h, make_frame ("GRAY8", 64, 48, 0, 0));
  g_assert_cmpstr (mode_of (result_of (out)), ==, "optimise");
  gst_buffer_unref (out);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING);
  g_assert_nonnull (msg);
  gst_message_unref (msg);
  /* said once */
  gst_buffer_unref (push_pull (h, make_frame ("GRAY8", 64, 48, 1,
              FRAME_DURATION)));
  g_assert_null (gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING));
  /* what was asked for stays asked for */
  g_object_get (h->element, "mode", &mode, NULL);
  g_assert_cmpint (mode, ==, 2);
  stop (h, bus);

  /* a model with an encoder in mode encoder, then one without */
  h = start (make_filter ("model", path, "mode", 2, NULL), "GRAY8", 64, 48,
      &bus);
  out = push_pull (h, make_frame ("GRAY8", 64, 48, 0, 0));
  g_assert_cmpstr (mode_of (result_of (out)), ==, "encoder");
  gst_buffer_unref (out);
  g_assert_null (gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING));
  g_object_set (h->element, "model", plain, NULL);
  out = push_until_model (h, "fallback.safetensors", "model.safetensors");
  g_assert_cmpstr (mode_of (result_of (out)), ==, "optimise");
  gst_buffer_unref (out);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING);
  g_assert_nonnull (msg);
  {
    GError *error = NULL;

    gst_message_parse_warning (msg, &error, NULL);
    g_assert_nonnull (strstr (error->message, "no encoder"));
    g_error_free (error);
  }
  gst_message_unref (msg);
  stop (h, bus);
}

/* Early stop: with patience, some tile stops before the last step, as the
 * search run here with the same patience does; the card's patience is
 * the default, and 0 turns it off. */
static void
test_early_stop (void)
{
  const gint w = 96, h = 64, steps = 40;
  g_auto (Scene) sc = { 0 };
  g_autofree guint8 *pixels = texture (w, h, 8);
  g_autofree AnoganPatchResult *found = NULL;
  g_autofree gfloat *want = NULL;
  AnoganSearchOptions o;
  guint n;

  scene_init (&sc, "patience.safetensors", "\"calibration\": "
      "{\"threshold\": 100, \"iterations\": 40, \"patience\": 2, "
      "\"tolerance\": 0.02}", w, h);
  n = sc.n;
  anogan_search_options_init (&o);
  o.iterations = steps;
  o.patience = 2;
  o.tolerance = 0.02f;
  o.threads = 1;
  want = scene_search (&sc, pixels, &o, NULL, NULL, &found);

  for (gint explicit = 0; explicit < 3; explicit++) {
    /* 0: the card's patience; 1: the same set as properties; 2: off */
    GstElement *e = make_filter ("model", sc.path, "mode", 1, "iterations",
        0, NULL);
    GstHarness *hs;
    GstBuffer *out;
    const GstStructure *s;
    guint stopped = 0;

    if (explicit == 1)
      g_object_set (e, "patience", 2, "tolerance", 0.02f, NULL);
    else if (explicit == 2)
      g_object_set (e, "patience", 0, NULL);
    hs = start (e, "GRAY8", w, h, NULL);
    out = push_pull (hs, gray_frame (pixels, w, h, 0));
    s = result_of (out);
    for (guint i = 0; i < n; i++) {
      const gint it = array_int (s, "iterations", i);

      if (explicit == 2) {
        g_assert_cmpint (it, ==, steps);
      } else {
        g_assert_cmpint (it, ==, found[i].iterations);
        stopped += it < steps;
      }
    }
    if (explicit < 2) {
      g_assert_cmpuint (stopped, >, 0);
      assert_scores_match (s, want, n);
    }
    gst_buffer_unref (out);
    gst_harness_teardown (hs);
  }
}

/* The hybrid screen: tiles whose loss at the encoder's start is at most
 * refine-above × threshold take no step and keep that loss; the others
 * step, as the search run here with the same screen does.  The card's
 * fraction is the default. */
static void
test_refine_above (void)
{
  const gint w = 96, h = 64;
  g_auto (Scene) sc = { 0 };
  g_autofree guint8 *pixels = texture (w, h, 13);
  g_autofree gfloat *start_loss = NULL;
  g_autofree gfloat *sorted = NULL;
  g_autofree gfloat *want = NULL;
  g_autofree AnoganPatchResult *found = NULL;
  g_autofree gchar *card = NULL;
  g_autofree gchar *carded = NULL;
  AnoganSearchOptions o;
  gfloat cut;
  guint n;

  scene_init (&sc, "screen.safetensors", MODE_CARDS, w, h);
  n = sc.n;
  /* the loss at the encoder's start: hybrid's settings, no steps */
  mode_options (&o, ANOGAN_MODE_HYBRID);
  o.iterations = 0;
  start_loss = scene_search (&sc, pixels, &o, NULL, NULL, NULL);
  sorted = sorted_copy (start_loss, n);
  /* between two tiles' losses: half the tiles are screened */
  cut = (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  g_assert_cmpfloat (sorted[n / 2 - 1], <, sorted[n / 2]);

  mode_options (&o, ANOGAN_MODE_HYBRID);
  o.refine_above = cut;
  want = scene_search (&sc, pixels, &o, NULL, NULL, &found);

  card = g_strdup_printf ("\"calibration_hybrid\": {\"threshold\": 150, "
      "\"iterations\": 5, \"learning_rate\": 0.02, \"lambda\": 0.15, "
      "\"refine_above\": %.9g}", cut / 150.0);
  carded = make_model ("screen-card.safetensors", card);

  for (gint from_card = 0; from_card < 2; from_card++) {
    GstElement *e = make_filter ("model", from_card ? carded : sc.path,
        "mode", 3 /* hybrid */ , "iterations", 0, NULL);
    GstHarness *hs;
    GstBuffer *out;
    const GstStructure *s;
    g_autofree gdouble *scores = NULL;
    guint n_scores;

    if (!from_card)
      g_object_set (e, "threshold", cut, "refine-above", 1.0f, NULL);
    hs = start (e, "GRAY8", w, h, NULL);
    out = push_pull (hs, gray_frame (pixels, w, h, 0));
    s = result_of (out);
    scores = scores_of (s, &n_scores);
    for (guint i = 0; i < n; i++) {
      const gint it = array_int (s, "iterations", i);

      g_assert_cmpint (it, ==, start_loss[i] <= cut ? 0 : 5);
      g_assert_cmpint (it, ==, found[i].iterations);
      if (it == 0)
        g_assert_cmpfloat_with_epsilon (scores[i], start_loss[i],
            1e-5 * start_loss[i]);
    }
    assert_scores_match (s, want, n);
    gst_buffer_unref (out);
    gst_harness_teardown (hs);
  }
}

/* warm-start in the modes: hybrid starts from the last z* instead of the
 * encoder's guess, as the search run here from those z does; the encoder
 * mode's z is always E(x). */
static void
test_mode_warm_start (void)
{
  const gint w = 64, h = 64;
  g_auto (Scene) sc = { 0 };
  g_autofree guint8 *a = texture (w, h, 31);
  g_autofree guint8 *b = texture (w, h, 32);

  scene_init (&sc, "warm.safetensors", MODE_CARDS, w, h);

  for (gint mode = ANOGAN_MODE_ENCODER; mode <= ANOGAN_MODE_HYBRID; mode++) {
    g_autofree gfloat *z = NULL;
    g_autofree gfloat *first = NULL;
    g_autofree gfloat *second = NULL;
    g_autofree gfloat *cold = NULL;
    AnoganSearchOptions o;
    GstHarness *hs;
    GstBuffer *out;

    mode_options (&o, mode);
    first = scene_search (&sc, a, &o, NULL, &z, NULL);
    cold = scene_search (&sc, b, &o, NULL, NULL, NULL);
    if (mode == ANOGAN_MODE_HYBRID)
      second = scene_search (&sc, b, &o, z, NULL, NULL);
    else
      second = g_memdup2 (cold, 4 * sizeof (gfloat));

    hs = start (make_filter ("model", sc.path, "mode", mode + 1,
            "iterations", 0, "warm-start", TRUE, NULL), "GRAY8", w, h, NULL);
    out = push_pull (hs, gray_frame (a, w, h, 0));
    assert_scores_match (result_of (out), first, 4);
    gst_buffer_unref (out);
    out = push_pull (hs, gray_frame (b, w, h, FRAME_DURATION));
    assert_scores_match (result_of (out), second, 4);
    gst_buffer_unref (out);
    if (mode == ANOGAN_MODE_HYBRID)
      g_assert_true (memcmp (second, cold, 4 * sizeof (gfloat)) != 0);
    gst_harness_teardown (hs);
  }
}

/* Pushes @pixels and returns the result's scores; *analysed gets the
 * number of tiles analysed and @flags (n entries), when given, which. */
static gdouble *
push_scored (GstHarness * h, const guint8 * pixels, gint w, gint height,
    GstClockTime pts, gint * analysed, gboolean * flags, guint n)
{
  GstBuffer *out = push_pull (h, gray_frame (pixels, w, height, pts));
  const GstStructure *s = result_of (out);
  const GValue *array = gst_structure_get_value (s, "analysed");
  gdouble *scores;
  guint n_scores;
  gint count = 0;

  g_assert_nonnull (array);
  g_assert_cmpuint (gst_value_array_get_size (array), ==, n);
  for (guint i = 0; i < n; i++) {
    gboolean a = g_value_get_boolean (gst_value_array_get_value (array, i));

    count += a;
    if (flags)
      flags[i] = a;
    /* a tile not analysed ran no step for this result */
    if (!a)
      g_assert_cmpint (array_int (s, "iterations", i), ==, 0);
  }
  *analysed = get_int (s, "tiles-analysed");
  g_assert_cmpint (*analysed, ==, count);
  scores = scores_of (s, &n_scores);
  g_assert_cmpuint (n_scores, ==, n);
  gst_buffer_unref (out);
  return scores;
}

/* skip-unchanged: a repeated frame analyses no tile and keeps every score;
 * a change re-analyses exactly the tiles whose pixels changed (two, where
 * tiles overlap), with the scores of the new pixels; a change within the
 * tolerance is passed over; negative analyses every tile; a new segment,
 * a flush or a new mode analyse every tile again. */
static void
test_skip_unchanged (void)
{
  /* columns at x = 0, 32, 48 (flush with the border), rows at y = 0, 32 */
  const gint w = 80, h = 64;
  const guint n = 6;
  g_auto (Scene) sc = { 0 };
  g_autofree guint8 *f1 = texture (w, h, 41);
  g_autofree guint8 *f2 = g_memdup2 (f1, w * h);
  g_autofree guint8 *f3 = NULL;
  g_autofree gfloat *want2 = NULL;
  g_autofree gdouble *s1 = NULL;
  AnoganSearchOptions o;
  GstHarness *hs;
  gboolean flags[6];
  GstSegment segment;
  gint analysed;
  gdouble *s;

  scene_init (&sc, "skip.safetensors", MODE_CARDS, w, h);
  g_assert_cmpuint (sc.n, ==, n);
  hs = start (make_filter ("model", sc.path, "mode", 2 /* encoder */ , NULL),
      "GRAY8", w, h, NULL);
  s1 = push_scored (hs, f1, w, h, 0, &analysed, NULL, n);
  g_assert_cmpint (analysed, ==, n);

  /* the same frame again: nothing analysed, the same scores */
  s = push_scored (hs, f1, w, h, FRAME_DURATION, &analysed, NULL, n);
  g_assert_cmpint (analysed, ==, 0);
  g_assert_cmpmem (s, n * sizeof (gdouble), s1, n * sizeof (gdouble));
  g_free (s);

  /* pixels at x 50-52, y 5-7: in tiles 1 (x 32-63) and 2 (x 48-79) */
  for (gint y = 5; y < 8; y++)
    for (gint x = 50; x < 53; x++)
      f2[y * w + x] += 97;
  mode_options (&o, ANOGAN_MODE_ENCODER);
  want2 = scene_search (&sc, f2, &o, NULL, NULL, NULL);
  s = push_scored (hs, f2, w, h, 2 * FRAME_DURATION, &analysed, flags, n);
  g_assert_cmpint (analysed, ==, 2);
  for (guint i = 0; i < n; i++) {
    g_assert_cmpint (flags[i], ==, i == 1 || i == 2);
    if (flags[i])
      g_assert_cmpfloat_with_epsilon (s[i], want2[i], 1e-5 * want2[i]);
    else
      g_assert_cmpfloat (s[i], ==, s1[i]);
  }
  g_free (s);

  /* one level up at one pixel of tile 3: far within half a level on
   * average, and not identical */
  f3 = g_memdup2 (f2, w * h);
  f3[40 * w + 3] = f3[40 * w + 3] == 255 ? 254 : f3[40 * w + 3] + 1;
  g_object_set (hs->element, "skip-unchanged", 0.5f, NULL);
  s = push_scored (hs, f3, w, h, 3 * FRAME_DURATION, &analysed, NULL, n);
  g_assert_cmpint (analysed, ==, 0);
  g_free (s);
  g_object_set (hs->element, "skip-unchanged", 0.0f, NULL);
  s = push_scored (hs, f3, w, h, 4 * FRAME_DURATION, &analysed, flags, n);
  g_assert_cmpint (analysed, ==, 1);
  g_assert_true (flags[3]);
  g_free (s);

  /* off: every tile, every frame */
  g_object_set (hs->element, "skip-unchanged", -1.0f, NULL);
  s = push_scored (hs, f3, w, h, 5 * FRAME_DURATION, &analysed, NULL, n);
  g_assert_cmpint (analysed, ==, n);
  g_free (s);
  g_object_set (hs->element, "skip-unchanged", 0.0f, NULL);
  s = push_scored (hs, f3, w, h, 6 * FRAME_DURATION, &analysed, NULL, n);
  g_assert_cmpint (analysed, ==, 0);
  g_free (s);

  /* a seek: a new segment, with and without a flush before it */
  gst_segment_init (&segment, GST_FORMAT_TIME);
  g_assert_true (gst_harness_push_event (hs, gst_event_new_segment (&segment)));
  s = push_scored (hs, f3, w, h, 0, &analysed, NULL, n);
  g_assert_cmpint (analysed, ==, n);
  g_free (s);
  g_assert_true (gst_harness_push_event (hs, gst_event_new_flush_start ()));
  g_assert_true (gst_harness_push_event (hs, gst_event_new_flush_stop (TRUE)));
  g_assert_true (gst_harness_push_event (hs, gst_event_new_segment (&segment)));
  s = push_scored (hs, f3, w, h, 0, &analysed, NULL, n);
  g_assert_cmpint (analysed, ==, n);
  g_free (s);

  /* another mode: its own scores for every tile */
  g_object_set (hs->element, "mode", 3 /* hybrid */ , NULL);
  s = push_scored (hs, f3, w, h, FRAME_DURATION, &analysed, NULL, n);
  g_assert_cmpint (analysed, ==, n);
  g_free (s);
  s = push_scored (hs, f3, w, h, 2 * FRAME_DURATION, &analysed, NULL, n);
  g_assert_cmpint (analysed, ==, 0);
  g_free (s);

  gst_harness_teardown (hs);
}

/* ---- detection with the embedded model ---------------------------------- */

/* tests/frames/brick-belt-frame.png is a defect-free frame of the demo clip
 * (media/brick-belt.webm, frame 0).  A crop of it passes as normal; the
 * same crop with a dark hole pasted on it is flagged, and its worst tile
 * is the hole's.  The element runs at the settings its model's threshold
 * was calibrated with (its defaults), so this is the out-of-the-box
 * behaviour a user gets.
 *
 * The crop holds brick faces, straight mortar and one joint, all of which
 * the model draws well.  Elsewhere the same frame has H-shaped meetings of
 * joints that G draws a few pixels off: they score up to the threshold
 * (docs/results.md says how often), so they would test the model's
 * weakness, not the element. */

/* 4 × 3 tiles, on the frame's own tile grid. */
#define CROP_X 128
#define CROP_Y 32
#define CROP_WIDTH 128
#define CROP_HEIGHT 96

/* A disc as dark as the clip's holes, centred in one tile. */
#define HOLE_COLUMN 1
#define HOLE_ROW 1
#define HOLE_RADIUS 8.5
#define HOLE_LEVEL 47

/* The crop of the frame, GRAY8, rows unpadded. */
static guint8 *
load_crop (void)
{
  g_autofree gchar *path = source_path ("tests/frames/brick-belt-frame.png");
  g_autoptr (GError) error = NULL;
  g_autoptr (GdkPixbuf) pixbuf = gdk_pixbuf_new_from_file (path, &error);
  guint8 *crop = g_malloc (CROP_WIDTH * CROP_HEIGHT);
  const guint8 *pixels;
  gint stride, channels;

  g_assert_no_error (error);
  g_assert_cmpint (gdk_pixbuf_get_width (pixbuf), >=, CROP_X + CROP_WIDTH);
  g_assert_cmpint (gdk_pixbuf_get_height (pixbuf), >=, CROP_Y + CROP_HEIGHT);
  pixels = gdk_pixbuf_read_pixels (pixbuf);
  stride = gdk_pixbuf_get_rowstride (pixbuf);
  channels = gdk_pixbuf_get_n_channels (pixbuf);
  /* A grey picture: R = G = B, so the red channel is the grey value. */
  for (gint y = 0; y < CROP_HEIGHT; y++)
    for (gint x = 0; x < CROP_WIDTH; x++)
      crop[y * CROP_WIDTH + x] = pixels[(gsize) (CROP_Y + y) * stride
          + (gsize) (CROP_X + x) * channels];
  return crop;
}

static void
paste_hole (guint8 * crop)
{
  const gdouble cx = HOLE_COLUMN * TILE + TILE / 2.0 - 0.5;
  const gdouble cy = HOLE_ROW * TILE + TILE / 2.0 - 0.5;

  for (gint y = 0; y < CROP_HEIGHT; y++)
    for (gint x = 0; x < CROP_WIDTH; x++)
      if (hypot (x - cx, y - cy) <= HOLE_RADIUS)
        crop[y * CROP_WIDTH + x] = HOLE_LEVEL;
}

/* Analyses @pixels and returns its result; *worst is the number of its
 * highest-scoring tile. */
static GstBuffer *
judge (GstHarness * h, const guint8 * pixels, GstClockTime pts, guint * worst)
{
  GstBuffer *out = push_pull (h, gray_frame (pixels, CROP_WIDTH,
          CROP_HEIGHT, pts));
  const GstStructure *s = result_of (out);
  g_autofree gdouble *scores = NULL;
  guint n;

  g_assert_nonnull (s);
  g_assert_cmpint (get_int (s, "columns"), ==, CROP_WIDTH / TILE);
  g_assert_cmpint (get_int (s, "rows"), ==, CROP_HEIGHT / TILE);
  scores = scores_of (s, &n);
  *worst = 0;
  for (guint i = 0; i < n; i++) {
    g_test_message ("tile %u: %.1f", i, scores[i]);
    if (scores[i] > scores[*worst])
      *worst = i;
  }
  return out;
}

static void
test_detect_hole (void)
{
  g_autofree guint8 *crop = load_crop ();
  g_autofree guint8 *defective = g_memdup2 (crop, CROP_WIDTH * CROP_HEIGHT);
  GstHarness *h = gst_harness_new_parse ("anoganfilter schedule=every-frame "
      "overlay=none");
  GstBuffer *normal, *hole;
  gboolean anomalous;
  guint worst;

  gst_harness_set_src_caps_str (h, "video/x-raw,format=GRAY8,width=128,"
      "height=96,framerate=15/1");
  paste_hole (defective);

  normal = judge (h, crop, 0, &worst);
  g_assert_true (isfinite (get_double (result_of (normal), "threshold")));
  g_assert_true (gst_structure_get_boolean (result_of (normal), "anomalous",
          &anomalous));
  g_assert_false (anomalous);
  g_assert_cmpfloat (get_double (result_of (normal), "score"), <,
      get_double (result_of (normal), "threshold"));

  hole = judge (h, defective, FRAME_DURATION, &worst);
  g_assert_true (gst_structure_get_boolean (result_of (hole), "anomalous",
          &anomalous));
  g_assert_true (anomalous);
  g_assert_cmpfloat (get_double (result_of (hole), "score"), >=,
      get_double (result_of (hole), "threshold"));
  g_assert_cmpuint (worst, ==, HOLE_ROW * (CROP_WIDTH / TILE) + HOLE_COLUMN);

  gst_buffer_unref (normal);
  gst_buffer_unref (hole);
  gst_harness_teardown (h);
}

int
main (int argc, char **argv)
{
  int ret;

  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/anoganfilter/caps/accepted", test_caps_accepted);
  g_test_add_func ("/anoganfilter/caps/refused", test_caps_refused);
  g_test_add_func ("/anoganfilter/caps/layouts-agree",
      test_caps_layouts_agree);
  g_test_add_func ("/anoganfilter/tiling/layout", test_tiling_layout);
  g_test_add_func ("/anoganfilter/tiling/small-frame-padded",
      test_tiling_small_frame_padded);
  g_test_add_func ("/anoganfilter/tiling/roi", test_tiling_roi);
  g_test_add_func ("/anoganfilter/tiling/stride-too-large",
      test_tiling_stride_too_large);
  g_test_add_func ("/anoganfilter/meta/fields", test_meta_fields);
  g_test_add_func ("/anoganfilter/meta/model-calibration",
      test_meta_model_calibration);
  g_test_add_func ("/anoganfilter/messages", test_messages);
  g_test_add_func ("/anoganfilter/determinism", test_determinism);
  g_test_add_func ("/anoganfilter/warm-start", test_warm_start);
  g_test_add_func ("/anoganfilter/interval", test_interval);
  g_test_add_func ("/anoganfilter/latest-frame", test_latest_frame);
  g_test_add_func ("/anoganfilter/latest-frame/flush",
      test_latest_frame_flush);
  g_test_add_func ("/anoganfilter/overlay", test_overlay);
  g_test_add_func ("/anoganfilter/overlay/meta", test_overlay_meta);
  g_test_add_func ("/anoganfilter/overlay/meta-draws-the-same",
      test_overlay_meta_draws_the_same);
  g_test_add_func ("/anoganfilter/overlay/meta-joins-upstream",
      test_overlay_meta_joins_upstream);
  g_test_add_func ("/anoganfilter/model/bad", test_model_bad);
  g_test_add_func ("/anoganfilter/model/swap", test_model_swap);
  g_test_add_func ("/anoganfilter/property/roi-refused",
      test_property_roi_refused);
  g_test_add_func ("/anoganfilter/property/out-of-range",
      test_property_out_of_range);
  g_test_add_func ("/anoganfilter/property/modes-refused",
      test_property_modes_refused);
  g_test_add_func ("/anoganfilter/state-cycles", test_state_cycles);
  g_test_add_func ("/anoganfilter/renegotiation", test_renegotiation);
  g_test_add_func ("/anoganfilter/detect/hole-is-found", test_detect_hole);
  g_test_add_func ("/anoganfilter/latency", test_latency);
  g_test_add_func ("/anoganfilter/mode/scores", test_mode_scores);
  g_test_add_func ("/anoganfilter/mode/auto", test_mode_auto);
  g_test_add_func ("/anoganfilter/mode/change", test_mode_change);
  g_test_add_func ("/anoganfilter/mode/fallback", test_mode_fallback);
  g_test_add_func ("/anoganfilter/mode/warm-start", test_mode_warm_start);
  g_test_add_func ("/anoganfilter/early-stop", test_early_stop);
  g_test_add_func ("/anoganfilter/refine-above", test_refine_above);
  g_test_add_func ("/anoganfilter/skip-unchanged", test_skip_unchanged);

  model_dir = g_dir_make_tmp ("anoganfilter-XXXXXX", NULL);
  g_assert_nonnull (model_dir);
  ret = g_test_run ();
  {
    GDir *dir = g_dir_open (model_dir, 0, NULL);
    const gchar *name;

    while (dir && (name = g_dir_read_name (dir))) {
      g_autofree gchar *file = g_build_filename (model_dir, name, NULL);

      g_unlink (file);
    }
    if (dir)
      g_dir_close (dir);
    g_rmdir (model_dir);
    g_free (model_dir);
  }
  gst_deinit ();
  return ret;
}
