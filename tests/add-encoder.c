/* add-encoder: a copy of a model with an untrained encoder, for the tools'
 * tests of the encoder modes
 *
 * Copyright (C) 2026 the gst-anogan authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   add-encoder IN OUT [MODE=THRESHOLD]...
 *
 * OUT is IN with the default encoder (anogan_model_default_encoder()) in
 * its DCGAN initialisation, seed 1: G and D are IN's, so the optimising
 * search scores as with IN, and the encoder modes run.  Each MODE=THRESHOLD
 * records a calibrated threshold for MODE as anogan-train would: the
 * model's own threshold for optimise, the "threshold" of the card's
 * "calibration_MODE" object for encoder and hybrid.  A random encoder is
 * enough to test the tools' plumbing (modes, thresholds, traces); what a
 * trained one is worth is for docs/results.md to measure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anogan-model.h"
#include "anogan-search.h"

static gboolean
set_threshold (AnoganModel *model, const char *setting, GError **error)
{
  g_auto (GStrv) parts = g_strsplit (setting, "=", 2);
  AnoganMode mode;
  char *end = NULL;
  double threshold;

  if (!parts[0] || !parts[1] || !anogan_mode_from_name (parts[0], &mode)) {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        "\"%s\" is not MODE=THRESHOLD", setting);
    return FALSE;
  }
  threshold = g_ascii_strtod (parts[1], &end);
  if (end == parts[1] || *end) {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        "\"%s\" is not a number", parts[1]);
    return FALSE;
  }

  if (mode == ANOGAN_MODE_OPTIMISE) {
    model->threshold = threshold;
  } else {
    g_autofree char *key = g_strconcat ("calibration_", parts[0], NULL);
    JsonObject *card = json_object_new ();

    json_object_set_double_member (card, "threshold", threshold);
    json_object_set_string_member (card, "mode", parts[0]);
    json_object_set_object_member (model->metadata, key, card);
  }
  return TRUE;
}

int
main (int argc, char **argv)
{
  g_autoptr (AnoganModel) in = NULL;
  g_autoptr (AnoganModel) out = NULL;
  GError *error = NULL;

  if (argc < 3) {
    fprintf (stderr, "usage: %s IN OUT [MODE=THRESHOLD]...\n", argv[0]);
    return 2;
  }
  in = anogan_model_load (argv[1], &error);
  if (in)
    out = anogan_model_add_encoder (in, NULL, 1, &error);
  for (int i = 3; out && !error && i < argc; i++)
    set_threshold (out, argv[i], &error);
  if (!error)
    anogan_model_save (out, argv[2], &error);
  if (error) {
    fprintf (stderr, "add-encoder: %s\n", error->message);
    g_error_free (error);
    return 1;
  }
  return 0;
}
