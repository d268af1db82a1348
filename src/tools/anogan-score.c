/* anogan-score: AnoGAN anomaly scores of pictures from the command line
 *
 * Copyright (C) 2026 the gst-anogan authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A thin front end: each source (a directory, a picture, an IDX file or a
 * video) is read by the tools' data code, its pictures are cut into tiles
 * of the model's input size and searched with libanogan; a picture's score
 * is its worst tile's.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "anogan-model.h"
#include "anogan-search.h"
#include "anogan-tiling.h"
#include "anogan-tool-data.h"
#include "anogan-tool-score.h"

#define EXIT_BAD_ARGUMENTS 2

/* --class not given. */
#define NO_CLASS G_MININT

/* Tiles searched together at least, when pictures are small: see
 * group_tiles(). */
#define GROUP_TILES 64

/* What the command line asked for. */
typedef struct {
  char *model_path;
  char *info_path;
  AnoganToolScoreArgs score;
  gboolean json;
  char *residual_dir;
  int frame_interval;
  int class_index;
  char **sources;
} Arguments;

static void
arguments_clear (Arguments *args)
{
  g_free (args->model_path);
  g_free (args->info_path);
  anogan_tool_score_args_clear (&args->score);
  g_free (args->residual_dir);
  g_strfreev (args->sources);
}

/* ---- command line ------------------------------------------------------- */

static const char description[] =
    "A SOURCE is a picture file (PNG, JPEG, ... as gdk-pixbuf reads them),\n"
    "a directory of pictures, an IDX file (MNIST layout, gzip or not) or a\n"
    "video GStreamer can decode; the kind is told from the content.  Every\n"
    "picture of a source is scored: a video's frames are named by their\n"
    "time (clip.webm@12.400s), an IDX file's records by their index\n"
    "(FILE#42).\n"
    "\n"
    "Each picture is cut into tiles of the model's input size, stepping by\n"
    "the stride from the top left; the last column and row are aligned with\n"
    "the right and bottom border.  For every tile the latent search finds\n"
    "the z whose G(z) is closest to it, minimising\n"
    "  L(z) = (1-lambda)*residual + lambda*discrimination,\n"
    "  residual = sum|x - G(z)|, discrimination = sum|f(x) - f(G(z))|,\n"
    "where f is an intermediate layer of the discriminator.  The tile's\n"
    "anomaly score is L at the final z; a picture's score is its highest\n"
    "tile score.  Larger means less like the training pictures.\n"
    "\n"
    "--mode says how z is found: optimise takes --iterations Adam steps\n"
    "from a fixed start (AnoGAN); encoder takes z = E(x), the model's\n"
    "encoder's one forward pass (f-AnoGAN); hybrid takes E(x), then\n"
    "--iterations steps (default 10).  Each mode's scores have their own\n"
    "threshold on the model card; the verdict uses the mode's.\n"
    "\n"
    "Output: one line per picture, or with --json one JSON object per line:\n"
    "  {\"file\", \"score\", \"residual\", \"discrimination\", \"mode\",\n"
    "   \"iterations\", \"tiles\": [{\"x\", \"y\", \"score\"}, ...]}\n"
    "(and \"label\" for the records of a labelled IDX file).\n"
    "\n"
    "Examples:\n"
    "  anogan-score --model cable.safetensors part1.png part2.jpg\n"
    "  anogan-score --model m.safetensors --stride 16 --json --residual-out maps *.png\n"
    "  anogan-score --model m.safetensors parts/ --frame-interval 15 line.webm\n"
    "  anogan-score --info m.safetensors\n"
    "\n"
    "Exit status: 0 when every picture was scored, 1 when the model, a\n"
    "source or a picture could not be read (the others are still scored),\n"
    "2 on bad arguments.";

