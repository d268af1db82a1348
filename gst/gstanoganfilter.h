/* gstanoganfilter.h: anoganfilter, AnoGAN anomaly detection on video frames
 *
 * Copyright (C) 2026 the gst-anogan authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>
#include <gst/video/video.h>
#include <gst/video/gstvideofilter.h>

G_BEGIN_DECLS

/**
 * GstAnoganSchedule:
 * @GST_ANOGAN_SCHEDULE_AUTO: latest-frame when the pipeline is live (an
 *   upstream LATENCY query says so), every-frame otherwise
 * @GST_ANOGAN_SCHEDULE_EVERY_FRAME: analyse each selected frame before
 *   passing it on: deterministic, adds the analysis time to the latency
 * @GST_ANOGAN_SCHEDULE_LATEST_FRAME: analyse on a thread of the element,
 *   always the newest selected frame, and pass frames on at once with the
 *   latest finished result
 *
 * When anoganfilter analyses the frames it is given.
 */
typedef enum {
  GST_ANOGAN_SCHEDULE_AUTO = 0,
  GST_ANOGAN_SCHEDULE_EVERY_FRAME = 1,
  GST_ANOGAN_SCHEDULE_LATEST_FRAME = 2,
} GstAnoganSchedule;

#define GST_TYPE_ANOGAN_SCHEDULE (gst_anogan_schedule_get_type ())
GType gst_anogan_schedule_get_type (void);

/**
 * GstAnoganMode:
 * @GST_ANOGAN_MODE_AUTO: the mode the model's card recommends, else the
 *   fastest the model is calibrated for: hybrid, then encoder, then
 *   optimise
 * @GST_ANOGAN_MODE_OPTIMISE: AnoGAN: Adam steps on z from the card's start
 * @GST_ANOGAN_MODE_ENCODER: f-AnoGAN: z = E(x) in one pass, no steps
 * @GST_ANOGAN_MODE_HYBRID: z from the encoder, then a few Adam steps on
 *   the tiles the encoder finds suspicious
 *
 * How anoganfilter finds each tile's z.  The encoder modes need a model
 * with an encoder.
 */
typedef enum {
  GST_ANOGAN_MODE_AUTO = 0,
  GST_ANOGAN_MODE_OPTIMISE = 1,
  GST_ANOGAN_MODE_ENCODER = 2,
  GST_ANOGAN_MODE_HYBRID = 3,
} GstAnoganMode;

#define GST_TYPE_ANOGAN_MODE (gst_anogan_mode_get_type ())
GType gst_anogan_mode_get_type (void);

#define GST_TYPE_ANOGAN_FILTER (gst_anogan_filter_get_type ())
G_DECLARE_FINAL_TYPE (GstAnoganFilter, gst_anogan_filter, GST, ANOGAN_FILTER,
    GstVideoFilter)

GST_ELEMENT_REGISTER_DECLARE (anoganfilter);

G_END_DECLS
