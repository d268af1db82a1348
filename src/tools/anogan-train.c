/* anogan-train: train an AnoGAN model on normal pictures
 *
 * Copyright (C) 2026 the gst-anogan authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A thin front end over libanogan's trainers: pictures from a SOURCE are
 * cut into patches exactly as anogan-score and the element tile at
 * inference, the GAN (or, with --encoder, the encoder of a trained model)
 * is trained on them, checkpoints are written as it goes, and the model
 * leaves with a card (and, with --calibrate, anomaly thresholds) in its
 * metadata.
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "anogan-encoder-train.h"
#include "anogan-metrics.h"
#include "anogan-train.h"
#include "anogan-tool-data.h"
#include "anogan-tool-score.h"

#define EXIT_BAD_ARGUMENTS 2
#define EXIT_INTERRUPTED 130
#define DEFAULT_EPOCHS 25
#define DEFAULT_QUANTILE 0.995
#define ITERATIONS_NOT_GIVEN -1
/* Terminal progress at most this often, log lines at least this often. */
#define REDRAW_SECONDS 0.2
#define LOG_SECONDS 30.0

typedef struct {
  char *arch;
  char *data;
  char *out;
  char *checkpoint;
  char *resume;
  char *recalibrate;
  char *calibrate;
  char *patch;
  char *augment;
  char *name;
  char *description;
  char *loss;
  char *encoder_input;
  char **calibration_modes;
  gboolean encoder;
  guint modes;                  /* 1 << AnoganMode for each to calibrate */
  int epochs;
  int batch;
  double learning_rate;
  double beta1;
  gint64 seed;
  int threads;
  int stride;
  int class_index;
  int limit;
  double checkpoint_minutes;
  double quantile;
  int calibration_iterations;
  int calibration_stride;
  int calibration_candidates;
  gboolean quiet;
} Arguments;

static volatile sig_atomic_t interrupted;

static void
on_interrupt (int signum)
{
  (void) signum;
  interrupted = 1;
}

static void
arguments_clear (Arguments *a)
{
  g_free (a->arch);
  g_free (a->data);
  g_free (a->out);
  g_free (a->checkpoint);
  g_free (a->resume);
  g_free (a->recalibrate);
  g_free (a->calibrate);
  g_free (a->patch);
  g_free (a->augment);
  g_free (a->name);
  g_free (a->description);
  g_free (a->loss);
  g_free (a->encoder_input);
  g_strfreev (a->calibration_modes);
}

/* ---- command line ------------------------------------------------------- */

static const char summary[] =
    "Trains the GAN of an AnoGAN model on normal pictures only: G learns to\n"
    "draw them, D to tell them from G's drawings, with the DCGAN recipe\n"
    "(Adam, lr 2e-4, beta1 0.5, BatchNorm in training mode, the\n"
    "non-saturating generator loss).  Pictures larger than the model's input\n"
    "are cut into patches with --stride, edge patches aligned to the border,\n"
    "as anogan-score and the anoganfilter element tile at inference.\n"
    "\n"
    "--model MODEL --encoder trains an encoder E for a trained model instead\n"
    "(f-AnoGAN's izi_f): G and D stay as they are, and E learns to map a\n"
    "normal picture x to the z whose G(z) is closest, minimising the search's\n"
    "own loss at z = E(x) (Adam, lr 1e-4, beta1 0.5).  The model then scores\n"
    "with --mode encoder (one pass) or --mode hybrid (E(x), then a few steps).\n"
    "\n"
    "SOURCE is a folder of pictures, a picture, an IDX file (MNIST layout,\n"
    ".gz or not; --class K takes one class) or a video (frames sampled).\n"
    "\n"
    "A checkpoint (OUT.ckpt unless --checkpoint says otherwise) is written\n"
    "after every epoch, every --checkpoint-minutes and on Ctrl-C, always by\n"
    "replacing the file atomically.  --resume CHECKPOINT continues a run bit\n"
    "for bit (same data, same thread count), up to --epochs in all; an\n"
    "encoder's run resumes with --encoder --resume CHECKPOINT.\n"
    "\n"
    "--calibrate SOURCE scores held-out normal pictures with the search's\n"
    "settings and stores the --quantile of their scores as the threshold of\n"
    "each --calibration-mode, with those settings beside it.\n"
    "\n"
    "Examples:\n"
    "  anogan-train --arch dcgan32 --data good-parts/ --out parts.safetensors\n"
    "  anogan-train --arch dcgan32 --class 3 --epochs 30 \\\n"
    "      --data /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz \\\n"
    "      --out dress.safetensors\n"
    "  anogan-train --resume parts.safetensors.ckpt --epochs 40 --out parts.safetensors\n"
    "  anogan-train --model parts.safetensors --encoder --data good-parts/ \\\n"
    "      --calibrate held-out/ --calibration-mode encoder,hybrid \\\n"
    "      --out parts-encoder.safetensors\n"
    "  anogan-train --model parts.safetensors --calibrate held-out/ \\\n"
    "      --calibration-candidates 256 --out parts-calibrated.safetensors";

/* --calibration-mode, repeated or comma-separated, as a set of modes. */
static gboolean
parse_modes (Arguments *a, GError **error)
{
  a->modes = 0;
  for (int i = 0; a->calibration_modes && a->calibration_modes[i]; i++) {
    g_auto (GStrv) words = g_strsplit (a->calibration_modes[i], ",", -1);

    for (int k = 0; words[k]; k++) {
      const char *w = g_strstrip (words[k]);
      AnoganMode mode;

      if (!anogan_mode_from_name (w, &mode))
        return anogan_tool_bad_argument (error, "--calibration-mode must be "
            "optimise, encoder or hybrid, not \"%s\"", w);
      a->modes |= 1u << mode;
    }
  }
  if (a->modes == 0)
    a->modes = 1u << ANOGAN_MODE_OPTIMISE;
  return TRUE;
}