static gboolean
parse_arguments (Arguments *args, int *argc, char ***argv, GError **error)
{
  const GOptionEntry model_entries[] = {
    { "model", 'm', 0, G_OPTION_ARG_FILENAME, &args->model_path,
      "The model (safetensors file)", "FILE" },
    { "info", 0, 0, G_OPTION_ARG_FILENAME, &args->info_path,
      "Describe a model (layers, shapes, parameters, FLOPs) and exit",
      "FILE" },
    { NULL }
  };
  const GOptionEntry output_entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &args->json,
      "One JSON object per picture and line", NULL },
    { "residual-out", 'r', 0, G_OPTION_ARG_FILENAME, &args->residual_dir,
      "Write DIR/NAME-residual.png, the residual |x - G(z)| of each "
      "picture (white = the picture's largest)", "DIR" },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &args->sources,
      NULL, "SOURCE..." },
    { NULL }
  };
  const GOptionEntry source_entries[] = {
    { "frame-interval", 0, 0, G_OPTION_ARG_INT, &args->frame_interval,
      "Videos: score every Nth frame (default: 1, every frame)", "N" },
    { "class", 0, 0, G_OPTION_ARG_INT, &args->class_index,
      "IDX files: score only the records labelled K", "K" },
    { NULL }
  };
  g_autoptr (GOptionContext) context =
      g_option_context_new ("- AnoGAN anomaly scores of pictures");

  g_option_context_set_summary (context,
      "Scores pictures with an AnoGAN model (Schlegl et al., 2017): how far\n"
      "each is from what the model's generator can produce.");
  g_option_context_set_description (context, description);
  g_option_context_add_main_entries (context, model_entries, NULL);
  anogan_tool_score_args_add_entries (&args->score, context, NULL);
  g_option_context_add_main_entries (context, source_entries, NULL);
  g_option_context_add_main_entries (context, output_entries, NULL);
  return g_option_context_parse (context, argc, argv, error);
}

/* Turns the command line into search options; checks what can be checked
 * before the model is loaded. */
static gboolean
search_options_from_arguments (const Arguments *args,
    AnoganSearchOptions *options, GError **error)
{
  if (!args->model_path)
    return anogan_tool_bad_argument (error,
        "--model is required (or --info MODEL)");
  if (!args->sources || !args->sources[0])
    return anogan_tool_bad_argument (error, "no pictures to score: give "
        "picture files, directories, IDX files or videos");
  if (args->frame_interval < 1)
    return anogan_tool_bad_argument (error,
        "--frame-interval must be at least 1");
  if (args->class_index != NO_CLASS && args->class_index < 0)
    return anogan_tool_bad_argument (error,
        "--class must be a label, 0 or more");
  return anogan_tool_score_args_to_options (&args->score, options, error);
}

/* ---- scoring ------------------------------------------------------------ */

/* Prints an error as the one line it makes on stderr, and clears it. */
static void
report (GError **error)
{
  g_printerr ("anogan-score: %s\n", (*error)->message);
  g_clear_error (error);
}

static void
print_json (const AnoganToolPicture *picture, const AnoganToolScore *score,
    AnoganMode mode)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autofree char *file = g_filename_display_name (picture->name);
  g_autofree char *line = NULL;
  const AnoganTiling *tiling = &score->tiling;
  const AnoganPatchResult *r = &score->results[score->worst];

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "file");
  json_builder_add_string_value (b, file);
  if (picture->label >= 0) {
    json_builder_set_member_name (b, "label");
    json_builder_add_int_value (b, picture->label);
  }
  anogan_tool_json_add_number (b, "score", r->score);
  anogan_tool_json_add_number (b, "residual", r->residual);
  anogan_tool_json_add_number (b, "discrimination", r->discrimination);
  json_builder_set_member_name (b, "mode");
  json_builder_add_string_value (b, anogan_mode_name (mode));
  json_builder_set_member_name (b, "iterations");
  json_builder_add_int_value (b, r->iterations);
  json_builder_set_member_name (b, "tiles");
  json_builder_begin_array (b);
  for (int i = 0; i < anogan_tiling_count (tiling); i++) {
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "x");
    json_builder_add_int_value (b, tiling->xs[i % tiling->columns]);
    json_builder_set_member_name (b, "y");
    json_builder_add_int_value (b, tiling->ys[i / tiling->columns]);
    anogan_tool_json_add_number (b, "score", score->results[i].score);
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  json_builder_end_object (b);

  line = anogan_tool_json_to_line (b);
  printf ("%s\n", line);
}

