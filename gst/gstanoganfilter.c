/* gstanoganfilter.c: anoganfilter, AnoGAN anomaly detection on video frames
 *
 * Copyright (C) 2026 the gst-anogan authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The element is a thin layer over libanogan: it reads the frame's pixels
 * into model inputs, tile by tile as the command-line tools do, hands the
 * tiles to the latent search and turns what the search finds into buffer
 * metadata, bus messages and a drawing over the picture.
 *
 * Who owns what:
 *  - properties live under the object lock; each frame starts by copying
 *    them (a Settings snapshot), so an analysis never sees half a change;
 *  - the streaming thread owns the plan of the frame (tiling, converter,
 *    scratch buffers), rebuilt when caps, model, roi or stride change;
 *  - the engine (the search and its buffers) is used by one analysis at a
 *    time under engine_lock: the streaming thread's in every-frame mode,
 *    the worker thread's in latest-frame mode;
 *  - the worker and the streaming thread meet under `lock`: a pending job,
 *    a spare job to fill, and the latest finished result.
 * Plans, models, jobs' plans and results are reference-counted boxes, so
 * either thread may drop its reference at any time.
 */

/**
 * SECTION:element-anoganfilter
 * @title: anoganfilter
 *
 * anoganfilter looks for visual anomalies in video frames with AnoGAN: a
 * generator trained on pictures of normal parts only is asked to draw
 * each part of the frame, and what it cannot draw is an anomaly.
 *
 * The frame (or the #GstAnoganFilter:roi) is cut into tiles of the
 * model's input size, stepping by #GstAnoganFilter:tile-stride, the last
 * column and row flush with the border; an area smaller than one tile is
 * padded by repeating its last column and row.  For each tile, the
 * element looks for the point z of the latent space whose picture G(z) is
 * closest to the tile, and the loss there is the tile's score; the
 * frame's score is its highest tile score, anomalous when it reaches the
 * threshold.  #GstAnoganFilter:mode says how z is found: Adam steps from
 * a fixed start (AnoGAN), the model's encoder in one pass (f-AnoGAN), or
 * the encoder and then a few steps on the tiles it finds suspicious.  A
 * threshold only holds for scores searched as it was calibrated, so each
 * mode takes its threshold, and every search setting a property leaves
 * at its default, from its own calibration in the model's card:
 * iterations, learning rate, lambda, tile stride, residual loss, how the
 * search starts, early stopping and the hybrid mode's screen.
 *
 * A tile whose pixels have not changed since its last analysis keeps that
 * analysis's result (#GstAnoganFilter:skip-unchanged), so that a static
 * scene, or a frame repeated upstream, costs little.
 *
 * Every buffer that leaves the element carries the latest result as a
 * #GstCustomMeta named "AnoganMeta" (its structure holds the score, the
 * verdict, the threshold, the tiles' positions, scores, steps and whether
 * each was analysed, the model, the mode and the time stamp of the
 * analysed frame), plus a #GstVideoRegionOfInterestMeta
 * of type "anomaly" for each tile over the threshold (after a flush, a
 * seek, none until the first result of a frame after it).  Each analysis is
 * also posted on the bus as an element message named "anogan" with the
 * same fields and the frame's timestamp, stream-time, running-time and
 * duration.  By default the residual |x − G(z)| is drawn over the
 * picture as a heatmap and the anomalous tiles are outlined.
 *
 * The drawing is blended into the frame, unless downstream draws overlays
 * itself (a GL or Xv sink, a compositor): when the caps downstream carry
 * the feature "meta:GstVideoOverlayComposition" and downstream lists
 * #GstVideoOverlayCompositionMeta in its answer to the ALLOCATION query,
 * or upstream's caps carry the feature too, the drawing travels as a
 * #GstVideoOverlayCompositionMeta and the pixels pass untouched, for
 * recording the picture as it was.  A sink that takes any caps but draws
 * nothing (fakesink, appsink) gets the plain caps and the drawing in the
 * pixels, as from textoverlay.
 *
 * The optimising search is expensive (a 640x480 frame is 300 tiles of
 * 32x32, each searched for 200 steps with the default model), so on a live
 * source the element analyses on a thread of its own, always the newest
 * frame, and passes frames on at once (#GstAnoganFilter:schedule).
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 v4l2src ! videoconvert ! anoganfilter ! videoconvert ! autovideosink
 * ]| A camera, analysed as fast as the machine allows, anomalies marked.
 * |[
 * gst-launch-1.0 -m filesrc location=line.webm ! decodebin ! videoconvert ! \
 *   anoganfilter model=parts.safetensors interval=15 overlay=none ! fakesink
 * ]| Every 15th frame of a recording scored with a trained model; the
 * scores are printed as bus messages.
 */

#define G_LOG_DOMAIN "anoganfilter"

#include "gstanoganfilter.h"
#include "gstanoganmeta.h"
#include "gstanoganoverlay.h"

#include "anogan-default-resources.h"
#include "anogan-model.h"
#include "anogan-search.h"
#include "anogan-tiling.h"

#include <math.h>
#include <string.h>

GST_DEBUG_CATEGORY_STATIC (gst_anogan_filter_debug);
#define GST_CAT_DEFAULT gst_anogan_filter_debug

/* The embedded default model, compiled in from models/brick. */
#define DEFAULT_MODEL_RESOURCE "/org/gst-anogan/default/brick.safetensors"
#define DEFAULT_MODEL_NAME "default"

/* What the search uses when neither the property nor the model's card
 * says: 100 Adam steps (a fifth of the paper's 500, enough for scores to
 * settle on the shipped models) at the paper's learning rate. */
#define FALLBACK_ITERATIONS 100
#define FALLBACK_LEARNING_RATE 0.01f

/* Patches per pass of the networks.  The encoder mode runs forward passes
 * only, up to 64 patches wide: on the 2-core development machine its cost
 * was flat, within a few per cent, from 8 to 150 patches (0.18 to 0.20 s
 * of CPU for 300 dcgan32 tiles, and alike for dcgan64), so wide passes
 * cost nothing and make few batches.  The modes that step keep the
 * engine's default, within a few per cent of the fastest for the steps.
 * Either is lowered so that a frame's tiles share out evenly between the
 * cores, which matters more: a core left without a batch idles. */
#define ENCODER_BATCH 64
#define STEP_BATCH 8

/* Searches kept ready: one per mode, so that switching modes does not
 * rebuild a search (and its bank of candidate starts) every time. */
#define N_SEARCHES 3

/* The heatmap: the residual |x − G(z)| of a pixel, averaged over channels,
 * is in [0, 2] for inputs in [-1, 1].  On the shipped brick model half the
 * pixels of a normal frame stay under 0.02 and nine in ten under 0.5,
 * while defects reach 0.4 to 0.9; heat = (residual − 0.25) / 0.5, clamped
 * to [0, 1], keeps the bulk of a normal picture clear and gives a defect
 * the strong end of the colour map. */
#define HEAT_FLOOR 0.25f
#define HEAT_SPAN 0.5f

/* A latency message is posted when an analysis takes this much longer
 * than the latency last reported (a quarter more), so that a pipeline
 * re-reads the latency as it grows, without a message per frame. */
#define LATENCY_GROWTH 4

#define DEFAULT_MODEL NULL
#define DEFAULT_ITERATIONS 0
#define DEFAULT_LEARNING_RATE 0.0f
#define DEFAULT_LAMBDA -1.0f
#define DEFAULT_THRESHOLD -1.0f
#define DEFAULT_TILE_STRIDE 0
#define DEFAULT_ROI NULL
#define DEFAULT_THREADS 0
#define DEFAULT_OVERLAY GST_ANOGAN_OVERLAY_BOTH
#define DEFAULT_OVERLAY_ALPHA 0.5f
#define DEFAULT_WARM_START FALSE
#define DEFAULT_INTERVAL 1
#define DEFAULT_SCHEDULE GST_ANOGAN_SCHEDULE_AUTO
#define DEFAULT_POST_MESSAGES TRUE
#define DEFAULT_SEED 0
#define DEFAULT_MODE GST_ANOGAN_MODE_AUTO
#define DEFAULT_PATIENCE -1
#define DEFAULT_TOLERANCE -1.0f
#define DEFAULT_REFINE_ABOVE -1.0f
/* Identical tiles only: a tile whose pixels are exactly those of its last
 * analysis would be analysed into exactly the same result (the search
 * depends on nothing else), so reusing it changes no score and saves the
 * whole analysis of frames a source repeats (videorate, imagefreeze, a
 * paused camera, a screen).  A tolerance above 0 trades exactness for
 * speed and is the user's choice. */
#define DEFAULT_SKIP_UNCHANGED 0.0f

enum
{
  PROP_0,
  PROP_MODEL,
  PROP_ITERATIONS,
  PROP_LEARNING_RATE,
  PROP_LAMBDA,
  PROP_THRESHOLD,
  PROP_TILE_STRIDE,
  PROP_ROI,
  PROP_THREADS,
  PROP_OVERLAY,
  PROP_OVERLAY_ALPHA,
  PROP_WARM_START,
  PROP_INTERVAL,
  PROP_SCHEDULE,
  PROP_POST_MESSAGES,
  PROP_SEED,
  PROP_MODE,
  PROP_PATIENCE,
  PROP_TOLERANCE,
  PROP_REFINE_ABOVE,
  PROP_SKIP_UNCHANGED,
};

/* Packed RGB and grey formats are read in place; planar and semi-planar
 * YUV go through a GstVideoConverter to grey or RGB first. */
#define ANOGAN_FORMATS "{ GRAY8, RGB, BGR, RGBx, BGRx, xRGB, xBGR, RGBA, " \
    "BGRA, ARGB, ABGR, I420, YV12, NV12, NV21 }"

/* The same formats on both pads: the element works in place and changes
 * neither format nor size.  Any size and frame rate, in system memory,
 * with or without the caps feature that lets the overlay travel as a
 * GstVideoOverlayCompositionMeta (transform_caps() pairs the two). */
#define ANOGAN_CAPS GST_VIDEO_CAPS_MAKE (ANOGAN_FORMATS) "; "            \
    GST_VIDEO_CAPS_MAKE_WITH_FEATURES (                                 \
        GST_CAPS_FEATURE_META_GST_VIDEO_OVERLAY_COMPOSITION, ANOGAN_FORMATS)

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK,
    GST_PAD_ALWAYS,
    GST_STATIC_CAPS (ANOGAN_CAPS));

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC,
    GST_PAD_ALWAYS,
    GST_STATIC_CAPS (ANOGAN_CAPS));

/* ---- reference-counted pieces ------------------------------------------ */

/* prefix_ref() and prefix_unref() for a Type kept in an atomic
 * reference-counted box and emptied by prefix_clear() on the last unref,
 * so that the streaming thread and the worker can each hold one. */
