/* test-anogan-meta.c: anoganfilter's results as buffer metas and messages
 *
 * Copyright (C) 2026 the gst-anogan authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "gstanoganmeta.h"

#include <gst/check/gstharness.h>
#include <gst/video/video.h>
#include <math.h>

/* A 3x2 grid of 64x48 tiles over a 320x240 frame.  131 is no multiple of
 * anything, so that scaling it by 5/8 rounds (81.875 -> 82) where
 * truncating would not. */
static const gint tile_x[] = { 0, 131, 256 };
static const gint tile_y[] = { 0, 192 };
static const gfloat scores[] = { 0.5f, 1.25f, 7.75f, 3.0f, 9.5f, 2.0f };
static const gint iterations[] = { 200, 180, 200, 37, 0, 1 };
static const gboolean analysed[] = { TRUE, TRUE, TRUE, TRUE, FALSE, TRUE };

static GstAnoganResult
make_result (void)
{
  GstAnoganResult r = {
    .score = 9.5f,
    .anomalous = TRUE,
    .threshold = 4.5f,
    .tile_width = 64,
    .tile_height = 48,
    .columns = 3,
    .rows = 2,
    .tile_x = tile_x,
    .tile_y = tile_y,
    .scores = scores,
    .iterations = iterations,
    .analysed = analysed,
    .model = "models/brick/brick.safetensors",
    .mode = "hybrid",
    .processing_time = 123456789,
    .analysed_pts = 40 * GST_MSECOND,
  };
  return r;
}

/* An array field of @n values of @type, G_TYPE_INT or G_TYPE_BOOLEAN
 * (gboolean is a gint), equal to @want. */
static void
assert_array_of (const GstStructure * s, const gchar * field, GType type,
    const gint * want, guint n)
{
  const GValue *array = gst_structure_get_value (s, field);

  g_assert_nonnull (array);
  g_assert_true (GST_VALUE_HOLDS_ARRAY (array));
  g_assert_cmpuint (gst_value_array_get_size (array), ==, n);
  for (guint i = 0; i < n; i++) {
    const GValue *v = gst_value_array_get_value (array, i);

    g_assert_true (G_VALUE_HOLDS (v, type));
    g_assert_cmpint (type == G_TYPE_INT ? g_value_get_int (v) :
        g_value_get_boolean (v), ==, want[i]);
  }
}

static void
assert_int_array (const GstStructure * s, const gchar * field,
    const gint * want, guint n)
{
  assert_array_of (s, field, G_TYPE_INT, want, n);
}

static void
assert_scores (const GstStructure * s)
{
  const GValue *array = gst_structure_get_value (s, "scores");

  g_assert_nonnull (array);
  g_assert_true (GST_VALUE_HOLDS_ARRAY (array));
  g_assert_cmpuint (gst_value_array_get_size (array), ==, 6);
  for (guint i = 0; i < 6; i++) {
    const GValue *v = gst_value_array_get_value (array, i);

    g_assert_true (G_VALUE_HOLDS_DOUBLE (v));
    g_assert_cmpfloat (g_value_get_double (v), ==, scores[i]);
  }
}

static void
assert_field_type (const GstStructure * s, const gchar * field, GType type)
{
  g_assert_true (gst_structure_has_field_typed (s, field, type));
}

