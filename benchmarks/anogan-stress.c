/* anogan-stress: anoganfilter over a long run, and under overload
 *
 * Copyright (C) 2026 the gst-anogan authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Two benchmarks of the element as a production line runs it, measured in
 * frames and resident memory rather than in speed:
 *
 *   anogan-stress soak [--frames N] [--every N] [--schedule S] ...
 *
 *     videotestsrc ! capsfilter ! anoganfilter ! fakesink sync=false
 *
 *     for N frames, while the application renegotiates (a new format and
 *     size on the capsfilter), seeks with a flush, pauses, changes the
 *     picture, sets the element's properties, swaps its model (a good one,
 *     the default, or a file that does not load) and sets a bad value, one
 *     of these every --every frames in turn, the same states every round
 *     of 42 actions; before each seek it waits for a result of the frames
 *     since the last.  The process's RSS is sampled every --sample frames
 *     and at each round's end; from one round's end to the next it should
 *     stay flat.
 *
 *   anogan-stress overload [--seconds S] [--fps F] [--mode M] ...
 *
 *     videotestsrc is-live=true pattern=snow ! WxH at F fps ! anoganfilter
 *     ! fakesink sync=true
 *
 *     a live source faster than the analysis: in latest-frame every frame
 *     should reach the sink on time, with the newest result, whose
 *     analysed-pts names a frame that went through; RSS sampled every
 *     second.
 *
 * Both print what they measured, "key: value" a line, and exit 1 when
 * the pipeline posted an error, a warning nobody asked for, or a result
 * that names a frame the sink has not seen.  --csv FILE writes the RSS
 * samples.  Finding the plugin: the build's, when the program runs from
 * its build directory, else wherever GStreamer looks.
 */

#include <gst/gst.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define META_NAME "AnoganMeta"

/* ---- what the sink sees ------------------------------------------------- */

/* Counted by a probe on the sink's pad, in the streaming thread, and read
 * by the main thread: under the lock. */
typedef struct
{
  GMutex lock;
  guint64 buffers;
  guint64 with_result;          /* buffers that carried an AnoganMeta */
  guint64 results;              /* distinct analysed frames seen */
  guint64 caps_changes;
  guint64 foreign_results;      /* analysed-pts of no frame seen before */
  GstClockTime last_analysed;
  GstClockTime age_sum;         /* pts - analysed-pts, over with_result */
  GstClockTime age_max;
  guint64 delays;               /* buffers whose arrival was timed */
  GstClockTime delay_sum;       /* arrival running time - pts */
  GstClockTime delay_max;
  GstCaps *caps;
  GstClockTime *recent_pts;     /* overload only: the last RECENT frames' */
  guint n_recent;
} SinkCounts;

/* Frames the overload remembers the pts of, more than a minute at 60 fps:
 * a result older than that is as wrong as one of a frame never seen. */
#define RECENT 4096

static void
sink_counts_init (SinkCounts * c, gboolean keep_pts)
{
  memset (c, 0, sizeof *c);
  g_mutex_init (&c->lock);
  c->last_analysed = GST_CLOCK_TIME_NONE;
  if (keep_pts)
    c->recent_pts = g_new (GstClockTime, RECENT);
}

static void
sink_counts_clear (SinkCounts * c)
{
  gst_clear_caps (&c->caps);
  g_clear_pointer (&c->recent_pts, g_free);
  g_mutex_clear (&c->lock);
}

/* Whether a result's frame went through: in latest-frame the result of a
 * frame rides on a later one, so its own pts must have been seen, lately.
 * Without the record (the soak, where seeks make pts repeat) it only must
 * not come from the future.  A fixed ring rather than a growing table, so
 * that the benchmark's own memory stays flat. */
static gboolean
result_frame_seen (SinkCounts * c, GstClockTime pts, GstClockTime analysed)
{
  guint i;

  if (!GST_CLOCK_TIME_IS_VALID (analysed) || !GST_CLOCK_TIME_IS_VALID (pts))
    return TRUE;
  if (c->recent_pts == NULL)
    return analysed <= pts;
  for (i = 0; i < MIN (c->n_recent, RECENT); i++)
    if (c->recent_pts[i] == analysed)
      return TRUE;
  return FALSE;
}

static void
count_buffer (SinkCounts * c, GstBuffer * buffer)
{
  GstCustomMeta *meta = gst_buffer_get_custom_meta (buffer, META_NAME);
  GstClockTime pts = GST_BUFFER_PTS (buffer);
  guint64 analysed = GST_CLOCK_TIME_NONE;

  c->buffers++;
  if (c->recent_pts && GST_CLOCK_TIME_IS_VALID (pts))
    c->recent_pts[c->n_recent++ % RECENT] = pts;
  if (meta == NULL)
    return;
  c->with_result++;
  gst_structure_get_uint64 (gst_custom_meta_get_structure (meta),
      "analysed-pts", &analysed);
  if (!result_frame_seen (c, pts, analysed))
    c->foreign_results++;
  if (analysed != c->last_analysed)
    c->results++;
  c->last_analysed = analysed;
  if (GST_CLOCK_TIME_IS_VALID (analysed) && GST_CLOCK_TIME_IS_VALID (pts)
      && analysed <= pts) {
    c->age_sum += pts - analysed;
    c->age_max = MAX (c->age_max, pts - analysed);
  }
}