#define DEFINE_BOX_REFS(Type, prefix)                                   \
  static Type *                                                         \
  prefix##_ref (Type * p)                                               \
  {                                                                     \
    return g_atomic_rc_box_acquire (p);                                 \
  }                                                                     \
                                                                        \
  static void                                                           \
  prefix##_unref (Type * p)                                             \
  {                                                                     \
    g_atomic_rc_box_release_full (p, prefix##_clear);                   \
  }                                                                     \
  G_STATIC_ASSERT (TRUE)

#define N_MODES 3               /* AnoganMode: optimise, encoder, hybrid */

/* The settings a mode's threshold was calibrated with, from the model's
 * card; zero, or negative where zero is a value, where the card is
 * silent. */
typedef struct
{
  gboolean present;             /* the card has the mode's object */
  gdouble threshold;            /* NAN when none */
  gint iterations;
  gfloat learning_rate;
  gfloat lambda;                /* negative: silent */
  gint stride;
  gint candidates;
  AnoganResidualLoss loss;
  AnoganZInit z_init;
  gint patience;                /* negative: silent */
  gfloat tolerance;             /* negative: silent */
  gfloat refine_above;          /* a fraction of the threshold; negative:
                                 * silent */
} Calibration;

/* A loaded model and what its card says about each mode. */
typedef struct
{
  AnoganModel *model;
  gchar *name;                  /* the file's basename, or "default" */
  gchar *path;                  /* NULL for the embedded model */
  gboolean has_encoder;
  Calibration calibration[N_MODES];     /* by AnoganMode */
  AnoganMode auto_mode;         /* what mode=auto runs */
  /* the streaming thread's: warnings already posted for this model */
  gboolean warned_fallback;
  guint warned_threshold;       /* a bit per mode */
} Model;

/* The properties, as one analysis sees them. */
typedef struct
{
  guint iterations;
  gfloat learning_rate;
  gfloat lambda;
  gfloat threshold;
  guint tile_stride;
  gboolean has_roi;
  GstVideoRectangle roi;
  guint threads;
  GstAnoganOverlayMode overlay;
  gfloat overlay_alpha;
  gboolean warm_start;
  guint interval;
  GstAnoganSchedule schedule;
  gboolean post_messages;
  guint64 seed;
  GstAnoganMode mode;
  gint patience;
  gfloat tolerance;
  gfloat refine_above;
  gfloat skip_unchanged;
} Settings;

/* How frames of one size are cut into tiles for one model.  Immutable
 * once made; jobs keep a reference while the worker analyses them. */
typedef struct
{
  Model *model;
  gint frame_width;
  gint frame_height;
  /* what the plan was made from, to tell when it is stale */
  gint stride_x;
  gint stride_y;
  gboolean has_roi;
  GstVideoRectangle roi_setting;
  /* the analysed area, inside the frame */
  GstVideoRectangle roi;
  gboolean padded;              /* roi smaller than a tile: padded */
  AnoganTiling tiling;          /* over the roi, padded to a tile at least */
  gint channels;
  gsize patch_floats;
  gint n_tiles;
  gint *tile_x;                 /* tile edges in frame pixels */
  gint *tile_y;
} Plan;

/* One frame's tiles, waiting for or under analysis. */
typedef struct
{
  Plan *plan;
  gfloat *patches;
  gsize capacity;               /* floats in patches */
  Settings settings;
  AnoganMode mode;              /* the mode resolved for this frame */
  guint epoch;                  /* the stream's, for reusing tiles */
  guint generation;
  guint flushes;                /* the element's flushes when it was filled */
  GstClockTime pts;
  GstClockTime duration;
  GstClockTime running_time;
  GstClockTime stream_time;
  GstClockTime read_time;       /* spent reading the tiles, ns */
} Job;

/* A search ready to run, kept for when its options come back. */
typedef struct
{
  AnoganSearch *search;
  Model *model;
  AnoganSearchOptions options;
  guint64 used;                 /* when last used, for eviction */
} CachedSearch;

/* One finished analysis: the structure every carrying buffer gets, and
 * what the overlay draws. */
typedef struct
{
  GstStructure *structure;
  guint generation;
  GstClockTime pts;
  GstClockTime processing_time;
  GstVideoRectangle roi;
  gfloat *heat;                 /* roi.w × roi.h, 0 to 1 */
  GstVideoRectangle *boxes;
  guint n_boxes;
} Result;

struct _GstAnoganFilter
{
  GstVideoFilter parent;

  /* properties, under the object lock */
  gchar *model_path;
  gboolean running;             /* between start and stop */
  guint model_request;          /* the newest model set while running */
  Model *incoming;              /* ... loaded in the background */
  Model *in_use;                /* the streaming thread's model */
  Settings settings;
  gchar *roi_string;

  /* streaming thread */
  Model *model;
  Plan *plan;
  guint generation;             /* bumped when the frame size changes */
  guint epoch;                  /* bumped by flushes and segments */
  GstVideoConverter *convert;   /* YUV: roi → GRAY8 or RGB */
  GstVideoInfo convert_info;
  GstBuffer *convert_buffer;
  guint8 *pad;                  /* the roi padded to a tile */
  Job *inline_job;              /* every-frame's job */
  guint64 frame_count;
  gboolean schedule_decided;
  Result *shown;                /* the result the frames carry */
  Result *attach;               /* shown, when it fits the current frame */
  GstVideoOverlayComposition *composition;      /* shown, drawn */
  gboolean composition_ready;   /* composition (maybe NULL) is up to date */
  GstAnoganOverlayMode composition_mode;
  gfloat composition_alpha;
  gboolean overlay_decided;     /* FALSE from new caps to the next frame */
  gboolean overlay_as_meta;     /* attach the composition, do not blend */
  /* under the object lock: read by transform_caps() */
  gboolean overlay_plain_only;  /* downstream does not draw overlays */

  /* under the object lock: read by LATENCY queries */
  gboolean latest_mode;
  GstClockTime latency;         /* last reported */
  /* under the object lock: whether the model in use has an encoder, for
   * the mode property to refuse what it cannot run; FALSE, and unknown,
   * while no model is loaded */
  gboolean model_known;
  gboolean model_has_encoder;

  /* the engine, under engine_lock */
  GMutex engine_lock;
  CachedSearch searches[N_SEARCHES];
  guint64 search_clock;
  gsize engine_tiles;           /* capacity, in tiles of engine_patch */
  gsize engine_patch;
  gsize z_floats;
  /* each tile's last analysis, in tiling order: its result, residual map,
   * z* and pixels (as model inputs) */
  Plan *tiles_plan;             /* whose tiles they are; NULL when none */
  AnoganPatchResult *results;
  gfloat *maps;
  gfloat *z;
  gfloat *reference;
  /* how they were analysed: reused only for the same search of the same
   * stream */
  AnoganMode tiles_mode;
  AnoganSearchOptions tiles_options;
  gboolean tiles_warm;
  guint tiles_epoch;
  /* this analysis: the tiles analysed, packed, and what the search found
   * for them */
  gint *todo;
  gfloat *packed;
  gfloat *packed_z;
  AnoganPatchResult *packed_results;
  gfloat *packed_maps;
  gfloat *z_next;
  /* the result's arrays */
  gfloat *scores;
  gint *iterations;
  gboolean *analysed;
  gfloat *picture_map;
  gsize picture_capacity;

  /* the worker, under lock */
  GMutex lock;
  GCond cond;
  GThread *worker;
  gboolean stopping;
  gboolean busy;
  gboolean worker_failed;
  Job *pending;
  Job *spare;
  Result *latest;
  guint flushes;                /* a job filled before the last is void */
};

#define gst_anogan_filter_parent_class parent_class
G_DEFINE_TYPE (GstAnoganFilter, gst_anogan_filter, GST_TYPE_VIDEO_FILTER);
GST_ELEMENT_REGISTER_DEFINE (anoganfilter, "anoganfilter", GST_RANK_NONE,
    GST_TYPE_ANOGAN_FILTER);

/**
 * gst_anogan_schedule_get_type:
 *
 * Returns: the #GType of #GstAnoganSchedule
 */
GType
gst_anogan_schedule_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_ANOGAN_SCHEDULE_AUTO,
        "Latest-frame on a live pipeline, every-frame otherwise", "auto"},
    {GST_ANOGAN_SCHEDULE_EVERY_FRAME,
          "Analyse each selected frame before passing it on",
        "every-frame"},
    {GST_ANOGAN_SCHEDULE_LATEST_FRAME,
          "Analyse the newest selected frame on a thread of its own, "
          "passing frames on at once", "latest-frame"},
    {0, NULL, NULL}
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstAnoganSchedule", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

/**
 * gst_anogan_mode_get_type:
 *
 * Returns: the #GType of #GstAnoganMode
 */
GType
gst_anogan_mode_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_ANOGAN_MODE_AUTO,
          "The mode the model's card recommends, else the fastest it is "
          "calibrated for", "auto"},
    {GST_ANOGAN_MODE_OPTIMISE,
        "AnoGAN: Adam steps on z from the card's start", "optimise"},
    {GST_ANOGAN_MODE_ENCODER,
        "f-AnoGAN: z from the model's encoder, no steps", "encoder"},
    {GST_ANOGAN_MODE_HYBRID,
          "z from the encoder, then Adam steps on the suspicious tiles",
        "hybrid"},
    {0, NULL, NULL}
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstAnoganMode", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

/* ---- models ------------------------------------------------------------- */

static void
model_clear (gpointer data)
{
  Model *m = data;

  g_clear_pointer (&m->model, anogan_model_free);
  g_free (m->name);
  g_free (m->path);
}

DEFINE_BOX_REFS (Model, model);

/* A number of the card, or NAN when absent or not a number. */
static gdouble
card_number (JsonObject * card, const gchar * name)
{
  JsonNode *node = json_object_get_member (card, name);
  GType type;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node))
    return NAN;
  type = json_node_get_value_type (node);
  if (type != G_TYPE_INT64 && type != G_TYPE_DOUBLE)
    return NAN;
  return json_node_get_double (node);
}

