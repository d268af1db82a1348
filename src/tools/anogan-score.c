/* anogan-score: AnoGAN anomaly scores of pictures from the command line
 *
 * Copyright (C) 2026 the gst-anogan authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A thin front end: pictures are decoded with gdk-pixbuf, cut into tiles of
 * the model's input size and searched with libanogan; a picture's score is
 * its worst tile's.
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
#include "anogan-tool-image.h"

#define EXIT_BAD_ARGUMENTS 2

/* --stride not given: step by the tile size. */
#define STRIDE_OF_TILE G_MININT

/* What the command line asked for. */
typedef struct {
  char *model_path;
  char *info_path;
  int iterations;
  double learning_rate;
  double lambda;
  char *loss;
  char *z_init;
  gint64 seed;
  int threads;
  int batch;
  int stride;
  gboolean json;
  char *residual_dir;
  char **images;
} Arguments;

/* Everything the pictures share once the model is loaded. */
typedef struct {
  const Arguments *args;
  AnoganModel *model;
  AnoganSearch *search;
  int stride_x;
  int stride_y;
} Scorer;

static void
arguments_clear (Arguments *args)
{
  g_free (args->model_path);
  g_free (args->info_path);
  g_free (args->loss);
  g_free (args->z_init);
  g_free (args->residual_dir);
  g_strfreev (args->images);
}

/* ---- command line ------------------------------------------------------- */

static const char description[] =
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
    "Output: one line per picture, or with --json one JSON object per line:\n"
    "  {\"file\", \"score\", \"residual\", \"discrimination\", \"iterations\",\n"
    "   \"tiles\": [{\"x\", \"y\", \"score\"}, ...]}\n"
    "\n"
    "Examples:\n"
    "  anogan-score --model cable.safetensors part1.png part2.jpg\n"
    "  anogan-score --model m.safetensors --stride 16 --json --residual-out maps *.png\n"
    "  anogan-score --info m.safetensors\n"
    "\n"
    "Exit status: 0 when every picture was scored, 1 when the model or a\n"
    "picture could not be read (the other pictures are still scored), 2 on\n"
    "bad arguments.";

static gboolean
parse_arguments (Arguments *args, int *argc, char ***argv, GError **error)
{
  const GOptionEntry entries[] = {
    { "model", 'm', 0, G_OPTION_ARG_FILENAME, &args->model_path,
      "The model (safetensors file)", "FILE" },
    { "info", 0, 0, G_OPTION_ARG_FILENAME, &args->info_path,
      "Describe a model (layers, shapes, parameters, FLOPs) and exit",
      "FILE" },
    { "iterations", 'n', 0, G_OPTION_ARG_INT, &args->iterations,
      "Adam steps on z per tile (default: 500)", "N" },
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
    { "seed", 0, 0, G_OPTION_ARG_INT64, &args->seed,
      "Seed of random starts (default: 0)", "S" },
    { "threads", 'j', 0, G_OPTION_ARG_INT, &args->threads,
      "Worker threads, 0 for one per core (default: 0)", "T" },
    { "batch", 'b', 0, G_OPTION_ARG_INT, &args->batch,
      "Tiles per forward and backward pass (default: 8)", "B" },
    { "stride", 's', 0, G_OPTION_ARG_INT, &args->stride,
      "Step between tiles in pixels, 1 to the tile size (default: the "
      "tile size, no overlap)", "S" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &args->json,
      "One JSON object per picture and line", NULL },
    { "residual-out", 'r', 0, G_OPTION_ARG_FILENAME, &args->residual_dir,
      "Write DIR/NAME-residual.png, the residual |x - G(z)| of each "
      "picture (white = the picture's largest)", "DIR" },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &args->images,
      NULL, "IMAGE..." },
    { NULL }
  };
  g_autoptr (GOptionContext) context =
      g_option_context_new ("- AnoGAN anomaly scores of pictures");

  g_option_context_set_summary (context,
      "Scores pictures with an AnoGAN model (Schlegl et al., 2017): how far\n"
      "each is from what the model's generator can produce.");
  g_option_context_set_description (context, description);
  g_option_context_add_main_entries (context, entries, NULL);
  return g_option_context_parse (context, argc, argv, error);
}