static void
print_text (const AnoganToolPicture *picture, const AnoganToolScore *score,
    AnoganMode mode, double threshold)
{
  g_autofree char *file = g_filename_display_name (picture->name);
  const AnoganTiling *tiling = &score->tiling;
  const int worst = score->worst;
  const AnoganPatchResult *r = &score->results[worst];

  printf ("%s: score %.6g (residual %.6g, discrimination %.6g; %s mode, "
      "%d iterations) at tile (%d, %d) of %d", file, r->score, r->residual,
      r->discrimination, anogan_mode_name (mode), r->iterations,
      tiling->xs[worst % tiling->columns],
      tiling->ys[worst / tiling->columns], anogan_tiling_count (tiling));
  if (isfinite (threshold))
    printf (", %s (threshold %.6g)",
        r->score > threshold ? "ANOMALOUS" : "normal", threshold);
  printf ("\n");
}

/* DIR/NAME-residual.png.  For a picture file, NAME is its file name
 * without the extension.  A video frame ("clip.webm@12.400s") or an IDX
 * record ("train-images-idx3-ubyte.gz#7") is named after its source, whose
 * extension goes, then a '-' and the frame's time or the record's index
 * ("clip-12.400s", "train-images-idx3-ubyte-7"): '@' and '#' mean
 * something to shells and URLs, and no separator may end up in a file
 * name. */
static char *
residual_path (const char *dir, const char *source, const char *picture)
{
  const gsize len = strlen (source);
  const gboolean part = g_str_has_prefix (picture, source) &&
      (picture[len] == '@' || picture[len] == '#');
  g_autofree char *base = g_path_get_basename (part ? source : picture);
  g_autofree char *name = NULL;
  char *dot = strrchr (base, '.');

  if (dot && dot != base)
    *dot = '\0';
  if (part) {
    g_autofree char *where = g_strdup (picture + len + 1);
    g_strdelimit (where, "/" G_DIR_SEPARATOR_S, '_');
    name = g_strconcat (base, "-", where, "-residual.png", NULL);
  } else {
    name = g_strconcat (base, "-residual.png", NULL);
  }
  return g_build_filename (dir, name, NULL);
}

/* Scores @n pictures of @source in one search, then prints their lines
 * and writes their residual maps.  Errors are reported here. */
static gboolean
score_group (AnoganToolScorer *scorer, const Arguments *args,
    const char *source, AnoganToolPicture **pictures, int n)
{
  g_autofree AnoganToolScore *scores = g_new0 (AnoganToolScore, n);
  const AnoganMode mode = anogan_tool_score_args_get_mode (&args->score);
  const double threshold = anogan_tool_mode_threshold (scorer->model, mode);
  GError *error = NULL;
  gboolean ok = TRUE;

  if (!anogan_tool_scorer_run (scorer, pictures, n,
          args->residual_dir != NULL, scores, &error)) {
    report (&error);
    return FALSE;
  }

  for (int i = 0; i < n; i++) {
    if (args->json)
      print_json (pictures[i], &scores[i], mode);
    else
      print_text (pictures[i], &scores[i], mode, threshold);
    fflush (stdout);

    if (scores[i].residual_map) {
      g_autofree char *out = residual_path (args->residual_dir, source,
          pictures[i]->name);
      if (!anogan_tool_save_map_png (scores[i].residual_map,
              scores[i].tiling.width, scores[i].tiling.height, out, &error)) {
        report (&error);
        ok = FALSE;
      }
    }
    anogan_tool_score_clear (&scores[i]);
  }
  return ok;
}

/* Tiles along one axis, as anogan_tiling_init() places them: steps of
 * @stride from 0, and one more flush with the border if they fall short. */
static gsize
tiles_along (int size, int tile, int stride)
{
  return (gsize) (size - tile + stride - 1) / stride + 1;
}

/* How many tiles a group of pictures should reach before it goes to the
 * search.  A folder of parts of one tile each is then searched many parts
 * at a time, in full batches on several threads, while a picture of many
 * tiles (a video frame) goes alone and its line comes as soon as it is
 * scored.  The number is fixed, not taken from --threads or --batch, so
 * that the groups, and with them the last bits of the results (rounding
 * in batched matrix products), are the same whatever those options say.
 * Random starts depend on a tile's place in the search, so with them
 * every picture goes alone: its score must not depend on what else is
 * scored with it.  The origin, the candidates and E(x) depend on the tile
 * alone. */