static const gchar *
card_string (JsonObject * card, const gchar * name)
{
  JsonNode *node = json_object_get_member (card, name);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

/* The search settings a mode's threshold was calibrated with, as
 * anogan-train writes them in the card's "calibration" object (the
 * optimising search), "calibration_encoder" or "calibration_hybrid": a
 * threshold only means something for scores searched the same way.
 * Values out of range are passed over, as if absent. */
static void
calibration_read (Calibration * c, JsonObject * card)
{
  const gchar *s;
  gdouble v;

  memset (c, 0, sizeof *c);
  c->threshold = NAN;
  c->lambda = -1.0f;
  c->loss = ANOGAN_LOSS_L1;
  c->z_init = ANOGAN_Z_ZERO;
  c->patience = -1;
  c->tolerance = -1.0f;
  /* Screening at the threshold itself changes no verdict: a tile whose
   * score from E(x) is under it stays under it after any step. */
  c->refine_above = 1.0f;
  if (card == NULL)
    return;
  c->present = TRUE;

  v = card_number (card, "threshold");
  if (v >= 0 && isfinite (v))
    c->threshold = v;
  v = card_number (card, "iterations");
  if (v >= 1 && v <= 100000)
    c->iterations = (gint) v;
  v = card_number (card, "learning_rate");
  if (isnan (v))
    v = card_number (card, "lr");
  if (v > 0 && isfinite (v))
    c->learning_rate = (gfloat) v;
  v = card_number (card, "lambda");
  if (v >= 0 && v <= 1)
    c->lambda = (gfloat) v;
  v = card_number (card, "stride");
  if (v >= 1 && v <= 4096)
    c->stride = (gint) v;
  v = card_number (card, "candidates");
  if (v >= 1 && v <= 65536)
    c->candidates = (gint) v;
  v = card_number (card, "patience");
  if (v >= 0 && v <= 100000)
    c->patience = (gint) v;
  v = card_number (card, "tolerance");
  if (v >= 0 && v <= 1)
    c->tolerance = (gfloat) v;
  v = card_number (card, "refine_above");
  if (v >= 0 && v <= 10)
    c->refine_above = (gfloat) v;
  s = card_string (card, "loss");
  if (s && g_str_equal (s, "l2"))
    c->loss = ANOGAN_LOSS_L2;
  s = card_string (card, "z_init");
  if (s && g_str_equal (s, "normal"))
    c->z_init = ANOGAN_Z_NORMAL;
  else if (s && g_str_equal (s, "uniform"))
    c->z_init = ANOGAN_Z_UNIFORM;
}

/* Whether @m can run @mode at all: the encoder modes need an encoder. */
static gboolean
model_can_run (const Model * m, AnoganMode mode)
{
  return mode == ANOGAN_MODE_OPTIMISE || m->has_encoder;
}

/* What mode=auto runs: the card's "recommended_mode" when the model is
 * calibrated for it, else the fastest mode it is calibrated for, encoder
 * before hybrid, else optimise.  The encoder comes first: it is the
 * fastest, and on both benchmarks of docs/results.md also the most
 * accurate (steps after E(x) let G(z) follow an anomaly too). */
static AnoganMode
model_auto_mode (const Model * m)
{
  static const AnoganMode preferred[] = {
    ANOGAN_MODE_ENCODER, ANOGAN_MODE_HYBRID,
  };
  const gchar *name = m->model->metadata ?
      card_string (m->model->metadata, "recommended_mode") : NULL;
  AnoganMode mode;

  if (name && anogan_mode_from_name (name, &mode) && model_can_run (m, mode)
      && m->calibration[mode].present)
    return mode;
  for (guint i = 0; i < G_N_ELEMENTS (preferred); i++)
    if (model_can_run (m, preferred[i]) &&
        m->calibration[preferred[i]].present)
      return preferred[i];
  return ANOGAN_MODE_OPTIMISE;
}

static void
model_read_calibration (Model * m)
{
  m->has_encoder = anogan_model_has_encoder (m->model);
  for (gint mode = 0; mode < N_MODES; mode++)
    calibration_read (&m->calibration[mode],
        m->model->metadata ? anogan_model_get_calibration (m->model,
            anogan_mode_name ((AnoganMode) mode)) : NULL);
  m->auto_mode = model_auto_mode (m);
}

/* Loads @path, or the embedded default model when @path is NULL or empty.
 * Errors are the model loader's, which name the file. */
static Model *
model_load (const gchar * path, GError ** error)
{
  AnoganModel *loaded;
  Model *m;

  if (path == NULL || *path == '\0') {
    g_autoptr (GBytes) bytes =
        g_resource_lookup_data (anogan_default_get_resource (),
        DEFAULT_MODEL_RESOURCE, G_RESOURCE_LOOKUP_FLAGS_NONE, error);

    if (bytes == NULL)
      return NULL;
    loaded = anogan_model_load_from_bytes (bytes, DEFAULT_MODEL_NAME, error);
  } else {
    loaded = anogan_model_load (path, error);
  }
  if (loaded == NULL)
    return NULL;

  if (loaded->input.dims[0] != 1 && loaded->input.dims[0] != 3) {
    g_set_error (error, ANOGAN_MODEL_ERROR, ANOGAN_MODEL_ERROR_METADATA,
        "%s: the model takes %d channels; anoganfilter reads 1 (grey) or 3 "
        "(RGB)", loaded->name, loaded->input.dims[0]);
    anogan_model_free (loaded);
    return NULL;
  }

  m = g_atomic_rc_box_new0 (Model);
  m->model = loaded;
  m->path = (path && *path) ? g_strdup (path) : NULL;
  m->name = m->path ? g_path_get_basename (m->path) :
      g_strdup (DEFAULT_MODEL_NAME);
  model_read_calibration (m);
  return m;
}

/* ---- settings ----------------------------------------------------------- */

static void
settings_init (Settings * s)
{
  memset (s, 0, sizeof *s);
  s->iterations = DEFAULT_ITERATIONS;
  s->learning_rate = DEFAULT_LEARNING_RATE;
  s->lambda = DEFAULT_LAMBDA;
  s->threshold = DEFAULT_THRESHOLD;
  s->tile_stride = DEFAULT_TILE_STRIDE;
  s->threads = DEFAULT_THREADS;
  s->overlay = DEFAULT_OVERLAY;
  s->overlay_alpha = DEFAULT_OVERLAY_ALPHA;
  s->warm_start = DEFAULT_WARM_START;
  s->interval = DEFAULT_INTERVAL;
  s->schedule = DEFAULT_SCHEDULE;
  s->post_messages = DEFAULT_POST_MESSAGES;
  s->seed = DEFAULT_SEED;
  s->mode = DEFAULT_MODE;
  s->patience = DEFAULT_PATIENCE;
  s->tolerance = DEFAULT_TOLERANCE;
  s->refine_above = DEFAULT_REFINE_ABOVE;
  s->skip_unchanged = DEFAULT_SKIP_UNCHANGED;
}

/* "x,y,width,height", non-negative integers, width and height at least
 * 1; spaces around the numbers are allowed. */
static gboolean
parse_roi (const gchar * text, GstVideoRectangle * roi)
{
  g_auto (GStrv) parts = g_strsplit (text, ",", -1);
  guint64 v[4];

  if (g_strv_length (parts) != 4)
    return FALSE;
  for (guint i = 0; i < 4; i++) {
    g_strstrip (parts[i]);
    if (!g_ascii_string_to_unsigned (parts[i], 10, i < 2 ? 0 : 1, G_MAXINT,
            &v[i], NULL))
      return FALSE;
  }
  roi->x = (gint) v[0];
  roi->y = (gint) v[1];
  roi->w = (gint) v[2];
  roi->h = (gint) v[3];
  return TRUE;
}

/* The threshold an analysis in @mode judges by: the property where set,
 * else the one calibrated for the mode (for the optimising search, the
 * model's own threshold first); NAN when there is none. */
static gdouble
threshold_for (const Settings * s, const Model * m, AnoganMode mode)
{
  if (s->threshold >= 0.0f)
    return s->threshold;
  if (mode == ANOGAN_MODE_OPTIMISE && !isnan (m->model->threshold))
    return m->model->threshold;
  return m->calibration[mode].threshold;
}

/* Patches per batch for @n_tiles tiles: at most @cap, and as many batches
 * as make whole rounds of the cores, so that none waits for the others'
 * last batch.  The batching does not depend on the threads property, so
 * that scores do not either. */
static gint
batch_for (gint cap, gint n_tiles)
{
  const gint cores = MAX ((gint) g_get_num_processors (), 1);
  const gint rounds = (n_tiles + cores * cap - 1) / (cores * cap);
  const gint batch = (n_tiles + cores * rounds - 1) / MAX (cores * rounds, 1);

  return CLAMP (batch, 1, cap);
}

/* The search options of one analysis of @n_tiles tiles in @mode: the
 * property where set, else the mode's calibration, else the fallbacks.
 * Options that cannot change the scores are left at their defaults (the
 * seed without random starts, early stopping without steps), so that
 * changing them does not rebuild the search. */
static void
search_options_for (AnoganSearchOptions * o, const Settings * s,
    const Model * m, AnoganMode mode, gint n_tiles)
{
  const Calibration *c = &m->calibration[mode];
  gint iterations;

  anogan_search_options_init (o);
  o->learning_rate = s->learning_rate > 0.0f ? s->learning_rate :
      c->learning_rate > 0.0f ? c->learning_rate : FALLBACK_LEARNING_RATE;
  o->lambda = s->lambda >= 0.0f ? s->lambda : c->lambda;
  o->loss = c->loss;
  o->z_init = c->z_init;
  o->candidates = c->candidates;
  o->threads = (gint) s->threads;
  iterations = s->iterations ? (gint) s->iterations :
      c->iterations > 0 ? c->iterations :
      mode == ANOGAN_MODE_OPTIMISE ? FALLBACK_ITERATIONS : -1;
  anogan_search_options_set_mode (o, mode, iterations);

  if (o->iterations > 0) {
    o->patience = s->patience >= 0 ? s->patience : MAX (c->patience, 0);
    if (o->patience > 0 && (s->tolerance >= 0.0f || c->tolerance >= 0.0f))
      o->tolerance = s->tolerance >= 0.0f ? s->tolerance : c->tolerance;
  }
  if (mode == ANOGAN_MODE_HYBRID && o->iterations > 0) {
    const gfloat fraction = s->refine_above >= 0.0f ? s->refine_above :
        c->refine_above;
    const gdouble threshold = threshold_for (s, m, mode);

    /* Without a threshold there is nothing to be a fraction of. */
    if (fraction >= 0.0f && isfinite (threshold))
      o->refine_above = (gfloat) (fraction * threshold);
  }
  if (o->z_init == ANOGAN_Z_NORMAL || o->z_init == ANOGAN_Z_UNIFORM ||
      o->candidates > 0)
    o->seed = s->seed;
  o->batch = batch_for (mode == ANOGAN_MODE_ENCODER ? ENCODER_BATCH :
      STEP_BATCH, n_tiles);
}

static gboolean
search_options_equal (const AnoganSearchOptions * a,
    const AnoganSearchOptions * b)
{
  return a->iterations == b->iterations &&
      a->learning_rate == b->learning_rate && a->lambda == b->lambda &&
      a->loss == b->loss && a->z_init == b->z_init && a->seed == b->seed &&
      a->candidates == b->candidates && a->patience == b->patience &&
      a->tolerance == b->tolerance && a->refine_above == b->refine_above &&
      a->threads == b->threads && a->batch == b->batch;
}

/* The mode an analysis runs in: the property's, or for auto the one the
 * card leads to.  A mode the model cannot run falls back to optimise,
 * and a mode without a threshold reports scores but flags nothing: each
 * is said once per model, as a warning message.  Streaming thread. */
static AnoganMode
resolve_mode (GstAnoganFilter * self, const Settings * s)
{
  Model *m = self->model;
  AnoganMode mode = s->mode == GST_ANOGAN_MODE_AUTO ? m->auto_mode :
      (AnoganMode) (s->mode - GST_ANOGAN_MODE_OPTIMISE);

  if (!model_can_run (m, mode)) {
    if (!m->warned_fallback)
      GST_ELEMENT_WARNING (self, LIBRARY, SETTINGS,
          ("Model %s has no encoder for mode %s; searching in mode "
              "optimise", m->name, anogan_mode_name (mode)), (NULL));
    m->warned_fallback = TRUE;
    mode = ANOGAN_MODE_OPTIMISE;
  }
  if (mode != ANOGAN_MODE_OPTIMISE && isnan (threshold_for (s, m, mode)) &&
      !(m->warned_threshold & (1u << mode))) {
    GST_ELEMENT_WARNING (self, LIBRARY, SETTINGS,
        ("Model %s has no threshold calibrated for mode %s; scores are "
            "reported but nothing is flagged until the threshold property "
            "is set", m->name, anogan_mode_name (mode)), (NULL));
    m->warned_threshold |= 1u << mode;
  }
  return mode;
}

/* ---- plans -------------------------------------------------------------- */

static void
plan_clear (gpointer data)
{
  Plan *p = data;

  g_clear_pointer (&p->model, model_unref);
  anogan_tiling_clear (&p->tiling);
  g_free (p->tile_x);
  g_free (p->tile_y);
}

DEFINE_BOX_REFS (Plan, plan);

/* The step between tiles: the property, else the stride the mode was
 * calibrated with, else the tile; never more than the tile, or pixels
 * between tiles would go unseen. */
static gint
plan_stride (const Settings * s, const Model * m, AnoganMode mode, gint tile)
{
  const gint calibrated = m->calibration[mode].stride;
  gint stride = s->tile_stride ? (gint) s->tile_stride :
      calibrated > 0 ? calibrated : tile;

  return MIN (stride, tile);
}

static gboolean
plan_is_current (const Plan * p, const Model * m, const GstVideoInfo * info,
    const Settings * s, AnoganMode mode)
{
  return p != NULL && p->model == m &&
      p->frame_width == GST_VIDEO_INFO_WIDTH (info) &&
      p->frame_height == GST_VIDEO_INFO_HEIGHT (info) &&
      p->stride_x == plan_stride (s, m, mode, p->tiling.tile_width) &&
      p->stride_y == plan_stride (s, m, mode, p->tiling.tile_height) &&
      p->has_roi == s->has_roi &&
      (!s->has_roi || (p->roi_setting.x == s->roi.x &&
              p->roi_setting.y == s->roi.y && p->roi_setting.w == s->roi.w &&
              p->roi_setting.h == s->roi.h));
}

static Plan *
plan_new (GstAnoganFilter * self, Model * m, const GstVideoInfo * info,
    const Settings * s, AnoganMode mode)
{
  const AnoganShape *in = &m->model->input;
  const gint tile_h = in->dims[1], tile_w = in->dims[2];
  const gint width = GST_VIDEO_INFO_WIDTH (info);
  const gint height = GST_VIDEO_INFO_HEIGHT (info);
  GstVideoRectangle roi = { 0, 0, width, height };
  g_autoptr (GError) error = NULL;
  Plan *p;

  if (s->has_roi) {
    gint64 x1 = MIN ((gint64) s->roi.x + s->roi.w, width);
    gint64 y1 = MIN ((gint64) s->roi.y + s->roi.h, height);

    if (s->roi.x < width && s->roi.y < height) {
      roi.x = s->roi.x;
      roi.y = s->roi.y;
      roi.w = (gint) (x1 - roi.x);
      roi.h = (gint) (y1 - roi.y);
    } else {
      GST_ELEMENT_WARNING (self, LIBRARY, SETTINGS,
          ("roi %d,%d,%d,%d lies outside the %dx%d frame; analysing the "
              "whole frame", s->roi.x, s->roi.y, s->roi.w, s->roi.h, width,
              height), (NULL));
    }
  }

  p = g_atomic_rc_box_new0 (Plan);
  p->model = model_ref (m);
  p->frame_width = width;
  p->frame_height = height;
  p->stride_x = plan_stride (s, m, mode, tile_w);
  p->stride_y = plan_stride (s, m, mode, tile_h);
  p->has_roi = s->has_roi;
  p->roi_setting = s->roi;
  p->roi = roi;
  p->padded = roi.w < tile_w || roi.h < tile_h;
  p->channels = in->dims[0];
  p->patch_floats = anogan_shape_numel (in);

  if (s->tile_stride > (guint) MIN (tile_w, tile_h))
    GST_ELEMENT_WARNING (self, LIBRARY, SETTINGS,
        ("tile-stride %u is larger than the model's %dx%d tiles; stepping "
            "by the tile so that every pixel is analysed", s->tile_stride,
            tile_w, tile_h), (NULL));

  /* Cannot fail: the area is at least a tile and the stride at most one. */
  if (!anogan_tiling_init (&p->tiling, MAX (roi.w, tile_w),
          MAX (roi.h, tile_h), tile_w, tile_h, p->stride_x, p->stride_y,
          &error)) {
    GST_ERROR_OBJECT (self, "tiling: %s", error->message);
    plan_unref (p);
    return NULL;
  }
  p->n_tiles = anogan_tiling_count (&p->tiling);
  p->tile_x = g_new (gint, p->tiling.columns);
  p->tile_y = g_new (gint, p->tiling.rows);
  for (gint c = 0; c < p->tiling.columns; c++)
    p->tile_x[c] = roi.x + p->tiling.xs[c];
  for (gint r = 0; r < p->tiling.rows; r++)
    p->tile_y[r] = roi.y + p->tiling.ys[r];

  GST_DEBUG_OBJECT (self, "plan: roi %d,%d %dx%d%s, %d x %d tiles of %dx%d",
      roi.x, roi.y, roi.w, roi.h, p->padded ? " (padded)" : "",
      p->tiling.columns, p->tiling.rows, tile_w, tile_h);
  return p;
}

/* ---- jobs and results --------------------------------------------------- */

static Job *
job_new (void)
{
  return g_new0 (Job, 1);
}

static void
job_free (Job * job)
{
  if (job == NULL)
    return;
  g_clear_pointer (&job->plan, plan_unref);
  g_free (job->patches);
  g_free (job);
}

/* Makes @job hold @plan's tiles; the buffer only grows. */
static void
job_prepare (Job * job, Plan * plan, const Settings * s)
{
  const gsize floats = (gsize) plan->n_tiles * plan->patch_floats;

  if (job->plan != plan) {
    g_clear_pointer (&job->plan, plan_unref);
    job->plan = plan_ref (plan);
  }
  if (job->capacity < floats) {
    g_free (job->patches);
    job->patches = g_new (gfloat, floats);
    job->capacity = floats;
  }
  job->settings = *s;
}

static void
result_clear (gpointer data)
{
  Result *r = data;

  g_clear_pointer (&r->structure, gst_structure_free);
  g_free (r->heat);
  g_free (r->boxes);
}

DEFINE_BOX_REFS (Result, result);

/* ---- the engine --------------------------------------------------------- */

static void
cached_search_clear (CachedSearch * c)
{
  g_clear_pointer (&c->search, anogan_search_free);
  g_clear_pointer (&c->model, model_unref);
}

/* The packed copies of the tiles analysed when some are reused: made the
 * first time only some are. */
static void
engine_free_packed (GstAnoganFilter * self)
{
  g_clear_pointer (&self->packed, g_free);
  g_clear_pointer (&self->packed_results, g_free);
  g_clear_pointer (&self->packed_maps, g_free);
}

static void
engine_clear (GstAnoganFilter * self)
{
  g_mutex_lock (&self->engine_lock);
  for (guint i = 0; i < N_SEARCHES; i++)
    cached_search_clear (&self->searches[i]);
  g_clear_pointer (&self->tiles_plan, plan_unref);
  g_clear_pointer (&self->results, g_free);
  g_clear_pointer (&self->maps, g_free);
  g_clear_pointer (&self->z, g_free);
  g_clear_pointer (&self->reference, g_free);
  g_clear_pointer (&self->todo, g_free);
  engine_free_packed (self);
  g_clear_pointer (&self->packed_z, g_free);
  g_clear_pointer (&self->z_next, g_free);
  g_clear_pointer (&self->scores, g_free);
  g_clear_pointer (&self->iterations, g_free);
  g_clear_pointer (&self->analysed, g_free);
  g_clear_pointer (&self->picture_map, g_free);
  self->engine_tiles = self->engine_patch = 0;
  self->z_floats = 0;
  self->picture_capacity = 0;
  g_mutex_unlock (&self->engine_lock);
}

/* Sizes the engine's buffers for @plan; they only grow, so that a plan
 * made once (in set_info) costs no allocation per frame.  Buffers that
 * grow lose the tiles' last analyses, which belong to another plan
 * anyway.  Called with engine_lock held. */
static void
engine_reserve_locked (GstAnoganFilter * self, const Plan * plan)
{
  const gsize tiles = plan->n_tiles, patch = plan->patch_floats;
  const gsize nz = plan->model->model->nz;
  const gsize picture = (gsize) plan->tiling.width * plan->tiling.height;

  if (self->engine_tiles < tiles || self->engine_patch < patch) {
    gsize floats;

    g_clear_pointer (&self->tiles_plan, plan_unref);
    self->engine_tiles = MAX (self->engine_tiles, tiles);
    self->engine_patch = MAX (self->engine_patch, patch);
    floats = self->engine_tiles * self->engine_patch;
    g_free (self->results);
    g_free (self->maps);
    g_free (self->reference);
    g_free (self->todo);
    g_free (self->scores);
    g_free (self->iterations);
    g_free (self->analysed);
    engine_free_packed (self);
    self->results = g_new0 (AnoganPatchResult, self->engine_tiles);
    self->maps = g_new (gfloat, floats);
    self->reference = g_new (gfloat, floats);
    self->todo = g_new (gint, self->engine_tiles);
    self->scores = g_new (gfloat, self->engine_tiles);
    self->iterations = g_new (gint, self->engine_tiles);
    self->analysed = g_new (gboolean, self->engine_tiles);
  }
  if (self->z_floats < tiles * nz) {
    g_clear_pointer (&self->tiles_plan, plan_unref);
    self->z_floats = tiles * nz;
    g_free (self->z);
    g_free (self->z_next);
    g_free (self->packed_z);
    self->z = g_new0 (gfloat, self->z_floats);
    self->z_next = g_new0 (gfloat, self->z_floats);
    self->packed_z = g_new0 (gfloat, self->z_floats);
  }
  if (self->picture_capacity < picture) {
    g_free (self->picture_map);
    self->picture_map = g_new (gfloat, picture);
    self->picture_capacity = picture;
  }
}

static void
engine_reserve (GstAnoganFilter * self, const Plan * plan)
{
  g_mutex_lock (&self->engine_lock);
  engine_reserve_locked (self, plan);
  g_mutex_unlock (&self->engine_lock);
}

/* The search for @m and @options: a kept one when one fits, else a new
 * one in place of an empty slot or of the least recently used.  Searches
 * for another model are of no more use and go at once.  Called with
 * engine_lock held. */
static AnoganSearch *
engine_search_locked (GstAnoganFilter * self, Model * m,
    const AnoganSearchOptions * options, GError ** error)
{
  CachedSearch *slot = NULL;

  for (guint i = 0; i < N_SEARCHES; i++) {
    CachedSearch *c = &self->searches[i];

    if (c->search && c->model != m)
      cached_search_clear (c);
    if (c->search && search_options_equal (&c->options, options)) {
      c->used = ++self->search_clock;
      return c->search;
    }
    if (slot == NULL || !c->search || (slot->search && c->used < slot->used))
      slot = c;
  }

  cached_search_clear (slot);
  slot->search = anogan_search_new (m->model, options, error);
  if (slot->search == NULL)
    return NULL;
  slot->model = model_ref (m);
  slot->options = *options;
  slot->used = ++self->search_clock;
  GST_DEBUG_OBJECT (self, "search: %d iterations, lr %g, lambda %g, "
      "patience %d, refine above %g, batch %d, %d threads",
      options->iterations, options->learning_rate, options->lambda,
      options->patience, options->refine_above, options->batch,
      options->threads);
  return slot->search;
}

/* Whether a tile's @n model inputs (8-bit levels scaled to [-1, 1]) are
 * within @levels levels, on average, of @reference. */
static gboolean
tile_unchanged (const gfloat * patch, const gfloat * reference, gsize n,
    gfloat levels)
{
  const gdouble bound = (gdouble) levels * (gdouble) n * (2.0 / 255.0);
  gdouble sum = 0.0;

  for (gsize i = 0; i < n; i++) {
    sum += fabsf (patch[i] - reference[i]);
    if (sum > bound)
      return FALSE;
  }
  return TRUE;
}

static gfloat
heat_of (gfloat residual)
{
  return CLAMP ((residual - HEAT_FLOOR) / HEAT_SPAN, 0.0f, 1.0f);
}

/* Turns what the search left in the engine into a result. */
static Result *
engine_make_result_locked (GstAnoganFilter * self, const Job * job,
    gint64 started)
{
  const Plan *plan = job->plan;
  const Settings *s = &job->settings;
  const gint n = plan->n_tiles;
  const gint tile_w = plan->tiling.tile_width;
  const gint tile_h = plan->tiling.tile_height;
  const GstVideoRectangle *roi = &plan->roi;
  const gdouble threshold = threshold_for (s, plan->model, job->mode);
  const gboolean have_threshold = !isnan (threshold);
  gfloat score = -INFINITY;
  GstAnoganResult r;
  Result *result;

  result = g_atomic_rc_box_new0 (Result);
  result->generation = job->generation;
  result->pts = job->pts;
  result->roi = *roi;

  /* A diverged tile (NaN) is no evidence of normality: it makes the
   * frame's score NaN, and counts as over any threshold. */
  result->boxes = g_new (GstVideoRectangle, n);
  for (gint i = 0; i < n; i++) {
    const gfloat v = self->results[i].score;
    const gint col = i % plan->tiling.columns, row = i / plan->tiling.columns;

    self->scores[i] = v;
    self->iterations[i] = self->analysed[i] ? self->results[i].iterations : 0;
    if (isnan (v) || isnan (score))
      score = NAN;
    else
      score = MAX (score, v);

    if (have_threshold && (isnan (v) || v >= threshold)) {
      /* The tile, cut to the roi: a padded tile reaches past it. */
      GstVideoRectangle *b = &result->boxes[result->n_boxes++];

      b->x = plan->tile_x[col];
      b->y = plan->tile_y[row];
      b->w = MIN (b->x + tile_w, roi->x + roi->w) - b->x;
      b->h = MIN (b->y + tile_h, roi->y + roi->h) - b->y;
    }
  }

  /* The heat of the roi's own pixels: the padding is left out. */
  anogan_accumulate_residual (&plan->tiling, plan->channels, self->maps,
      self->picture_map);
  result->heat = g_new (gfloat, (gsize) roi->w * roi->h);
  for (gint y = 0; y < roi->h; y++) {
    const gfloat *src = self->picture_map + (gsize) y * plan->tiling.width;
    gfloat *dst = result->heat + (gsize) y * roi->w;

    for (gint x = 0; x < roi->w; x++)
      dst[x] = heat_of (src[x]);
  }

  result->processing_time = job->read_time +
      (GstClockTime) (g_get_monotonic_time () - started) * GST_USECOND;

  r.score = score;
  r.anomalous = have_threshold && (isnan (score) || score >= threshold);
  r.threshold = have_threshold ? (gfloat) threshold : NAN;
  r.tile_width = tile_w;
  r.tile_height = tile_h;
  r.columns = plan->tiling.columns;
  r.rows = plan->tiling.rows;
  r.tile_x = plan->tile_x;
  r.tile_y = plan->tile_y;
  r.scores = self->scores;
  r.iterations = self->iterations;
  r.analysed = self->analysed;
  r.model = plan->model->name;
  r.mode = anogan_mode_name (job->mode);
  r.processing_time = result->processing_time;
  r.analysed_pts = job->pts;
  result->structure = gst_anogan_result_to_structure (&r);
  return result;
}

/* Searches the tiles of @job that need it: the one analysis, whichever
 * thread runs it. */
static Result *
analyse (GstAnoganFilter * self, Job * job, GError ** error)
{
  Plan *plan = job->plan;
  const Settings *s = &job->settings;
  const gint n_tiles = plan->n_tiles;
  const gsize patch = plan->patch_floats;
  const gsize nz = plan->model->model->nz;
  const gint64 started = g_get_monotonic_time ();
  AnoganSearchOptions options;
  AnoganSearchOutputs out = { 0 };
  AnoganSearch *search;
  const gfloat *z_start = NULL;
  gboolean warm, reuse;
  Result *result = NULL;
  gint n = 0;

  search_options_for (&options, s, plan->model, job->mode, n_tiles);
  /* The encoder mode's z is E(x): a start from the last z* with no step
   * after it would only score the old z again. */
  warm = s->warm_start && job->mode != ANOGAN_MODE_ENCODER;

  g_mutex_lock (&self->engine_lock);
  search = engine_search_locked (self, plan->model, &options, error);
  if (search == NULL)
    goto done;
  engine_reserve_locked (self, plan);

  /* A tile whose pixels stay within skip-unchanged of those of its last
   * analysis keeps that analysis, as long as it is the same search of the
   * same stream: anything else would give another result. */
  reuse = s->skip_unchanged >= 0.0f && self->tiles_plan == plan &&
      self->tiles_epoch == job->epoch && self->tiles_mode == job->mode &&
      self->tiles_warm == warm &&
      search_options_equal (&self->tiles_options, &options);
  for (gint i = 0; i < n_tiles; i++) {
    self->analysed[i] = !reuse || !tile_unchanged (job->patches + i * patch,
        self->reference + i * patch, patch, s->skip_unchanged);
    if (self->analysed[i])
      self->todo[n++] = i;
  }

  /* Warm start: each tile from where its search ended last time, which
   * only makes sense for the same tiles.  The start wins over the
   * encoder's in hybrid mode. */
  if (warm && self->tiles_plan == plan)
    z_start = self->z;

  if (n == n_tiles) {
    /* Every tile: the search reads the job and writes the tiles' slots. */
    out.results = self->results;
    out.residual_map = self->maps;
    out.z = self->z_next;
    if (!anogan_search_run (search, n, job->patches, z_start, &out, error))
      goto failed;
    memcpy (self->reference, job->patches, n * patch * sizeof (gfloat));
    {
      gfloat *t = self->z;

      self->z = self->z_next;
      self->z_next = t;
    }
  } else if (n > 0) {
    /* Some: packed together for the search, and back into their slots. */
    if (self->packed == NULL) {
      self->packed = g_new (gfloat, self->engine_tiles * self->engine_patch);
      self->packed_maps = g_new (gfloat,
          self->engine_tiles * self->engine_patch);
      self->packed_results = g_new0 (AnoganPatchResult, self->engine_tiles);
    }
    for (gint k = 0; k < n; k++) {
      const gint i = self->todo[k];

      memcpy (self->packed + k * patch, job->patches + i * patch,
          patch * sizeof (gfloat));
      if (z_start)
        memcpy (self->packed_z + k * nz, z_start + i * nz,
            nz * sizeof (gfloat));
    }
    out.results = self->packed_results;
    out.residual_map = self->packed_maps;
    out.z = self->z_next;
    if (!anogan_search_run (search, n, self->packed,
            z_start ? self->packed_z : NULL, &out, error))
      goto failed;
    for (gint k = 0; k < n; k++) {
      const gint i = self->todo[k];

      self->results[i] = self->packed_results[k];
      memcpy (self->maps + i * patch, self->packed_maps + k * patch,
          patch * sizeof (gfloat));
      memcpy (self->reference + i * patch, self->packed + k * patch,
          patch * sizeof (gfloat));
      memcpy (self->z + i * nz, self->z_next + k * nz, nz * sizeof (gfloat));
    }
  }

  if (self->tiles_plan != plan) {
    g_clear_pointer (&self->tiles_plan, plan_unref);
    self->tiles_plan = plan_ref (plan);
  }
  self->tiles_mode = job->mode;
  self->tiles_options = options;
  self->tiles_warm = warm;
  self->tiles_epoch = job->epoch;

  result = engine_make_result_locked (self, job, started);
  goto done;

failed:
  /* The search may have written some tiles' slots: none is to be
   * trusted. */
  g_clear_pointer (&self->tiles_plan, plan_unref);
done:
  g_mutex_unlock (&self->engine_lock);
  return result;
}

/* Posts @result as an element message, with the analysed frame's times
 * computed as level computes them. */
static void
post_result (GstAnoganFilter * self, const Result * result, const Job * job)
{
  GstMessage *message = gst_anogan_message_new (GST_OBJECT (self),
      result->structure, job->pts, job->stream_time, job->running_time,
      job->duration);

  if (message)
    gst_element_post_message (GST_ELEMENT (self), message);
}

/* ---- the worker (latest-frame) ----------------------------------------- */

/* Gives @job back for the next frame; called with lock held. */
static void
job_recycle_locked (GstAnoganFilter * self, Job * job)
{
  if (self->spare == NULL)
    self->spare = job;
  else
    job_free (job);
}

static gpointer
worker_main (gpointer data)
{
  GstAnoganFilter *self = data;

  g_mutex_lock (&self->lock);
  for (;;) {
    g_autoptr (GError) error = NULL;
    Result *result;
    Job *job;

    while (self->pending == NULL && !self->stopping)
      g_cond_wait (&self->cond, &self->lock);
    if (self->stopping)
      break;
    job = self->pending;
    self->pending = NULL;
    self->busy = TRUE;
    g_mutex_unlock (&self->lock);

    result = analyse (self, job, &error);

    /* Published before the message is posted: whoever sees the message
     * finds the result on the next frame.  The result of a frame a flush
     * came after describes a picture the stream has left: neither shown
     * nor posted. */
    g_mutex_lock (&self->lock);
    if (result && job->flushes != self->flushes) {
      GST_DEBUG_OBJECT (self, "dropping the result of %" GST_TIME_FORMAT
          ", a frame from before a flush", GST_TIME_ARGS (job->pts));
      g_clear_pointer (&result, result_unref);
    } else if (result) {
      g_clear_pointer (&self->latest, result_unref);
      self->latest = result_ref (result);
    } else {
      self->worker_failed = TRUE;
    }
    g_mutex_unlock (&self->lock);

    if (error)
      GST_ELEMENT_ERROR (self, LIBRARY, FAILED,
          ("The analysis failed: %s", error->message), (NULL));
    else if (result && job->settings.post_messages)
      post_result (self, result, job);
    g_clear_pointer (&result, result_unref);

    g_mutex_lock (&self->lock);
    self->busy = FALSE;
    job_recycle_locked (self, job);
    g_cond_broadcast (&self->cond);
  }
  g_mutex_unlock (&self->lock);
  return NULL;
}

static void
worker_stop (GstAnoganFilter * self)
{
  GThread *worker;

  g_mutex_lock (&self->lock);
  self->stopping = TRUE;
  g_cond_broadcast (&self->cond);
  worker = self->worker;
  self->worker = NULL;
  g_mutex_unlock (&self->lock);

  if (worker)
    g_thread_join (worker);

  g_mutex_lock (&self->lock);
  self->stopping = FALSE;
  self->busy = FALSE;
  self->worker_failed = FALSE;
  g_clear_pointer (&self->pending, job_free);
  g_clear_pointer (&self->spare, job_free);
  g_clear_pointer (&self->latest, result_unref);
  g_mutex_unlock (&self->lock);
}

/* Waits until the worker has analysed what it was given, so that the last
 * frames' results are posted before EOS travels on. */
static void
worker_drain (GstAnoganFilter * self)
{
  g_mutex_lock (&self->lock);
  while (self->worker && !self->stopping && (self->busy || self->pending))
    g_cond_wait (&self->cond, &self->lock);
  g_mutex_unlock (&self->lock);
}

/* ---- reading frames ----------------------------------------------------- */

static void
reader_clear (GstAnoganFilter * self)
{
  g_clear_pointer (&self->convert, gst_video_converter_free);
  gst_clear_buffer (&self->convert_buffer);
  g_clear_pointer (&self->pad, g_free);
}

/* The converter for YUV frames (only the roi is converted) and the
 * padding buffer, planned with the plan rather than per frame. */
static gboolean
reader_setup (GstAnoganFilter * self, const GstVideoInfo * in,
    const Plan * plan)
{
  gint components = GST_VIDEO_INFO_IS_GRAY (in) ? 1 : 3;

  reader_clear (self);

  if (GST_VIDEO_INFO_IS_YUV (in)) {
    /* RGB even for a grey model: GStreamer's YUV to GRAY8 copies Y as it
     * is, 16-235 on most video, while the model was trained on full-range
     * pictures; RGB has the range (and matrix) converted properly, and
     * the patch reader then takes its luma, as the tools do. */
    GstVideoFormat format = GST_VIDEO_FORMAT_RGB;
    GstStructure *config = gst_structure_new ("GstVideoConverter",
        GST_VIDEO_CONVERTER_OPT_SRC_X, G_TYPE_INT, plan->roi.x,
        GST_VIDEO_CONVERTER_OPT_SRC_Y, G_TYPE_INT, plan->roi.y,
        GST_VIDEO_CONVERTER_OPT_SRC_WIDTH, G_TYPE_INT, plan->roi.w,
        GST_VIDEO_CONVERTER_OPT_SRC_HEIGHT, G_TYPE_INT, plan->roi.h,
        /* the same pixels for the same frame, whatever came before */
        GST_VIDEO_CONVERTER_OPT_DITHER_METHOD, GST_TYPE_VIDEO_DITHER_METHOD,
        GST_VIDEO_DITHER_NONE, NULL);

    /* The converter insists on the same rate, aspect and interlacing. */
    gst_video_info_set_interlaced_format (&self->convert_info, format,
        GST_VIDEO_INFO_INTERLACE_MODE (in), plan->roi.w, plan->roi.h);
    GST_VIDEO_INFO_FPS_N (&self->convert_info) = GST_VIDEO_INFO_FPS_N (in);
    GST_VIDEO_INFO_FPS_D (&self->convert_info) = GST_VIDEO_INFO_FPS_D (in);
    GST_VIDEO_INFO_PAR_N (&self->convert_info) = GST_VIDEO_INFO_PAR_N (in);
    GST_VIDEO_INFO_PAR_D (&self->convert_info) = GST_VIDEO_INFO_PAR_D (in);
    self->convert = gst_video_converter_new ((GstVideoInfo *) in,
        &self->convert_info, config);
    if (self->convert == NULL)
      return FALSE;
    self->convert_buffer = gst_buffer_new_allocate (NULL,
        GST_VIDEO_INFO_SIZE (&self->convert_info), NULL);
    components = 3;
  }
  if (plan->padded)
    self->pad = g_malloc ((gsize) plan->tiling.width * plan->tiling.height *
        components);
  return TRUE;
}

static void
layout_of_frame (const GstVideoFrame * frame, AnoganPixelLayout * layout)
{
  layout->components = GST_VIDEO_INFO_IS_GRAY (&frame->info) ? 1 : 3;
  for (gint c = 0; c < 3; c++)
    layout->offsets[c] = GST_VIDEO_FRAME_COMP_POFFSET (frame,
        MIN (c, layout->components - 1));
  layout->pixel_stride = GST_VIDEO_FRAME_COMP_PSTRIDE (frame, 0);
  layout->row_stride = GST_VIDEO_FRAME_PLANE_STRIDE (frame, 0);
}

/* Copies a @width × @height area into @dst, @dst_width × @dst_height
 * packed samples, repeating the last column and row into the rest. */
static void
pad_area (const guint8 * src, const AnoganPixelLayout * layout, gint width,
    gint height, guint8 * dst, gint dst_width, gint dst_height)
{
  const gint n = layout->components;

  for (gint y = 0; y < dst_height; y++) {
    const guint8 *row = src + (gsize) MIN (y, height - 1) * layout->row_stride;

    for (gint x = 0; x < dst_width; x++) {
      const guint8 *p = row + (gsize) MIN (x, width - 1) * layout->pixel_stride;

      for (gint c = 0; c < n; c++)
        *dst++ = p[layout->offsets[c]];
    }
  }
}

/* Reads the tiles of @frame's roi into @out, as the tools read pictures.
 * Returns the time it took, in nanoseconds. */
static GstClockTime
read_tiles (GstAnoganFilter * self, GstVideoFrame * frame, const Plan * plan,
    gfloat * out)
{
  const gint64 started = g_get_monotonic_time ();
  GstVideoFrame converted;
  gboolean mapped = FALSE;
  AnoganPixelLayout layout;
  const guint8 *pixels;

  if (self->convert) {
    if (!gst_video_frame_map (&converted, &self->convert_info,
            self->convert_buffer, GST_MAP_READWRITE)) {
      GST_ERROR_OBJECT (self, "cannot map the conversion buffer");
      memset (out, 0, (gsize) plan->n_tiles * plan->patch_floats *
          sizeof (gfloat));
      return 0;
    }
    mapped = TRUE;
    gst_video_converter_frame (self->convert, frame, &converted);
    layout_of_frame (&converted, &layout);
    pixels = GST_VIDEO_FRAME_PLANE_DATA (&converted, 0);
  } else {
    layout_of_frame (frame, &layout);
    pixels = (const guint8 *) GST_VIDEO_FRAME_PLANE_DATA (frame, 0) +
        (gsize) plan->roi.y * layout.row_stride +
        (gsize) plan->roi.x * layout.pixel_stride;
  }

  if (plan->padded) {
    pad_area (pixels, &layout, plan->roi.w, plan->roi.h, self->pad,
        plan->tiling.width, plan->tiling.height);
    pixels = self->pad;
    layout.pixel_stride = layout.components;
    layout.row_stride = plan->tiling.width * layout.components;
    for (gint c = 0; c < 3; c++)
      layout.offsets[c] = MIN (c, layout.components - 1);
  }

  anogan_extract_patches (pixels, &layout, &plan->tiling, plan->channels,
      out);
  if (mapped)
    gst_video_frame_unmap (&converted);
  return (GstClockTime) (g_get_monotonic_time () - started) * GST_USECOND;
}

/* Fills @job from @frame, with the times level gives its messages. */
static void
job_fill (GstAnoganFilter * self, Job * job, GstVideoFrame * frame,
    const Settings * s, AnoganMode mode)
{
  GstBaseTransform *trans = GST_BASE_TRANSFORM (self);
  GstBuffer *buffer = frame->buffer;

  job_prepare (job, self->plan, s);
  job->mode = mode;
  job->epoch = self->epoch;
  job->generation = self->generation;
  g_mutex_lock (&self->lock);
  job->flushes = self->flushes;
  g_mutex_unlock (&self->lock);
  job->pts = GST_BUFFER_PTS (buffer);
  job->duration = GST_BUFFER_DURATION (buffer);
  job->running_time = gst_segment_to_running_time (&trans->segment,
      GST_FORMAT_TIME, job->pts);
  job->stream_time = gst_segment_to_stream_time (&trans->segment,
      GST_FORMAT_TIME, job->pts);
  job->read_time = read_tiles (self, frame, self->plan, job->patches);
}

/* ---- streaming ---------------------------------------------------------- */

static void
show_result (GstAnoganFilter * self, Result * result)
{
  if (self->shown == result)
    return;
  g_clear_pointer (&self->shown, result_unref);
  g_clear_pointer (&self->composition, gst_video_overlay_composition_unref);
  self->composition_ready = FALSE;
  self->shown = result ? result_ref (result) : NULL;
}

/* The drawing of the shown result for frames of @width × @height, made
 * once per result, mode and opacity; NULL when there is nothing to draw.
 * The same composition goes on every frame that carries the result, so a
 * sink that draws overlays uploads it once. */
static GstVideoOverlayComposition *
overlay_composition (GstAnoganFilter * self, const Settings * s, gint width,
    gint height)
{
  const Result *r = self->shown;

  if (s->overlay == GST_ANOGAN_OVERLAY_NONE || r == NULL)
    return NULL;

  if (!self->composition_ready || self->composition_mode != s->overlay ||
      self->composition_alpha != s->overlay_alpha) {
    GstAnoganOverlayParams params = {
      .mode = s->overlay,
      .alpha = s->overlay_alpha,
      .heat = r->heat,
      .heat_width = r->roi.w,
      .heat_height = r->roi.h,
      .heat_rect = r->roi,
      .boxes = r->boxes,
      .n_boxes = r->n_boxes,
    };

    g_clear_pointer (&self->composition, gst_video_overlay_composition_unref);
    self->composition = gst_anogan_overlay_render (&params, width, height);
    self->composition_ready = TRUE;
    self->composition_mode = s->overlay;
    self->composition_alpha = s->overlay_alpha;
  }
  return self->composition;
}

static void
draw_overlay (GstAnoganFilter * self, GstVideoFrame * frame,
    const Settings * s)
{
  GstVideoOverlayComposition *comp = overlay_composition (self, s,
      GST_VIDEO_FRAME_WIDTH (frame), GST_VIDEO_FRAME_HEIGHT (frame));

  if (comp && !gst_anogan_overlay_blend (comp, frame))
    GST_WARNING_OBJECT (self, "could not draw over a %s frame",
        gst_video_format_to_string (GST_VIDEO_FRAME_FORMAT (frame)));
}

/* Puts @comp on @buffer as its GstVideoOverlayCompositionMeta.  A buffer
 * that comes with one (upstream attaches its own overlays) keeps a single
 * meta, as sinks draw the first they find: upstream's rectangles, then
 * ours on top, as they would stack had both been blended. */
static void
attach_overlay (GstBuffer * buffer, GstVideoOverlayComposition * comp)
{
  GstVideoOverlayCompositionMeta *meta =
      gst_buffer_get_video_overlay_composition_meta (buffer);
  GstVideoOverlayComposition *merged;
  guint n;

  if (meta == NULL) {
    gst_buffer_add_video_overlay_composition_meta (buffer, comp);
    return;
  }
  merged = gst_video_overlay_composition_new (NULL);
  n = gst_video_overlay_composition_n_rectangles (meta->overlay);
  for (guint i = 0; i < n; i++)
    gst_video_overlay_composition_add_rectangle (merged,
        gst_video_overlay_composition_get_rectangle (meta->overlay, i));
  n = gst_video_overlay_composition_n_rectangles (comp);
  for (guint i = 0; i < n; i++)
    gst_video_overlay_composition_add_rectangle (merged,
        gst_video_overlay_composition_get_rectangle (comp, i));
  gst_buffer_remove_meta (buffer, (GstMeta *) meta);
  gst_buffer_add_video_overlay_composition_meta (buffer, merged);
  gst_video_overlay_composition_unref (merged);
}

static gboolean
caps_have_overlay_feature (GstCaps * caps)
{
  GstCapsFeatures *f;

  if (caps == NULL || gst_caps_is_empty (caps))
    return FALSE;
  f = gst_caps_get_features (caps, 0);
  return f && !gst_caps_features_is_any (f) &&
      gst_caps_features_contains (f,
      GST_CAPS_FEATURE_META_GST_VIDEO_OVERLAY_COMPOSITION);
}

/* Whether downstream, asked how to allocate frames of @caps (set on the
 * src pad already: elements on the way only answer for their caps),
 * lists the GstVideoOverlayCompositionMeta, as sinks that draw overlays
 * do. */
static gboolean
downstream_draws_overlays (GstAnoganFilter * self, GstCaps * caps)
{
  GstQuery *query = gst_query_new_allocation (caps, FALSE);
  gboolean listed;

  if (!gst_pad_peer_query (GST_BASE_TRANSFORM_SRC_PAD (self), query))
    GST_DEBUG_OBJECT (self, "downstream did not answer the ALLOCATION query");
  listed = gst_query_find_allocation_meta (query,
      GST_VIDEO_OVERLAY_COMPOSITION_META_API_TYPE, NULL);
  gst_query_unref (query);
  return listed;
}

/* Whether the overlay leaves as a GstVideoOverlayCompositionMeta rather
 * than in the pixels, by the rule of GStreamer's own overlay elements
 * (textoverlay, overlaycomposition):
 *  - never unless the src caps carry "meta:GstVideoOverlayComposition":
 *    only then has every element down to the one that draws agreed to
 *    carry the meta; with plain caps a converter or an encoder in
 *    between would drop or ignore it, and the marks would be lost
 *    without a word;
 *  - then, when upstream's caps carry it too (upstream attaches overlays
 *    of its own, which ours join), or when downstream lists the meta in
 *    its answer to an ALLOCATION query: an element that takes any caps
 *    (fakesink, appsink) accepts the feature but draws nothing.
 * The query needs the src caps set downstream, which happens after
 * set_info(): this runs at the first frame after new caps. */
static gboolean
decide_overlay_as_meta (GstAnoganFilter * self)
{
  GstBaseTransform *trans = GST_BASE_TRANSFORM (self);
  g_autoptr (GstCaps) incaps = gst_pad_get_current_caps (trans->sinkpad);
  g_autoptr (GstCaps) outcaps = gst_pad_get_current_caps (trans->srcpad);

  if (!caps_have_overlay_feature (outcaps))
    return FALSE;
  return caps_have_overlay_feature (incaps) ||
      downstream_draws_overlays (self, outcaps);
}

/* After new caps from upstream, GstBaseTransform has taken the caps with
 * the feature if downstream accepts them (transform_caps() offers them
 * first).  When upstream's do not carry it and downstream does not draw
 * the meta (fakesink, appsink, filesink take any caps), the element falls
 * back to the plain caps if downstream takes them, as textoverlay does:
 * such a sink then sees the caps it would without the feature, and the
 * marks in the pixels.  The plain caps go out before the next frame, and
 * hold until upstream sends caps again. */
static void
settle_overlay_caps (GstAnoganFilter * self, GstCaps * incaps)
{
  GstBaseTransform *trans = GST_BASE_TRANSFORM (self);
  g_autoptr (GstCaps) outcaps = gst_pad_get_current_caps (trans->srcpad);
  g_autoptr (GstCaps) plain = NULL;
  GstCapsFeatures *f;

  if (!caps_have_overlay_feature (outcaps) ||
      caps_have_overlay_feature (incaps) ||
      downstream_draws_overlays (self, outcaps))
    return;

  plain = gst_caps_copy (outcaps);
  f = gst_caps_get_features (plain, 0);
  gst_caps_features_remove (f,
      GST_CAPS_FEATURE_META_GST_VIDEO_OVERLAY_COMPOSITION);
  if (!gst_pad_peer_query_accept_caps (trans->srcpad, plain)) {
    GST_DEBUG_OBJECT (self, "downstream takes only caps with the overlay "
        "feature but does not say it draws the meta: blending under them");
    return;
  }
  GST_DEBUG_OBJECT (self, "downstream does not draw overlays: plain caps");
  GST_OBJECT_LOCK (self);
  self->overlay_plain_only = TRUE;
  GST_OBJECT_UNLOCK (self);
  gst_base_transform_reconfigure_src (trans);
}

/* Makes @m the model in use (taking the reference), and tells the mode
 * property what it can run. */
static void
use_model (GstAnoganFilter * self, Model * m)
{
  g_clear_pointer (&self->model, model_unref);
  self->model = m;
  GST_OBJECT_LOCK (self);
  g_clear_pointer (&self->in_use, model_unref);
  self->in_use = m ? model_ref (m) : NULL;
  self->model_known = m != NULL;
  self->model_has_encoder = m != NULL && m->has_encoder;
  GST_OBJECT_UNLOCK (self);
}

/* A model set while running is loaded on a thread of its own, so that
 * frames go on being analysed with the old one meanwhile; the streaming
 * thread takes the new one between two frames.  Only the newest request
 * counts: an older load that ends later is dropped.  One that fails warns
 * at once, from the loading thread, rather than with the next frame,
 * which a paused pipeline may not send for a while. */
typedef struct
{
  GstAnoganFilter *self;
  gchar *path;
  guint request;
} ModelRequest;

static void
incoming_clear (GstAnoganFilter * self)
{
  g_clear_pointer (&self->incoming, model_unref);
}

/* Object lock held.  The model property reads the model in use again;
 * returns its name for the warning. */
static gchar *
refuse_request (GstAnoganFilter * self)
{
  incoming_clear (self);
  g_free (self->model_path);
  self->model_path = self->in_use ? g_strdup (self->in_use->path) : NULL;
  return g_strdup (self->in_use ? self->in_use->name : "none");
}

static gpointer
load_in_background (gpointer data)
{
  ModelRequest *r = data;
  GstAnoganFilter *self = r->self;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *kept = NULL;
  Model *m = model_load (r->path, &error);

  GST_OBJECT_LOCK (self);
  if (self->running && r->request == self->model_request) {
    if (m == NULL) {
      kept = refuse_request (self);
    } else {
      incoming_clear (self);
      self->incoming = g_steal_pointer (&m);
    }
  }
  GST_OBJECT_UNLOCK (self);
  if (kept)
    GST_ELEMENT_WARNING (self, RESOURCE, OPEN_READ,
        ("%s; keeping the model in use (%s)", error->message, kept), (NULL));
  g_clear_pointer (&m, model_unref);
  g_free (r->path);
  gst_object_unref (self);
  g_free (r);
  return NULL;
}

/* Object lock held. */
static void
request_model (GstAnoganFilter * self)
{
  ModelRequest *r = g_new0 (ModelRequest, 1);

  r->self = gst_object_ref (self);
  r->path = g_strdup (self->model_path);
  r->request = ++self->model_request;
  g_thread_unref (g_thread_new ("anogan-model", load_in_background, r));
}

/* Between two frames: takes a model loaded in the background. */
static void
take_incoming_model (GstAnoganFilter * self)
{
  Model *m;

  GST_OBJECT_LOCK (self);
  m = g_steal_pointer (&self->incoming);
  GST_OBJECT_UNLOCK (self);

  if (m) {
    GST_INFO_OBJECT (self, "now using model %s", m->name);
    use_model (self, m);
  }
}

/* Plans the tiling and the reading of frames of @info.  In set_info the
 * element's in_info is still the old one, so the info is passed. */
static gboolean
replan (GstAnoganFilter * self, const GstVideoInfo * info, const Settings * s,
    AnoganMode mode)
{
  gboolean latest;
  Plan *plan;

  plan = plan_new (self, self->model, info, s, mode);
  if (plan == NULL)
    return FALSE;
  g_clear_pointer (&self->plan, plan_unref);
  self->plan = plan;
  if (!reader_setup (self, info, plan)) {
    GST_ELEMENT_ERROR (self, CORE, NEGOTIATION, (NULL),
        ("cannot convert %s frames for the model",
            gst_video_format_to_string (GST_VIDEO_INFO_FORMAT (info))));
    return FALSE;
  }
  if (self->inline_job)
    job_prepare (self->inline_job, plan, s);

  GST_OBJECT_LOCK (self);
  latest = self->latest_mode;
  GST_OBJECT_UNLOCK (self);
  /* The worker grows the engine itself; reserving here would wait for its
   * analysis to end. */
  if (!latest)
    engine_reserve (self, plan);
  return TRUE;
}

static void
settings_snapshot (GstAnoganFilter * self, Settings * s)
{
  take_incoming_model (self);
  GST_OBJECT_LOCK (self);
  *s = self->settings;
  GST_OBJECT_UNLOCK (self);
}

/* Whether the pipeline upstream is live, by a LATENCY query. */
static gboolean
upstream_is_live (GstAnoganFilter * self)
{
  GstQuery *query = gst_query_new_latency ();
  gboolean live = FALSE;

  if (gst_pad_peer_query (GST_BASE_TRANSFORM_SINK_PAD (self), query))
    gst_query_parse_latency (query, &live, NULL, NULL);
  gst_query_unref (query);
  return live;
}

static gboolean
decide_schedule (GstAnoganFilter * self, const Settings * s)
{
  gboolean latest;

  if (s->schedule == GST_ANOGAN_SCHEDULE_AUTO)
    latest = upstream_is_live (self);
  else
    latest = s->schedule == GST_ANOGAN_SCHEDULE_LATEST_FRAME;
  GST_INFO_OBJECT (self, "analysing %s", latest ?
      "the latest frame on a thread of the element" : "every frame in turn");

  GST_OBJECT_LOCK (self);
  self->latest_mode = latest;
  GST_OBJECT_UNLOCK (self);
  self->schedule_decided = TRUE;

  if (latest) {
    g_autoptr (GError) error = NULL;

    g_mutex_lock (&self->lock);
    self->worker = g_thread_try_new ("anoganfilter", worker_main, self,
        &error);
    g_mutex_unlock (&self->lock);
    if (self->worker == NULL) {
      GST_ELEMENT_ERROR (self, RESOURCE, FAILED,
          ("Cannot start the analysis thread: %s", error->message), (NULL));
      return FALSE;
    }
  } else if (self->inline_job == NULL) {
    self->inline_job = job_new ();
  }
  return TRUE;
}

/* every-frame: analyses the frame before it goes on. */
static GstFlowReturn
analyse_inline (GstAnoganFilter * self, GstVideoFrame * frame,
    const Settings * s, AnoganMode mode)
{
  g_autoptr (GError) error = NULL;
  Job *job = self->inline_job;
  Result *result;
  GstClockTime latency;
  gboolean grew;

  job_fill (self, job, frame, s, mode);
  result = analyse (self, job, &error);
  if (result == NULL) {
    GST_ELEMENT_ERROR (self, LIBRARY, FAILED,
        ("The analysis failed: %s", error->message), (NULL));
    return GST_FLOW_ERROR;
  }
  show_result (self, result);
  if (s->post_messages)
    post_result (self, result, job);

  /* The analysis delays the frame: a pipeline with a live source must
   * know, so the latency it reports follows the slowest analysis seen. */
  GST_OBJECT_LOCK (self);
  latency = self->latency;
  grew = result->processing_time > latency + latency / LATENCY_GROWTH;
  if (grew)
    self->latency = result->processing_time;
  GST_OBJECT_UNLOCK (self);
  if (grew)
    gst_element_post_message (GST_ELEMENT (self),
        gst_message_new_latency (GST_OBJECT (self)));

  result_unref (result);
  return GST_FLOW_OK;
}

/* latest-frame: hands the frame's tiles to the worker and returns. */
static GstFlowReturn
submit (GstAnoganFilter * self, GstVideoFrame * frame, const Settings * s,
    AnoganMode mode)
{
  Job *job;

  /* A spare job, or the pending one the worker has not started: the newer
   * frame replaces it.  Two jobs at most ever exist, as the worker holds
   * at most one. */
  g_mutex_lock (&self->lock);
  job = self->spare ? self->spare : self->pending;
  if (job == self->spare)
    self->spare = NULL;
  else
    self->pending = NULL;
  g_mutex_unlock (&self->lock);

  if (job == NULL)
    job = job_new ();
  job_fill (self, job, frame, s, mode);

  g_mutex_lock (&self->lock);
  if (self->pending)
    job_recycle_locked (self, self->pending);
  self->pending = job;
  g_cond_signal (&self->cond);
  g_mutex_unlock (&self->lock);
  return GST_FLOW_OK;
}

/* Analyses @frame or hands it to the worker, as the schedule says, and
 * draws the result it is to carry into it unless the drawing travels as
 * a meta. */
static GstFlowReturn
process_frame (GstAnoganFilter * self, GstVideoFrame * frame,
    const Settings * s)
{
  GstVideoFilter *filter = GST_VIDEO_FILTER (self);
  GstFlowReturn ret = GST_FLOW_OK;
  gboolean analyse_this;
  gboolean latest;
  AnoganMode mode;

  if (!self->schedule_decided && !decide_schedule (self, s))
    return GST_FLOW_ERROR;
  mode = resolve_mode (self, s);
  if (!plan_is_current (self->plan, self->model, &filter->in_info, s, mode)
      && !replan (self, &filter->in_info, s, mode))
    return GST_FLOW_ERROR;

  GST_OBJECT_LOCK (self);
  latest = self->latest_mode;
  GST_OBJECT_UNLOCK (self);

  analyse_this = self->frame_count % MAX (s->interval, 1) == 0;
  self->frame_count++;

  if (latest) {
    Result *finished = NULL;
    gboolean failed;

    if (analyse_this)
      ret = submit (self, frame, s, mode);
    g_mutex_lock (&self->lock);
    failed = self->worker_failed;
    if (self->latest)
      finished = result_ref (self->latest);
    g_mutex_unlock (&self->lock);
    if (failed)
      return GST_FLOW_ERROR;
    if (finished) {
      show_result (self, finished);
      result_unref (finished);
    }
  } else if (analyse_this) {
    ret = analyse_inline (self, frame, s, mode);
  }

  /* A result of frames of another size does not fit this one. */
  self->attach = self->shown && self->shown->generation == self->generation ?
      self->shown : NULL;
  if (ret == GST_FLOW_OK && self->attach && !self->overlay_as_meta)
    draw_overlay (self, frame, s);
  return ret;
}

/* The frame is mapped here rather than by GstVideoFilter, for writing
 * only when the overlay is blended into it: a frame whose pixels stay as
 * they are is not copied when upstream shares its memory (a tee).  The
 * metas go on once the frame is unmapped: a mapped GstVideoFrame holds a
 * reference to the buffer, which makes it read-only for metas. */
static GstFlowReturn
gst_anogan_filter_transform_ip (GstBaseTransform * trans, GstBuffer * buffer)
{
  GstAnoganFilter *self = GST_ANOGAN_FILTER (trans);
  GstVideoFilter *filter = GST_VIDEO_FILTER (trans);
  GstMapFlags flags = GST_MAP_READ;
  GstVideoFrame frame;
  GstFlowReturn ret;
  Settings s;

  if (G_UNLIKELY (!filter->negotiated)) {
    GST_ELEMENT_ERROR (self, CORE, NEGOTIATION, (NULL),
        ("a frame came before caps"));
    return GST_FLOW_NOT_NEGOTIATED;
  }
  if (!self->overlay_decided) {
    self->overlay_as_meta = decide_overlay_as_meta (self);
    self->overlay_decided = TRUE;
    GST_INFO_OBJECT (self, "the overlay is %s", self->overlay_as_meta ?
        "attached as a GstVideoOverlayCompositionMeta" : "blended in");
  }

  settings_snapshot (self, &s);
  if (s.overlay != GST_ANOGAN_OVERLAY_NONE && !self->overlay_as_meta)
    flags |= GST_MAP_WRITE;
  /* As GstVideoFilter does: a buffer that is not a frame of the caps is
   * passed on as it is, with a warning. */
  if (!gst_video_frame_map (&frame, &filter->in_info, buffer, flags)) {
    GST_ELEMENT_WARNING (self, STREAM, FORMAT, (NULL),
        ("cannot map a buffer of %" G_GSIZE_FORMAT " bytes as a %dx%d %s "
            "frame; passed on unanalysed", gst_buffer_get_size (buffer),
            GST_VIDEO_INFO_WIDTH (&filter->in_info),
            GST_VIDEO_INFO_HEIGHT (&filter->in_info),
            gst_video_format_to_string (GST_VIDEO_INFO_FORMAT
                (&filter->in_info))));
    return GST_FLOW_OK;
  }

  self->attach = NULL;
  ret = process_frame (self, &frame, &s);
  gst_video_frame_unmap (&frame);

  if (ret == GST_FLOW_OK && self->attach) {
    gst_anogan_meta_add (buffer, self->attach->structure);
    gst_anogan_meta_add_regions (buffer, self->attach->structure);
    if (self->overlay_as_meta) {
      GstVideoOverlayComposition *comp = overlay_composition (self, &s,
          GST_VIDEO_INFO_WIDTH (&filter->in_info),
          GST_VIDEO_INFO_HEIGHT (&filter->in_info));

      if (comp)
        attach_overlay (buffer, comp);
    }
  }
  self->attach = NULL;
  return ret;
}

/* Returns @f with the overlay composition feature added; plain caps
 * (no features) stand for system memory. */
static GstCapsFeatures *
features_with_overlay (GstCapsFeatures * f)
{
  GstCapsFeatures *with;

  if (f == NULL || gst_caps_features_is_equal (f,
          GST_CAPS_FEATURES_MEMORY_SYSTEM_MEMORY))
    return gst_caps_features_new
        (GST_CAPS_FEATURE_META_GST_VIDEO_OVERLAY_COMPOSITION, NULL);
  with = gst_caps_features_copy (f);
  gst_caps_features_add (with,
      GST_CAPS_FEATURE_META_GST_VIDEO_OVERLAY_COMPOSITION);
  return with;
}

/* The caps stay the same across the element, but for the feature
 * "meta:GstVideoOverlayComposition", which lets the overlay travel as a
 * meta for downstream to draw (decide_overlay_as_meta()):
 *  - downstream of caps without it, the element offers them with it
 *    first, so that a downstream that can take the meta is given it, and
 *    then as they are (only as they are once settle_overlay_caps() has
 *    found that downstream does not draw the meta);
 *  - downstream of caps with it, only with it: the buffers may carry
 *    upstream's overlays as a meta, which the element does not blend;
 *  - upstream of caps with it, with or without it; upstream of caps
 *    without it, only without it.
 * The memory is the same either way, so the element stays in place. */
static GstCaps *
gst_anogan_filter_transform_caps (GstBaseTransform * trans,
    GstPadDirection direction, GstCaps * caps, GstCaps * filter)
{
  GstAnoganFilter *self = GST_ANOGAN_FILTER (trans);
  gboolean plain_only;
  GstCaps *ret;

  GST_OBJECT_LOCK (self);
  plain_only = self->overlay_plain_only;
  GST_OBJECT_UNLOCK (self);

  if (gst_caps_is_any (caps)) {
    ret = gst_caps_ref (caps);
  } else {
    ret = gst_caps_new_empty ();
    for (guint i = 0; i < gst_caps_get_size (caps); i++) {
      GstStructure *s = gst_caps_get_structure (caps, i);
      GstCapsFeatures *f = gst_caps_get_features (caps, i);
      const gboolean any = f && gst_caps_features_is_any (f);
      const gboolean has = f && !any && gst_caps_features_contains (f,
          GST_CAPS_FEATURE_META_GST_VIDEO_OVERLAY_COMPOSITION);

      if (direction == GST_PAD_SINK && !has && !any && !plain_only)
        ret = gst_caps_merge_structure_full (ret, gst_structure_copy (s),
            features_with_overlay (f));
      ret = gst_caps_merge_structure_full (ret, gst_structure_copy (s),
          f ? gst_caps_features_copy (f) : NULL);
      if (direction == GST_PAD_SRC && has) {
        GstCapsFeatures *without = gst_caps_features_copy (f);

        gst_caps_features_remove (without,
            GST_CAPS_FEATURE_META_GST_VIDEO_OVERLAY_COMPOSITION);
        ret = gst_caps_merge_structure_full (ret, gst_structure_copy (s),
            without);
      }
    }
  }

  if (filter) {
    GstCaps *both = gst_caps_intersect_full (filter, ret,
        GST_CAPS_INTERSECT_FIRST);

    gst_caps_unref (ret);
    ret = both;
  }
  GST_DEBUG_OBJECT (trans, "%s %" GST_PTR_FORMAT " -> %" GST_PTR_FORMAT,
      direction == GST_PAD_SINK ? "downstream of" : "upstream of", caps, ret);
  return ret;
}

static gboolean
gst_anogan_filter_set_info (GstVideoFilter * filter, GstCaps * incaps,
    GstVideoInfo * in_info, GstCaps * outcaps, GstVideoInfo * out_info)
{
  GstAnoganFilter *self = GST_ANOGAN_FILTER (filter);
  Settings s;

  GST_DEBUG_OBJECT (self, "caps %" GST_PTR_FORMAT " to %" GST_PTR_FORMAT,
      incaps, outcaps);
  if (self->model == NULL)
    return FALSE;
  /* Blend or attach: downstream is asked once it has the new caps. */
  self->overlay_decided = FALSE;

  /* Results of frames of another size stop being carried, and the first
   * frame of the new size is analysed. */
  if (self->plan == NULL ||
      self->plan->frame_width != GST_VIDEO_INFO_WIDTH (in_info) ||
      self->plan->frame_height != GST_VIDEO_INFO_HEIGHT (in_info)) {
    self->generation++;
    self->frame_count = 0;
  }

  settings_snapshot (self, &s);
  if (!self->schedule_decided && !decide_schedule (self, &s))
    return FALSE;
  /* A new format needs a new reader even at the same size. */
  g_clear_pointer (&self->plan, plan_unref);
  return replan (self, in_info, &s, resolve_mode (self, &s));
}

/* ---- events, queries, start and stop ----------------------------------- */

static gboolean
gst_anogan_filter_sink_event (GstBaseTransform * trans, GstEvent * event)
{
  GstAnoganFilter *self = GST_ANOGAN_FILTER (trans);

  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_FLUSH_STOP:
      /* What was analysed before a flush, or is being analysed, or waits,
       * describes a picture the stream has left (a seek goes elsewhere):
       * the frames after it carry no result until one of their own. */
      g_mutex_lock (&self->lock);
      if (self->pending) {
        job_recycle_locked (self, self->pending);
        self->pending = NULL;
      }
      g_clear_pointer (&self->latest, result_unref);
      self->flushes++;
      g_mutex_unlock (&self->lock);
      show_result (self, NULL);
      self->frame_count = 0;
      /* What comes after a flush is another picture: no tile is reused
       * from before it. */
      self->epoch++;
      break;
    case GST_EVENT_SEGMENT:
      /* Nor after a new segment (a seek without flushing). */
      self->epoch++;
      break;
    case GST_EVENT_EOS:
      worker_drain (self);
      break;
    case GST_EVENT_CAPS:{
      g_autoptr (GstCaps) incaps = NULL;
      gboolean ok;

      gst_event_parse_caps (event, &incaps);
      gst_caps_ref (incaps);
      /* New caps: the feature is offered again. */
      GST_OBJECT_LOCK (self);
      self->overlay_plain_only = FALSE;
      GST_OBJECT_UNLOCK (self);
      ok = GST_BASE_TRANSFORM_CLASS (parent_class)->sink_event (trans, event);
      if (ok)
        settle_overlay_caps (self, incaps);
      return ok;
    }
    default:
      break;
  }
  return GST_BASE_TRANSFORM_CLASS (parent_class)->sink_event (trans, event);
}

