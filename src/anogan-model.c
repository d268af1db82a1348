/* anogan-model.c: an AnoGAN model, its file format and its architectures
 *
 * Copyright (C) 2026 the gst-anogan authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A model file is a safetensors container holding the PyTorch state_dicts
 * of the generator, the discriminator and optionally an encoder (f-AnoGAN,
 * image to z), with the architecture described
 * in the `anogan` metadata key (docs/model-format.md).  Loading checks the
 * description and every tensor before anything runs, and maps the weights
 * in place when their bytes allow it.
 */
/* O_CLOEXEC and fstat(), which plain C11 leaves out. */
#define _POSIX_C_SOURCE 200809L

#include "anogan-model.h"
#include "anogan-json-check.h"
#include "anogan-safetensors.h"
#include "anogan-random.h"
#include "anogan-arch-resources.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Bounds on what a description may ask for, far above any real model but
 * low enough that no size computed from them can overflow. */
#define MAX_DIM 65536
#define MAX_LAYERS 4096
#define MAX_SAMPLE_FLOATS ((gsize) 1 << 28)
#define MAX_PARAM_FLOATS ((gsize) 1 << 30)
#define MAX_WORK_FLOATS ((gsize) 1 << 30)

/* The largest model file: MAX_PARAM_FLOATS floats, as many again for each
 * of a training checkpoint's two Adam moments, and the header; rounded
 * up. */
#define MAX_FILE_BYTES ((guint64) 16 << 30)

/* An architecture file holds what a model file's header may: 16 MiB. */
#define MAX_DESCRIPTION_BYTES ((guint64) 16 << 20)

#define ARCH_PATH "/org/gst-anogan/arch"

G_DEFINE_QUARK (anogan-model-error-quark, anogan_model_error)

static void set_error (GError **error, AnoganModelError code,
    const char *name, const char *format, ...) G_GNUC_PRINTF (4, 5);

/* Every message starts with the model's file (or given) name. */
static void
set_error (GError **error, AnoganModelError code, const char *name,
    const char *format, ...)
{
  va_list args;
  va_start (args, format);
  char *what = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, ANOGAN_MODEL_ERROR, code, "%s: %s", name, what);
  g_free (what);
}

/* ---- JSON values ---- */

static gboolean
node_is_int (JsonNode *node)
{
  return node != NULL && JSON_NODE_HOLDS_VALUE (node)
      && json_node_get_value_type (node) == G_TYPE_INT64;
}

static gboolean
node_is_number (JsonNode *node)
{
  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node))
    return FALSE;
  GType type = json_node_get_value_type (node);
  return type == G_TYPE_INT64 || type == G_TYPE_DOUBLE;
}

static gboolean
node_is_string (JsonNode *node, const char *value)
{
  return node != NULL && JSON_NODE_HOLDS_VALUE (node)
      && json_node_get_value_type (node) == G_TYPE_STRING
      && g_strcmp0 (json_node_get_string (node), value) == 0;
}

static gboolean
get_int (JsonNode *node, int lo, int hi, int *out)
{
  if (!node_is_int (node))
    return FALSE;
  gint64 v = json_node_get_int (node);
  if (v < lo || v > hi)
    return FALSE;
  *out = (int) v;
  return TRUE;
}

static gboolean
get_number (JsonNode *node, double lo, double hi, double *out)
{
  if (!node_is_number (node))
    return FALSE;
  double v = json_node_get_double (node);
  if (!(v >= lo && v <= hi))
    return FALSE;
  *out = v;
  return TRUE;
}

/* An int, or an array of @n ints, as PyTorch's _pair() and friends take. */
static gboolean
get_ints (JsonNode *node, int lo, int hi, int n, int *out)
{
  int v;
  if (get_int (node, lo, hi, &v)) {
    for (int i = 0; i < n; i++)
      out[i] = v;
    return TRUE;
  }
  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
    return FALSE;
  JsonArray *array = json_node_get_array (node);
  if (json_array_get_length (array) != (guint) n)
    return FALSE;
  for (int i = 0; i < n; i++)
    if (!get_int (json_array_get_element (array, i), lo, hi, &out[i]))
      return FALSE;
  return TRUE;
}

/* ---- Layer arguments ----
 *
 * Each argument a layer kind takes, by its PyTorch name.  A parser checks
 * one value and stores it, or says what it should have been. */

typedef const char *(*ArgParser) (AnoganLayer *layer, JsonNode *value);

#define KIND(k) (1u << ANOGAN_LAYER_##k)
#define CONVS (KIND (CONV2D) | KIND (CONV_TRANSPOSE2D))
#define BATCH_NORMS (KIND (BATCH_NORM1D) | KIND (BATCH_NORM2D))

static const char *
arg_channels_in (AnoganLayer *layer, JsonNode *value)
{
  return get_int (value, 1, MAX_DIM, &layer->in_channels) ? NULL
      : "must be an integer from 1 to 65536";
}

static const char *
arg_channels_out (AnoganLayer *layer, JsonNode *value)
{
  return get_int (value, 1, MAX_DIM, &layer->out_channels) ? NULL
      : "must be an integer from 1 to 65536";
}

static const char *
arg_kernel_size (AnoganLayer *layer, JsonNode *value)
{
  return get_ints (value, 1, MAX_DIM, 2, layer->kernel) ? NULL
      : "must be an integer or [height, width] from 1 to 65536";
}

static const char *
arg_stride (AnoganLayer *layer, JsonNode *value)
{
  return get_ints (value, 1, MAX_DIM, 2, layer->stride) ? NULL
      : "must be an integer or [height, width] from 1 to 65536";
}

static const char *
arg_padding (AnoganLayer *layer, JsonNode *value)
{
  return get_ints (value, 0, MAX_DIM, 2, layer->padding) ? NULL
      : "must be an integer or [height, width] from 0 to 65536";
}

static const char *
arg_output_padding (AnoganLayer *layer, JsonNode *value)
{
  return get_ints (value, 0, MAX_DIM, 2, layer->output_padding) ? NULL
      : "must be an integer or [height, width] from 0 to 65536";
}

static const char *
arg_dilation (AnoganLayer *layer, JsonNode *value)
{
  int d[2];
  return get_ints (value, 1, 1, 2, d) ? NULL : "only 1 is supported";
}

static const char *
arg_groups (AnoganLayer *layer, JsonNode *value)
{
  int g;
  return get_int (value, 1, 1, &g) ? NULL : "only 1 is supported";
}

static const char *
arg_bias (AnoganLayer *layer, JsonNode *value)
{
  if (!JSON_NODE_HOLDS_VALUE (value)
      || json_node_get_value_type (value) != G_TYPE_BOOLEAN)
    return "must be true or false";
  layer->bias = json_node_get_boolean (value);
  return NULL;
}

static const char *
arg_padding_mode (AnoganLayer *layer, JsonNode *value)
{
  return node_is_string (value, "zeros") ? NULL
      : "only \"zeros\" is supported";
}

/* Checked as the float it becomes: 1.5e-50 is 0 as a float, and a
 * running variance of 0 would then be divided by 0. */
static const char *
arg_eps (AnoganLayer *layer, JsonNode *value)
{
  double v;
  if (!get_number (value, 0.0, 1.0, &v) || (float) v == 0.0f)
    return "must be a number in (0, 1], not 0 as a float";
  layer->eps = v;
  return NULL;
}

static const char *
arg_momentum (AnoganLayer *layer, JsonNode *value)
{
  double v;
  if (!get_number (value, 0.0, 1.0, &v))
    return "must be a number in [0, 1]";
  layer->momentum = v;
  return NULL;
}

static const char *
arg_affine (AnoganLayer *layer, JsonNode *value)
{
  if (!JSON_NODE_HOLDS_VALUE (value)
      || json_node_get_value_type (value) != G_TYPE_BOOLEAN)
    return "must be true or false";
  layer->affine = json_node_get_boolean (value);
  return NULL;
}

static const char *
arg_track_running_stats (AnoganLayer *layer, JsonNode *value)
{
  if (!JSON_NODE_HOLDS_VALUE (value)
      || json_node_get_value_type (value) != G_TYPE_BOOLEAN
      || !json_node_get_boolean (value))
    return "only true is supported";
  return NULL;
}

static const char *
arg_negative_slope (AnoganLayer *layer, JsonNode *value)
{
  double v;
  if (!get_number (value, -G_MAXFLOAT, G_MAXFLOAT, &v))
    return "must be a finite number";
  layer->negative_slope = v;
  return NULL;
}

static const char *
arg_inplace (AnoganLayer *layer, JsonNode *value)
{
  if (!JSON_NODE_HOLDS_VALUE (value)
      || json_node_get_value_type (value) != G_TYPE_BOOLEAN)
    return "must be true or false";
  return NULL;                  /* how PyTorch saves memory; no meaning here */
}

/* PyTorch keeps scale_factor as a float (or one per axis); only whole,
 * equal factors make nearest upsampling a plain repetition. */
