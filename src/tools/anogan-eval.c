/* anogan-eval: how well a model tells anomalous pictures from normal ones
 *
 * Copyright (C) 2026 the gst-anogan authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Scores a set of normal and a set of anomalous pictures exactly as
 * anogan-score does, then reports the detection metrics of libanogan's
 * anogan-metrics over those scores, and on request the pixel AUROC of the
 * residual maps against ground-truth masks, a ROC curve (SVG) and a mosaic
 * of the best and worst cases (PNG) for a person to look at.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "anogan-metrics.h"
#include "anogan-model.h"
#include "anogan-search.h"
#include "anogan-tool-data.h"
#include "anogan-tool-image.h"
#include "anogan-tool-score.h"

#define EXIT_BAD_ARGUMENTS 2

/* --class not given. */
#define NO_CLASS G_MININT

/* Pictures handed to the scorer at a time, at least: enough for it to
 * fill its batches on every thread, few enough for the progress line to
 * move. */
#define PROGRESS_STEP 64

/* What the command line asked for. */
typedef struct {
  char *model_path;
  char *normal_source;
  char *anomalous_source;
  int class_index;
  int limit;
  AnoganToolScoreArgs score;
  char *masks_dir;
  gboolean json;
  char *scores_path;
  char *roc_path;
  char *mosaic_path;
  char *trace_steps;
  char **rest;
} Arguments;

/* One set of pictures and what the search found for each. */
typedef struct {
  const char *source;
  gboolean anomalous;
  GPtrArray *pictures;
  AnoganToolScore *scores;
} Set;

/* Everything the report needs. */
typedef struct {
  const Arguments *args;
  const AnoganModel *model;
  const char *model_name;
  AnoganSearchOptions options;
  AnoganMode mode;
  double threshold;             /* the mode's, or NAN */
  GArray *trace_steps;          /* of int, ascending; NULL without */
  AnoganRoc **trace;            /* the curve after each of trace_steps */
  Set normal;
  Set anomalous;
  AnoganRoc *roc;
  double pixel_auroc;
  double seconds;
  guint64 patch_iterations;
  guint64 tiles;
  int mosaic_width;
  int mosaic_height;
} Evaluation;

static void
arguments_clear (Arguments *args)
{
  g_free (args->model_path);
  g_free (args->normal_source);
  g_free (args->anomalous_source);
  anogan_tool_score_args_clear (&args->score);
  g_free (args->masks_dir);
  g_free (args->scores_path);
  g_free (args->roc_path);
  g_free (args->mosaic_path);
  g_free (args->trace_steps);
  g_strfreev (args->rest);
}

static void
set_clear (Set *set)
{
  if (set->scores)
    for (guint i = 0; i < set->pictures->len; i++)
      anogan_tool_score_clear (&set->scores[i]);
  g_clear_pointer (&set->scores, g_free);
  g_clear_pointer (&set->pictures, g_ptr_array_unref);
}

static double
score_of (const Set *set, guint i)
{
  const AnoganToolScore *s = &set->scores[i];
  return s->results[s->worst].score;
}

static AnoganToolPicture *
picture_of (const Set *set, guint i)
{
  return g_ptr_array_index (set->pictures, i);
}

/* ---- command line ------------------------------------------------------- */

static const char description[] =
    "Both sets are scored as anogan-score scores pictures (see its --help):\n"
    "tiles of the model's input size, the latent search on each, a\n"
    "picture's score its highest tile score.  The anomalous pictures are\n"
    "the positives.  Reported: AUROC, average precision (as scikit-learn's\n"
    "average_precision_score), the best F1 and its threshold, the F1,\n"
    "precision and recall at the model's threshold for --mode if it has\n"
    "one (a score >= the threshold is called anomalous), and the speed.\n"
    "\n"
    "--trace-steps 0,5,50 reports the same metrics for the scores searches\n"
    "of 0, 5 and 50 steps would have given, all read from the one search\n"
    "of --iterations steps (every value at most that): the search records\n"
    "each tile's loss after every step, and a picture's score after t\n"
    "steps is its highest tile loss then.\n"
    "\n"
    "A SOURCE is a directory of pictures, one picture, an IDX file (MNIST\n"
    "layout, gzip or not) or a video.  IDX records smaller than the\n"
    "model's input are padded with black, centred; pictures and video\n"
    "frames never are, and one smaller than a tile is an error.\n"
    "\n"
    "--class K evaluates the one-class protocol on labelled IDX files: the\n"
    "normal pictures are the records of class K in the --normal source,\n"
    "the anomalous ones the records of every other class in --anomalous.\n"
    "\n"
    "--masks DIR: DIR/NAME is the defect mask of the anomalous picture\n"
    "NAME (any picture format, nonzero = defect, the picture's size);\n"
    "normal pictures have no defect.  The pixel AUROC of the residual\n"
    "maps over all pixels of all pictures is then reported.\n"
    "\n"
    "Examples:\n"
    "  anogan-eval --model m.safetensors --normal good/ --anomalous bad/\n"
    "  anogan-eval --model fashion.safetensors --class 0 --limit 500 \\\n"
    "    --normal t10k-images-idx3-ubyte.gz --anomalous t10k-images-idx3-ubyte.gz\n"
    "\n"
    "Exit status: 0 on success, 1 when the model, a source, a mask or an\n"
    "output file could not be read or written, 2 on bad arguments.";

static gboolean
parse_arguments (Arguments *args, int *argc, char ***argv, GError **error)
{
  const GOptionEntry data_entries[] = {
    { "model", 'm', 0, G_OPTION_ARG_FILENAME, &args->model_path,
      "The model (safetensors file)", "FILE" },
    { "normal", 0, 0, G_OPTION_ARG_FILENAME, &args->normal_source,
      "The normal pictures", "SOURCE" },
    { "anomalous", 0, 0, G_OPTION_ARG_FILENAME, &args->anomalous_source,
      "The anomalous pictures", "SOURCE" },
    { "class", 0, 0, G_OPTION_ARG_INT, &args->class_index,
      "One-class protocol on IDX sources: class K is normal, every other "
      "class anomalous", "K" },
    { "limit", 0, 0, G_OPTION_ARG_INT, &args->limit,
      "At most N pictures per set, a random choice by --seed (default: all)",
      "N" },
    { NULL }
  };
  const GOptionEntry output_entries[] = {
    { "masks", 0, 0, G_OPTION_ARG_FILENAME, &args->masks_dir,
      "Defect masks of the anomalous pictures: report the pixel AUROC",
      "DIR" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &args->json,
      "Print the report as one JSON object", NULL },
    { "scores", 0, 0, G_OPTION_ARG_FILENAME, &args->scores_path,
      "Write every picture's score as a JSON line", "FILE.jsonl" },
    { "roc", 0, 0, G_OPTION_ARG_FILENAME, &args->roc_path,
      "Draw the ROC curve", "FILE.svg" },
    { "mosaic", 0, 0, G_OPTION_ARG_FILENAME, &args->mosaic_path,
      "Show the most and least anomalous pictures of each set beside their "
      "residual maps", "FILE.png" },
    { "trace-steps", 0, 0, G_OPTION_ARG_STRING, &args->trace_steps,
      "Also report the metrics after each of these step counts, from the "
      "same search (each at most --iterations)", "T,T,..." },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &args->rest,
      NULL, NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) context =
      g_option_context_new ("- how well an AnoGAN model detects anomalies");

  g_option_context_set_summary (context,
      "Scores normal and anomalous pictures with an AnoGAN model and\n"
      "reports how well the scores separate them.");
  g_option_context_set_description (context, description);
  g_option_context_add_main_entries (context, data_entries, NULL);
  anogan_tool_score_args_add_entries (&args->score, context,
      "Seed of random starts and of --limit's choice (default: 0)");
  g_option_context_add_main_entries (context, output_entries, NULL);
  return g_option_context_parse (context, argc, argv, error);
}