static gboolean
gst_anogan_filter_query (GstBaseTransform * trans, GstPadDirection direction,
    GstQuery * query)
{
  GstAnoganFilter *self = GST_ANOGAN_FILTER (trans);
  gboolean live, latest;
  GstClockTime min, max, latency;

  if (!GST_BASE_TRANSFORM_CLASS (parent_class)->query (trans, direction,
          query))
    return FALSE;
  if (direction != GST_PAD_SRC || GST_QUERY_TYPE (query) != GST_QUERY_LATENCY)
    return TRUE;

  gst_query_parse_latency (query, &live, &min, &max);
  GST_OBJECT_LOCK (self);
  latency = self->latency;
  if (self->schedule_decided)
    latest = self->latest_mode;
  else if (self->settings.schedule == GST_ANOGAN_SCHEDULE_AUTO)
    latest = live;
  else
    latest = self->settings.schedule == GST_ANOGAN_SCHEDULE_LATEST_FRAME;
  GST_OBJECT_UNLOCK (self);

  /* latest-frame passes frames on at once: it adds nothing. */
  if (!latest) {
    min += latency;
    if (GST_CLOCK_TIME_IS_VALID (max))
      max += latency;
    gst_query_set_latency (query, live, min, max);
  }
  GST_DEBUG_OBJECT (self, "latency: live %d, min %" GST_TIME_FORMAT
      ", max %" GST_TIME_FORMAT, live, GST_TIME_ARGS (min),
      GST_TIME_ARGS (max));
  return TRUE;
}

