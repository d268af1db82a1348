/* gstanoganoverlay.c: drawing anoganfilter's findings over the picture
 *
 * Copyright (C) 2026 the gst-anogan authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The drawing is a GstVideoOverlayComposition, as textoverlay makes one:
 * the element attaches it to the buffer when downstream draws overlays
 * itself (a GL sink scales the small heatmap for free), and blends it into
 * the frame with gst_anogan_overlay_blend() otherwise.
 *
 * Every rectangle is premultiplied ARGB.  Premultiplied, because scaling
 * (downstream's, or ours in the blend) then mixes transparent and coloured
 * pixels without dark fringes: a transparent pixel is (0, 0, 0, 0)
 * whatever colour it would have had.
 */
#include "gstanoganoverlay.h"

#include <math.h>
#include <string.h>

#include "anogan-colormap.h"

/* The outlines: pure red, the colour of an alarm, and never fainter than
 * this whatever the heatmap's opacity, so that a faint heatmap does not
 * hide the verdict. */
static const guint8 box_colour[3] = { 255, 0, 0 };

#define BOX_MIN_OPACITY 0.8f

/**
 * gst_anogan_overlay_mode_get_type:
 *
 * Registers #GstAnoganOverlayMode on first use, with the nicks "none",
 * "heatmap", "boxes" and "both" that properties and gst-launch lines use.
 *
 * Returns: the #GType of #GstAnoganOverlayMode
 */
