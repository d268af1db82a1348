/* test-anogan-overlay.c: the overlay's colour map, rectangles and blending
 *
 * Copyright (C) 2026 the gst-anogan authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The blending tests draw on grey frames of every format anoganfilter
 * takes and check, pixel by pixel, that what should change changed to the
 * right colour and that everything else kept its bytes.  Expected colours
 * come from the textbook conversions written out here, not from the code
 * under test.
 */
#include <gst/gst.h>
#include <gst/video/video.h>
#include <math.h>
#include <string.h>

#include "anogan-colormap.h"
#include "gstanoganoverlay.h"

static const char *const formats[] = {
  "GRAY8", "RGB", "BGR", "RGBx", "BGRx", "xRGB", "xBGR", "RGBA", "BGRA",
  "ARGB", "ABGR", "I420", "YV12", "NV12", "NV21",
};

/* ---- the colour map ----------------------------------------------------- */

/* CIE 1976 lightness L* of an sRGB colour: the perceptual lightness the
 * colour map is designed to raise evenly. */
static double
lightness (const guint8 rgb[3])
{
  double lin[3], y, f;

  for (int c = 0; c < 3; c++) {
    double v = rgb[c] / 255.0;
    lin[c] = v <= 0.04045 ? v / 12.92 : pow ((v + 0.055) / 1.055, 2.4);
  }
  y = 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2];
  f = y > 216.0 / 24389.0 ? cbrt (y) : (24389.0 / 27.0 * y + 16.0) / 116.0;
  return 116.0 * f - 16.0;
}

static void
test_colormap (void)
{
  /* inferno's published first and last entries (matplotlib's _cm_listed,
   * as floats). */
  static const double first[3] = { 0.001462, 0.000466, 0.013866 };
  static const double last[3] = { 0.988362, 0.998364, 0.644924 };
  double prev_l = -1.0, prev_luma = -1.0;

  g_assert_cmpuint (G_N_ELEMENTS (anogan_colormap), ==, 256);
  for (int c = 0; c < 3; c++) {
    g_assert_cmpfloat (fabs (anogan_colormap[0][c] - 255.0 * first[c]), <=,
        0.5);
    g_assert_cmpfloat (fabs (anogan_colormap[255][c] - 255.0 * last[c]), <=,
        0.5);
  }
  g_assert_cmpuint (anogan_colormap[0][2], ==, 4);
  g_assert_cmpuint (anogan_colormap[255][0], ==, 252);
  g_assert_cmpuint (anogan_colormap[255][1], ==, 255);
  g_assert_cmpuint (anogan_colormap[255][2], ==, 164);

  for (int i = 0; i < 256; i++) {
    const guint8 *c = anogan_colormap[i];
    double l = lightness (c);
    /* The luma a grey-scale stream shows (BT.601, as for GRAY8). */
    double luma = 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2];

    if (l <= prev_l)
      g_error ("colour map: L* %.3f at %d is not above %.3f at %d", l, i,
          prev_l, i - 1);
    if (luma < prev_luma)
      g_error ("colour map: luma %.3f at %d falls below %.3f at %d", luma, i,
          prev_luma, i - 1);
    prev_l = l;
    prev_luma = luma;
  }
  /* From black to nearly white: the whole range is used. */
  g_assert_cmpfloat (lightness (anogan_colormap[0]), <, 2.0);
  g_assert_cmpfloat (lightness (anogan_colormap[255]), >, 95.0);
}

static void
test_mode_type (void)
{
  GEnumClass *klass = g_type_class_ref (GST_TYPE_ANOGAN_OVERLAY_MODE);
  static const struct {
    int value;
    const char *nick;
  } want[] = {
    {GST_ANOGAN_OVERLAY_NONE, "none"},
    {GST_ANOGAN_OVERLAY_HEATMAP, "heatmap"},
    {GST_ANOGAN_OVERLAY_BOXES, "boxes"},
    {GST_ANOGAN_OVERLAY_BOTH, "both"},
  };

  g_assert_cmpstr (g_type_name (GST_TYPE_ANOGAN_OVERLAY_MODE), ==,
      "GstAnoganOverlayMode");
  g_assert_cmpuint (klass->n_values, ==, G_N_ELEMENTS (want));
  for (guint i = 0; i < G_N_ELEMENTS (want); i++) {
    GEnumValue *v = g_enum_get_value_by_nick (klass, want[i].nick);

    g_assert_nonnull (v);
    g_assert_cmpint (v->value, ==, want[i].value);
    /* A description for gst-inspect, not the C name. */
    g_assert_false (g_str_has_prefix (v->value_name, "GST_"));
    g_assert_cmpuint (strlen (v->value_name), >, 8);
  }
  g_assert_cmpint (GST_ANOGAN_OVERLAY_BOTH, ==,
      GST_ANOGAN_OVERLAY_HEATMAP | GST_ANOGAN_OVERLAY_BOXES);
  g_type_class_unref (klass);
}

