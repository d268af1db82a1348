/* gstanoganmeta.c: the results of anoganfilter, as buffer metadata and
 * bus messages
 *
 * Copyright (C) 2026 the gst-anogan authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * One analysis of a frame reaches applications three ways: a custom meta
 * on the buffer holding the whole result, one region-of-interest meta per
 * anomalous tile (what generic elements and encoders understand), and an
 * element message on the bus, shaped like the `level` element's.  All
 * three are built from one GstStructure, so they cannot disagree.
 *
 * Arrays are GST_TYPE_ARRAY (GstValueArray), which every binding reads: in
 * Python, `s.get_value ("scores")` (or `s["scores"]`) is a Gst.ValueArray
 * that `list ()` turns into a list of floats.
 */
#include "gstanoganmeta.h"

#include <gst/video/video.h>
#include <math.h>

/* The tile grid of a result structure, checked once. */
typedef struct {
  gint columns;
  gint rows;
  gint tile_width;
  gint tile_height;
  const GValue *tile_x;
  const GValue *tile_y;
  const GValue *scores;
} Grid;

/* Sets @field of @s to a GST_TYPE_ARRAY of @n values of @type: G_TYPE_INT
 * from gints, G_TYPE_BOOLEAN from gbooleans, or G_TYPE_DOUBLE from gfloats
 * (doubles are what every binding reads without surprise). */
static void
set_array (GstStructure * s, const gchar * field, GType type,
    gconstpointer values, gint n)
{
  GValue array = G_VALUE_INIT;

  gst_value_array_init (&array, n);
  for (gint i = 0; i < n; i++) {
    GValue v = G_VALUE_INIT;

    g_value_init (&v, type);
    if (type == G_TYPE_INT)
      g_value_set_int (&v, ((const gint *) values)[i]);
    else if (type == G_TYPE_BOOLEAN)
      g_value_set_boolean (&v, ((const gboolean *) values)[i]);
    else
      g_value_set_double (&v, ((const gfloat *) values)[i]);
    gst_value_array_append_and_take_value (&array, &v);
  }
  gst_structure_take_value (s, field, &array);
}

/* Copies every field of @from into @to, replacing fields of the same name. */
static gboolean
copy_field (GQuark field, const GValue * value, gpointer to)
{
  gst_structure_id_set_value (to, field, value);
  return TRUE;
}

/* An array field of @s whose @n elements all hold @type, or NULL with a
 * critical naming the caller and the field. */
static const GValue *
get_array (const GstStructure * s, const gchar * caller, const gchar * field,
    GType type, guint n)
{
  const GValue *array = gst_structure_get_value (s, field);

  if (!array || !GST_VALUE_HOLDS_ARRAY (array)) {
    g_critical ("%s: the result has no array field \"%s\"", caller, field);
    return NULL;
  }
  if (gst_value_array_get_size (array) != n) {
    g_critical ("%s: the result's \"%s\" has %u entries instead of %u",
        caller, field, gst_value_array_get_size (array), n);
    return NULL;
  }
  for (guint i = 0; i < n; i++) {
    if (!G_VALUE_HOLDS (gst_value_array_get_value (array, i), type)) {
      g_critical ("%s: the result's \"%s\" does not hold %s values", caller,
          field, g_type_name (type));
      return NULL;
    }
  }
  return array;
}

static gboolean
get_positive_int (const GstStructure * s, const gchar * caller,
    const gchar * field, gint * value)
{
  if (!gst_structure_get_int (s, field, value) || *value < 1) {
    g_critical ("%s: the result has no positive int field \"%s\"", caller,
        field);
    return FALSE;
  }
  return TRUE;
}

/* Reads the grid of @s, checking that the arrays match its size. */
static gboolean
get_grid (const GstStructure * s, const gchar * caller, Grid * grid)
{
  if (!get_positive_int (s, caller, "columns", &grid->columns)
      || !get_positive_int (s, caller, "rows", &grid->rows)
      || !get_positive_int (s, caller, "tile-width", &grid->tile_width)
      || !get_positive_int (s, caller, "tile-height", &grid->tile_height))
    return FALSE;

  grid->tile_x = get_array (s, caller, "tile-x", G_TYPE_INT, grid->columns);
  grid->tile_y = get_array (s, caller, "tile-y", G_TYPE_INT, grid->rows);
  grid->scores = get_array (s, caller, "scores", G_TYPE_DOUBLE,
      (guint) grid->columns * (guint) grid->rows);
  return grid->tile_x && grid->tile_y && grid->scores;
}