static gboolean
gst_anogan_filter_start (GstBaseTransform * trans)
{
  GstAnoganFilter *self = GST_ANOGAN_FILTER (trans);
  g_autoptr (GError) error = NULL;
  g_autofree gchar *path = NULL;
  Model *m;

  GST_OBJECT_LOCK (self);
  path = g_strdup (self->model_path);
  self->latency = 0;
  self->running = TRUE;
  incoming_clear (self);
  GST_OBJECT_UNLOCK (self);

  m = model_load (path, &error);
  if (m == NULL) {
    if (g_error_matches (error, ANOGAN_MODEL_ERROR, ANOGAN_MODEL_ERROR_IO))
      GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ, ("%s", error->message),
          ("model=%s", path));
    else
      GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS, ("%s", error->message),
          ("model=%s", path ? path : "(embedded)"));
    return FALSE;
  }
  use_model (self, m);
  self->frame_count = 0;
  self->schedule_decided = FALSE;
  GST_INFO_OBJECT (self, "model %s: %dx%dx%d tiles, threshold %g, %s "
      "encoder, auto mode %s", m->name, m->model->input.dims[0],
      m->model->input.dims[1], m->model->input.dims[2], m->model->threshold,
      m->has_encoder ? "an" : "no", anogan_mode_name (m->auto_mode));
  return TRUE;
}