GType
gst_anogan_overlay_mode_get_type (void)
{
  static gsize type = 0;
  /* value_name is what gst-inspect prints beside the nick. */
  static const GEnumValue values[] = {
    {GST_ANOGAN_OVERLAY_NONE, "Draw nothing", "none"},
    {GST_ANOGAN_OVERLAY_HEATMAP,
        "Colour the frame by the residual map (inferno colour map)",
        "heatmap"},
    {GST_ANOGAN_OVERLAY_BOXES, "Outline the tiles over the threshold",
        "boxes"},
    {GST_ANOGAN_OVERLAY_BOTH, "Heatmap and outlines", "both"},
    {0, NULL, NULL},
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstAnoganOverlayMode", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

/* ---- rendering ---------------------------------------------------------- */

/* 0 .. 1, and 0 for NaN: a broken value draws nothing rather than the
 * strongest colour. */
static gfloat
clamp_unit (gfloat v)
{
  return v > 0.0f ? MIN (v, 1.0f) : 0.0f;
}

/* Byte offsets of R, G, B and A in a pixel of the overlay format, which
 * is BGRA or ARGB depending on the machine's byte order. */
typedef struct {
  guint r, g, b, a;
} ArgbLayout;

static void
argb_layout (ArgbLayout *layout)
{
  const GstVideoFormatInfo *info =
      gst_video_format_get_info (GST_VIDEO_OVERLAY_COMPOSITION_FORMAT_RGB);

  layout->r = GST_VIDEO_FORMAT_INFO_POFFSET (info, GST_VIDEO_COMP_R);
  layout->g = GST_VIDEO_FORMAT_INFO_POFFSET (info, GST_VIDEO_COMP_G);
  layout->b = GST_VIDEO_FORMAT_INFO_POFFSET (info, GST_VIDEO_COMP_B);
  layout->a = GST_VIDEO_FORMAT_INFO_POFFSET (info, GST_VIDEO_COMP_A);
}

static inline void
put_premultiplied (guint8 *pixel, const ArgbLayout *layout,
    const guint8 rgb[3], guint alpha)
{
  pixel[layout->r] = (rgb[0] * alpha + 127) / 255;
  pixel[layout->g] = (rgb[1] * alpha + 127) / 255;
  pixel[layout->b] = (rgb[2] * alpha + 127) / 255;
  pixel[layout->a] = alpha;
}

/* A transparent picture in the overlay format, with the GstVideoMeta that
 * gst_video_overlay_rectangle_new_raw() requires.  Rows are width * 4
 * bytes apart, as the meta's default strides say. */
static GstBuffer *
argb_buffer_new (gint width, gint height)
{
  gsize size = (gsize) width * height * 4;
  GstBuffer *buffer = gst_buffer_new_allocate (NULL, size, NULL);

  gst_buffer_memset (buffer, 0, 0, size);
  gst_buffer_add_video_meta (buffer, GST_VIDEO_FRAME_FLAG_NONE,
      GST_VIDEO_OVERLAY_COMPOSITION_FORMAT_RGB, width, height);
  return buffer;
}

static GstVideoOverlayRectangle *
rectangle_new (GstBuffer *pixels, gint x, gint y, gint width, gint height)
{
  GstVideoOverlayRectangle *rect = gst_video_overlay_rectangle_new_raw (pixels,
      x, y, width, height, GST_VIDEO_OVERLAY_FORMAT_FLAG_PREMULTIPLIED_ALPHA);

  gst_buffer_unref (pixels);
  return rect;
}

/* The heatmap at its own resolution, one pixel a heat value, for the
 * consumer to scale to heat_rect.  NULL when no pixel would show. */
static GstVideoOverlayRectangle *
render_heat (const GstAnoganOverlayParams *params, gint frame_width,
    gint frame_height)
{
  const GstVideoRectangle *r = &params->heat_rect;
  gint w = params->heat_width, h = params->heat_height;
  gfloat alpha = clamp_unit (params->alpha);
  ArgbLayout layout;
  GstBuffer *buffer;
  GstMapInfo map;
  gboolean drawn = FALSE;

  if (params->heat == NULL || w <= 0 || h <= 0 || r->w <= 0 || r->h <= 0
      || alpha == 0.0f)
    return NULL;
  /* Entirely off the frame: nothing would show. */
  if ((gint64) r->x + r->w <= 0 || (gint64) r->y + r->h <= 0
      || r->x >= frame_width || r->y >= frame_height)
    return NULL;

  argb_layout (&layout);
  buffer = argb_buffer_new (w, h);
  if (!gst_buffer_map (buffer, &map, GST_MAP_WRITE)) {
    gst_buffer_unref (buffer);
    return NULL;
  }
  for (gsize i = 0; i < (gsize) w * h; i++) {
    gfloat v = clamp_unit (params->heat[i]);
    /* Opacity grows with the heat, so that normal areas (heat 0) are
     * left exactly as they were. */
    guint a = (guint) lrintf (alpha * v * 255.0f);

    if (a == 0)
      continue;
    put_premultiplied (map.data + 4 * i, &layout,
        anogan_colormap[lrintf (v * 255.0f)], a);
    drawn = TRUE;
  }
  gst_buffer_unmap (buffer, &map);

  if (!drawn) {
    gst_buffer_unref (buffer);
    return NULL;
  }
  return rectangle_new (buffer, r->x, r->y, r->w, r->h);
}

/* Clips @box to the frame; FALSE when nothing of it is left. */
static gboolean
clip_to_frame (const GstVideoRectangle *box, gint frame_width,
    gint frame_height, GstVideoRectangle *clipped)
{
  gint64 x0, y0, x1, y1;

  if (box->w <= 0 || box->h <= 0)
    return FALSE;
  x0 = MAX (box->x, 0);
  y0 = MAX (box->y, 0);
  x1 = MIN ((gint64) box->x + box->w, frame_width);
  y1 = MIN ((gint64) box->y + box->h, frame_height);
  if (x0 >= x1 || y0 >= y1)
    return FALSE;
  clipped->x = x0;
  clipped->y = y0;
  clipped->w = x1 - x0;
  clipped->h = y1 - y0;
  return TRUE;
}

static void
fill (guint8 *data, gint stride, const ArgbLayout *layout, gint x, gint y,
    gint w, gint h, guint alpha)
{
  for (gint row = y; row < y + h; row++)
    for (gint col = x; col < x + w; col++)
      put_premultiplied (data + (gsize) row * stride + 4 * col, layout,
          box_colour, alpha);
}

/* The outlines, in one rectangle just large enough to hold them all:
 * blending costs what the rectangle covers, transparent or not. */
static GstVideoOverlayRectangle *
render_boxes (const GstAnoganOverlayParams *params, gint frame_width,
    gint frame_height)
{
  /* Two pixels on small frames, thicker on large ones so the outlines
   * stay visible once the picture is scaled down for display. */
  gint line = MAX (2, MIN (frame_width, frame_height) / 160);
  guint alpha = (guint) lrintf (MAX (clamp_unit (params->alpha),
          BOX_MIN_OPACITY) * 255.0f);
  g_autofree GstVideoRectangle *clipped = NULL;
  guint n = 0;
  gint x0 = G_MAXINT, y0 = G_MAXINT, x1 = G_MININT, y1 = G_MININT;
  ArgbLayout layout;
  GstBuffer *buffer;
  GstMapInfo map;

  if (params->boxes == NULL || params->n_boxes == 0)
    return NULL;

  /* Boxes are clipped before they are outlined, so that a box cut by
   * the frame's border is still drawn closed, along the border. */
  clipped = g_new (GstVideoRectangle, params->n_boxes);
  for (guint i = 0; i < params->n_boxes; i++) {
    GstVideoRectangle *c = &clipped[n];

    if (!clip_to_frame (&params->boxes[i], frame_width, frame_height, c))
      continue;
    x0 = MIN (x0, c->x);
    y0 = MIN (y0, c->y);
    x1 = MAX (x1, c->x + c->w);
    y1 = MAX (y1, c->y + c->h);
    n++;
  }
  if (n == 0)
    return NULL;

  argb_layout (&layout);
  buffer = argb_buffer_new (x1 - x0, y1 - y0);
  if (!gst_buffer_map (buffer, &map, GST_MAP_WRITE)) {
    gst_buffer_unref (buffer);
    return NULL;
  }
  for (guint i = 0; i < n; i++) {
    gint x = clipped[i].x - x0, y = clipped[i].y - y0;
    gint w = clipped[i].w, h = clipped[i].h;
    gint lw = MIN (line, w), lh = MIN (line, h);
    gint stride = 4 * (x1 - x0);

    /* Lines inside the box, so the box's pixels are what is framed. */
    fill (map.data, stride, &layout, x, y, w, lh, alpha);
    fill (map.data, stride, &layout, x, y + h - lh, w, lh, alpha);
    fill (map.data, stride, &layout, x, y, lw, h, alpha);
    fill (map.data, stride, &layout, x + w - lw, y, lw, h, alpha);
  }
  gst_buffer_unmap (buffer, &map);

  return rectangle_new (buffer, x0, y0, x1 - x0, y1 - y0);
}

/**
 * gst_anogan_overlay_render:
 * @params: what to draw
 * @frame_width: width of the frames drawn on
 * @frame_height: height of the frames drawn on
 *
 * Draws @params as an overlay composition for frames of the given size:
 * the heatmap first (when the mode asks for it and some heat is above 0),
 * then the outlines of the boxes on top.
 *
 * The heatmap's rectangle holds @heat_width × @heat_height pixels to be
 * shown over @heat_rect, so that a sink drawing overlays scales it itself;
 * each pixel has the colour of its heat in matplotlib's inferno colour map
 * and an opacity of @alpha × heat.  Heat 0 is fully transparent: where
 * nothing is remarkable the frame is left bit for bit as it was.
 *
 * The outlines are drawn inside each box (clipped to the frame first),
 * max (2, min (@frame_width, @frame_height) / 160) pixels wide, in red with
 * an opacity of at least 0.8, in one rectangle the size of the boxes'
 * bounding box.
 *
 * All rectangles are premultiplied ARGB.
 *
 * Returns: (transfer full) (nullable): the composition, or %NULL when
 * there is nothing to draw (mode %GST_ANOGAN_OVERLAY_NONE, no heat above
 * 0, no box inside the frame).
 */
GstVideoOverlayComposition *
gst_anogan_overlay_render (const GstAnoganOverlayParams *params,
    gint frame_width, gint frame_height)
{
  GstVideoOverlayRectangle *rects[2];
  GstVideoOverlayComposition *comp = NULL;
  guint n = 0;

  g_return_val_if_fail (params != NULL, NULL);
  g_return_val_if_fail (frame_width > 0 && frame_height > 0, NULL);

  if (params->mode & GST_ANOGAN_OVERLAY_HEATMAP)
    if ((rects[n] = render_heat (params, frame_width, frame_height)))
      n++;
  if (params->mode & GST_ANOGAN_OVERLAY_BOXES)
    if ((rects[n] = render_boxes (params, frame_width, frame_height)))
      n++;

  for (guint i = 0; i < n; i++) {
    if (comp == NULL)
      comp = gst_video_overlay_composition_new (rects[i]);
    else
      gst_video_overlay_composition_add_rectangle (comp, rects[i]);
    gst_video_overlay_rectangle_unref (rects[i]);
  }
  return comp;
}

/* ---- blending ----------------------------------------------------------- */

/* Who blends into which format.  gst_video_blend() is exact for RGB, BGR
 * and the formats with alpha, but:
 * - it reads the padding byte of RGBx, BGRx, xRGB and xBGR as the frame's
 *   alpha, so a frame padded with 0 gets the overlay at full strength and
 *   one padded with 128 half-way there, and it writes alpha into the
 *   padding;
 * - it converts overlays to YUV with a fixed BT.709 limited-range matrix
 *   whatever the frame's colorimetry: a full-range GRAY8 frame gets white
 *   as 235, an SD frame's red is too dark;
 * - it takes a 4:2:0 block's chroma from its top-left pixel alone: a line
 *   on odd columns loses its colour and its even neighbour gains it.
 * Those formats are blended here. */
typedef enum {
  BLEND_GSTREAMER,
  BLEND_PADDED_RGB,
  BLEND_YUV,
} BlendPath;

static BlendPath
blend_path (GstVideoFormat format)
{
  switch (format) {
    case GST_VIDEO_FORMAT_RGBx:
    case GST_VIDEO_FORMAT_BGRx:
    case GST_VIDEO_FORMAT_xRGB:
    case GST_VIDEO_FORMAT_xBGR:
      return BLEND_PADDED_RGB;
    case GST_VIDEO_FORMAT_GRAY8:
    case GST_VIDEO_FORMAT_I420:
    case GST_VIDEO_FORMAT_YV12:
    case GST_VIDEO_FORMAT_NV12:
    case GST_VIDEO_FORMAT_NV21:
      return BLEND_YUV;
    default:
      return BLEND_GSTREAMER;
  }
}

/* Where a rectangle's pixels fall on the frame.  They are scaled to the
 * render size with pixel centres mapped to pixel centres, nearest
 * neighbour: GStreamer's own scaler maps corners to corners, which
 * shifts a coarse heatmap by up to half a cell and smears each cell over
 * its neighbours.  Nothing is copied: frame pixel (x0 + i, y0 + j) shows
 * source pixel (columns[i], rows[j]). */
typedef struct {
  GstVideoFrame pixels;         /* unscaled, premultiplied */
  ArgbLayout layout;
  gfloat global_alpha;
  gint x0, y0, width, height;   /* the visible part, in the frame */
  gint *columns;
  gint *rows;
  guint8 *row_shows;            /* per source row: some alpha above 0 */
} Placement;

static gboolean
placement_init (Placement *p, GstVideoOverlayRectangle *rect,
    gint frame_width, gint frame_height)
{
  gint rx, ry;
  guint rw, rh;
  gint64 x1, y1;
  GstBuffer *pixels;
  GstVideoMeta *meta;
  GstVideoInfo info;
  gint sw, sh;

  memset (p, 0, sizeof *p);
  gst_video_overlay_rectangle_get_render_rectangle (rect, &rx, &ry, &rw, &rh);
  p->x0 = MAX (rx, 0);
  p->y0 = MAX (ry, 0);
  x1 = MIN ((gint64) rx + rw, frame_width);
  y1 = MIN ((gint64) ry + rh, frame_height);
  if (p->x0 >= x1 || p->y0 >= y1)
    return FALSE;
  p->width = x1 - p->x0;
  p->height = y1 - p->y0;

  /* Global alpha is left out of the pixels and applied by the blend. */
  pixels = gst_video_overlay_rectangle_get_pixels_unscaled_argb (rect,
      GST_VIDEO_OVERLAY_FORMAT_FLAG_PREMULTIPLIED_ALPHA |
      GST_VIDEO_OVERLAY_FORMAT_FLAG_GLOBAL_ALPHA);
  meta = pixels ? gst_buffer_get_video_meta (pixels) : NULL;
  if (meta == NULL
      || !gst_video_info_set_format (&info, meta->format, meta->width,
          meta->height)
      || !gst_video_frame_map (&p->pixels, &info, pixels, GST_MAP_READ))
    return FALSE;
  p->global_alpha = gst_video_overlay_rectangle_get_global_alpha (rect);
  p->layout.r = GST_VIDEO_FRAME_COMP_POFFSET (&p->pixels, GST_VIDEO_COMP_R);
  p->layout.g = GST_VIDEO_FRAME_COMP_POFFSET (&p->pixels, GST_VIDEO_COMP_G);
  p->layout.b = GST_VIDEO_FRAME_COMP_POFFSET (&p->pixels, GST_VIDEO_COMP_B);
  p->layout.a = GST_VIDEO_FRAME_COMP_POFFSET (&p->pixels, GST_VIDEO_COMP_A);

  sw = meta->width;
  sh = meta->height;
  p->columns = g_new (gint, p->width);
  p->rows = g_new (gint, p->height);
  for (gint i = 0; i < p->width; i++)
    p->columns[i] = (2 * (gint64) (p->x0 + i - rx) + 1) * sw / (2 * rw);
  for (gint j = 0; j < p->height; j++)
    p->rows[j] = (2 * (gint64) (p->y0 + j - ry) + 1) * sh / (2 * rh);

  /* Whole rows of a heatmap are often transparent: they are skipped. */
  p->row_shows = g_new0 (guint8, sh);
  for (gint y = 0; y < sh; y++) {
    const guint8 *s = (const guint8 *) GST_VIDEO_FRAME_PLANE_DATA
        (&p->pixels, 0) + (gsize) y * GST_VIDEO_FRAME_PLANE_STRIDE
        (&p->pixels, 0);

    for (gint x = 0; x < sw && !p->row_shows[y]; x++)
      p->row_shows[y] = s[4 * x + p->layout.a] != 0;
  }
  return TRUE;
}

static void
placement_clear (Placement *p)
{
  if (p->columns)
    gst_video_frame_unmap (&p->pixels);
  g_free (p->columns);
  g_free (p->rows);
  g_free (p->row_shows);
}

/* The source row shown on visible row @j, or NULL if all transparent. */
static inline const guint8 *
placement_row (const Placement *p, gint j)
{
  gint sy = p->rows[j];

  if (!p->row_shows[sy])
    return NULL;
  return (const guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&p->pixels, 0)
      + (gsize) sy * GST_VIDEO_FRAME_PLANE_STRIDE (&p->pixels, 0);
}

static inline guint8
to_byte (gfloat v)
{
  return v <= 0.0f ? 0 : v >= 255.0f ? 255 : (guint8) (v + 0.5f);
}

/* Into an RGB frame whose fourth byte is padding: the frame is opaque,
 * and the padding is left alone. */
static void
blend_padded_rgb (GstVideoFrame *frame, const Placement *p)
{
  gint dstride = GST_VIDEO_FRAME_PLANE_STRIDE (frame, 0);
  guint dr = GST_VIDEO_FRAME_COMP_POFFSET (frame, GST_VIDEO_COMP_R);
  guint dg = GST_VIDEO_FRAME_COMP_POFFSET (frame, GST_VIDEO_COMP_G);
  guint db = GST_VIDEO_FRAME_COMP_POFFSET (frame, GST_VIDEO_COMP_B);
  const ArgbLayout *l = &p->layout;
  gfloat ga = p->global_alpha;

  for (gint j = 0; j < p->height; j++) {
    const guint8 *row = placement_row (p, j);
    guint8 *d = (guint8 *) GST_VIDEO_FRAME_PLANE_DATA (frame, 0)
        + (gsize) (p->y0 + j) * dstride + 4 * p->x0;

    if (row == NULL)
      continue;
    for (gint i = 0; i < p->width; i++, d += 4) {
      const guint8 *s = row + 4 * p->columns[i];
      gfloat keep;

      if (s[l->a] == 0)
        continue;
      keep = 1.0f - s[l->a] * ga / 255.0f;
      d[dr] = to_byte (d[dr] * keep + s[l->r] * ga);
      d[dg] = to_byte (d[dg] * keep + s[l->g] * ga);
      d[db] = to_byte (d[db] * keep + s[l->b] * ga);
    }
  }
}

/* R'G'B' to the frame's Y'CbCr, as videoconvert would convert it. */
typedef struct {
  gfloat kr, kg, kb;
  gfloat y_offset, y_scale, c_scale;
} YuvCoefficients;

static void
yuv_coefficients (const GstVideoInfo *info, YuvCoefficients *c)
{
  GstVideoColorRange range = info->colorimetry.range;
  gdouble kr, kb;

  /* GRAY8 says BT.601; a frame that says nothing is taken as BT.601 too,
   * GStreamer's default for SD. */
  if (!gst_video_color_matrix_get_Kr_Kb (info->colorimetry.matrix, &kr, &kb)) {
    kr = 0.299;
    kb = 0.114;
  }
  c->kr = kr;
  c->kb = kb;
  c->kg = 1.0 - kr - kb;

  if (range == GST_VIDEO_COLOR_RANGE_UNKNOWN)
    range = GST_VIDEO_INFO_IS_GRAY (info) ? GST_VIDEO_COLOR_RANGE_0_255 :
        GST_VIDEO_COLOR_RANGE_16_235;
  if (range == GST_VIDEO_COLOR_RANGE_16_235) {
    c->y_offset = 16.0f;
    c->y_scale = 219.0f;
    c->c_scale = 224.0f;
  } else {
    c->y_offset = 0.0f;
    c->y_scale = 255.0f;
    c->c_scale = 255.0f;
  }
}

/* Into a GRAY8 or 8-bit 4:2:0 frame.  Luma is blended per pixel; each
 * chroma sample becomes the mean of the blended chroma of the pixels it
 * covers, so a line one pixel off the chroma grid still colours it, by
 * half.  Samples no overlay pixel touches are not rewritten. */
static void
blend_yuv (GstVideoFrame *frame, const Placement *p)
{
  gboolean chroma = GST_VIDEO_FRAME_N_COMPONENTS (frame) >= 3;
  const GstVideoFormatInfo *finfo = frame->info.finfo;
  gint ws = chroma ? GST_VIDEO_FORMAT_INFO_W_SUB (finfo, 1) : 0;
  gint hs = chroma ? GST_VIDEO_FORMAT_INFO_H_SUB (finfo, 1) : 0;
  gint fw = GST_VIDEO_FRAME_WIDTH (frame), fh = GST_VIDEO_FRAME_HEIGHT (frame);
  guint8 *ydata = GST_VIDEO_FRAME_COMP_DATA (frame, 0);
  gint ystride = GST_VIDEO_FRAME_COMP_STRIDE (frame, 0);
  gint ypstride = GST_VIDEO_FRAME_COMP_PSTRIDE (frame, 0);
  gfloat scale = p->global_alpha / 255.0f;
  const ArgbLayout *l = &p->layout;
  /* Chroma columns the visible part touches, and per column the sums of
   * the overlay's opacity and premultiplied Cb and Cr over one chroma
   * row. */
  gint c0 = p->x0 >> ws, nc = ((p->x0 + p->width - 1) >> ws) - c0 + 1;
  g_autofree gfloat *sums = chroma ? g_new0 (gfloat, 3 * nc) : NULL;
  YuvCoefficients k;

  yuv_coefficients (&frame->info, &k);

  for (gint j = 0; j < p->height; j++) {
    gint y = p->y0 + j;
    const guint8 *row = placement_row (p, j);
    guint8 *yrow = ydata + (gsize) y * ystride;

    for (gint i = 0; row != NULL && i < p->width; i++) {
      const guint8 *s = row + 4 * p->columns[i];
      gint x = p->x0 + i;
      guint8 *luma_out;
      gfloat a, r, g, b, luma;

      if (s[l->a] == 0)
        continue;
      /* Premultiplied, so the conversion (affine) applies to the colour
       * times its opacity as it is. */
      a = s[l->a] * scale;
      r = s[l->r] * scale;
      g = s[l->g] * scale;
      b = s[l->b] * scale;
      luma = k.kr * r + k.kg * g + k.kb * b;

      luma_out = yrow + x * ypstride;
      *luma_out = to_byte (*luma_out * (1.0f - a) + k.y_offset * a
          + k.y_scale * luma);

      if (chroma) {
        gfloat *sum = sums + 3 * ((x >> ws) - c0);

        sum[0] += a;
        sum[1] += 128.0f * a + k.c_scale * (b - luma) / (2.0f - 2.0f * k.kb);
        sum[2] += 128.0f * a + k.c_scale * (r - luma) / (2.0f - 2.0f * k.kr);
      }
    }

    /* At the last row of a chroma row (or of the visible part), each
     * touched sample moves by its pixels' mean change:
     * C' = C + (sum of (a Co) - C sum of a) / pixels. */
    if (chroma && (((y + 1) & ((1 << hs) - 1)) == 0 || y + 1 == fh
            || j + 1 == p->height)) {
      gint cy = y >> hs;
      gint rows_in = MIN ((cy + 1) << hs, fh) - (cy << hs);
      guint8 *cb_row = (guint8 *) GST_VIDEO_FRAME_COMP_DATA (frame, 1)
          + (gsize) cy * GST_VIDEO_FRAME_COMP_STRIDE (frame, 1);
      guint8 *cr_row = (guint8 *) GST_VIDEO_FRAME_COMP_DATA (frame, 2)
          + (gsize) cy * GST_VIDEO_FRAME_COMP_STRIDE (frame, 2);

      for (gint c = 0; c < nc; c++) {
        gfloat *sum = sums + 3 * c;
        gint cx = c0 + c;
        gint n = (MIN ((cx + 1) << ws, fw) - (cx << ws)) * rows_in;
        guint8 *cb = cb_row + cx * GST_VIDEO_FRAME_COMP_PSTRIDE (frame, 1);
        guint8 *cr = cr_row + cx * GST_VIDEO_FRAME_COMP_PSTRIDE (frame, 2);

        if (sum[0] == 0.0f)
          continue;
        *cb = to_byte (*cb + (sum[1] - *cb * sum[0]) / n);
        *cr = to_byte (*cr + (sum[2] - *cr * sum[0]) / n);
        sum[0] = sum[1] = sum[2] = 0.0f;
      }
    }
  }
}

/* Through gst_video_blend(), which needs the visible part as a frame of
 * its own. */
static gboolean
blend_gstreamer (GstVideoFrame *frame, const Placement *p)
{
  GstVideoInfo info;
  GstVideoFrame src;
  GstBuffer *buffer = argb_buffer_new (p->width, p->height);
  gboolean ok;

  if (!gst_video_info_set_format (&info,
          GST_VIDEO_OVERLAY_COMPOSITION_FORMAT_RGB, p->width, p->height))
    g_return_val_if_reached (FALSE);
  GST_VIDEO_INFO_FLAGS (&info) |= GST_VIDEO_FLAG_PREMULTIPLIED_ALPHA;
  if (!gst_video_frame_map (&src, &info, buffer, GST_MAP_READWRITE)) {
    gst_buffer_unref (buffer);
    return FALSE;
  }
  for (gint j = 0; j < p->height; j++) {
    const guint8 *row = placement_row (p, j);
    guint8 *d = (guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&src, 0)
        + (gsize) j * GST_VIDEO_FRAME_PLANE_STRIDE (&src, 0);

    for (gint i = 0; row != NULL && i < p->width; i++)
      memcpy (d + 4 * i, row + 4 * p->columns[i], 4);
  }
  ok = gst_video_blend (frame, &src, p->x0, p->y0, p->global_alpha);
  gst_video_frame_unmap (&src);
  gst_buffer_unref (buffer);
  return ok;
}

static gboolean
blend_rectangle (GstVideoOverlayRectangle *rect, GstVideoFrame *frame)
{
  Placement p;
  gboolean ok = TRUE;

  if (!placement_init (&p, rect, GST_VIDEO_FRAME_WIDTH (frame),
          GST_VIDEO_FRAME_HEIGHT (frame))) {
    /* Off the frame, or pixels GStreamer could not give. */
    ok = p.width == 0;
  } else {
    switch (blend_path (GST_VIDEO_FRAME_FORMAT (frame))) {
      case BLEND_PADDED_RGB:
        blend_padded_rgb (frame, &p);
        break;
      case BLEND_YUV:
        blend_yuv (frame, &p);
        break;
      case BLEND_GSTREAMER:
        ok = blend_gstreamer (frame, &p);
        break;
    }
  }
  placement_clear (&p);
  return ok;
}

/**
 * gst_anogan_overlay_blend:
 * @comp: a composition, such as gst_anogan_overlay_render() makes
 * @frame: the frame to draw on, mapped for reading and writing
 *
 * Blends @comp into @frame: what anoganfilter does when downstream does
 * not take the composition as metadata.  Use it rather than
 * gst_video_overlay_composition_blend().
 *
 * Rectangles are scaled to their render size with pixel centres on pixel
 * centres (nearest neighbour), so each heat value covers exactly its share
 * of the render rectangle; GStreamer's scaler would shift and smear a
 * coarse heatmap.  RGB, BGR and the RGB formats with alpha are then
 * blended by gst_video_blend(), which is exact for them.  RGBx, BGRx, xRGB
 * and xBGR are blended here as opaque, whatever their padding bytes hold
 * (GStreamer takes those for alpha).  GRAY8, I420, YV12, NV12 and NV21 are
 * blended here too, in the frame's own colorimetry (as videoconvert would
 * convert the overlay) and with each chroma sample the mean of the pixels
 * it covers.  Other formats go to gst_video_blend().  Pixels no overlay
 * pixel covers with an opacity above 0 are left bit for bit as they were,
 * and so is chroma no such pixel shares.
 *
 * Returns: %TRUE on success, %FALSE if GStreamer could not blend some
 * rectangle into this format
 */
gboolean
gst_anogan_overlay_blend (GstVideoOverlayComposition *comp,
    GstVideoFrame *frame)
{
  gboolean ok = TRUE;
  guint n;

  g_return_val_if_fail (GST_IS_VIDEO_OVERLAY_COMPOSITION (comp), FALSE);
  g_return_val_if_fail (frame != NULL, FALSE);

  n = gst_video_overlay_composition_n_rectangles (comp);
  for (guint i = 0; i < n; i++)
    ok &= blend_rectangle (gst_video_overlay_composition_get_rectangle (comp,
            i), frame);
  return ok;
}