static int
compare_ints (gconstpointer a, gconstpointer b)
{
  const int x = *(const int *) a, y = *(const int *) b;

  return (x > y) - (x < y);
}

/* --trace-steps: step counts from 0 to @iterations, separated by commas,
 * into an ascending array without repeats. */
static GArray *
parse_trace_steps (const char *list, int iterations, GError **error)
{
  g_auto (GStrv) items = g_strsplit (list, ",", -1);
  g_autoptr (GArray) steps = g_array_new (FALSE, FALSE, sizeof (int));

  for (int i = 0; items[i]; i++) {
    const char *item = g_strstrip (items[i]);
    guint64 t;

    if (!g_ascii_string_to_unsigned (item, 10, 0, G_MAXINT, &t, NULL)) {
      anogan_tool_bad_argument (error, "--trace-steps must be step counts "
          "separated by commas, not \"%s\"", list);
      return NULL;
    }
    if (t > (guint64) iterations) {
      anogan_tool_bad_argument (error, "--trace-steps: %s steps are more "
          "than the search's %d iterations", item, iterations);
      return NULL;
    }
    int step = (int) t;
    g_array_append_val (steps, step);
  }
  g_array_sort (steps, compare_ints);
  for (guint i = 1; i < steps->len;)
    if (g_array_index (steps, int, i) == g_array_index (steps, int, i - 1))
      g_array_remove_index (steps, i);
    else
      i++;
  return g_steal_pointer (&steps);
}

/* Checks what can be checked before the model is loaded; fills in the
 * search options and, with --trace-steps, @trace_steps. */
static gboolean
check_arguments (const Arguments *args, AnoganSearchOptions *options,
    GArray **trace_steps, GError **error)
{
  if (!args->model_path)
    return anogan_tool_bad_argument (error, "--model is required");
  if (!args->normal_source)
    return anogan_tool_bad_argument (error, "--normal is required");
  if (!args->anomalous_source)
    return anogan_tool_bad_argument (error, "--anomalous is required");
  if (args->rest && args->rest[0])
    return anogan_tool_bad_argument (error, "unexpected argument \"%s\"",
        args->rest[0]);
  if (args->class_index != NO_CLASS && args->class_index < 0)
    return anogan_tool_bad_argument (error,
        "--class must be a label, 0 or more");
  if (args->limit < 0)
    return anogan_tool_bad_argument (error, "--limit must not be negative");
  if (!anogan_tool_score_args_to_options (&args->score, options, error))
    return FALSE;
  if (args->trace_steps) {
    *trace_steps = parse_trace_steps (args->trace_steps, options->iterations,
        error);
    return *trace_steps != NULL;
  }
  return TRUE;
}

/* ---- scoring ------------------------------------------------------------ */

static gboolean
load_set (Set *set, const char *source, gboolean anomalous,
    const Arguments *args, const AnoganModel *model, GError **error)
{
  AnoganToolDataOptions options;

  anogan_tool_data_options_init (&options);
  options.limit = args->limit;
  options.seed = (guint64) args->score.seed;
  options.min_width = model->input.dims[2];
  options.min_height = model->input.dims[1];
  if (args->class_index != NO_CLASS) {
    if (anomalous)
      options.exclude_class = args->class_index;
    else
      options.class_index = args->class_index;
  }

  set->source = source;
  set->anomalous = anomalous;
  set->pictures = anogan_tool_data_load (source, &options, error);
  return set->pictures != NULL;
}

static gboolean
score_set (Evaluation *ev, AnoganToolScorer *scorer, Set *set,
    gboolean residual_maps, guint done_before, guint total, GError **error)
{
  const guint n = set->pictures->len;
  const gboolean progress = isatty (STDERR_FILENO);
  const guint step = MAX (PROGRESS_STEP,
      4 * ev->options.threads * ev->options.batch);

  set->scores = g_new0 (AnoganToolScore, n);
  for (guint first = 0; first < n; first += step) {
    int count = (int) MIN (step, n - first);

    if (!anogan_tool_scorer_run (scorer,
            (AnoganToolPicture **) set->pictures->pdata + first, count,
            residual_maps, set->scores + first, error))
      return FALSE;
    if (progress)
      g_printerr ("\ranogan-eval: scored %u of %u pictures",
          done_before + first + count, total);
  }

  for (guint i = 0; i < n; i++) {
    if (isnan (score_of (set, i))) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
          "%s: the search diverged (the score is not a number); "
          "try a smaller --lr", picture_of (set, i)->name);
      return FALSE;
    }
    ev->patch_iterations += anogan_tool_score_patch_iterations (
        &set->scores[i]);
    ev->tiles += anogan_tiling_count (&set->scores[i].tiling);
  }
  return TRUE;
}

static gboolean
score_sets (Evaluation *ev, AnoganToolScorer *scorer, GError **error)
{
  const gboolean maps = ev->args->masks_dir || ev->args->mosaic_path;
  const guint total = ev->normal.pictures->len + ev->anomalous.pictures->len;
  gint64 start = g_get_monotonic_time ();
  gboolean ok;

  ok = score_set (ev, scorer, &ev->normal, maps, 0, total, error) &&
      score_set (ev, scorer, &ev->anomalous, maps,
      ev->normal.pictures->len, total, error);
  ev->seconds = (g_get_monotonic_time () - start) / 1e6;
  if (isatty (STDERR_FILENO))
    g_printerr ("\n");
  return ok;
}

/* A picture's score after @step steps of the search, read from its
 * trace; its final score when @step is negative. */
static double
score_at (const Set *set, guint i, int step)
{
  return step < 0 ? score_of (set, i) : set->scores[i].trace[step];
}

/* The ROC curve of the scores after @step steps (see score_at()). */
static AnoganRoc *
roc_at (const Evaluation *ev, int step, GError **error)
{
  const guint n_pos = ev->anomalous.pictures->len;
  const guint n_neg = ev->normal.pictures->len;
  g_autofree double *pos = g_new (double, n_pos);
  g_autofree double *neg = g_new (double, n_neg);

  for (guint i = 0; i < n_pos; i++)
    pos[i] = score_at (&ev->anomalous, i, step);
  for (guint i = 0; i < n_neg; i++)
    neg[i] = score_at (&ev->normal, i, step);
  return anogan_roc_new (pos, n_pos, neg, n_neg, error);
}

static gboolean
compute_roc (Evaluation *ev, GError **error)
{
  ev->roc = roc_at (ev, -1, error);
  return ev->roc != NULL;
}

/* The metrics after each step count of --trace-steps, from the one
 * search's traces. */