static gsize
group_tiles (AnoganToolScorer *scorer)
{
  const AnoganSearchOptions *o = anogan_search_get_options (scorer->search);

  return o->z_init == ANOGAN_Z_ZERO || o->z_init == ANOGAN_Z_ENCODER ?
      GROUP_TILES : 1;
}

/* Scores every picture of @source.  A picture smaller than a tile is
 * reported and the others are still scored.  Returns the exit status the
 * source calls for. */
static int
score_source (AnoganToolScorer *scorer, const Arguments *args,
    const AnoganToolDataOptions *data_options, const char *source)
{
  const int tile_w = scorer->model->input.dims[2];
  const int tile_h = scorer->model->input.dims[1];
  const gsize target = group_tiles (scorer);
  g_autoptr (GPtrArray) pictures = NULL;
  g_autoptr (GPtrArray) group = g_ptr_array_new ();
  GError *error = NULL;
  int status = EXIT_SUCCESS;
  gsize tiles = 0;

  pictures = anogan_tool_data_load (source, data_options, &error);
  if (!pictures) {
    /* --class on a source without labels is the command line's fault. */
    status = anogan_tool_error_is_bad_argument (error) ?
        EXIT_BAD_ARGUMENTS : EXIT_FAILURE;
    report (&error);
    return status;
  }

  for (guint i = 0; i < pictures->len; i++) {
    AnoganToolPicture *picture = g_ptr_array_index (pictures, i);
    const AnoganToolImage *image = &picture->image;

    if (!anogan_tool_picture_check_size (picture, tile_w, tile_h, "tile",
            &error)) {
      report (&error);
      status = EXIT_FAILURE;
    } else {
      g_ptr_array_add (group, picture);
      tiles += tiles_along (image->width, tile_w, scorer->stride_x) *
          tiles_along (image->height, tile_h, scorer->stride_y);
    }
    if (group->len > 0 && (tiles >= target || i + 1 == pictures->len)) {
      if (!score_group (scorer, args, source,
              (AnoganToolPicture **) group->pdata, (int) group->len))
        status = MAX (status, EXIT_FAILURE);
      g_ptr_array_set_size (group, 0);
      tiles = 0;
    }
  }
  return status;
}

static int
score_sources (const Arguments *args, const AnoganSearchOptions *options)
{
  g_autoptr (AnoganModel) model = NULL;
  g_autoptr (AnoganToolScorer) scorer = NULL;
  AnoganToolDataOptions data_options;
  GError *error = NULL;
  int status = EXIT_SUCCESS;

  model = anogan_model_load (args->model_path, &error);
  if (!model) {
    report (&error);
    return EXIT_FAILURE;
  }

  scorer = anogan_tool_scorer_new (model, options, args->score.stride,
      &error);
  if (!scorer)
    goto failed;
  if (args->residual_dir && g_mkdir_with_parents (args->residual_dir, 0777)) {
    int saved = errno;
    g_set_error (&error, G_FILE_ERROR, g_file_error_from_errno (saved),
        "%s: cannot create the directory: %s", args->residual_dir,
        g_strerror (saved));
    goto failed;
  }

  anogan_tool_data_options_init (&data_options);
  data_options.frame_interval = args->frame_interval;
  if (args->class_index != NO_CLASS)
    data_options.class_index = args->class_index;
  /* IDX records smaller than a tile are padded, as anogan-eval pads them
   * (Fashion-MNIST's 28x28 for a 32x32 model); pictures and frames never
   * are. */
  data_options.min_width = model->input.dims[2];
  data_options.min_height = model->input.dims[1];

  for (int i = 0; args->sources[i]; i++) {
    int source_status = score_source (scorer, args, &data_options,
        args->sources[i]);
    status = MAX (status, source_status);
  }
  return status;

failed:
  /* Option values the search refuses are bad arguments too. */
  status = anogan_tool_error_is_bad_argument (error) ?
      EXIT_BAD_ARGUMENTS : EXIT_FAILURE;
  report (&error);
  return status;
}

