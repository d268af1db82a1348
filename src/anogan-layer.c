/* anogan-layer.c: one network layer, forward and backward
 *
 * Copyright (C) 2026 the gst-anogan authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Every layer is a forward/backward pair over contiguous float buffers in
 * the channel-major batch layout ([C][N][H][W] or [F][N]).  The layers
 * with weights spend all their multiply-adds in one cblas_sgemm per call;
 * the others are plain loops.  No call allocates: workspaces come in
 * through AnoganLayerRun, sized by anogan_layer_scratch_floats() and
 * anogan_layer_state_floats().
 */
#include "anogan-layer.h"
#include "anogan-random.h"

#include <cblas.h>
#include <gio/gio.h>
#include <math.h>
#include <stdarg.h>
#include <string.h>

static const char *const kind_names[ANOGAN_N_LAYER_KINDS] = {
  [ANOGAN_LAYER_LINEAR] = "Linear",
  [ANOGAN_LAYER_CONV2D] = "Conv2d",
  [ANOGAN_LAYER_CONV_TRANSPOSE2D] = "ConvTranspose2d",
  [ANOGAN_LAYER_BATCH_NORM1D] = "BatchNorm1d",
  [ANOGAN_LAYER_BATCH_NORM2D] = "BatchNorm2d",
  [ANOGAN_LAYER_RELU] = "ReLU",
  [ANOGAN_LAYER_LEAKY_RELU] = "LeakyReLU",
  [ANOGAN_LAYER_TANH] = "Tanh",
  [ANOGAN_LAYER_SIGMOID] = "Sigmoid",
  [ANOGAN_LAYER_UPSAMPLE] = "Upsample",
  [ANOGAN_LAYER_ZERO_PAD2D] = "ZeroPad2d",
  [ANOGAN_LAYER_DROPOUT] = "Dropout",
  [ANOGAN_LAYER_FLATTEN] = "Flatten",
  [ANOGAN_LAYER_UNFLATTEN] = "Unflatten",
};

const char *const anogan_param_names[ANOGAN_N_PARAM_KINDS] = {
  "weight", "bias", "running_mean", "running_var",
};

/**
 * anogan_layer_init:
 * @layer: the layer to set up
 * @kind: what it is
 *
 * Zeroes @layer and gives every hyper-parameter PyTorch's default, so a
 * description only needs to state what differs.  Sizes without a default
 * (channels, kernel, ...) are left 0 and must be set before
 * anogan_layer_set_input().
 */
void
anogan_layer_init (AnoganLayer *layer, AnoganLayerKind kind)
{
  memset (layer, 0, sizeof *layer);
  layer->kind = kind;
  for (int d = 0; d < 2; d++) {
    layer->stride[d] = 1;
    layer->padding[d] = 0;
    layer->output_padding[d] = 0;
  }
  layer->bias = TRUE;
  layer->eps = 1e-5f;
  layer->momentum = 0.1f;
  layer->affine = TRUE;
  layer->negative_slope = 0.01f;
  layer->scale_factor = 1;
  layer->p = 0.5f;
  layer->unflattened.rank = 0;
}

/**
 * anogan_layer_kind_name:
 * @kind: a layer kind
 *
 * Returns: the PyTorch class name of @kind ("Conv2d", "LeakyReLU", ...),
 *   a static string.
 */
const char *
anogan_layer_kind_name (AnoganLayerKind kind)
{
  g_return_val_if_fail ((int) kind >= 0 && kind < ANOGAN_N_LAYER_KINDS, NULL);
  return kind_names[kind];
}

/**
 * anogan_layer_kind_from_name:
 * @name: a PyTorch class name, case-sensitive as in PyTorch
 * @kind: (out): where to store the kind
 *
 * Returns: %TRUE if @name is a layer this engine implements.
 */
gboolean
anogan_layer_kind_from_name (const char *name, AnoganLayerKind *kind)
{
  for (int k = 0; k < ANOGAN_N_LAYER_KINDS; k++) {
    if (g_strcmp0 (name, kind_names[k]) == 0) {
      *kind = (AnoganLayerKind) k;
      return TRUE;
    }
  }
  return FALSE;
}

/**
 * anogan_shape_numel:
 * @shape: the shape of one sample
 *
 * Returns: the number of floats in one sample, 0 for a shape not yet set
 *   (rank 0).
 */
gsize
anogan_shape_numel (const AnoganShape *shape)
{
  gsize n = 1;

  if (shape->rank <= 0)
    return 0;
  for (int d = 0; d < shape->rank && d < 3; d++)
    n *= (gsize) MAX (shape->dims[d], 0);
  return n;
}

/**
 * anogan_shape_equal:
 * @a: a shape
 * @b: another shape
 *
 * Returns: %TRUE if both have the same rank and the same sizes; unused
 *   entries of @dims are not compared.
 */
gboolean
anogan_shape_equal (const AnoganShape *a, const AnoganShape *b)
{
  if (a->rank != b->rank)
    return FALSE;
  for (int d = 0; d < a->rank && d < 3; d++)
    if (a->dims[d] != b->dims[d])
      return FALSE;
  return TRUE;
}

/**
 * anogan_shape_to_string:
 * @shape: a shape
 *
 * Returns: (transfer full): the shape as PyTorch would list it without
 *   the batch dimension, e.g. "[1,32,32]"; free with g_free().
 */
char *
anogan_shape_to_string (const AnoganShape *shape)
{
  GString *s = g_string_new ("[");

  for (int d = 0; d < shape->rank && d < 3; d++)
    g_string_append_printf (s, d ? ",%d" : "%d", shape->dims[d]);
  g_string_append_c (s, ']');
  return g_string_free (s, FALSE);
}

/* ---- Shapes: what each kind accepts and produces ---- */

static gboolean fail (GError **error, const AnoganLayer *layer,
    const char *format, ...) G_GNUC_PRINTF (3, 4);

/* Every message starts with the kind, so that the loader only has to say
 * which file and which layer. */
static gboolean
fail (GError **error, const AnoganLayer *layer, const char *format, ...)
{
  va_list args;
  char *what;

  va_start (args, format);
  what = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s %s",
      anogan_layer_kind_name (layer->kind), what);
  g_free (what);
  return FALSE;
}

static AnoganShape
shape_image (int c, int h, int w)
{
  AnoganShape s = { 3, { c, h, w } };
  return s;
}

static AnoganShape
shape_features (int f)
{
  AnoganShape s = { 1, { f, 1, 1 } };
  return s;
}

static gboolean
check_rank (const AnoganLayer *layer, const AnoganShape *in, int rank,
    GError **error)
{
  char *got;

  if (in->rank == rank)
    return TRUE;
  got = anogan_shape_to_string (in);
  fail (error, layer, "expects %s input but gets %s",
      rank == 3 ? "a channels x height x width" : "a feature vector", got);
  g_free (got);
  return FALSE;
}

static gboolean
check_channels (const AnoganLayer *layer, const AnoganShape *in,
    int channels, GError **error)
{
  char *got;

  if (in->dims[0] == channels)
    return TRUE;
  got = anogan_shape_to_string (in);
  fail (error, layer, "expects %d input %s but gets %s", channels,
      in->rank == 3 ? "channels" : "features", got);
  g_free (got);
  return FALSE;
}

static gboolean
check_positive (const AnoganLayer *layer, const char *what, int value,
    GError **error)
{
  if (value >= 1)
    return TRUE;
  return fail (error, layer, "needs %s >= 1, not %d", what, value);
}

static gboolean
check_kernel_geometry (const AnoganLayer *layer, GError **error)
{
  static const char *const axis[2] = { "height", "width" };

  for (int d = 0; d < 2; d++) {
    if (layer->kernel[d] < 1)
      return fail (error, layer, "needs a kernel %s >= 1, not %d", axis[d],
          layer->kernel[d]);
    if (layer->stride[d] < 1)
      return fail (error, layer, "needs a stride >= 1, not %d",
          layer->stride[d]);
    if (layer->padding[d] < 0)
      return fail (error, layer, "needs a padding >= 0, not %d",
          layer->padding[d]);
  }
  return TRUE;
}

/* Far beyond any real model, and small enough that every size computed
 * from them fits in 64 bits and every per-sample buffer in an int. */
#define MAX_EXTENT (1 << 20)
#define MAX_SAMPLE_FLOATS (1 << 28)