static gboolean
compute_trace (Evaluation *ev, GError **error)
{
  ev->trace = g_new0 (AnoganRoc *, ev->trace_steps->len);
  for (guint k = 0; k < ev->trace_steps->len; k++) {
    const int t = g_array_index (ev->trace_steps, int, k);

    ev->trace[k] = roc_at (ev, t, error);
    if (!ev->trace[k]) {
      g_prefix_error (error, "the search after %d steps: ", t);
      return FALSE;
    }
  }
  return TRUE;
}

/* ---- pixel AUROC -------------------------------------------------------- */

/* The sample of component @k of pixel (x, y). */
static guint8
sample_at (const AnoganToolImage *image, int x, int y, int k)
{
  const AnoganPixelLayout *l = &image->layout;

  return image->pixels[(gsize) y * l->row_stride + (gsize) x * l->pixel_stride +
      l->offsets[MIN (k, l->components - 1)]];
}

/* Reads DIR/<basename of the picture> into @labels: 1 where any sample
 * is nonzero. */
static gboolean
read_mask (const char *dir, const AnoganToolPicture *picture,
    const AnoganTiling *tiling, guint8 *labels, GError **error)
{
  g_autofree char *base = g_path_get_basename (picture->name);
  g_autofree char *path = g_build_filename (dir, base, NULL);
  AnoganToolImage mask;

  if (!g_file_test (path, G_FILE_TEST_EXISTS)) {
    g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT,
        "%s: no mask for the anomalous picture %s", path, picture->name);
    return FALSE;
  }
  if (!anogan_tool_image_load (&mask, path, error))
    return FALSE;
  if (mask.width != tiling->width || mask.height != tiling->height) {
    g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
        "%s: the mask is %dx%d but the picture %s is %dx%d", path,
        mask.width, mask.height, picture->name, tiling->width,
        tiling->height);
    anogan_tool_image_clear (&mask);
    return FALSE;
  }

  for (int y = 0; y < mask.height; y++)
    for (int x = 0; x < mask.width; x++) {
      guint8 any = 0;
      for (int k = 0; k < mask.layout.components; k++)
        any |= sample_at (&mask, x, y, k);
      labels[(gsize) y * mask.width + x] = any != 0;
    }
  anogan_tool_image_clear (&mask);
  return TRUE;
}

static gboolean
compute_pixel_auroc (Evaluation *ev, GError **error)
{
  const Set *sets[] = { &ev->normal, &ev->anomalous };
  g_autofree float *scores = NULL;
  g_autofree guint8 *labels = NULL;
  gsize total = 0, offset = 0;

  for (int s = 0; s < 2; s++)
    for (guint i = 0; i < sets[s]->pictures->len; i++)
      total += (gsize) sets[s]->scores[i].tiling.width *
          sets[s]->scores[i].tiling.height;

  scores = g_new (float, total);
  labels = g_new0 (guint8, total);
  for (int s = 0; s < 2; s++)
    for (guint i = 0; i < sets[s]->pictures->len; i++) {
      const AnoganToolScore *score = &sets[s]->scores[i];
      gsize n = (gsize) score->tiling.width * score->tiling.height;

      memcpy (scores + offset, score->residual_map, n * sizeof *scores);
      if (sets[s]->anomalous &&
          !read_mask (ev->args->masks_dir, picture_of (sets[s], i),
              &score->tiling, labels + offset, error))
        return FALSE;
      offset += n;
    }
  return anogan_metrics_pixel_auroc (scores, labels, total,
      &ev->pixel_auroc, error);
}

/* ---- --scores ----------------------------------------------------------- */

static void
append_score_line (GString *out, const Evaluation *ev, const Set *set,
    guint i)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autofree char *name = g_filename_display_name (picture_of (set, i)->name);
  g_autofree char *line = NULL;
  const AnoganToolScore *s = &set->scores[i];
  const AnoganPatchResult *r = &s->results[s->worst];

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "name");
  json_builder_add_string_value (b, name);
  json_builder_set_member_name (b, "label");
  json_builder_add_string_value (b, set->anomalous ? "anomalous" : "normal");
  if (picture_of (set, i)->label >= 0) {
    json_builder_set_member_name (b, "class");
    json_builder_add_int_value (b, picture_of (set, i)->label);
  }
  anogan_tool_json_add_number (b, "score", r->score);
  anogan_tool_json_add_number (b, "residual", r->residual);
  anogan_tool_json_add_number (b, "discrimination", r->discrimination);
  json_builder_set_member_name (b, "iterations");
  json_builder_add_int_value (b, r->iterations);
  json_builder_set_member_name (b, "tiles");
  json_builder_add_int_value (b, anogan_tiling_count (&s->tiling));
  if (ev->trace_steps) {
    /* The picture's score after each of --trace-steps. */
    json_builder_set_member_name (b, "trace");
    json_builder_begin_array (b);
    for (guint k = 0; k < ev->trace_steps->len; k++) {
      double v = score_at (set, i, g_array_index (ev->trace_steps, int, k));
      if (isfinite (v))
        json_builder_add_double_value (b, v);
      else
        json_builder_add_null_value (b);
    }
    json_builder_end_array (b);
  }
  json_builder_end_object (b);

  line = anogan_tool_json_to_line (b);
  g_string_append (out, line);
  g_string_append_c (out, '\n');
}

/* Plain stdio rather than g_file_set_contents(), whose write to a
 * temporary file and rename cannot serve /dev/stdout or a pipe. */
static gboolean
write_file (const char *path, const char *data, gsize len, GError **error)
{
  FILE *f = fopen (path, "wb");
  gboolean ok;

  if (!f) {
    int saved = errno;
    g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved),
        "%s: cannot write: %s", path, g_strerror (saved));
    return FALSE;
  }
  ok = fwrite (data, 1, len, f) == len;
  ok = (fclose (f) == 0) && ok;
  if (!ok) {
    int saved = errno;
    g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved),
        "%s: cannot write: %s", path, g_strerror (saved));
  }
  return ok;
}

static gboolean
write_scores (const Evaluation *ev, const char *path, GError **error)
{
  g_autoptr (GString) out = g_string_new (NULL);

  for (guint i = 0; i < ev->normal.pictures->len; i++)
    append_score_line (out, ev, &ev->normal, i);
  for (guint i = 0; i < ev->anomalous.pictures->len; i++)
    append_score_line (out, ev, &ev->anomalous, i);
  return write_file (path, out->str, out->len, error);
}

/* ---- --roc: the curve as SVG -------------------------------------------- */

/* Plot area: the unit square drawn PLOT pixels wide, its top left corner
 * at (LEFT, TOP) of the SVG. */
#define SVG_WIDTH 560
#define SVG_HEIGHT 560
#define PLOT 420
#define LEFT 90
#define TOP 60

static double
svg_x (double fpr)
{
  return LEFT + fpr * PLOT;
}

static double
svg_y (double tpr)
{
  return TOP + (1.0 - tpr) * PLOT;
}