static gboolean
parse_arguments (Arguments *a, int *argc, char ***argv, GError **error)
{
  const GOptionEntry entries[] = {
    { "arch", 'a', 0, G_OPTION_ARG_STRING, &a->arch,
      "Architecture: dcgan32, dcgan64 or a description file (JSON)",
      "NAME|FILE" },
    { "data", 'd', 0, G_OPTION_ARG_FILENAME, &a->data,
      "Normal pictures to train on", "SOURCE" },
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &a->out,
      "The trained model (safetensors)", "FILE" },
    { "epochs", 'e', 0, G_OPTION_ARG_INT, &a->epochs,
      "Passes over the data, in all (default: 25)", "N" },
    { "batch", 'b', 0, G_OPTION_ARG_INT, &a->batch,
      "Patches per step (default: 64)", "B" },
    { "lr", 0, 0, G_OPTION_ARG_DOUBLE, &a->learning_rate,
      "Adam's learning rate (default: 2e-4; 1e-4 with --encoder)", "F" },
    { "beta1", 0, 0, G_OPTION_ARG_DOUBLE, &a->beta1,
      "Adam's beta1 (default: 0.5)", "F" },
    { "seed", 0, 0, G_OPTION_ARG_INT64, &a->seed,
      "Seed of the weights, data order, augmentation and z (default: 0)",
      "S" },
    { "threads", 'j', 0, G_OPTION_ARG_INT, &a->threads,
      "OpenBLAS threads, 0 for one per core (default: 0)", "T" },
    { "patch", 0, 0, G_OPTION_ARG_STRING, &a->patch,
      "Patch size; must be the model's input (default: the model's)",
      "WxH" },
    { "stride", 's', 0, G_OPTION_ARG_INT, &a->stride,
      "Step between patches in large pictures (default: half a patch)",
      "S" },
    { "augment", 0, 0, G_OPTION_ARG_STRING, &a->augment,
      "Comma-separated: hflip, vflip, flip (both), rot90 (default: none)",
      "LIST" },
    { "class", 'c', 0, G_OPTION_ARG_INT, &a->class_index,
      "IDX sources: train on this label only", "K" },
    { "limit", 0, 0, G_OPTION_ARG_INT, &a->limit,
      "Use at most N pictures, a seeded random choice", "N" },
    { "resume", 'r', 0, G_OPTION_ARG_FILENAME, &a->resume,
      "Continue from a checkpoint (an encoder's with --encoder)",
      "CHECKPOINT" },
    { "model", 'm', 0, G_OPTION_ARG_FILENAME, &a->recalibrate,
      "A trained model: train its encoder with --encoder, or only "
      "calibrate it with --calibrate; written to --out", "MODEL" },
    { "encoder", 0, 0, G_OPTION_ARG_NONE, &a->encoder,
      "Train an encoder for --model (f-AnoGAN), replacing any it has",
      NULL },
    { "encoder-input", 0, 0, G_OPTION_ARG_STRING, &a->encoder_input,
      "What the new encoder reads: the image (f-AnoGAN's encoder, D's "
      "layers) or the discriminator's features f(x), which the search "
      "computes anyway (two small layers) (default: image)",
      "image|features" },
    { "loss", 0, 0, G_OPTION_ARG_STRING, &a->loss,
      "The search's residual loss, which the encoder is trained on and "
      "calibration scores with: l1 or l2 (default: l1)", "l1|l2" },
    { "checkpoint", 0, 0, G_OPTION_ARG_FILENAME, &a->checkpoint,
      "Checkpoint file (default: OUT.ckpt)", "FILE" },
    { "checkpoint-minutes", 0, 0, G_OPTION_ARG_DOUBLE, &a->checkpoint_minutes,
      "Also write the checkpoint this often (default: 10)", "M" },
    { "calibrate", 0, 0, G_OPTION_ARG_FILENAME, &a->calibrate,
      "Held-out normal pictures that set the threshold", "SOURCE" },
    { "calibration-mode", 0, 0, G_OPTION_ARG_STRING_ARRAY,
      &a->calibration_modes,
      "The search modes to calibrate, repeated or comma-separated; each "
      "gets its own threshold (default: optimise)",
      "optimise|encoder|hybrid" },
    { "quantile", 'q', 0, G_OPTION_ARG_DOUBLE, &a->quantile,
      "Threshold: this quantile of normal scores (default: 0.995)", "Q" },
    { "calibration-iterations", 0, 0, G_OPTION_ARG_INT,
      &a->calibration_iterations,
      "Search steps when calibrating (default: 500; 10 in hybrid mode)",
      "N" },
    { "calibration-stride", 0, 0, G_OPTION_ARG_INT, &a->calibration_stride,
      "Tile stride when calibrating (default: the tile size)", "S" },
    { "calibration-candidates", 0, 0, G_OPTION_ARG_INT,
      &a->calibration_candidates,
      "Start each tile from the best of K fixed points of the latent "
      "space when calibrating the optimising mode (default: 0, from the "
      "origin)", "K" },
    { "name", 0, 0, G_OPTION_ARG_STRING, &a->name,
      "The model card's name", "TEXT" },
    { "description", 0, 0, G_OPTION_ARG_STRING, &a->description,
      "The model card's description", "TEXT" },
    { "quiet", 0, 0, G_OPTION_ARG_NONE, &a->quiet,
      "No progress, only errors", NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) context =
      g_option_context_new ("- train an AnoGAN model on normal pictures");

  a->epochs = DEFAULT_EPOCHS;
  a->seed = -1;
  a->batch = -1;
  a->learning_rate = -1.0;
  a->beta1 = -1.0;
  a->stride = -1;
  a->class_index = -1;
  a->checkpoint_minutes = 10.0;
  a->quantile = DEFAULT_QUANTILE;
  a->calibration_iterations = ITERATIONS_NOT_GIVEN;
  a->calibration_stride = -1;

  g_option_context_set_summary (context, summary);
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, argc, argv, error))
    return FALSE;
  if (*argc > 1)
    return anogan_tool_bad_argument (error, "unexpected argument '%s'",
        (*argv)[1]);
  if (a->out == NULL)
    return anogan_tool_bad_argument (error, "--out is required");
  if (a->encoder && a->recalibrate == NULL && a->resume == NULL)
    return anogan_tool_bad_argument (error, "--encoder trains the encoder "
        "of a trained model: it takes --model (or --resume)");
  if (a->encoder && a->recalibrate != NULL && (a->arch != NULL
          || a->resume != NULL || a->data == NULL))
    return anogan_tool_bad_argument (error, "--model --encoder takes --data "
        "and no --arch or --resume");
  if (a->encoder && a->arch != NULL)
    return anogan_tool_bad_argument (error, "--encoder trains the encoder "
        "of a trained model: --arch is for training a GAN");
  if (!a->encoder && a->recalibrate != NULL && (a->arch != NULL
          || a->data != NULL || a->resume != NULL || a->calibrate == NULL))
    return anogan_tool_bad_argument (error, "--model calibrates a trained "
        "model: it takes --calibrate and no --arch, --data or --resume "
        "(or --encoder --data to train its encoder)");
  if (a->recalibrate == NULL && a->resume == NULL
      && (a->arch == NULL || a->data == NULL))
    return anogan_tool_bad_argument (error,
        "--arch and --data are required (or --resume)");
  if (a->resume != NULL && (a->arch != NULL || a->batch >= 0
          || a->learning_rate >= 0 || a->beta1 >= 0 || a->seed >= 0
          || a->augment != NULL || a->patch != NULL
          || (a->encoder && a->loss != NULL)))
    return anogan_tool_bad_argument (error, "--arch, --batch, --lr, "
        "--beta1, --seed, --augment, --patch and an encoder's --loss come "
        "from the checkpoint when resuming");
  if (a->encoder_input != NULL && (!a->encoder || a->recalibrate == NULL))
    return anogan_tool_bad_argument (error, "--encoder-input is for a new "
        "encoder: --model MODEL --encoder");
  if (a->encoder_input != NULL && strcmp (a->encoder_input, "image") != 0
      && strcmp (a->encoder_input, "features") != 0)
    return anogan_tool_bad_argument (error, "--encoder-input must be image "
        "or features, not \"%s\"", a->encoder_input);
  if (a->loss != NULL && strcmp (a->loss, "l1") != 0
      && strcmp (a->loss, "l2") != 0)
    return anogan_tool_bad_argument (error, "--loss must be l1 or l2, not "
        "\"%s\"", a->loss);
  if (!parse_modes (a, error))
    return FALSE;
  if (a->calibration_modes != NULL && a->calibrate == NULL)
    return anogan_tool_bad_argument (error, "--calibration-mode needs "
        "--calibrate");
  if (a->seed < -1)
    return anogan_tool_bad_argument (error, "--seed must not be negative");
  if (a->seed == -1)
    a->seed = 0;
  if (a->epochs < 1)
    return anogan_tool_bad_argument (error, "--epochs must be at least 1");
  if (a->limit < 0)
    return anogan_tool_bad_argument (error, "--limit must not be negative");
  if (!(a->checkpoint_minutes > 0.0))
    return anogan_tool_bad_argument (error,
        "--checkpoint-minutes must be positive");
  if (!(a->quantile > 0.0 && a->quantile <= 1.0))
    return anogan_tool_bad_argument (error, "--quantile must be in (0, 1]");
  if (a->calibration_candidates < 0)
    return anogan_tool_bad_argument (error,
        "--calibration-candidates must not be negative");
  if (a->calibration_iterations < 1
      && a->calibration_iterations != ITERATIONS_NOT_GIVEN)
    return anogan_tool_bad_argument (error,
        "--calibration-iterations must be at least 1");
  return TRUE;
}

