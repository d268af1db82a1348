/* anogan-monitor.c: an application reading anoganfilter's results
 *
 * Copyright (C) 2026 the gst-anogan authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Runs a pipeline with an anoganfilter in it and logs the anomalous frames,
 * reading the results the two ways an application gets them:
 *
 *  - on the buffers, with a pad probe on the element's src pad: the custom
 *    meta "AnoganMeta" holds the whole result (score, verdict, threshold,
 *    every tile's score and position), and each tile over the threshold
 *    also has a region-of-interest meta of type "anomaly";
 *  - on the bus: one element message named "anogan" per analysis, with the
 *    score, the verdict and the tile scores, like the level element's.
 *
 *   anogan-monitor [--all] [PIPELINE-DESCRIPTION]
 *
 * Without a description it scores every 15th frame of the demo clip with
 * the default model.  Ctrl-C ends the pipeline with EOS, so that recordings
 * are finished properly, and prints the summary.
 */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include <glib-unix.h>
#include <gst/gst.h>
#include <gst/video/video.h>

#define DEFAULT_PIPELINE \
  "filesrc location=\"" ANOGAN_DEMO_CLIP "\" ! decodebin ! videoconvert ! " \
  "anoganfilter schedule=every-frame interval=15 overlay=none ! " \
  "fakesink sync=false"

/* What the probe (streaming thread) and the bus (main thread) saw, under
 * lock. */
typedef struct
{
  GMutex lock;
  gboolean all;                 /* log normal frames too */
  guint buffers;                /* buffers that carried an AnoganMeta */
  guint analyses;               /* distinct analysed frames among them */
  guint anomalous;              /* anomalous ones among those */
  guint messages;               /* "anogan" bus messages */
  GstClockTime analysis_time;   /* processing-time of the analyses, summed */
  GstClockTime last_pts;        /* analysed-pts of the last result seen */
  gboolean have_worst;
  gdouble worst_score;          /* the highest frame score... */
  GstClockTime worst_pts;       /* ...its frame... */
  gint worst_x, worst_y, worst_w, worst_h;      /* ...and its worst tile */
  GMainLoop *loop;
  GstElement *pipeline;
  gint status;
} Monitor;

/* GST_TIME_FORMAT with "none" for an unknown time. */
static gchar *
time_string (GstClockTime t)
{
  if (!GST_CLOCK_TIME_IS_VALID (t))
    return g_strdup ("none");
  return g_strdup_printf ("%" GST_TIME_FORMAT, GST_TIME_ARGS (t));
}

/* The threshold as printed: NaN means the model has none. */
static gchar *
threshold_string (gdouble threshold)
{
  if (isnan (threshold))
    return g_strdup ("none");
  return g_strdup_printf ("%.2f", threshold);
}

/* Entry @i of a GST_TYPE_ARRAY field of ints or doubles. */
static gint
array_int (const GstStructure * s, const gchar * field, guint i)
{
  return g_value_get_int (gst_value_array_get_value
      (gst_structure_get_value (s, field), i));
}

static gdouble
array_double (const GstStructure * s, const gchar * field, guint i)
{
  return g_value_get_double (gst_value_array_get_value
      (gst_structure_get_value (s, field), i));
}

/* The probe: reads the AnoganMeta and the ROI metas of each buffer leaving
 * anoganfilter.  Frames between two analyses (interval > 1, or the
 * latest-frame schedule) carry the latest result again: its analysed-pts
 * tells them apart. */