static char *
make_roc_svg (const Evaluation *ev)
{
  const AnoganRoc *roc = ev->roc;
  GString *s = g_string_new (NULL);
  g_autofree char *title = g_markup_printf_escaped ("ROC curve of %s",
      ev->model_name);
  const AnoganRocPoint *best = anogan_roc_at_threshold (roc,
      roc->best_f1_threshold);
  const AnoganRocPoint *at_model = anogan_roc_at_threshold (roc,
      ev->threshold);
  int legend_rows = at_model ? 4 : 3;

  g_string_append_printf (s,
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
      "viewBox=\"0 0 %d %d\" font-family=\"DejaVu Sans, Helvetica, Arial, "
      "sans-serif\" font-size=\"14\">\n"
      "<title>%s</title>\n"
      "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
      "<text x=\"%d\" y=\"34\" text-anchor=\"middle\" font-size=\"18\" "
      "font-weight=\"bold\">%s</text>\n",
      SVG_WIDTH, SVG_HEIGHT, SVG_WIDTH, SVG_HEIGHT, title,
      LEFT + PLOT / 2, title);

  /* Grid, ticks and their labels, every 0.2. */
  g_string_append (s, "<g stroke=\"#e3e3e3\" stroke-width=\"1\">\n");
  for (int i = 1; i < 5; i++)
    g_string_append_printf (s,
        "<line x1=\"%g\" y1=\"%d\" x2=\"%g\" y2=\"%d\"/>"
        "<line x1=\"%d\" y1=\"%g\" x2=\"%d\" y2=\"%g\"/>\n",
        svg_x (i / 5.0), TOP, svg_x (i / 5.0), TOP + PLOT,
        LEFT, svg_y (i / 5.0), LEFT + PLOT, svg_y (i / 5.0));
  g_string_append (s, "</g>\n<g stroke=\"black\" stroke-width=\"1\">\n");
  for (int i = 0; i <= 5; i++)
    g_string_append_printf (s,
        "<line x1=\"%g\" y1=\"%d\" x2=\"%g\" y2=\"%d\"/>"
        "<line x1=\"%d\" y1=\"%g\" x2=\"%d\" y2=\"%g\"/>\n",
        svg_x (i / 5.0), TOP + PLOT, svg_x (i / 5.0), TOP + PLOT + 6,
        LEFT - 6, svg_y (i / 5.0), LEFT, svg_y (i / 5.0));
  g_string_append (s, "</g>\n<g font-size=\"13\">\n");
  for (int i = 0; i <= 5; i++)
    g_string_append_printf (s,
        "<text x=\"%g\" y=\"%d\" text-anchor=\"middle\">%.1f</text>"
        "<text x=\"%d\" y=\"%g\" text-anchor=\"end\" "
        "dominant-baseline=\"central\">%.1f</text>\n",
        svg_x (i / 5.0), TOP + PLOT + 22, i / 5.0,
        LEFT - 10, svg_y (i / 5.0), i / 5.0);
  g_string_append_printf (s, "</g>\n"
      "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">False positive rate"
      "</text>\n"
      "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" "
      "transform=\"rotate(-90 %d %d)\">True positive rate (recall)</text>\n",
      LEFT + PLOT / 2, TOP + PLOT + 48, LEFT - 52, TOP + PLOT / 2,
      LEFT - 52, TOP + PLOT / 2);

  /* The chance line, the frame, then the curve over them. */
  g_string_append_printf (s,
      "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#888\" "
      "stroke-width=\"1.5\" stroke-dasharray=\"6 5\"/>\n"
      "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" "
      "stroke=\"black\" stroke-width=\"1.2\"/>\n",
      LEFT, TOP + PLOT, LEFT + PLOT, TOP, LEFT, TOP, PLOT, PLOT);
  g_string_append (s, "<polyline fill=\"none\" stroke=\"#1f5fb4\" "
      "stroke-width=\"2.5\" stroke-linejoin=\"round\" points=\"");
  for (gsize k = 0; k < roc->n_points; k++)
    g_string_append_printf (s, "%s%.2f,%.2f", k ? " " : "",
        svg_x (roc->points[k].fpr), svg_y (roc->points[k].tpr));
  g_string_append (s, "\"/>\n");

  g_string_append_printf (s, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"5\" "
      "fill=\"#e66100\" stroke=\"white\" stroke-width=\"1.5\"/>\n",
      svg_x (best->fpr), svg_y (best->tpr));
  if (at_model)
    g_string_append_printf (s, "<rect x=\"%.2f\" y=\"%.2f\" width=\"10\" "
        "height=\"10\" fill=\"#2b9348\" stroke=\"white\" "
        "stroke-width=\"1.5\"/>\n",
        svg_x (at_model->fpr) - 5, svg_y (at_model->tpr) - 5);

  /* The legend, in the lower right corner where a useful curve is not. */
  g_string_append_printf (s,
      "<g transform=\"translate(%d %d)\">\n"
      "<rect width=\"236\" height=\"%d\" fill=\"white\" "
      "fill-opacity=\"0.9\" stroke=\"#999\"/>\n"
      "<line x1=\"10\" y1=\"18\" x2=\"34\" y2=\"18\" stroke=\"#1f5fb4\" "
      "stroke-width=\"2.5\"/>"
      "<text x=\"42\" y=\"23\">AUROC %.4f</text>\n"
      "<circle cx=\"22\" cy=\"42\" r=\"5\" fill=\"#e66100\"/>"
      "<text x=\"42\" y=\"47\">best F1 %.3f</text>\n",
      LEFT + PLOT - 246, TOP + PLOT - 12 - 24 * legend_rows,
      24 * legend_rows + 4, roc->auroc, roc->best_f1);
  if (at_model)
    g_string_append_printf (s,
        "<rect x=\"17\" y=\"61\" width=\"10\" height=\"10\" "
        "fill=\"#2b9348\"/><text x=\"42\" y=\"71\">model threshold, F1 "
        "%.3f</text>\n", anogan_roc_point_f1 (roc, at_model));
  g_string_append_printf (s,
      "<text x=\"10\" y=\"%d\" font-size=\"12\" fill=\"#444\">%"
      G_GSIZE_FORMAT " anomalous, %" G_GSIZE_FORMAT " normal</text>\n"
      "</g>\n</svg>\n", 24 * legend_rows - 5, roc->n_positives,
      roc->n_negatives);
  return g_string_free (s, FALSE);
}

/* ---- --mosaic ----------------------------------------------------------- */

/* A 3x5 font, enough for scores and row titles: each glyph is five rows
 * of three pixels, '#' drawn. */
typedef struct {
  char c;
  const char *rows;
} Glyph;

