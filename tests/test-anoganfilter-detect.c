/* test-anoganfilter-detect.c: the element with its embedded model finds a
 * defect on the material that model knows
 *
 * Copyright (C) 2026 the gst-anogan authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * tests/frames/brick-belt-frame.png is a defect-free frame of the demo clip
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
 * weakness, not the element.
 */
#include <gdk-pixbuf/gdk-pixbuf.h>
#include <gst/check/gstharness.h>
#include <gst/gst.h>
#include <gst/video/video.h>
#include <math.h>
#include <string.h>

#include "gstanoganmeta.h"

/* The crop: 4 × 3 tiles of the model's 32 × 32, on the frame's own tile
 * grid. */
#define CROP_X 128
#define CROP_Y 32
#define CROP_WIDTH 128
#define CROP_HEIGHT 96
#define TILE 32

/* The hole: a disc as dark as the clip's holes, centred in one tile. */
#define HOLE_COLUMN 1
#define HOLE_ROW 1
#define HOLE_RADIUS 8.5
#define HOLE_LEVEL 47

/* The crop of the frame, GRAY8, rows unpadded. */
static guint8 *
load_crop (void)
{
  g_autofree gchar *path = g_build_filename (g_getenv ("ANOGAN_SOURCE_ROOT"),
      "tests", "frames", "brick-belt-frame.png", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GdkPixbuf) pixbuf = gdk_pixbuf_new_from_file (path, &error);
  guint8 *crop = g_malloc (CROP_WIDTH * CROP_HEIGHT);
  const guint8 *pixels;
  int stride, channels;

  g_assert_no_error (error);
  g_assert_cmpint (gdk_pixbuf_get_width (pixbuf), >=, CROP_X + CROP_WIDTH);
  g_assert_cmpint (gdk_pixbuf_get_height (pixbuf), >=, CROP_Y + CROP_HEIGHT);
  pixels = gdk_pixbuf_read_pixels (pixbuf);
  stride = gdk_pixbuf_get_rowstride (pixbuf);
  channels = gdk_pixbuf_get_n_channels (pixbuf);
  /* A grey picture: R = G = B, so the red channel is the grey value. */
  for (int y = 0; y < CROP_HEIGHT; y++)
    for (int x = 0; x < CROP_WIDTH; x++)
      crop[y * CROP_WIDTH + x] = pixels[(gsize) (CROP_Y + y) * stride
          + (gsize) (CROP_X + x) * channels];
  return crop;
}

static void
paste_hole (guint8 * crop)
{
  const double cx = HOLE_COLUMN * TILE + TILE / 2.0 - 0.5;
  const double cy = HOLE_ROW * TILE + TILE / 2.0 - 0.5;

  for (int y = 0; y < CROP_HEIGHT; y++)
    for (int x = 0; x < CROP_WIDTH; x++)
      if (hypot (x - cx, y - cy) <= HOLE_RADIUS)
        crop[y * CROP_WIDTH + x] = HOLE_LEVEL;
}

static GstBuffer *
gray_buffer (const guint8 * pixels, GstClockTime pts)
{
  GstVideoInfo info;
  GstVideoFrame frame;
  GstBuffer *buffer;

  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_GRAY8, CROP_WIDTH,
      CROP_HEIGHT);
  buffer = gst_buffer_new_allocate (NULL, GST_VIDEO_INFO_SIZE (&info), NULL);
  g_assert_true (gst_video_frame_map (&frame, &info, buffer, GST_MAP_WRITE));
  for (int y = 0; y < CROP_HEIGHT; y++)
    memcpy ((guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&frame, 0)
        + (gsize) y * GST_VIDEO_FRAME_PLANE_STRIDE (&frame, 0),
        pixels + (gsize) y * CROP_WIDTH, CROP_WIDTH);
  gst_video_frame_unmap (&frame);
  GST_BUFFER_PTS (buffer) = pts;
  GST_BUFFER_DURATION (buffer) = GST_SECOND / 15;
  return buffer;
}

typedef struct {
  gboolean anomalous;
  gdouble score;
  gdouble threshold;
  int worst_column;
  int worst_row;
} Verdict;

static Verdict
judge (GstHarness * h, const guint8 * pixels, GstClockTime pts)
{
  GstBuffer *out;
  GstCustomMeta *meta;
  const GstStructure *s;
  const GValue *scores;
  int columns, rows, worst = 0;
  Verdict v = { 0 };

  g_assert_cmpint (gst_harness_push (h, gray_buffer (pixels, pts)), ==,
      GST_FLOW_OK);
  out = gst_harness_pull (h);
  meta = gst_buffer_get_custom_meta (out, GST_ANOGAN_META_NAME);
  g_assert_nonnull (meta);
  s = gst_custom_meta_get_structure (meta);
  g_assert_true (gst_structure_get_boolean (s, "anomalous", &v.anomalous));
  g_assert_true (gst_structure_get_double (s, "score", &v.score));
  g_assert_true (gst_structure_get_double (s, "threshold", &v.threshold));
  g_assert_true (gst_structure_get_int (s, "columns", &columns));
  g_assert_true (gst_structure_get_int (s, "rows", &rows));
  g_assert_cmpint (columns, ==, CROP_WIDTH / TILE);
  g_assert_cmpint (rows, ==, CROP_HEIGHT / TILE);
  scores = gst_structure_get_value (s, "scores");
  for (int i = 1; i < columns * rows; i++)
    if (g_value_get_double (gst_value_array_get_value (scores, i)) >
        g_value_get_double (gst_value_array_get_value (scores, worst)))
      worst = i;
  v.worst_column = worst % columns;
  v.worst_row = worst / columns;
  for (int i = 0; i < columns * rows; i++)
    g_test_message ("tile (%d, %d): %.1f", i % columns, i / columns,
        g_value_get_double (gst_value_array_get_value (scores, i)));
  gst_buffer_unref (out);
  return v;
}

static void
test_hole_is_found (void)
{
  g_autofree guint8 *crop = load_crop ();
  g_autofree guint8 *defective = g_memdup2 (crop, CROP_WIDTH * CROP_HEIGHT);
  GstHarness *h = gst_harness_new_parse ("anoganfilter schedule=every-frame "
      "overlay=none");
  Verdict normal, hole;

  gst_harness_set_src_caps_str (h, "video/x-raw,format=GRAY8,width=128,"
      "height=96,framerate=15/1");
  paste_hole (defective);

  normal = judge (h, crop, 0);
  g_test_message ("normal: score %.1f, threshold %.1f", normal.score,
      normal.threshold);
  hole = judge (h, defective, GST_SECOND / 15);
  g_test_message ("hole: score %.1f at tile (%d, %d)", hole.score,
      hole.worst_column, hole.worst_row);

  g_assert_true (isfinite (normal.threshold));
  g_assert_false (normal.anomalous);
  g_assert_cmpfloat (normal.score, <, normal.threshold);
  g_assert_true (hole.anomalous);
  g_assert_cmpfloat (hole.score, >=, hole.threshold);
  g_assert_cmpint (hole.worst_column, ==, HOLE_COLUMN);
  g_assert_cmpint (hole.worst_row, ==, HOLE_ROW);
  gst_harness_teardown (h);
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/anoganfilter-detect/hole-is-found", test_hole_is_found);
  return g_test_run ();
}