static const char *
arg_scale_factor (AnoganLayer *layer, JsonNode *value)
{
  static const char *const problem =
      "must be a whole number from 1 to 65536, the same for both axes";
  double v[2];
  if (node_is_number (value)) {
    v[0] = v[1] = json_node_get_double (value);
  } else if (JSON_NODE_HOLDS_ARRAY (value)
      && json_array_get_length (json_node_get_array (value)) == 2) {
    JsonArray *array = json_node_get_array (value);
    for (int i = 0; i < 2; i++) {
      JsonNode *e = json_array_get_element (array, i);
      if (!node_is_number (e))
        return problem;
      v[i] = json_node_get_double (e);
    }
  } else {
    return problem;
  }
  if (!(v[0] >= 1.0 && v[0] <= MAX_DIM) || v[0] != floor (v[0])
      || v[1] != v[0])
    return problem;
  layer->scale_factor = (int) v[0];
  return NULL;
}

static const char *
arg_mode (AnoganLayer *layer, JsonNode *value)
{
  return node_is_string (value, "nearest") ? NULL
      : "only \"nearest\" is supported";
}

static const char *
arg_null_only (AnoganLayer *layer, JsonNode *value)
{
  return JSON_NODE_HOLDS_NULL (value) ? NULL : "only null is supported";
}

static const char *
arg_recompute_scale_factor (AnoganLayer *layer, JsonNode *value)
{
  /* With a whole scale factor either choice gives the same sizes. */
  if (JSON_NODE_HOLDS_NULL (value) || (JSON_NODE_HOLDS_VALUE (value)
          && json_node_get_value_type (value) == G_TYPE_BOOLEAN))
    return NULL;
  return "must be null, true or false";
}

/* ZeroPad2d: one int for all sides, or (left, right, top, bottom). */
static const char *
arg_zero_padding (AnoganLayer *layer, JsonNode *value)
{
  return get_ints (value, 0, MAX_DIM, 4, layer->pad) ? NULL
      : "must be an integer or [left, right, top, bottom] from 0 to 65536";
}

static const char *
arg_p (AnoganLayer *layer, JsonNode *value)
{
  double v;
  if (!get_number (value, 0.0, 1.0, &v))
    return "must be a number in [0, 1]";
  layer->p = v;
  return NULL;
}

static const char *
arg_start_dim (AnoganLayer *layer, JsonNode *value)
{
  int v;
  return get_int (value, 1, 1, &v) ? NULL : "only 1 is supported";
}

static const char *
arg_end_dim (AnoganLayer *layer, JsonNode *value)
{
  int v;
  return get_int (value, -1, -1, &v) ? NULL : "only -1 is supported";
}

static const char *
arg_unflatten_dim (AnoganLayer *layer, JsonNode *value)
{
  int v;
  return get_int (value, 1, 1, &v) ? NULL : "only 1 is supported";
}

static const char *
arg_unflattened_size (AnoganLayer *layer, JsonNode *value)
{
  static const char *const problem =
      "must be [features] or [channels, height, width], each from 1 to 65536";
  if (!JSON_NODE_HOLDS_ARRAY (value))
    return problem;
  JsonArray *array = json_node_get_array (value);
  guint rank = json_array_get_length (array);
  if (rank != 1 && rank != 3)
    return problem;
  AnoganShape shape = { rank, { 1, 1, 1 } };
  for (guint i = 0; i < rank; i++)
    if (!get_int (json_array_get_element (array, i), 1, MAX_DIM,
            &shape.dims[i]))
      return problem;
  layer->unflattened = shape;
  return NULL;
}

typedef struct {
  const char *name;
  guint kinds;                  /* KIND() bits of the layers taking it */
  guint required;               /* KIND() bits of the layers needing it */
  ArgParser parse;
} ArgSpec;

static const ArgSpec arg_specs[] = {
  {"in_channels", CONVS, CONVS, arg_channels_in},
  {"out_channels", CONVS, CONVS, arg_channels_out},
  {"in_features", KIND (LINEAR), KIND (LINEAR), arg_channels_in},
  {"out_features", KIND (LINEAR), KIND (LINEAR), arg_channels_out},
  {"num_features", BATCH_NORMS, BATCH_NORMS, arg_channels_in},
  {"kernel_size", CONVS, CONVS, arg_kernel_size},
  {"stride", CONVS, 0, arg_stride},
  {"padding", CONVS, 0, arg_padding},
  {"padding", KIND (ZERO_PAD2D), KIND (ZERO_PAD2D), arg_zero_padding},
  {"output_padding", KIND (CONV_TRANSPOSE2D), 0, arg_output_padding},
  {"dilation", CONVS, 0, arg_dilation},
  {"groups", CONVS, 0, arg_groups},
  {"bias", CONVS | KIND (LINEAR), 0, arg_bias},
  {"padding_mode", CONVS, 0, arg_padding_mode},
  {"eps", BATCH_NORMS, 0, arg_eps},
  {"momentum", BATCH_NORMS, 0, arg_momentum},
  {"affine", BATCH_NORMS, 0, arg_affine},
  {"track_running_stats", BATCH_NORMS, 0, arg_track_running_stats},
  {"negative_slope", KIND (LEAKY_RELU), 0, arg_negative_slope},
  {"inplace", KIND (RELU) | KIND (LEAKY_RELU) | KIND (DROPOUT), 0,
      arg_inplace},
  {"scale_factor", KIND (UPSAMPLE), KIND (UPSAMPLE), arg_scale_factor},
  {"mode", KIND (UPSAMPLE), 0, arg_mode},
  {"size", KIND (UPSAMPLE), 0, arg_null_only},
  {"align_corners", KIND (UPSAMPLE), 0, arg_null_only},
  {"recompute_scale_factor", KIND (UPSAMPLE), 0, arg_recompute_scale_factor},
  {"p", KIND (DROPOUT), 0, arg_p},
  {"start_dim", KIND (FLATTEN), 0, arg_start_dim},
  {"end_dim", KIND (FLATTEN), 0, arg_end_dim},
  {"dim", KIND (UNFLATTEN), KIND (UNFLATTEN), arg_unflatten_dim},
  {"unflattened_size", KIND (UNFLATTEN), KIND (UNFLATTEN),
      arg_unflattened_size},
};

static const ArgSpec *
lookup_arg (AnoganLayerKind kind, const char *name)
{
  for (gsize i = 0; i < G_N_ELEMENTS (arg_specs); i++)
    if ((arg_specs[i].kinds & (1u << kind))
        && strcmp (arg_specs[i].name, name) == 0)
      return &arg_specs[i];
  return NULL;
}

static gboolean
parse_layer_args (AnoganLayer *layer, JsonObject *obj, const char *file,
    const char *where, GError **error)
{
  g_autoptr (GList) members = json_object_get_members (obj);
  for (GList *l = members; l != NULL; l = l->next) {
    const char *key = l->data;
    if (strcmp (key, "type") == 0)
      continue;
    const ArgSpec *spec = lookup_arg (layer->kind, key);
    if (spec == NULL) {
      set_error (error, ANOGAN_MODEL_ERROR_METADATA, file,
          "%s: unknown argument '%s'", where, key);
      return FALSE;
    }
    const char *problem = spec->parse (layer, json_object_get_member (obj,
            key));
    if (problem != NULL) {
      set_error (error, ANOGAN_MODEL_ERROR_METADATA, file,
          "%s: bad argument '%s': %s", where, key, problem);
      return FALSE;
    }
  }
  for (gsize i = 0; i < G_N_ELEMENTS (arg_specs); i++)
    if ((arg_specs[i].required & (1u << layer->kind))
        && !json_object_has_member (obj, arg_specs[i].name)) {
      set_error (error, ANOGAN_MODEL_ERROR_METADATA, file,
          "%s: missing argument '%s'", where, arg_specs[i].name);
      return FALSE;
    }
  return TRUE;
}

static gboolean
parse_layer (AnoganLayer *layer, JsonNode *node, const char *file,
    const char *net_name, int index, GError **error)
{
  JsonObject *obj = JSON_NODE_HOLDS_OBJECT (node)
      ? json_node_get_object (node) : NULL;
  JsonNode *type = obj ? json_object_get_member (obj, "type") : NULL;
  if (type == NULL || !JSON_NODE_HOLDS_VALUE (type)
      || json_node_get_value_type (type) != G_TYPE_STRING) {
    set_error (error, ANOGAN_MODEL_ERROR_METADATA, file,
        "%s layer %d: not an object with a \"type\" string", net_name,
        index);
    return FALSE;
  }
  AnoganLayerKind kind;
  if (!anogan_layer_kind_from_name (json_node_get_string (type), &kind)) {
    set_error (error, ANOGAN_MODEL_ERROR_METADATA, file,
        "%s layer %d: unknown layer type '%s'", net_name, index,
        json_node_get_string (type));
    return FALSE;
  }
  anogan_layer_init (layer, kind);
  g_autofree char *where = g_strdup_printf ("%s layer %d (%s)", net_name,
      index, anogan_layer_kind_name (kind));
  return parse_layer_args (layer, obj, file, where, error);
}

