/* gstanoganmeta.h: the results of anoganfilter, as buffer metadata and
 * bus messages
 *
 * Copyright (C) 2026 the gst-anogan authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

/**
 * GST_ANOGAN_META_NAME:
 *
 * The name the custom meta is registered under: applications find it with
 * gst_buffer_get_custom_meta (buffer, GST_ANOGAN_META_NAME), or "AnoganMeta"
 * from languages without this header.
 */
#define GST_ANOGAN_META_NAME "AnoganMeta"

/**
 * GST_ANOGAN_MESSAGE_NAME:
 *
 * The name of the structure of the element messages anoganfilter posts.
 */
#define GST_ANOGAN_MESSAGE_NAME "anogan"

/**
 * GST_ANOGAN_ROI_TYPE:
 *
 * The roi_type of the #GstVideoRegionOfInterestMeta added for each tile
 * over the threshold.
 */
#define GST_ANOGAN_ROI_TYPE "anomaly"

/**
 * GstAnoganResult:
 * @score: the frame's score, the highest tile score
 * @anomalous: whether @score reached @threshold
 * @threshold: the threshold in use (NAN when there is none)
 * @tile_width: width of a tile in frame pixels
 * @tile_height: height of a tile in frame pixels
 * @columns: tiles across
 * @rows: tiles down
 * @tile_x: @columns entries: left edge of each column, in frame pixels
 * @tile_y: @rows entries: top edge of each row, in frame pixels
 * @scores: @columns × @rows tile scores, row-major
 * @iterations: @columns × @rows Adam steps each tile actually ran for
 *   this result: 0 for a tile scored from the encoder alone, screened
 *   out, or not analysed
 * @analysed: (nullable): @columns × @rows flags: whether the tile was
 *   analysed for this result, rather than its last result reused because
 *   its pixels had not changed; %NULL when every tile was
 * @model: the model's name (its file, or "default" for the embedded one)
 * @mode: how z was found: "optimise", "encoder" or "hybrid"
 * @processing_time: wall time the analysis took, in nanoseconds
 * @analysed_pts: presentation time of the frame the result belongs to
 *
 * One analysis of one frame, as the element hands it to the functions
 * below.  Arrays are borrowed: the functions copy what they keep.
 */
typedef struct {
  gfloat score;
  gboolean anomalous;
  gfloat threshold;
  gint tile_width;
  gint tile_height;
  gint columns;
  gint rows;
  const gint *tile_x;
  const gint *tile_y;
  const gfloat *scores;
  const gint *iterations;
  const gboolean *analysed;
  const gchar *model;
  const gchar *mode;
  GstClockTime processing_time;
  GstClockTime analysed_pts;
} GstAnoganResult;

void gst_anogan_meta_register (void);

GstStructure *gst_anogan_result_to_structure (const GstAnoganResult *result);

GstCustomMeta *gst_anogan_meta_add (GstBuffer *buffer,
    const GstStructure *result);

guint gst_anogan_meta_add_regions (GstBuffer *buffer,
    const GstStructure *result);

GstMessage *gst_anogan_message_new (GstObject *src,
    const GstStructure *result, GstClockTime timestamp,
    GstClockTime stream_time, GstClockTime running_time,
    GstClockTime duration);

G_END_DECLS