/* How long after its capture a buffer of a live source reaches the sink:
 * its running time now less the end of its capture, pts + duration, as a
 * live source stamps a frame with the running time its capture began and
 * sends it once the capture is over.  The first second, the start-up, is
 * left out. */
static void
time_arrival (SinkCounts * c, GstElement * sink, GstBuffer * buffer)
{
  GstClock *clock = gst_element_get_clock (sink);
  GstClockTime pts = GST_BUFFER_PTS (buffer), now, captured;

  if (clock == NULL)
    return;
  now = gst_clock_get_time (clock) - gst_element_get_base_time (sink);
  gst_object_unref (clock);
  if (!GST_CLOCK_TIME_IS_VALID (pts) || pts < GST_SECOND)
    return;
  captured = pts + (GST_BUFFER_DURATION_IS_VALID (buffer) ?
      GST_BUFFER_DURATION (buffer) : 0);
  if (now < captured)
    return;
  c->delays++;
  c->delay_sum += now - captured;
  c->delay_max = MAX (c->delay_max, now - captured);
}

static GstPadProbeReturn
on_sink_data (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  SinkCounts *c = user_data;

  g_mutex_lock (&c->lock);
  if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
    count_buffer (c, GST_PAD_PROBE_INFO_BUFFER (info));
    if (c->recent_pts)
      time_arrival (c, GST_PAD_PARENT (pad), GST_PAD_PROBE_INFO_BUFFER (info));
  } else {
    GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);
    GstCaps *caps;

    if (GST_EVENT_TYPE (event) == GST_EVENT_CAPS) {
      gst_event_parse_caps (event, &caps);
      if (c->caps && !gst_caps_is_equal (c->caps, caps))
        c->caps_changes++;
      gst_caps_replace (&c->caps, caps);
    }
  }
  g_mutex_unlock (&c->lock);
  return GST_PAD_PROBE_OK;
}

/* One of @c's counters, read under its lock: the sink's thread writes
 * them. */
static guint64
sink_read (SinkCounts * c, const guint64 * counter)
{
  guint64 n;

  g_mutex_lock (&c->lock);
  n = *counter;
  g_mutex_unlock (&c->lock);
  return n;
}

static void
watch_sink (GstElement * pipeline, SinkCounts * c)
{
  GstElement *sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  GstPad *pad = gst_element_get_static_pad (sink, "sink");

  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER |
      GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, on_sink_data, c, NULL);
  gst_object_unref (pad);
  gst_object_unref (sink);
}

/* ---- resident memory ---------------------------------------------------- */

typedef struct
{
  gdouble x;                    /* frames (soak) or seconds (overload) */
  guint64 rss_kib;
} RssSample;

static guint64
rss_kib (void)
{
  gchar *status = NULL;
  const gchar *line;
  guint64 kib = 0;

  if (!g_file_get_contents ("/proc/self/status", &status, NULL, NULL))
    return 0;
  line = strstr (status, "VmRSS:");
  if (line)
    kib = g_ascii_strtoull (line + strlen ("VmRSS:"), NULL, 10);
  g_free (status);
  return kib;
}

static void
sample_rss (GArray * samples, gdouble x)
{
  RssSample s = { x, rss_kib () };

  g_array_append_val (samples, s);
}

/* Least-squares slope of RSS over x, from sample FIRST on. */
static gdouble
rss_slope (GArray * samples, guint first)
{
  gdouble sx = 0, sy = 0, sxx = 0, sxy = 0, n = samples->len - first;
  guint i;

  if (n < 2)
    return 0;
  for (i = first; i < samples->len; i++) {
    RssSample *s = &g_array_index (samples, RssSample, i);

    sx += s->x;
    sy += s->rss_kib;
    sxx += s->x * s->x;
    sxy += s->x * s->rss_kib;
  }
  if (n * sxx - sx * sx <= 0)
    return 0;
  return (n * sxy - sx * sy) / (n * sxx - sx * sx);
}

/* The highest RSS in each tenth of the run: a process that leaks climbs
 * from tenth to tenth, where one that only changes state (a larger frame,
 * another model) swings within the same band. */