static gboolean
parse_augment (const char *text, guint *flags, GError **error)
{
  g_auto (GStrv) words = NULL;

  *flags = 0;
  if (text == NULL)
    return TRUE;
  words = g_strsplit (text, ",", -1);
  for (int i = 0; words[i]; i++) {
    const char *w = g_strstrip (words[i]);
    if (strcmp (w, "hflip") == 0)
      *flags |= ANOGAN_AUGMENT_HFLIP;
    else if (strcmp (w, "vflip") == 0)
      *flags |= ANOGAN_AUGMENT_VFLIP;
    else if (strcmp (w, "flip") == 0)
      *flags |= ANOGAN_AUGMENT_HFLIP | ANOGAN_AUGMENT_VFLIP;
    else if (strcmp (w, "rot90") == 0)
      *flags |= ANOGAN_AUGMENT_ROT90;
    else if (*w != '\0')
      return anogan_tool_bad_argument (error, "unknown augmentation '%s' "
          "(hflip, vflip, flip, rot90)", w);
  }
  return TRUE;
}

static char *
augment_to_string (guint flags)
{
  GString *s = g_string_new (NULL);

  if (flags & ANOGAN_AUGMENT_HFLIP)
    g_string_append (s, "hflip,");
  if (flags & ANOGAN_AUGMENT_VFLIP)
    g_string_append (s, "vflip,");
  if (flags & ANOGAN_AUGMENT_ROT90)
    g_string_append (s, "rot90,");
  if (s->len > 0)
    g_string_truncate (s, s->len - 1);
  return g_string_free (s, FALSE);
}

/* ---- the model ---------------------------------------------------------- */

static AnoganModel *
new_model (const char *arch, guint64 seed, GError **error)
{
  AnoganModel *model = anogan_model_new_from_arch (arch, error);

  if (model)
    anogan_model_init_weights (model, seed);
  return model;
}