static gboolean
check_hyper_parameters (const AnoganLayer *layer, GError **error)
{
  const int values[] = {
    layer->in_channels, layer->out_channels, layer->kernel[0],
    layer->kernel[1], layer->stride[0], layer->stride[1], layer->padding[0],
    layer->padding[1], layer->output_padding[0], layer->output_padding[1],
    layer->scale_factor, layer->pad[0], layer->pad[1], layer->pad[2],
    layer->pad[3],
  };

  for (gsize i = 0; i < G_N_ELEMENTS (values); i++)
    if (values[i] > MAX_EXTENT)
      return fail (error, layer, "has a size of %d, larger than %d",
          values[i], MAX_EXTENT);
  return TRUE;
}

/* Sizes are computed in 64 bits and must come back within MAX_EXTENT:
 * a crafted model file must not overflow an int on its way to an error. */
static gboolean
check_output_size (const AnoganLayer *layer, const AnoganShape *in,
    gint64 out_h, gint64 out_w, GError **error)
{
  char *got;

  if (out_h >= 1 && out_w >= 1 && out_h <= MAX_EXTENT && out_w <= MAX_EXTENT)
    return TRUE;
  got = anogan_shape_to_string (in);
  if (out_h < 1 || out_w < 1)
    fail (error, layer, "would make an empty output from %s", got);
  else
    fail (error, layer, "would make a %" G_GINT64_FORMAT "x%" G_GINT64_FORMAT
        " output from %s, larger than %d", out_h, out_w, got, MAX_EXTENT);
  g_free (got);
  return FALSE;
}

/* Kernel positions along one axis: floor((in + 2p - k) / s) + 1. */
static gint64
conv_out_size (int in, int kernel, int stride, int padding)
{
  gint64 span = (gint64) in + 2 * (gint64) padding - kernel;
  return span < 0 ? 0 : span / stride + 1;
}

static gboolean
conv2d_out (const AnoganLayer *layer, const AnoganShape *in,
    AnoganShape *out, GError **error)
{
  gint64 h, w;

  if (!check_positive (layer, "in_channels", layer->in_channels, error)
      || !check_positive (layer, "out_channels", layer->out_channels, error)
      || !check_kernel_geometry (layer, error)
      || !check_rank (layer, in, 3, error)
      || !check_channels (layer, in, layer->in_channels, error))
    return FALSE;
  h = conv_out_size (in->dims[1], layer->kernel[0], layer->stride[0],
      layer->padding[0]);
  w = conv_out_size (in->dims[2], layer->kernel[1], layer->stride[1],
      layer->padding[1]);
  if (!check_output_size (layer, in, h, w, error))
    return FALSE;
  *out = shape_image (layer->out_channels, (int) h, (int) w);
  return TRUE;
}

static gboolean
conv_transpose2d_out (const AnoganLayer *layer, const AnoganShape *in,
    AnoganShape *out, GError **error)
{
  gint64 size[2];

  if (!check_positive (layer, "in_channels", layer->in_channels, error)
      || !check_positive (layer, "out_channels", layer->out_channels, error)
      || !check_kernel_geometry (layer, error)
      || !check_rank (layer, in, 3, error)
      || !check_channels (layer, in, layer->in_channels, error))
    return FALSE;
  for (int d = 0; d < 2; d++) {
    /* PyTorch: output padding must be smaller than the stride (or the
     * dilation, always 1 here); otherwise the output size is ambiguous. */
    if (layer->output_padding[d] < 0
        || layer->output_padding[d] >= layer->stride[d])
      return fail (error, layer,
          "needs an output_padding in [0, stride %d), not %d",
          layer->stride[d], layer->output_padding[d]);
    size[d] = (gint64) (in->dims[1 + d] - 1) * layer->stride[d]
        - 2 * (gint64) layer->padding[d] + layer->kernel[d]
        + layer->output_padding[d];
  }
  if (!check_output_size (layer, in, size[0], size[1], error))
    return FALSE;
  *out = shape_image (layer->out_channels, (int) size[0], (int) size[1]);
  return TRUE;
}

static gboolean
linear_out (const AnoganLayer *layer, const AnoganShape *in,
    AnoganShape *out, GError **error)
{
  if (!check_positive (layer, "in_features", layer->in_channels, error)
      || !check_positive (layer, "out_features", layer->out_channels, error)
      || !check_rank (layer, in, 1, error)
      || !check_channels (layer, in, layer->in_channels, error))
    return FALSE;
  *out = shape_features (layer->out_channels);
  return TRUE;
}

static gboolean
batch_norm_out (const AnoganLayer *layer, const AnoganShape *in, int rank,
    AnoganShape *out, GError **error)
{
  if (!check_positive (layer, "num_features", layer->in_channels, error)
      || !check_rank (layer, in, rank, error)
      || !check_channels (layer, in, layer->in_channels, error))
    return FALSE;
  if (!(layer->eps >= 0.0f && isfinite (layer->eps)))
    return fail (error, layer, "needs eps >= 0, not %g", layer->eps);
  if (!(layer->momentum >= 0.0f && layer->momentum <= 1.0f))
    return fail (error, layer, "needs a momentum in [0, 1], not %g",
        layer->momentum);
  *out = *in;
  return TRUE;
}

static gboolean
upsample_out (const AnoganLayer *layer, const AnoganShape *in,
    AnoganShape *out, GError **error)
{
  int s = layer->scale_factor;

  if (!check_positive (layer, "an integer scale_factor", s, error)
      || !check_rank (layer, in, 3, error))
    return FALSE;
  if (!check_output_size (layer, in, (gint64) in->dims[1] * s,
          (gint64) in->dims[2] * s, error))
    return FALSE;
  *out = shape_image (in->dims[0], in->dims[1] * s, in->dims[2] * s);
  return TRUE;
}

static gboolean
zero_pad2d_out (const AnoganLayer *layer, const AnoganShape *in,
    AnoganShape *out, GError **error)
{
  static const char *const side[4] = { "left", "right", "top", "bottom" };

  if (!check_rank (layer, in, 3, error))
    return FALSE;
  for (int i = 0; i < 4; i++)
    if (layer->pad[i] < 0)
      return fail (error, layer, "needs a %s padding >= 0, not %d", side[i],
          layer->pad[i]);
  if (!check_output_size (layer, in,
          (gint64) in->dims[1] + layer->pad[2] + layer->pad[3],
          (gint64) in->dims[2] + layer->pad[0] + layer->pad[1], error))
    return FALSE;
  *out = shape_image (in->dims[0], in->dims[1] + layer->pad[2]
      + layer->pad[3], in->dims[2] + layer->pad[0] + layer->pad[1]);
  return TRUE;
}

static gboolean
unflatten_out (const AnoganLayer *layer, const AnoganShape *in,
    AnoganShape *out, GError **error)
{
  const AnoganShape *to = &layer->unflattened;
  char *from_s, *to_s;

  if (to->rank != 1 && to->rank != 3)
    return fail (error, layer, "needs 1 or 3 sizes to unflatten into, not %d",
        to->rank);
  for (int d = 0; d < to->rank; d++)
    if (!check_positive (layer, "every unflattened size", to->dims[d], error))
      return FALSE;
  if (!check_rank (layer, in, 1, error))
    return FALSE;
  if (anogan_shape_numel (in) == anogan_shape_numel (to)) {
    *out = to->rank == 3 ? shape_image (to->dims[0], to->dims[1], to->dims[2])
        : shape_features (to->dims[0]);
    return TRUE;
  }
  from_s = anogan_shape_to_string (in);
  to_s = anogan_shape_to_string (to);
  fail (error, layer, "cannot turn %s into %s", from_s, to_s);
  g_free (from_s);
  g_free (to_s);
  return FALSE;
}

static gboolean
elementwise_out (const AnoganLayer *layer, const AnoganShape *in,
    AnoganShape *out, GError **error)
{
  if (layer->kind == ANOGAN_LAYER_LEAKY_RELU
      && !isfinite (layer->negative_slope))
    return fail (error, layer, "needs a finite negative_slope");
  if (layer->kind == ANOGAN_LAYER_DROPOUT
      && !(layer->p >= 0.0f && layer->p <= 1.0f))
    return fail (error, layer, "needs a probability p in [0, 1], not %g",
        layer->p);
  *out = *in;
  return TRUE;
}

static gboolean
check_input_shape (const AnoganLayer *layer, const AnoganShape *in,
    GError **error)
{
  char *got;

  if (in->rank == 1 || in->rank == 3) {
    gboolean sizes_ok = TRUE;
    for (int d = 0; d < in->rank; d++)
      sizes_ok = sizes_ok && in->dims[d] >= 1 && in->dims[d] <= MAX_EXTENT;
    if (sizes_ok && anogan_shape_numel (in) <= MAX_SAMPLE_FLOATS)
      return TRUE;
  }
  got = anogan_shape_to_string (in);
  fail (error, layer, "cannot take an input of rank %d, %s", in->rank, got);
  g_free (got);
  return FALSE;
}