/* ---- --info ------------------------------------------------------------- */

static gsize
layer_params (const AnoganLayer *layer, gboolean running_stats)
{
  AnoganParamKind first = running_stats ? ANOGAN_PARAM_RUNNING_MEAN :
      ANOGAN_PARAM_WEIGHT;
  gsize n = 0;

  for (AnoganParamKind k = first; k < first + 2; k++)
    n += anogan_layer_param_floats (layer, k);
  return n;
}

static char *
format_count (double n)
{
  if (n >= 1e9)
    return g_strdup_printf ("%.2f G", n / 1e9);
  if (n >= 1e6)
    return g_strdup_printf ("%.2f M", n / 1e6);
  if (n >= 1e3)
    return g_strdup_printf ("%.2f k", n / 1e3);
  return g_strdup_printf ("%.0f", n);
}

static gsize
net_params (const AnoganNet *net, gboolean running_stats)
{
  gsize n = 0;

  for (int i = 0; i < net->n_layers; i++)
    n += layer_params (&net->layers[i], running_stats);
  return n;
}

/* One line per layer: index, kind, output shape, parameters, forward FLOPs
 * for one sample.  Layer @feature gives f(x); the layers after it are not
 * run by the search.  -1 for a network used whole. */
static void
print_net (const char *title, const AnoganNet *net, int feature)
{
  const int used = feature < 0 ? net->n_layers : feature + 1;

  printf ("%s: %d layers, %" G_GSIZE_FORMAT " parameters\n", title,
      net->n_layers, net_params (net, FALSE));
  printf ("  %3s  %-16s %-14s %10s %12s\n", "#", "layer", "output",
      "params", "FLOPs");
  for (int i = 0; i < net->n_layers; i++) {
    const AnoganLayer *l = &net->layers[i];
    g_autofree char *shape = anogan_shape_to_string (&l->out_shape);
    g_autofree char *flops = format_count (anogan_layer_flops (l));

    printf ("  %3d  %-16s %-14s %10" G_GSIZE_FORMAT " %12s%s\n", i,
        anogan_layer_kind_name (l->kind), shape, layer_params (l, FALSE),
        flops, i == feature ? "  <- f(x)" :
        i >= used ? "  (not used by the search)" : "");
  }
}

/* Strings as they are, numbers as short as they print, anything else as
 * JSON. */
static char *
metadata_value_to_string (JsonNode *value)
{
  if (JSON_NODE_HOLDS_VALUE (value)) {
    GType type = json_node_get_value_type (value);
    if (type == G_TYPE_STRING)
      return g_strdup (json_node_get_string (value));
    if (type == G_TYPE_DOUBLE)
      return g_strdup_printf ("%g", json_node_get_double (value));
  }
  return json_to_string (value, FALSE);
}

static void
print_metadata (JsonObject *metadata)
{
  g_autoptr (GList) names = NULL;

  if (!metadata)
    return;
  printf ("metadata:\n");
  names = json_object_get_members (metadata);
  for (GList *l = names; l; l = l->next) {
    const char *name = l->data;
    JsonNode *value = json_object_get_member (metadata, name);
    g_autofree char *text = NULL;

    /* The layers are listed above already. */
    if (g_str_equal (name, "generator") || g_str_equal (name, "discriminator")
        || g_str_equal (name, "encoder"))
      continue;
    text = metadata_value_to_string (value);
    printf ("  %s: %s\n", name, text);
  }
}

/* FLOPs of one Adam step on one patch: G forward, D[:K+1] forward on G(z),
 * and both backward to their inputs.  Backward to the input of a GEMM
 * layer is one GEMM of the forward's size (weight gradients are not needed
 * when only z moves), so each backward is counted as its forward. */