static const Glyph font[] = {
  { '0', "###" "#.#" "#.#" "#.#" "###" },
  { '1', ".#." "##." ".#." ".#." "###" },
  { '2', "###" "..#" "###" "#.." "###" },
  { '3', "###" "..#" "###" "..#" "###" },
  { '4', "#.#" "#.#" "###" "..#" "..#" },
  { '5', "###" "#.." "###" "..#" "###" },
  { '6', "###" "#.." "###" "#.#" "###" },
  { '7', "###" "..#" "..#" "..#" "..#" },
  { '8', "###" "#.#" "###" "#.#" "###" },
  { '9', "###" "#.#" "###" "..#" "###" },
  { '.', "..." "..." "..." "..." ".#." },
  { '-', "..." "..." "###" "..." "..." },
  { '+', "..." ".#." "###" ".#." "..." },
  { ':', "..." ".#." "..." ".#." "..." },
  { '(', "..#" ".#." ".#." ".#." "..#" },
  { ')', "#.." ".#." ".#." ".#." "#.." },
  { 'A', ".#." "#.#" "###" "#.#" "#.#" },
  { 'B', "##." "#.#" "##." "#.#" "##." },
  { 'C', ".##" "#.." "#.." "#.." ".##" },
  { 'D', "##." "#.#" "#.#" "#.#" "##." },
  { 'E', "###" "#.." "##." "#.." "###" },
  { 'F', "###" "#.." "##." "#.." "#.." },
  { 'G', ".##" "#.." "#.#" "#.#" ".##" },
  { 'H', "#.#" "#.#" "###" "#.#" "#.#" },
  { 'I', "###" ".#." ".#." ".#." "###" },
  { 'J', "..#" "..#" "..#" "#.#" ".#." },
  { 'K', "#.#" "#.#" "##." "#.#" "#.#" },
  { 'L', "#.." "#.." "#.." "#.." "###" },
  { 'M', "#.#" "###" "###" "#.#" "#.#" },
  { 'N', "##." "#.#" "#.#" "#.#" "#.#" },
  { 'O', ".#." "#.#" "#.#" "#.#" ".#." },
  { 'P', "##." "#.#" "##." "#.." "#.." },
  { 'Q', ".#." "#.#" "#.#" "##." ".##" },
  { 'R', "##." "#.#" "##." "#.#" "#.#" },
  { 'S', ".##" "#.." ".#." "..#" "##." },
  { 'T', "###" ".#." ".#." ".#." ".#." },
  { 'U', "#.#" "#.#" "#.#" "#.#" "###" },
  { 'V', "#.#" "#.#" "#.#" "#.#" ".#." },
  { 'W', "#.#" "#.#" "###" "###" "#.#" },
  { 'X', "#.#" "#.#" ".#." "#.#" "#.#" },
  { 'Y', "#.#" "#.#" ".#." ".#." ".#." },
  { 'Z', "###" "..#" ".#." "#.." "###" },
};

/* Each font pixel is drawn as a FONT_SCALE square; glyphs are 3 + 1
 * pixels apart. */
#define FONT_SCALE 2
#define GLYPH_ADVANCE (4 * FONT_SCALE)
#define TEXT_HEIGHT (5 * FONT_SCALE)

/* Layout of the mosaic, in output pixels. */
#define MOSAIC_MARGIN 8
#define MOSAIC_GAP 2
#define MOSAIC_SEPARATOR 6
#define MOSAIC_COLUMNS 8
#define MOSAIC_TARGET 96
#define COLOURBAR_WIDTH 256
#define COLOURBAR_X (MOSAIC_MARGIN + 11 * GLYPH_ADVANCE)

static const guint8 background[3] = { 24, 24, 28 };
static const guint8 separator[3] = { 90, 90, 100 };
static const guint8 ink[3] = { 240, 240, 240 };

/* Inferno (matplotlib's perceptually uniform map, by Smith and van der
 * Walt) sampled at nine points; linear between them it stays within 16
 * levels of the real map. */
static const guint8 inferno[9][3] = {
  { 0, 0, 4 }, { 33, 12, 74 }, { 87, 16, 110 }, { 138, 34, 106 },
  { 188, 55, 84 }, { 228, 90, 49 }, { 249, 142, 9 }, { 249, 203, 53 },
  { 252, 255, 164 },
};

static void
colormap (double t, guint8 *rgb)
{
  double x, f;
  int i;

  t = isnan (t) ? 1.0 : CLAMP (t, 0.0, 1.0);
  x = t * 8.0;
  i = MIN ((int) x, 7);
  f = x - i;
  for (int k = 0; k < 3; k++)
    rgb[k] = (guint8) lrint (inferno[i][k] + f *
        (inferno[i + 1][k] - inferno[i][k]));
}

typedef struct {
  guint8 *pixels;
  int row_stride;
  int width;
  int height;
} Canvas;

static void
fill_rect (Canvas *c, int x, int y, int w, int h, const guint8 *rgb)
{
  for (int j = MAX (y, 0); j < MIN (y + h, c->height); j++)
    for (int i = MAX (x, 0); i < MIN (x + w, c->width); i++)
      memcpy (c->pixels + (gsize) j * c->row_stride + i * 3, rgb, 3);
}

static const char *
glyph_of (char c)
{
  for (gsize i = 0; i < G_N_ELEMENTS (font); i++)
    if (font[i].c == g_ascii_toupper (c))
      return font[i].rows;
  return NULL;
}

/* Unknown characters, and spaces, leave a gap. */
static void
draw_text (Canvas *c, int x, int y, const char *text)
{
  for (; *text; text++, x += GLYPH_ADVANCE) {
    const char *rows = glyph_of (*text);
    if (!rows)
      continue;
    for (int j = 0; j < 5; j++)
      for (int i = 0; i < 3; i++)
        if (rows[j * 3 + i] == '#')
          fill_rect (c, x + i * FONT_SCALE, y + j * FONT_SCALE, FONT_SCALE,
              FONT_SCALE, ink);
  }
}

/* A score in at most seven characters, so that it fits under a cell. */
static char *
format_score (double v)
{
  if (!isfinite (v))
    return g_strdup (v > 0 ? "INF" : "-INF");
  if (fabs (v) >= 1e6)
    return g_strdup_printf ("%.1e", v);
  if (fabs (v) >= 1e4)
    return g_strdup_printf ("%.0f", v);
  if (fabs (v) >= 100)
    return g_strdup_printf ("%.1f", v);
  return g_strdup_printf ("%.3g", v);
}

/* One row of the mosaic: which set, which pictures, and its title. */
typedef struct {
  const Set *set;
  guint *order;
  guint n;
  const char *title;
} MosaicRow;

static int
compare_by_score (gconstpointer a, gconstpointer b, gpointer user_data)
{
  const Set *set = user_data;
  double x = score_of (set, *(const guint *) a);
  double y = score_of (set, *(const guint *) b);

  return (x > y) - (x < y);
}

/* The pictures of @set by decreasing score (@highest) or increasing. */
static guint *
ranked (const Set *set, gboolean highest)
{
  const guint n = set->pictures->len;
  guint *order = g_new (guint, n);

  for (guint i = 0; i < n; i++)
    order[i] = i;
  g_qsort_with_data (order, (gint) n, sizeof *order, compare_by_score,
      (gpointer) set);
  if (highest)
    for (guint i = 0; i < n / 2; i++) {
      guint t = order[i];
      order[i] = order[n - 1 - i];
      order[n - 1 - i] = t;
    }
  return order;
}

/* Draws @image scaled by @scale with nearest neighbour at (x, y); returns
 * the width drawn. */
static int
draw_picture (Canvas *c, int x, int y, const AnoganToolImage *image,
    double scale)
{
  const int w = (int) floor (image->width * scale);
  const int h = (int) floor (image->height * scale);

  for (int j = 0; j < h; j++)
    for (int i = 0; i < w; i++) {
      int sx = MIN ((int) (i / scale), image->width - 1);
      int sy = MIN ((int) (j / scale), image->height - 1);
      guint8 rgb[3];

      for (int k = 0; k < 3; k++)
        rgb[k] = sample_at (image, sx, sy, k);
      fill_rect (c, x + i, y + j, 1, 1, rgb);
    }
  return w;
}

