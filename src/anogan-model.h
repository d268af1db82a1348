/* anogan-model.h: an AnoGAN model, its file format and its architectures
 *
 * Copyright (C) 2026 the gst-anogan authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <json-glib/json-glib.h>
#include "anogan-net.h"
#include "anogan-safetensors.h"

G_BEGIN_DECLS

/**
 * ANOGAN_MODEL_TRAINER_PREFIX:
 *
 * Tensors whose names start with this belong to a training checkpoint
 * (the optimiser's state); loading a checkpoint as a model skips them.
 */
#define ANOGAN_MODEL_TRAINER_PREFIX "trainer."

#define ANOGAN_MODEL_ERROR (anogan_model_error_quark ())
GQuark anogan_model_error_quark (void);

/**
 * AnoganModelError:
 * @ANOGAN_MODEL_ERROR_IO: the file could not be read or written
 * @ANOGAN_MODEL_ERROR_FORMAT: the safetensors container is malformed
 *   (truncated, header length past the end, bad JSON, bad offsets)
 * @ANOGAN_MODEL_ERROR_METADATA: the `anogan` description is missing or
 *   wrong (unknown layer, bad argument, shapes that do not chain, ...)
 * @ANOGAN_MODEL_ERROR_TENSOR: a tensor is missing, extra, of the wrong
 *   shape or dtype, or holds non-finite values
 *
 * Every message names the file and what is wrong with it.
 */
typedef enum {
  ANOGAN_MODEL_ERROR_IO,
  ANOGAN_MODEL_ERROR_FORMAT,
  ANOGAN_MODEL_ERROR_METADATA,
  ANOGAN_MODEL_ERROR_TENSOR,
} AnoganModelError;

/**
 * AnoganModel:
 * @name: the file it was loaded from, or the architecture's name
 * @input: the shape of one image, channels x height x width
 * @nz: size of the latent vector z
 * @generator: G, from z ([nz] or [nz,1,1]) to an image of shape @input
 * @discriminator: D, from an image of shape @input to its verdict
 * @encoder: E, from an image of shape @input to z (f-AnoGAN); a network of
 *   no layers when the model has none
 * @encoder_reads_features: E's input is f(x), the discriminator's feature
 *   layer, rather than the image: the score computes f(x) anyway, so such
 *   an encoder costs little more than its last layers
 * @feature_layer: f(x) is the output of discriminator layer
 *   @feature_layer (0-based), that is D[:feature_layer+1]
 * @lambda: weight of the discrimination loss (0.1 in the AnoGAN paper)
 * @threshold: calibrated anomaly threshold, or NAN when there is none
 * @metadata: the whole `anogan` description, extra keys included
 *   (model card fields: name, description, training data, metrics)
 *
 * Read-only after loading; one model may serve many threads at once.
 */
typedef struct {
  char *name;
  AnoganShape input;
  int nz;
  AnoganNet generator;
  AnoganNet discriminator;
  AnoganNet encoder;
  gboolean encoder_reads_features;
  int feature_layer;
  float lambda;
  double threshold;
  JsonObject *metadata;

  /*< private >*/
  GMappedFile *mapping;
  GBytes *bytes;
  float *storage;
} AnoganModel;

AnoganModel *anogan_model_load (const char *path, GError **error);
AnoganModel *anogan_model_load_from_bytes (GBytes *bytes, const char *name,
    GError **error);
AnoganModel *anogan_model_new_from_description (JsonObject *description,
    const char *name, GError **error);
AnoganModel *anogan_model_new_from_arch (const char *arch, GError **error);
void anogan_model_init_weights (AnoganModel *model, guint64 seed);
gboolean anogan_model_save (const AnoganModel *model, const char *path,
    GError **error);
AnoganSafetensorsWriter *anogan_model_writer_new (const AnoganModel *model);
gboolean anogan_model_make_writable (AnoganModel *model, GError **error);
void anogan_model_free (AnoganModel *model);

gsize anogan_model_param_floats (const AnoganModel *model);

gboolean anogan_model_has_encoder (const AnoganModel *model);
JsonArray *anogan_model_default_encoder (const AnoganModel *model);
JsonArray *anogan_model_default_feature_encoder (const AnoganModel *model);
AnoganModel *anogan_model_add_encoder (const AnoganModel *model,
    JsonArray *encoder, guint64 seed, GError **error);
AnoganModel *anogan_model_add_feature_encoder (const AnoganModel *model,
    JsonArray *encoder, guint64 seed, GError **error);
JsonObject *anogan_model_get_calibration (const AnoganModel *model,
    const char *mode);
char **anogan_model_list_archs (void);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AnoganModel, anogan_model_free)

G_END_DECLS