static void
test_structure (void)
{
  GstAnoganResult r = make_result ();
  GstStructure *s = gst_anogan_result_to_structure (&r);
  gdouble d;
  gint i;
  guint64 t;
  gboolean b;

  g_assert_true (gst_structure_has_name (s, "AnoganMeta"));
  g_assert_cmpint (gst_structure_n_fields (s), ==, 17);

  assert_field_type (s, "score", G_TYPE_DOUBLE);
  g_assert_true (gst_structure_get_double (s, "score", &d));
  g_assert_cmpfloat (d, ==, 9.5);
  g_assert_true (gst_structure_get_boolean (s, "anomalous", &b));
  g_assert_true (b);
  assert_field_type (s, "threshold", G_TYPE_DOUBLE);
  g_assert_true (gst_structure_get_double (s, "threshold", &d));
  g_assert_cmpfloat (d, ==, 4.5);

  g_assert_true (gst_structure_get_int (s, "tile-width", &i));
  g_assert_cmpint (i, ==, 64);
  g_assert_true (gst_structure_get_int (s, "tile-height", &i));
  g_assert_cmpint (i, ==, 48);
  g_assert_true (gst_structure_get_int (s, "columns", &i));
  g_assert_cmpint (i, ==, 3);
  g_assert_true (gst_structure_get_int (s, "rows", &i));
  g_assert_cmpint (i, ==, 2);

  assert_int_array (s, "tile-x", tile_x, 3);
  assert_int_array (s, "tile-y", tile_y, 2);
  assert_scores (s);
  assert_int_array (s, "iterations", iterations, 6);
  assert_array_of (s, "analysed", G_TYPE_BOOLEAN, analysed, 6);
  g_assert_true (gst_structure_get_int (s, "tiles-analysed", &i));
  g_assert_cmpint (i, ==, 5);

  g_assert_cmpstr (gst_structure_get_string (s, "model"), ==,
      "models/brick/brick.safetensors");
  g_assert_cmpstr (gst_structure_get_string (s, "mode"), ==, "hybrid");
  assert_field_type (s, "processing-time", G_TYPE_UINT64);
  g_assert_true (gst_structure_get_uint64 (s, "processing-time", &t));
  g_assert_cmpuint (t, ==, 123456789);
  g_assert_true (gst_structure_get_uint64 (s, "analysed-pts", &t));
  g_assert_cmpuint (t, ==, 40 * GST_MSECOND);
  gst_structure_free (s);

  /* No threshold: NaN, and an unknown time stays GST_CLOCK_TIME_NONE. */
  r.threshold = NAN;
  r.anomalous = FALSE;
  r.analysed_pts = GST_CLOCK_TIME_NONE;
  s = gst_anogan_result_to_structure (&r);
  g_assert_true (gst_structure_get_double (s, "threshold", &d));
  g_assert_true (isnan (d));
  g_assert_true (gst_structure_get_boolean (s, "anomalous", &b));
  g_assert_false (b);
  g_assert_true (gst_structure_get_uint64 (s, "analysed-pts", &t));
  g_assert_cmpuint (t, ==, GST_CLOCK_TIME_NONE);
  gst_structure_free (s);

  /* No flags: every tile was analysed. */
  r.analysed = NULL;
  s = gst_anogan_result_to_structure (&r);
  {
    static const gboolean all[] = { TRUE, TRUE, TRUE, TRUE, TRUE, TRUE };

    assert_array_of (s, "analysed", G_TYPE_BOOLEAN, all, 6);
  }
  g_assert_true (gst_structure_get_int (s, "tiles-analysed", &i));
  g_assert_cmpint (i, ==, 6);
  gst_structure_free (s);
}

static GstStructure *
meta_structure (GstBuffer * buffer)
{
  GstCustomMeta *meta = gst_buffer_get_custom_meta (buffer, "AnoganMeta");

  g_assert_nonnull (meta);
  return gst_custom_meta_get_structure (meta);
}

static guint
count_metas (GstBuffer * buffer, GType api)
{
  gpointer state = NULL;
  GstMeta *meta;
  guint n = 0;

  while ((meta = gst_buffer_iterate_meta (buffer, &state)))
    n += meta->info->api == api;
  return n;
}

static void
test_registration (void)
{
  const GstMetaInfo *info;

  gst_anogan_meta_register ();
  gst_anogan_meta_register ();
  info = gst_meta_get_info (GST_ANOGAN_META_NAME);
  g_assert_nonnull (info);
  g_assert_true (gst_meta_info_is_custom (info));
  g_assert_true (gst_meta_api_type_has_tag (info->api,
          g_quark_from_string (GST_META_TAG_VIDEO_STR)));
  g_assert_true (gst_meta_api_type_has_tag (info->api,
          g_quark_from_string (GST_META_TAG_VIDEO_SIZE_STR)));
  g_assert_false (gst_meta_api_type_has_tag (info->api,
          g_quark_from_string (GST_META_TAG_VIDEO_ORIENTATION_STR)));
}

static void
test_buffer (void)
{
  GstAnoganResult r = make_result ();
  GstStructure *s = gst_anogan_result_to_structure (&r);
  GstBuffer *buffer = gst_buffer_new_allocate (NULL, 320 * 240 * 4, NULL);
  GstBuffer *copy, *part;
  GstCustomMeta *meta;

  meta = gst_anogan_meta_add (buffer, s);
  g_assert_nonnull (meta);
  g_assert_true (meta == gst_buffer_get_custom_meta (buffer, "AnoganMeta"));
  g_assert_true (gst_structure_is_equal (meta_structure (buffer), s));
  assert_scores (meta_structure (buffer));

  copy = gst_buffer_copy (buffer);
  g_assert_true (gst_structure_is_equal (meta_structure (copy), s));
  g_assert_cmpuint (count_metas (copy, meta->meta.info->api), ==, 1);
  /* A copy is independent of the original. */
  gst_structure_set (meta_structure (copy), "score", G_TYPE_DOUBLE, 0.0,
      NULL);
  g_assert_true (gst_structure_is_equal (meta_structure (buffer), s));

  /* A byte range of the frame is no frame: the tiles stay behind. */
  part = gst_buffer_copy_region (buffer, GST_BUFFER_COPY_ALL, 1024, 4096);
  g_assert_null (gst_buffer_get_custom_meta (part, "AnoganMeta"));

  gst_buffer_unref (part);
  gst_buffer_unref (copy);
  gst_buffer_unref (buffer);
  gst_structure_free (s);
}