/* ---- rendering ---------------------------------------------------------- */

static void
test_nothing_to_draw (void)
{
  gfloat heat[6] = { 0, 0, 0, 0.7f, 0, 0 };
  gfloat cold[6] = { 0, -1.0f, NAN, 0, -0.0f, 0 };
  GstVideoRectangle box = { 8, 8, 16, 16 };
  GstVideoRectangle outside[2] = { {-30, 4, 20, 20}, {70, 50, 10, 10} };
  GstAnoganOverlayParams p = {
    .mode = GST_ANOGAN_OVERLAY_NONE, .alpha = 0.5f,
    .heat = heat, .heat_width = 3, .heat_height = 2,
    .heat_rect = {0, 0, 64, 48}, .boxes = &box, .n_boxes = 1,
  };
  GstAnoganOverlayParams q;

  /* Mode none, with everything else there. */
  g_assert_null (gst_anogan_overlay_render (&p, 64, 48));

  /* A heatmap without heat, without heat above 0 (negative and NaN count
   * as 0), fully transparent, or placed off the frame. */
  q = p;
  q.mode = GST_ANOGAN_OVERLAY_HEATMAP;
  q.heat = NULL;
  g_assert_null (gst_anogan_overlay_render (&q, 64, 48));
  q.heat = cold;
  g_assert_null (gst_anogan_overlay_render (&q, 64, 48));
  q.heat = heat;
  q.alpha = 0.0f;
  g_assert_null (gst_anogan_overlay_render (&q, 64, 48));
  q.alpha = 0.5f;
  q.heat_rect = (GstVideoRectangle) { 64, 0, 10, 10 };
  g_assert_null (gst_anogan_overlay_render (&q, 64, 48));
  q.heat_rect = (GstVideoRectangle) { 0, 0, 0, 48 };
  g_assert_null (gst_anogan_overlay_render (&q, 64, 48));

  /* Boxes: none, empty, or all off the frame. */
  q = p;
  q.mode = GST_ANOGAN_OVERLAY_BOXES;
  q.n_boxes = 0;
  g_assert_null (gst_anogan_overlay_render (&q, 64, 48));
  q.boxes = outside;
  q.n_boxes = 2;
  g_assert_null (gst_anogan_overlay_render (&q, 64, 48));
  q.boxes = &(GstVideoRectangle) { 8, 8, 0, 5};
  q.n_boxes = 1;
  g_assert_null (gst_anogan_overlay_render (&q, 64, 48));

  /* Both, with nothing in either. */
  q.mode = GST_ANOGAN_OVERLAY_BOTH;
  q.heat = cold;
  q.n_boxes = 0;
  g_assert_null (gst_anogan_overlay_render (&q, 64, 48));

  /* And the same heat and box do draw in the modes that ask for them: the
   * NULLs above are not an accident of the data. */
  q = p;
  for (int mode = GST_ANOGAN_OVERLAY_HEATMAP; mode <= GST_ANOGAN_OVERLAY_BOTH;
      mode++) {
    GstVideoOverlayComposition *comp;

    q.mode = mode;
    comp = gst_anogan_overlay_render (&q, 64, 48);
    g_assert_nonnull (comp);
    g_assert_cmpuint (gst_video_overlay_composition_n_rectangles (comp), ==,
        mode == GST_ANOGAN_OVERLAY_BOTH ? 2 : 1);
    gst_video_overlay_composition_unref (comp);
  }
}

/* The unscaled pixels of a rectangle, mapped; the caller unmaps. */
static void
map_rectangle (GstVideoOverlayRectangle *rect, GstVideoFrame *frame)
{
  GstBuffer *pixels =
      gst_video_overlay_rectangle_get_pixels_unscaled_argb (rect,
      GST_VIDEO_OVERLAY_FORMAT_FLAG_PREMULTIPLIED_ALPHA);
  GstVideoMeta *meta = gst_buffer_get_video_meta (pixels);
  GstVideoInfo info;

  g_assert_nonnull (meta);
  g_assert_true (gst_video_info_set_format (&info, meta->format, meta->width,
          meta->height));
  g_assert_true (gst_video_frame_map (frame, &info, pixels, GST_MAP_READ));
}

static guint
pixel_alpha (GstVideoFrame *frame, int x, int y)
{
  return ((guint8 *) GST_VIDEO_FRAME_COMP_DATA (frame, GST_VIDEO_COMP_A))
      [y * GST_VIDEO_FRAME_COMP_STRIDE (frame, GST_VIDEO_COMP_A) + 4 * x];
}

static guint
pixel_component (GstVideoFrame *frame, int comp, int x, int y)
{
  return ((guint8 *) GST_VIDEO_FRAME_COMP_DATA (frame, comp))
      [y * GST_VIDEO_FRAME_COMP_STRIDE (frame, comp) + 4 * x];
}

