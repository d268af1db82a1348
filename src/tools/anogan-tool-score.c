/* anogan-tool-score.c: scoring pictures, shared by the command-line tools
 *
 * Copyright (C) 2026 the gst-anogan authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * anogan-score, anogan-eval and anogan-train's calibration must score a
 * picture the same way, with the same options, or their numbers could not
 * be compared: a picture is cut into tiles, every tile is searched, and
 * the picture's score is its worst tile's.
 */
#include "anogan-tool-score.h"

#include <math.h>
#include <string.h>

#include <gio/gio.h>

/* Floats of patches searched in one anogan_search_run() call: enough to
 * keep every worker busy on small pictures, few enough that patches and
 * residual maps of a chunk stay at tens of megabytes. */
#define CHUNK_FLOATS (1 << 22)

/* ---- command line ------------------------------------------------------- */

/**
 * anogan_tool_score_args_init:
 * @args: (out caller-allocates): the options
 *
 * Sets the defaults of anogan_search_options_init(), and a stride of one
 * tile.
 */
void
anogan_tool_score_args_init (AnoganToolScoreArgs *args)
{
  AnoganSearchOptions options;

  anogan_search_options_init (&options);
  memset (args, 0, sizeof *args);
  args->iterations = ANOGAN_TOOL_ITERATIONS_OF_MODE;
  args->learning_rate = options.learning_rate;
  args->lambda = options.lambda;
  args->seed = (gint64) options.seed;
  args->threads = options.threads;
  args->batch = options.batch;
  args->stride = ANOGAN_TOOL_STRIDE_OF_TILE;
}

/**
 * anogan_tool_score_args_clear:
 * @args: the options
 *
 * Frees the strings the option parser stored.
 */
void
anogan_tool_score_args_clear (AnoganToolScoreArgs *args)
{
  g_clear_pointer (&args->mode, g_free);
  g_clear_pointer (&args->loss, g_free);
  g_clear_pointer (&args->z_init, g_free);
}

/**
 * anogan_tool_score_args_add_entries:
 * @args: where the parser stores the options; must outlive @context
 * @context: the tool's option context
 * @seed_help: (nullable): the help of --seed, when the tool seeds more
 *   than the random starts; a static string
 *
 * Adds --mode, --iterations, --lr, --lambda, --loss, --z-init, --candidates,
 * --seed, --threads,
 * --batch and --stride to the main group of @context, after the entries
 * already there.
 */
void
anogan_tool_score_args_add_entries (AnoganToolScoreArgs *args,
    GOptionContext *context, const char *seed_help)
{
  const GOptionEntry entries[] = {
    { "mode", 0, 0, G_OPTION_ARG_STRING, &args->mode,
      "How z is found: optimise (AnoGAN), encoder (f-AnoGAN, one pass) "
      "or hybrid (the encoder, then --iterations steps); the encoder "
      "modes need a model with an encoder (default: optimise)",
      "optimise|encoder|hybrid" },
    { "iterations", 'n', 0, G_OPTION_ARG_INT, &args->iterations,
      "Adam steps on z per tile (default: 500; 10 in hybrid mode)", "N" },
    { "lr", 0, 0, G_OPTION_ARG_DOUBLE, &args->learning_rate,
      "Adam's learning rate (default: 0.01)", "F" },
    { "lambda", 0, 0, G_OPTION_ARG_DOUBLE, &args->lambda,
      "Weight of the discrimination loss, 0 to 1 (default: the model's)",
      "F" },
    { "loss", 0, 0, G_OPTION_ARG_STRING, &args->loss,
      "Residual loss: l1 (the paper's) or l2 (default: l1)", "l1|l2" },
    { "z-init", 0, 0, G_OPTION_ARG_STRING, &args->z_init,
      "Where z starts: zero, normal or uniform (default: zero)",
      "zero|normal|uniform" },
    { "candidates", 0, 0, G_OPTION_ARG_INT, &args->candidates,
      "Start each tile from the best of K fixed points of the latent "
      "space instead (default: 0, off)", "K" },
    { "seed", 0, 0, G_OPTION_ARG_INT64, &args->seed,
      seed_help ? seed_help : "Seed of random starts (default: 0)", "S" },
    { "threads", 'j', 0, G_OPTION_ARG_INT, &args->threads,
      "Worker threads, 0 for one per core (default: 0)", "T" },
    { "batch", 'b', 0, G_OPTION_ARG_INT, &args->batch,
      "Tiles per forward and backward pass (default: 8)", "B" },
    { "stride", 's', 0, G_OPTION_ARG_INT, &args->stride,
      "Step between tiles in pixels, 1 to the tile size (default: the "
      "tile size, no overlap)", "S" },
    { NULL }
  };

  /* GLib copies the entries; the strings they point to are static. */
  g_option_context_add_main_entries (context, entries, NULL);
}

