/* fuzz-model.c: the model loader against arbitrary bytes
 *
 * Copyright (C) 2026 the gst-anogan authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A model file comes from elsewhere: whatever its bytes, loading must
 * either give a model whose every tensor was checked or an error naming
 * what is wrong, never a crash, a leak, undefined behaviour or an
 * allocation driven by an unchecked number.  A model that loads is saved
 * to memory and loaded again, which exercises the writer on whatever
 * descriptions the loader accepted.
 *
 * Built with libFuzzer (meson -Dfuzz=true, clang), or as a plain program
 * that replays the files it is given (the seed corpus and every crash
 * found, as a regression test).
 */
#include "anogan-model.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput (const uint8_t * data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  g_autoptr (GBytes) bytes = g_bytes_new (data, size);
  g_autoptr (GError) error = NULL;
  g_autoptr (AnoganModel) model = anogan_model_load_from_bytes (bytes,
      "fuzz.safetensors", &error);

  if (model == NULL) {
    /* Every refusal names the file. */
    g_assert (error != NULL);
    g_assert (g_str_has_prefix (error->message, "fuzz.safetensors: "));
    return 0;
  }
  if (anogan_model_param_floats (model) < ((gsize) 1 << 20)) {
    g_autoptr (AnoganSafetensorsWriter) w = anogan_model_writer_new (model);
    g_autoptr (GBytes) again = anogan_safetensors_writer_to_bytes (w);
    g_autoptr (AnoganModel) reloaded = anogan_model_load_from_bytes (again,
        "again", &error);

    g_assert (reloaded != NULL);
    g_assert (anogan_model_param_floats (reloaded)
        == anogan_model_param_floats (model));
  }
  return 0;
}