/* The patch size the model takes, checked against --patch. */
static gboolean
check_patch (const Arguments *a, const AnoganModel *model, GError **error)
{
  int w, h;
  char *end;

  if (a->patch == NULL)
    return TRUE;
  w = (int) strtol (a->patch, &end, 10);
  if (*end != 'x' || (h = (int) strtol (end + 1, &end, 10), *end != '\0'))
    return anogan_tool_bad_argument (error, "--patch must be WxH, not '%s'",
        a->patch);
  if (w != model->input.dims[2] || h != model->input.dims[1])
    return anogan_tool_bad_argument (error, "--patch %dx%d: the model "
        "takes %dx%d patches", w, h, model->input.dims[2],
        model->input.dims[1]);
  return TRUE;
}

/* --model --encoder: the trained model with a fresh encoder in place of
 * any it had.  Thresholds of the encoder modes were measured with the old
 * one, so they go; G, D and the rest of the card stay. */
static AnoganModel *
model_with_new_encoder (const Arguments *a, GError **error)
{
  g_autoptr (AnoganModel) trained = anogan_model_load (a->recalibrate, error);
  AnoganModel *model;

  if (trained == NULL)
    return NULL;
  if (a->encoder_input && strcmp (a->encoder_input, "features") == 0)
    model = anogan_model_add_feature_encoder (trained, NULL, a->seed, error);
  else
    model = anogan_model_add_encoder (trained, NULL, a->seed, error);
  if (model) {
    json_object_remove_member (model->metadata, "calibration_encoder");
    json_object_remove_member (model->metadata, "calibration_hybrid");
  }
  return model;
}

static AnoganResidualLoss
residual_loss (const Arguments *a)
{
  return a->loss && strcmp (a->loss, "l2") == 0 ? ANOGAN_LOSS_L2
      : ANOGAN_LOSS_L1;
}

/* Calibrating the encoder modes needs an encoder; said before any
 * training rather than after it. */
static gboolean
check_calibration_modes (const Arguments *a, const AnoganModel *model,
    GError **error)
{
  if (a->calibrate && (a->modes & ~(1u << ANOGAN_MODE_OPTIMISE))
      && !anogan_model_has_encoder (model))
    return anogan_tool_bad_argument (error, "--calibration-mode encoder and "
        "hybrid need a model with an encoder; train one with --model MODEL "
        "--encoder");
  return TRUE;
}

/* ---- data --------------------------------------------------------------- */

typedef struct {
  char *source;
  int class_index;
  int limit;
  int stride;
  guint64 seed;
  double seconds_before;        /* training time before a resume */
} DataSpec;

static float *
load_patches (const DataSpec *spec, const AnoganModel *model, gsize *n,
    int *n_pictures, GError **error)
{
  AnoganToolDataOptions options;
  g_autoptr (GPtrArray) pictures = NULL;
  const AnoganShape *in = &model->input;

  anogan_tool_data_options_init (&options);
  options.class_index = spec->class_index;
  options.limit = spec->limit;
  options.seed = spec->seed;
  options.min_width = in->dims[2];
  options.min_height = in->dims[1];
  pictures = anogan_tool_data_load (spec->source, &options, error);
  if (pictures == NULL)
    return NULL;
  *n_pictures = pictures->len;
  return anogan_tool_data_patches (pictures, in->dims[0], in->dims[1],
      in->dims[2], spec->stride, n, error);
}

/* ---- the trainer -------------------------------------------------------- */

/* A run trains the GAN or the encoder of a trained model; the loop, the
 * checkpoints, the progress and the card are the same for both. */
typedef struct {
  AnoganTrainer *gan;
  AnoganEncoderTrainer *encoder;
  AnoganTrainStats gan_stats;   /* of the last step */
  AnoganEncoderTrainStats encoder_stats;
} Training;

static void
training_clear (Training *t)
{
  g_clear_pointer (&t->gan, anogan_trainer_free);
  g_clear_pointer (&t->encoder, anogan_encoder_trainer_free);
}

static AnoganModel *
training_model (const Training *t)
{
  return t->gan ? anogan_trainer_get_model (t->gan)
      : anogan_encoder_trainer_get_model (t->encoder);
}

static const AnoganTrainOptions *
training_options (const Training *t)
{
  return t->gan ? anogan_trainer_get_options (t->gan)
      : &anogan_encoder_trainer_get_options (t->encoder)->base;
}

static gint64
training_step_count (const Training *t)
{
  return t->gan ? anogan_trainer_get_step (t->gan)
      : anogan_encoder_trainer_get_step (t->encoder);
}

static gint64
training_steps_per_epoch (const Training *t)
{
  return t->gan ? anogan_trainer_steps_per_epoch (t->gan)
      : anogan_encoder_trainer_steps_per_epoch (t->encoder);
}

static gboolean
training_set_data (Training *t, gsize n, const float *patches,
    GError **error)
{
  return t->gan ? anogan_trainer_set_data (t->gan, n, patches, error)
      : anogan_encoder_trainer_set_data (t->encoder, n, patches, error);
}

static void
training_step (Training *t)
{
  if (t->gan)
    anogan_trainer_step (t->gan, &t->gan_stats);
  else
    anogan_encoder_trainer_step (t->encoder, &t->encoder_stats);
}

static gboolean
training_save_checkpoint (Training *t, const char *path, GError **error)
{
  return t->gan ? anogan_trainer_save_checkpoint (t->gan, path, error)
      : anogan_encoder_trainer_save_checkpoint (t->encoder, path, error);
}

/* The card's record of the run. */
static const char *
training_card_key (const Training *t)
{
  return t->gan ? "training" : "encoder_training";
}

/* ---- the model card ----------------------------------------------------- */

static void
set_string (JsonObject *o, const char *key, const char *value)
{
  if (value)
    json_object_set_string_member (o, key, value);
}

static JsonObject *
card_object (AnoganModel *model, const char *key)
{
  JsonObject *o = json_object_new ();

  json_object_set_object_member (model->metadata, key, o);
  return o;
}