static void
print_flops (const AnoganModel *model)
{
  const int used = model->feature_layer + 1;
  double g = anogan_net_flops (&model->generator, model->generator.n_layers);
  double d = anogan_net_flops (&model->discriminator, used);
  g_autofree char *total = format_count (2.0 * (g + d));
  g_autofree char *gs = format_count (g);
  g_autofree char *ds = format_count (d);

  printf ("FLOPs per patch-iteration: %s (G forward %s + backward to z %s, "
      "D[:%d] forward %s + backward to the input %s; backward counted as "
      "its forward, no weight gradients)\n", total, gs, gs, used, ds, ds);
  if (anogan_model_has_encoder (model)) {
    g_autofree char *es = format_count (anogan_net_flops (&model->encoder,
            model->encoder.n_layers));
    g_autofree char *start = format_count (anogan_net_flops (&model->encoder,
            model->encoder.n_layers) + g + d);

    /* The encoder modes' start: E(x), then G and D[:K+1] forward once
     * for the loss there (D on x is needed by every mode). */
    printf ("FLOPs of the encoder's start per patch: %s (E forward %s, "
        "then G and D[:%d] forward)\n", start, es, used);
  }
}

/* The threshold of each mode, as the verdicts use them. */
static void
print_thresholds (const AnoganModel *model)
{
  for (AnoganMode mode = ANOGAN_MODE_OPTIMISE; mode <= ANOGAN_MODE_HYBRID;
      mode++) {
    double t = anogan_tool_mode_threshold (model, mode);

    /* "threshold: " alone is the optimising search's, as it always was. */
    if (mode == ANOGAN_MODE_OPTIMISE)
      printf ("threshold: ");
    else if (anogan_model_has_encoder (model))
      printf ("threshold of --mode %s: ", anogan_mode_name (mode));
    else
      continue;
    if (isfinite (t))
      printf ("%g\n", t);
    else
      printf ("none\n");
  }
}

static int
print_info (const char *path)
{
  GError *error = NULL;
  g_autoptr (AnoganModel) model = anogan_model_load (path, &error);
  g_autofree char *input = NULL;

  if (!model) {
    g_printerr ("anogan-score: %s\n", error->message);
    g_error_free (error);
    return EXIT_FAILURE;
  }

  input = anogan_shape_to_string (&model->input);
  printf ("model: %s\n", model->name);
  printf ("input: %s, nz %d\n", input, model->nz);
  print_net ("generator (G)", &model->generator, -1);
  print_net ("discriminator (D)", &model->discriminator, model->feature_layer);
  if (anogan_model_has_encoder (model))
    print_net ("encoder (E)", &model->encoder, -1);
  else
    printf ("encoder (E): none (--mode optimise only)\n");
  printf ("parameters: %" G_GSIZE_FORMAT " (and %" G_GSIZE_FORMAT
      " BatchNorm running statistics)\n",
      net_params (&model->generator, FALSE) +
      net_params (&model->discriminator, FALSE) +
      net_params (&model->encoder, FALSE),
      net_params (&model->generator, TRUE) +
      net_params (&model->discriminator, TRUE) +
      net_params (&model->encoder, TRUE));
  printf ("feature layer: D[%d], f(x) = D[:%d](x)\n", model->feature_layer,
      model->feature_layer + 1);
  print_flops (model);
  printf ("lambda: %g\n", model->lambda);
  print_thresholds (model);
  print_metadata (model->metadata);
  return EXIT_SUCCESS;
}

static gboolean
check_info_alone (const Arguments *args, GError **error)
{
  if (args->info_path && (args->model_path || args->sources))
    return anogan_tool_bad_argument (error,
        "--info takes no --model and no pictures");
  return TRUE;
}

/* ---- main --------------------------------------------------------------- */

int
main (int argc, char **argv)
{
  AnoganSearchOptions options;
  Arguments args = { NULL };
  GError *error = NULL;
  int status;

  anogan_search_options_init (&options);
  anogan_tool_score_args_init (&args.score);
  args.frame_interval = 1;
  args.class_index = NO_CLASS;

  if (parse_arguments (&args, &argc, &argv, &error) &&
      check_info_alone (&args, &error) &&
      (args.info_path ||
          search_options_from_arguments (&args, &options, &error)))
    status = args.info_path ? print_info (args.info_path) :
        score_sources (&args, &options);
  else
    status = EXIT_BAD_ARGUMENTS;

  if (error) {
    g_printerr ("anogan-score: %s (see --help)\n", error->message);
    g_error_free (error);
  }
  arguments_clear (&args);
  return status;
}
