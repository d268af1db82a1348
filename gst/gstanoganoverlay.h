/* gstanoganoverlay.h: drawing anoganfilter's findings over the picture
 *
 * Copyright (C) 2026 the gst-anogan authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>
#include <gst/video/video.h>

G_BEGIN_DECLS

/**
 * GstAnoganOverlayMode:
 * @GST_ANOGAN_OVERLAY_NONE: draw nothing
 * @GST_ANOGAN_OVERLAY_HEATMAP: blend the residual map in a perceptual
 *   colour map (matplotlib's inferno: the brighter, the more anomalous)
 * @GST_ANOGAN_OVERLAY_BOXES: outline the tiles over the threshold
 * @GST_ANOGAN_OVERLAY_BOTH: the heatmap and the boxes
 *
 * What anoganfilter draws over the frames it passes on.  The values are
 * bit flags: %GST_ANOGAN_OVERLAY_BOTH is the heatmap's bit and the boxes'.
 */
typedef enum {
  GST_ANOGAN_OVERLAY_NONE = 0,
  GST_ANOGAN_OVERLAY_HEATMAP = 1,
  GST_ANOGAN_OVERLAY_BOXES = 2,
  GST_ANOGAN_OVERLAY_BOTH = 3,
} GstAnoganOverlayMode;

#define GST_TYPE_ANOGAN_OVERLAY_MODE (gst_anogan_overlay_mode_get_type ())
GType gst_anogan_overlay_mode_get_type (void);

/**
 * GstAnoganOverlayParams:
 * @mode: what to draw
 * @alpha: opacity of the drawing, 0 to 1
 * @heat: @heat_width × @heat_height values, row-major, 0 for nothing
 *   remarkable and 1 (or more, clamped) for the strongest colour; %NULL
 *   when there is no heatmap
 * @heat_width: columns of @heat
 * @heat_height: rows of @heat
 * @heat_rect: where in the frame @heat goes (scaled to fit: each value
 *   covers its share of the rectangle)
 * @boxes: rectangles to outline, in frame pixels
 * @n_boxes: entries of @boxes
 *
 * What gst_anogan_overlay_render() draws.  Nothing is kept: the arrays
 * may be freed once it returns.
 */
typedef struct {
  GstAnoganOverlayMode mode;
  gfloat alpha;
  const gfloat *heat;
  gint heat_width;
  gint heat_height;
  GstVideoRectangle heat_rect;
  const GstVideoRectangle *boxes;
  guint n_boxes;
} GstAnoganOverlayParams;

GstVideoOverlayComposition *gst_anogan_overlay_render (
    const GstAnoganOverlayParams *params, gint frame_width,
    gint frame_height);

gboolean gst_anogan_overlay_blend (GstVideoOverlayComposition *comp,
    GstVideoFrame *frame);

G_END_DECLS