static void
write_training_card (Training *t, const DataSpec *spec, gsize patches,
    int pictures, int epochs, double seconds)
{
  AnoganModel *model = training_model (t);
  const AnoganTrainOptions *o = training_options (t);
  JsonObject *card = card_object (model, training_card_key (t));
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *date = g_date_time_format_iso8601 (now);
  g_autofree char *augment = augment_to_string (o->augment);
  g_autofree char *seed = g_strdup_printf ("%" G_GUINT64_FORMAT, o->seed);

  set_string (card, "data", spec->source);
  if (spec->class_index >= 0)
    json_object_set_int_member (card, "class", spec->class_index);
  if (spec->limit > 0)
    json_object_set_int_member (card, "limit", spec->limit);
  json_object_set_int_member (card, "stride", spec->stride);
  json_object_set_int_member (card, "pictures", pictures);
  json_object_set_int_member (card, "patches", patches);
  json_object_set_int_member (card, "epochs", epochs);
  json_object_set_int_member (card, "steps", training_step_count (t));
  json_object_set_int_member (card, "batch", o->batch);
  json_object_set_double_member (card, "learning_rate", o->learning_rate);
  json_object_set_double_member (card, "beta1", o->beta1);
  json_object_set_double_member (card, "beta2", o->beta2);
  set_string (card, "seed", seed);
  set_string (card, "augment", augment);
  if (t->encoder)
    set_string (card, "loss", anogan_encoder_trainer_get_options (
            t->encoder)->loss == ANOGAN_LOSS_L2 ? "l2" : "l1");
  json_object_set_int_member (card, "threads", o->threads);
  json_object_set_double_member (card, "seconds",
      round (spec->seconds_before + seconds));
  set_string (card, "date", date);
  if (t->gan) {
    json_object_set_double_member (card, "final_d_loss",
        t->gan_stats.d_loss);
    json_object_set_double_member (card, "final_g_loss",
        t->gan_stats.g_loss);
  } else {
    json_object_set_double_member (card, "final_loss",
        t->encoder_stats.loss);
    json_object_set_double_member (card, "final_residual",
        t->encoder_stats.residual);
    json_object_set_double_member (card, "final_discrimination",
        t->encoder_stats.discrimination);
  }
}

/* A checkpoint's card, read for a resume.  This tool wrote it, but the
 * file may come from elsewhere: each member's JSON type and range is
 * checked, and the first that is wrong names the file and the member. */
typedef struct {
  JsonObject *card;             /* NULL: no card */
  const char *path;
  GError *error;
} CardReader;

static gboolean
card_reader_init (CardReader *r, const Training *t, const char *path,
    GError **error)
{
  const char *key = training_card_key (t);
  JsonNode *node = json_object_get_member (training_model (t)->metadata, key);

  r->card = NULL;
  r->path = path;
  r->error = NULL;
  if (node == NULL)
    return TRUE;
  if (!JSON_NODE_HOLDS_OBJECT (node)) {
    g_set_error (error, ANOGAN_MODEL_ERROR, ANOGAN_MODEL_ERROR_METADATA,
        "%s: the card \"%s\" is not a JSON object", path, key);
    return FALSE;
  }
  r->card = json_node_get_object (node);
  return TRUE;
}

/* @key's value node when it holds a @type (a double may be written as
 * an integer); NULL when it is missing, or wrong, which is recorded. */
static JsonNode *
card_value (CardReader *r, const char *key, GType type)
{
  JsonNode *node = r->card ? json_object_get_member (r->card, key) : NULL;
  GType held;

  if (node == NULL)
    return NULL;
  held = JSON_NODE_HOLDS_VALUE (node) ? json_node_get_value_type (node) :
      G_TYPE_INVALID;
  if (held == type || (type == G_TYPE_DOUBLE && held == G_TYPE_INT64))
    return node;
  if (r->error == NULL)
    g_set_error (&r->error, ANOGAN_MODEL_ERROR, ANOGAN_MODEL_ERROR_METADATA,
        "%s: the card's \"%s\" is not %s", r->path, key,
        type == G_TYPE_STRING ? "a string" :
        type == G_TYPE_INT64 ? "an integer" : "a number");
  return NULL;
}

static const char *
card_string (CardReader *r, const char *key)
{
  JsonNode *node = card_value (r, key, G_TYPE_STRING);

  return node ? json_node_get_string (node) : NULL;
}

/* @key as an int in [@lo, G_MAXINT], or @fallback. */
static int
card_int (CardReader *r, const char *key, int fallback, int lo)
{
  JsonNode *node = card_value (r, key, G_TYPE_INT64);
  gint64 v;

  if (node == NULL)
    return fallback;
  v = json_node_get_int (node);
  if (v >= lo && v <= G_MAXINT)
    return (int) v;
  if (r->error == NULL)
    g_set_error (&r->error, ANOGAN_MODEL_ERROR, ANOGAN_MODEL_ERROR_METADATA,
        "%s: the card's \"%s\" is %" G_GINT64_FORMAT ", out of range",
        r->path, key, v);
  return fallback;
}

static double
card_double (CardReader *r, const char *key, double fallback)
{
  JsonNode *node = card_value (r, key, G_TYPE_DOUBLE);

  return node ? json_node_get_double (node) : fallback;
}

/* The data of a resumed run: what the checkpoint's card says, unless the
 * command line says otherwise. */
static void
data_spec_from_card (DataSpec *spec, const Arguments *a, CardReader *r)
{
  const char *data = card_string (r, "data");
  const char *seed;

  if (data == NULL)
    return;
  if (spec->source == NULL)
    spec->source = g_strdup (data);
  if (a->class_index < 0)
    spec->class_index = card_int (r, "class", -1, -1);
  if (a->limit == 0)
    spec->limit = card_int (r, "limit", 0, 0);
  if (a->stride < 0)
    spec->stride = card_int (r, "stride", -1, -1);
  spec->seconds_before = card_double (r, "seconds", 0.0);
  seed = card_string (r, "seed");
  if (seed)
    spec->seed = g_ascii_strtoull (seed, NULL, 10);
}

/* The last losses a resumed run's card reports, which stand until the run
 * takes a step of its own. */