/**
 * anogan_layer_set_input:
 * @layer: a layer whose hyper-parameters are set
 * @in: the shape of one input sample
 * @error: return location for a #GError
 *
 * Checks the hyper-parameters against @in as PyTorch would and, if they
 * fit, sets @layer's in_shape and out_shape.
 *
 * Returns: %FALSE with @error (%G_IO_ERROR_INVALID_DATA, message starting
 *   with the kind's name) when they do not; @layer is then unchanged.
 */
gboolean
anogan_layer_set_input (AnoganLayer *layer, const AnoganShape *in,
    GError **error)
{
  AnoganShape input = *in, out = { 0, { 1, 1, 1 } };
  gboolean ok;

  if (!check_input_shape (layer, in, error)
      || !check_hyper_parameters (layer, error))
    return FALSE;
  for (int d = input.rank; d < 3; d++)
    input.dims[d] = 1;

  switch (layer->kind) {
    case ANOGAN_LAYER_CONV2D:
      ok = conv2d_out (layer, &input, &out, error);
      break;
    case ANOGAN_LAYER_CONV_TRANSPOSE2D:
      ok = conv_transpose2d_out (layer, &input, &out, error);
      break;
    case ANOGAN_LAYER_LINEAR:
      ok = linear_out (layer, &input, &out, error);
      break;
    case ANOGAN_LAYER_BATCH_NORM1D:
      ok = batch_norm_out (layer, &input, 1, &out, error);
      break;
    case ANOGAN_LAYER_BATCH_NORM2D:
      ok = batch_norm_out (layer, &input, 3, &out, error);
      break;
    case ANOGAN_LAYER_UPSAMPLE:
      ok = upsample_out (layer, &input, &out, error);
      break;
    case ANOGAN_LAYER_ZERO_PAD2D:
      ok = zero_pad2d_out (layer, &input, &out, error);
      break;
    case ANOGAN_LAYER_FLATTEN:
      out = shape_features ((int) anogan_shape_numel (&input));
      ok = TRUE;
      break;
    case ANOGAN_LAYER_UNFLATTEN:
      ok = unflatten_out (layer, &input, &out, error);
      break;
    case ANOGAN_LAYER_RELU:
    case ANOGAN_LAYER_LEAKY_RELU:
    case ANOGAN_LAYER_TANH:
    case ANOGAN_LAYER_SIGMOID:
    case ANOGAN_LAYER_DROPOUT:
      ok = elementwise_out (layer, &input, &out, error);
      break;
    default:
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
          "unknown layer kind %d", (int) layer->kind);
      ok = FALSE;
      break;
  }
  if (!ok)
    return FALSE;
  if (anogan_shape_numel (&out) > MAX_SAMPLE_FLOATS)
    return fail (error, layer, "would make an output of more than %d values"
        " a sample", MAX_SAMPLE_FLOATS);
  layer->in_shape = input;
  layer->out_shape = out;
  return TRUE;
}

/* ---- Parameters ---- */

static gboolean
is_batch_norm (const AnoganLayer *layer)
{
  return layer->kind == ANOGAN_LAYER_BATCH_NORM1D
      || layer->kind == ANOGAN_LAYER_BATCH_NORM2D;
}

/**
 * anogan_layer_param_shape:
 * @layer: a layer
 * @kind: which of its tensors
 * @shape: (out): the tensor's sizes, as in a PyTorch state_dict
 *
 * Conv2d weights are [out,in,kh,kw], ConvTranspose2d weights
 * [in,out,kh,kw], Linear weights [out,in]; biases and BatchNorm tensors
 * are one value per output channel.
 *
 * Returns: the rank of the tensor, 0 if @layer has no such tensor.
 */
int
anogan_layer_param_shape (const AnoganLayer *layer, AnoganParamKind kind,
    gint64 shape[4])
{
  gboolean has_bias = layer->bias;

  switch (layer->kind) {
    case ANOGAN_LAYER_CONV2D:
    case ANOGAN_LAYER_CONV_TRANSPOSE2D:
      if (kind == ANOGAN_PARAM_WEIGHT) {
        gboolean transposed = layer->kind == ANOGAN_LAYER_CONV_TRANSPOSE2D;
        shape[0] = transposed ? layer->in_channels : layer->out_channels;
        shape[1] = transposed ? layer->out_channels : layer->in_channels;
        shape[2] = layer->kernel[0];
        shape[3] = layer->kernel[1];
        return 4;
      }
      break;
    case ANOGAN_LAYER_LINEAR:
      if (kind == ANOGAN_PARAM_WEIGHT) {
        shape[0] = layer->out_channels;
        shape[1] = layer->in_channels;
        return 2;
      }
      break;
    case ANOGAN_LAYER_BATCH_NORM1D:
    case ANOGAN_LAYER_BATCH_NORM2D:
      if (kind == ANOGAN_PARAM_RUNNING_MEAN || kind == ANOGAN_PARAM_RUNNING_VAR
          || (layer->affine && (kind == ANOGAN_PARAM_WEIGHT
                  || kind == ANOGAN_PARAM_BIAS))) {
        shape[0] = layer->in_channels;
        return 1;
      }
      return 0;
    default:
      return 0;
  }
  if (kind == ANOGAN_PARAM_BIAS && has_bias) {
    shape[0] = layer->out_channels;
    return 1;
  }
  return 0;
}

/**
 * anogan_layer_param_floats:
 * @layer: a layer
 * @kind: which of its tensors
 *
 * Returns: the number of floats in that tensor, 0 if there is none.
 */
gsize
anogan_layer_param_floats (const AnoganLayer *layer, AnoganParamKind kind)
{
  gint64 shape[4];
  int rank = anogan_layer_param_shape (layer, kind, shape);
  gsize n = 1;

  if (rank == 0)
    return 0;
  for (int d = 0; d < rank; d++)
    n *= (gsize) MAX (shape[d], 0);
  return n;
}

/* ---- Sizes of workspaces and work ---- */

static gsize
plane_of (const AnoganShape *shape)
{
  return shape->rank == 3 ? (gsize) shape->dims[1] * shape->dims[2] : 1;
}

/* A 1x1 convolution with stride 1 and no padding reads its input as the
 * column matrix itself: the im2col copy is skipped. */
static gboolean
conv_is_pointwise (const AnoganLayer *layer)
{
  return layer->kernel[0] == 1 && layer->kernel[1] == 1
      && layer->stride[0] == 1 && layer->stride[1] == 1
      && layer->padding[0] == 0 && layer->padding[1] == 0
      && (layer->kind != ANOGAN_LAYER_CONV_TRANSPOSE2D
          || (layer->output_padding[0] == 0 && layer->output_padding[1] == 0));
}

/* A convolution's column matrix has a row per (channel, ky, kx) and, per
 * sample, a column per kernel position: output positions for Conv2d,
 * input positions for ConvTranspose2d. */
static void
column_shape (const AnoganLayer *layer, gsize *rows, gsize *positions)
{
  gsize taps = (gsize) layer->kernel[0] * layer->kernel[1];

  if (layer->kind == ANOGAN_LAYER_CONV2D) {
    *rows = layer->in_channels * taps;
    *positions = plane_of (&layer->out_shape);
  } else {
    *rows = layer->out_channels * taps;
    *positions = plane_of (&layer->in_shape);
  }
}

/* Column matrices are built for a chunk of samples at a time, so that the
 * scratch stays near COLUMN_BUDGET floats however large the batch: a whole
 * batch of 64x64 patches would need tens of megabytes per layer, while a
 * chunk keeps the sgemms a thousand or more columns wide, which is all
 * they need to run at full speed, and the matrix in cache. */
#define COLUMN_BUDGET ((gsize) 1 << 20)

static int
chunk_samples (gsize rows, gsize positions, int batch)
{
  gsize per_sample = MAX (rows * positions, 1);

  return (int) CLAMP (COLUMN_BUDGET / per_sample, 1, (gsize) batch);
}

/**
 * anogan_layer_scratch_floats:
 * @layer: a layer with its input set
 * @batch: the largest batch it will run on
 *
 * Returns: the floats of scratch one forward or backward call needs (the
 *   column matrix of a convolution), 0 for most layers.
 */
