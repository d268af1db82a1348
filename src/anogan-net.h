/* anogan-net.h: a sequence of layers and the workspace to run it
 *
 * Copyright (C) 2026 the gst-anogan authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "anogan-layer.h"

G_BEGIN_DECLS

/**
 * AnoganNet:
 * @name: "generator", "discriminator", ...: the prefix of its tensors
 * @n_layers: number of layers
 * @layers: the layers, shapes set by anogan_net_set_input()
 * @params: per layer, where its tensors are
 * @input_shape: the shape of one input sample
 *
 * A feed-forward network, the counterpart of a PyTorch nn.Sequential.
 * It does not own the memory its @params point to.
 */
typedef struct {
  char *name;
  int n_layers;
  AnoganLayer *layers;
  AnoganLayerParams *params;
  AnoganShape input_shape;
} AnoganNet;

void anogan_net_clear (AnoganNet *net);
gboolean anogan_net_set_input (AnoganNet *net, const AnoganShape *input,
    GError **error);
const AnoganShape *anogan_net_output_shape (const AnoganNet *net,
    int n_layers);
gsize anogan_net_param_floats (const AnoganNet *net);
gsize anogan_net_bind_params (const AnoganNet *net, float *block,
    AnoganLayerParams *params);
double anogan_net_flops (const AnoganNet *net, int n_layers);

/**
 * AnoganNetWorkspace:
 *
 * Everything one thread needs to run the first @n_layers layers of a
 * network forward and backward on up to @max_batch samples: activations,
 * gradients and scratch, planned once and allocated in one block.
 * Layers that can work in place share their input's buffer.
 */
typedef struct _AnoganNetWorkspace AnoganNetWorkspace;

/**
 * AnoganNetFlags:
 * @ANOGAN_NET_INFERENCE: eval mode, backward to the input only
 * @ANOGAN_NET_TRAINING: training mode (BatchNorm on batch statistics,
 *   Dropout active)
 * @ANOGAN_NET_PARAM_GRADS: anogan_net_backward() may be asked for
 *   gradients of the parameters, so inputs they need are kept
 *
 * What a workspace is planned for.  The fewer flags, the more layers run
 * in place and the smaller the workspace.
 */
typedef enum {
  ANOGAN_NET_INFERENCE = 0,
  ANOGAN_NET_TRAINING = 1 << 0,
  ANOGAN_NET_PARAM_GRADS = 1 << 1,
} AnoganNetFlags;

AnoganNetWorkspace *anogan_net_workspace_new (const AnoganNet *net,
    int n_layers, int max_batch, AnoganNetFlags flags);
gsize anogan_net_workspace_transient_floats (const AnoganNet *net,
    int n_layers, int max_batch);
AnoganNetWorkspace *anogan_net_workspace_new_lent (const AnoganNet *net,
    int n_layers, int max_batch, AnoganNetFlags flags, float *transient);
void anogan_net_workspace_free (AnoganNetWorkspace *ws);
gsize anogan_net_workspace_bytes (const AnoganNetWorkspace *ws);

const float *anogan_net_forward (const AnoganNet *net, AnoganNetWorkspace *ws,
    int batch, const float *x);
void anogan_net_backward (const AnoganNet *net, AnoganNetWorkspace *ws,
    const float *dy, float *dx, AnoganLayerParams *grads);
void anogan_net_set_rng (AnoganNetWorkspace *ws, guint64 seed);
void anogan_net_update_running_stats (const AnoganNet *net,
    AnoganNetWorkspace *ws);

void anogan_nchw_to_cnhw (const float *src, float *dst, int n, int c,
    gsize plane);
void anogan_cnhw_to_nchw (const float *src, float *dst, int n, int c,
    gsize plane);

G_END_DECLS