static void
losses_from_card (Training *t, CardReader *r)
{
  t->gan_stats.d_loss = card_double (r, "final_d_loss", 0.0);
  t->gan_stats.g_loss = card_double (r, "final_g_loss", 0.0);
  t->encoder_stats.loss = card_double (r, "final_loss", 0.0);
  t->encoder_stats.residual = card_double (r, "final_residual", 0.0);
  t->encoder_stats.discrimination = card_double (r, "final_discrimination",
      0.0);
}

/* ---- progress ----------------------------------------------------------- */

typedef struct {
  gboolean tty;
  gboolean quiet;
  gint64 start_us;
  gint64 last_draw_us;
  gint64 last_log_us;
  gint64 first_step;
  int batch;
  /* The encoder's losses summed over the epoch so far. */
  AnoganEncoderTrainStats epoch_sum;
  int epoch_steps;
  gint64 epoch_start_us;
} Progress;

/* The last step's losses, as a terminal line or a log line shows them. */
static char *
format_losses (const Training *t, gboolean terminal)
{
  const AnoganTrainStats *g = &t->gan_stats;
  const AnoganEncoderTrainStats *e = &t->encoder_stats;

  if (t->gan && terminal)
    return g_strdup_printf ("D %.3f  G %.3f  D(x) %.2f  D(G(z)) %.2f",
        g->d_loss, g->g_loss, g->d_real, g->d_fake);
  if (t->gan)
    return g_strdup_printf ("d_loss %.4f g_loss %.4f d_real %.3f "
        "d_fake %.3f", g->d_loss, g->g_loss, g->d_real, g->d_fake);
  if (terminal)
    return g_strdup_printf ("loss %.3f  residual %.3f  discrimination %.3f",
        e->loss, e->residual, e->discrimination);
  return g_strdup_printf ("loss %.4f residual %.4f discrimination %.4f",
      e->loss, e->residual, e->discrimination);
}

static void
progress_show (Progress *p, const Training *t, gint64 per_epoch,
    int epochs, gboolean force)
{
  gint64 now = g_get_monotonic_time ();
  gint64 step = training_step_count (t);
  gint64 total = per_epoch * epochs;
  double elapsed = (now - p->start_us) / 1e6;
  double rate = elapsed > 0 ? (step - p->first_step) * p->batch / elapsed : 0;
  double eta = rate > 0 ? (total - step) * p->batch / rate : 0;
  int epoch = (int) MIN ((step - 1) / per_epoch + 1, epochs);
  g_autofree char *losses = NULL;

  if (p->quiet)
    return;
  if (p->tty) {
    char bar[25];
    int filled = (int) (24.0 * step / total);

    if (!force && now - p->last_draw_us < REDRAW_SECONDS * 1e6)
      return;
    for (int i = 0; i < 24; i++)
      bar[i] = i < filled ? '#' : '.';
    bar[24] = '\0';
    losses = format_losses (t, TRUE);
    fprintf (stderr, "\rE %d/%d [%s] %3.0f%%  %s  %.0f patches/s  "
        "ETA %02d:%02d:%02d ", epoch, epochs, bar, 100.0 * step / total,
        losses, rate, (int) eta / 3600, (int) eta / 60 % 60, (int) eta % 60);
    p->last_draw_us = now;
  } else {
    if (!force && now - p->last_log_us < LOG_SECONDS * 1e6)
      return;
    losses = format_losses (t, FALSE);
    fprintf (stderr, "epoch %d/%d step %" G_GINT64_FORMAT "/%"
        G_GINT64_FORMAT " %s %.0f patches/s\n", epoch, epochs, step, total,
        losses, rate);
    p->last_log_us = now;
  }
}

/* An encoder's loss falls slowly and its batches are noisy: each epoch
 * ends with its mean, the figure to watch. */
static void
progress_epoch (Progress *p, const Training *t, gint64 per_epoch,
    int epochs)
{
  const AnoganEncoderTrainStats *s = &t->encoder_stats;
  gint64 step = training_step_count (t);
  gint64 now = g_get_monotonic_time ();

  if (t->encoder == NULL)
    return;
  p->epoch_sum.loss += s->loss;
  p->epoch_sum.residual += s->residual;
  p->epoch_sum.discrimination += s->discrimination;
  p->epoch_steps++;
  if (step % per_epoch != 0)
    return;
  if (!p->quiet)
    fprintf (stderr, "%sepoch %d/%d: mean loss %.4f (residual %.4f, "
        "discrimination %.4f) over %d steps, %.1f s\n", p->tty ? "\n" : "",
        (int) (step / per_epoch), epochs, p->epoch_sum.loss / p->epoch_steps,
        p->epoch_sum.residual / p->epoch_steps,
        p->epoch_sum.discrimination / p->epoch_steps, p->epoch_steps,
        (now - p->epoch_start_us) / 1e6);
  memset (&p->epoch_sum, 0, sizeof p->epoch_sum);
  p->epoch_steps = 0;
  p->epoch_start_us = now;
}

static void
progress_end (Progress *p)
{
  if (p->tty && !p->quiet)
    fputc ('\n', stderr);
}

/* ---- calibration -------------------------------------------------------- */

/* Scores the held-out @pictures as the search in @mode does and stores the
 * --quantile of their scores as the mode's threshold, with the settings
 * beside it: the optimising search's as the model's threshold and the
 * card's "calibration", the encoder modes' in "calibration_encoder" and
 * "calibration_hybrid" only. */