gsize
anogan_layer_scratch_floats (const AnoganLayer *layer, int batch)
{
  gsize rows, positions;

  if (conv_is_pointwise (layer))
    return 0;
  switch (layer->kind) {
    case ANOGAN_LAYER_CONV2D:
    case ANOGAN_LAYER_CONV_TRANSPOSE2D:
      column_shape (layer, &rows, &positions);
      return rows * positions * chunk_samples (rows, positions, batch);
    default:
      return 0;
  }
}

/**
 * anogan_layer_state_floats:
 * @layer: a layer with its input set
 * @batch: the largest batch it will run on
 * @training: whether it runs in training mode
 *
 * Returns: the floats a forward leaves for its backward: BatchNorm's batch
 *   mean, inverse standard deviation and unbiased variance per channel,
 *   Dropout's mask; 0 in eval mode and for other layers.
 */
gsize
anogan_layer_state_floats (const AnoganLayer *layer, int batch,
    gboolean training)
{
  if (!training)
    return 0;
  if (is_batch_norm (layer))
    return 3 * (gsize) layer->in_channels;
  if (layer->kind == ANOGAN_LAYER_DROPOUT)
    return (gsize) batch * anogan_shape_numel (&layer->in_shape);
  return 0;
}

/**
 * anogan_layer_flops:
 * @layer: a layer with its input set
 *
 * Returns: floating-point operations of a forward pass per sample: two
 *   per multiply-add for Linear and convolutions, about one per element
 *   for the rest.
 */
double
anogan_layer_flops (const AnoganLayer *layer)
{
  double out = (double) anogan_shape_numel (&layer->out_shape);
  double taps = (double) layer->kernel[0] * layer->kernel[1];
  double bias = layer->bias ? out : 0.0;

  switch (layer->kind) {
    case ANOGAN_LAYER_CONV2D:
      return 2.0 * layer->in_channels * taps * out + bias;
    case ANOGAN_LAYER_CONV_TRANSPOSE2D:
      return 2.0 * layer->out_channels * taps
          * anogan_shape_numel (&layer->in_shape) + bias;
    case ANOGAN_LAYER_LINEAR:
      return 2.0 * layer->in_channels * out + bias;
    case ANOGAN_LAYER_BATCH_NORM1D:
    case ANOGAN_LAYER_BATCH_NORM2D:
      return 2.0 * out;
    default:
      return out;
  }
}

/**
 * anogan_layer_is_elementwise:
 * @layer: a layer
 *
 * Returns: %TRUE if each output element depends only on the input element
 *   at the same place, so that forward may run with y == x and backward
 *   with dx == dy: activations, BatchNorm and Dropout.
 */
gboolean
anogan_layer_is_elementwise (const AnoganLayer *layer)
{
  switch (layer->kind) {
    case ANOGAN_LAYER_RELU:
    case ANOGAN_LAYER_LEAKY_RELU:
    case ANOGAN_LAYER_TANH:
    case ANOGAN_LAYER_SIGMOID:
    case ANOGAN_LAYER_BATCH_NORM1D:
    case ANOGAN_LAYER_BATCH_NORM2D:
    case ANOGAN_LAYER_DROPOUT:
      return TRUE;
    default:
      return FALSE;
  }
}

/* With a slope >= 0, y > 0 exactly where x > 0, so the derivative can be
 * read off y and the input may be overwritten. */
static gboolean
leaky_relu_uses_output (const AnoganLayer *layer)
{
  return layer->negative_slope >= 0.0f;
}

/**
 * anogan_layer_backward_reads_input:
 * @layer: a layer
 * @training: whether it runs in training mode
 * @param_grads: whether parameter gradients will be asked for
 *
 * Returns: %TRUE if anogan_layer_backward() needs the forward's input x;
 *   when %FALSE it may be passed %NULL (or overwritten by then).
 */
gboolean
anogan_layer_backward_reads_input (const AnoganLayer *layer,
    gboolean training, gboolean param_grads)
{
  switch (layer->kind) {
    case ANOGAN_LAYER_LINEAR:
    case ANOGAN_LAYER_CONV2D:
    case ANOGAN_LAYER_CONV_TRANSPOSE2D:
      return param_grads;
    case ANOGAN_LAYER_BATCH_NORM1D:
    case ANOGAN_LAYER_BATCH_NORM2D:
      return training || (param_grads && layer->affine);
    case ANOGAN_LAYER_LEAKY_RELU:
      return !leaky_relu_uses_output (layer);
    default:
      return FALSE;
  }
}

/**
 * anogan_layer_backward_reads_output:
 * @layer: a layer
 * @training: whether it runs in training mode
 *
 * Returns: %TRUE if anogan_layer_backward() needs the forward's output y
 *   (activations whose derivative is a function of y).
 */
gboolean
anogan_layer_backward_reads_output (const AnoganLayer *layer,
    gboolean training)
{
  switch (layer->kind) {
    case ANOGAN_LAYER_RELU:
    case ANOGAN_LAYER_TANH:
    case ANOGAN_LAYER_SIGMOID:
      return TRUE;
    case ANOGAN_LAYER_LEAKY_RELU:
      return leaky_relu_uses_output (layer);
    default:
      return FALSE;
  }
}

/* ---- im2col and col2im over a channel-major batch ----
 *
 * The column matrix has one row per (channel, ky, kx) and one column per
 * (sample, oy, ox): col[(c*kh + ky)*kw + kx][(n*oh + oy)*ow + ox] =
 * image[c][n][oy*sh - ph + ky][ox*sw - pw + kx], 0 outside the image.
 * Each row is built ow floats at a time: the valid ox of a (ky, kx) pair
 * are one interval, so the borders are memsets and the middle a copy. */

typedef struct {
  int channels;
  int batch;                    /* samples in the image batch */
  int first, count;             /* the samples this column matrix holds */
  int height, width;            /* the image */
  int out_height, out_width;    /* kernel positions */
  int kernel[2], stride[2], padding[2];
} ConvGeometry;

static ConvGeometry
conv_geometry (const AnoganLayer *layer, int channels,
    const AnoganShape *image, const AnoganShape *positions, int batch)
{
  ConvGeometry g = {
    .channels = channels, .batch = batch, .first = 0, .count = batch,
    .height = image->dims[1], .width = image->dims[2],
    .out_height = positions->dims[1], .out_width = positions->dims[2],
    .kernel = { layer->kernel[0], layer->kernel[1] },
    .stride = { layer->stride[0], layer->stride[1] },
    .padding = { layer->padding[0], layer->padding[1] },
  };
  return g;
}

/* The positions o in [*lo, *hi) whose tap o*stride + offset lies inside
 * [0, size). */
static void
valid_positions (int n_positions, int size, int offset, int stride,
    int *lo, int *hi)
{
  int first = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
  int end = size - offset <= 0 ? 0 : (size - 1 - offset) / stride + 1;

  *lo = MIN (first, n_positions);
  *hi = CLAMP (end, *lo, n_positions);
}

/* One plane of one column row: output position (oy, ox) reads
 * src[(oy*sy + y0)*width + ox*sx + x0], or 0 where that tap falls in the
 * padding.  Planes are small (4x4 to 32x32 positions in a DCGAN), so the
 * cost is in the loop overhead: always inlined, and called with constant
 * strides for the common cases so that the compiler unrolls and
 * vectorises the strided reads. */
static inline __attribute__ ((always_inline)) void
im2col_plane (const float *restrict src, float *restrict dst, int width,
    int oh, int ow, int sy, int sx, int y0, int x0, int ylo, int yhi,
    int xlo, int xhi)
{
  int oy = 0;

  for (; oy < ylo; oy++, dst += ow)
    for (int ox = 0; ox < ow; ox++)
      dst[ox] = 0.0f;
  for (; oy < yhi; oy++, dst += ow) {
    const float *s = src + (gsize) (oy * sy + y0) * width + x0;
    int ox = 0;

    for (; ox < xlo; ox++)
      dst[ox] = 0.0f;
    for (; ox < xhi; ox++)
      dst[ox] = s[ox * sx];
    for (; ox < ow; ox++)
      dst[ox] = 0.0f;
  }
  for (; oy < oh; oy++, dst += ow)
    for (int ox = 0; ox < ow; ox++)
      dst[ox] = 0.0f;
}