static void
report_rss_by_tenth (GArray * samples)
{
  gdouble end = g_array_index (samples, RssSample, samples->len - 1).x;
  guint64 peak[10] = { 0 };
  guint i;

  for (i = 0; i < samples->len; i++) {
    RssSample *s = &g_array_index (samples, RssSample, i);
    guint tenth = end > 0 ? MIN (9, (guint) (10 * s->x / end)) : 0;

    peak[tenth] = MAX (peak[tenth], s->rss_kib);
  }
  printf ("rss-max-by-tenth-kib:");
  for (i = 0; i < 10; i++)
    printf (" %" G_GUINT64_FORMAT, peak[i]);
  printf ("\n");
}

/* Prints RSS at the first sample, at the end of the warm-up (the first
 * sample at or past WARMUP), its least and most after it, at the end, and
 * the slope after the warm-up per SLOPE_UNIT of x. */
static void
report_rss (GArray * samples, gdouble warmup, gdouble slope_unit,
    const gchar * unit_name)
{
  guint64 lo = G_MAXUINT64, hi = 0;
  guint first = 0, i;

  if (samples->len == 0)
    return;
  while (first + 1 < samples->len &&
      g_array_index (samples, RssSample, first).x < warmup)
    first++;
  for (i = first; i < samples->len; i++) {
    guint64 kib = g_array_index (samples, RssSample, i).rss_kib;

    lo = MIN (lo, kib);
    hi = MAX (hi, kib);
  }
  printf ("rss-start-kib: %" G_GUINT64_FORMAT "\n",
      g_array_index (samples, RssSample, 0).rss_kib);
  printf ("rss-after-warmup-kib: %" G_GUINT64_FORMAT "\n",
      g_array_index (samples, RssSample, first).rss_kib);
  printf ("rss-min-after-warmup-kib: %" G_GUINT64_FORMAT "\n", lo);
  printf ("rss-max-after-warmup-kib: %" G_GUINT64_FORMAT "\n", hi);
  printf ("rss-end-kib: %" G_GUINT64_FORMAT "\n",
      g_array_index (samples, RssSample, samples->len - 1).rss_kib);
  printf ("rss-slope-kib-per-%s: %.1f\n", unit_name,
      rss_slope (samples, first) * slope_unit);
  report_rss_by_tenth (samples);
  printf ("rss-samples: %u\n", samples->len);
}

static gboolean
write_csv (GArray * samples, const gchar * path, const gchar * x_name)
{
  FILE *f = fopen (path, "w");
  guint i;

  if (f == NULL) {
    g_printerr ("anogan-stress: %s: %s\n", path, g_strerror (errno));
    return FALSE;
  }
  fprintf (f, "%s,rss_kib\n", x_name);
  for (i = 0; i < samples->len; i++) {
    RssSample *s = &g_array_index (samples, RssSample, i);

    fprintf (f, "%.3f,%" G_GUINT64_FORMAT "\n", s->x, s->rss_kib);
  }
  return fclose (f) == 0;
}

/* ---- the bus ------------------------------------------------------------ */

typedef struct
{
  guint errors;
  guint warnings;
  guint element_messages;
} BusCounts;

/* Takes every message waiting, or waits up to TIMEOUT for the first.  The
 * element posts a message a frame: an application that left them on the
 * bus would grow without end, so the soak reads them as a real one does. */
static void
drain_bus (GstBus * bus, GstClockTime timeout, BusCounts * counts)
{
  GstMessage *msg;

  while ((msg = gst_bus_timed_pop (bus, timeout)) != NULL) {
    GError *err = NULL;
    gchar *debug = NULL;

    timeout = 0;
    switch (GST_MESSAGE_TYPE (msg)) {
      case GST_MESSAGE_ERROR:
        gst_message_parse_error (msg, &err, &debug);
        g_printerr ("anogan-stress: error from %s: %s (%s)\n",
            GST_OBJECT_NAME (msg->src), err->message, debug ? debug : "");
        counts->errors++;
        break;
      case GST_MESSAGE_WARNING:
        gst_message_parse_warning (msg, &err, &debug);
        g_printerr ("anogan-stress: warning from %s: %s\n",
            GST_OBJECT_NAME (msg->src), err->message);
        counts->warnings++;
        break;
      case GST_MESSAGE_ELEMENT:
        counts->element_messages++;
        break;
      default:
        break;
    }
    g_clear_error (&err);
    g_free (debug);
    gst_message_unref (msg);
  }
}

static gboolean
set_state (GstElement * pipeline, GstState state)
{
  if (gst_element_set_state (pipeline, state) == GST_STATE_CHANGE_FAILURE)
    return FALSE;
  return gst_element_get_state (pipeline, NULL, NULL, 10 * GST_SECOND)
      == GST_STATE_CHANGE_SUCCESS;
}

static GstElement *
make_pipeline (const gchar * description)
{
  GError *err = NULL;
  GstElement *pipeline = gst_parse_launch (description, &err);

  if (pipeline == NULL || err) {
    g_printerr ("anogan-stress: %s\n", err ? err->message : "no pipeline");
    g_clear_error (&err);
    gst_clear_object (&pipeline);
  }
  return pipeline;
}