static gint
array_int (const GValue * array, guint i)
{
  return g_value_get_int (gst_value_array_get_value (array, i));
}

/* round (value · to / from) for the non-negative positions and sizes of
 * tiles. */
static gint
scale_int (gint value, gint to, gint from)
{
  return (gint) gst_util_uint64_scale_int_round (MAX (value, 0), to, from);
}

static void
scale_int_field (GstStructure * s, const gchar * field, gint to, gint from)
{
  gint value;

  if (gst_structure_get_int (s, field, &value))
    gst_structure_set (s, field, G_TYPE_INT, scale_int (value, to, from),
        NULL);
}

static void
scale_int_array (GstStructure * s, const gchar * field, gint to, gint from)
{
  const GValue *array = gst_structure_get_value (s, field);
  guint n = gst_value_array_get_size (array);
  gint *scaled = g_new (gint, n);

  for (guint i = 0; i < n; i++)
    scaled[i] = scale_int (array_int (array, i), to, from);
  set_array (s, field, G_TYPE_INT, scaled, (gint) n);
  g_free (scaled);
}

/* videoscale and friends: the same tiles, at the new frame size. */
static gboolean
scale_meta (GstBuffer * transbuf, GstStructure * src,
    const GstVideoMetaTransform * trans)
{
  gint in_w = GST_VIDEO_INFO_WIDTH (trans->in_info);
  gint in_h = GST_VIDEO_INFO_HEIGHT (trans->in_info);
  gint out_w = GST_VIDEO_INFO_WIDTH (trans->out_info);
  gint out_h = GST_VIDEO_INFO_HEIGHT (trans->out_info);
  GstStructure *dest;
  Grid grid;

  if (in_w < 1 || in_h < 1 || out_w < 1 || out_h < 1
      || !get_grid (src, G_STRFUNC, &grid))
    return FALSE;

  dest = gst_custom_meta_get_structure (gst_anogan_meta_add (transbuf, src));
  scale_int_field (dest, "tile-width", out_w, in_w);
  scale_int_field (dest, "tile-height", out_h, in_h);
  scale_int_array (dest, "tile-x", out_w, in_w);
  scale_int_array (dest, "tile-y", out_h, in_h);
  return TRUE;
}

static gboolean
anogan_meta_transform (GstBuffer * transbuf, GstCustomMeta * meta,
    GstBuffer * buffer, GQuark type, gpointer data, gpointer user_data)
{
  GstStructure *src = gst_custom_meta_get_structure (meta);

  if (GST_META_TRANSFORM_IS_COPY (type)) {
    const GstMetaTransformCopy *copy = data;

    /* A byte range of a frame is not the frame the tiles were placed on;
     * like GstVideoMeta, leave it out without calling that a failure. */
    if (!copy->region)
      gst_anogan_meta_add (transbuf, src);
    return TRUE;
  }
  if (GST_VIDEO_META_TRANSFORM_IS_SCALE (type))
    return scale_meta (transbuf, src, data);

  /* Flips, rotations, crops and transforms unknown today: the tiles'
   * rectangles would point at the wrong pixels, so the result stays
   * behind. */
  return FALSE;
}

/**
 * gst_anogan_meta_register:
 *
 * Registers the custom meta #GST_ANOGAN_META_NAME, once per process
 * whoever calls first; later calls do nothing.  The plugin calls it when it
 * loads; an application calls it only to look the meta up
 * (gst_buffer_get_custom_meta()) before the plugin is loaded, which would
 * otherwise find nothing.
 *
 * The meta is tagged "video" and "size": elements that only convert colours
 * or pass frames through (videoconvert, queue, tee) copy it, videoscale
 * rescales its tiles to the new frame size, and elements that flip, rotate
 * or crop drop it, as the tiles would no longer match the picture.
 */