static void
im2col (const ConvGeometry *g, const float *image, float *col)
{
  const gsize in_plane = (gsize) g->height * g->width;
  const gsize out_plane = (gsize) g->out_height * g->out_width;
  const int oh = g->out_height, ow = g->out_width, width = g->width;
  const int sy = g->stride[0], sx = g->stride[1];

  for (int c = 0; c < g->channels; c++)
    for (int ky = 0; ky < g->kernel[0]; ky++) {
      int y0 = ky - g->padding[0], ylo, yhi;
      valid_positions (oh, g->height, y0, sy, &ylo, &yhi);
      for (int kx = 0; kx < g->kernel[1]; kx++) {
        int x0 = kx - g->padding[1], xlo, xhi;
        float *row = col + (gsize) ((c * g->kernel[0] + ky) * g->kernel[1]
            + kx) * g->count * out_plane;
        valid_positions (ow, width, x0, sx, &xlo, &xhi);
        for (int n = 0; n < g->count; n++) {
          const float *plane = image
              + ((gsize) c * g->batch + g->first + n) * in_plane;
          float *dst = row + n * out_plane;

          if (sy == 2 && sx == 2)
            im2col_plane (plane, dst, width, oh, ow, 2, 2, y0, x0, ylo, yhi,
                xlo, xhi);
          else if (sy == 1 && sx == 1)
            im2col_plane (plane, dst, width, oh, ow, 1, 1, y0, x0, ylo, yhi,
                xlo, xhi);
          else
            im2col_plane (plane, dst, width, oh, ow, sy, sx, y0, x0, ylo,
                yhi, xlo, xhi);
        }
      }
    }
}

/* One plane of one column row added back to the pixels it was read from:
 * the adjoint of im2col_plane(), inlined with constant strides alike. */
static inline __attribute__ ((always_inline)) void
col2im_plane (const float *restrict src, float *restrict dst, int width,
    int ow, int sy, int sx, int y0, int x0, int ylo, int yhi, int xlo,
    int xhi)
{
  if (xlo >= xhi)
    return;
  for (int oy = ylo; oy < yhi; oy++) {
    const float *s = src + (gsize) oy * ow;
    float *d = dst + (gsize) (oy * sy + y0) * width + x0;

    for (int ox = xlo; ox < xhi; ox++)
      d[ox * sx] += s[ox];
  }
}

/* The adjoint of im2col: every column entry is added back to the pixel it
 * was read from.  Accumulates into @image, which the caller clears or
 * fills with the bias first. */
static void
col2im (const ConvGeometry *g, const float *col, float *image)
{
  const gsize in_plane = (gsize) g->height * g->width;
  const gsize out_plane = (gsize) g->out_height * g->out_width;
  const int ow = g->out_width, width = g->width;
  const int sy = g->stride[0], sx = g->stride[1];

  for (int c = 0; c < g->channels; c++)
    for (int ky = 0; ky < g->kernel[0]; ky++) {
      int y0 = ky - g->padding[0], ylo, yhi;
      valid_positions (g->out_height, g->height, y0, sy, &ylo, &yhi);
      for (int kx = 0; kx < g->kernel[1]; kx++) {
        int x0 = kx - g->padding[1], xlo, xhi;
        const float *row = col + (gsize) ((c * g->kernel[0] + ky)
            * g->kernel[1] + kx) * g->count * out_plane;
        valid_positions (ow, width, x0, sx, &xlo, &xhi);
        for (int n = 0; n < g->count; n++) {
          float *plane = image
              + ((gsize) c * g->batch + g->first + n) * in_plane;
          const float *src = row + n * out_plane;

          if (sy == 2 && sx == 2)
            col2im_plane (src, plane, width, ow, 2, 2, y0, x0, ylo, yhi,
                xlo, xhi);
          else if (sy == 1 && sx == 1)
            col2im_plane (src, plane, width, ow, 1, 1, y0, x0, ylo, yhi,
                xlo, xhi);
          else
            col2im_plane (src, plane, width, ow, sy, sx, y0, x0, ylo, yhi,
                xlo, xhi);
        }
      }
    }
}

/* ---- Shared pieces of the weight layers ---- */

/* y[c][0..len) = bias[c], so that the sgemm can add onto it (beta = 1). */
static void
fill_rows (float *y, const float *bias, int rows, gsize len)
{
  for (int r = 0; r < rows; r++) {
    float *row = y + r * len;
    for (gsize i = 0; i < len; i++)
      row[i] = bias ? bias[r] : 0.0f;
  }
}

static void
accumulate_row_sums (float *sums, const float *x, int rows, gsize len)
{
  for (int r = 0; r < rows; r++) {
    const float *row = x + r * len;
    double s = 0.0;
    for (gsize i = 0; i < len; i++)
      s += row[i];
    sums[r] += (float) s;
  }
}

static float *
grad_of (AnoganLayerParams *grads, AnoganParamKind kind)
{
  return grads ? grads->t[kind] : NULL;
}

static const float *
bias_of (const AnoganLayer *layer, const AnoganLayerParams *params)
{
  return layer->bias ? params->t[ANOGAN_PARAM_BIAS] : NULL;
}

/* ---- Conv2d ----
 * Y[Cout][N*Ho*Wo] = W[Cout][Cin*kh*kw] . col[Cin*kh*kw][N*Ho*Wo], one
 * chunk of samples (a block of columns) at a time. */

static void
conv2d_forward (const AnoganLayer *layer, const AnoganLayerParams *params,
    AnoganLayerRun *run, const float *x, float *y)
{
  ConvGeometry g = conv_geometry (layer, layer->in_channels,
      &layer->in_shape, &layer->out_shape, run->batch);
  const float *w = params->t[ANOGAN_PARAM_WEIGHT];
  int m = layer->out_channels;
  int k = layer->in_channels * g.kernel[0] * g.kernel[1];
  int positions = g.out_height * g.out_width;
  int ld = run->batch * positions;
  int chunk = chunk_samples (k, positions, run->batch);

  fill_rows (y, bias_of (layer, params), m, ld);
  if (conv_is_pointwise (layer)) {
    cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, m, ld, k, 1.0f,
        w, k, x, ld, 1.0f, y, ld);
    return;
  }
  for (g.first = 0; g.first < run->batch; g.first += chunk) {
    int n;

    g.count = MIN (chunk, run->batch - g.first);
    n = g.count * positions;
    im2col (&g, x, run->scratch);
    cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0f,
        w, k, run->scratch, n, 1.0f, y + (gsize) g.first * positions, ld);
  }
}

/* Per chunk: dW += dY . col^T with col rebuilt from x; then dcol = W^T .
 * dY, which col2im folds back into dx.  The one scratch buffer serves
 * both. */
static void
conv2d_backward (const AnoganLayer *layer, const AnoganLayerParams *params,
    AnoganLayerParams *grads, AnoganLayerRun *run, const float *x,
    const float *dy, float *dx)
{
  ConvGeometry g = conv_geometry (layer, layer->in_channels,
      &layer->in_shape, &layer->out_shape, run->batch);
  const float *w = params->t[ANOGAN_PARAM_WEIGHT];
  int m = layer->out_channels;
  int k = layer->in_channels * g.kernel[0] * g.kernel[1];
  int positions = g.out_height * g.out_width;
  int ld = run->batch * positions;
  int chunk = chunk_samples (k, positions, run->batch);
  float *dw = grad_of (grads, ANOGAN_PARAM_WEIGHT);
  float *db = layer->bias ? grad_of (grads, ANOGAN_PARAM_BIAS) : NULL;

  if (db)
    accumulate_row_sums (db, dy, m, ld);
  if (conv_is_pointwise (layer)) {
    if (dw)
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, m, k, ld, 1.0f,
          dy, ld, x, ld, 1.0f, dw, k);
    if (dx)
      cblas_sgemm (CblasRowMajor, CblasTrans, CblasNoTrans, k, ld, m, 1.0f,
          w, k, dy, ld, 0.0f, dx, ld);
    return;
  }
  if (dx)
    memset (dx, 0, anogan_shape_numel (&layer->in_shape) * run->batch
        * sizeof *dx);
  for (g.first = 0; g.first < run->batch; g.first += chunk) {
    const float *dy_chunk = dy + (gsize) g.first * positions;
    int n;

    g.count = MIN (chunk, run->batch - g.first);
    n = g.count * positions;
    if (dw) {
      im2col (&g, x, run->scratch);
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, m, k, n, 1.0f,
          dy_chunk, ld, run->scratch, n, 1.0f, dw, k);
    }
    if (dx) {
      cblas_sgemm (CblasRowMajor, CblasTrans, CblasNoTrans, k, n, m, 1.0f,
          w, k, dy_chunk, ld, 0.0f, run->scratch, n);
      col2im (&g, run->scratch, dx);
    }
  }
}