/* ---- the soak ----------------------------------------------------------- */

typedef struct
{
  GstElement *pipeline;
  GstElement *source;
  GstElement *capsfilter;
  GstElement *filter;
  GRand *rand;
  guint step;                   /* actions done */
  guint done[8];                /* actions done, by kind */
  guint expected_warnings;
  guint64 results_at_seek;      /* the sink's count at the last seek */
  guint seeks_without_result;
} Soak;

/* The formats and sizes the soak renegotiates between: grey, packed and
 * planar, tiles that fit and sizes that leave a partial column or row, one
 * frame smaller than a tile. */
static const gchar *const soak_caps[] = {
  "video/x-raw,format=GRAY8,width=128,height=96",
  "video/x-raw,format=RGB,width=160,height=120",
  "video/x-raw,format=I420,width=100,height=70",
  "video/x-raw,format=NV12,width=192,height=64",
  "video/x-raw,format=BGRA,width=24,height=20",
  "video/x-raw,format=YV12,width=96,height=96",
};

static const gchar *const soak_patterns[] = {
  "snow", "ball", "smpte", "checkers-8", "solid-color", "zone-plate",
};

static void
renegotiate (Soak * s)
{
  GstCaps *caps = gst_caps_from_string (soak_caps[s->done[0] %
          G_N_ELEMENTS (soak_caps)]);

  gst_caps_set_simple (caps, "framerate", GST_TYPE_FRACTION, 30, 1, NULL);
  g_object_set (s->capsfilter, "caps", caps, NULL);
  gst_caps_unref (caps);
}

static void
seek (Soak * s)
{
  gint64 position = g_rand_int_range (s->rand, 0, 3600) * GST_SECOND / 10;

  if (!gst_element_seek_simple (s->pipeline, GST_FORMAT_TIME,
          GST_SEEK_FLAG_FLUSH, position))
    g_printerr ("anogan-stress: the seek to %" GST_TIME_FORMAT " failed\n",
        GST_TIME_ARGS (position));
}

static void
pause_and_resume (Soak * s)
{
  set_state (s->pipeline, GST_STATE_PAUSED);
  set_state (s->pipeline, GST_STATE_PLAYING);
}

/* While paused: videotestsrc 1.22 does not guard its pattern against the
 * thread that draws it, and a pattern changed while it streams corrupts
 * the heap within a minute or so of this soak, with identity in place of
 * anoganfilter too.  Paused, its thread waits in the sink's preroll. */
static void
change_picture (Soak * s)
{
  set_state (s->pipeline, GST_STATE_PAUSED);
  gst_util_set_object_arg (G_OBJECT (s->source), "pattern",
      soak_patterns[s->done[3] % G_N_ELEMENTS (soak_patterns)]);
  set_state (s->pipeline, GST_STATE_PLAYING);
}

/* A handful of properties at random values within their ranges; the
 * searching modes with few steps, so that the soak stays fast. */
static void
change_properties (Soak * s)
{
  static const gchar *const modes[] = { "encoder", "hybrid", "optimise",
    "auto"
  };
  static const gchar *const overlays[] = { "none", "heatmap", "boxes",
    "both"
  };
  static const gchar *const rois[] = { "", "0,0,64,48", "8,4,50,40" };
  GRand *r = s->rand;

  g_object_set (s->filter, "iterations", g_rand_int_range (r, 1, 4),
      "threshold", (gfloat) g_rand_double_range (r, 0, 400),
      "overlay-alpha", (gfloat) g_rand_double (r),
      "tile-stride", g_rand_boolean (r) ? 0 : g_rand_int_range (r, 8, 33),
      "threads", g_rand_int_range (r, 0, 3),
      "warm-start", g_rand_boolean (r),
      "interval", g_rand_int_range (r, 1, 3),
      "post-messages", g_rand_boolean (r),
      "patience", g_rand_int_range (r, -1, 3),
      "skip-unchanged", (gfloat) (g_rand_boolean (r) ? -1.0 : 0.0),
      "seed", (guint64) g_rand_int (r),
      "roi", rois[g_rand_int_range (r, 0, G_N_ELEMENTS (rois))], NULL);
  gst_util_set_object_arg (G_OBJECT (s->filter), "mode",
      modes[g_rand_int_range (r, 0, G_N_ELEMENTS (modes))]);
  gst_util_set_object_arg (G_OBJECT (s->filter), "overlay",
      overlays[g_rand_int_range (r, 0, G_N_ELEMENTS (overlays))]);
}

/* In turn: a shipped model, one that does not load (a warning, and the
 * old model stays), the embedded default. */
static void
swap_model (Soak * s)
{
  const gchar *models[] = {
    ANOGAN_SOURCE_ROOT "/models/fashion-mnist/class-3.safetensors",
    ANOGAN_SOURCE_ROOT "/README.md",
    "",
  };
  guint which = s->done[5] % G_N_ELEMENTS (models);

  if (which == 1)
    s->expected_warnings++;
  g_object_set (s->filter, "model", models[which], NULL);
}