static gboolean
calibrate_mode (const Arguments *a, AnoganModel *model, GPtrArray *pictures,
    AnoganMode mode, GError **error)
{
  AnoganSearchOptions options;
  g_autoptr (AnoganToolScorer) scorer = NULL;
  g_autofree AnoganToolScore *scores = NULL;
  g_autofree double *values = NULL;
  g_autofree char *key = NULL;
  double threshold, mean = 0.0, largest = -INFINITY;
  int stride = a->calibration_stride > 0 ? a->calibration_stride
      : ANOGAN_TOOL_STRIDE_OF_TILE;
  JsonObject *card;

  anogan_search_options_init (&options);
  options.candidates = a->calibration_candidates;
  options.lambda = model->lambda;
  options.loss = residual_loss (a);
  options.threads = a->threads;
  anogan_search_options_set_mode (&options, mode,
      a->calibration_iterations == ITERATIONS_NOT_GIVEN ? -1
      : a->calibration_iterations);
  scorer = anogan_tool_scorer_new (model, &options, stride, error);
  if (scorer == NULL)
    return FALSE;
  scores = g_new0 (AnoganToolScore, pictures->len);
  if (!anogan_tool_scorer_run (scorer,
          (AnoganToolPicture * const *) pictures->pdata, pictures->len,
          FALSE, scores, error))
    return FALSE;

  values = g_new (double, pictures->len);
  for (guint i = 0; i < pictures->len; i++) {
    values[i] = scores[i].results[scores[i].worst].score;
    mean += values[i] / pictures->len;
    largest = MAX (largest, values[i]);
    anogan_tool_score_clear (&scores[i]);
  }
  if (!anogan_metrics_quantile (values, pictures->len, a->quantile,
          &threshold, error))
    return FALSE;

  if (mode == ANOGAN_MODE_OPTIMISE) {
    model->threshold = threshold;
    key = g_strdup ("calibration");
  } else {
    key = g_strconcat ("calibration_", anogan_mode_name (mode), NULL);
  }
  card = card_object (model, key);
  set_string (card, "data", a->calibrate);
  json_object_set_int_member (card, "pictures", pictures->len);
  json_object_set_double_member (card, "quantile", a->quantile);
  json_object_set_double_member (card, "threshold", threshold);
  json_object_set_double_member (card, "score_mean", mean);
  json_object_set_double_member (card, "score_max", largest);
  json_object_set_int_member (card, "iterations", options.iterations);
  json_object_set_double_member (card, "learning_rate",
      options.learning_rate);
  json_object_set_double_member (card, "lambda", options.lambda);
  set_string (card, "loss", options.loss == ANOGAN_LOSS_L2 ? "l2" : "l1");
  set_string (card, "z_init", mode == ANOGAN_MODE_OPTIMISE ? "zero"
      : "encoder");
  json_object_set_int_member (card, "candidates", options.candidates);
  json_object_set_int_member (card, "stride", scorer->stride_x);
  if (mode != ANOGAN_MODE_OPTIMISE)
    set_string (card, "mode", anogan_mode_name (mode));
  if (!a->quiet)
    fprintf (stderr, "calibrated %s on %u pictures: threshold %.4g (%.1f%% "
        "quantile; mean %.4g, max %.4g)\n", mode == ANOGAN_MODE_OPTIMISE
        ? "the optimising search" : mode == ANOGAN_MODE_ENCODER
        ? "the encoder mode" : "the hybrid mode", pictures->len, threshold,
        100.0 * a->quantile, mean, largest);
  return TRUE;
}

/* Every --calibration-mode, on the same held-out pictures. */
static gboolean
calibrate (const Arguments *a, AnoganModel *model, GError **error)
{
  AnoganToolDataOptions data_options;
  g_autoptr (GPtrArray) pictures = NULL;

  anogan_tool_data_options_init (&data_options);
  data_options.min_width = model->input.dims[2];
  data_options.min_height = model->input.dims[1];
  pictures = anogan_tool_data_load (a->calibrate, &data_options, error);
  if (pictures == NULL)
    return FALSE;
  for (AnoganMode mode = ANOGAN_MODE_OPTIMISE; mode <= ANOGAN_MODE_HYBRID;
      mode++)
    if ((a->modes & (1u << mode))
        && !calibrate_mode (a, model, pictures, mode, error))
      return FALSE;
  return TRUE;
}

/* ---- main --------------------------------------------------------------- */

/* The options both trainers take from the command line. */
static gboolean
train_options_from_arguments (const Arguments *a, AnoganTrainOptions *o,
    GError **error)
{
  if (a->batch >= 0)
    o->batch = a->batch;
  if (a->learning_rate >= 0)
    o->learning_rate = a->learning_rate;
  if (a->beta1 >= 0)
    o->beta1 = a->beta1;
  o->seed = a->seed;
  o->threads = a->threads;
  return parse_augment (a->augment, &o->augment, error);
}

/* A new run: the GAN of a new model of --arch, or a new encoder for the
 * trained --model. */
static gboolean
start_new_training (const Arguments *a, Training *t, GError **error)
{
  AnoganEncoderTrainOptions options;
  g_autoptr (AnoganModel) model = NULL;

  /* The GAN's options are the encoder's base, with other defaults. */
  anogan_encoder_train_options_init (&options);
  if (!a->encoder)
    anogan_train_options_init (&options.base);
  options.loss = residual_loss (a);
  if (!train_options_from_arguments (a, &options.base, error))
    return FALSE;
  model = a->encoder ? model_with_new_encoder (a, error)
      : new_model (a->arch, a->seed, error);
  if (model == NULL || !check_patch (a, model, error))
    return FALSE;
  if (a->encoder)
    t->encoder = anogan_encoder_trainer_new (g_steal_pointer (&model),
        &options, error);
  else
    t->gan = anogan_trainer_new (g_steal_pointer (&model), &options.base,
        error);
  return t->gan != NULL || t->encoder != NULL;
}

static gboolean
start_training (const Arguments *a, DataSpec *spec, Training *t,
    GError **error)
{
  if (a->resume) {
    if (a->encoder)
      t->encoder = anogan_encoder_trainer_resume (a->resume, a->threads,
          error);
    else
      t->gan = anogan_trainer_resume (a->resume, a->threads, error);
    if (t->gan == NULL && t->encoder == NULL)
      return FALSE;
    CardReader card;

    if (!card_reader_init (&card, t, a->resume, error))
      return FALSE;
    data_spec_from_card (spec, a, &card);
    losses_from_card (t, &card);
    if (card.error) {
      g_propagate_error (error, card.error);
      return FALSE;
    }
    return TRUE;
  }
  return start_new_training (a, t, error);
}