static gboolean
bad_argument (GError **error, const char *format, ...) G_GNUC_PRINTF (2, 3);

static gboolean
bad_argument (GError **error, const char *format, ...)
{
  va_list ap;

  va_start (ap, format);
  g_propagate_error (error, g_error_new_valist (G_OPTION_ERROR,
          G_OPTION_ERROR_BAD_VALUE, format, ap));
  va_end (ap);
  return FALSE;
}

/* Turns the command line into search options; checks what can be checked
 * before the model is loaded. */
static gboolean
search_options_from_arguments (const Arguments *args,
    AnoganSearchOptions *options, GError **error)
{
  if (!args->model_path)
    return bad_argument (error, "--model is required (or --info MODEL)");
  if (!args->images || !args->images[0])
    return bad_argument (error, "no pictures to score");

  if (!args->loss || g_str_equal (args->loss, "l1"))
    options->loss = ANOGAN_LOSS_L1;
  else if (g_str_equal (args->loss, "l2"))
    options->loss = ANOGAN_LOSS_L2;
  else
    return bad_argument (error, "--loss must be l1 or l2, not \"%s\"",
        args->loss);

  if (!args->z_init || g_str_equal (args->z_init, "zero"))
    options->z_init = ANOGAN_Z_ZERO;
  else if (g_str_equal (args->z_init, "normal"))
    options->z_init = ANOGAN_Z_NORMAL;
  else if (g_str_equal (args->z_init, "uniform"))
    options->z_init = ANOGAN_Z_UNIFORM;
  else
    return bad_argument (error,
        "--z-init must be zero, normal or uniform, not \"%s\"", args->z_init);

  if (args->iterations < 0)
    return bad_argument (error, "--iterations must not be negative");
  if (!(args->learning_rate > 0.0) || !isfinite (args->learning_rate))
    return bad_argument (error, "--lr must be a positive number");
  /* Negative values stand for the model's own lambda. */
  if (!(args->lambda <= 1.0))
    return bad_argument (error, "--lambda must be between 0 and 1");
  if (args->seed < 0)
    return bad_argument (error, "--seed must not be negative");
  if (args->threads < 0)
    return bad_argument (error, "--threads must not be negative");
  if (args->batch < 1)
    return bad_argument (error, "--batch must be at least 1");
  if (args->stride < 1 && args->stride != STRIDE_OF_TILE)
    return bad_argument (error, "--stride must be at least 1");

  options->iterations = args->iterations;
  options->learning_rate = args->learning_rate;
  options->lambda = args->lambda;
  options->seed = args->seed;
  options->threads = args->threads;
  options->batch = args->batch;
  return TRUE;
}

/* ---- scoring ------------------------------------------------------------ */

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

/* JSON has no NaN or infinity: such a value is written as null. */
static void
add_number (JsonBuilder *b, const char *name, double value)
{
  json_builder_set_member_name (b, name);
  if (isfinite (value))
    json_builder_add_double_value (b, value);
  else
    json_builder_add_null_value (b);
}

static void
print_json (const char *path, const AnoganTiling *tiling,
    const AnoganPatchResult *results, int worst)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autofree char *file = g_filename_display_name (path);
  g_autofree char *line = NULL;
  const AnoganPatchResult *r = &results[worst];

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "file");
  json_builder_add_string_value (b, file);
  add_number (b, "score", r->score);
  add_number (b, "residual", r->residual);
  add_number (b, "discrimination", r->discrimination);
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
    add_number (b, "score", results[i].score);
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  json_builder_end_object (b);

  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  line = json_generator_to_data (gen, NULL);
  printf ("%s\n", line);
}