static GstPadProbeReturn
on_buffer (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  Monitor *m = data;
  GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER (info);
  GstCustomMeta *meta = gst_buffer_get_custom_meta (buffer, "AnoganMeta");
  GstVideoRegionOfInterestMeta *roi;
  const GstStructure *s;
  GstClockTime pts = GST_CLOCK_TIME_NONE, processing_time = 0;
  gdouble score, threshold, tile_score;
  gboolean anomalous, is_new;
  gint columns, rows, tile_w, tile_h, worst = 0;
  guint regions = 0, n;
  gpointer state = NULL;

  if (meta == NULL)             /* nothing analysed yet */
    return GST_PAD_PROBE_OK;
  s = gst_custom_meta_get_structure (meta);
  if (!gst_structure_get (s, "score", G_TYPE_DOUBLE, &score,
          "anomalous", G_TYPE_BOOLEAN, &anomalous,
          "threshold", G_TYPE_DOUBLE, &threshold,
          "columns", G_TYPE_INT, &columns, "rows", G_TYPE_INT, &rows,
          "tile-width", G_TYPE_INT, &tile_w,
          "tile-height", G_TYPE_INT, &tile_h, NULL)) {
    g_printerr ("anogan-monitor: an AnoganMeta without its fields\n");
    return GST_PAD_PROBE_OK;
  }
  gst_structure_get_uint64 (s, "analysed-pts", &pts);
  gst_structure_get_uint64 (s, "processing-time", &processing_time);

  /* The worst tile: "scores" is row-major, columns × rows; "tile-x" holds
   * each column's left edge and "tile-y" each row's top edge.  A NaN score
   * (a search that diverged) counts as the worst, as the element counts
   * it as anomalous. */
  n = (guint) columns * (guint) rows;
  for (guint i = 1; i < n; i++) {
    tile_score = array_double (s, "scores", i);
    if (isnan (tile_score) || tile_score > array_double (s, "scores", worst))
      worst = (gint) i;
  }

  /* One region-of-interest meta per tile over the threshold. */
  while ((roi = (GstVideoRegionOfInterestMeta *)
          gst_buffer_iterate_meta_filtered (buffer, &state,
              GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE))) {
    if (roi->roi_type == g_quark_from_static_string ("anomaly"))
      regions++;
  }

  g_mutex_lock (&m->lock);
  m->buffers++;
  is_new = m->analyses == 0 || pts != m->last_pts;
  if (is_new) {
    gint x = array_int (s, "tile-x", worst % columns);
    gint y = array_int (s, "tile-y", worst / columns);

    m->analyses++;
    m->last_pts = pts;
    m->analysis_time += processing_time;
    if (anomalous)
      m->anomalous++;
    if (!m->have_worst || score > m->worst_score) {
      m->have_worst = TRUE;
      m->worst_score = score;
      m->worst_pts = pts;
      m->worst_x = x;
      m->worst_y = y;
      m->worst_w = tile_w;
      m->worst_h = tile_h;
    }
    if (anomalous || m->all) {
      g_autofree gchar *t = time_string (pts);
      g_autofree gchar *thr = threshold_string (threshold);

      g_print ("meta %s score %.2f threshold %s %s tile %d,%d at %d,%d "
          "%dx%d regions %u\n", t, score, thr,
          anomalous ? "anomalous" : "normal", worst % columns,
          worst / columns, x, y, tile_w, tile_h, regions);
    }
  }
  g_mutex_unlock (&m->lock);
  return GST_PAD_PROBE_OK;
}

/* The "anogan" element messages: one per analysis, posted from the thread
 * that analysed the frame and read here on the main thread. */
static void
on_anogan_message (Monitor * m, const GstStructure * s)
{
  GstClockTime pts = GST_CLOCK_TIME_NONE;
  gdouble score = NAN;
  gboolean anomalous = FALSE;
  const GValue *scores = gst_structure_get_value (s, "scores");

  gst_structure_get_uint64 (s, "analysed-pts", &pts);
  gst_structure_get_double (s, "score", &score);
  gst_structure_get_boolean (s, "anomalous", &anomalous);

  g_mutex_lock (&m->lock);
  m->messages++;
  g_mutex_unlock (&m->lock);
  if (anomalous || m->all) {
    g_autofree gchar *t = time_string (pts);

    g_print ("message %s score %.2f %s tiles %u\n", t, score,
        anomalous ? "anomalous" : "normal",
        scores ? gst_value_array_get_size (scores) : 0);
  }
}

static gboolean
on_bus (GstBus * bus, GstMessage * message, gpointer data)
{
  Monitor *m = data;

  switch (GST_MESSAGE_TYPE (message)) {
    case GST_MESSAGE_ELEMENT:{
      const GstStructure *s = gst_message_get_structure (message);

      if (gst_structure_has_name (s, "anogan"))
        on_anogan_message (m, s);
      break;
    }
    case GST_MESSAGE_ERROR:
    case GST_MESSAGE_WARNING:{
      gboolean fatal = GST_MESSAGE_TYPE (message) == GST_MESSAGE_ERROR;
      g_autoptr (GError) error = NULL;
      g_autofree gchar *debug = NULL;

      /* One line, naming the element: its message says what went wrong
       * (for a model, which file and why). */
      if (fatal)
        gst_message_parse_error (message, &error, &debug);
      else
        gst_message_parse_warning (message, &error, &debug);
      g_printerr ("anogan-monitor: %s%s: %s\n", fatal ? "" : "warning: ",
          GST_OBJECT_NAME (GST_MESSAGE_SRC (message)), error->message);
      if (fatal) {
        m->status = EXIT_FAILURE;
        g_main_loop_quit (m->loop);
      }
      break;
    }
    case GST_MESSAGE_EOS:
      g_main_loop_quit (m->loop);
      break;
    default:
      break;
  }
  return G_SOURCE_CONTINUE;
}

/* Ctrl-C: EOS through the pipeline, so that muxers finish their files. */
static gboolean
on_interrupt (gpointer data)
{
  Monitor *m = data;

  gst_element_send_event (m->pipeline, gst_event_new_eos ());
  return G_SOURCE_CONTINUE;
}