void
gst_anogan_meta_register (void)
{
  static gsize registered = 0;

  if (g_once_init_enter (&registered)) {
    static const gchar *tags[] = {
      GST_META_TAG_VIDEO_STR, GST_META_TAG_VIDEO_SIZE_STR, NULL
    };

    /* An application that registered the name itself to read the meta
     * keeps its registration: registering a meta API twice is an error. */
    if (!gst_meta_get_info (GST_ANOGAN_META_NAME))
      gst_meta_register_custom (GST_ANOGAN_META_NAME, tags,
          anogan_meta_transform, NULL, NULL);
    g_once_init_leave (&registered, 1);
  }
}

/**
 * gst_anogan_result_to_structure:
 * @result: the analysis of one frame
 *
 * Builds the structure all results are made from, named
 * #GST_ANOGAN_META_NAME, with the fields:
 *
 * - "score" (G_TYPE_DOUBLE): the frame's score, the highest tile score;
 * - "anomalous" (G_TYPE_BOOLEAN): whether the score reached the threshold;
 * - "threshold" (G_TYPE_DOUBLE): the threshold in use; NaN when the model
 *   has no threshold and none is set (serialised as "nan");
 * - "tile-width", "tile-height" (G_TYPE_INT): a tile's size in frame pixels;
 * - "columns", "rows" (G_TYPE_INT): the tile grid;
 * - "tile-x" (GST_TYPE_ARRAY of G_TYPE_INT, "columns" entries): left edge of
 *   each column; "tile-y" (GST_TYPE_ARRAY of G_TYPE_INT, "rows" entries):
 *   top edge of each row.  Tiles may overlap when the stride is smaller
 *   than a tile;
 * - "scores" (GST_TYPE_ARRAY of G_TYPE_DOUBLE, columns × rows entries,
 *   row-major): each tile's score;
 * - "iterations" (GST_TYPE_ARRAY of G_TYPE_INT, like "scores"): the search
 *   steps each tile ran for this result (0 in the encoder mode, for tiles
 *   the hybrid mode's screen passed, and for tiles not analysed);
 * - "analysed" (GST_TYPE_ARRAY of G_TYPE_BOOLEAN, like "scores"): whether
 *   each tile was analysed for this result; a tile whose pixels had not
 *   changed since its last analysis keeps that analysis's score;
 * - "tiles-analysed" (G_TYPE_INT): how many tiles were analysed;
 * - "model" (G_TYPE_STRING): the model's file, or "default";
 * - "mode" (G_TYPE_STRING): how z was found, "optimise", "encoder" or
 *   "hybrid";
 * - "processing-time" (G_TYPE_UINT64): wall time of the analysis in
 *   nanoseconds;
 * - "analysed-pts" (G_TYPE_UINT64): the presentation time of the frame
 *   analysed, GST_CLOCK_TIME_NONE when unknown.  It differs from the
 *   carrying buffer's when the element reports an earlier frame's result.
 *
 * Returns: (transfer full): a new #GstStructure
 */
GstStructure *
gst_anogan_result_to_structure (const GstAnoganResult * result)
{
  GstStructure *s;
  gint n, analysed;

  g_return_val_if_fail (result != NULL, NULL);
  g_return_val_if_fail (result->columns > 0 && result->rows > 0, NULL);
  g_return_val_if_fail (result->tile_x && result->tile_y, NULL);
  g_return_val_if_fail (result->scores && result->iterations, NULL);
  g_return_val_if_fail (result->model && result->mode, NULL);

  n = result->columns * result->rows;
  analysed = n;
  if (result->analysed) {
    analysed = 0;
    for (gint i = 0; i < n; i++)
      analysed += result->analysed[i] != FALSE;
  }
  s = gst_structure_new (GST_ANOGAN_META_NAME,
      "score", G_TYPE_DOUBLE, (gdouble) result->score,
      "anomalous", G_TYPE_BOOLEAN, result->anomalous,
      "threshold", G_TYPE_DOUBLE, (gdouble) result->threshold,
      "tile-width", G_TYPE_INT, result->tile_width,
      "tile-height", G_TYPE_INT, result->tile_height,
      "columns", G_TYPE_INT, result->columns,
      "rows", G_TYPE_INT, result->rows, NULL);
  set_array (s, "tile-x", G_TYPE_INT, result->tile_x, result->columns);
  set_array (s, "tile-y", G_TYPE_INT, result->tile_y, result->rows);
  set_array (s, "scores", G_TYPE_DOUBLE, result->scores, n);
  set_array (s, "iterations", G_TYPE_INT, result->iterations, n);
  if (result->analysed) {
    set_array (s, "analysed", G_TYPE_BOOLEAN, result->analysed, n);
  } else {
    gboolean *all = g_new (gboolean, n);

    for (gint i = 0; i < n; i++)
      all[i] = TRUE;
    set_array (s, "analysed", G_TYPE_BOOLEAN, all, n);
    g_free (all);
  }
  gst_structure_set (s,
      "tiles-analysed", G_TYPE_INT, analysed,
      "model", G_TYPE_STRING, result->model,
      "mode", G_TYPE_STRING, result->mode,
      "processing-time", G_TYPE_UINT64, result->processing_time,
      "analysed-pts", G_TYPE_UINT64, result->analysed_pts, NULL);
  return s;
}