/* A 320x240 RGBx buffer with a GstVideoMeta and the result's meta. */
static GstBuffer *
make_frame (void)
{
  GstAnoganResult r = make_result ();
  GstStructure *s = gst_anogan_result_to_structure (&r);
  GstBuffer *buffer = gst_buffer_new_allocate (NULL, 320 * 240 * 4, NULL);

  gst_buffer_memset (buffer, 0, 0x80, 320 * 240 * 4);
  gst_buffer_add_video_meta (buffer, GST_VIDEO_FRAME_FLAG_NONE,
      GST_VIDEO_FORMAT_RGBx, 320, 240);
  gst_anogan_meta_add (buffer, s);
  gst_structure_free (s);
  return buffer;
}

static gint
scaled (gint v, gint to, gint from)
{
  return (gint) lround ((double) v * to / from);
}

/* The geometry of @s is that of make_result() scaled to @w x @h, and the
 * rest is unchanged. */
static void
assert_scaled (const GstStructure * s, gint w, gint h)
{
  gint want_x[3], want_y[2], i;

  for (int k = 0; k < 3; k++)
    want_x[k] = scaled (tile_x[k], w, 320);
  for (int k = 0; k < 2; k++)
    want_y[k] = scaled (tile_y[k], h, 240);
  assert_int_array (s, "tile-x", want_x, 3);
  assert_int_array (s, "tile-y", want_y, 2);
  g_assert_true (gst_structure_get_int (s, "tile-width", &i));
  g_assert_cmpint (i, ==, scaled (64, w, 320));
  g_assert_true (gst_structure_get_int (s, "tile-height", &i));
  g_assert_cmpint (i, ==, scaled (48, h, 240));
  assert_scores (s);
  assert_int_array (s, "iterations", iterations, 6);
}

/* Calls the meta's transform on a fresh buffer; returns the buffer. */
static GstBuffer *
transform (GstBuffer * src, GQuark type, gint w, gint h, gboolean * ok)
{
  const GstMetaInfo *info = gst_meta_get_info (GST_ANOGAN_META_NAME);
  GstMeta *meta = (GstMeta *) gst_buffer_get_custom_meta (src, "AnoganMeta");
  GstBuffer *dest = gst_buffer_new ();
  GstVideoInfo in_info, out_info;
  GstVideoMetaTransform trans = { &in_info, &out_info };

  gst_video_info_set_format (&in_info, GST_VIDEO_FORMAT_RGBx, 320, 240);
  gst_video_info_set_format (&out_info, GST_VIDEO_FORMAT_RGBx, w, h);
  *ok = info->transform_func (dest, meta, src, type, &trans);
  return dest;
}

static void
test_scale (void)
{
  GstBuffer *src = make_frame ();
  GQuark scale = gst_video_meta_transform_scale_get_quark ();
  GstBuffer *dest;
  gboolean ok;
  gint x;

  dest = transform (src, scale, 640, 480, &ok);
  g_assert_true (ok);
  assert_scaled (meta_structure (dest), 640, 480);
  g_assert_true (gst_structure_get_int (meta_structure (dest), "tile-width",
          &x));
  g_assert_cmpint (x, ==, 128);
  gst_buffer_unref (dest);

  /* 5/8: 131 -> 81.875 rounds to 82. */
  dest = transform (src, scale, 200, 150, &ok);
  g_assert_true (ok);
  assert_scaled (meta_structure (dest), 200, 150);
  assert_int_array (meta_structure (dest), "tile-x",
      (const gint[]) { 0, 82, 160 }, 3);
  gst_buffer_unref (dest);

  /* The source is untouched. */
  assert_int_array (meta_structure (src), "tile-x", tile_x, 3);

  /* Any other transform would leave the tiles on the wrong pixels. */
  dest = transform (src, g_quark_from_static_string ("gst-video-rotate"),
      240, 320, &ok);
  g_assert_false (ok);
  g_assert_null (gst_buffer_get_custom_meta (dest, "AnoganMeta"));
  gst_buffer_unref (dest);

  gst_buffer_unref (src);
}