static gboolean
save_checkpoint (Training *t, const char *path, const DataSpec *spec,
    gsize patches, int pictures, int epochs, double seconds, GError **error)
{
  write_training_card (t, spec, patches, pictures, epochs, seconds);
  return training_save_checkpoint (t, path, error);
}

/* --model alone: a trained model gets new thresholds, and nothing else
 * changes. */
static int
recalibrate (const Arguments *a, GError **error)
{
  g_autoptr (AnoganModel) model = anogan_model_load (a->recalibrate, error);

  if (model == NULL || !check_calibration_modes (a, model, error)
      || !anogan_model_make_writable (model, error)
      || !calibrate (a, model, error) || !anogan_model_save (model, a->out,
          error))
    return 1;
  if (!a->quiet)
    fprintf (stderr, "wrote %s\n", a->out);
  return 0;
}

static int
run (const Arguments *a, GError **error)
{
  DataSpec spec = { g_strdup (a->data), a->class_index, a->limit, a->stride,
    (guint64) a->seed, 0.0 };
  Training t = { 0 };
  g_autofree float *patches = NULL;
  g_autofree char *checkpoint = a->checkpoint ? g_strdup (a->checkpoint)
      : g_strconcat (a->out, ".ckpt", NULL);
  gsize n_patches = 0;
  int n_pictures = 0;
  gint64 per_epoch, total, last_checkpoint_us;
  Progress progress = { 0 };
  AnoganModel *model;
  int status = 0;

  if (!start_training (a, &spec, &t, error))
    goto failed;
  model = training_model (&t);
  if (!check_calibration_modes (a, model, error))
    goto failed;
  if (spec.source == NULL) {
    anogan_tool_bad_argument (error, "--data is required: the checkpoint "
        "does not say what it was trained on");
    goto failed;
  }
  if (spec.stride < 0)
    spec.stride = MAX (1, model->input.dims[2] / 2);
  patches = load_patches (&spec, model, &n_patches, &n_pictures, error);
  if (patches == NULL || !training_set_data (&t, n_patches, patches, error))
    goto failed;

  per_epoch = training_steps_per_epoch (&t);
  total = per_epoch * a->epochs;
  if (!a->quiet)
    fprintf (stderr, "%s: %d pictures, %" G_GSIZE_FORMAT " patches of %dx%d, "
        "%" G_GINT64_FORMAT " steps of %d per epoch%s%s\n", spec.source,
        n_pictures, n_patches, model->input.dims[2], model->input.dims[1],
        per_epoch, training_options (&t)->batch,
        t.encoder ? ", training the encoder" : "",
        training_step_count (&t) > 0 ? ", resumed" : "");

  signal (SIGINT, on_interrupt);
  signal (SIGTERM, on_interrupt);
  progress.tty = isatty (fileno (stderr));
  progress.quiet = a->quiet;
  progress.start_us = last_checkpoint_us = g_get_monotonic_time ();
  progress.epoch_start_us = progress.start_us;
  progress.first_step = training_step_count (&t);
  progress.batch = training_options (&t)->batch;

  while (training_step_count (&t) < total && !interrupted) {
    gint64 now;

    training_step (&t);
    progress_epoch (&progress, &t, per_epoch, a->epochs);
    progress_show (&progress, &t, per_epoch, a->epochs, FALSE);
    now = g_get_monotonic_time ();
    if (training_step_count (&t) % per_epoch == 0
        || now - last_checkpoint_us > a->checkpoint_minutes * 60e6) {
      if (!save_checkpoint (&t, checkpoint, &spec, n_patches, n_pictures,
              a->epochs, (now - progress.start_us) / 1e6, error))
        goto failed;
      last_checkpoint_us = now;
    }
  }
  if (training_step_count (&t) > progress.first_step)
    progress_show (&progress, &t, per_epoch, a->epochs, TRUE);
  progress_end (&progress);

  if (interrupted) {
    if (!save_checkpoint (&t, checkpoint, &spec, n_patches, n_pictures,
            a->epochs, (g_get_monotonic_time () - progress.start_us) / 1e6,
            error))
      goto failed;
    fprintf (stderr, "interrupted at step %" G_GINT64_FORMAT ": checkpoint "
        "in %s; continue with %s--resume %s\n", training_step_count (&t),
        checkpoint, t.encoder ? "--encoder " : "", checkpoint);
    status = EXIT_INTERRUPTED;
    goto done;
  }

  write_training_card (&t, &spec, n_patches, n_pictures, a->epochs,
      (g_get_monotonic_time () - progress.start_us) / 1e6);
  set_string (model->metadata, "name", a->name);
  set_string (model->metadata, "description", a->description);
  if (a->calibrate && !calibrate (a, model, error))
    goto failed;
  if (!anogan_model_save (model, a->out, error))
    goto failed;
  if (!a->quiet)
    fprintf (stderr, "wrote %s\n", a->out);
  goto done;

failed:
  status = 1;
done:
  training_clear (&t);
  g_free (spec.source);
  return status;
}

int
main (int argc, char **argv)
{
  Arguments args = { 0 };
  g_autoptr (GError) error = NULL;
  int status;

  if (!parse_arguments (&args, &argc, &argv, &error)) {
    fprintf (stderr, "anogan-train: %s\n", error->message);
    arguments_clear (&args);
    return EXIT_BAD_ARGUMENTS;
  }
  status = args.recalibrate && !args.encoder ? recalibrate (&args, &error)
      : run (&args, &error);
  if (error) {
    fprintf (stderr, "anogan-train: %s\n", error->message);
    if (anogan_tool_error_is_bad_argument (error))
      status = EXIT_BAD_ARGUMENTS;
  }
  arguments_clear (&args);
  return status;
}