static void
check_render_rectangle (GstVideoOverlayRectangle *rect, int x, int y,
    guint w, guint h)
{
  gint rx, ry;
  guint rw, rh;

  g_assert_true (gst_video_overlay_rectangle_get_render_rectangle (rect, &rx,
          &ry, &rw, &rh));
  g_assert_cmpint (rx, ==, x);
  g_assert_cmpint (ry, ==, y);
  g_assert_cmpuint (rw, ==, w);
  g_assert_cmpuint (rh, ==, h);
  g_assert_true (gst_video_overlay_rectangle_get_flags (rect) &
      GST_VIDEO_OVERLAY_FORMAT_FLAG_PREMULTIPLIED_ALPHA);
}

static void
test_geometry (void)
{
  /* 4x3 heat over a rectangle that is not the frame; heat above 1 is
   * clamped, the rest shows alpha × heat. */
  gfloat heat[12] = {
    0, 0.25f, 0, 0,
    0, 0, 3.0f, 0,
    0.5f, 0, 0, -2.0f,
  };
  GstVideoRectangle boxes[3] = {
    {16, 16, 16, 16}, {40, 8, 8, 8}, {-5, 40, 20, 20},
  };
  GstAnoganOverlayParams p = {
    .mode = GST_ANOGAN_OVERLAY_BOTH, .alpha = 0.6f,
    .heat = heat, .heat_width = 4, .heat_height = 3,
    .heat_rect = {4, 6, 40, 30}, .boxes = boxes, .n_boxes = 3,
  };
  GstVideoOverlayComposition *comp = gst_anogan_overlay_render (&p, 64, 48);
  GstVideoOverlayRectangle *rect;
  GstVideoFrame f;

  g_assert_nonnull (comp);
  g_assert_cmpuint (gst_video_overlay_composition_n_rectangles (comp), ==, 2);

  /* The heatmap first, at heat resolution, shown over heat_rect. */
  rect = gst_video_overlay_composition_get_rectangle (comp, 0);
  check_render_rectangle (rect, 4, 6, 40, 30);
  map_rectangle (rect, &f);
  g_assert_cmpint (GST_VIDEO_FRAME_WIDTH (&f), ==, 4);
  g_assert_cmpint (GST_VIDEO_FRAME_HEIGHT (&f), ==, 3);
  for (int y = 0; y < 3; y++)
    for (int x = 0; x < 4; x++) {
      float v = CLAMP (heat[y * 4 + x], 0.0f, 1.0f);
      guint a = pixel_alpha (&f, x, y);
      int index = (int) lrint (v * 255.0);

      g_assert_cmpfloat (fabs (a - 0.6 * v * 255.0), <=, 0.5);
      if (a == 0)
        continue;
      /* Premultiplied colour map entry. */
      for (int c = 0; c < 3; c++)
        g_assert_cmpfloat (fabs (pixel_component (&f, c, x, y) -
                anogan_colormap[index][c] * a / 255.0), <=, 0.5);
    }
  gst_video_frame_unmap (&f);

  /* The outlines on top, in the boxes' bounding box; the third box is
   * clipped to (0, 40, 15, 8) and outlined closed along the border. */
  rect = gst_video_overlay_composition_get_rectangle (comp, 1);
  check_render_rectangle (rect, 0, 8, 48, 40);
  map_rectangle (rect, &f);
  g_assert_cmpint (GST_VIDEO_FRAME_WIDTH (&f), ==, 48);
  g_assert_cmpint (GST_VIDEO_FRAME_HEIGHT (&f), ==, 40);
  /* Frame (x, y) is rectangle (x, y - 8). */
  g_assert_cmpuint (pixel_alpha (&f, 16, 8), ==, 204);  /* 0.8 × 255 */
  g_assert_cmpuint (pixel_component (&f, GST_VIDEO_COMP_R, 16, 8), ==, 204);
  g_assert_cmpuint (pixel_component (&f, GST_VIDEO_COMP_G, 16, 8), ==, 0);
  g_assert_cmpuint (pixel_alpha (&f, 17, 9), ==, 204);
  g_assert_cmpuint (pixel_alpha (&f, 18, 10), ==, 0);   /* inside */
  g_assert_cmpuint (pixel_alpha (&f, 31, 23), ==, 204); /* bottom right */
  g_assert_cmpuint (pixel_alpha (&f, 32, 23), ==, 0);   /* just outside */
  g_assert_cmpuint (pixel_alpha (&f, 0, 33), ==, 204);  /* frame border */
  g_assert_cmpuint (pixel_alpha (&f, 14, 39), ==, 204);
  g_assert_cmpuint (pixel_alpha (&f, 5, 35), ==, 0);
  gst_video_frame_unmap (&f);
  gst_video_overlay_composition_unref (comp);

  /* Boxes alone give one rectangle; an opaque request is honoured. */
  p.mode = GST_ANOGAN_OVERLAY_BOXES;
  p.alpha = 1.0f;
  p.n_boxes = 1;
  comp = gst_anogan_overlay_render (&p, 64, 48);
  g_assert_cmpuint (gst_video_overlay_composition_n_rectangles (comp), ==, 1);
  rect = gst_video_overlay_composition_get_rectangle (comp, 0);
  check_render_rectangle (rect, 16, 16, 16, 16);
  map_rectangle (rect, &f);
  g_assert_cmpuint (pixel_alpha (&f, 0, 0), ==, 255);
  gst_video_frame_unmap (&f);
  gst_video_overlay_composition_unref (comp);

  /* The line widens with the frame: min (640, 480) / 160 = 3. */
  p.boxes = &(GstVideoRectangle) { 100, 100, 64, 64};
  comp = gst_anogan_overlay_render (&p, 640, 480);
  rect = gst_video_overlay_composition_get_rectangle (comp, 0);
  check_render_rectangle (rect, 100, 100, 64, 64);
  map_rectangle (rect, &f);
  for (int i = 0; i < 6; i++) {
    guint want = i < 3 ? 255 : 0;
    g_assert_cmpuint (pixel_alpha (&f, i, 32), ==, want);
    g_assert_cmpuint (pixel_alpha (&f, 63 - i, 32), ==, want);
    g_assert_cmpuint (pixel_alpha (&f, 32, i), ==, want);
    g_assert_cmpuint (pixel_alpha (&f, 32, 63 - i), ==, want);
  }
  gst_video_frame_unmap (&f);
  gst_video_overlay_composition_unref (comp);

  /* Heat alone. */
  p.mode = GST_ANOGAN_OVERLAY_HEATMAP;
  comp = gst_anogan_overlay_render (&p, 64, 48);
  g_assert_cmpuint (gst_video_overlay_composition_n_rectangles (comp), ==, 1);
  check_render_rectangle (gst_video_overlay_composition_get_rectangle (comp,
          0), 4, 6, 40, 30);
  gst_video_overlay_composition_unref (comp);
}