static void
print_text (const char *path, const AnoganTiling *tiling,
    const AnoganPatchResult *results, int worst, double threshold)
{
  g_autofree char *file = g_filename_display_name (path);
  const AnoganPatchResult *r = &results[worst];

  printf ("%s: score %.6g (residual %.6g, discrimination %.6g, "
      "%d iterations) at tile (%d, %d) of %d", file, r->score, r->residual,
      r->discrimination, r->iterations, tiling->xs[worst % tiling->columns],
      tiling->ys[worst / tiling->columns], anogan_tiling_count (tiling));
  if (isfinite (threshold))
    printf (", %s (threshold %.6g)",
        r->score > threshold ? "ANOMALOUS" : "normal", threshold);
  printf ("\n");
}

/* DIR/NAME-residual.png, NAME being the picture's file name without its
 * extension. */
static char *
residual_path (const char *dir, const char *picture)
{
  g_autofree char *base = g_path_get_basename (picture);
  g_autofree char *name = NULL;
  char *dot = strrchr (base, '.');

  if (dot && dot != base)
    *dot = '\0';
  name = g_strconcat (base, "-residual.png", NULL);
  return g_build_filename (dir, name, NULL);
}

static gboolean
save_residual (const Scorer *scorer, const char *path,
    const AnoganTiling *tiling, const float *maps, GError **error)
{
  g_autofree float *picture = g_new (float,
      (gsize) tiling->width * tiling->height);
  g_autofree char *out = residual_path (scorer->args->residual_dir, path);

  anogan_accumulate_residual (tiling, scorer->model->input.dims[0], maps,
      picture);
  return anogan_tool_save_map_png (picture, tiling->width, tiling->height,
      out, error);
}

static gboolean
score_picture (const Scorer *scorer, const char *path, GError **error)
{
  const AnoganShape *in = &scorer->model->input;
  const int channels = in->dims[0];
  const gsize patch = anogan_shape_numel (in);
  AnoganToolImage image;
  AnoganTiling tiling;
  AnoganSearchOutputs out = { NULL };
  g_autofree float *patches = NULL;
  int n, worst;
  gboolean ok = FALSE;

  if (!anogan_tool_image_load (&image, path, error))
    return FALSE;
  if (!anogan_tiling_init (&tiling, image.width, image.height, in->dims[2],
          in->dims[1], scorer->stride_x, scorer->stride_y, error)) {
    g_prefix_error (error, "%s: ", path);
    anogan_tool_image_clear (&image);
    return FALSE;
  }

  n = anogan_tiling_count (&tiling);
  patches = g_new (float, n * patch);
  anogan_extract_patches (image.pixels, &image.layout, &tiling, channels,
      patches);
  anogan_tool_image_clear (&image);

  out.results = g_new0 (AnoganPatchResult, n);
  if (scorer->args->residual_dir)
    out.residual_map = g_new (float, n * patch);

  if (!anogan_search_run (scorer->search, n, patches, NULL, &out, error)) {
    g_prefix_error (error, "%s: ", path);
    goto done;
  }

  worst = worst_tile (out.results, n);
  if (scorer->args->json)
    print_json (path, &tiling, out.results, worst);
  else
    print_text (path, &tiling, out.results, worst, scorer->model->threshold);
  fflush (stdout);

  ok = !out.residual_map ||
      save_residual (scorer, path, &tiling, out.residual_map, error);

done:
  g_free (out.results);
  g_free (out.residual_map);
  anogan_tiling_clear (&tiling);
  return ok;
}

/* The stride along each axis: the tile size by default, and never more,
 * since pixels between tiles would not be looked at. */