static gboolean
parse_net (AnoganNet *net, JsonObject *desc, const char *net_name,
    const char *file, GError **error)
{
  JsonNode *node = json_object_get_member (desc, net_name);
  guint n = 0;
  if (node != NULL && JSON_NODE_HOLDS_ARRAY (node))
    n = json_array_get_length (json_node_get_array (node));
  if (n < 1 || n > MAX_LAYERS) {
    set_error (error, ANOGAN_MODEL_ERROR_METADATA, file,
        "bad \"%s\": must be an array of 1 to %d layers", net_name,
        MAX_LAYERS);
    return FALSE;
  }
  JsonArray *array = json_node_get_array (node);
  net->name = g_strdup (net_name);
  net->n_layers = n;
  net->layers = g_new0 (AnoganLayer, n);
  net->params = g_new0 (AnoganLayerParams, n);
  for (guint i = 0; i < n; i++)
    if (!parse_layer (&net->layers[i], json_array_get_element (array, i),
            file, net_name, i, error))
      return FALSE;
  return TRUE;
}

/* ---- The description ---- */

/* z is a vector when the generator's first shaping layer takes vectors,
 * an nz x 1 x 1 image otherwise (the DCGAN convention). */
static AnoganShape
latent_shape (const AnoganNet *generator, int nz)
{
  AnoganShape vector = { 1, { nz, 1, 1 } }, image = { 3, { nz, 1, 1 } };
  for (int i = 0; i < generator->n_layers; i++) {
    switch (generator->layers[i].kind) {
      case ANOGAN_LAYER_LINEAR:
      case ANOGAN_LAYER_BATCH_NORM1D:
      case ANOGAN_LAYER_UNFLATTEN:
        return vector;
      case ANOGAN_LAYER_CONV2D:
      case ANOGAN_LAYER_CONV_TRANSPOSE2D:
      case ANOGAN_LAYER_BATCH_NORM2D:
      case ANOGAN_LAYER_UPSAMPLE:
      case ANOGAN_LAYER_ZERO_PAD2D:
      case ANOGAN_LAYER_FLATTEN:
        return image;
      default:
        break;                  /* elementwise: look further */
    }
  }
  return image;
}

static gboolean
parse_input (AnoganModel *model, JsonObject *desc, GError **error)
{
  JsonNode *node = json_object_get_member (desc, "input");
  AnoganShape shape = { 3, { 0, 0, 0 } };
  if (!get_ints (node, 1, MAX_DIM, 3, shape.dims)
      || !JSON_NODE_HOLDS_ARRAY (node)
      || anogan_shape_numel (&shape) > MAX_SAMPLE_FLOATS) {
    set_error (error, ANOGAN_MODEL_ERROR_METADATA, model->name,
        "bad \"input\": must be [channels, height, width], each from 1 to "
        "65536, at most %" G_GSIZE_FORMAT " values", MAX_SAMPLE_FLOATS);
    return FALSE;
  }
  model->input = shape;
  return TRUE;
}

static gboolean
parse_scalars (AnoganModel *model, JsonObject *desc, GError **error)
{
  const char *name = model->name;
  JsonNode *version = json_object_get_member (desc, "version");
  if (version == NULL) {
    set_error (error, ANOGAN_MODEL_ERROR_METADATA, name,
        "missing \"version\"");
    return FALSE;
  }
  if (!node_is_int (version) || json_node_get_int (version) != 1) {
    set_error (error, ANOGAN_MODEL_ERROR_METADATA, name,
        "unsupported \"version\": only 1 is known");
    return FALSE;
  }
  if (!get_int (json_object_get_member (desc, "nz"), 1, MAX_DIM,
          &model->nz)) {
    set_error (error, ANOGAN_MODEL_ERROR_METADATA, name,
        "bad \"nz\": must be an integer from 1 to 65536");
    return FALSE;
  }

  double lambda = 0.1;
  JsonNode *node = json_object_get_member (desc, "lambda");
  if (node != NULL && !get_number (node, 0.0, 1.0, &lambda)) {
    set_error (error, ANOGAN_MODEL_ERROR_METADATA, name,
        "bad \"lambda\": must be a number in [0, 1]");
    return FALSE;
  }
  model->lambda = lambda;

  model->threshold = NAN;
  node = json_object_get_member (desc, "threshold");
  if (node != NULL && !JSON_NODE_HOLDS_NULL (node)
      && !get_number (node, -G_MAXDOUBLE, G_MAXDOUBLE, &model->threshold)) {
    set_error (error, ANOGAN_MODEL_ERROR_METADATA, name,
        "bad \"threshold\": must be null or a finite number");
    return FALSE;
  }
  return TRUE;
}

static gboolean
set_net_input (const AnoganModel *model, AnoganNet *net,
    const AnoganShape *input, GError **error)
{
  g_autoptr (GError) shape_error = NULL;
  if (!anogan_net_set_input (net, input, &shape_error)) {
    set_error (error, ANOGAN_MODEL_ERROR_METADATA, model->name,
        "shapes do not chain: %s", shape_error->message);
    return FALSE;
  }
  /* anogan_layer_set_input() bounds every output to MAX_SAMPLE_FLOATS. */
  return TRUE;
}

static gboolean
check_generator_output (const AnoganModel *model, GError **error)
{
  const AnoganNet *g = &model->generator;
  const AnoganShape *out = anogan_net_output_shape (g, g->n_layers);
  if (anogan_shape_equal (out, &model->input))
    return TRUE;
  g_autofree char *got = anogan_shape_to_string (out);
  g_autofree char *want = anogan_shape_to_string (&model->input);
  set_error (error, ANOGAN_MODEL_ERROR_METADATA, model->name,
      "generator output %s does not equal the input %s", got, want);
  return FALSE;
}

static gboolean
parse_feature_layer (AnoganModel *model, JsonObject *desc, GError **error)
{
  int n = model->discriminator.n_layers;
  if (!get_int (json_object_get_member (desc, "feature_layer"), 0, n - 1,
          &model->feature_layer)) {
    set_error (error, ANOGAN_MODEL_ERROR_METADATA, model->name,
        "feature_layer out of range: must be an integer from 0 to %d, "
        "an index into the discriminator", n - 1);
    return FALSE;
  }
  return TRUE;
}

/* The optional encoder E (f-AnoGAN): from an image of shape `input`, or
 * from its features f(x) when "encoder_input" says "features", to nz
 * values, which the generator takes as z in whichever shape it wants. */
static gboolean
parse_encoder (AnoganModel *model, JsonObject *desc, GError **error)
{
  if (!json_object_has_member (desc, "encoder"))
    return TRUE;

  const AnoganShape *input = &model->input;
  JsonNode *node = json_object_get_member (desc, "encoder_input");
  if (node != NULL && node_is_string (node, "features")) {
    model->encoder_reads_features = TRUE;
    input = anogan_net_output_shape (&model->discriminator,
        model->feature_layer + 1);
  } else if (node != NULL && !node_is_string (node, "image")) {
    set_error (error, ANOGAN_MODEL_ERROR_METADATA, model->name,
        "bad \"encoder_input\": must be \"image\" or \"features\"");
    return FALSE;
  }
  if (!parse_net (&model->encoder, desc, "encoder", model->name, error)
      || !set_net_input (model, &model->encoder, input, error))
    return FALSE;
  const AnoganNet *e = &model->encoder;
  const AnoganShape *out = anogan_net_output_shape (e, e->n_layers);
  if (anogan_shape_numel (out) == (gsize) model->nz
      && out->dims[0] == model->nz)
    return TRUE;
  g_autofree char *got = anogan_shape_to_string (out);
  set_error (error, ANOGAN_MODEL_ERROR_METADATA, model->name,
      "encoder output %s is not a latent vector of nz = %d values", got,
      model->nz);
  return FALSE;
}

static gboolean check_sizes (const AnoganModel *model, GError **error);

/* Fills in everything but the tensors from an `anogan` description. */
static gboolean
parse_description (AnoganModel *model, JsonObject *desc, GError **error)
{
  if (!parse_scalars (model, desc, error)
      || !parse_input (model, desc, error)
      || !parse_net (&model->generator, desc, "generator", model->name,
          error)
      || !parse_net (&model->discriminator, desc, "discriminator",
          model->name, error))
    return FALSE;

  AnoganShape z = latent_shape (&model->generator, model->nz);
  if (!set_net_input (model, &model->generator, &z, error)
      || !check_generator_output (model, error)
      || !set_net_input (model, &model->discriminator, &model->input, error)
      || !parse_feature_layer (model, desc, error)
      || !parse_encoder (model, desc, error))
    return FALSE;
  return check_sizes (model, error);
}