/* ---- blending ----------------------------------------------------------- */

/* A frame of @format filled with mid grey: every byte 128 (neutral chroma
 * in YUV, 128 in every channel in RGB), alpha 255. */
static GstBuffer *
grey_frame (GstVideoInfo *info, const char *format, int width, int height)
{
  GstBuffer *buffer;
  GstVideoFrame f;

  g_assert_true (gst_video_info_set_format (info,
          gst_video_format_from_string (format), width, height));
  buffer = gst_buffer_new_allocate (NULL, GST_VIDEO_INFO_SIZE (info), NULL);
  gst_buffer_memset (buffer, 0, 128, GST_VIDEO_INFO_SIZE (info));
  if (GST_VIDEO_INFO_HAS_ALPHA (info)) {
    g_assert_true (gst_video_frame_map (&f, info, buffer, GST_MAP_WRITE));
    for (int y = 0; y < height; y++)
      for (int x = 0; x < width; x++)
        ((guint8 *) GST_VIDEO_FRAME_COMP_DATA (&f, GST_VIDEO_COMP_A))
            [y * GST_VIDEO_FRAME_COMP_STRIDE (&f, GST_VIDEO_COMP_A) + 4 * x] =
            255;
    gst_video_frame_unmap (&f);
  }
  return buffer;
}

/* The bytes that make up pixel (x, y): the whole pixel of a packed format
 * (padding included), or its luma and the chroma sample it uses. */
static int
pixel_bytes (GstVideoFrame *f, int x, int y, guint8 out[8])
{
  int n = 0;

  if (GST_VIDEO_FRAME_N_PLANES (f) == 1) {
    int ps = GST_VIDEO_FRAME_PLANE_STRIDE (f, 0);
    int bytes = GST_VIDEO_FRAME_COMP_PSTRIDE (f, 0);
    const guint8 *p = (guint8 *) GST_VIDEO_FRAME_PLANE_DATA (f, 0)
        + y * ps + x * bytes;

    memcpy (out, p, bytes);
    return bytes;
  }
  for (guint c = 0; c < GST_VIDEO_FRAME_N_COMPONENTS (f); c++) {
    const GstVideoFormatInfo *fi = f->info.finfo;
    int cx = x >> GST_VIDEO_FORMAT_INFO_W_SUB (fi, c);
    int cy = y >> GST_VIDEO_FORMAT_INFO_H_SUB (fi, c);
    out[n++] = ((guint8 *) GST_VIDEO_FRAME_COMP_DATA (f, c))
        [cy * GST_VIDEO_FRAME_COMP_STRIDE (f, c)
        + cx * GST_VIDEO_FRAME_COMP_PSTRIDE (f, c)];
  }
  return n;
}