/* ---- ConvTranspose2d ----
 * The adjoint of a Conv2d from the output to the input geometry:
 * col[Cout*kh*kw][N*Hin*Win] = W^T . X, with W viewed as
 * [Cin][Cout*kh*kw], then col2im scatters col into Y; a chunk of samples
 * at a time. */

static void
conv_transpose2d_forward (const AnoganLayer *layer,
    const AnoganLayerParams *params, AnoganLayerRun *run, const float *x,
    float *y)
{
  ConvGeometry g = conv_geometry (layer, layer->out_channels,
      &layer->out_shape, &layer->in_shape, run->batch);
  const float *w = params->t[ANOGAN_PARAM_WEIGHT];
  int m = layer->out_channels * g.kernel[0] * g.kernel[1];
  int k = layer->in_channels;
  int positions = g.out_height * g.out_width;
  int ld = run->batch * positions;
  int chunk = chunk_samples (m, positions, run->batch);

  fill_rows (y, bias_of (layer, params), layer->out_channels,
      (gsize) run->batch * plane_of (&layer->out_shape));
  if (conv_is_pointwise (layer)) {
    cblas_sgemm (CblasRowMajor, CblasTrans, CblasNoTrans, m, ld, k, 1.0f,
        w, m, x, ld, 1.0f, y, ld);
    return;
  }
  for (g.first = 0; g.first < run->batch; g.first += chunk) {
    int n;

    g.count = MIN (chunk, run->batch - g.first);
    n = g.count * positions;
    cblas_sgemm (CblasRowMajor, CblasTrans, CblasNoTrans, m, n, k, 1.0f,
        w, m, x + (gsize) g.first * positions, ld, 0.0f, run->scratch, n);
    col2im (&g, run->scratch, y);
  }
}

/* Per chunk: col = im2col(dY); dW += X . col^T; dX = W . col. */
static void
conv_transpose2d_backward (const AnoganLayer *layer,
    const AnoganLayerParams *params, AnoganLayerParams *grads,
    AnoganLayerRun *run, const float *x, const float *dy, float *dx)
{
  ConvGeometry g = conv_geometry (layer, layer->out_channels,
      &layer->out_shape, &layer->in_shape, run->batch);
  const float *w = params->t[ANOGAN_PARAM_WEIGHT];
  int k = layer->out_channels * g.kernel[0] * g.kernel[1];
  int m = layer->in_channels;
  int positions = g.out_height * g.out_width;
  int ld = run->batch * positions;
  int chunk = chunk_samples (k, positions, run->batch);
  float *dw = grad_of (grads, ANOGAN_PARAM_WEIGHT);
  float *db = layer->bias ? grad_of (grads, ANOGAN_PARAM_BIAS) : NULL;

  if (db)
    accumulate_row_sums (db, dy, layer->out_channels,
        (gsize) run->batch * plane_of (&layer->out_shape));
  if (!dw && !dx)
    return;
  if (conv_is_pointwise (layer)) {
    if (dw)
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, m, k, ld, 1.0f,
          x, ld, dy, ld, 1.0f, dw, k);
    if (dx)
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, m, ld, k, 1.0f,
          w, k, dy, ld, 0.0f, dx, ld);
    return;
  }
  for (g.first = 0; g.first < run->batch; g.first += chunk) {
    gsize offset = (gsize) g.first * positions;
    int n;

    g.count = MIN (chunk, run->batch - g.first);
    n = g.count * positions;
    im2col (&g, dy, run->scratch);
    if (dw)
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, m, k, n, 1.0f,
          x + offset, ld, run->scratch, n, 1.0f, dw, k);
    if (dx)
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0f,
          w, k, run->scratch, n, 0.0f, dx + offset, ld);
  }
}

/* ---- Linear: Y[out][N] = W[out][in] . X[in][N] + b ---- */

static void
linear_forward (const AnoganLayer *layer, const AnoganLayerParams *params,
    AnoganLayerRun *run, const float *x, float *y)
{
  int m = layer->out_channels, n = run->batch, k = layer->in_channels;

  fill_rows (y, bias_of (layer, params), m, n);
  cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0f,
      params->t[ANOGAN_PARAM_WEIGHT], k, x, n, 1.0f, y, n);
}

static void
linear_backward (const AnoganLayer *layer, const AnoganLayerParams *params,
    AnoganLayerParams *grads, AnoganLayerRun *run, const float *x,
    const float *dy, float *dx)
{
  int m = layer->out_channels, n = run->batch, k = layer->in_channels;
  float *dw = grad_of (grads, ANOGAN_PARAM_WEIGHT);
  float *db = layer->bias ? grad_of (grads, ANOGAN_PARAM_BIAS) : NULL;

  if (db)
    accumulate_row_sums (db, dy, m, n);
  if (dw)
    cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, m, k, n, 1.0f,
        dy, n, x, n, 1.0f, dw, k);
  if (dx)
    cblas_sgemm (CblasRowMajor, CblasTrans, CblasNoTrans, k, n, m, 1.0f,
        params->t[ANOGAN_PARAM_WEIGHT], k, dy, n, 0.0f, dx, n);
}

/* ---- BatchNorm1d and BatchNorm2d ----
 * In the channel-major layout channel c is one contiguous run of
 * N*H*W (or N) values, so both kinds are the same loops. */

typedef struct {
  int channels;
  gsize count;                  /* values per channel in this batch */
  float *mean, *invstd, *unbiased_var;  /* training state, [C] each */
} BatchNormState;

static BatchNormState
batch_norm_state (const AnoganLayer *layer, const AnoganLayerRun *run)
{
  BatchNormState s = {
    .channels = layer->in_channels,
    .count = (gsize) run->batch * plane_of (&layer->in_shape),
  };
  if (run->training && run->state) {
    s.mean = run->state;
    s.invstd = run->state + s.channels;
    s.unbiased_var = run->state + 2 * s.channels;
  }
  return s;
}

static float
gamma_of (const AnoganLayer *layer, const AnoganLayerParams *params, int c)
{
  return layer->affine ? params->t[ANOGAN_PARAM_WEIGHT][c] : 1.0f;
}

static float
beta_of (const AnoganLayer *layer, const AnoganLayerParams *params, int c)
{
  return layer->affine ? params->t[ANOGAN_PARAM_BIAS][c] : 0.0f;
}

/* Two passes in double: the mean first, then the squared deviations,
 * which stays accurate when the mean is large against the spread. */
static void
batch_statistics (const float *x, gsize count, double *mean, double *var)
{
  double sum = 0.0, squares = 0.0;

  for (gsize i = 0; i < count; i++)
    sum += x[i];
  *mean = sum / count;
  for (gsize i = 0; i < count; i++) {
    double d = x[i] - *mean;
    squares += d * d;
  }
  *var = squares / count;
}

static void
batch_norm_forward (const AnoganLayer *layer,
    const AnoganLayerParams *params, AnoganLayerRun *run, const float *x,
    float *y)
{
  BatchNormState s = batch_norm_state (layer, run);

  for (int c = 0; c < s.channels; c++) {
    const float *xc = x + c * s.count;
    float *yc = y + c * s.count;
    float mean, invstd, scale, beta;

    if (run->training) {
      double m, var;
      batch_statistics (xc, s.count, &m, &var);
      mean = (float) m;
      invstd = (float) (1.0 / sqrt (var + layer->eps));
      s.mean[c] = mean;
      s.invstd[c] = invstd;
      /* PyTorch's running_var tracks the unbiased estimate. */
      s.unbiased_var[c] = (float) (s.count > 1 ? var * s.count
          / (s.count - 1) : var);
    } else {
      mean = params->t[ANOGAN_PARAM_RUNNING_MEAN][c];
      invstd = 1.0f / sqrtf (params->t[ANOGAN_PARAM_RUNNING_VAR][c]
          + layer->eps);
    }
    /* Centre first, as PyTorch does: folding the mean into one shift
     * would cancel digits when it is large against the spread. */
    scale = gamma_of (layer, params, c) * invstd;
    beta = beta_of (layer, params, c);
    for (gsize i = 0; i < s.count; i++)
      yc[i] = (xc[i] - mean) * scale + beta;
  }
}

/* With xhat = (x - mean) * invstd and M values per channel:
 * eval:     dx = dy * gamma * invstd
 * training: dx = gamma * invstd * (dy - mean(dy) - xhat * mean(dy * xhat)),
 *           the batch mean and variance depending on every x;
 * dgamma += sum(dy * xhat), dbeta += sum(dy) in both. */