/* A region of interest that does not parse: refused with a warning on
 * the log (a property is no bus message), the old value kept. */
static void
set_bad_value (Soak * s)
{
  g_object_set (s->filter, "roi", "left,top", NULL);
}

typedef void (*SoakAction) (Soak * s);

/* Index of the seek in soak_actions. */
#define SOAK_SEEK 1

static const struct
{
  const gchar *name;
  SoakAction run;
} soak_actions[] = {
  {"renegotiations", renegotiate},
  {"flushing-seeks", seek},
  {"pauses", pause_and_resume},
  {"picture-changes", change_picture},
  {"property-changes", change_properties},
  {"model-swaps", swap_model},
  {"bad-values", set_bad_value},
};

/* A flush drops the result the worker is finishing, and in latest-frame
 * a fast source brings the next seek before the worker has finished
 * another: before each seek the soak waits, a minute at most, for a
 * result of the frames since the last, so that results go on coming
 * however often it seeks.  Waiting that long is a failure. */
static void
await_result (Soak * s, SinkCounts * c, GstBus * bus, BusCounts * b)
{
  gint64 until = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;

  while (sink_read (c, &c->results) == s->results_at_seek && b->errors == 0 &&
      g_get_monotonic_time () < until)
    drain_bus (bus, GST_MSECOND, b);
  if (sink_read (c, &c->results) == s->results_at_seek) {
    g_printerr ("anogan-stress: no result since the last seek\n");
    s->seeks_without_result++;
  }
  s->results_at_seek = sink_read (c, &c->results);
}

/* Six actions of each kind make a round: the six formats, the six
 * pictures and the three models twice over.  The random numbers start
 * again with each round, so every round takes the element through the
 * same states, and a round's end finds it as the last one's did: memory
 * that grows from one round end to the next is kept, not in use. */
#define SOAK_ROUND (6 * G_N_ELEMENTS (soak_actions))

static void
soak_act (Soak * s)
{
  guint kind = s->step++ % G_N_ELEMENTS (soak_actions);

  if ((s->step - 1) % SOAK_ROUND == 0)
    g_rand_set_seed (s->rand, 1);

  soak_actions[kind].run (s);
  s->done[kind]++;
}

typedef struct
{
  guint64 frames;
  guint every;
  guint sample;
  gdouble warmup;               /* share of the frames */
  const gchar *schedule;
  const gchar *csv;
} SoakOptions;

static gchar *
soak_description (const SoakOptions * o)
{
  return g_strdup_printf ("videotestsrc name=source pattern=snow "
      "! capsfilter name=caps caps=%s,framerate=30/1 "
      "! anoganfilter name=filter schedule=%s mode=encoder "
      "! fakesink name=sink sync=false", soak_caps[0], o->schedule);
}

/* Waits for the warnings the soak asked for (a bad model warns once its
 * background load has failed), a few seconds at most. */
static void
await_warnings (GstBus * bus, BusCounts * bus_counts, guint expected)
{
  gint64 until = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;

  while (bus_counts->warnings < expected && g_get_monotonic_time () < until)
    drain_bus (bus, 50 * GST_MSECOND, bus_counts);
}

static void
report_soak (Soak * s, SinkCounts * c, BusCounts * b, gdouble seconds)
{
  guint i;

  printf ("frames: %" G_GUINT64_FORMAT "\n", c->buffers);
  printf ("seconds: %.1f\n", seconds);
  printf ("frames-with-result: %" G_GUINT64_FORMAT "\n", c->with_result);
  printf ("results: %" G_GUINT64_FORMAT "\n", c->results);
  printf ("results-from-the-future: %" G_GUINT64_FORMAT "\n",
      c->foreign_results);
  printf ("caps-changes-seen: %" G_GUINT64_FORMAT "\n", c->caps_changes);
  for (i = 0; i < G_N_ELEMENTS (soak_actions); i++)
    printf ("%s: %u\n", soak_actions[i].name, s->done[i]);
  printf ("element-messages: %u\n", b->element_messages);
  printf ("warnings: %u (expected %u)\n", b->warnings, s->expected_warnings);
  printf ("errors: %u\n", b->errors);
  printf ("seeks-without-a-result-since-the-last: %u\n",
      s->seeks_without_result);
}

/* RSS at the end of each round, and how far the last rose above the
 * first: the figure a leak shows in, a round's states being the same. */
static void
report_rounds (GArray * round_ends)
{
  guint i;

  printf ("rounds: %u\n", round_ends->len);
  printf ("rss-at-round-end-kib:");
  for (i = 0; i < round_ends->len; i++)
    printf (" %" G_GUINT64_FORMAT, g_array_index (round_ends, guint64, i));
  printf ("\n");
  if (round_ends->len >= 2)
    printf ("rss-last-round-end-less-first-kib: %" G_GINT64_FORMAT "\n",
        (gint64) g_array_index (round_ends, guint64, round_ends->len - 1) -
        (gint64) g_array_index (round_ends, guint64, 0));
}