static guint
component (GstVideoFrame *f, int comp, int x, int y)
{
  const GstVideoFormatInfo *fi = f->info.finfo;
  int cx = x >> GST_VIDEO_FORMAT_INFO_W_SUB (fi, comp);
  int cy = y >> GST_VIDEO_FORMAT_INFO_H_SUB (fi, comp);

  return ((guint8 *) GST_VIDEO_FRAME_COMP_DATA (f, comp))
      [cy * GST_VIDEO_FRAME_COMP_STRIDE (f, comp)
      + cx * GST_VIDEO_FRAME_COMP_PSTRIDE (f, comp)];
}

/* What a pixel of grey 128 becomes under sRGB colour @rgb at opacity
 * @alpha, per component of the frame's format, from the textbook
 * conversions: GRAY8 is full-range BT.601 luma, the YUV frames here
 * (small, so SD) limited-range BT.601. */
static void
expected_components (const GstVideoInfo *info, const double rgb[3],
    double alpha, double want[3])
{
  double r = rgb[0] / 255.0, g = rgb[1] / 255.0, b = rgb[2] / 255.0;
  double y = 0.299 * r + 0.587 * g + 0.114 * b;
  double over[3];

  if (GST_VIDEO_INFO_IS_RGB (info)) {
    for (int c = 0; c < 3; c++)
      over[c] = rgb[c];
  } else if (GST_VIDEO_INFO_IS_GRAY (info)) {
    over[0] = 255.0 * y;
  } else {
    g_assert_cmpint (info->colorimetry.matrix, ==,
        GST_VIDEO_COLOR_MATRIX_BT601);
    g_assert_cmpint (info->colorimetry.range, ==,
        GST_VIDEO_COLOR_RANGE_16_235);
    over[0] = 16.0 + 219.0 * y;
    over[1] = 128.0 + 224.0 * (b - y) / 1.772;
    over[2] = 128.0 + 224.0 * (r - y) / 1.402;
  }
  for (int c = 0; c < (int) GST_VIDEO_INFO_N_COMPONENTS (info) && c < 3; c++)
    want[c] = 128.0 * (1.0 - alpha) + over[c] * alpha;
}

/* What each pixel of a test is: must change, must not, or either. */
enum {
  FREE = 0,
  CHANGES = 1,
  KEEPS = 2,
};

typedef struct {
  const char *what;
  int width, height;
  /* CHANGES pixels that also have check_colour get their colour checked:
   * every component of packed formats and GRAY8, and for 4:2:0 luma, and
   * chroma where the whole 2x2 block is such a pixel. */
  guint8 *kind;
  guint8 *check_colour;
  double rgb[3];
  double alpha;
  double tolerance;
} Expectation;

static void
check_blend (const char *format, GstVideoOverlayComposition *comp,
    const Expectation *e)
{
  GstVideoInfo info;
  GstBuffer *buffer = grey_frame (&info, format, e->width, e->height);
  GstBuffer *before = gst_buffer_copy_deep (buffer);
  GstVideoFrame f, ref;
  double want[3];
  int changed = 0, kept = 0, coloured = 0;

  g_assert_true (gst_video_frame_map (&f, &info, buffer, GST_MAP_READWRITE));
  g_assert_true (gst_anogan_overlay_blend (comp, &f));
  g_assert_true (gst_video_frame_map (&ref, &info, before, GST_MAP_READ));
  expected_components (&info, e->rgb, e->alpha, want);

  for (int y = 0; y < e->height; y++)
    for (int x = 0; x < e->width; x++) {
      guint8 a[8], b[8];
      int n = pixel_bytes (&f, x, y, a);
      int i = y * e->width + x;
      gboolean same;

      g_assert_cmpint (pixel_bytes (&ref, x, y, b), ==, n);
      same = memcmp (a, b, n) == 0;
      if (e->kind[i] == KEEPS && !same)
        g_error ("%s, %s %dx%d: pixel (%d, %d) changed but should not",
            e->what, format, e->width, e->height, x, y);
      if (e->kind[i] == CHANGES && same)
        g_error ("%s, %s %dx%d: pixel (%d, %d) kept its value but should "
            "change", e->what, format, e->width, e->height, x, y);
      kept += e->kind[i] == KEEPS;
      changed += e->kind[i] == CHANGES;

      if (e->kind[i] != CHANGES || !e->check_colour[i])
        continue;
      for (int c = 0; c < (int) GST_VIDEO_INFO_N_COMPONENTS (&info) && c < 3;
          c++) {
        gboolean subsampled = GST_VIDEO_FORMAT_INFO_W_SUB (info.finfo, c) > 0;
        double got = component (&f, c, x, y);

        if (subsampled) {
          /* Chroma is checked where its whole block has this colour; at
           * the right and bottom border of odd frames, a block is what
           * is left of it. */
          int x0 = x & ~1, y0 = y & ~1;
          gboolean whole = TRUE;

          for (int yy = y0; yy < MIN (y0 + 2, e->height) && whole; yy++)
            for (int xx = x0; xx < MIN (x0 + 2, e->width) && whole; xx++) {
              int j = yy * e->width + xx;
              whole = e->kind[j] == CHANGES && e->check_colour[j];
            }
          if (!whole)
            continue;
        }
        if (fabs (got - want[c]) > e->tolerance)
          g_error ("%s, %s %dx%d: pixel (%d, %d) component %d is %.0f, "
              "want %.1f", e->what, format, e->width, e->height, x, y, c,
              got, want[c]);
        coloured++;
      }
    }
  /* The layouts below leave something to check of each kind. */
  g_assert_cmpint (changed, >, 0);
  g_assert_cmpint (kept, >, 0);
  g_assert_cmpint (coloured, >, 0);

  gst_video_frame_unmap (&ref);
  gst_video_frame_unmap (&f);
  gst_buffer_unref (before);
  gst_buffer_unref (buffer);
}