/**
 * gst_anogan_meta_add:
 * @buffer: a writable buffer
 * @result: a structure from gst_anogan_result_to_structure()
 *
 * Adds the custom meta #GST_ANOGAN_META_NAME to @buffer, registering it
 * first if needed, and copies every field of @result into it.
 * Applications read it with
 * |[
 *   GstCustomMeta *meta = gst_buffer_get_custom_meta (buffer, "AnoganMeta");
 *   GstStructure *s = meta ? gst_custom_meta_get_structure (meta) : NULL;
 * ]|
 * and find the fields gst_anogan_result_to_structure() describes.  The
 * meta follows the buffer through copies and videoscale (see
 * gst_anogan_meta_register()).
 *
 * Returns: (transfer none): the meta, owned by @buffer
 */
GstCustomMeta *
gst_anogan_meta_add (GstBuffer * buffer, const GstStructure * result)
{
  GstCustomMeta *meta;

  g_return_val_if_fail (GST_IS_BUFFER (buffer), NULL);
  g_return_val_if_fail (gst_buffer_is_writable (buffer), NULL);
  g_return_val_if_fail (result != NULL, NULL);

  gst_anogan_meta_register ();
  meta = gst_buffer_add_custom_meta (buffer, GST_ANOGAN_META_NAME);
  gst_structure_foreach (result, copy_field,
      gst_custom_meta_get_structure (meta));
  return meta;
}

/**
 * gst_anogan_meta_add_regions:
 * @buffer: a writable buffer
 * @result: a structure from gst_anogan_result_to_structure()
 *
 * Adds one #GstVideoRegionOfInterestMeta of roi_type #GST_ANOGAN_ROI_TYPE
 * ("anomaly") for each tile whose score reached the threshold, at the
 * tile's rectangle, none when the threshold is NaN.  Each carries a
 * parameter structure "anogan" with the fields "score" (G_TYPE_DOUBLE),
 * "column" and "row" (G_TYPE_INT, counted from 0), so that elements that
 * know only regions of interest (encoders, overlays, analytics sinks) see
 * where the anomalies are.  Its id is the tile's number, row · columns +
 * column, its index in "scores": distinct ids let bindings that cannot walk
 * a buffer's metas fetch each region with
 * gst_buffer_get_video_region_of_interest_meta_id().  Overlapping tiles
 * give overlapping regions.
 *
 * A @result whose grid and arrays disagree is a programming error: it is
 * reported as a critical naming the field, and nothing is added.
 *
 * Returns: how many regions were added
 */