static AnoganModel *
model_new (const char *name, JsonObject *description)
{
  AnoganModel *model = g_new0 (AnoganModel, 1);
  model->name = g_strdup (name);
  model->metadata = json_object_ref (description);
  model->threshold = NAN;
  return model;
}

/* The networks @model holds, G, D and the encoder when it has one, in
 * the order of their tensors in model->storage.  Returns how many. */
static int
model_nets (const AnoganModel *model, const AnoganNet **nets)
{
  int n = 0;
  nets[n++] = &model->generator;
  nets[n++] = &model->discriminator;
  if (model->encoder.n_layers > 0)
    nets[n++] = &model->encoder;
  return n;
}

/* ---- Tensors ---- */

static char *
tensor_name (const AnoganNet *net, int layer, AnoganParamKind kind)
{
  return g_strdup_printf ("%s.%d.%s", net->name, layer,
      anogan_param_names[kind]);
}

static char *
format_dims (const gint64 *dims, int rank)
{
  GString *s = g_string_new ("[");
  for (int i = 0; i < rank; i++)
    g_string_append_printf (s, i ? ",%" G_GINT64_FORMAT : "%" G_GINT64_FORMAT,
        dims[i]);
  g_string_append_c (s, ']');
  return g_string_free (s, FALSE);
}

/* Each tensor within MAX_PARAM_FLOATS on its own, so that their sum
 * cannot wrap: with sizes of up to 65536, a convolution's weight of
 * [out, in, kh, kw] reaches 2^64 floats, which is 0 in a gsize. */
static gboolean
check_net_param_counts (const AnoganModel *model, const AnoganNet *net,
    GError **error)
{
  for (int i = 0; i < net->n_layers; i++) {
    for (int k = 0; k < ANOGAN_N_PARAM_KINDS; k++) {
      gint64 shape[4];
      int rank = anogan_layer_param_shape (&net->layers[i], k, shape);
      guint64 n = 1;
      gboolean ok = TRUE;
      for (int d = 0; d < rank && ok; d++)
        ok = g_uint64_checked_mul (&n, n, (guint64) shape[d]);
      if (ok && n <= MAX_PARAM_FLOATS)
        continue;
      g_autofree char *name = tensor_name (net, i, k);
      g_autofree char *dims = format_dims (shape, rank);
      set_error (error, ANOGAN_MODEL_ERROR_METADATA, model->name,
          "tensor '%s' of shape %s: more than the %" G_GSIZE_FORMAT
          " parameters supported", name, dims, MAX_PARAM_FLOATS);
      return FALSE;
    }
  }
  return TRUE;
}

static gboolean
check_param_counts (const AnoganModel *model, GError **error)
{
  const AnoganNet *nets[3];
  int n_nets = model_nets (model, nets);
  for (int n = 0; n < n_nets; n++)
    if (!check_net_param_counts (model, nets[n], error))
      return FALSE;
  gsize floats = anogan_model_param_floats (model);
  if (floats > MAX_PARAM_FLOATS) {
    set_error (error, ANOGAN_MODEL_ERROR_METADATA, model->name,
        "%" G_GSIZE_FORMAT " parameters, more than the %" G_GSIZE_FORMAT
        " supported", floats, MAX_PARAM_FLOATS);
    return FALSE;
  }
  return TRUE;
}

/* The floats one sample takes in @net: every layer's output, and the
 * transient buffers (gradients, a convolution's column matrix).  Each
 * output is bounded by the layers, but not their sum, nor the column
 * matrix: in x kh x kw rows by a column per output position. */
static gsize
net_work_floats (const AnoganNet *net)
{
  gsize floats = anogan_net_workspace_transient_floats (net, net->n_layers,
      1);
  for (int i = 0; i < net->n_layers; i++)
    floats += anogan_shape_numel (&net->layers[i].out_shape);
  return floats;
}

/* Sizes that no single bound covers, checked once the shapes are known;
 * the parameters first, since they bound a column matrix's rows. */
static gboolean
check_sizes (const AnoganModel *model, GError **error)
{
  if (!check_param_counts (model, error))
    return FALSE;
  const AnoganNet *nets[3];
  int n_nets = model_nets (model, nets);
  for (int n = 0; n < n_nets; n++) {
    gsize floats = net_work_floats (nets[n]);
    if (floats > MAX_WORK_FLOATS) {
      set_error (error, ANOGAN_MODEL_ERROR_METADATA, model->name,
          "%s: one sample needs %" G_GSIZE_FORMAT " floats of working "
          "memory, more than the %" G_GSIZE_FORMAT " supported",
          nets[n]->name, floats, MAX_WORK_FLOATS);
      return FALSE;
    }
  }
  return TRUE;
}

static guint32
read_word (const guint8 *p)
{
  guint32 w;
  memcpy (&w, p, sizeof w);
  return GUINT32_FROM_LE (w);
}

/* Looks at the bits, so that it needs neither alignment nor host order. */
static gboolean
check_values (const AnoganModel *model, const AnoganTensorInfo *t,
    gboolean variance, GError **error)
{
  for (gsize i = 0; i < t->size / 4; i++) {
    guint32 w = read_word (t->data + 4 * i);
    if ((w & 0x7f800000u) == 0x7f800000u) {
      set_error (error, ANOGAN_MODEL_ERROR_TENSOR, model->name,
          "tensor '%s': non-finite value at index %" G_GSIZE_FORMAT,
          t->name, i);
      return FALSE;
    }
    if (variance && (w & 0x80000000u) && (w & 0x7fffffffu)) {
      set_error (error, ANOGAN_MODEL_ERROR_TENSOR, model->name,
          "tensor '%s': negative variance at index %" G_GSIZE_FORMAT,
          t->name, i);
      return FALSE;
    }
  }
  return TRUE;
}

static gboolean
check_tensor (const AnoganModel *model, const AnoganSafetensors *st,
    const char *name, const gint64 *shape, int rank, gboolean variance,
    GError **error)
{
  const AnoganTensorInfo *t = anogan_safetensors_lookup (st, name);
  if (t == NULL) {
    set_error (error, ANOGAN_MODEL_ERROR_TENSOR, model->name,
        "missing tensor '%s'", name);
    return FALSE;
  }
  if (strcmp (t->dtype, "F32") != 0) {
    set_error (error, ANOGAN_MODEL_ERROR_TENSOR, model->name,
        "tensor '%s': dtype mismatch: %s, want F32", name, t->dtype);
    return FALSE;
  }
  if (t->rank != rank
      || memcmp (t->shape, shape, sizeof (gint64) * rank) != 0) {
    g_autofree char *got = format_dims (t->shape, t->rank);
    g_autofree char *want = format_dims (shape, rank);
    set_error (error, ANOGAN_MODEL_ERROR_TENSOR, model->name,
        "tensor '%s': shape mismatch: %s, want %s", name, got, want);
    return FALSE;
  }
  return check_values (model, t, variance, error);
}

/* Checks the tensors of @net and adds their names to @expected, and the
 * names of its BatchNorm layers' step counters to @counters. */
static gboolean
check_net_tensors (const AnoganModel *model, const AnoganNet *net,
    const AnoganSafetensors *st, GHashTable *expected, GHashTable *counters,
    GError **error)
{
  for (int i = 0; i < net->n_layers; i++) {
    AnoganLayerKind kind = net->layers[i].kind;
    if (kind == ANOGAN_LAYER_BATCH_NORM1D || kind == ANOGAN_LAYER_BATCH_NORM2D)
      g_hash_table_add (counters, g_strdup_printf ("%s.%d.num_batches_tracked",
              net->name, i));
    for (int k = 0; k < ANOGAN_N_PARAM_KINDS; k++) {
      gint64 shape[4];
      int rank = anogan_layer_param_shape (&net->layers[i], k, shape);
      if (rank == 0)
        continue;
      char *name = tensor_name (net, i, k);
      g_hash_table_add (expected, name);
      if (!check_tensor (model, st, name, shape, rank,
              k == ANOGAN_PARAM_RUNNING_VAR, error))
        return FALSE;
    }
  }
  return TRUE;
}

/* PyTorch's BatchNorm keeps a step counter beside its statistics; eval
 * mode never reads it, so it may be present and is ignored.  A trainer's
 * tensors are skipped too.  Anything else is unexpected.  Each tensor
 * costs a lookup or two, however many layers and tensors the file has. */
static gboolean
is_expected (const AnoganTensorInfo *t, GHashTable *expected,
    GHashTable *counters)
{
  return g_hash_table_contains (expected, t->name)
      || g_str_has_prefix (t->name, ANOGAN_MODEL_TRAINER_PREFIX)
      || (g_hash_table_contains (counters, t->name)
          && strcmp (t->dtype, "I64") == 0 && t->rank == 0);
}