/**
 * anogan_tool_bad_argument:
 * @error: return location for a #GError
 * @format: printf() format of the message
 * @...: its arguments
 *
 * Sets a %G_OPTION_ERROR_BAD_VALUE error, which the tools report as bad
 * arguments.
 *
 * Returns: %FALSE, to be returned in turn
 */
gboolean
anogan_tool_bad_argument (GError **error, const char *format, ...)
{
  va_list ap;

  va_start (ap, format);
  g_propagate_error (error, g_error_new_valist (G_OPTION_ERROR,
          G_OPTION_ERROR_BAD_VALUE, format, ap));
  va_end (ap);
  return FALSE;
}

/**
 * anogan_tool_error_is_bad_argument:
 * @error: an error
 *
 * Returns: whether @error comes from the command line: the option parser,
 *   anogan_tool_bad_argument(), or an option value the search refused
 */
gboolean
anogan_tool_error_is_bad_argument (const GError *error)
{
  return error->domain == G_OPTION_ERROR ||
      g_error_matches (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
}

/**
 * anogan_tool_score_args_to_options:
 * @args: the parsed options
 * @options: (inout): search options, filled in from @args
 * @error: return location for a #GError
 *
 * Checks the values that can be checked before a model is loaded and
 * turns them into search options.
 *
 * Returns: %FALSE on a bad value (a %G_OPTION_ERROR)
 */
gboolean
anogan_tool_score_args_to_options (const AnoganToolScoreArgs *args,
    AnoganSearchOptions *options, GError **error)
{
  if (!args->loss || g_str_equal (args->loss, "l1"))
    options->loss = ANOGAN_LOSS_L1;
  else if (g_str_equal (args->loss, "l2"))
    options->loss = ANOGAN_LOSS_L2;
  else
    return anogan_tool_bad_argument (error,
        "--loss must be l1 or l2, not \"%s\"", args->loss);

  AnoganMode mode = ANOGAN_MODE_OPTIMISE;

  if (args->mode && !anogan_mode_from_name (args->mode, &mode))
    return anogan_tool_bad_argument (error,
        "--mode must be optimise, encoder or hybrid, not \"%s\"",
        args->mode);
  if (mode == ANOGAN_MODE_ENCODER && args->iterations > 0)
    return anogan_tool_bad_argument (error, "--mode encoder takes no "
        "search steps: --mode hybrid runs --iterations after the encoder");
  if (mode != ANOGAN_MODE_OPTIMISE && (args->z_init || args->candidates))
    return anogan_tool_bad_argument (error, "--mode %s starts from the "
        "encoder: --z-init and --candidates are for --mode optimise",
        args->mode);

  if (!args->z_init || g_str_equal (args->z_init, "zero"))
    options->z_init = ANOGAN_Z_ZERO;
  else if (g_str_equal (args->z_init, "normal"))
    options->z_init = ANOGAN_Z_NORMAL;
  else if (g_str_equal (args->z_init, "uniform"))
    options->z_init = ANOGAN_Z_UNIFORM;
  else
    return anogan_tool_bad_argument (error,
        "--z-init must be zero, normal or uniform, not \"%s\"", args->z_init);

  if (args->iterations < 0 && args->iterations != ANOGAN_TOOL_ITERATIONS_OF_MODE)
    return anogan_tool_bad_argument (error,
        "--iterations must not be negative");
  if (!(args->learning_rate > 0.0) || !isfinite (args->learning_rate))
    return anogan_tool_bad_argument (error, "--lr must be a positive number");
  /* Negative values stand for the model's own lambda. */
  if (!(args->lambda <= 1.0))
    return anogan_tool_bad_argument (error,
        "--lambda must be between 0 and 1");
  if (args->candidates < 0)
    return anogan_tool_bad_argument (error,
        "--candidates must not be negative");
  if (args->seed < 0)
    return anogan_tool_bad_argument (error, "--seed must not be negative");
  if (args->threads < 0)
    return anogan_tool_bad_argument (error,
        "--threads must not be negative");
  if (args->batch < 1)
    return anogan_tool_bad_argument (error, "--batch must be at least 1");
  if (args->stride < 1 && args->stride != ANOGAN_TOOL_STRIDE_OF_TILE)
    return anogan_tool_bad_argument (error, "--stride must be at least 1");

  options->learning_rate = args->learning_rate;
  options->lambda = args->lambda;
  options->seed = args->seed;
  options->candidates = args->candidates;
  anogan_search_options_set_mode (options, mode,
      args->iterations == ANOGAN_TOOL_ITERATIONS_OF_MODE ? -1
      : args->iterations);
  options->threads = args->threads;
  options->batch = args->batch;
  return TRUE;
}

/**
 * anogan_tool_score_args_get_mode:
 * @args: options anogan_tool_score_args_to_options() accepted
 *
 * Returns: the mode --mode names, %ANOGAN_MODE_OPTIMISE without it
 */
AnoganMode
anogan_tool_score_args_get_mode (const AnoganToolScoreArgs *args)
{
  AnoganMode mode = ANOGAN_MODE_OPTIMISE;

  if (args->mode)
    anogan_mode_from_name (args->mode, &mode);
  return mode;
}

/**
 * anogan_tool_mode_threshold:
 * @model: a model
 * @mode: the search mode the scores come from
 *
 * The threshold calibrated for the scores of @mode.  A threshold only
 * means something for scores found the same way: the loss at E(x) is
 * higher than after 500 steps from the origin, so each mode has its own.
 * The optimising search's is the model's @threshold, the encoder modes'
 * the "threshold" of the card's calibration object for them
 * (anogan_model_get_calibration()).
 *
 * Returns: the threshold, or NAN when @model was not calibrated for @mode
 */
double
anogan_tool_mode_threshold (const AnoganModel *model, AnoganMode mode)
{
  JsonObject *card;
  JsonNode *node;
  GType type;
  double value;

  if (mode == ANOGAN_MODE_OPTIMISE)
    return model->threshold;
  card = anogan_model_get_calibration (model, anogan_mode_name (mode));
  node = card ? json_object_get_member (card, "threshold") : NULL;
  if (!node || !JSON_NODE_HOLDS_VALUE (node))
    return NAN;
  type = json_node_get_value_type (node);
  if (type == G_TYPE_DOUBLE)
    value = json_node_get_double (node);
  else if (type == G_TYPE_INT64)
    value = (double) json_node_get_int (node);
  else
    return NAN;
  return isfinite (value) ? value : NAN;
}

/* ---- scoring ------------------------------------------------------------ */

/**
 * anogan_tool_scorer_new:
 * @model: the model; must outlive the scorer
 * @options: the search options
 * @stride: step between tiles, or %ANOGAN_TOOL_STRIDE_OF_TILE
 * @error: return location for a #GError
 *
 * Sets up the search, with its worker threads, for scoring pictures.  A
 * stride larger than the tile is refused, since pixels between tiles
 * would never be looked at.
 *
 * Returns: (transfer full): the scorer, or %NULL on bad options
 */
AnoganToolScorer *
anogan_tool_scorer_new (const AnoganModel *model,
    const AnoganSearchOptions *options, int stride, GError **error)
{
  const int tile_h = model->input.dims[1];
  const int tile_w = model->input.dims[2];
  AnoganToolScorer *scorer;

  if (stride != ANOGAN_TOOL_STRIDE_OF_TILE && stride > MIN (tile_w, tile_h)) {
    anogan_tool_bad_argument (error, "--stride %d is larger than the "
        "model's %dx%d tiles: pixels between tiles would be missed", stride,
        tile_w, tile_h);
    return NULL;
  }

  /* Said here rather than by the search, in the command line's words. */
  if (options->z_init == ANOGAN_Z_ENCODER &&
      !anogan_model_has_encoder (model)) {
    g_autofree char *name = g_filename_display_name (model->name);
    anogan_tool_bad_argument (error, "%s has no encoder, and --mode "
        "encoder and --mode hybrid start from E(x): score it with --mode "
        "optimise", name);
    return NULL;
  }

  scorer = g_new0 (AnoganToolScorer, 1);
  scorer->model = model;
  scorer->stride_x = stride == ANOGAN_TOOL_STRIDE_OF_TILE ? tile_w : stride;
  scorer->stride_y = stride == ANOGAN_TOOL_STRIDE_OF_TILE ? tile_h : stride;
  scorer->search = anogan_search_new (model, options, error);
  if (!scorer->search) {
    g_free (scorer);
    return NULL;
  }
  return scorer;
}

/**
 * anogan_tool_scorer_free:
 * @scorer: (nullable): a scorer
 *
 * Stops the search's threads and frees @scorer; the model stays.
 */
void
anogan_tool_scorer_free (AnoganToolScorer *scorer)
{
  if (!scorer)
    return;
  g_clear_pointer (&scorer->search, anogan_search_free);
  g_free (scorer);
}

/* The tile that decides the picture's score: the highest, or the first
 * that is not a number, since a search that diverged is no evidence of
 * normality. */
static int
worst_tile (const AnoganPatchResult *results, int n)
{
  int worst = 0;

  for (int i = 0; i < n; i++) {
    if (isnan (results[i].score))
      return i;
    if (results[i].score > results[worst].score)
      worst = i;
  }
  return worst;
}

/* A picture's score after each step: the highest loss of its @n tiles
 * then, each tile's @length losses in a row of @traces.  As in
 * worst_tile(), a loss that is not a number wins. */
static float *
picture_trace (const float *traces, int n, int length)
{
  float *trace = g_memdup2 (traces, length * sizeof *trace);

  for (int i = 1; i < n; i++) {
    const float *tile = traces + (gsize) i * length;

    for (int t = 0; t < length; t++)
      if (!isnan (trace[t]) && (isnan (tile[t]) || tile[t] > trace[t]))
        trace[t] = tile[t];
  }
  return trace;
}

/* Where a chunk's search writes; allocated once for a run. */
typedef struct {
  float *patches;
  float *maps;
  float *traces;
  AnoganPatchResult *results;
} ChunkBuffers;

/* Searches the tiles of pictures [first, last) in one call and hands the
 * results to their scores. */
static gboolean
run_chunk (AnoganToolScorer *scorer, AnoganToolPicture *const *pictures,
    int first, int last, gboolean residual_maps, AnoganToolScore *scores,
    const ChunkBuffers *buffers, GError **error)
{
  const int channels = scorer->model->input.dims[0];
  const gsize patch = anogan_shape_numel (&scorer->model->input);
  const int length = anogan_search_get_options (scorer->search)->iterations
      + 1;
  float *patches = buffers->patches, *maps = buffers->maps;
  AnoganPatchResult *results = buffers->results;
  AnoganSearchOutputs out = { .results = results,
    .residual_map = residual_maps ? maps : NULL, .trace = buffers->traces };
  gsize offset = 0;

  for (int p = first; p < last; p++) {
    const AnoganToolImage *image = &pictures[p]->image;

    anogan_extract_patches (image->pixels, &image->layout, &scores[p].tiling,
        channels, patches + offset * patch);
    offset += anogan_tiling_count (&scores[p].tiling);
  }

  if (!anogan_search_run (scorer->search, (int) offset, patches, NULL, &out,
          error)) {
    if (last - first == 1)
      g_prefix_error (error, "%s: ", pictures[first]->name);
    else
      g_prefix_error (error, "%s to %s: ", pictures[first]->name,
          pictures[last - 1]->name);
    return FALSE;
  }

  offset = 0;
  for (int p = first; p < last; p++) {
    AnoganToolScore *s = &scores[p];
    const int n = anogan_tiling_count (&s->tiling);

    s->results = g_memdup2 (results + offset, n * sizeof *results);
    s->worst = worst_tile (s->results, n);
    if (residual_maps) {
      s->residual_map = g_new (float,
          (gsize) s->tiling.width * s->tiling.height);
      anogan_accumulate_residual (&s->tiling, channels,
          maps + offset * patch, s->residual_map);
    }
    if (buffers->traces) {
      s->trace = picture_trace (buffers->traces + offset * length, n, length);
      s->n_trace = length;
    }
    offset += n;
  }
  return TRUE;
}

/**
 * anogan_tool_scorer_run:
 * @scorer: a scorer
 * @pictures: (array length=n_pictures): the pictures
 * @n_pictures: how many
 * @residual_maps: whether to make each picture's residual map
 * @scores: (out caller-allocates) (array length=n_pictures): one per
 *   picture
 * @error: return location for a #GError
 *
 * Scores pictures: each is tiled with the scorer's stride, the last column
 * and row flush with the border, and every tile searched; with the
 * scorer's @trace, each picture's score after every step is kept too.
 * Tiles of several small pictures go to the search together, so that
 * batches and threads are used whatever the picture size; the results do
 * not depend on that grouping.
 *
 * Returns: %FALSE if a picture is smaller than a tile or the search
 *   fails, with an error naming the picture; @scores are then all empty
 */
gboolean
anogan_tool_scorer_run (AnoganToolScorer *scorer,
    AnoganToolPicture *const *pictures, int n_pictures,
    gboolean residual_maps, AnoganToolScore *scores, GError **error)
{
  const AnoganShape *in = &scorer->model->input;
  const gsize patch = anogan_shape_numel (in);
  const gsize chunk_limit = MAX (CHUNK_FLOATS / patch, 1);
  const gsize length = anogan_search_get_options (scorer->search)->iterations
      + 1;
  ChunkBuffers buffers = { NULL };
  gsize capacity = chunk_limit;
  gboolean ok = TRUE;

  memset (scores, 0, n_pictures * sizeof *scores);
  for (int p = 0; p < n_pictures && ok; p++) {
    const AnoganToolImage *image = &pictures[p]->image;

    /* Checked before the tiling, whose message would speak of one axis
     * only and as of a bad argument: a picture too small is bad data. */
    if (!anogan_tool_picture_check_size (pictures[p], in->dims[2],
            in->dims[1], "tile", error)) {
      ok = FALSE;
      break;
    }
    ok = anogan_tiling_init (&scores[p].tiling, image->width, image->height,
        in->dims[2], in->dims[1], scorer->stride_x, scorer->stride_y, error);
    if (!ok)
      g_prefix_error (error, "%s: ", pictures[p]->name);
    else
      capacity = MAX (capacity,
          (gsize) anogan_tiling_count (&scores[p].tiling));
  }

  if (ok && n_pictures > 0) {
    buffers.patches = g_new (float, capacity * patch);
    buffers.maps = residual_maps ? g_new (float, capacity * patch) : NULL;
    buffers.traces = scorer->trace ? g_new (float, capacity * length) : NULL;
    buffers.results = g_new0 (AnoganPatchResult, capacity);
  }

  for (int first = 0; ok && first < n_pictures;) {
    gsize tiles = anogan_tiling_count (&scores[first].tiling);
    int last = first + 1;

    while (last < n_pictures &&
        tiles + anogan_tiling_count (&scores[last].tiling) <= chunk_limit)
      tiles += anogan_tiling_count (&scores[last++].tiling);
    ok = run_chunk (scorer, pictures, first, last, residual_maps, scores,
        &buffers, error);
    first = last;
  }
  g_free (buffers.patches);
  g_free (buffers.maps);
  g_free (buffers.traces);
  g_free (buffers.results);

  if (!ok)
    for (int p = 0; p < n_pictures; p++)
      anogan_tool_score_clear (&scores[p]);
  return ok;
}

/**
 * anogan_tool_score_clear:
 * @score: a picture's score
 *
 * Frees what anogan_tool_scorer_run() put in @score and empties it.
 */
void
anogan_tool_score_clear (AnoganToolScore *score)
{
  anogan_tiling_clear (&score->tiling);
  g_free (score->results);
  g_free (score->residual_map);
  g_free (score->trace);
  memset (score, 0, sizeof *score);
}

/**
 * anogan_tool_score_patch_iterations:
 * @score: a picture's score
 *
 * Returns: the Adam steps taken over all the picture's tiles, the unit of
 *   work of the search
 */
guint64
anogan_tool_score_patch_iterations (const AnoganToolScore *score)
{
  guint64 n = 0;

  for (int i = 0; i < anogan_tiling_count (&score->tiling); i++)
    n += score->results[i].iterations;
  return n;
}

/**
 * anogan_tool_json_add_number:
 * @builder: a builder inside an object
 * @name: the member's name
 * @value: its value
 *
 * Adds a number member.  JSON has no NaN or infinity: such a value is
 * written as null.
 */
void
anogan_tool_json_add_number (JsonBuilder *builder, const char *name,
    double value)
{
  json_builder_set_member_name (builder, name);
  if (isfinite (value))
    json_builder_add_double_value (builder, value);
  else
    json_builder_add_null_value (builder);
}

/**
 * anogan_tool_json_to_line:
 * @builder: a builder holding one complete value
 *
 * Returns: (transfer full): the value as compact JSON on one line, without
 *   the newline
 */
char *
anogan_tool_json_to_line (JsonBuilder *builder)
{
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = json_builder_get_root (builder);

  json_generator_set_root (gen, root);
  return json_generator_to_data (gen, NULL);
}