static void
draw_map (Canvas *c, int x, int y, const float *map, int width, int height,
    double scale, double top)
{
  const int w = (int) floor (width * scale);
  const int h = (int) floor (height * scale);

  for (int j = 0; j < h; j++)
    for (int i = 0; i < w; i++) {
      int sx = MIN ((int) (i / scale), width - 1);
      int sy = MIN ((int) (j / scale), height - 1);
      guint8 rgb[3];

      colormap (top > 0 ? map[(gsize) sy * width + sx] / top : 0.0, rgb);
      fill_rect (c, x + i, y + j, 1, 1, rgb);
    }
}

/* The colour scale of the residual maps: one for the whole mosaic, so
 * that cells can be compared, set at a high quantile of the pixels shown
 * so that a few extreme pixels do not darken everything else. */
static double
residual_top (const MosaicRow *rows, int n_rows)
{
  g_autoptr (GArray) values = g_array_new (FALSE, FALSE, sizeof (double));
  double top = 0.0;

  for (int r = 0; r < n_rows; r++)
    for (guint k = 0; k < rows[r].n; k++) {
      const AnoganToolScore *s = &rows[r].set->scores[rows[r].order[k]];
      gsize n = (gsize) s->tiling.width * s->tiling.height;
      for (gsize i = 0; i < n; i++) {
        double v = s->residual_map[i];
        if (isfinite (v))
          g_array_append_val (values, v);
      }
    }
  if (values->len == 0 || !anogan_metrics_quantile ((double *) values->data,
          values->len, 0.995, &top, NULL))
    return 0.0;
  return top;
}

static GdkPixbuf *
make_mosaic (const Evaluation *ev)
{
  const Set *a = &ev->anomalous, *n = &ev->normal;
  g_autofree guint *a_high = ranked (a, TRUE);
  g_autofree guint *a_low = ranked (a, FALSE);
  g_autofree guint *n_high = ranked (n, TRUE);
  g_autofree guint *n_low = ranked (n, FALSE);
  /* A set too small for two full rows is split between them, so that no
   * picture shows twice. */
  const guint a_top = MIN (MOSAIC_COLUMNS, (a->pictures->len + 1) / 2);
  const guint a_bottom = MIN (MOSAIC_COLUMNS, a->pictures->len / 2);
  const guint n_top = MIN (MOSAIC_COLUMNS, (n->pictures->len + 1) / 2);
  const guint n_bottom = MIN (MOSAIC_COLUMNS, n->pictures->len / 2);
  const MosaicRow rows[] = {
    { a, a_high, a_top, "HITS: HIGHEST-SCORED ANOMALOUS" },
    { a, a_low, a_bottom, "MISSES: LOWEST-SCORED ANOMALOUS" },
    { n, n_high, n_top, "FALSE ALARMS: HIGHEST-SCORED NORMAL" },
    { n, n_low, n_bottom, "LOWEST-SCORED NORMAL" },
  };
  int max_side = 1, pic_w = 1, pic_h = 1, cell_w, cell_h, row_h, columns = 1;
  double scale, top;
  int width, height, y;
  g_autofree char *top_label = NULL;
  GdkPixbuf *out;
  Canvas c;

  for (int r = 0; r < 4; r++) {
    columns = MAX (columns, (int) rows[r].n);
    for (guint k = 0; k < rows[r].n; k++) {
      const AnoganToolImage *im = &picture_of (rows[r].set,
          rows[r].order[k])->image;
      pic_w = MAX (pic_w, im->width);
      pic_h = MAX (pic_h, im->height);
    }
  }
  /* Small pictures are enlarged by a whole factor, so that every source
   * pixel is a square of the same size; large ones are shrunk. */
  max_side = MAX (pic_w, pic_h);
  scale = max_side <= MOSAIC_TARGET ? floor ((double) MOSAIC_TARGET /
      max_side) : max_side > 2 * MOSAIC_TARGET ?
      2.0 * MOSAIC_TARGET / max_side : 1.0;
  pic_w = MAX (1, (int) floor (pic_w * scale));
  pic_h = MAX (1, (int) floor (pic_h * scale));

  cell_w = MAX (2 * pic_w + MOSAIC_GAP, 7 * GLYPH_ADVANCE);
  cell_h = pic_h + MOSAIC_GAP + TEXT_HEIGHT;
  row_h = TEXT_HEIGHT + MOSAIC_GAP * 2 + cell_h + MOSAIC_SEPARATOR;
  width = 2 * MOSAIC_MARGIN + columns * cell_w +
      (columns - 1) * MOSAIC_SEPARATOR;
  /* Wide enough for the longest title and the colour scale. */
  width = MAX (width, 2 * MOSAIC_MARGIN + 36 * GLYPH_ADVANCE);
  width = MAX (width, COLOURBAR_X + COLOURBAR_WIDTH + 9 * GLYPH_ADVANCE +
      MOSAIC_MARGIN);
  height = MOSAIC_MARGIN + 4 * row_h + TEXT_HEIGHT + MOSAIC_MARGIN;

  out = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, width, height);
  if (!out)
    return NULL;
  c.pixels = gdk_pixbuf_get_pixels (out);
  c.row_stride = gdk_pixbuf_get_rowstride (out);
  c.width = width;
  c.height = height;
  fill_rect (&c, 0, 0, width, height, background);

  top = residual_top (rows, 4);
  y = MOSAIC_MARGIN;
  for (int r = 0; r < 4; r++) {
    int x = MOSAIC_MARGIN;

    draw_text (&c, x, y, rows[r].title);
    y += TEXT_HEIGHT + 2 * MOSAIC_GAP;
    for (guint k = 0; k < rows[r].n; k++, x += cell_w + MOSAIC_SEPARATOR) {
      guint i = rows[r].order[k];
      const AnoganToolScore *s = &rows[r].set->scores[i];
      g_autofree char *label = format_score (score_of (rows[r].set, i));

      const int shown_w = draw_picture (&c, x, y,
          &picture_of (rows[r].set, i)->image, scale);

      draw_map (&c, x + shown_w + MOSAIC_GAP, y, s->residual_map,
          s->tiling.width, s->tiling.height, scale, top);
      draw_text (&c, x, y + pic_h + MOSAIC_GAP, label);
      if (k + 1 < rows[r].n)
        fill_rect (&c, x + cell_w + MOSAIC_SEPARATOR / 2 - 1, y, 2, cell_h,
            separator);
    }
    y += cell_h + MOSAIC_SEPARATOR / 2;
    fill_rect (&c, MOSAIC_MARGIN, y - 1, width - 2 * MOSAIC_MARGIN, 2,
        separator);
    y += MOSAIC_SEPARATOR / 2;
  }

  /* The colour scale of the maps, from no residual to the top of the
   * scale they share. */
  draw_text (&c, MOSAIC_MARGIN, y, "RESIDUAL 0");
  for (int i = 0; i < COLOURBAR_WIDTH; i++) {
    guint8 rgb[3];
    colormap ((double) i / (COLOURBAR_WIDTH - 1), rgb);
    fill_rect (&c, COLOURBAR_X + i, y, 1, TEXT_HEIGHT, rgb);
  }
  top_label = format_score (top);
  draw_text (&c, COLOURBAR_X + COLOURBAR_WIDTH + GLYPH_ADVANCE, y,
      top_label);
  return out;
}