static void
batch_norm_backward (const AnoganLayer *layer,
    const AnoganLayerParams *params, AnoganLayerParams *grads,
    AnoganLayerRun *run, const float *x, const float *dy, float *dx)
{
  BatchNormState s = batch_norm_state (layer, run);
  float *dgamma = layer->affine ? grad_of (grads, ANOGAN_PARAM_WEIGHT) : NULL;
  float *dbeta = layer->affine ? grad_of (grads, ANOGAN_PARAM_BIAS) : NULL;
  gboolean need_xhat_sum = run->training || dgamma;

  for (int c = 0; c < s.channels; c++) {
    const float *dyc = dy + c * s.count;
    const float *xc = x ? x + c * s.count : NULL;
    double sum_dy = 0.0, sum_dy_xhat = 0.0;
    float mean, invstd, scale;

    if (run->training) {
      mean = s.mean[c];
      invstd = s.invstd[c];
    } else {
      mean = params->t[ANOGAN_PARAM_RUNNING_MEAN][c];
      invstd = 1.0f / sqrtf (params->t[ANOGAN_PARAM_RUNNING_VAR][c]
          + layer->eps);
    }
    if (run->training || dbeta)
      for (gsize i = 0; i < s.count; i++)
        sum_dy += dyc[i];
    if (need_xhat_sum)
      for (gsize i = 0; i < s.count; i++)
        sum_dy_xhat += dyc[i] * ((xc[i] - mean) * invstd);
    if (dbeta)
      dbeta[c] += (float) sum_dy;
    if (dgamma)
      dgamma[c] += (float) sum_dy_xhat;
    if (!dx)
      continue;

    scale = gamma_of (layer, params, c) * invstd;
    if (run->training) {
      float mean_dy = (float) (sum_dy / s.count);
      float mean_dy_xhat = (float) (sum_dy_xhat / s.count);
      float *dxc = dx + c * s.count;
      for (gsize i = 0; i < s.count; i++) {
        float xhat = (xc[i] - mean) * invstd;
        dxc[i] = scale * (dyc[i] - mean_dy - xhat * mean_dy_xhat);
      }
    } else {
      float *dxc = dx + c * s.count;
      for (gsize i = 0; i < s.count; i++)
        dxc[i] = dyc[i] * scale;
    }
  }
}

/**
 * anogan_layer_update_running_stats:
 * @layer: a BatchNorm layer
 * @params: its tensors; running_mean and running_var are updated
 * @run: the run of a training-mode forward, whose state holds the batch
 *   statistics
 *
 * running = (1 - momentum) * running + momentum * batch, with the
 * unbiased batch variance, as PyTorch does after each training forward.
 * Does nothing for other layers.
 */
void
anogan_layer_update_running_stats (const AnoganLayer *layer,
    AnoganLayerParams *params, const AnoganLayerRun *run)
{
  BatchNormState s;
  float m = layer->momentum;
  float *mean, *var;

  if (!is_batch_norm (layer))
    return;
  g_return_if_fail (run->training && run->state);
  s = batch_norm_state (layer, run);
  mean = params->t[ANOGAN_PARAM_RUNNING_MEAN];
  var = params->t[ANOGAN_PARAM_RUNNING_VAR];
  for (int c = 0; c < s.channels; c++) {
    mean[c] = (1.0f - m) * mean[c] + m * s.mean[c];
    var[c] = (1.0f - m) * var[c] + m * s.unbiased_var[c];
  }
}

/* ---- Activations ---- */

static float
sigmoid (float x)
{
  /* exp of a non-positive number only: no overflow for either sign. */
  if (x >= 0.0f)
    return 1.0f / (1.0f + expf (-x));
  else {
    float e = expf (x);
    return e / (1.0f + e);
  }
}

static void
activation_forward (const AnoganLayer *layer, const float *x, float *y,
    gsize count)
{
  float slope = layer->negative_slope;

  switch (layer->kind) {
    case ANOGAN_LAYER_RELU:
      for (gsize i = 0; i < count; i++)
        y[i] = x[i] > 0.0f ? x[i] : 0.0f;
      break;
    case ANOGAN_LAYER_LEAKY_RELU:
      for (gsize i = 0; i < count; i++)
        y[i] = x[i] > 0.0f ? x[i] : x[i] * slope;
      break;
    case ANOGAN_LAYER_TANH:
      for (gsize i = 0; i < count; i++)
        y[i] = tanhf (x[i]);
      break;
    case ANOGAN_LAYER_SIGMOID:
      for (gsize i = 0; i < count; i++)
        y[i] = sigmoid (x[i]);
      break;
    default:
      g_assert_not_reached ();
  }
}

/* Derivatives from y where the kind allows it (see
 * anogan_layer_backward_reads_output), so the planner can overwrite x. */
static void
activation_backward (const AnoganLayer *layer, const float *x,
    const float *y, const float *dy, float *dx, gsize count)
{
  float slope = layer->negative_slope;

  switch (layer->kind) {
    case ANOGAN_LAYER_RELU:
      /* dy is loaded whatever the sign: a load under the condition would
       * keep the compiler from vectorising the select. */
      for (gsize i = 0; i < count; i++) {
        float g = dy[i];
        dx[i] = y[i] > 0.0f ? g : 0.0f;
      }
      break;
    case ANOGAN_LAYER_LEAKY_RELU:
      if (leaky_relu_uses_output (layer))
        for (gsize i = 0; i < count; i++)
          dx[i] = y[i] > 0.0f ? dy[i] : dy[i] * slope;
      else
        for (gsize i = 0; i < count; i++)
          dx[i] = x[i] > 0.0f ? dy[i] : dy[i] * slope;
      break;
    case ANOGAN_LAYER_TANH:
      for (gsize i = 0; i < count; i++)
        dx[i] = dy[i] * (1.0f - y[i] * y[i]);
      break;
    case ANOGAN_LAYER_SIGMOID:
      for (gsize i = 0; i < count; i++)
        dx[i] = dy[i] * y[i] * (1.0f - y[i]);
      break;
    default:
      g_assert_not_reached ();
  }
}

/* ---- Dropout ---- */

/* Training: each element kept with probability 1 - p and scaled by
 * 1 / (1 - p) so that the expectation is unchanged; the mask (0 or the
 * scale) stays in the state for the backward. */
static void
dropout_forward (const AnoganLayer *layer, AnoganLayerRun *run,
    const float *x, float *y, gsize count)
{
  float p = layer->p;
  float scale = p < 1.0f ? 1.0f / (1.0f - p) : 0.0f;
  float *mask = run->state;

  if (!run->training) {
    if (y != x)
      memcpy (y, x, count * sizeof *y);
    return;
  }
  for (gsize i = 0; i < count; i++) {
    float u = (float) (anogan_random_next (&run->rng) >> 40) * (1.0f / 16777216.0f);
    mask[i] = u >= p ? scale : 0.0f;
    y[i] = x[i] * mask[i];
  }
}

static void
dropout_backward (AnoganLayerRun *run, const float *dy, float *dx,
    gsize count)
{
  if (!run->training) {
    if (dx != dy)
      memcpy (dx, dy, count * sizeof *dx);
    return;
  }
  for (gsize i = 0; i < count; i++)
    dx[i] = dy[i] * run->state[i];
}

/* ---- Upsample (nearest, integer factor) ---- */

static void
upsample_forward (const AnoganLayer *layer, int batch, const float *x,
    float *y)
{
  int s = layer->scale_factor;
  int h = layer->in_shape.dims[1], w = layer->in_shape.dims[2];
  int ow = w * s;
  gsize rows = (gsize) layer->in_shape.dims[0] * batch * h;

  for (gsize r = 0; r < rows; r++) {
    const float *src = x + r * w;
    float *dst = y + r * s * ow;
    for (int ix = 0; ix < w; ix++)
      for (int k = 0; k < s; k++)
        dst[ix * s + k] = src[ix];
    for (int k = 1; k < s; k++)
      memcpy (dst + k * ow, dst, ow * sizeof *dst);
  }
}

/* Each input pixel was copied to an s x s block: its gradient is the
 * block's sum. */
static void
upsample_backward (const AnoganLayer *layer, int batch, const float *dy,
    float *dx)
{
  int s = layer->scale_factor;
  int h = layer->in_shape.dims[1], w = layer->in_shape.dims[2];
  int ow = w * s;
  gsize rows = (gsize) layer->in_shape.dims[0] * batch * h;

  for (gsize r = 0; r < rows; r++) {
    const float *src = dy + r * s * ow;
    float *dst = dx + r * w;
    for (int ix = 0; ix < w; ix++) {
      float sum = 0.0f;
      for (int ky = 0; ky < s; ky++)
        for (int kx = 0; kx < s; kx++)
          sum += src[ky * ow + ix * s + kx];
      dst[ix] = sum;
    }
  }
}