static gboolean
soak_ok (Soak * s, SinkCounts * c, BusCounts * b, guint64 frames)
{
  guint i;
  gboolean ok = b->errors == 0 && b->warnings == s->expected_warnings &&
      c->foreign_results == 0 && c->buffers >= frames && c->results > 0 &&
      s->seeks_without_result == 0;

  for (i = 0; i < G_N_ELEMENTS (soak_actions); i++)
    ok = ok && s->done[i] > 0;
  return ok;
}

static int
run_soak (const SoakOptions * o)
{
  gchar *description = soak_description (o);
  GstElement *pipeline = make_pipeline (description);
  Soak s = { 0 };
  SinkCounts counts;
  BusCounts bus_counts = { 0 };
  GArray *samples = g_array_new (FALSE, FALSE, sizeof (RssSample));
  GArray *round_ends = g_array_new (FALSE, FALSE, sizeof (guint64));
  guint64 next_action = o->every, next_sample = 0, frames = 0;
  gint64 start;
  GstBus *bus;
  gboolean ok;

  g_free (description);
  if (pipeline == NULL)
    return 2;
  sink_counts_init (&counts, FALSE);
  watch_sink (pipeline, &counts);
  s.pipeline = pipeline;
  s.source = gst_bin_get_by_name (GST_BIN (pipeline), "source");
  s.capsfilter = gst_bin_get_by_name (GST_BIN (pipeline), "caps");
  s.filter = gst_bin_get_by_name (GST_BIN (pipeline), "filter");
  s.rand = g_rand_new_with_seed (1);
  bus = gst_element_get_bus (pipeline);

  start = g_get_monotonic_time ();
  ok = set_state (pipeline, GST_STATE_PLAYING);
  while (ok && frames < o->frames && bus_counts.errors == 0) {
    drain_bus (bus, 2 * GST_MSECOND, &bus_counts);
    frames = sink_read (&counts, &counts.buffers);
    if (frames >= next_sample) {
      sample_rss (samples, frames);
      next_sample = frames + o->sample;
    }
    if (frames >= next_action) {
      if (s.step > 0 && s.step % SOAK_ROUND == 0) {
        guint64 kib = rss_kib ();

        g_array_append_val (round_ends, kib);
      }
      if (s.step % G_N_ELEMENTS (soak_actions) == SOAK_SEEK)
        await_result (&s, &counts, bus, &bus_counts);
      soak_act (&s);
      next_action = frames + o->every;
    }
  }
  /* The last model asked for may still be loading: its warning is
   * awaited with the frames held. */
  sample_rss (samples, sink_read (&counts, &counts.buffers));
  set_state (pipeline, GST_STATE_PAUSED);
  await_warnings (bus, &bus_counts, s.expected_warnings);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  drain_bus (bus, 0, &bus_counts);

  report_soak (&s, &counts, &bus_counts,
      (g_get_monotonic_time () - start) / 1e6);
  report_rss (samples, o->warmup * o->frames, 10000, "10000-frames");
  report_rounds (round_ends);
  ok = ok && soak_ok (&s, &counts, &bus_counts, o->frames);
  if (o->csv)
    ok = write_csv (samples, o->csv, "frames") && ok;

  g_array_unref (samples);
  g_array_unref (round_ends);
  g_rand_free (s.rand);
  gst_object_unref (s.source);
  gst_object_unref (s.capsfilter);
  gst_object_unref (s.filter);
  gst_object_unref (bus);
  gst_object_unref (pipeline);
  sink_counts_clear (&counts);
  return ok ? 0 : 1;
}

/* ---- the overload ------------------------------------------------------- */

typedef struct
{
  gdouble seconds;
  gint fps;
  gint width;
  gint height;
  const gchar *mode;
  const gchar *schedule;
  const gchar *pattern;
  const gchar *csv;
} OverloadOptions;

/* The sink's own count of buffers rendered and dropped as too late, read
 * before the pipeline stops, which resets them. */
static void
sink_stats (GstElement * pipeline, guint64 * rendered, guint64 * dropped)
{
  GstElement *sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  GstStructure *stats = NULL;

  g_object_get (sink, "stats", &stats, NULL);
  gst_structure_get_uint64 (stats, "rendered", rendered);
  gst_structure_get_uint64 (stats, "dropped", dropped);
  gst_structure_free (stats);
  gst_object_unref (sink);
}