guint
gst_anogan_meta_add_regions (GstBuffer * buffer, const GstStructure * result)
{
  gdouble threshold;
  guint added = 0;
  Grid grid;

  g_return_val_if_fail (GST_IS_BUFFER (buffer), 0);
  g_return_val_if_fail (gst_buffer_is_writable (buffer), 0);
  g_return_val_if_fail (result != NULL, 0);

  if (!get_grid (result, G_STRFUNC, &grid))
    return 0;
  if (!gst_structure_get_double (result, "threshold", &threshold)
      || isnan (threshold))
    return 0;

  for (gint r = 0; r < grid.rows; r++) {
    for (gint c = 0; c < grid.columns; c++) {
      const GValue *v = gst_value_array_get_value (grid.scores,
          (guint) (r * grid.columns + c));
      gdouble score = g_value_get_double (v);
      GstVideoRegionOfInterestMeta *roi;

      if (!(score >= threshold))
        continue;
      roi = gst_buffer_add_video_region_of_interest_meta (buffer,
          GST_ANOGAN_ROI_TYPE, array_int (grid.tile_x, c),
          array_int (grid.tile_y, r), grid.tile_width, grid.tile_height);
      roi->id = r * grid.columns + c;
      gst_video_region_of_interest_meta_add_param (roi,
          gst_structure_new ("anogan", "score", G_TYPE_DOUBLE, score,
              "column", G_TYPE_INT, c, "row", G_TYPE_INT, r, NULL));
      added++;
    }
  }
  return added;
}

/**
 * gst_anogan_message_new:
 * @src: (nullable): the element posting the message
 * @result: a structure from gst_anogan_result_to_structure()
 * @timestamp: the buffer timestamp the message belongs to
 * @stream_time: @timestamp as stream time
 * @running_time: @timestamp as running time
 * @duration: the buffer's duration
 *
 * Makes the element message anoganfilter posts for each analysed frame,
 * like the `level` element's.  Its structure is named
 * #GST_ANOGAN_MESSAGE_NAME ("anogan") and holds:
 *
 * - "timestamp" (G_TYPE_UINT64): the timestamp of the buffer that carries
 *   the result;
 * - "stream-time" (G_TYPE_UINT64): the stream time of that buffer;
 * - "running-time" (G_TYPE_UINT64): its running time, to compare with the
 *   pipeline clock;
 * - "duration" (G_TYPE_UINT64): the buffer's duration;
 * - "score" (G_TYPE_DOUBLE): the frame's score, the highest tile score;
 * - "anomalous" (G_TYPE_BOOLEAN): whether the score reached the threshold;
 * - "threshold" (G_TYPE_DOUBLE): the threshold in use, NaN when none;
 * - "columns", "rows" (G_TYPE_INT): the tile grid;
 * - "scores" (GST_TYPE_ARRAY of G_TYPE_DOUBLE, row-major): each tile's
 *   score;
 * - "iterations", "analysed", "tiles-analysed", "mode": as on the meta
 *   (gst_anogan_result_to_structure());
 * - "analysed-pts" (G_TYPE_UINT64): the presentation time of the frame
 *   analysed, which is earlier than "timestamp" when the element reports
 *   the result of a previous frame;
 * - "processing-time" (G_TYPE_UINT64): wall time of the analysis, in
 *   nanoseconds.
 *
 * The times are GST_CLOCK_TIME_NONE when unknown.  Where the tiles are and
 * which model scored them is on the buffer's meta (gst_anogan_meta_add()).
 *
 * Returns: (transfer full): a new element message
 */
GstMessage *
gst_anogan_message_new (GstObject * src, const GstStructure * result,
    GstClockTime timestamp, GstClockTime stream_time,
    GstClockTime running_time, GstClockTime duration)
{
  static const gchar *const copied[] = {
    "score", "anomalous", "threshold", "columns", "rows", "scores",
    "iterations", "analysed", "tiles-analysed", "mode", "analysed-pts",
    "processing-time",
  };
  GstStructure *s;

  g_return_val_if_fail (result != NULL, NULL);

  s = gst_structure_new (GST_ANOGAN_MESSAGE_NAME,
      "timestamp", G_TYPE_UINT64, timestamp,
      "stream-time", G_TYPE_UINT64, stream_time,
      "running-time", G_TYPE_UINT64, running_time,
      "duration", G_TYPE_UINT64, duration, NULL);
  for (gsize i = 0; i < G_N_ELEMENTS (copied); i++) {
    const GValue *v = gst_structure_get_value (result, copied[i]);

    if (v)
      gst_structure_set_value (s, copied[i], v);
    else
      g_critical ("%s: the result has no field \"%s\"", G_STRFUNC,
          copied[i]);
  }
  return gst_message_new_element (src, s);
}