static gboolean
check_tensors (const AnoganModel *model, const AnoganSafetensors *st,
    GError **error)
{
  g_autoptr (GHashTable) expected = g_hash_table_new_full (g_str_hash,
      g_str_equal, g_free, NULL);
  g_autoptr (GHashTable) counters = g_hash_table_new_full (g_str_hash,
      g_str_equal, g_free, NULL);
  const AnoganNet *nets[3];
  int n_nets = model_nets (model, nets);
  for (int n = 0; n < n_nets; n++)
    if (!check_net_tensors (model, nets[n], st, expected, counters, error))
      return FALSE;
  for (int i = 0; i < anogan_safetensors_n_tensors (st); i++) {
    const AnoganTensorInfo *t = anogan_safetensors_get (st, i);
    if (!is_expected (t, expected, counters)) {
      set_error (error, ANOGAN_MODEL_ERROR_TENSOR, model->name,
          "unexpected tensor '%s' (%s)", t->name, t->dtype);
      return FALSE;
    }
  }
  return TRUE;
}

/* Zero copy needs the file's little-endian floats to be usable as they
 * are: a little-endian host and every tensor 4-byte aligned in memory. */
static gboolean
can_map_tensors (const AnoganModel *model, const AnoganSafetensors *st)
{
  if (G_BYTE_ORDER != G_LITTLE_ENDIAN)
    return FALSE;
  const AnoganNet *nets[3];
  int n_nets = model_nets (model, nets);
  for (int n = 0; n < n_nets; n++) {
    for (int i = 0; i < nets[n]->n_layers; i++) {
      for (int k = 0; k < ANOGAN_N_PARAM_KINDS; k++) {
        g_autofree char *name = tensor_name (nets[n], i, k);
        const AnoganTensorInfo *t = anogan_safetensors_lookup (st, name);
        if (t != NULL && (guintptr) t->data % sizeof (float) != 0)
          return FALSE;
      }
    }
  }
  return TRUE;
}

static void
map_net_tensors (const AnoganNet *net, const AnoganSafetensors *st)
{
  for (int i = 0; i < net->n_layers; i++) {
    for (int k = 0; k < ANOGAN_N_PARAM_KINDS; k++) {
      net->params[i].t[k] = NULL;
      if (anogan_layer_param_floats (&net->layers[i], k) == 0)
        continue;
      g_autofree char *name = tensor_name (net, i, k);
      const AnoganTensorInfo *t = anogan_safetensors_lookup (st, name);
      /* Read-only memory: the mapping is never written through. */
      net->params[i].t[k] = (float *) t->data;
    }
  }
}

/* One owned block for every network, G's tensors first, then D's, then
 * the encoder's. */
static gboolean
allocate_storage (AnoganModel *model, GError **error)
{
  gsize total = anogan_model_param_floats (model);
  model->storage = g_try_new0 (float, MAX (total, 1));
  if (model->storage == NULL) {
    set_error (error, ANOGAN_MODEL_ERROR_IO, model->name,
        "cannot allocate %" G_GSIZE_FORMAT " parameters", total);
    return FALSE;
  }
  const AnoganNet *nets[3];
  int n_nets = model_nets (model, nets);
  float *block = model->storage;
  for (int n = 0; n < n_nets; n++)
    block += anogan_net_bind_params (nets[n], block, nets[n]->params);
  return TRUE;
}

static void
copy_net_tensors (const AnoganNet *net, const AnoganSafetensors *st)
{
  for (int i = 0; i < net->n_layers; i++) {
    for (int k = 0; k < ANOGAN_N_PARAM_KINDS; k++) {
      gsize n = anogan_layer_param_floats (&net->layers[i], k);
      if (n == 0)
        continue;
      g_autofree char *name = tensor_name (net, i, k);
      const AnoganTensorInfo *t = anogan_safetensors_lookup (st, name);
      gboolean ok = anogan_tensor_read_f32 (t, net->params[i].t[k], n);
      g_assert (ok);            /* check_tensors() made sure */
    }
  }
}

static JsonObject *
parse_metadata_json (const AnoganSafetensors *st, const char *name,
    GError **error)
{
  const char *text = anogan_safetensors_metadata (st, "anogan");
  if (text == NULL) {
    set_error (error, ANOGAN_MODEL_ERROR_METADATA, name,
        "metadata missing: no \"anogan\" key in __metadata__");
    return NULL;
  }
  g_autofree char *problem = anogan_json_check (text, strlen (text),
      "\"anogan\" metadata");
  if (problem != NULL) {
    set_error (error, ANOGAN_MODEL_ERROR_METADATA, name, "%s", problem);
    return NULL;
  }
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) json_error = NULL;
  if (!json_parser_load_from_data (parser, text, -1, &json_error)) {
    set_error (error, ANOGAN_MODEL_ERROR_METADATA, name,
        "\"anogan\" metadata is not JSON: %s", json_error->message);
    return NULL;
  }
  JsonNode *root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root)) {
    set_error (error, ANOGAN_MODEL_ERROR_METADATA, name,
        "\"anogan\" metadata is not a JSON object");
    return NULL;
  }
  return json_object_ref (json_node_get_object (root));
}

/**
 * anogan_model_load_from_bytes:
 * @bytes: a whole model file
 * @name: how to call it in error messages and in the model's @name
 * @error: return location for an %ANOGAN_MODEL_ERROR
 *
 * Loads a model from a safetensors container (docs/model-format.md),
 * checking the description, every tensor's dtype, shape and values, and
 * that no unexpected tensor is present.
 *
 * When the host is little-endian and every tensor is 4-byte aligned in
 * @bytes, the model's parameters point straight into @bytes, of which it
 * keeps a reference: they must then be treated as read-only (a mapped
 * file is mapped read-only).  Otherwise they are copied into one block
 * that the model owns.
 *
 * Returns: (transfer full) (nullable): the model, or %NULL on error
 */
AnoganModel *
anogan_model_load_from_bytes (GBytes *bytes, const char *name,
    GError **error)
{
  g_return_val_if_fail (bytes != NULL, NULL);
  g_return_val_if_fail (name != NULL, NULL);

  g_autoptr (AnoganSafetensors) st = anogan_safetensors_parse (bytes, name,
      error);
  if (st == NULL)
    return NULL;
  JsonObject *description = parse_metadata_json (st, name, error);
  if (description == NULL)
    return NULL;
  g_autoptr (AnoganModel) model = model_new (name, description);
  json_object_unref (description);
  if (!parse_description (model, description, error)
      || !check_tensors (model, st, error))
    return NULL;

  const AnoganNet *nets[3];
  int n_nets = model_nets (model, nets);
  if (can_map_tensors (model, st)) {
    model->bytes = g_bytes_ref (bytes);
    for (int n = 0; n < n_nets; n++)
      map_net_tensors (nets[n], st);
  } else {
    if (!allocate_storage (model, error))
      return NULL;
    for (int n = 0; n < n_nets; n++)
      copy_net_tensors (nets[n], st);
  }
  return g_steal_pointer (&model);
}

/* Maps @path if it is a regular file of at most @max_bytes, what @kind
 * ("a model file") may have.  A device, a
 * directory or a file larger than any model is refused from its type and
 * size alone, before a byte of it is read; the file is opened without
 * blocking, since opening a FIFO that has no writer would wait forever. */
static GMappedFile *
map_regular_file (const char *path, guint64 max_bytes, const char *kind,
    GError **error)
{
  struct stat st;
  int fd = g_open (path, O_RDONLY | O_NONBLOCK | O_CLOEXEC, 0);
  if (fd < 0 || fstat (fd, &st) != 0) {
    int saved_errno = errno;
    set_error (error, ANOGAN_MODEL_ERROR_IO, path, "cannot read: %s",
        g_strerror (saved_errno));
    if (fd >= 0)
      close (fd);
    return NULL;
  }
  GMappedFile *mapping = NULL;
  g_autoptr (GError) io_error = NULL;
  if (!S_ISREG (st.st_mode)) {
    set_error (error, ANOGAN_MODEL_ERROR_IO, path,
        "cannot read: not a regular file");
  } else if ((guint64) st.st_size > max_bytes) {
    set_error (error, ANOGAN_MODEL_ERROR_IO, path, "cannot read: %"
        G_GUINT64_FORMAT " bytes, more than %s may have (%" G_GUINT64_FORMAT
        ")", (guint64) st.st_size, kind, max_bytes);
  } else if ((mapping = g_mapped_file_new_from_fd (fd, FALSE,
              &io_error)) == NULL) {
    set_error (error, ANOGAN_MODEL_ERROR_IO, path, "cannot read: %s",
        io_error->message);
  }
  close (fd);
  return mapping;
}

/**
 * anogan_model_load:
 * @path: a model file
 * @error: return location for an %ANOGAN_MODEL_ERROR
 *
 * Maps @path read-only and loads it with anogan_model_load_from_bytes();
 * the weights stay in the mapping when they can.  Anything but a regular
 * file, and a file larger than 16 GiB, is refused before it is read.
 *
 * Returns: (transfer full) (nullable): the model, or %NULL on error
 */