static void
report_overload (SinkCounts * c, BusCounts * b, gdouble seconds,
    guint64 rendered, guint64 dropped, const OverloadOptions * o)
{
  printf ("source-fps: %d\n", o->fps);
  printf ("seconds: %.1f\n", seconds);
  printf ("frames: %" G_GUINT64_FORMAT "\n", c->buffers);
  printf ("fps: %.2f\n", c->buffers / seconds);
  printf ("rendered: %" G_GUINT64_FORMAT "\n", rendered);
  printf ("dropped-late: %" G_GUINT64_FORMAT "\n", dropped);
  printf ("frames-with-result: %" G_GUINT64_FORMAT "\n", c->with_result);
  printf ("results: %" G_GUINT64_FORMAT "\n", c->results);
  printf ("results-per-second: %.2f\n", c->results / seconds);
  printf ("result-age-mean-ms: %.1f\n", c->with_result ?
      c->age_sum / 1e6 / c->with_result : 0.0);
  printf ("result-age-max-ms: %.1f\n", c->age_max / 1e6);
  printf ("results-of-unseen-frames: %" G_GUINT64_FORMAT "\n",
      c->foreign_results);
  printf ("arrival-delay-mean-ms: %.1f\n", c->delays ?
      c->delay_sum / 1e6 / c->delays : 0.0);
  printf ("arrival-delay-max-ms: %.1f\n", c->delay_max / 1e6);
  printf ("warnings: %u\nerrors: %u\n", b->warnings, b->errors);
}

static int
run_overload (const OverloadOptions * o)
{
  gchar *description = g_strdup_printf ("videotestsrc is-live=true "
      "pattern=%s ! video/x-raw,format=GRAY8,width=%d,height=%d,"
      "framerate=%d/1 ! anoganfilter name=filter schedule=%s mode=%s "
      "! fakesink name=sink sync=true", o->pattern, o->width, o->height,
      o->fps, o->schedule, o->mode);
  GstElement *pipeline = make_pipeline (description);
  GArray *samples = g_array_new (FALSE, FALSE, sizeof (RssSample));
  SinkCounts counts;
  BusCounts bus_counts = { 0 };
  gint64 start, now, next_sample;
  guint64 rendered = 0, dropped = 0;
  GstBus *bus;
  gboolean ok;

  g_free (description);
  if (pipeline == NULL)
    return 2;
  sink_counts_init (&counts, TRUE);
  watch_sink (pipeline, &counts);
  bus = gst_element_get_bus (pipeline);

  start = next_sample = g_get_monotonic_time ();
  ok = gst_element_set_state (pipeline, GST_STATE_PLAYING)
      != GST_STATE_CHANGE_FAILURE;
  for (now = start; ok && bus_counts.errors == 0 &&
      now - start < o->seconds * G_USEC_PER_SEC;
      now = g_get_monotonic_time ()) {
    drain_bus (bus, 10 * GST_MSECOND, &bus_counts);
    if (now >= next_sample) {
      sample_rss (samples, (now - start) / 1e6);
      next_sample += G_USEC_PER_SEC;
    }
  }
  sample_rss (samples, (g_get_monotonic_time () - start) / 1e6);
  sink_stats (pipeline, &rendered, &dropped);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  drain_bus (bus, 0, &bus_counts);

  report_overload (&counts, &bus_counts, (now - start) / 1e6, rendered,
      dropped, o);
  report_rss (samples, MIN (10.0, o->seconds / 4), 60, "minute");
  ok = ok && bus_counts.errors == 0 && bus_counts.warnings == 0 &&
      counts.foreign_results == 0 && counts.results > 0;
  if (o->csv)
    ok = write_csv (samples, o->csv, "seconds") && ok;

  g_array_unref (samples);
  gst_object_unref (bus);
  gst_object_unref (pipeline);
  sink_counts_clear (&counts);
  return ok ? 0 : 1;
}

/* ---- the command line --------------------------------------------------- */

/* Uses the plugin of this build when there is one, so that the benchmark
 * measures the code beside it rather than an installed copy. */
static void
prefer_build_plugin (void)
{
  const gchar *build_gst = ANOGAN_BUILD_ROOT "/gst";
  const gchar *path = g_getenv ("GST_PLUGIN_PATH_1_0");
  gchar *plugin = g_build_filename (build_gst, "libgstanogan.so", NULL);

  if (g_file_test (plugin, G_FILE_TEST_EXISTS)) {
    gchar *joined = path && *path ?
        g_strconcat (build_gst, G_SEARCHPATH_SEPARATOR_S, path, NULL) :
        g_strdup (build_gst);

    g_setenv ("GST_PLUGIN_PATH_1_0", joined, TRUE);
    g_free (joined);
  }
  g_free (plugin);
}

/* Parses the options after the word COMMAND, with a usage line that
 * names both. */
static gboolean
parse (GOptionEntry * entries, const gchar * command, const gchar * summary,
    int *argc, char ***argv)
{
  GOptionContext *context = g_option_context_new (NULL);
  gchar *prgname = g_strconcat ("anogan-stress ", command, NULL);
  GError *err = NULL;
  gboolean ok;

  g_set_prgname (prgname);
  g_free (prgname);
  g_option_context_set_summary (context, summary);
  g_option_context_add_main_entries (context, entries, NULL);
  ok = g_option_context_parse (context, argc, argv, &err);
  if (!ok)
    g_printerr ("anogan-stress: %s\n", err->message);
  g_clear_error (&err);
  g_option_context_free (context);
  return ok;
}

