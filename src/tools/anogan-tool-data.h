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
 * @min_width: IDX records narrower than this are padded, centred, with
 *   black (Fashion-MNIST's 28x28 to a 32x32 model, the one-class
 *   protocol); pictures and video frames are never padded
 * @min_height: likewise for the height
 *
 * How to read a source.  anogan_tool_data_options_init() sets the
 * defaults: all classes, none excluded, no limit, seed 0, every frame, no
 * padding.
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

/**
 * anogan_tool_picture_check_size:
 * @picture: a picture
 * @width: the width of one patch or tile
 * @height: its height
 * @what: what the caller calls it in messages: "patch", "tile"
 * @error: return location for a #GError
 *
 * Checks that @picture holds at least one patch.  A smaller picture is
 * not padded (only IDX records are, when they are read), so it cannot be
 * trained on or scored; the error names it, its size and the patch size,
 * in the same words in every tool.
 *
 * Returns: %FALSE with a %G_IO_ERROR_INVALID_DATA error if @picture is
 *   narrower or lower than a patch: the data are at fault, not the
 *   command line
 */
static inline gboolean
anogan_tool_picture_check_size (const AnoganToolPicture *picture, int width,
    int height, const char *what, GError **error)
{
  const AnoganToolImage *image = &picture->image;

  if (image->width >= width && image->height >= height)
    return TRUE;
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
      "%s: the picture is %dx%d, smaller than one %dx%d %s", picture->name,
      image->width, image->height, width, height, what);
  return FALSE;
}

float *anogan_tool_data_patches (GPtrArray *pictures, int channels,
    int height, int width, int stride, gsize *n_patches, GError **error);

G_END_DECLS
