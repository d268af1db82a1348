/* anogan-layer.h: one network layer, forward and backward
 *
 * Copyright (C) 2026 the gst-anogan authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * AnoganLayerKind:
 *
 * The layers a model may use.  Each has the semantics of the PyTorch
 * module of the same name, so that networks trained there load here.
 */
typedef enum {
  ANOGAN_LAYER_LINEAR,
  ANOGAN_LAYER_CONV2D,
  ANOGAN_LAYER_CONV_TRANSPOSE2D,
  ANOGAN_LAYER_BATCH_NORM1D,
  ANOGAN_LAYER_BATCH_NORM2D,
  ANOGAN_LAYER_RELU,
  ANOGAN_LAYER_LEAKY_RELU,
  ANOGAN_LAYER_TANH,
  ANOGAN_LAYER_SIGMOID,
  ANOGAN_LAYER_UPSAMPLE,
  ANOGAN_LAYER_ZERO_PAD2D,
  ANOGAN_LAYER_DROPOUT,
  ANOGAN_LAYER_FLATTEN,
  ANOGAN_LAYER_UNFLATTEN,
  ANOGAN_N_LAYER_KINDS
} AnoganLayerKind;

/**
 * AnoganShape:
 * @rank: 1 for a feature vector, 3 for an image (channels, height, width)
 * @dims: the sizes; unused entries are 1
 *
 * The shape of one sample: the batch dimension is never part of it.
 */
typedef struct {
  int rank;
  int dims[3];
} AnoganShape;

/**
 * AnoganParamKind:
 *
 * The tensors a layer may own, named as in a PyTorch state_dict.
 * Running statistics are buffers rather than parameters in PyTorch terms;
 * they live beside the parameters here because they are stored alike.
 */
typedef enum {
  ANOGAN_PARAM_WEIGHT,
  ANOGAN_PARAM_BIAS,
  ANOGAN_PARAM_RUNNING_MEAN,
  ANOGAN_PARAM_RUNNING_VAR,
  ANOGAN_N_PARAM_KINDS
} AnoganParamKind;

/**
 * AnoganLayer:
 *
 * A layer's hyper-parameters, with PyTorch's names and defaults, and the
 * shapes it maps between.  Fields a kind does not use are ignored.
 * Linear uses @in_channels and @out_channels for in_features and
 * out_features; BatchNorm uses @in_channels for num_features.
 */
typedef struct {
  AnoganLayerKind kind;

  int in_channels;
  int out_channels;
  int kernel[2];              /* height, width */
  int stride[2];
  int padding[2];
  int output_padding[2];      /* ConvTranspose2d only */
  gboolean bias;

  float eps;                  /* BatchNorm: 1e-5 */
  float momentum;             /* BatchNorm: 0.1 */
  gboolean affine;            /* BatchNorm: TRUE */

  float negative_slope;       /* LeakyReLU: 0.01 */
  int scale_factor;           /* Upsample (nearest): integer scale */
  int pad[4];                 /* ZeroPad2d: left, right, top, bottom */
  float p;                    /* Dropout: 0.5 */
  AnoganShape unflattened;    /* Unflatten(1, sizes) */

  AnoganShape in_shape;
  AnoganShape out_shape;
} AnoganLayer;

/**
 * AnoganLayerParams:
 * @t: one pointer per #AnoganParamKind, %NULL where the layer has no such
 *   tensor.  For inference they may point into a read-only file mapping.
 */
typedef struct {
  float *t[ANOGAN_N_PARAM_KINDS];
} AnoganLayerParams;

/**
 * AnoganLayerRun:
 * @batch: samples in this call
 * @training: training mode (BatchNorm uses batch statistics, Dropout drops)
 * @scratch: anogan_layer_scratch_floats() floats of workspace
 * @state: anogan_layer_state_floats() floats that a training-mode forward
 *   fills and the matching backward reads (batch statistics, dropout mask)
 * @rng: Dropout's random state in training mode, advanced by each forward
 *
 * What one call of a layer needs besides its data.
 */
typedef struct {
  int batch;
  gboolean training;
  float *scratch;
  float *state;
  guint64 rng;
} AnoganLayerRun;

/*
 * Data layout.  Activations are channel-major batches: an image batch is
 * [C][N][H][W] and a feature batch [F][N].  With it a convolution over the
 * whole batch is one sgemm, (C_out x C_in*k*k) times (C_in*k*k x N*H*W),
 * and its product is already the next layer's input: no transposes.
 * anogan_net converts from and to NCHW at the network's boundaries.
 */

void anogan_layer_init (AnoganLayer *layer, AnoganLayerKind kind);

const char *anogan_layer_kind_name (AnoganLayerKind kind);
gboolean anogan_layer_kind_from_name (const char *name, AnoganLayerKind *kind);
extern const char *const anogan_param_names[ANOGAN_N_PARAM_KINDS];

gsize anogan_shape_numel (const AnoganShape *shape);
gboolean anogan_shape_equal (const AnoganShape *a, const AnoganShape *b);
char *anogan_shape_to_string (const AnoganShape *shape);

gboolean anogan_layer_set_input (AnoganLayer *layer, const AnoganShape *in,
    GError **error);
int anogan_layer_param_shape (const AnoganLayer *layer, AnoganParamKind kind,
    gint64 shape[4]);
gsize anogan_layer_param_floats (const AnoganLayer *layer, AnoganParamKind kind);

gsize anogan_layer_scratch_floats (const AnoganLayer *layer, int batch);
gsize anogan_layer_state_floats (const AnoganLayer *layer, int batch,
    gboolean training);
double anogan_layer_flops (const AnoganLayer *layer);

gboolean anogan_layer_is_elementwise (const AnoganLayer *layer);
gboolean anogan_layer_backward_reads_input (const AnoganLayer *layer,
    gboolean training, gboolean param_grads);
gboolean anogan_layer_backward_reads_output (const AnoganLayer *layer,
    gboolean training);

void anogan_layer_forward (const AnoganLayer *layer,
    const AnoganLayerParams *params, AnoganLayerRun *run,
    const float *x, float *y);
void anogan_layer_backward (const AnoganLayer *layer,
    const AnoganLayerParams *params, AnoganLayerParams *grads,
    AnoganLayerRun *run, const float *x, const float *y,
    const float *dy, float *dx);
void anogan_layer_update_running_stats (const AnoganLayer *layer,
    AnoganLayerParams *params, const AnoganLayerRun *run);

G_END_DECLS