static void
print_summary (Monitor * m)
{
  g_print ("summary: %u buffers carried AnoganMeta, %u frames analysed, "
      "%u anogan messages, %u anomalous frames\n", m->buffers, m->analyses,
      m->messages, m->anomalous);
  if (m->have_worst) {
    g_autofree gchar *t = time_string (m->worst_pts);

    g_print ("worst: score %.2f at %s, tile at %d,%d %dx%d\n",
        m->worst_score, t, m->worst_x, m->worst_y, m->worst_w, m->worst_h);
  }
  /* Wall time, so it depends on the machine and its load: on a line of its
   * own, apart from the results. */
  if (m->analyses > 0)
    g_print ("time: %.3f s analysing, %.0f ms a frame\n",
        (gdouble) m->analysis_time / GST_SECOND,
        (gdouble) m->analysis_time / GST_MSECOND / m->analyses);
}

/* The first anoganfilter of @bin, or NULL. */
static GstElement *
find_anoganfilter (GstBin * bin)
{
  GstIterator *it =
      gst_bin_iterate_all_by_element_factory_name (bin, "anoganfilter");
  GValue item = G_VALUE_INIT;
  GstElement *found = NULL;

  if (gst_iterator_next (it, &item) == GST_ITERATOR_OK) {
    found = g_value_dup_object (&item);
    g_value_unset (&item);
  }
  gst_iterator_free (it);
  return found;
}

int
main (int argc, char **argv)
{
  gboolean all = FALSE;
  GOptionEntry entries[] = {
    {"all", 'a', 0, G_OPTION_ARG_NONE, &all,
        "Log every analysed frame, not only the anomalous ones", NULL},
    G_OPTION_ENTRY_NULL
  };
  g_autoptr (GOptionContext) context =
      g_option_context_new ("[PIPELINE-DESCRIPTION] - log anoganfilter's "
      "findings");
  g_autoptr (GError) error = NULL;
  GstElement *filter;
  GstPad *pad;
  GstBus *bus;
  Monitor m = { 0 };

  /* One line per finding, as it is found, also through a pipe. */
  setvbuf (stdout, NULL, _IOLBF, 0);

  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_add_group (context, gst_init_get_option_group ());
  g_option_context_set_description (context, "Without a description, "
      "scores every 15th frame of the demo clip:\n  " DEFAULT_PIPELINE "\n");
  if (!g_option_context_parse (context, &argc, &argv, &error)) {
    g_printerr ("anogan-monitor: %s\n", error->message);
    return 2;
  }

  /* The description as gst-launch-1.0 takes it, the arguments in order,
   * or as one quoted argument. */
  if (argc > 2)
    m.pipeline = gst_parse_launchv ((const gchar **) argv + 1, &error);
  else
    m.pipeline = gst_parse_launch (argc == 2 ? argv[1] : DEFAULT_PIPELINE,
        &error);
  if (m.pipeline == NULL || error != NULL) {
    g_printerr ("anogan-monitor: cannot build the pipeline: %s\n",
        error ? error->message : "unknown error");
    gst_clear_object (&m.pipeline);
    return 2;
  }
  filter = GST_IS_BIN (m.pipeline) ?
      find_anoganfilter (GST_BIN (m.pipeline)) : NULL;
  if (filter == NULL) {
    g_printerr ("anogan-monitor: the pipeline has no anoganfilter\n");
    gst_object_unref (m.pipeline);
    return 2;
  }

  g_mutex_init (&m.lock);
  m.all = all;
  m.last_pts = GST_CLOCK_TIME_NONE;
  m.status = EXIT_SUCCESS;
  m.loop = g_main_loop_new (NULL, FALSE);

  pad = gst_element_get_static_pad (filter, "src");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, on_buffer, &m, NULL);
  gst_object_unref (pad);
  gst_object_unref (filter);

  bus = gst_element_get_bus (m.pipeline);
  gst_bus_add_watch (bus, on_bus, &m);
  g_unix_signal_add (SIGINT, on_interrupt, &m);

  /* A pipeline that cannot start (a model that does not load, say) has
   * posted the reason on the bus as an error, which ends the loop. */
  if (gst_element_set_state (m.pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE && !gst_bus_have_pending (bus)) {
    g_printerr ("anogan-monitor: the pipeline does not start\n");
    m.status = EXIT_FAILURE;
  } else {
    g_main_loop_run (m.loop);
  }

  gst_element_set_state (m.pipeline, GST_STATE_NULL);
  if (m.status == EXIT_SUCCESS || m.buffers > 0 || m.messages > 0)
    print_summary (&m);

  gst_bus_remove_watch (bus);
  gst_object_unref (bus);
  gst_object_unref (m.pipeline);
  g_main_loop_unref (m.loop);
  g_mutex_clear (&m.lock);
  return m.status;
}