/* ---- ZeroPad2d (left, right, top, bottom) ---- */

static void
zero_pad2d_forward (const AnoganLayer *layer, int batch, const float *x,
    float *y)
{
  int h = layer->in_shape.dims[1], w = layer->in_shape.dims[2];
  int oh = layer->out_shape.dims[1], ow = layer->out_shape.dims[2];
  gsize planes = (gsize) layer->in_shape.dims[0] * batch;

  memset (y, 0, planes * oh * ow * sizeof *y);
  for (gsize p = 0; p < planes; p++)
    for (int iy = 0; iy < h; iy++)
      memcpy (y + (p * oh + iy + layer->pad[2]) * ow + layer->pad[0],
          x + (p * h + iy) * w, w * sizeof *y);
}

static void
zero_pad2d_backward (const AnoganLayer *layer, int batch, const float *dy,
    float *dx)
{
  int h = layer->in_shape.dims[1], w = layer->in_shape.dims[2];
  int oh = layer->out_shape.dims[1], ow = layer->out_shape.dims[2];
  gsize planes = (gsize) layer->in_shape.dims[0] * batch;

  for (gsize p = 0; p < planes; p++)
    for (int iy = 0; iy < h; iy++)
      memcpy (dx + (p * h + iy) * w,
          dy + (p * oh + iy + layer->pad[2]) * ow + layer->pad[0],
          w * sizeof *dx);
}

/* ---- Flatten and Unflatten ----
 * Feature f = c*H*W + h*W + w of sample n sits at [f][n] in a feature
 * batch and at [c][n][h][w] in an image batch: a transpose of each
 * channel's [N][H*W] block. */

static void
planes_to_features (const float *x, float *y, int channels, int batch,
    gsize plane)
{
  for (int c = 0; c < channels; c++) {
    const float *xc = x + (gsize) c * batch * plane;
    float *yc = y + (gsize) c * plane * batch;
    for (int n = 0; n < batch; n++)
      for (gsize i = 0; i < plane; i++)
        yc[i * batch + n] = xc[n * plane + i];
  }
}

static void
features_to_planes (const float *x, float *y, int channels, int batch,
    gsize plane)
{
  for (int c = 0; c < channels; c++) {
    const float *xc = x + (gsize) c * plane * batch;
    float *yc = y + (gsize) c * batch * plane;
    for (int n = 0; n < batch; n++)
      for (gsize i = 0; i < plane; i++)
        yc[n * plane + i] = xc[i * batch + n];
  }
}

/* Moves between the image layout of @image and the feature layout; an
 * image shape of rank 1 means both layouts are the same. */
static void
reshape (const AnoganShape *image, int batch, gboolean to_features,
    const float *src, float *dst)
{
  gsize n = anogan_shape_numel (image) * batch;

  if (image->rank != 3) {
    if (dst != src)
      memmove (dst, src, n * sizeof *dst);
  } else if (to_features) {
    planes_to_features (src, dst, image->dims[0], batch, plane_of (image));
  } else {
    features_to_planes (src, dst, image->dims[0], batch, plane_of (image));
  }
}

/* ---- Dispatch ---- */

/**
 * anogan_layer_forward:
 * @layer: a layer with its input set
 * @params: its tensors
 * @run: batch size, mode, scratch and state
 * @x: the input batch, channel-major
 * @y: the output batch, channel-major; may equal @x when
 *   anogan_layer_is_elementwise()
 *
 * Computes y = layer(x) for run->batch samples.  In training mode fills
 * run->state for the backward and advances run->rng (Dropout).
 */
void
anogan_layer_forward (const AnoganLayer *layer,
    const AnoganLayerParams *params, AnoganLayerRun *run,
    const float *x, float *y)
{
  gsize count = anogan_shape_numel (&layer->in_shape) * run->batch;

  g_return_if_fail (layer->out_shape.rank > 0);

  switch (layer->kind) {
    case ANOGAN_LAYER_CONV2D:
      conv2d_forward (layer, params, run, x, y);
      break;
    case ANOGAN_LAYER_CONV_TRANSPOSE2D:
      conv_transpose2d_forward (layer, params, run, x, y);
      break;
    case ANOGAN_LAYER_LINEAR:
      linear_forward (layer, params, run, x, y);
      break;
    case ANOGAN_LAYER_BATCH_NORM1D:
    case ANOGAN_LAYER_BATCH_NORM2D:
      batch_norm_forward (layer, params, run, x, y);
      break;
    case ANOGAN_LAYER_RELU:
    case ANOGAN_LAYER_LEAKY_RELU:
    case ANOGAN_LAYER_TANH:
    case ANOGAN_LAYER_SIGMOID:
      activation_forward (layer, x, y, count);
      break;
    case ANOGAN_LAYER_DROPOUT:
      dropout_forward (layer, run, x, y, count);
      break;
    case ANOGAN_LAYER_UPSAMPLE:
      upsample_forward (layer, run->batch, x, y);
      break;
    case ANOGAN_LAYER_ZERO_PAD2D:
      zero_pad2d_forward (layer, run->batch, x, y);
      break;
    case ANOGAN_LAYER_FLATTEN:
      reshape (&layer->in_shape, run->batch, TRUE, x, y);
      break;
    case ANOGAN_LAYER_UNFLATTEN:
      reshape (&layer->out_shape, run->batch, FALSE, x, y);
      break;
    default:
      g_return_if_reached ();
  }
}

/**
 * anogan_layer_backward:
 * @layer: a layer with its input set
 * @params: its tensors
 * @grads: (nullable): where to ADD the gradients of its parameters; it or
 *   any entry may be %NULL to skip that gradient
 * @run: the same batch size, mode and state as the matching forward, and
 *   scratch
 * @x: (nullable): the forward's input, needed only when
 *   anogan_layer_backward_reads_input()
 * @y: (nullable): the forward's output, needed only when
 *   anogan_layer_backward_reads_output()
 * @dy: the gradient of the loss with respect to @y
 * @dx: (nullable): overwritten with the gradient with respect to @x; may
 *   equal @dy when anogan_layer_is_elementwise(); %NULL skips it
 *
 * Back-propagates through the layer.
 */
void
anogan_layer_backward (const AnoganLayer *layer,
    const AnoganLayerParams *params, AnoganLayerParams *grads,
    AnoganLayerRun *run, const float *x, const float *y,
    const float *dy, float *dx)
{
  gsize count = anogan_shape_numel (&layer->in_shape) * run->batch;

  g_return_if_fail (layer->out_shape.rank > 0);

  switch (layer->kind) {
    case ANOGAN_LAYER_CONV2D:
      conv2d_backward (layer, params, grads, run, x, dy, dx);
      return;
    case ANOGAN_LAYER_CONV_TRANSPOSE2D:
      conv_transpose2d_backward (layer, params, grads, run, x, dy, dx);
      return;
    case ANOGAN_LAYER_LINEAR:
      linear_backward (layer, params, grads, run, x, dy, dx);
      return;
    case ANOGAN_LAYER_BATCH_NORM1D:
    case ANOGAN_LAYER_BATCH_NORM2D:
      batch_norm_backward (layer, params, grads, run, x, dy, dx);
      return;
    default:
      break;
  }

  /* The rest have no parameters: without dx there is nothing to do. */
  if (!dx)
    return;
  switch (layer->kind) {
    case ANOGAN_LAYER_RELU:
    case ANOGAN_LAYER_LEAKY_RELU:
    case ANOGAN_LAYER_TANH:
    case ANOGAN_LAYER_SIGMOID:
      activation_backward (layer, x, y, dy, dx, count);
      break;
    case ANOGAN_LAYER_DROPOUT:
      dropout_backward (run, dy, dx, count);
      break;
    case ANOGAN_LAYER_UPSAMPLE:
      upsample_backward (layer, run->batch, dy, dx);
      break;
    case ANOGAN_LAYER_ZERO_PAD2D:
      zero_pad2d_backward (layer, run->batch, dy, dx);
      break;
    case ANOGAN_LAYER_FLATTEN:
      reshape (&layer->in_shape, run->batch, FALSE, dy, dx);
      break;
    case ANOGAN_LAYER_UNFLATTEN:
      reshape (&layer->out_shape, run->batch, TRUE, dy, dx);
      break;
    default:
      g_return_if_reached ();
  }
}