/* Pixel distance (Chebyshev) from (x, y) to the nearest pixel with
 * mask set, up to @limit. */
static int
distance_to (const guint8 *mask, int width, int height, int x, int y,
    int limit)
{
  for (int d = 0; d < limit; d++)
    for (int yy = MAX (0, y - d); yy <= MIN (height - 1, y + d); yy++)
      for (int xx = MAX (0, x - d); xx <= MIN (width - 1, x + d); xx++)
        if (mask[yy * width + xx])
          return d;
  return limit;
}

static const int sizes[][2] = { {64, 48}, {33, 17} };

static void
test_blend_boxes (void)
{
  for (guint s = 0; s < G_N_ELEMENTS (sizes); s++) {
    int w = sizes[s][0], h = sizes[s][1];
    /* Around one 16x16 tile; at odd coordinates on the odd frame, so the
     * outline straddles the chroma grid. */
    GstVideoRectangle box = s == 0 ? (GstVideoRectangle) { 16, 16, 16, 16}
    : (GstVideoRectangle) { 9, 1, 16, 16};
    int line = MAX (2, MIN (w, h) / 160);
    GstAnoganOverlayParams p = {
      .mode = GST_ANOGAN_OVERLAY_BOXES, .alpha = 0.3f, .boxes = &box,
      .n_boxes = 1,
    };
    GstVideoOverlayComposition *comp = gst_anogan_overlay_render (&p, w, h);
    g_autofree guint8 *outline = g_malloc0 (w * h);
    g_autofree guint8 *kind = g_malloc0 (w * h);
    Expectation e = {
      .what = "boxes", .width = w, .height = h, .kind = kind,
      .check_colour = outline, .rgb = {255, 0, 0},
      /* The outlines' opacity never drops below 0.8. */
      .alpha = 0.8, .tolerance = 1.0,
    };

    for (int y = box.y; y < box.y + box.h; y++)
      for (int x = box.x; x < box.x + box.w; x++)
        if (x < box.x + line || x >= box.x + box.w - line
            || y < box.y + line || y >= box.y + box.h - line)
          outline[y * w + x] = 1;
    for (int y = 0; y < h; y++)
      for (int x = 0; x < w; x++) {
        int d = distance_to (outline, w, h, x, y, 2);
        kind[y * w + x] = d == 0 ? CHANGES : d >= 2 ? KEEPS : FREE;
      }

    g_assert_nonnull (comp);
    for (guint i = 0; i < G_N_ELEMENTS (formats); i++)
      check_blend (formats[i], comp, &e);
    gst_video_overlay_composition_unref (comp);
  }
}

/* Heat grids over frames: the cell at (hot_x, hot_y) is hot, the rest 0. */
static const struct {
  int width, height;
  int columns, rows;
  GstVideoRectangle rect;
  int hot_x, hot_y;
} heat_layouts[] = {
  /* Cells of 8x11 pixels over part of the frame. */
  {64, 48, 7, 4, {4, 2, 56, 44}, 3, 1},
  /* Cells of 8.25x8.5 pixels: the cell edges fall between pixels. */
  {33, 17, 4, 2, {0, 0, 33, 17}, 1, 1},
  /* A rectangle larger than the frame, cut by its top and left border. */
  {64, 48, 10, 7, {-8, -4, 80, 56}, 2, 1},
};