AnoganModel *
anogan_model_load (const char *path, GError **error)
{
  g_return_val_if_fail (path != NULL, NULL);

  GMappedFile *mapping = map_regular_file (path, MAX_FILE_BYTES,
      "a model file", error);
  if (mapping == NULL)
    return NULL;
  GBytes *bytes = g_mapped_file_get_bytes (mapping);
  AnoganModel *model = anogan_model_load_from_bytes (bytes, path, error);
  if (model != NULL && model->bytes != NULL)
    model->mapping = g_mapped_file_ref (mapping);
  g_bytes_unref (bytes);
  g_mapped_file_unref (mapping);
  return model;
}

/* ---- Fresh models ---- */

static void
fill (float *x, gsize n, float value)
{
  for (gsize i = 0; i < n; i++)
    x[i] = value;
}

/* BatchNorm as PyTorch constructs it: identity scale, unit variance. */
static void
reset_batch_norms (const AnoganNet *net)
{
  for (int i = 0; i < net->n_layers; i++) {
    const AnoganLayer *layer = &net->layers[i];
    AnoganLayerParams *p = &net->params[i];
    if (layer->kind != ANOGAN_LAYER_BATCH_NORM1D
        && layer->kind != ANOGAN_LAYER_BATCH_NORM2D)
      continue;
    int c = layer->in_channels;
    if (p->t[ANOGAN_PARAM_WEIGHT] != NULL)
      fill (p->t[ANOGAN_PARAM_WEIGHT], c, 1.0f);
    if (p->t[ANOGAN_PARAM_BIAS] != NULL)
      fill (p->t[ANOGAN_PARAM_BIAS], c, 0.0f);
    fill (p->t[ANOGAN_PARAM_RUNNING_MEAN], c, 0.0f);
    fill (p->t[ANOGAN_PARAM_RUNNING_VAR], c, 1.0f);
  }
}

/**
 * anogan_model_new_from_description:
 * @description: an `anogan` description (docs/model-format.md); the
 *   model keeps a reference as its @metadata
 * @name: the model's name, used in error messages
 * @error: return location for an %ANOGAN_MODEL_ERROR
 *
 * Builds a model of the described architecture whose tensors live in one
 * owned block: BatchNorm weights 1, running variances 1, everything else
 * 0.  anogan_model_init_weights() gives it a random start.
 *
 * Returns: (transfer full) (nullable): the model, or %NULL on error
 */
AnoganModel *
anogan_model_new_from_description (JsonObject *description,
    const char *name, GError **error)
{
  g_return_val_if_fail (description != NULL, NULL);
  g_return_val_if_fail (name != NULL, NULL);

  g_autoptr (AnoganModel) model = model_new (name, description);
  if (!parse_description (model, description, error)
      || !allocate_storage (model, error))
    return NULL;
  const AnoganNet *nets[3];
  int n_nets = model_nets (model, nets);
  for (int n = 0; n < n_nets; n++)
    reset_batch_norms (nets[n]);
  return g_steal_pointer (&model);
}

static gboolean
is_arch_path (const char *arch)
{
  return strchr (arch, '/') != NULL || strchr (arch, G_DIR_SEPARATOR) != NULL
      || g_str_has_suffix (arch, ".json");
}

static GBytes *
lookup_arch (const char *arch, GError **error)
{
  if (is_arch_path (arch)) {
    GMappedFile *mapping = map_regular_file (arch, MAX_DESCRIPTION_BYTES,
        "a description", error);
    if (mapping == NULL)
      return NULL;
    GBytes *bytes = g_mapped_file_get_bytes (mapping);
    g_mapped_file_unref (mapping);
    return bytes;
  }
  g_autofree char *path = g_strdup_printf (ARCH_PATH "/%s.json", arch);
  GBytes *bytes = g_resource_lookup_data (anogan_arch_get_resource (), path,
      G_RESOURCE_LOOKUP_FLAGS_NONE, NULL);
  if (bytes == NULL) {
    g_auto (GStrv) known = anogan_model_list_archs ();
    g_autofree char *list = g_strjoinv (", ", known);
    set_error (error, ANOGAN_MODEL_ERROR_IO, arch,
        "unknown architecture (built in: %s; or give a path to a .json "
        "file)", list);
  }
  return bytes;
}

/**
 * anogan_model_new_from_arch:
 * @arch: the name of a built-in architecture (see
 *   anogan_model_list_archs()) or, when it contains a '/' or ends in
 *   ".json", the path of a JSON file holding an `anogan` description
 * @error: return location for an %ANOGAN_MODEL_ERROR
 *
 * Builds a model as anogan_model_new_from_description() does.  An unknown
 * name or an unreadable file is an %ANOGAN_MODEL_ERROR_IO error, and so is
 * anything but a regular file of at most 16 MiB, refused before it is
 * read.
 *
 * Returns: (transfer full) (nullable): the model, or %NULL on error
 */
AnoganModel *
anogan_model_new_from_arch (const char *arch, GError **error)
{
  g_return_val_if_fail (arch != NULL, NULL);

  g_autoptr (GBytes) bytes = lookup_arch (arch, error);
  if (bytes == NULL)
    return NULL;
  gsize length;
  const char *text = g_bytes_get_data (bytes, &length);
  g_autofree char *problem = anogan_json_check (text, length, "description");
  if (problem != NULL) {
    set_error (error, ANOGAN_MODEL_ERROR_METADATA, arch, "%s", problem);
    return NULL;
  }
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) json_error = NULL;
  if (!json_parser_load_from_data (parser, text, length, &json_error)) {
    set_error (error, ANOGAN_MODEL_ERROR_METADATA, arch,
        "description is not JSON: %s", json_error->message);
    return NULL;
  }
  JsonNode *root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root)) {
    set_error (error, ANOGAN_MODEL_ERROR_METADATA, arch,
        "description is not a JSON object");
    return NULL;
  }
  return anogan_model_new_from_description (json_node_get_object (root),
      arch, error);
}

/**
 * anogan_model_list_archs:
 *
 * Returns: (transfer full): the names of the built-in architectures,
 *   sorted; free with g_strfreev()
 */
char **
anogan_model_list_archs (void)
{
  g_auto (GStrv) files = g_resource_enumerate_children (
      anogan_arch_get_resource (), ARCH_PATH, G_RESOURCE_LOOKUP_FLAGS_NONE,
      NULL);
  GPtrArray *names = g_ptr_array_new ();
  for (int i = 0; files != NULL && files[i] != NULL; i++)
    if (g_str_has_suffix (files[i], ".json"))
      g_ptr_array_add (names, g_strndup (files[i], strlen (files[i]) - 5));
  g_ptr_array_sort (names, (GCompareFunc) g_strcmp0);
  g_ptr_array_add (names, NULL);
  return (char **) g_ptr_array_free (names, FALSE);
}

/* ---- Random initialisation ---- */

/* splitmix64 and Box-Muller: small, and the same numbers everywhere. */
typedef struct {
  guint64 state;
  gboolean has_spare;
  double spare;
} Gaussian;

static double
gaussian_next (Gaussian *g)
{
  if (g->has_spare) {
    g->has_spare = FALSE;
    return g->spare;
  }
  /* u1 in (0, 1] keeps the logarithm finite. */
  double u1 = ((anogan_random_next (&g->state) >> 11) + 1) * 0x1.0p-53;
  double u2 = anogan_random_uniform (&g->state);
  double r = sqrt (-2.0 * log (u1));
  g->spare = r * sin (2.0 * G_PI * u2);
  g->has_spare = TRUE;
  return r * cos (2.0 * G_PI * u2);
}

static void
fill_normal (float *x, gsize n, float mean, float std, Gaussian *g)
{
  for (gsize i = 0; i < n; i++)
    x[i] = mean + std * gaussian_next (g);
}

static void
init_net_weights (const AnoganNet *net, Gaussian *g)
{
  for (int i = 0; i < net->n_layers; i++) {
    const AnoganLayer *layer = &net->layers[i];
    AnoganLayerParams *p = &net->params[i];
    gsize w = anogan_layer_param_floats (layer, ANOGAN_PARAM_WEIGHT);
    gsize b = anogan_layer_param_floats (layer, ANOGAN_PARAM_BIAS);
    switch (layer->kind) {
      case ANOGAN_LAYER_LINEAR:
      case ANOGAN_LAYER_CONV2D:
      case ANOGAN_LAYER_CONV_TRANSPOSE2D:
        fill_normal (p->t[ANOGAN_PARAM_WEIGHT], w, 0.0f, 0.02f, g);
        if (b > 0)
          fill (p->t[ANOGAN_PARAM_BIAS], b, 0.0f);
        break;
      case ANOGAN_LAYER_BATCH_NORM1D:
      case ANOGAN_LAYER_BATCH_NORM2D:
        if (w > 0)
          fill_normal (p->t[ANOGAN_PARAM_WEIGHT], w, 1.0f, 0.02f, g);
        if (b > 0)
          fill (p->t[ANOGAN_PARAM_BIAS], b, 0.0f);
        fill (p->t[ANOGAN_PARAM_RUNNING_MEAN], layer->in_channels, 0.0f);
        fill (p->t[ANOGAN_PARAM_RUNNING_VAR], layer->in_channels, 1.0f);
        break;
      default:
        break;
    }
  }
}