/* ---- the report --------------------------------------------------------- */

static double
per_second (double n, double seconds)
{
  return seconds > 0.0 ? n / seconds : NAN;
}

/* Milliseconds of scoring per one of @n things. */
static double
milliseconds_each (double seconds, double n)
{
  return n > 0.0 ? 1000.0 * seconds / n : NAN;
}

/* A float option as the user wrote it: 0.1f as 0.1, not 0.10000000149. */
static double
as_written (float value)
{
  char text[G_ASCII_DTOSTR_BUF_SIZE];

  g_ascii_formatd (text, sizeof text, "%.7g", value);
  return g_ascii_strtod (text, NULL);
}

static double
effective_lambda (const Evaluation *ev)
{
  return as_written (ev->options.lambda < 0.0f ? ev->model->lambda :
      ev->options.lambda);
}

/* TP / (TP + FP), undefined when nothing is called anomalous. */
static double
precision_of (const AnoganRocPoint *p)
{
  return p->true_positives + p->false_positives ? p->precision : NAN;
}

/* The metrics that need no threshold, in the report and in each point of
 * its trace. */
static void
add_separation (JsonBuilder *b, const AnoganRoc *roc)
{
  anogan_tool_json_add_number (b, "auroc", roc->auroc);
  anogan_tool_json_add_number (b, "average_precision",
      roc->average_precision);
  anogan_tool_json_add_number (b, "best_f1", roc->best_f1);
  anogan_tool_json_add_number (b, "best_f1_threshold",
      roc->best_f1_threshold);
}

static void
print_json_report (const Evaluation *ev)
{
  const AnoganRoc *roc = ev->roc;
  const AnoganRocPoint *best = anogan_roc_at_threshold (roc,
      roc->best_f1_threshold);
  const AnoganRocPoint *at_model = anogan_roc_at_threshold (roc,
      ev->threshold);
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autofree char *text = NULL;
  g_autofree char *model = g_filename_display_name (ev->args->model_path);
  g_autofree char *normal = g_filename_display_name (ev->normal.source);
  g_autofree char *anomalous = g_filename_display_name (ev->anomalous.source);
  const guint pictures = ev->normal.pictures->len +
      ev->anomalous.pictures->len;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "model");
  json_builder_add_string_value (b, model);
  json_builder_set_member_name (b, "model_name");
  json_builder_add_string_value (b, ev->model_name);
  json_builder_set_member_name (b, "normal");
  json_builder_add_string_value (b, normal);
  json_builder_set_member_name (b, "anomalous");
  json_builder_add_string_value (b, anomalous);
  json_builder_set_member_name (b, "class");
  if (ev->args->class_index != NO_CLASS)
    json_builder_add_int_value (b, ev->args->class_index);
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "n_normal");
  json_builder_add_int_value (b, ev->normal.pictures->len);
  json_builder_set_member_name (b, "n_anomalous");
  json_builder_add_int_value (b, ev->anomalous.pictures->len);

  json_builder_set_member_name (b, "mode");
  json_builder_add_string_value (b, anogan_mode_name (ev->mode));
  json_builder_set_member_name (b, "iterations");
  json_builder_add_int_value (b, ev->options.iterations);
  json_builder_set_member_name (b, "candidates");
  json_builder_add_int_value (b, ev->options.candidates);
  anogan_tool_json_add_number (b, "lambda", effective_lambda (ev));
  anogan_tool_json_add_number (b, "learning_rate",
      as_written (ev->options.learning_rate));
  json_builder_set_member_name (b, "loss");
  json_builder_add_string_value (b, ev->options.loss == ANOGAN_LOSS_L2 ?
      "l2" : "l1");
  json_builder_set_member_name (b, "tiles");
  json_builder_add_int_value (b, (gint64) ev->tiles);
  json_builder_set_member_name (b, "patch_iterations");
  json_builder_add_int_value (b, (gint64) ev->patch_iterations);

  add_separation (b, roc);
  anogan_tool_json_add_number (b, "best_f1_precision", precision_of (best));
  anogan_tool_json_add_number (b, "best_f1_recall", best->tpr);
  anogan_tool_json_add_number (b, "threshold", ev->threshold);
  anogan_tool_json_add_number (b, "threshold_f1", at_model ?
      anogan_roc_point_f1 (roc, at_model) : NAN);
  anogan_tool_json_add_number (b, "threshold_precision", at_model ?
      precision_of (at_model) : NAN);
  anogan_tool_json_add_number (b, "threshold_recall", at_model ?
      at_model->tpr : NAN);
  if (ev->args->masks_dir)
    anogan_tool_json_add_number (b, "pixel_auroc", ev->pixel_auroc);

  anogan_tool_json_add_number (b, "seconds", ev->seconds);
  anogan_tool_json_add_number (b, "pictures_per_second",
      per_second (pictures, ev->seconds));
  anogan_tool_json_add_number (b, "ms_per_picture",
      milliseconds_each (ev->seconds, pictures));
  anogan_tool_json_add_number (b, "ms_per_tile",
      milliseconds_each (ev->seconds, ev->tiles));
  anogan_tool_json_add_number (b, "patch_iterations_per_second",
      per_second (ev->patch_iterations, ev->seconds));
  json_builder_set_member_name (b, "threads");
  json_builder_add_int_value (b, ev->options.threads);
  if (ev->trace_steps) {
    json_builder_set_member_name (b, "trace");
    json_builder_begin_array (b);
    for (guint k = 0; k < ev->trace_steps->len; k++) {
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "iterations");
      json_builder_add_int_value (b, g_array_index (ev->trace_steps, int, k));
      add_separation (b, ev->trace[k]);
      json_builder_end_object (b);
    }
    json_builder_end_array (b);
  }
  if (ev->args->mosaic_path) {
    json_builder_set_member_name (b, "mosaic_width");
    json_builder_add_int_value (b, ev->mosaic_width);
    json_builder_set_member_name (b, "mosaic_height");
    json_builder_add_int_value (b, ev->mosaic_height);
  }
  json_builder_end_object (b);

  text = anogan_tool_json_to_line (b);
  printf ("%s\n", text);
}