static int
soak_main (int argc, char **argv)
{
  gint64 frames = 30000;
  gint every = 500, sample = 250;
  gdouble warmup = 0.1;
  gchar *schedule = NULL, *csv = NULL;
  GOptionEntry entries[] = {
    {"frames", 0, 0, G_OPTION_ARG_INT64, &frames, "Frames to run [30000]",
        "N"},
    {"every", 0, 0, G_OPTION_ARG_INT, &every,
        "Frames between two actions [500]", "N"},
    {"sample", 0, 0, G_OPTION_ARG_INT, &sample,
        "Frames between two RSS samples [250]", "N"},
    {"warmup", 0, 0, G_OPTION_ARG_DOUBLE, &warmup,
        "Share of the frames that warms up [0.1]", "F"},
    {"schedule", 0, 0, G_OPTION_ARG_STRING, &schedule,
        "anoganfilter's schedule [every-frame]", "S"},
    {"csv", 0, 0, G_OPTION_ARG_FILENAME, &csv, "Write the RSS samples here",
        "FILE"},
    {NULL}
  };
  SoakOptions o;
  int status;

  if (!parse (entries, "soak", "The element over a long, busy run.", &argc,
          &argv))
    return 2;
  if (frames < 1 || every < 1 || sample < 1 || warmup < 0 || warmup >= 1) {
    g_printerr ("anogan-stress: --frames, --every and --sample must be "
        "positive, --warmup in [0, 1)\n");
    return 2;
  }
  o = (SoakOptions) {
  frames, every, sample, warmup, schedule ? schedule : "every-frame", csv};
  status = run_soak (&o);
  g_free (schedule);
  g_free (csv);
  return status;
}

static int
overload_main (int argc, char **argv)
{
  gdouble seconds = 60;
  gint fps = 60, width = 640, height = 480;
  gchar *mode = NULL, *schedule = NULL, *pattern = NULL, *csv = NULL;
  GOptionEntry entries[] = {
    {"seconds", 0, 0, G_OPTION_ARG_DOUBLE, &seconds, "Seconds to run [60]",
        "S"},
    {"fps", 0, 0, G_OPTION_ARG_INT, &fps, "The source's frame rate [60]",
        "F"},
    {"width", 0, 0, G_OPTION_ARG_INT, &width, "Frame width [640]", "W"},
    {"height", 0, 0, G_OPTION_ARG_INT, &height, "Frame height [480]", "H"},
    {"mode", 0, 0, G_OPTION_ARG_STRING, &mode,
        "anoganfilter's mode [encoder]", "M"},
    {"schedule", 0, 0, G_OPTION_ARG_STRING, &schedule,
        "anoganfilter's schedule [latest-frame]", "S"},
    {"pattern", 0, 0, G_OPTION_ARG_STRING, &pattern,
          "videotestsrc's pattern [snow: every tile changes every frame, "
          "so that no result can be reused]", "P"},
    {"csv", 0, 0, G_OPTION_ARG_FILENAME, &csv, "Write the RSS samples here",
        "FILE"},
    {NULL}
  };
  OverloadOptions o;
  int status;

  if (!parse (entries, "overload", "A live source faster than the analysis.",
          &argc, &argv))
    return 2;
  if (seconds <= 0 || fps < 1 || width < 1 || height < 1) {
    g_printerr ("anogan-stress: --seconds, --fps, --width and --height "
        "must be positive\n");
    return 2;
  }
  o = (OverloadOptions) {
  seconds, fps, width, height, mode ? mode : "encoder",
        schedule ? schedule : "latest-frame", pattern ? pattern : "snow",
        csv};
  status = run_overload (&o);
  g_free (mode);
  g_free (schedule);
  g_free (pattern);
  g_free (csv);
  return status;
}

int
main (int argc, char **argv)
{
  GstElementFactory *factory;
  int status;

  if (argc < 2 || (strcmp (argv[1], "soak") && strcmp (argv[1], "overload"))) {
    g_printerr ("usage: anogan-stress soak|overload [OPTION...] "
        "(--help after the word for the options)\n");
    return 2;
  }
  prefer_build_plugin ();
  gst_init (NULL, NULL);
  factory = gst_element_factory_find ("anoganfilter");
  if (factory == NULL) {
    g_printerr ("anogan-stress: GStreamer finds no anoganfilter\n");
    return 2;
  }
  gst_object_unref (factory);
  status = strcmp (argv[1], "soak") == 0 ? soak_main (argc - 1, argv + 1) :
      overload_main (argc - 1, argv + 1);
  gst_deinit ();
  return status;
}