static void
test_blend_heatmap (void)
{
  for (guint l = 0; l < G_N_ELEMENTS (heat_layouts); l++) {
    int w = heat_layouts[l].width, h = heat_layouts[l].height;
    int gw = heat_layouts[l].columns, gh = heat_layouts[l].rows;
    GstVideoRectangle r = heat_layouts[l].rect;
    int hot_x = heat_layouts[l].hot_x, hot_y = heat_layouts[l].hot_y;
    g_autofree gfloat *heat = g_new0 (gfloat, gw * gh);
    GstAnoganOverlayParams p = {
      .mode = GST_ANOGAN_OVERLAY_HEATMAP, .alpha = 0.6f, .heat = heat,
      .heat_width = gw, .heat_height = gh, .heat_rect = r,
    };
    GstVideoOverlayComposition *comp;
    g_autofree guint8 *kind = g_malloc0 (w * h);
    g_autofree guint8 *inside = g_malloc0 (w * h);
    Expectation e = {
      .what = "heatmap", .width = w, .height = h, .kind = kind,
      .check_colour = inside, .alpha = 0.6, .tolerance = 1.5,
    };
    /* The block the hot cell covers, in frame coordinates. */
    double bx0 = r.x + (double) hot_x * r.w / gw;
    double bx1 = r.x + (double) (hot_x + 1) * r.w / gw;
    double by0 = r.y + (double) hot_y * r.h / gh;
    double by1 = r.y + (double) (hot_y + 1) * r.h / gh;

    /* Above 1: clamped to the top of the map. */
    heat[hot_y * gw + hot_x] = 2.5f;
    for (int c = 0; c < 3; c++)
      e.rgb[c] = anogan_colormap[255][c];

    /* A pixel belongs where its centre is; those 2 or more pixels inside
     * the block change, those 2 or more outside keep their bytes, and the
     * edge in between may go either way. */
    for (int y = 0; y < h; y++)
      for (int x = 0; x < w; x++) {
        double cx = x + 0.5, cy = y + 0.5;
        gboolean in = cx >= bx0 + 1.5 && cx <= bx1 - 1.5
            && cy >= by0 + 1.5 && cy <= by1 - 1.5;
        gboolean out = cx <= bx0 - 1.5 || cx >= bx1 + 1.5
            || cy <= by0 - 1.5 || cy >= by1 + 1.5;

        inside[y * w + x] = in;
        kind[y * w + x] = in ? CHANGES : out ? KEEPS : FREE;
      }

    comp = gst_anogan_overlay_render (&p, w, h);
    g_assert_nonnull (comp);
    for (guint i = 0; i < G_N_ELEMENTS (formats); i++)
      check_blend (formats[i], comp, &e);
    gst_video_overlay_composition_unref (comp);

    /* A half-hot cell instead: half the opacity, the map's middle colour. */
    heat[hot_y * gw + hot_x] = 0.5f;
    for (int c = 0; c < 3; c++)
      e.rgb[c] = anogan_colormap[128][c];
    e.alpha = 0.3;
    e.tolerance = 2.0;          /* 0.5 may take entry 127 or 128 */
    comp = gst_anogan_overlay_render (&p, w, h);
    for (guint i = 0; i < G_N_ELEMENTS (formats); i++)
      check_blend (formats[i], comp, &e);
    gst_video_overlay_composition_unref (comp);
  }
}

/* An outline on odd columns of a 4:2:0 frame colours the chroma it shares
 * with its even neighbour, by the share of the block it covers, rather
 * than all of it or none. */
static void
test_blend_chroma_share (void)
{
  GstVideoRectangle box = { 5, 4, 2, 8 };       /* columns 5 and 6 */
  GstAnoganOverlayParams p = {
    .mode = GST_ANOGAN_OVERLAY_BOXES, .alpha = 1.0f, .boxes = &box,
    .n_boxes = 1,
  };
  GstVideoOverlayComposition *comp = gst_anogan_overlay_render (&p, 16, 16);

  for (guint i = 0; i < 4; i++) {
    const char *format = ((const char *[]) {
        "I420", "YV12", "NV12", "NV21"})[i];
    GstVideoInfo info;
    GstBuffer *buffer = grey_frame (&info, format, 16, 16);
    GstVideoFrame f;
    /* Red at full opacity in limited-range BT.601. */
    double cr_red = 128.0 + 224.0 * (1.0 - 0.299) / 1.402;
    double half = 128.0 + 0.5 * (cr_red - 128.0);

    g_assert_true (gst_video_frame_map (&f, &info, buffer, GST_MAP_READWRITE));
    g_assert_true (gst_anogan_overlay_blend (comp, &f));
    /* Blocks of columns 4-5 and 6-7: each half covered. */
    g_assert_cmpfloat (fabs (component (&f, 2, 4, 6) - half), <=, 1.0);
    g_assert_cmpfloat (fabs (component (&f, 2, 6, 6) - half), <=, 1.0);
    /* Luma: on the line only. */
    g_assert_cmpuint (component (&f, 0, 4, 6), ==, 128);
    g_assert_cmpuint (component (&f, 0, 5, 6), !=, 128);
    g_assert_cmpuint (component (&f, 0, 6, 6), !=, 128);
    g_assert_cmpuint (component (&f, 0, 7, 6), ==, 128);
    gst_video_frame_unmap (&f);
    gst_buffer_unref (buffer);
  }
  gst_video_overlay_composition_unref (comp);
}