static gboolean
set_strides (Scorer *scorer, GError **error)
{
  const int tile_h = scorer->model->input.dims[1];
  const int tile_w = scorer->model->input.dims[2];
  const int stride = scorer->args->stride;

  if (stride == STRIDE_OF_TILE) {
    scorer->stride_x = tile_w;
    scorer->stride_y = tile_h;
    return TRUE;
  }
  if (stride > MIN (tile_w, tile_h))
    return bad_argument (error, "--stride %d is larger than the model's "
        "%dx%d tiles: pixels between tiles would be missed", stride, tile_w,
        tile_h);
  scorer->stride_x = scorer->stride_y = stride;
  return TRUE;
}

static int
score_pictures (const Arguments *args, const AnoganSearchOptions *options)
{
  Scorer scorer = { args, NULL, NULL, 0, 0 };
  GError *error = NULL;
  int status = EXIT_SUCCESS;

  scorer.model = anogan_model_load (args->model_path, &error);
  if (!scorer.model) {
    g_printerr ("anogan-score: %s\n", error->message);
    g_error_free (error);
    return EXIT_FAILURE;
  }

  if (!set_strides (&scorer, &error))
    goto failed;
  scorer.search = anogan_search_new (scorer.model, options, &error);
  if (!scorer.search)
    goto failed;
  if (args->residual_dir && g_mkdir_with_parents (args->residual_dir, 0777)) {
    int saved = errno;
    g_set_error (&error, G_FILE_ERROR, g_file_error_from_errno (saved),
        "%s: cannot create the directory: %s", args->residual_dir,
        g_strerror (saved));
    goto failed;
  }

  for (int i = 0; args->images[i]; i++)
    if (!score_picture (&scorer, args->images[i], &error)) {
      g_printerr ("anogan-score: %s\n", error->message);
      g_clear_error (&error);
      status = EXIT_FAILURE;
    }
  goto done;

failed:
  g_printerr ("anogan-score: %s\n", error->message);
  /* Option values the search refuses are bad arguments too. */
  status = error->domain == G_OPTION_ERROR ||
      g_error_matches (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT) ?
      EXIT_BAD_ARGUMENTS : EXIT_FAILURE;
  g_error_free (error);
done:
  g_clear_pointer (&scorer.search, anogan_search_free);
  anogan_model_free (scorer.model);
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
    if (g_str_equal (name, "generator") || g_str_equal (name, "discriminator"))
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
  printf ("parameters: %" G_GSIZE_FORMAT " (and %" G_GSIZE_FORMAT
      " BatchNorm running statistics)\n",
      net_params (&model->generator, FALSE) +
      net_params (&model->discriminator, FALSE),
      net_params (&model->generator, TRUE) +
      net_params (&model->discriminator, TRUE));
  printf ("feature layer: D[%d], f(x) = D[:%d](x)\n", model->feature_layer,
      model->feature_layer + 1);
  print_flops (model);
  printf ("lambda: %g\n", model->lambda);
  if (isfinite (model->threshold))
    printf ("threshold: %g\n", model->threshold);
  else
    printf ("threshold: none\n");
  print_metadata (model->metadata);
  return EXIT_SUCCESS;
}

static gboolean
check_info_alone (const Arguments *args, GError **error)
{
  if (args->info_path && (args->model_path || args->images))
    return bad_argument (error, "--info takes no --model and no pictures");
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
  args.iterations = options.iterations;
  args.learning_rate = options.learning_rate;
  args.lambda = options.lambda;
  args.seed = (gint64) options.seed;
  args.threads = options.threads;
  args.batch = options.batch;
  args.stride = STRIDE_OF_TILE;

  if (parse_arguments (&args, &argc, &argv, &error) &&
      check_info_alone (&args, &error) &&
      (args.info_path ||
          search_options_from_arguments (&args, &options, &error)))
    status = args.info_path ? print_info (args.info_path) :
        score_pictures (&args, &options);
  else
    status = EXIT_BAD_ARGUMENTS;

  if (error) {
    g_printerr ("anogan-score: %s (see --help)\n", error->message);
    g_error_free (error);
  }
  arguments_clear (&args);
  return status;
}
