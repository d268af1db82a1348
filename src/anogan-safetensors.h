/* anogan-safetensors.h: the safetensors container
 *
 * Copyright (C) 2026 the gst-anogan authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * AnoganTensorInfo:
 * @name: the tensor's name
 * @dtype: "F32", "I64", ... as written in the file
 * @rank: number of dimensions (at most 8)
 * @shape: the dimensions
 * @data: its bytes inside the container (little-endian, not necessarily
 *   aligned)
 * @size: number of bytes
 *
 * One tensor of a parsed container.  Points into the container's bytes.
 */
typedef struct {
  const char *name;
  const char *dtype;
  int rank;
  gint64 shape[8];
  const guint8 *data;
  gsize size;
} AnoganTensorInfo;

typedef struct _AnoganSafetensors AnoganSafetensors;

AnoganSafetensors *anogan_safetensors_parse (GBytes *bytes, const char *name,
    GError **error);
void anogan_safetensors_free (AnoganSafetensors *st);
int anogan_safetensors_n_tensors (const AnoganSafetensors *st);
const AnoganTensorInfo *anogan_safetensors_get (const AnoganSafetensors *st,
    int index);
const AnoganTensorInfo *anogan_safetensors_lookup (const AnoganSafetensors *st,
    const char *name);
const char *anogan_safetensors_metadata (const AnoganSafetensors *st,
    const char *key);
gboolean anogan_tensor_read_f32 (const AnoganTensorInfo *tensor, float *out,
    gsize n_floats);

/**
 * AnoganSafetensorsWriter:
 *
 * Collects F32 tensors and string metadata, then writes them as one file,
 * atomically (temporary file, then rename).
 */
typedef struct _AnoganSafetensorsWriter AnoganSafetensorsWriter;

AnoganSafetensorsWriter *anogan_safetensors_writer_new (void);
void anogan_safetensors_writer_add_f32 (AnoganSafetensorsWriter *w,
    const char *name, int rank, const gint64 *shape, const float *data);
void anogan_safetensors_writer_add (AnoganSafetensorsWriter *w,
    const char *name, const char *dtype, int rank, const gint64 *shape,
    const void *data, gsize size);
void anogan_safetensors_writer_set_metadata (AnoganSafetensorsWriter *w,
    const char *key, const char *value);
GBytes *anogan_safetensors_writer_to_bytes (AnoganSafetensorsWriter *w);
gboolean anogan_safetensors_writer_save (AnoganSafetensorsWriter *w,
    const char *path, GError **error);
void anogan_safetensors_writer_free (AnoganSafetensorsWriter *w);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AnoganSafetensors, anogan_safetensors_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (AnoganSafetensorsWriter, anogan_safetensors_writer_free)

G_END_DECLS