/* An opaque, non-premultiplied 8x8 overlay of one colour at (0, 0). */
static GstVideoOverlayComposition *
solid_composition (guint8 r, guint8 g, guint8 b)
{
  GstBuffer *pixels = gst_buffer_new_allocate (NULL, 8 * 8 * 4, NULL);
  GstVideoOverlayRectangle *rect;
  GstVideoOverlayComposition *comp;
  GstVideoFrame f;
  GstVideoInfo info;

  gst_buffer_add_video_meta (pixels, GST_VIDEO_FRAME_FLAG_NONE,
      GST_VIDEO_OVERLAY_COMPOSITION_FORMAT_RGB, 8, 8);
  g_assert_true (gst_video_info_set_format (&info,
          GST_VIDEO_OVERLAY_COMPOSITION_FORMAT_RGB, 8, 8));
  g_assert_true (gst_video_frame_map (&f, &info, pixels, GST_MAP_WRITE));
  for (int y = 0; y < 8; y++)
    for (int x = 0; x < 8; x++) {
      const guint8 v[4] = { r, g, b, 255 };
      for (int c = 0; c < 4; c++)
        ((guint8 *) GST_VIDEO_FRAME_COMP_DATA (&f, c))
            [y * GST_VIDEO_FRAME_COMP_STRIDE (&f, c) + 4 * x] = v[c];
    }
  gst_video_frame_unmap (&f);
  rect = gst_video_overlay_rectangle_new_raw (pixels, 0, 0, 8, 8,
      GST_VIDEO_OVERLAY_FORMAT_FLAG_NONE);
  comp = gst_video_overlay_composition_new (rect);
  gst_video_overlay_rectangle_unref (rect);
  gst_buffer_unref (pixels);
  return comp;
}

/* Full-range frames get full-range colours: white on GRAY8 is 255, not
 * the 235 of a limited range, and red on full-range BT.601 I420 (JPEG's
 * colorimetry, what webcams' MJPEG decodes to) is Y 76, Cb 85, Cr 255. */
static void
test_blend_full_range (void)
{
  GstVideoOverlayComposition *comp = solid_composition (255, 255, 255);
  GstVideoInfo info;
  GstBuffer *buffer = grey_frame (&info, "GRAY8", 8, 8);
  GstVideoFrame f;
  GstMapInfo map;

  g_assert_cmpint (info.colorimetry.range, ==, GST_VIDEO_COLOR_RANGE_0_255);
  g_assert_true (gst_video_frame_map (&f, &info, buffer, GST_MAP_READWRITE));
  g_assert_true (gst_anogan_overlay_blend (comp, &f));
  gst_video_frame_unmap (&f);
  g_assert_true (gst_buffer_map (buffer, &map, GST_MAP_READ));
  for (gsize i = 0; i < map.size; i++)
    g_assert_cmpuint (map.data[i], ==, 255);
  gst_buffer_unmap (buffer, &map);
  gst_buffer_unref (buffer);
  gst_video_overlay_composition_unref (comp);

  comp = solid_composition (255, 0, 0);
  buffer = grey_frame (&info, "I420", 8, 8);
  info.colorimetry.range = GST_VIDEO_COLOR_RANGE_0_255;
  info.colorimetry.matrix = GST_VIDEO_COLOR_MATRIX_BT601;
  g_assert_true (gst_video_frame_map (&f, &info, buffer, GST_MAP_READWRITE));
  g_assert_true (gst_anogan_overlay_blend (comp, &f));
  for (int y = 0; y < 8; y++)
    for (int x = 0; x < 8; x++) {
      g_assert_cmpfloat (fabs (component (&f, 0, x, y) - 255.0 * 0.299), <=,
          1.0);
      g_assert_cmpfloat (fabs (component (&f, 1, x, y) -
              (128.0 - 255.0 * 0.299 / 1.772)), <=, 1.0);
      g_assert_cmpuint (component (&f, 2, x, y), ==, 255);
    }
  gst_video_frame_unmap (&f);
  gst_buffer_unref (buffer);
  gst_video_overlay_composition_unref (comp);
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/overlay/colormap", test_colormap);
  g_test_add_func ("/overlay/mode-type", test_mode_type);
  g_test_add_func ("/overlay/nothing-to-draw", test_nothing_to_draw);
  g_test_add_func ("/overlay/geometry", test_geometry);
  g_test_add_func ("/overlay/blend-boxes", test_blend_boxes);
  g_test_add_func ("/overlay/blend-heatmap", test_blend_heatmap);
  g_test_add_func ("/overlay/blend-chroma-share", test_blend_chroma_share);
  g_test_add_func ("/overlay/blend-full-range", test_blend_full_range);
  return g_test_run ();
}