/* The same through the real videoscale element, which finds the size tag
 * and calls the transform itself. */
static void
test_videoscale (void)
{
  GstPluginFeature *videoscale;
  GstHarness *h;
  GstBuffer *out;
  GstCustomMeta *meta;

  videoscale = gst_registry_lookup_feature (gst_registry_get (), "videoscale");
  if (!videoscale) {
    g_test_skip ("videoscale (gstreamer1.0-plugins-base) is not installed");
    return;
  }
  gst_object_unref (videoscale);

  h = gst_harness_new ("videoscale");
  gst_harness_set_src_caps_str (h,
      "video/x-raw,format=RGBx,width=320,height=240,framerate=25/1");
  gst_harness_set_sink_caps_str (h,
      "video/x-raw,format=RGBx,width=640,height=480,framerate=25/1");
  out = gst_harness_push_and_pull (h, make_frame ());
  g_assert_nonnull (out);

  meta = gst_buffer_get_custom_meta (out, "AnoganMeta");
  g_assert_nonnull (meta);
  g_assert_cmpuint (count_metas (out, meta->meta.info->api), ==, 1);
  assert_scaled (gst_custom_meta_get_structure (meta), 640, 480);

  gst_buffer_unref (out);
  gst_harness_teardown (h);
}

/* A 2x2 grid of 16x16 tiles at stride 16, scores {1, 6, 5, 2}. */
static GstStructure *
make_grid_2x2 (gfloat threshold)
{
  static const gint xy[] = { 0, 16 };
  static const gfloat s[] = { 1, 6, 5, 2 };
  static const gint it[] = { 10, 10, 10, 10 };
  GstAnoganResult r = {
    .score = 6, .anomalous = TRUE, .threshold = threshold,
    .tile_width = 16, .tile_height = 16, .columns = 2, .rows = 2,
    .tile_x = xy, .tile_y = xy, .scores = s, .iterations = it,
    .model = "default", .mode = "optimise",
    .processing_time = 1, .analysed_pts = 0,
  };
  return gst_anogan_result_to_structure (&r);
}

static void
assert_region (GstVideoRegionOfInterestMeta * roi, guint x, guint y,
    gdouble score, gint column, gint row)
{
  GstStructure *param;
  gdouble d;
  gint i;

  g_assert_nonnull (roi);
  g_assert_cmpstr (g_quark_to_string (roi->roi_type), ==, "anomaly");
  g_assert_cmpuint (roi->x, ==, x);
  g_assert_cmpuint (roi->y, ==, y);
  g_assert_cmpuint (roi->w, ==, 16);
  g_assert_cmpuint (roi->h, ==, 16);
  /* the tile's index in the 2 × 2 grid's scores */
  g_assert_cmpint (roi->id, ==, row * 2 + column);

  param = gst_video_region_of_interest_meta_get_param (roi, "anogan");
  g_assert_nonnull (param);
  g_assert_true (gst_structure_get_double (param, "score", &d));
  g_assert_cmpfloat (d, ==, score);
  g_assert_true (gst_structure_get_int (param, "column", &i));
  g_assert_cmpint (i, ==, column);
  g_assert_true (gst_structure_get_int (param, "row", &i));
  g_assert_cmpint (i, ==, row);
}

static void
test_regions (void)
{
  GstStructure *s = make_grid_2x2 (5);
  GstBuffer *buffer = gst_buffer_new ();
  GstVideoRegionOfInterestMeta *rois[3] = { NULL, };
  gpointer state = NULL;
  GstMeta *meta;
  guint n = 0;

  /* 6 > 5 and 5 == 5 count; 1 and 2 do not. */
  g_assert_cmpuint (gst_anogan_meta_add_regions (buffer, s), ==, 2);
  while ((meta = gst_buffer_iterate_meta_filtered (buffer, &state,
              GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE)) && n < 3)
    rois[n++] = (GstVideoRegionOfInterestMeta *) meta;
  g_assert_cmpuint (n, ==, 2);
  /* Whatever order the buffer keeps its metas in, the one on top first. */
  if (rois[0]->y > rois[1]->y) {
    rois[2] = rois[0];
    rois[0] = rois[1];
    rois[1] = rois[2];
  }
  assert_region (rois[0], 16, 0, 6, 1, 0);
  assert_region (rois[1], 0, 16, 5, 0, 1);
  gst_buffer_unref (buffer);
  gst_structure_free (s);

  s = make_grid_2x2 (NAN);
  buffer = gst_buffer_new ();
  g_assert_cmpuint (gst_anogan_meta_add_regions (buffer, s), ==, 0);
  g_assert_cmpuint (count_metas (buffer,
          GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE), ==, 0);
  gst_buffer_unref (buffer);
  gst_structure_free (s);
}

