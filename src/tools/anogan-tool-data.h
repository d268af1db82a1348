/* anogan-tool-data.h: the pictures a tool trains or evaluates on
 *
 * Copyright (C) 2026 the gst-anogan authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "anogan-tool-image.h"

G_BEGIN_DECLS

/**
 * AnoganToolDataOptions:
 * @class_index: IDX sources: keep only the records with this label; -1
 *   keeps all
 * @exclude_class: IDX sources: drop the records with this label; -1 drops
 *   none (the one-class protocol's anomalies are "every other class")
 * @limit: keep at most this many pictures, a seeded random choice (in
 *   source order) when the source holds more; 0 keeps all
 * @seed: the seed of that choice
 * @frame_interval: video sources: take every Nth decoded frame
 * @min_width: pictures narrower than this are padded, centred, with black
 * @min_height: likewise for the height
 *
 * How to read a source.  anogan_tool_data_options_init() sets the
 * defaults: all classes, none excluded, no limit, seed 0, every frame, no padding.
 */
typedef struct {
  int class_index;
  int exclude_class;
  int limit;
  guint64 seed;
  int frame_interval;
  int min_width;
  int min_height;
} AnoganToolDataOptions;

void anogan_tool_data_options_init (AnoganToolDataOptions *options);

/**
 * AnoganToolPicture:
 * @name: what reports call it: a file path, "FILE#INDEX" for a record of
 *   an IDX file (INDEX counts from 0 in the file, before any filter),
 *   "FILE@12.400s" for a video frame (its time stamp)
 * @image: the decoded picture; it owns its pixels
 * @label: the record's label for IDX sources, -1 otherwise
 */
typedef struct {
  char *name;
  AnoganToolImage image;
  int label;
} AnoganToolPicture;

void anogan_tool_picture_free (AnoganToolPicture *picture);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (AnoganToolPicture, anogan_tool_picture_free)

GPtrArray *anogan_tool_data_load (const char *source,
    const AnoganToolDataOptions *options, GError **error);

float *anogan_tool_data_patches (GPtrArray *pictures, int channels,
    int height, int width, int stride, gsize *n_patches, GError **error);

G_END_DECLS