/**
 * anogan_model_init_weights:
 * @model: a model that owns its tensors (not one mapped from a file)
 * @seed: the seed; the same seed gives the same weights everywhere
 *
 * The DCGAN paper's initialisation: convolution, transposed convolution
 * and linear weights from N(0, 0.02), BatchNorm weights from N(1, 0.02),
 * biases 0, running statistics reset to mean 0 and variance 1.
 */
void
anogan_model_init_weights (AnoganModel *model, guint64 seed)
{
  g_return_if_fail (model != NULL);
  g_return_if_fail (model->storage != NULL);

  Gaussian g = { seed, FALSE, 0.0 };
  const AnoganNet *nets[3];
  int n_nets = model_nets (model, nets);
  for (int n = 0; n < n_nets; n++)
    init_net_weights (nets[n], &g);
}

/* ---- Saving ---- */

/* The shortest decimal that reads back as @value, so that a float 0.1
 * is written 0.1 and not 0.10000000149011612. */
static double
float_as_short_double (float value)
{
  for (int digits = 1; digits <= 9; digits++) {
    char format[8], text[G_ASCII_DTOSTR_BUF_SIZE];
    g_snprintf (format, sizeof format, "%%.%dg", digits);
    g_ascii_formatd (text, sizeof text, format, value);
    double d = g_ascii_strtod (text, NULL);
    if ((float) d == value)
      return d;
  }
  return value;
}

/* json-glib 1.6 writes a double as g_ascii_dtostr() does and appends
 * ".0" when the text has no point, after an exponent too: 1e17 comes out
 * as "1e+17.0", which no JSON parser reads.  Drops such a ".0" from
 * @text, in place; strings are left as they are. */
static void
mend_exponents (char *text)
{
  char *out = text;
  const char *p = text;
  gboolean in_string = FALSE;

  while (*p != '\0') {
    char c = *p;
    *out++ = *p++;
    if (in_string) {
      if (c == '\\' && *p != '\0')
        *out++ = *p++;
      else if (c == '"')
        in_string = FALSE;
    } else if (c == '"') {
      in_string = TRUE;
    } else if (c == 'e' || c == 'E') {
      if (*p == '+' || *p == '-')
        *out++ = *p++;
      if (!g_ascii_isdigit (*p))
        continue;
      while (g_ascii_isdigit (*p))
        *out++ = *p++;
      if (p[0] == '.' && p[1] == '0' && !g_ascii_isdigit (p[2]))
        p += 2;
    }
  }
  *out = '\0';
}

/* The description to save: the model's metadata with its current lambda
 * and threshold. */
static char *
description_to_json (const AnoganModel *model)
{
  JsonObject *desc = json_object_new ();
  g_autoptr (GList) members = json_object_get_members (model->metadata);
  for (GList *l = members; l != NULL; l = l->next)
    json_object_set_member (desc, l->data,
        json_node_copy (json_object_get_member (model->metadata, l->data)));
  json_object_set_double_member (desc, "lambda",
      float_as_short_double (model->lambda));
  if (isfinite (model->threshold))
    json_object_set_double_member (desc, "threshold", model->threshold);
  else
    json_object_set_null_member (desc, "threshold");

  JsonNode *root = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (root, desc);
  char *text = json_to_string (root, FALSE);
  json_node_unref (root);
  mend_exponents (text);
  return text;
}

static void
add_net_tensors (AnoganSafetensorsWriter *w, const AnoganNet *net)
{
  for (int i = 0; i < net->n_layers; i++) {
    for (int k = 0; k < ANOGAN_N_PARAM_KINDS; k++) {
      gint64 shape[4];
      int rank = anogan_layer_param_shape (&net->layers[i], k, shape);
      if (rank == 0)
        continue;
      g_autofree char *name = tensor_name (net, i, k);
      anogan_safetensors_writer_add_f32 (w, name, rank, shape,
          net->params[i].t[k]);
    }
  }
}

/**
 * anogan_model_writer_new:
 * @model: a model
 *
 * A safetensors writer that already holds @model: every tensor under its
 * state_dict name and the `anogan` description with the model's current
 * lambda and threshold.  A training checkpoint adds its own tensors
 * (named with %ANOGAN_MODEL_TRAINER_PREFIX) before saving.
 *
 * Returns: (transfer full): the writer
 */
AnoganSafetensorsWriter *
anogan_model_writer_new (const AnoganModel *model)
{
  g_return_val_if_fail (model != NULL, NULL);

  AnoganSafetensorsWriter *w = anogan_safetensors_writer_new ();
  g_autofree char *description = description_to_json (model);
  anogan_safetensors_writer_set_metadata (w, "format", "pt");
  anogan_safetensors_writer_set_metadata (w, "anogan", description);
  const AnoganNet *nets[3];
  int n_nets = model_nets (model, nets);
  for (int n = 0; n < n_nets; n++)
    add_net_tensors (w, nets[n]);
  return w;
}

/**
 * anogan_model_save:
 * @model: a model
 * @path: where to write it
 * @error: return location for an %ANOGAN_MODEL_ERROR_IO error
 *
 * Writes @model as a safetensors file that anogan_model_load() and
 * PyTorch read: every tensor under its state_dict name, and the `anogan`
 * description with the model's current lambda and threshold.  The file
 * is replaced atomically.
 *
 * Returns: %TRUE on success
 */