/* A result whose arrays disagree with its grid is reported, not read past
 * its end. */
static void
test_regions_bad (void)
{
  if (g_test_subprocess ()) {
    GstStructure *s = make_grid_2x2 (0);
    GstBuffer *buffer = gst_buffer_new ();
    GValue three = G_VALUE_INIT;

    gst_value_array_init (&three, 3);
    for (int k = 0; k < 3; k++) {
      GValue v = G_VALUE_INIT;

      g_value_init (&v, G_TYPE_DOUBLE);
      g_value_set_double (&v, 9);
      gst_value_array_append_and_take_value (&three, &v);
    }
    gst_structure_take_value (s, "scores", &three);

    /* The test's environment makes criticals fatal; here the critical is
     * what is tested. */
    g_log_set_always_fatal (G_LOG_FATAL_MASK);
    g_assert_cmpuint (gst_anogan_meta_add_regions (buffer, s), ==, 0);
    g_assert_cmpuint (count_metas (buffer,
            GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE), ==, 0);
    gst_buffer_unref (buffer);
    gst_structure_free (s);
    return;
  }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
  g_test_trap_assert_stderr ("*\"scores\" has 3 entries instead of 4*");
}

static void
test_message (void)
{
  static const gchar *const fields[] = {
    "timestamp", "stream-time", "running-time", "duration", "score",
    "anomalous", "threshold", "columns", "rows", "scores", "iterations",
    "analysed", "tiles-analysed", "mode", "analysed-pts", "processing-time",
  };
  GstAnoganResult r = make_result ();
  GstStructure *result = gst_anogan_result_to_structure (&r);
  GstObject *src = GST_OBJECT (gst_bin_new ("anogan0"));
  GstMessage *msg;
  const GstStructure *s;
  guint64 t;

  msg = gst_anogan_message_new (src, result, 5 * GST_SECOND,
      4 * GST_SECOND, 3 * GST_SECOND, 40 * GST_MSECOND);
  g_assert_cmpint (GST_MESSAGE_TYPE (msg), ==, GST_MESSAGE_ELEMENT);
  g_assert_true (GST_MESSAGE_SRC (msg) == src);
  s = gst_message_get_structure (msg);
  g_assert_true (gst_structure_has_name (s, "anogan"));

  g_assert_cmpint (gst_structure_n_fields (s), ==, G_N_ELEMENTS (fields));
  for (gsize k = 0; k < G_N_ELEMENTS (fields); k++) {
    const GValue *v = gst_structure_get_value (s, fields[k]);

    g_assert_nonnull (v);
    /* The first four are the message's own; the rest come from the
     * result unchanged. */
    if (k >= 4)
      g_assert_true (gst_value_compare (v, gst_structure_get_value (result,
                  fields[k])) == GST_VALUE_EQUAL);
  }

  assert_field_type (s, "timestamp", G_TYPE_UINT64);
  g_assert_true (gst_structure_get_uint64 (s, "timestamp", &t));
  g_assert_cmpuint (t, ==, 5 * GST_SECOND);
  g_assert_true (gst_structure_get_uint64 (s, "stream-time", &t));
  g_assert_cmpuint (t, ==, 4 * GST_SECOND);
  g_assert_true (gst_structure_get_uint64 (s, "running-time", &t));
  g_assert_cmpuint (t, ==, 3 * GST_SECOND);
  g_assert_true (gst_structure_get_uint64 (s, "duration", &t));
  g_assert_cmpuint (t, ==, 40 * GST_MSECOND);
  g_assert_true (gst_structure_get_uint64 (s, "analysed-pts", &t));
  g_assert_cmpuint (t, ==, 40 * GST_MSECOND);
  assert_scores (s);

  gst_message_unref (msg);
  gst_object_unref (src);
  gst_structure_free (result);
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/meta/structure", test_structure);
  g_test_add_func ("/meta/registration", test_registration);
  g_test_add_func ("/meta/buffer", test_buffer);
  g_test_add_func ("/meta/scale", test_scale);
  g_test_add_func ("/meta/videoscale", test_videoscale);
  g_test_add_func ("/meta/regions", test_regions);
  g_test_add_func ("/meta/regions-bad", test_regions_bad);
  g_test_add_func ("/meta/message", test_message);

  return g_test_run ();
}
