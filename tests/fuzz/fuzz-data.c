/* fuzz-data.c: the tools' picture readers against arbitrary bytes
 *
 * Copyright (C) 2026 the gst-anogan authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * anogan-score, anogan-train and anogan-eval read IDX files (MNIST's
 * format, recognised by their magic number) and pictures (PNG, JPEG, ...
 * through gdk-pixbuf) that come from elsewhere.  The bytes are written to
 * a file named as an MNIST image file, which anogan_tool_data_load()
 * reads as IDX when its magic number says so and as a picture otherwise:
 * a clear error or pictures of checked sizes, never a crash, a leak or an
 * allocation driven by an unchecked number.
 */
#include "anogan-tool-data.h"

#include <glib/gstdio.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput (const uint8_t * data, size_t size);

static char *input_dir, *input_file;

static void
remove_input (void)
{
  g_remove (input_file);
  g_rmdir (input_dir);
}

/* One file in a directory of its own, removed when the process ends. */
static const char *
input_path (void)
{
  if (input_file == NULL) {
    input_dir = g_dir_make_tmp ("anogan-fuzz-XXXXXX", NULL);
    g_assert (input_dir != NULL);
    input_file = g_build_filename (input_dir, "fuzz-images-idx3-ubyte",
        NULL);
    atexit (remove_input);
  }
  return input_file;
}

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  const char *path = input_path ();
  AnoganToolDataOptions options;
  g_autoptr (GError) error = NULL;
  GPtrArray *pictures;

  g_assert (g_file_set_contents (path, (const char *) data, size, NULL));
  anogan_tool_data_options_init (&options);
  pictures = anogan_tool_data_load (path, &options, &error);
  if (pictures == NULL) {
    g_assert (error != NULL);
    return 0;
  }
  for (guint i = 0; i < pictures->len; i++) {
    const AnoganToolPicture *p = g_ptr_array_index (pictures, i);

    g_assert (p->image.width > 0 && p->image.height > 0);
  }
  g_ptr_array_unref (pictures);
  return 0;
}