gboolean
anogan_model_save (const AnoganModel *model, const char *path,
    GError **error)
{
  g_return_val_if_fail (model != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  g_autoptr (AnoganSafetensorsWriter) w = anogan_model_writer_new (model);
  return anogan_safetensors_writer_save (w, path, error);
}

static void
copy_net_params (const AnoganNet *net, const AnoganLayerParams *from)
{
  for (int i = 0; i < net->n_layers; i++)
    for (int k = 0; k < ANOGAN_N_PARAM_KINDS; k++)
      if (from[i].t[k] != NULL)
        memcpy (net->params[i].t[k], from[i].t[k],
            anogan_layer_param_floats (&net->layers[i], k) * sizeof (float));
}

/**
 * anogan_model_make_writable:
 * @model: a model
 * @error: return location for an %ANOGAN_MODEL_ERROR_IO error
 *
 * Gives @model a block of tensors of its own, copied from the file
 * mapping its weights may point into, so that a trainer can change them.
 * A model that owns its tensors already is left as it is.  Afterwards
 * model->storage holds every tensor, G's first, then D's and the
 * encoder's, in the layout of
 * anogan_net_bind_params().
 *
 * Returns: %FALSE if the memory cannot be had
 */
gboolean
anogan_model_make_writable (AnoganModel *model, GError **error)
{
  g_return_val_if_fail (model != NULL, FALSE);

  if (model->storage != NULL)
    return TRUE;

  const AnoganNet *nets[3];
  AnoganLayerParams *mapped[3];
  int n_nets = model_nets (model, nets);
  for (int n = 0; n < n_nets; n++)
    mapped[n] = g_memdup2 (nets[n]->params,
        nets[n]->n_layers * sizeof (AnoganLayerParams));
  gboolean ok = allocate_storage (model, error);
  for (int n = 0; n < n_nets; n++) {
    if (ok)
      copy_net_params (nets[n], mapped[n]);
    g_free (mapped[n]);
  }
  if (!ok)
    return FALSE;
  g_clear_pointer (&model->mapping, g_mapped_file_unref);
  g_clear_pointer (&model->bytes, g_bytes_unref);
  return TRUE;
}

/**
 * anogan_model_param_floats:
 * @model: a model
 *
 * Returns: the number of floats in all tensors of G, D and the encoder
 */
gsize
anogan_model_param_floats (const AnoganModel *model)
{
  g_return_val_if_fail (model != NULL, 0);
  const AnoganNet *nets[3];
  int n_nets = model_nets (model, nets);
  gsize total = 0;
  for (int n = 0; n < n_nets; n++)
    total += anogan_net_param_floats (nets[n]);
  return total;
}

static AnoganModel *with_encoder (const AnoganModel *model,
    JsonArray *layers, const char *input, guint64 seed, GError **error);

/**
 * anogan_model_has_encoder:
 * @model: a model
 *
 * Returns: whether @model holds an encoder, so that its search can start
 *   from E(x) (%ANOGAN_Z_ENCODER)
 */
gboolean
anogan_model_has_encoder (const AnoganModel *model)
{
  g_return_val_if_fail (model != NULL, FALSE);
  return model->encoder.n_layers > 0;
}

static gboolean
is_shaping_layer (JsonObject *layer)
{
  const char *type = json_object_get_string_member_with_default (layer,
      "type", "");
  return strcmp (type, "Conv2d") == 0 || strcmp (type, "Linear") == 0;
}

/**
 * anogan_model_default_encoder:
 * @model: a model
 *
 * The encoder f-AnoGAN pairs with a DCGAN: the discriminator's layers up
 * to its last convolution or linear layer, which gives nz outputs instead
 * of D's verdict; the activation after it (D's sigmoid) is left out, so
 * that E can reach all of z's prior.
 *
 * Returns: (transfer full) (nullable): the layer entries, or %NULL when
 *   the discriminator ends in no convolution or linear layer
 */
JsonArray *
anogan_model_default_encoder (const AnoganModel *model)
{
  g_return_val_if_fail (model != NULL, NULL);

  JsonNode *node = json_object_get_member (model->metadata, "discriminator");
  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
    return NULL;
  JsonArray *d = json_node_get_array (node);
  int last = (int) json_array_get_length (d) - 1;
  while (last >= 0 && !is_shaping_layer (json_array_get_object_element (d,
              last)))
    last--;
  if (last < 0)
    return NULL;

  /* json_node_copy() shares objects: each entry is copied member by
   * member, so that changing the head leaves D's description alone. */
  JsonArray *e = json_array_new ();
  for (int i = 0; i <= last; i++) {
    JsonObject *from = json_array_get_object_element (d, i);
    JsonObject *entry = json_object_new ();
    g_autoptr (GList) members = json_object_get_members (from);
    for (GList *l = members; l != NULL; l = l->next)
      json_object_set_member (entry, l->data,
          json_node_copy (json_object_get_member (from, l->data)));
    json_array_add_object_element (e, entry);
  }
  JsonObject *head = json_array_get_object_element (e, last);
  if (json_object_has_member (head, "out_channels"))
    json_object_set_int_member (head, "out_channels", model->nz);
  else
    json_object_set_int_member (head, "out_features", model->nz);
  return e;
}

/**
 * anogan_model_add_encoder:
 * @model: a model
 * @encoder: (nullable): the encoder's layer entries, as in the
 *   description's "encoder" key; %NULL for anogan_model_default_encoder()
 * @seed: the seed of the encoder's initial weights
 * @error: return location for an %ANOGAN_MODEL_ERROR
 *
 * A copy of @model, G and D and their card included, with a freshly
 * initialised encoder (DCGAN's initialisation) in place of any it had, for
 * f-AnoGAN's encoder training.  The copy owns its tensors.
 *
 * Returns: (transfer full) (nullable): the new model, or %NULL on error
 */
AnoganModel *
anogan_model_add_encoder (const AnoganModel *model, JsonArray *encoder,
    guint64 seed, GError **error)
{
  g_return_val_if_fail (model != NULL, NULL);

  g_autoptr (JsonArray) layers = encoder ? json_array_ref (encoder)
      : anogan_model_default_encoder (model);
  if (layers == NULL) {
    set_error (error, ANOGAN_MODEL_ERROR_METADATA, model->name,
        "no default encoder: the discriminator ends in no Conv2d or "
        "Linear layer");
    return NULL;
  }
  return with_encoder (model, layers, "image", seed, error);
}

/**
 * anogan_model_default_feature_encoder:
 * @model: a model
 *
 * An encoder that reads f(x), the discriminator's feature layer: a
 * convolution over the whole feature map to 256 channels (a linear layer
 * when f is a vector), LeakyReLU(0.2), and a 1x1 convolution (linear) to
 * nz.  It adds about 2·F·256 multiply-adds to the f(x) the score needs
 * anyway, where an encoder on the image costs as much as D.
 *
 * Returns: (transfer full): the layer entries
 */
JsonArray *
anogan_model_default_feature_encoder (const AnoganModel *model)
{
  g_return_val_if_fail (model != NULL, NULL);

  const AnoganShape *f = anogan_net_output_shape (&model->discriminator,
      model->feature_layer + 1);
  const gboolean image = f->rank == 3;
  const int hidden = 256;
  JsonArray *e = json_array_new ();
  JsonObject *first = json_object_new (), *act = json_object_new (),
      *head = json_object_new ();

  json_object_set_string_member (first, "type", image ? "Conv2d" : "Linear");
  json_object_set_int_member (first, image ? "in_channels" : "in_features",
      f->dims[0]);
  json_object_set_int_member (first, image ? "out_channels" : "out_features",
      hidden);
  if (image) {
    g_autoptr (JsonArray) kernel = json_array_new ();
    json_array_add_int_element (kernel, f->dims[1]);
    json_array_add_int_element (kernel, f->dims[2]);
    json_object_set_array_member (first, "kernel_size",
        json_array_ref (kernel));
  }
  json_object_set_string_member (act, "type", "LeakyReLU");
  json_object_set_double_member (act, "negative_slope", 0.2);
  json_object_set_string_member (head, "type", image ? "Conv2d" : "Linear");
  json_object_set_int_member (head, image ? "in_channels" : "in_features",
      hidden);
  json_object_set_int_member (head, image ? "out_channels" : "out_features",
      model->nz);
  if (image)
    json_object_set_int_member (head, "kernel_size", 1);
  json_array_add_object_element (e, first);
  json_array_add_object_element (e, act);
  json_array_add_object_element (e, head);
  return e;
}

/**
 * anogan_model_add_feature_encoder:
 * @model: a model
 * @encoder: (nullable): the encoder's layer entries, from f(x) to nz
 *   values; %NULL for anogan_model_default_feature_encoder()
 * @seed: the seed of the encoder's initial weights
 * @error: return location for an %ANOGAN_MODEL_ERROR
 *
 * As anogan_model_add_encoder(), for an encoder that reads the
 * discriminator's features f(x) ("encoder_input": "features").
 *
 * Returns: (transfer full) (nullable): the new model, or %NULL on error
 */
AnoganModel *
anogan_model_add_feature_encoder (const AnoganModel *model,
    JsonArray *encoder, guint64 seed, GError **error)
{
  g_return_val_if_fail (model != NULL, NULL);

  g_autoptr (JsonArray) layers = encoder ? json_array_ref (encoder)
      : anogan_model_default_feature_encoder (model);
  return with_encoder (model, layers, "features", seed, error);
}

/* A copy of @model with a fresh encoder of @layers reading @input. */
static AnoganModel *
with_encoder (const AnoganModel *model, JsonArray *layers, const char *input,
    guint64 seed, GError **error)
{
  JsonObject *desc = json_object_new ();
  g_autoptr (GList) members = json_object_get_members (model->metadata);
  for (GList *l = members; l != NULL; l = l->next)
    json_object_set_member (desc, l->data,
        json_node_copy (json_object_get_member (model->metadata, l->data)));
  json_object_set_array_member (desc, "encoder", json_array_ref (layers));
  json_object_set_string_member (desc, "encoder_input", input);

  AnoganModel *copy = anogan_model_new_from_description (desc, model->name,
      error);
  json_object_unref (desc);
  if (copy == NULL)
    return NULL;
  copy->lambda = model->lambda;
  copy->threshold = model->threshold;
  copy_net_params (&copy->generator, model->generator.params);
  copy_net_params (&copy->discriminator, model->discriminator.params);
  Gaussian g = { seed, FALSE, 0.0 };
  init_net_weights (&copy->encoder, &g);
  return copy;
}

/**
 * anogan_model_get_calibration:
 * @model: a model
 * @mode: (nullable): "optimise", "encoder" or "hybrid"; %NULL for
 *   "optimise"
 *
 * The card's record of how the threshold for a search mode was set: the
 * "calibration" object for the optimising search, "calibration_encoder"
 * and "calibration_hybrid" for the searches that start from the encoder
 * (docs/model-format.md).
 *
 * Returns: (transfer none) (nullable): the object, or %NULL when the
 *   model was not calibrated for @mode
 */
JsonObject *
anogan_model_get_calibration (const AnoganModel *model, const char *mode)
{
  g_return_val_if_fail (model != NULL, NULL);

  g_autofree char *key = mode == NULL || strcmp (mode, "optimise") == 0
      ? g_strdup ("calibration") : g_strconcat ("calibration_", mode, NULL);
  JsonNode *node = json_object_get_member (model->metadata, key);
  return node != NULL && JSON_NODE_HOLDS_OBJECT (node)
      ? json_node_get_object (node) : NULL;
}

/**
 * anogan_model_free:
 * @model: (nullable): a model
 *
 * Frees @model, its tensors and its file mapping.
 */
void
anogan_model_free (AnoganModel *model)
{
  if (model == NULL)
    return;
  anogan_net_clear (&model->generator);
  anogan_net_clear (&model->discriminator);
  anogan_net_clear (&model->encoder);
  g_clear_pointer (&model->metadata, json_object_unref);
  g_clear_pointer (&model->bytes, g_bytes_unref);
  g_clear_pointer (&model->mapping, g_mapped_file_unref);
  g_free (model->storage);
  g_free (model->name);
  g_free (model);
}