static void
print_text_report (const Evaluation *ev)
{
  const AnoganRoc *roc = ev->roc;
  const AnoganRocPoint *best = anogan_roc_at_threshold (roc,
      roc->best_f1_threshold);
  const AnoganRocPoint *at_model = anogan_roc_at_threshold (roc,
      ev->threshold);
  g_autofree char *model = g_filename_display_name (ev->args->model_path);
  g_autofree char *normal = g_filename_display_name (ev->normal.source);
  g_autofree char *anomalous = g_filename_display_name (ev->anomalous.source);
  const guint pictures = ev->normal.pictures->len +
      ev->anomalous.pictures->len;
  const int k = ev->args->class_index;

  printf ("model: %s (%s)\n", model, ev->model_name);
  printf ("normal: %s, %u pictures", normal, ev->normal.pictures->len);
  if (k != NO_CLASS)
    printf (" of class %d", k);
  printf ("\nanomalous: %s, %u pictures", anomalous,
      ev->anomalous.pictures->len);
  if (k != NO_CLASS)
    printf (" of every class but %d", k);
  printf ("\nsearch: %s mode, %d iterations, lambda %g, %s residual, lr %g, "
      "%" G_GUINT64_FORMAT " tiles\n", anogan_mode_name (ev->mode),
      ev->options.iterations, effective_lambda (ev),
      ev->options.loss == ANOGAN_LOSS_L2 ? "l2" : "l1",
      ev->options.learning_rate, ev->tiles);
  printf ("AUROC: %.4f\n", roc->auroc);
  printf ("average precision: %.4f\n", roc->average_precision);
  printf ("best F1: %.4f at threshold %.6g (precision %.4f, recall %.4f)\n",
      roc->best_f1, roc->best_f1_threshold, precision_of (best), best->tpr);
  if (at_model)
    printf ("model threshold: %.6g (F1 %.4f, precision %.4f, recall %.4f)\n",
        ev->threshold, anogan_roc_point_f1 (roc, at_model),
        precision_of (at_model), at_model->tpr);
  else if (ev->mode == ANOGAN_MODE_OPTIMISE)
    printf ("model threshold: none\n");
  else
    printf ("model threshold: none for --mode %s\n",
        anogan_mode_name (ev->mode));
  if (ev->args->masks_dir) {
    if (isnan (ev->pixel_auroc))
      printf ("pixel AUROC: undefined (no defect pixel in the masks)\n");
    else
      printf ("pixel AUROC: %.4f\n", ev->pixel_auroc);
  }
  printf ("time: %.2f s scoring, %.2f pictures/s (%.3g ms a picture, %.3g ms "
      "a tile), %.0f patch-iterations/s on %d thread%s\n", ev->seconds,
      per_second (pictures, ev->seconds),
      milliseconds_each (ev->seconds, pictures),
      milliseconds_each (ev->seconds, ev->tiles),
      per_second (ev->patch_iterations, ev->seconds), ev->options.threads,
      ev->options.threads == 1 ? "" : "s");
  if (ev->trace_steps) {
    printf ("after t steps of the same search:\n"
        "  %6s  %6s  %6s  %7s\n", "t", "AUROC", "AP", "best F1");
    for (guint i = 0; i < ev->trace_steps->len; i++)
      printf ("  %6d  %6.4f  %6.4f  %7.4f\n",
          g_array_index (ev->trace_steps, int, i), ev->trace[i]->auroc,
          ev->trace[i]->average_precision, ev->trace[i]->best_f1);
  }
  if (ev->args->mosaic_path)
    printf ("mosaic: %dx%d\n", ev->mosaic_width, ev->mosaic_height);
}

/* ---- main --------------------------------------------------------------- */

/* What reports call the model: its card's name, or its file's. */
static char *
model_name (const AnoganModel *model, const char *path)
{
  if (model->metadata && json_object_has_member (model->metadata, "name")) {
    JsonNode *name = json_object_get_member (model->metadata, "name");
    if (JSON_NODE_HOLDS_VALUE (name) &&
        json_node_get_value_type (name) == G_TYPE_STRING)
      return g_strdup (json_node_get_string (name));
  }
  return g_filename_display_basename (path);
}

static gboolean
write_outputs (Evaluation *ev, const char *svg, GdkPixbuf *mosaic,
    GError **error)
{
  const Arguments *args = ev->args;

  if (args->scores_path && !write_scores (ev, args->scores_path, error))
    return FALSE;
  if (svg && !write_file (args->roc_path, svg, strlen (svg), error))
    return FALSE;
  if (mosaic && !gdk_pixbuf_save (mosaic, args->mosaic_path, "png", error,
          NULL)) {
    g_prefix_error (error, "%s: ", args->mosaic_path);
    return FALSE;
  }
  return TRUE;
}

static int
evaluate (const Arguments *args, const AnoganSearchOptions *options,
    GArray *trace_steps)
{
  g_autoptr (AnoganModel) model = NULL;
  g_autoptr (AnoganToolScorer) scorer = NULL;
  g_autofree char *name = NULL;
  g_autofree char *svg = NULL;
  g_autoptr (GdkPixbuf) mosaic = NULL;
  Evaluation ev = { 0 };
  GError *error = NULL;
  int status = EXIT_SUCCESS;

  ev.args = args;
  ev.pixel_auroc = NAN;
  ev.trace_steps = trace_steps;
  ev.mode = anogan_tool_score_args_get_mode (&args->score);
  model = anogan_model_load (args->model_path, &error);
  if (!model)
    goto failed;
  name = model_name (model, args->model_path);
  ev.model = model;
  ev.model_name = name;
  ev.threshold = anogan_tool_mode_threshold (model, ev.mode);

  scorer = anogan_tool_scorer_new (model, options, args->score.stride,
      &error);
  if (scorer)
    scorer->trace = trace_steps != NULL;
  if (!scorer ||
      !load_set (&ev.normal, args->normal_source, FALSE, args, model,
          &error) ||
      !load_set (&ev.anomalous, args->anomalous_source, TRUE, args, model,
          &error))
    goto failed;
  ev.options = *anogan_search_get_options (scorer->search);

  if (!score_sets (&ev, scorer, &error) || !compute_roc (&ev, &error) ||
      (trace_steps && !compute_trace (&ev, &error)) ||
      (args->masks_dir && !compute_pixel_auroc (&ev, &error)))
    goto failed;

  if (args->roc_path)
    svg = make_roc_svg (&ev);
  if (args->mosaic_path) {
    mosaic = make_mosaic (&ev);
    if (!mosaic) {
      g_set_error (&error, G_FILE_ERROR, G_FILE_ERROR_NOMEM,
          "%s: no memory for the mosaic", args->mosaic_path);
      goto failed;
    }
    ev.mosaic_width = gdk_pixbuf_get_width (mosaic);
    ev.mosaic_height = gdk_pixbuf_get_height (mosaic);
  }

  if (args->json)
    print_json_report (&ev);
  else
    print_text_report (&ev);
  fflush (stdout);
  if (!write_outputs (&ev, svg, mosaic, &error))
    goto failed;
  goto done;

failed:
  g_printerr ("anogan-eval: %s\n", error->message);
  status = anogan_tool_error_is_bad_argument (error) ?
      EXIT_BAD_ARGUMENTS : EXIT_FAILURE;
  g_error_free (error);
done:
  g_clear_pointer (&ev.roc, anogan_roc_free);
  for (guint k = 0; ev.trace && k < trace_steps->len; k++)
    g_clear_pointer (&ev.trace[k], anogan_roc_free);
  g_free (ev.trace);
  set_clear (&ev.normal);
  set_clear (&ev.anomalous);
  return status;
}

int
main (int argc, char **argv)
{
  AnoganSearchOptions options;
  Arguments args = { NULL };
  g_autoptr (GArray) trace_steps = NULL;
  GError *error = NULL;
  int status;

  anogan_search_options_init (&options);
  anogan_tool_score_args_init (&args.score);
  args.class_index = NO_CLASS;

  if (parse_arguments (&args, &argc, &argv, &error) &&
      check_arguments (&args, &options, &trace_steps, &error))
    status = evaluate (&args, &options, trace_steps);
  else
    status = EXIT_BAD_ARGUMENTS;

  if (error) {
    g_printerr ("anogan-eval: %s (see --help)\n", error->message);
    g_error_free (error);
  }
  arguments_clear (&args);
  return status;
}