static gboolean
gst_anogan_filter_stop (GstBaseTransform * trans)
{
  GstAnoganFilter *self = GST_ANOGAN_FILTER (trans);

  worker_stop (self);
  engine_clear (self);
  reader_clear (self);
  g_clear_pointer (&self->inline_job, job_free);
  show_result (self, NULL);
  self->attach = NULL;
  self->overlay_decided = FALSE;
  self->overlay_as_meta = FALSE;
  g_clear_pointer (&self->plan, plan_unref);
  use_model (self, NULL);
  self->schedule_decided = FALSE;
  GST_OBJECT_LOCK (self);
  self->running = FALSE;
  incoming_clear (self);
  self->latest_mode = FALSE;
  self->overlay_plain_only = FALSE;
  GST_OBJECT_UNLOCK (self);
  return TRUE;
}

/* ---- properties --------------------------------------------------------- */

static void
gst_anogan_filter_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstAnoganFilter *self = GST_ANOGAN_FILTER (object);
  Settings *s = &self->settings;

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_MODEL:
      g_free (self->model_path);
      self->model_path = g_value_dup_string (value);
      /* Loaded by start(), or in the background when already running. */
      if (self->running)
        request_model (self);
      break;
    case PROP_ITERATIONS:
      s->iterations = g_value_get_uint (value);
      break;
    case PROP_LEARNING_RATE:
      s->learning_rate = g_value_get_float (value);
      break;
    case PROP_LAMBDA:
      s->lambda = g_value_get_float (value);
      break;
    case PROP_THRESHOLD:
      s->threshold = g_value_get_float (value);
      break;
    case PROP_TILE_STRIDE:
      s->tile_stride = g_value_get_uint (value);
      break;
    case PROP_ROI:{
      const gchar *text = g_value_get_string (value);
      GstVideoRectangle roi;

      if (text == NULL || *text == '\0') {
        s->has_roi = FALSE;
        g_clear_pointer (&self->roi_string, g_free);
      } else if (parse_roi (text, &roi)) {
        s->has_roi = TRUE;
        s->roi = roi;
        g_free (self->roi_string);
        self->roi_string = g_strdup (text);
      } else {
        g_warning ("%s: roi \"%s\" is not \"x,y,width,height\" (width and "
            "height at least 1); keeping \"%s\"", GST_OBJECT_NAME (self),
            text, self->roi_string ? self->roi_string : "");
      }
      break;
    }
    case PROP_THREADS:
      s->threads = g_value_get_uint (value);
      break;
    case PROP_OVERLAY:
      s->overlay = g_value_get_enum (value);
      break;
    case PROP_OVERLAY_ALPHA:
      s->overlay_alpha = g_value_get_float (value);
      break;
    case PROP_WARM_START:
      s->warm_start = g_value_get_boolean (value);
      break;
    case PROP_INTERVAL:
      s->interval = g_value_get_uint (value);
      break;
    case PROP_SCHEDULE:
      s->schedule = g_value_get_enum (value);
      break;
    case PROP_POST_MESSAGES:
      s->post_messages = g_value_get_boolean (value);
      break;
    case PROP_SEED:
      s->seed = g_value_get_uint64 (value);
      break;
    case PROP_MODE:{
      GstAnoganMode mode = g_value_get_enum (value);

      /* Known only once a model is loaded; before, a mode the model
       * cannot run falls back when the stream starts. */
      if ((mode == GST_ANOGAN_MODE_ENCODER || mode == GST_ANOGAN_MODE_HYBRID)
          && self->model_known && !self->model_has_encoder) {
        GEnumValue *old = g_enum_get_value (G_PARAM_SPEC_ENUM (pspec)->enum_class,
            s->mode);

        g_warning ("%s: mode %s needs a model with an encoder, and the model "
            "in use has none; keeping mode %s", GST_OBJECT_NAME (self),
            mode == GST_ANOGAN_MODE_ENCODER ? "encoder" : "hybrid",
            old ? old->value_nick : "?");
      } else {
        s->mode = mode;
      }
      break;
    }
    case PROP_PATIENCE:
      s->patience = g_value_get_int (value);
      break;
    case PROP_TOLERANCE:
      s->tolerance = g_value_get_float (value);
      break;
    case PROP_REFINE_ABOVE:
      s->refine_above = g_value_get_float (value);
      break;
    case PROP_SKIP_UNCHANGED:
      s->skip_unchanged = g_value_get_float (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_anogan_filter_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstAnoganFilter *self = GST_ANOGAN_FILTER (object);
  const Settings *s = &self->settings;

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_MODEL:
      g_value_set_string (value, self->model_path);
      break;
    case PROP_ITERATIONS:
      g_value_set_uint (value, s->iterations);
      break;
    case PROP_LEARNING_RATE:
      g_value_set_float (value, s->learning_rate);
      break;
    case PROP_LAMBDA:
      g_value_set_float (value, s->lambda);
      break;
    case PROP_THRESHOLD:
      g_value_set_float (value, s->threshold);
      break;
    case PROP_TILE_STRIDE:
      g_value_set_uint (value, s->tile_stride);
      break;
    case PROP_ROI:
      g_value_set_string (value, self->roi_string);
      break;
    case PROP_THREADS:
      g_value_set_uint (value, s->threads);
      break;
    case PROP_OVERLAY:
      g_value_set_enum (value, s->overlay);
      break;
    case PROP_OVERLAY_ALPHA:
      g_value_set_float (value, s->overlay_alpha);
      break;
    case PROP_WARM_START:
      g_value_set_boolean (value, s->warm_start);
      break;
    case PROP_INTERVAL:
      g_value_set_uint (value, s->interval);
      break;
    case PROP_SCHEDULE:
      g_value_set_enum (value, s->schedule);
      break;
    case PROP_POST_MESSAGES:
      g_value_set_boolean (value, s->post_messages);
      break;
    case PROP_SEED:
      g_value_set_uint64 (value, s->seed);
      break;
    case PROP_MODE:
      g_value_set_enum (value, s->mode);
      break;
    case PROP_PATIENCE:
      g_value_set_int (value, s->patience);
      break;
    case PROP_TOLERANCE:
      g_value_set_float (value, s->tolerance);
      break;
    case PROP_REFINE_ABOVE:
      g_value_set_float (value, s->refine_above);
      break;
    case PROP_SKIP_UNCHANGED:
      g_value_set_float (value, s->skip_unchanged);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_anogan_filter_finalize (GObject * object)
{
  GstAnoganFilter *self = GST_ANOGAN_FILTER (object);

  /* stop() has run if the element ever started; this is for the rest. */
  worker_stop (self);
  engine_clear (self);
  reader_clear (self);
  g_clear_pointer (&self->inline_job, job_free);
  show_result (self, NULL);
  g_clear_pointer (&self->plan, plan_unref);
  g_clear_pointer (&self->model, model_unref);
  g_clear_pointer (&self->in_use, model_unref);
  incoming_clear (self);
  g_free (self->model_path);
  g_free (self->roi_string);
  g_mutex_clear (&self->engine_lock);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);

  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_anogan_filter_class_init (GstAnoganFilterClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS (klass);
  GstVideoFilterClass *filter_class = GST_VIDEO_FILTER_CLASS (klass);
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS;
  const GParamFlags playing = rw | GST_PARAM_MUTABLE_PLAYING;

  GST_DEBUG_CATEGORY_INIT (gst_anogan_filter_debug, "anoganfilter", 0,
      "AnoGAN anomaly detection");

  gobject_class->set_property = gst_anogan_filter_set_property;
  gobject_class->get_property = gst_anogan_filter_get_property;
  gobject_class->finalize = gst_anogan_filter_finalize;

  g_object_class_install_property (gobject_class, PROP_MODEL,
      g_param_spec_string ("model", "Model",
          "The model, a safetensors file as anogan-train writes it; empty "
          "for the embedded default (a brick texture, 32x32 grey tiles). "
          "A file that does not load stops the pipeline from starting; set "
          "while playing, it is loaded in the background and takes over "
          "between two frames, and a file that does not load leaves the "
          "old model at work, with a warning",
          DEFAULT_MODEL, playing));
  g_object_class_install_property (gobject_class, PROP_ITERATIONS,
      g_param_spec_uint ("iterations", "Iterations",
          "Adam steps of the latent search per tile; 0 takes the number the "
          "mode's threshold was calibrated with (the model's card), or 100 "
          "(optimise) or 10 (hybrid) when the card does not say; the "
          "encoder mode takes none.  The threshold only means something "
          "for scores searched the way it was calibrated",
          0, 100000, DEFAULT_ITERATIONS, playing));
  g_object_class_install_property (gobject_class, PROP_LEARNING_RATE,
      g_param_spec_float ("learning-rate", "Learning rate",
          "Adam's step size in the latent search; 0 takes the mode's "
          "calibration setting, or 0.01", 0.0f, 10.0f,
          DEFAULT_LEARNING_RATE, playing));
  g_object_class_install_property (gobject_class, PROP_LAMBDA,
      g_param_spec_float ("lambda", "Lambda",
          "Weight of the discrimination loss against the residual loss, 0 "
          "to 1; negative takes the mode's calibration setting, or the "
          "model's own lambda", -1.0f, 1.0f, DEFAULT_LAMBDA, playing));
  g_object_class_install_property (gobject_class, PROP_THRESHOLD,
      g_param_spec_float ("threshold", "Threshold",
          "Score at and above which a tile, and the frame, is anomalous; "
          "negative takes the threshold calibrated for the mode.  Without "
          "one, scores are still reported but nothing is flagged", -1.0f,
          G_MAXFLOAT, DEFAULT_THRESHOLD, playing));
  g_object_class_install_property (gobject_class, PROP_TILE_STRIDE,
      g_param_spec_uint ("tile-stride", "Tile stride",
          "Step between tiles in pixels, at most the tile size (larger "
          "steps are cut to it, with a warning); smaller steps make tiles "
          "overlap, at a quadratic cost.  0 takes the stride the mode was "
          "calibrated with, or the tile size", 0, 4096, DEFAULT_TILE_STRIDE,
          playing));
  g_object_class_install_property (gobject_class, PROP_ROI,
      g_param_spec_string ("roi", "Region of interest",
          "The part of the frame analysed, \"x,y,width,height\" in pixels, "
          "cut to the frame; empty for the whole frame.  An area smaller "
          "than a tile is padded by repeating its last column and row.  A "
          "malformed value is refused with a warning", DEFAULT_ROI, playing));
  g_object_class_install_property (gobject_class, PROP_THREADS,
      g_param_spec_uint ("threads", "Threads",
          "Threads the latent search runs on; 0 for one per core.  Scores "
          "do not depend on it", 0, 1024, DEFAULT_THREADS, playing));
  g_object_class_install_property (gobject_class, PROP_OVERLAY,
      g_param_spec_enum ("overlay", "Overlay",
          "What is drawn over the frames: the residual heatmap, boxes "
          "around the tiles over the threshold, both, or nothing (the "
          "pixels then pass unchanged).  Blended into the frames, or "
          "attached as a GstVideoOverlayCompositionMeta when downstream "
          "draws overlays itself", GST_TYPE_ANOGAN_OVERLAY_MODE,
          DEFAULT_OVERLAY, playing));
  g_object_class_install_property (gobject_class, PROP_OVERLAY_ALPHA,
      g_param_spec_float ("overlay-alpha", "Overlay alpha",
          "Opacity of the drawing, 0 (invisible) to 1", 0.0f, 1.0f,
          DEFAULT_OVERLAY_ALPHA, playing));
  g_object_class_install_property (gobject_class, PROP_WARM_START,
      g_param_spec_boolean ("warm-start", "Warm start",
          "Start each tile's search where it ended on the last analysed "
          "frame (while the tiling stays the same) instead of where the "
          "mode starts it (in hybrid mode, instead of the encoder's guess): "
          "faster on a steady scene, but scores then depend on the frames "
          "before.  The encoder mode always takes the encoder's guess",
          DEFAULT_WARM_START, playing));
  g_object_class_install_property (gobject_class, PROP_INTERVAL,
      g_param_spec_uint ("interval", "Interval",
          "Analyse every Nth frame, from the first; the frames between "
          "carry the latest result, whose analysed-pts names its frame",
          1, G_MAXINT, DEFAULT_INTERVAL, playing));
  g_object_class_install_property (gobject_class, PROP_SCHEDULE,
      g_param_spec_enum ("schedule", "Schedule",
          "When frames are analysed: every-frame analyses each selected "
          "frame before passing it on (deterministic; the analysis adds to "
          "the latency); latest-frame analyses on a thread of its own, "
          "always the newest selected frame, and passes every frame on at "
          "once with the latest finished result; auto picks latest-frame "
          "for live pipelines", GST_TYPE_ANOGAN_SCHEDULE, DEFAULT_SCHEDULE,
          rw | GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_POST_MESSAGES,
      g_param_spec_boolean ("post-messages", "Post messages",
          "Post an element message named \"anogan\" on the bus for each "
          "analysed frame, with the score, the verdict, every tile's score "
          "and the frame's timestamp, stream-time and running-time",
          DEFAULT_POST_MESSAGES, playing));
  g_object_class_install_property (gobject_class, PROP_SEED,
      g_param_spec_uint64 ("seed", "Seed",
          "Seed of the search's random starts and bank of candidate starts, "
          "used by models calibrated with them (their card's z_init or "
          "candidates); the same seed gives the same scores", 0, G_MAXUINT64,
          DEFAULT_SEED, playing));
  g_object_class_install_property (gobject_class, PROP_MODE,
      g_param_spec_enum ("mode", "Mode",
          "How each tile's z is found: optimise (AnoGAN's Adam steps), "
          "encoder (the model's encoder, one pass), hybrid (the encoder, "
          "then a few steps on the tiles it finds suspicious), or auto: "
          "the mode the model's card recommends, else the fastest it is "
          "calibrated for.  Each mode takes its threshold and search "
          "settings from its own calibration in the card.  The encoder "
          "modes need a model with an encoder: refused with a warning when "
          "the model in use has none, and run as optimise, with a warning "
          "message, when a model loaded later has none",
          GST_TYPE_ANOGAN_MODE, DEFAULT_MODE, playing));
  g_object_class_install_property (gobject_class, PROP_PATIENCE,
      g_param_spec_int ("patience", "Patience",
          "Stop a tile's search after this many steps without its loss "
          "improving by more than tolerance; 0 never stops early; -1 takes "
          "the mode's calibration setting, or never", -1, 100000,
          DEFAULT_PATIENCE, playing));
  g_object_class_install_property (gobject_class, PROP_TOLERANCE,
      g_param_spec_float ("tolerance", "Tolerance",
          "Relative improvement of the loss that counts as progress for "
          "patience (0.001 is a thousandth); negative takes the mode's "
          "calibration setting, or 0.001", -1.0f, 1.0f, DEFAULT_TOLERANCE,
          playing));
  g_object_class_install_property (gobject_class, PROP_REFINE_ABOVE,
      g_param_spec_float ("refine-above", "Refine above",
          "Hybrid mode: only tiles whose score from the encoder's start "
          "exceeds this fraction of the threshold take search steps; the "
          "others keep the encoder's score (0 steps every tile).  Negative "
          "takes the hybrid calibration's fraction, or 1, which changes no "
          "verdict: a tile under the threshold from the encoder's start "
          "stays under it",
          -1.0f, 10.0f, DEFAULT_REFINE_ABOVE, playing));
  g_object_class_install_property (gobject_class, PROP_SKIP_UNCHANGED,
      g_param_spec_float ("skip-unchanged", "Skip unchanged",
          "Reuse a tile's last result (score, heatmap, warm start) instead "
          "of analysing it while its pixels differ from those of its last "
          "analysis by at most this many 8-bit levels on average: 0 reuses "
          "identical tiles only, which changes no score; negative analyses "
          "every tile", -1.0f, 255.0f, DEFAULT_SKIP_UNCHANGED, playing));

  gst_element_class_set_static_metadata (element_class,
      "AnoGAN anomaly detection", "Filter/Analyzer/Video",
      "Scores each frame for visual anomalies with AnoGAN: tiles of the "
      "frame are compared with the closest pictures a generator trained on "
      "normal parts can draw.  Scores travel as AnoganMeta and region of "
      "interest metas on the buffers and as \"anogan\" bus messages; the "
      "residual heatmap and the anomalous tiles are drawn over the picture",
      "the gst-anogan authors");

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);

  trans_class->start = GST_DEBUG_FUNCPTR (gst_anogan_filter_start);
  trans_class->stop = GST_DEBUG_FUNCPTR (gst_anogan_filter_stop);
  trans_class->sink_event = GST_DEBUG_FUNCPTR (gst_anogan_filter_sink_event);
  trans_class->query = GST_DEBUG_FUNCPTR (gst_anogan_filter_query);
  trans_class->transform_caps =
      GST_DEBUG_FUNCPTR (gst_anogan_filter_transform_caps);
  trans_class->transform_ip =
      GST_DEBUG_FUNCPTR (gst_anogan_filter_transform_ip);
  filter_class->set_info = GST_DEBUG_FUNCPTR (gst_anogan_filter_set_info);

  gst_type_mark_as_plugin_api (GST_TYPE_ANOGAN_OVERLAY_MODE, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_ANOGAN_SCHEDULE, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_ANOGAN_MODE, 0);
}

static void
gst_anogan_filter_init (GstAnoganFilter * self)
{
  settings_init (&self->settings);
  g_mutex_init (&self->engine_lock);
  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  /* Frames are marked and annotated where they are, never copied. */
  gst_base_transform_set_in_place (GST_BASE_TRANSFORM (self), TRUE);
}
