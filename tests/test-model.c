/* test-model.c: the model file format, loading, saving and architectures
 *
 * A model saved and loaded again must be the same model, whichever way
 * its tensors reach memory (mapped in place or copied).  A file that is
 * wrong in any way must be refused with an error that names the file and
 * the problem, never with a crash; the bad files here are written by hand
 * or made by corrupting good ones.
 */
/* mkfifo() and ftruncate(), which plain C11 leaves out. */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "anogan-model.h"
#include "anogan-safetensors.h"
#include "anogan-test-util.h"

/* A small model using most layer kinds, so files stay tiny. */
static const char tiny_json[] =
    "{\"version\":1,\"name\":\"tiny\",\"input\":[1,4,4],\"nz\":4,"
    "\"generator\":["
    "{\"type\":\"ConvTranspose2d\",\"in_channels\":4,\"out_channels\":8,"
    "\"kernel_size\":4,\"bias\":false},"
    "{\"type\":\"BatchNorm2d\",\"num_features\":8},"
    "{\"type\":\"ReLU\"},"
    "{\"type\":\"Conv2d\",\"in_channels\":8,\"out_channels\":1,"
    "\"kernel_size\":3,\"padding\":1},"
    "{\"type\":\"Tanh\"}],"
    "\"discriminator\":["
    "{\"type\":\"Conv2d\",\"in_channels\":1,\"out_channels\":4,"
    "\"kernel_size\":4,\"stride\":2,\"padding\":1},"
    "{\"type\":\"LeakyReLU\",\"negative_slope\":0.2},"
    "{\"type\":\"Flatten\"},"
    "{\"type\":\"Linear\",\"in_features\":16,\"out_features\":1},"
    "{\"type\":\"Sigmoid\"}],"
    "\"feature_layer\":1,\"lambda\":0.1,\"threshold\":null}";

/* z as a vector, and every optional argument spelled out. */
static const char vector_json[] =
    "{\"version\":1,\"input\":[1,8,8],\"nz\":5,"
    "\"generator\":["
    "{\"type\":\"Linear\",\"in_features\":5,\"out_features\":16},"
    "{\"type\":\"BatchNorm1d\",\"num_features\":16,\"eps\":0.001,"
    "\"momentum\":0.2,\"affine\":false,\"track_running_stats\":true},"
    "{\"type\":\"ReLU\",\"inplace\":true},"
    "{\"type\":\"Unflatten\",\"dim\":1,\"unflattened_size\":[1,4,4]},"
    "{\"type\":\"Upsample\",\"scale_factor\":2.0,\"mode\":\"nearest\","
    "\"size\":null,\"align_corners\":null,\"recompute_scale_factor\":null},"
    "{\"type\":\"ZeroPad2d\",\"padding\":[1,1,1,1]},"
    "{\"type\":\"Conv2d\",\"in_channels\":1,\"out_channels\":1,"
    "\"kernel_size\":[3,3],\"stride\":[1,1],\"padding\":[0,0],"
    "\"dilation\":1,\"groups\":1,\"bias\":true,\"padding_mode\":\"zeros\"},"
    "{\"type\":\"Tanh\"}],"
    "\"discriminator\":["
    "{\"type\":\"Conv2d\",\"in_channels\":1,\"out_channels\":2,"
    "\"kernel_size\":4,\"stride\":2,\"padding\":1,\"dilation\":[1,1]},"
    "{\"type\":\"Dropout\",\"p\":0.3,\"inplace\":false},"
    "{\"type\":\"Flatten\",\"start_dim\":1,\"end_dim\":-1},"
    "{\"type\":\"Linear\",\"in_features\":32,\"out_features\":1,"
    "\"bias\":false},"
    "{\"type\":\"Sigmoid\"}],"
    "\"feature_layer\":2}";

typedef struct {
  char *dir;
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  GError *error = NULL;
  f->dir = g_dir_make_tmp ("anogan-model-XXXXXX", &error);
  g_assert_no_error (error);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  GDir *dir = g_dir_open (f->dir, 0, NULL);
  const char *name;
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL) {
    char *path = g_build_filename (f->dir, name, NULL);
    g_assert_cmpint (g_remove (path), ==, 0);
    g_free (path);
  }
  if (dir != NULL)
    g_dir_close (dir);
  g_assert_cmpint (g_rmdir (f->dir), ==, 0);
  g_free (f->dir);
}

static char *
fixture_path (Fixture *f, const char *name)
{
  return g_build_filename (f->dir, name, NULL);
}

static JsonObject *
parse_object (const char *json)
{
  JsonParser *parser = json_parser_new ();
  GError *error = NULL;
  json_parser_load_from_data (parser, json, -1, &error);
  g_assert_no_error (error);
  JsonObject *obj = json_object_ref (json_node_get_object (
          json_parser_get_root (parser)));
  g_object_unref (parser);
  return obj;
}

static AnoganModel *
new_model (const char *json, guint64 seed)
{
  JsonObject *desc = parse_object (json);
  GError *error = NULL;
  AnoganModel *model = anogan_model_new_from_description (desc, "test",
      &error);
  g_assert_no_error (error);
  json_object_unref (desc);
  anogan_model_init_weights (model, seed);
  return model;
}

static void
write_bytes (const char *path, GBytes *bytes)
{
  GError *error = NULL;
  gsize size;
  const char *data = g_bytes_get_data (bytes, &size);
  g_file_set_contents (path, data, size, &error);
  g_assert_no_error (error);
}

/* Every tensor of a model, by its state_dict name. */
typedef void (*TensorFunc) (const char *name, int rank, const gint64 *shape,
    const float *data, gpointer user_data);

static void
foreach_tensor (const AnoganModel *model, TensorFunc func, gpointer user_data)
{
  const AnoganNet *nets[3] = { &model->generator, &model->discriminator,
    &model->encoder };
  int n_nets = anogan_model_has_encoder (model) ? 3 : 2;
  for (int n = 0; n < n_nets; n++) {
    for (int i = 0; i < nets[n]->n_layers; i++) {
      for (int k = 0; k < ANOGAN_N_PARAM_KINDS; k++) {
        gint64 shape[4];
        int rank = anogan_layer_param_shape (&nets[n]->layers[i], k, shape);
        if (rank == 0)
          continue;
        char *name = g_strdup_printf ("%s.%d.%s", nets[n]->name, i,
            anogan_param_names[k]);
        func (name, rank, shape, nets[n]->params[i].t[k], user_data);
        g_free (name);
      }
    }
  }
}

static gsize
numel (int rank, const gint64 *shape)
{
  gsize n = 1;
  for (int i = 0; i < rank; i++)
    n *= shape[i];
  return n;
}

/* Compares each tensor of the model it is called on with @other's. */
static void
compare_tensor (const char *name, int rank, const gint64 *shape,
    const float *data, gpointer other_model)
{
  const AnoganModel *other = other_model;
  const AnoganNet *net = g_str_has_prefix (name, "generator.")
      ? &other->generator : g_str_has_prefix (name, "encoder.")
      ? &other->encoder : &other->discriminator;
  g_assert_cmpint (net->n_layers, >, 0);
  int layer = atoi (strchr (name, '.') + 1);
  const char *kind_name = strrchr (name, '.') + 1;
  int kind = 0;
  while (strcmp (anogan_param_names[kind], kind_name) != 0)
    kind++;
  const float *theirs = net->params[layer].t[kind];
  g_assert_nonnull (theirs);
  g_assert_cmpmem (data, numel (rank, shape) * sizeof (float), theirs,
      numel (rank, shape) * sizeof (float));
}

static void
assert_same_tensors (const AnoganModel *a, const AnoganModel *b)
{
  g_assert_cmpuint (anogan_model_param_floats (a), ==,
      anogan_model_param_floats (b));
  foreach_tensor (a, compare_tensor, (gpointer) b);
}

static gboolean
points_into (const void *p, GMappedFile *mapping)
{
  const char *begin = g_mapped_file_get_contents (mapping);
  const char *end = begin + g_mapped_file_get_length (mapping);
  return (const char *) p >= begin && (const char *) p < end;
}

static void
assert_mapped (const AnoganModel *model)
{
  g_assert_null (model->storage);
  g_assert_nonnull (model->mapping);
  g_assert_true (points_into (model->generator.params[0].t[0],
          model->mapping));
  int last = model->discriminator.n_layers - 2;
  while (model->discriminator.params[last].t[0] == NULL)
    last--;
  g_assert_true (points_into (model->discriminator.params[last].t[0],
          model->mapping));
}

/* ---- Round trips ---- */

static void
test_round_trip (Fixture *f, gconstpointer data)
{
  GError *error = NULL;
  AnoganModel *model = anogan_model_new_from_arch ("dcgan32", &error);
  g_assert_no_error (error);
  anogan_model_init_weights (model, 42);
  model->lambda = 0.25f;
  model->threshold = 3.5;
  /* numbers json-glib writes with an exponent, and a string that looks
   * like one */
  json_object_set_double_member (model->metadata, "large", 1e17);
  json_object_set_double_member (model->metadata, "larger", -1e22);
  json_object_set_string_member (model->metadata, "text", "2e+17.0 \"1e5.0");
  char *path = fixture_path (f, "round-trip.safetensors");
  g_assert_true (anogan_model_save (model, path, &error));
  g_assert_no_error (error);

  AnoganModel *loaded = anogan_model_load (path, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (loaded->name, ==, path);
  g_assert_cmpint (loaded->nz, ==, 64);
  g_assert_true (anogan_shape_equal (&loaded->input, &model->input));
  g_assert_cmpint (loaded->feature_layer, ==, 7);
  g_assert_cmpfloat (loaded->lambda, ==, 0.25f);
  g_assert_cmpfloat (loaded->threshold, ==, 3.5);
  g_assert_cmpint (loaded->generator.n_layers, ==, 11);
  g_assert_cmpint (loaded->discriminator.n_layers, ==, 10);
  assert_same_tensors (model, loaded);
  assert_same_tensors (loaded, model);
  g_assert_cmpstr (json_object_get_string_member (loaded->metadata, "name"),
      ==, "dcgan32");
  g_assert_cmpfloat (json_object_get_double_member (loaded->metadata,
          "lambda"), ==, 0.25);
  g_assert_cmpfloat (json_object_get_double_member (loaded->metadata,
          "threshold"), ==, 3.5);
  /* Everything else in the description is as it was. */
  g_assert_cmpuint (json_object_get_size (loaded->metadata), ==,
      json_object_get_size (model->metadata));
  g_autoptr (GList) keys = json_object_get_members (model->metadata);
  for (GList *l = keys; l != NULL; l = l->next) {
    if (strcmp (l->data, "lambda") == 0 || strcmp (l->data, "threshold") == 0)
      continue;
    g_assert_true (json_node_equal (json_object_get_member (model->metadata,
                l->data), json_object_get_member (loaded->metadata,
                l->data)));
  }

  /* The writer aligns the data, so the weights stay in the mapping. */
  assert_mapped (loaded);

  /* Saving what was loaded gives the same bytes: nothing drifts. */
  char *again = fixture_path (f, "again.safetensors");
  g_assert_true (anogan_model_save (loaded, again, &error));
  g_assert_no_error (error);
  char *a, *b;
  gsize a_len, b_len;
  g_assert_true (g_file_get_contents (path, &a, &a_len, NULL));
  g_assert_true (g_file_get_contents (again, &b, &b_len, NULL));
  g_assert_cmpmem (a, a_len, b, b_len);

  g_free (a);
  g_free (b);
  g_free (again);
  g_free (path);
  anogan_model_free (loaded);
  anogan_model_free (model);
}

/* The file layout the safetensors format promises other readers. */
static void
test_writer_layout (void)
{
  AnoganSafetensorsWriter *w = anogan_safetensors_writer_new ();
  const gint64 shape[2] = { 2, 3 };
  const float values[6] = { 1, 2, 3, 4, 5, 6 };
  const gint64 scalar = 7;
  anogan_safetensors_writer_add_f32 (w, "b", 2, shape, values);
  anogan_safetensors_writer_add (w, "a", "I64", 0, NULL, &scalar, 8);
  anogan_safetensors_writer_add_f32 (w, "c", 1, shape, values);
  anogan_safetensors_writer_set_metadata (w, "k", "old");
  anogan_safetensors_writer_set_metadata (w, "k", "v \"quoted\"");
  GBytes *bytes = anogan_safetensors_writer_to_bytes (w);
  anogan_safetensors_writer_free (w);

  gsize size;
  const guint8 *file = g_bytes_get_data (bytes, &size);
  guint64 header_length;
  memcpy (&header_length, file, 8);
  header_length = GUINT64_FROM_LE (header_length);
  g_assert_cmpuint ((8 + header_length) % 8, ==, 0);
  g_assert_cmpuint (size, ==, 8 + header_length + 24 + 8 + 8);
  g_assert_cmpint (file[8], ==, '{');

  GError *error = NULL;
  AnoganSafetensors *st = anogan_safetensors_parse (bytes, "mem", &error);
  g_assert_no_error (error);
  g_assert_cmpint (anogan_safetensors_n_tensors (st), ==, 3);
  /* Insertion order, each right after the one before. */
  const AnoganTensorInfo *t = anogan_safetensors_get (st, 0);
  g_assert_cmpstr (t->name, ==, "b");
  g_assert_true (t->data == file + 8 + header_length);
  g_assert_cmpint (t->rank, ==, 2);
  g_assert_cmpint (t->shape[1], ==, 3);
  t = anogan_safetensors_get (st, 1);
  g_assert_cmpstr (t->name, ==, "a");
  g_assert_cmpstr (t->dtype, ==, "I64");
  g_assert_cmpint (t->rank, ==, 0);
  g_assert_true (t->data == file + 8 + header_length + 24);
  t = anogan_safetensors_lookup (st, "c");
  g_assert_nonnull (t);
  g_assert_cmpuint (t->size, ==, 8);
  float got[2];
  g_assert_true (anogan_tensor_read_f32 (t, got, 2));
  g_assert_cmpfloat (got[1], ==, 2.0f);
  g_assert_false (anogan_tensor_read_f32 (t, got, 1));
  g_assert_false (anogan_tensor_read_f32 (anogan_safetensors_get (st, 1),
          got, 2));
  g_assert_null (anogan_safetensors_lookup (st, "d"));
  g_assert_cmpstr (anogan_safetensors_metadata (st, "k"), ==,
      "v \"quoted\"");
  g_assert_null (anogan_safetensors_metadata (st, "x"));
  anogan_safetensors_free (st);
  g_bytes_unref (bytes);
}

/* A model file whose data section starts 2 bytes off: same header and
 * tensors, two more spaces of padding. */
static GBytes *
misalign (GBytes *good)
{
  gsize size;
  const guint8 *file = g_bytes_get_data (good, &size);
  guint64 n;
  memcpy (&n, file, 8);
  n = GUINT64_FROM_LE (n);
  GByteArray *out = g_byte_array_new ();
  guint64 n2 = GUINT64_TO_LE (n + 2);
  g_byte_array_append (out, (const guint8 *) &n2, 8);
  g_byte_array_append (out, file + 8, n);
  g_byte_array_append (out, (const guint8 *) "  ", 2);
  g_byte_array_append (out, file + 8 + n, size - 8 - n);
  return g_byte_array_free_to_bytes (out);
}

static GBytes *
model_to_bytes (Fixture *f, const AnoganModel *model)
{
  GError *error = NULL;
  char *path = fixture_path (f, "tmp.safetensors");
  g_assert_true (anogan_model_save (model, path, &error));
  g_assert_no_error (error);
  char *data;
  gsize size;
  g_assert_true (g_file_get_contents (path, &data, &size, NULL));
  g_remove (path);
  g_free (path);
  return g_bytes_new_take (data, size);
}

static void
test_misaligned_copy (Fixture *f, gconstpointer data)
{
  GError *error = NULL;
  AnoganModel *model = new_model (tiny_json, 3);
  GBytes *good = model_to_bytes (f, model);
  GBytes *bad = misalign (good);
  char *path = fixture_path (f, "misaligned.safetensors");
  write_bytes (path, bad);

  /* A mapping is page aligned, so every tensor is now 2 bytes off. */
  AnoganModel *loaded = anogan_model_load (path, &error);
  g_assert_no_error (error);
  g_assert_nonnull (loaded->storage);
  g_assert_null (loaded->bytes);
  g_assert_null (loaded->mapping);
  assert_same_tensors (model, loaded);
  assert_same_tensors (loaded, model);
  anogan_model_free (loaded);

  /* In memory too: the good file one byte into a buffer. */
  gsize size;
  const guint8 *d = g_bytes_get_data (good, &size);
  guint8 *shifted = g_malloc (size + 1);
  memcpy (shifted + 1, d, size);
  GBytes *whole = g_bytes_new_take (shifted, size + 1);
  GBytes *sub = g_bytes_new_from_bytes (whole, 1, size);
  loaded = anogan_model_load_from_bytes (sub, "shifted", &error);
  g_assert_no_error (error);
  g_assert_nonnull (loaded->storage);
  assert_same_tensors (model, loaded);
  anogan_model_free (loaded);

  /* And aligned in memory: no copy, the model keeps the bytes. */
  loaded = anogan_model_load_from_bytes (good, "good", &error);
  g_assert_no_error (error);
  g_assert_null (loaded->storage);
  g_assert_true (loaded->bytes == good);
  assert_same_tensors (model, loaded);
  anogan_model_free (loaded);

  g_bytes_unref (sub);
  g_bytes_unref (whole);
  g_bytes_unref (bad);
  g_bytes_unref (good);
  g_free (path);
  anogan_model_free (model);
}

static void
test_new_from_description (void)
{
  JsonObject *desc = parse_object (tiny_json);
  GError *error = NULL;
  AnoganModel *model = anogan_model_new_from_description (desc, "tiny",
      &error);
  g_assert_no_error (error);
  g_assert_true (model->metadata == desc);
  json_object_unref (desc);
  g_assert_true (isnan (model->threshold));
  g_assert_cmpfloat_with_epsilon (model->lambda, 0.1, 1e-7);
  g_assert_cmpint (model->feature_layer, ==, 1);
  /* z enters a ConvTranspose2d as nz x 1 x 1. */
  g_assert_cmpint (model->generator.input_shape.rank, ==, 3);
  g_assert_cmpint (model->generator.input_shape.dims[0], ==, 4);
  g_assert_cmpuint (anogan_model_param_floats (model), ==,
      4 * 8 * 16 + 4 * 8 + 8 * 9 + 1 + 16 * 4 + 4 + 16 + 1);

  /* PyTorch's fresh state: BatchNorm scale and variance 1, the rest 0. */
  const AnoganLayerParams *bn = &model->generator.params[1];
  const AnoganLayerParams *conv = &model->generator.params[0];
  for (int c = 0; c < 8; c++) {
    g_assert_cmpfloat (bn->t[ANOGAN_PARAM_WEIGHT][c], ==, 1.0f);
    g_assert_cmpfloat (bn->t[ANOGAN_PARAM_BIAS][c], ==, 0.0f);
    g_assert_cmpfloat (bn->t[ANOGAN_PARAM_RUNNING_MEAN][c], ==, 0.0f);
    g_assert_cmpfloat (bn->t[ANOGAN_PARAM_RUNNING_VAR][c], ==, 1.0f);
  }
  for (int i = 0; i < 4 * 8 * 16; i++)
    g_assert_cmpfloat (conv->t[ANOGAN_PARAM_WEIGHT][i], ==, 0.0f);
  g_assert_null (conv->t[ANOGAN_PARAM_BIAS]);
  anogan_model_free (model);
}

static void
test_vector_latent (Fixture *f, gconstpointer data)
{
  GError *error = NULL;
  AnoganModel *model = new_model (vector_json, 5);
  /* z enters a Linear as a vector. */
  g_assert_cmpint (model->generator.input_shape.rank, ==, 1);
  g_assert_cmpint (model->generator.input_shape.dims[0], ==, 5);
  const AnoganLayer *up = &model->generator.layers[4];
  g_assert_cmpint (up->kind, ==, ANOGAN_LAYER_UPSAMPLE);
  g_assert_cmpint (up->scale_factor, ==, 2);
  const AnoganLayer *bn = &model->generator.layers[1];
  g_assert_false (bn->affine);
  g_assert_cmpfloat_with_epsilon (bn->eps, 0.001, 1e-9);
  g_assert_cmpfloat_with_epsilon (bn->momentum, 0.2, 1e-7);
  g_assert_null (model->generator.params[1].t[ANOGAN_PARAM_WEIGHT]);
  g_assert_cmpint (model->generator.layers[5].pad[3], ==, 1);
  g_assert_cmpfloat_with_epsilon (model->discriminator.layers[1].p, 0.3,
      1e-7);

  GBytes *bytes = model_to_bytes (f, model);
  AnoganModel *loaded = anogan_model_load_from_bytes (bytes, "vector",
      &error);
  g_assert_no_error (error);
  assert_same_tensors (model, loaded);
  anogan_model_free (loaded);
  g_bytes_unref (bytes);
  anogan_model_free (model);
}

/* The DCGAN initialisation: right moments, reproducible per seed. */
static void
test_init_weights (void)
{
  GError *error = NULL;
  AnoganModel *a = anogan_model_new_from_arch ("dcgan32", &error);
  g_assert_no_error (error);
  AnoganModel *b = anogan_model_new_from_arch ("dcgan32", &error);
  g_assert_no_error (error);
  anogan_model_init_weights (a, 1);
  anogan_model_init_weights (b, 1);
  assert_same_tensors (a, b);
  anogan_model_init_weights (b, 2);
  const float *wa = a->generator.params[0].t[ANOGAN_PARAM_WEIGHT];
  const float *wb = b->generator.params[0].t[ANOGAN_PARAM_WEIGHT];
  g_assert_cmpfloat (wa[0], !=, wb[0]);

  gsize n = anogan_layer_param_floats (&a->generator.layers[0],
      ANOGAN_PARAM_WEIGHT);
  double sum = 0, sum2 = 0;
  for (gsize i = 0; i < n; i++) {
    sum += wa[i];
    sum2 += (double) wa[i] * wa[i];
  }
  double mean = sum / n, std = sqrt (sum2 / n - mean * mean);
  g_assert_cmpfloat (fabs (mean), <, 0.001);
  g_assert_cmpfloat (fabs (std - 0.02), <, 0.001);

  const AnoganLayerParams *bn = &a->discriminator.params[6];
  sum = 0;
  for (int c = 0; c < 128; c++) {
    sum += bn->t[ANOGAN_PARAM_WEIGHT][c];
    g_assert_cmpfloat (fabs (bn->t[ANOGAN_PARAM_WEIGHT][c] - 1.0), <, 0.15);
    g_assert_cmpfloat (bn->t[ANOGAN_PARAM_BIAS][c], ==, 0.0f);
    g_assert_cmpfloat (bn->t[ANOGAN_PARAM_RUNNING_VAR][c], ==, 1.0f);
  }
  g_assert_cmpfloat (fabs (sum / 128 - 1.0), <, 0.01);
  g_assert_cmpfloat (bn->t[ANOGAN_PARAM_WEIGHT][0], !=,
      bn->t[ANOGAN_PARAM_WEIGHT][1]);
  anogan_model_free (a);
  anogan_model_free (b);
}

static void
test_archs (void)
{
  GError *error = NULL;
  char **names = anogan_model_list_archs ();
  g_assert_true (g_strv_contains ((const char *const *) names, "dcgan32"));
  g_assert_true (g_strv_contains ((const char *const *) names, "dcgan64"));
  g_strfreev (names);

  AnoganModel *by_name = anogan_model_new_from_arch ("dcgan64", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (by_name->name, ==, "dcgan64");
  g_assert_cmpint (by_name->nz, ==, 100);
  g_assert_cmpint (by_name->input.dims[0], ==, 3);
  g_assert_cmpint (by_name->input.dims[2], ==, 64);
  g_assert_cmpint (by_name->feature_layer, ==, 10);
  g_assert_true (isnan (by_name->threshold));

  char *path = anogan_test_source_path ("models/arch/dcgan64.json");
  AnoganModel *by_path = anogan_model_new_from_arch (path, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (by_path->name, ==, path);
  g_assert_cmpuint (anogan_model_param_floats (by_path), ==,
      anogan_model_param_floats (by_name));
  g_assert_cmpstr (json_object_get_string_member (by_path->metadata,
          "description"), ==, json_object_get_string_member (
          by_name->metadata, "description"));
  g_free (path);
  anogan_model_free (by_path);
  anogan_model_free (by_name);

  g_assert_null (anogan_model_new_from_arch ("dcgan-nonexistent", &error));
  g_assert_error (error, ANOGAN_MODEL_ERROR, ANOGAN_MODEL_ERROR_IO);
  g_assert_true (g_str_has_prefix (error->message, "dcgan-nonexistent: "));
  g_assert_nonnull (strstr (error->message, "unknown architecture"));
  g_assert_nonnull (strstr (error->message, "dcgan32"));
  g_clear_error (&error);

  g_assert_null (anogan_model_new_from_arch ("/nonexistent/arch.json",
          &error));
  g_assert_error (error, ANOGAN_MODEL_ERROR, ANOGAN_MODEL_ERROR_IO);
  g_assert_true (g_str_has_prefix (error->message, "/nonexistent/arch.json"));
  g_clear_error (&error);
}

static void
test_extra_metadata (Fixture *f, gconstpointer data)
{
  GError *error = NULL;
  JsonObject *desc = parse_object (tiny_json);
  json_object_set_string_member (desc, "description", "a model card");
  JsonObject *training = json_object_new ();
  json_object_set_string_member (training, "dataset", "bottles, good only");
  json_object_set_int_member (training, "images", 209);
  json_object_set_object_member (desc, "training_data", training);
  json_object_set_double_member (desc, "auroc", 0.93);
  AnoganModel *model = anogan_model_new_from_description (desc, "card",
      &error);
  g_assert_no_error (error);
  json_object_unref (desc);
  anogan_model_init_weights (model, 9);

  GBytes *bytes = model_to_bytes (f, model);
  AnoganModel *loaded = anogan_model_load_from_bytes (bytes, "card", &error);
  g_assert_no_error (error);
  JsonObject *m = loaded->metadata;
  g_assert_cmpstr (json_object_get_string_member (m, "name"), ==, "tiny");
  g_assert_cmpstr (json_object_get_string_member (m, "description"), ==,
      "a model card");
  JsonObject *t = json_object_get_object_member (m, "training_data");
  g_assert_nonnull (t);
  g_assert_cmpstr (json_object_get_string_member (t, "dataset"), ==,
      "bottles, good only");
  g_assert_cmpint (json_object_get_int_member (t, "images"), ==, 209);
  g_assert_cmpfloat (json_object_get_double_member (m, "auroc"), ==, 0.93);
  /* The lambda, a float in the model, is written as the decimal it was. */
  g_assert_cmpfloat (json_object_get_double_member (m, "lambda"), ==, 0.1);
  g_assert_true (json_object_get_null_member (m, "threshold"));
  anogan_model_free (loaded);
  g_bytes_unref (bytes);
  anogan_model_free (model);
}

/* ---- Files built tensor by tensor ---- */

typedef enum {
  EDIT_NONE,
  EDIT_DROP,                    /* leave the tensor out */
  EDIT_SHAPE,                   /* reverse its dimensions */
  EDIT_DTYPE,                   /* store it as F64 */
  EDIT_NAN,                     /* a NaN in it */
  EDIT_INF,                     /* an infinity in it */
  EDIT_NEGATIVE,                /* its first value -1 */
} TensorEdit;

typedef struct {
  AnoganSafetensorsWriter *w;
  const char *target;
  TensorEdit edit;
} EditContext;

static void
add_edited_tensor (const char *name, int rank, const gint64 *shape,
    const float *data, gpointer user_data)
{
  EditContext *ctx = user_data;
  TensorEdit edit = strcmp (name, ctx->target) == 0 ? ctx->edit : EDIT_NONE;
  gsize n = numel (rank, shape);
  float *copy = g_memdup2 (data, n * sizeof (float));
  gint64 reversed[4];
  for (int i = 0; i < rank; i++)
    reversed[i] = shape[rank - 1 - i];

  switch (edit) {
    case EDIT_DROP:
      break;
    case EDIT_SHAPE:
      anogan_safetensors_writer_add_f32 (ctx->w, name, rank, reversed, copy);
      break;
    case EDIT_DTYPE:{
      double *wide = g_new (double, n);
      for (gsize i = 0; i < n; i++)
        wide[i] = copy[i];
      anogan_safetensors_writer_add (ctx->w, name, "F64", rank, shape, wide,
          n * sizeof (double));
      g_free (wide);
      break;
    }
    case EDIT_NAN:
    case EDIT_INF:
    case EDIT_NEGATIVE:
      copy[n - 1] = edit == EDIT_NAN ? NAN : edit == EDIT_INF ? -INFINITY
          : copy[n - 1];
      if (edit == EDIT_NEGATIVE)
        copy[0] = -1.0f;
      /* fall through */
    case EDIT_NONE:
      anogan_safetensors_writer_add_f32 (ctx->w, name, rank, shape, copy);
      break;
  }
  g_free (copy);
}

/* @model's tensors, one of them edited, and @description. */
static AnoganSafetensorsWriter *
model_writer (const AnoganModel *model, const char *description,
    const char *target, TensorEdit edit)
{
  EditContext ctx = { anogan_safetensors_writer_new (), target, edit };
  foreach_tensor (model, add_edited_tensor, &ctx);
  anogan_safetensors_writer_set_metadata (ctx.w, "anogan", description);
  return ctx.w;
}

/* The tiny model's tensors, one of them edited, and @description. */
static AnoganSafetensorsWriter *
tiny_writer (const char *description, const char *target, TensorEdit edit)
{
  AnoganModel *model = new_model (tiny_json, 17);
  AnoganSafetensorsWriter *w = model_writer (model, description, target,
      edit);
  anogan_model_free (model);
  return w;
}

static void
assert_load_error (Fixture *f, GBytes *bytes, int code, const char *phrase)
{
  GError *error = NULL;
  char *path = fixture_path (f, "bad.safetensors");
  write_bytes (path, bytes);
  AnoganModel *model = anogan_model_load (path, &error);
  g_assert_null (model);
  g_assert_error (error, ANOGAN_MODEL_ERROR, code);
  g_test_message ("%s", error->message);
  g_assert_true (g_str_has_prefix (error->message, path));
  g_assert_nonnull (strstr (error->message, phrase));
  g_clear_error (&error);

  /* The same from memory, under a given name. */
  model = anogan_model_load_from_bytes (bytes, "in-memory", &error);
  g_assert_null (model);
  g_assert_error (error, ANOGAN_MODEL_ERROR, code);
  g_assert_true (g_str_has_prefix (error->message, "in-memory: "));
  g_assert_nonnull (strstr (error->message, phrase));
  g_clear_error (&error);
  g_free (path);
}

static void
test_num_batches_tracked (Fixture *f, gconstpointer data)
{
  GError *error = NULL;
  AnoganSafetensorsWriter *w = tiny_writer (tiny_json, "", EDIT_NONE);
  gint64 count = GINT64_TO_LE (1234);
  anogan_safetensors_writer_add (w, "generator.1.num_batches_tracked", "I64",
      0, NULL, &count, sizeof count);
  GBytes *bytes = anogan_safetensors_writer_to_bytes (w);
  AnoganModel *model = anogan_model_load_from_bytes (bytes, "nbt", &error);
  g_assert_no_error (error);
  g_assert_nonnull (model);
  anogan_model_free (model);
  g_bytes_unref (bytes);
  anogan_safetensors_writer_free (w);

  /* Only beside a BatchNorm. */
  w = tiny_writer (tiny_json, "", EDIT_NONE);
  anogan_safetensors_writer_add (w, "discriminator.0.num_batches_tracked",
      "I64", 0, NULL, &count, sizeof count);
  bytes = anogan_safetensors_writer_to_bytes (w);
  assert_load_error (f, bytes, ANOGAN_MODEL_ERROR_TENSOR,
      "unexpected tensor 'discriminator.0.num_batches_tracked'");
  g_bytes_unref (bytes);
  anogan_safetensors_writer_free (w);
}

/* Three networks of 4096 BatchNorm layers of one feature each. */
static char *
many_batch_norms_json (void)
{
  GString *s = g_string_new ("{\"version\":1,\"input\":[1,1,1],\"nz\":1,"
      "\"feature_layer\":0,\"generator\":[");
  for (int i = 0; i < 4095; i++)
    g_string_append (s, "{\"type\":\"BatchNorm1d\",\"num_features\":1},");
  g_string_append (s, "{\"type\":\"Unflatten\",\"dim\":1,"
      "\"unflattened_size\":[1,1,1]}]");
  static const char *const others[] = { "discriminator", "encoder" };
  for (int n = 0; n < 2; n++) {
    g_string_append_printf (s, ",\"%s\":[", others[n]);
    for (int i = 0; i < 4096; i++)
      g_string_append_printf (s, "%s{\"type\":\"BatchNorm2d\","
          "\"num_features\":1}", i ? "," : "");
    g_string_append_c (s, ']');
  }
  g_string_append_c (s, '}');
  return g_string_free (s, FALSE);
}

/* Each tensor the description does not call for was matched against
 * every BatchNorm layer's counter name, printed afresh each time: a file
 * of 12287 layers with their counters and 10000 tensors of a trainer took
 * tens of seconds to load.  It takes a lookup or two per tensor now. */
static void
test_many_tensors (Fixture *f, gconstpointer data)
{
  GError *error = NULL;
  char *json = many_batch_norms_json ();
  AnoganModel *model = new_model (json, 1);
  AnoganSafetensorsWriter *w = model_writer (model, json, "", EDIT_NONE);
  gint64 count = GINT64_TO_LE (7);
  const AnoganNet *nets[3] = { &model->generator, &model->discriminator,
    &model->encoder };
  for (int n = 0; n < 3; n++) {
    for (int i = 0; i < nets[n]->n_layers; i++) {
      if (nets[n]->layers[i].kind == ANOGAN_LAYER_UNFLATTEN)
        continue;
      char *name = g_strdup_printf ("%s.%d.num_batches_tracked",
          nets[n]->name, i);
      anogan_safetensors_writer_add (w, name, "I64", 0, NULL, &count,
          sizeof count);
      g_free (name);
    }
  }
  const gint64 empty[1] = { 0 };
  for (int i = 0; i < 10000; i++) {
    char *name = g_strdup_printf (ANOGAN_MODEL_TRAINER_PREFIX "t%d", i);
    anogan_safetensors_writer_add_f32 (w, name, 1, empty, NULL);
    g_free (name);
  }
  GBytes *bytes = anogan_safetensors_writer_to_bytes (w);

  g_test_timer_start ();
  AnoganModel *loaded = anogan_model_load_from_bytes (bytes, "many",
      &error);
  double seconds = g_test_timer_elapsed ();
  g_assert_no_error (error);
  g_test_message ("loaded in %.2f s", seconds);
  g_assert_cmpfloat (seconds, <, 15.0);
  g_assert_cmpint (loaded->encoder.n_layers, ==, 4096);
  anogan_model_free (loaded);

  g_bytes_unref (bytes);
  anogan_safetensors_writer_free (w);
  anogan_model_free (model);
  g_free (json);
}

typedef struct {
  const char *test;
  const char *target;
  TensorEdit edit;
  const char *phrase;
} TensorCase;

static const TensorCase tensor_cases[] = {
  {"missing", "generator.1.running_var", EDIT_DROP,
      "missing tensor 'generator.1.running_var'"},
  {"shape", "discriminator.3.weight", EDIT_SHAPE,
      "tensor 'discriminator.3.weight': shape mismatch: [16,1], want [1,16]"},
  {"dtype", "discriminator.3.bias", EDIT_DTYPE,
      "tensor 'discriminator.3.bias': dtype mismatch: F64"},
  {"nan", "generator.0.weight", EDIT_NAN,
      "tensor 'generator.0.weight': non-finite value at index 511"},
  {"inf", "discriminator.3.bias", EDIT_INF,
      "tensor 'discriminator.3.bias': non-finite value"},
  {"negative-variance", "generator.1.running_var", EDIT_NEGATIVE,
      "tensor 'generator.1.running_var': negative variance"},
};

static void
test_bad_tensor (Fixture *f, gconstpointer data)
{
  const TensorCase *c = data;
  AnoganSafetensorsWriter *w = tiny_writer (tiny_json, c->target, c->edit);
  GBytes *bytes = anogan_safetensors_writer_to_bytes (w);
  assert_load_error (f, bytes, ANOGAN_MODEL_ERROR_TENSOR, c->phrase);
  g_bytes_unref (bytes);
  anogan_safetensors_writer_free (w);
}

static void
test_extra_tensor (Fixture *f, gconstpointer data)
{
  AnoganSafetensorsWriter *w = tiny_writer (tiny_json, "", EDIT_NONE);
  const gint64 shape[1] = { 1 };
  const float one = 1.0f;
  anogan_safetensors_writer_add_f32 (w, "generator.9.weight", 1, shape, &one);
  GBytes *bytes = anogan_safetensors_writer_to_bytes (w);
  assert_load_error (f, bytes, ANOGAN_MODEL_ERROR_TENSOR,
      "unexpected tensor 'generator.9.weight'");
  g_bytes_unref (bytes);
  anogan_safetensors_writer_free (w);
}

/* ---- Encoders ---- */

static JsonNode *parse_node (const char *json);

/* The tiny model with the default encoder: D's layers up to its Linear,
 * which gives nz = 4 values. */
static AnoganModel *
tiny_with_encoder (void)
{
  AnoganModel *model = new_model (tiny_json, 5);
  GError *error = NULL;
  AnoganModel *with = anogan_model_add_encoder (model, NULL, 11, &error);
  g_assert_no_error (error);
  anogan_model_free (model);
  return with;
}

static char *
description_of (const AnoganModel *model)
{
  JsonNode *root = json_node_new (JSON_NODE_OBJECT);
  json_node_set_object (root, model->metadata);
  char *text = json_to_string (root, FALSE);
  json_node_unref (root);
  return text;
}

/* @b is @a, encoder included, however its tensors reached memory. */
static void
assert_same_with_encoder (const AnoganModel *a, const AnoganModel *b)
{
  g_assert_true (anogan_model_has_encoder (b));
  assert_same_tensors (a, b);
  assert_same_tensors (b, a);
  g_assert_true (json_node_equal (json_object_get_member (a->metadata,
              "encoder"), json_object_get_member (b->metadata, "encoder")));
}

static void
test_encoder_round_trip (Fixture *f, gconstpointer data)
{
  GError *error = NULL;
  AnoganModel *model = tiny_with_encoder ();
  g_assert_true (anogan_model_has_encoder (model));
  g_assert_cmpint (model->encoder.n_layers, ==, 4);
  g_assert_cmpuint (anogan_shape_numel (anogan_net_output_shape (
              &model->encoder, 4)), ==, 4);

  /* Saved and mapped in place, the encoder's weights too. */
  char *path = fixture_path (f, "encoder.safetensors");
  g_assert_true (anogan_model_save (model, path, &error));
  g_assert_no_error (error);
  AnoganModel *loaded = anogan_model_load (path, &error);
  g_assert_no_error (error);
  assert_mapped (loaded);
  g_assert_true (points_into (loaded->encoder.params[3].t[0],
          loaded->mapping));
  assert_same_with_encoder (model, loaded);
  anogan_model_free (loaded);

  /* Copied, from bytes whose tensors are 2 bytes off. */
  GBytes *good = model_to_bytes (f, model);
  GBytes *bad = misalign (good);
  loaded = anogan_model_load_from_bytes (bad, "copied", &error);
  g_assert_no_error (error);
  g_assert_nonnull (loaded->storage);
  assert_same_with_encoder (model, loaded);
  anogan_model_free (loaded);

  g_bytes_unref (bad);
  g_bytes_unref (good);
  g_free (path);
  anogan_model_free (model);
}

/* Files from before encoders existed load as they did, without one. */
static void
test_no_encoder (Fixture *f, gconstpointer data)
{
  GError *error = NULL;
  char *path = anogan_test_data_path ("train16/model.safetensors");
  AnoganModel *old = anogan_model_load (path, &error);
  g_assert_no_error (error);
  g_assert_false (anogan_model_has_encoder (old));
  g_assert_cmpint (old->encoder.n_layers, ==, 0);
  g_assert_false (json_object_has_member (old->metadata, "encoder"));
  anogan_model_free (old);
  g_free (path);

  AnoganModel *model = new_model (tiny_json, 2);
  GBytes *bytes = model_to_bytes (f, model);
  AnoganModel *loaded = anogan_model_load_from_bytes (bytes, "tiny", &error);
  g_assert_no_error (error);
  g_assert_false (anogan_model_has_encoder (loaded));
  assert_same_tensors (model, loaded);
  anogan_model_free (loaded);
  g_bytes_unref (bytes);
  anogan_model_free (model);
}

static void
test_bad_encoder (Fixture *f, gconstpointer data)
{
  GError *error = NULL;
  AnoganModel *model = tiny_with_encoder ();
  char *with = description_of (model);

  /* An encoder tensor missing. */
  AnoganSafetensorsWriter *w = model_writer (model, with, "encoder.3.weight",
      EDIT_DROP);
  GBytes *bytes = anogan_safetensors_writer_to_bytes (w);
  assert_load_error (f, bytes, ANOGAN_MODEL_ERROR_TENSOR,
      "missing tensor 'encoder.3.weight'");
  g_bytes_unref (bytes);
  anogan_safetensors_writer_free (w);

  /* Encoder tensors that the description does not call for. */
  w = model_writer (model, tiny_json, "", EDIT_NONE);
  bytes = anogan_safetensors_writer_to_bytes (w);
  assert_load_error (f, bytes, ANOGAN_MODEL_ERROR_TENSOR,
      "unexpected tensor 'encoder.0.weight'");
  g_bytes_unref (bytes);
  anogan_safetensors_writer_free (w);

  /* An encoder that does not give nz values, in a file and as an
   * architecture. */
  JsonObject *desc = parse_object (with);
  JsonArray *layers = json_object_get_array_member (desc, "encoder");
  json_object_set_int_member (json_array_get_object_element (layers, 3),
      "out_features", 5);
  JsonNode *root = json_node_new (JSON_NODE_OBJECT);
  json_node_set_object (root, desc);
  char *wrong = json_to_string (root, FALSE);
  json_node_unref (root);
  static const char phrase[] =
      "encoder output [5] is not a latent vector of nz = 4 values";
  w = model_writer (model, wrong, "", EDIT_NONE);
  bytes = anogan_safetensors_writer_to_bytes (w);
  assert_load_error (f, bytes, ANOGAN_MODEL_ERROR_METADATA, phrase);
  g_assert_null (anogan_model_new_from_description (desc, "arch", &error));
  g_assert_error (error, ANOGAN_MODEL_ERROR, ANOGAN_MODEL_ERROR_METADATA);
  g_assert_true (g_str_has_prefix (error->message, "arch: "));
  g_assert_nonnull (strstr (error->message, phrase));
  g_clear_error (&error);

  g_bytes_unref (bytes);
  anogan_safetensors_writer_free (w);
  json_object_unref (desc);
  g_free (wrong);
  g_free (with);
  anogan_model_free (model);
}

/* A copy with a new encoder: G and D bit for bit, the source as it was. */
static void
test_add_encoder (void)
{
  GError *error = NULL;
  AnoganModel *model = new_model (tiny_json, 5);
  model->lambda = 0.25f;
  model->threshold = 7.5;
  char *before = description_of (model);
  AnoganModel *with = anogan_model_add_encoder (model, NULL, 11, &error);
  g_assert_no_error (error);
  char *after = description_of (model);

  g_assert_cmpstr (before, ==, after);
  g_assert_false (anogan_model_has_encoder (model));
  foreach_tensor (model, compare_tensor, with);
  g_assert_cmpfloat (with->lambda, ==, 0.25f);
  g_assert_cmpfloat (with->threshold, ==, 7.5);
  g_assert_cmpint (with->discriminator.layers[3].out_channels, ==, 1);
  g_assert_cmpint (with->encoder.layers[3].out_channels, ==, 4);

  /* Given again, the encoder is replaced: the same seed, the same one. */
  AnoganModel *again = anogan_model_add_encoder (with, NULL, 11, &error);
  g_assert_no_error (error);
  assert_same_with_encoder (with, again);

  /* An encoder that gives no z is refused, naming the model. */
  JsonNode *node = parse_node ("[{\"type\":\"Flatten\"},{\"type\":"
      "\"Linear\",\"in_features\":16,\"out_features\":3}]");
  g_assert_null (anogan_model_add_encoder (model, json_node_get_array (node),
          1, &error));
  g_assert_error (error, ANOGAN_MODEL_ERROR, ANOGAN_MODEL_ERROR_METADATA);
  g_assert_true (g_str_has_prefix (error->message, "test: "));
  g_assert_nonnull (strstr (error->message, "encoder output [3]"));
  g_clear_error (&error);

  json_node_unref (node);
  anogan_model_free (again);
  anogan_model_free (with);
  g_free (after);
  g_free (before);
  anogan_model_free (model);
}

/* ---- Bad descriptions: one member of a good one changed ---- */

typedef struct {
  const char *test;
  const char *base;             /* tiny_json or vector_json */
  const char *net;              /* NULL: a top-level key */
  int layer;
  const char *key;              /* NULL: the whole layer */
  const char *value;            /* JSON; NULL removes the key */
  const char *phrase;
} DescriptionCase;

static const DescriptionCase description_cases[] = {
  {"version", tiny_json, NULL, 0, "version", "2", "unsupported \"version\""},
  {"no-version", tiny_json, NULL, 0, "version", NULL, "missing \"version\""},
  {"nz", tiny_json, NULL, 0, "nz", "0", "bad \"nz\""},
  {"nz-string", tiny_json, NULL, 0, "nz", "\"4\"", "bad \"nz\""},
  {"input-zero", tiny_json, NULL, 0, "input", "[0,4,4]", "bad \"input\""},
  {"input-huge", tiny_json, NULL, 0, "input", "[1,70000,4]",
      "bad \"input\""},
  {"input-rank", tiny_json, NULL, 0, "input", "[4,4]", "bad \"input\""},
  {"input-mismatch", tiny_json, NULL, 0, "input", "[1,8,8]",
      "generator output [1,4,4] does not equal the input [1,8,8]"},
  {"lambda", tiny_json, NULL, 0, "lambda", "1.5", "bad \"lambda\""},
  {"threshold", tiny_json, NULL, 0, "threshold", "\"high\"",
      "bad \"threshold\""},
  {"feature-layer-high", tiny_json, NULL, 0, "feature_layer", "5",
      "feature_layer out of range"},
  {"feature-layer-negative", tiny_json, NULL, 0, "feature_layer", "-1",
      "feature_layer out of range"},
  {"no-feature-layer", tiny_json, NULL, 0, "feature_layer", NULL,
      "feature_layer out of range"},
  {"empty-generator", tiny_json, NULL, 0, "generator", "[]",
      "bad \"generator\""},
  {"discriminator-object", tiny_json, NULL, 0, "discriminator", "{}",
      "bad \"discriminator\""},
  {"layer-not-object", tiny_json, "generator", 2, NULL, "42",
      "generator layer 2: not an object with a \"type\""},
  {"unknown-type", tiny_json, "generator", 0, "type", "\"Conv3d\"",
      "generator layer 0: unknown layer type 'Conv3d'"},
  {"unknown-argument", tiny_json, "generator", 0, "dilation_rate", "1",
      "generator layer 0 (ConvTranspose2d): unknown argument 'dilation_rate'"},
  {"argument-of-other-kind", tiny_json, "generator", 2, "negative_slope",
      "0.2", "generator layer 2 (ReLU): unknown argument 'negative_slope'"},
  {"kernel-negative", tiny_json, "generator", 0, "kernel_size", "-1",
      "bad argument 'kernel_size'"},
  {"kernel-3d", tiny_json, "generator", 0, "kernel_size", "[4,4,4]",
      "bad argument 'kernel_size'"},
  {"dilation", tiny_json, "discriminator", 0, "dilation", "2",
      "discriminator layer 0 (Conv2d): bad argument 'dilation': only 1"},
  {"groups", tiny_json, "discriminator", 0, "groups", "2",
      "bad argument 'groups'"},
  {"padding-mode", tiny_json, "discriminator", 0, "padding_mode",
      "\"reflect\"", "bad argument 'padding_mode'"},
  {"padding-same", tiny_json, "discriminator", 0, "padding", "\"same\"",
      "bad argument 'padding'"},
  {"bias-int", tiny_json, "generator", 3, "bias", "1",
      "bad argument 'bias'"},
  {"missing-argument", tiny_json, "generator", 0, "in_channels", NULL,
      "generator layer 0 (ConvTranspose2d): missing argument 'in_channels'"},
  {"track-running-stats", tiny_json, "generator", 1, "track_running_stats",
      "false", "bad argument 'track_running_stats'"},
  {"momentum-null", tiny_json, "generator", 1, "momentum", "null",
      "bad argument 'momentum'"},
  {"negative-slope", tiny_json, "discriminator", 1, "negative_slope",
      "\"x\"", "bad argument 'negative_slope'"},
  {"flatten-start", tiny_json, "discriminator", 2, "start_dim", "0",
      "bad argument 'start_dim'"},
  {"channels-chain", tiny_json, "discriminator", 0, "in_channels", "3",
      "shapes do not chain: discriminator layer 0 (Conv2d)"},
  {"features-chain", tiny_json, "discriminator", 3, "in_features", "17",
      "shapes do not chain: discriminator layer 3 (Linear)"},
  {"upsample-mode", vector_json, "generator", 4, "mode", "\"bilinear\"",
      "bad argument 'mode'"},
  {"upsample-fraction", vector_json, "generator", 4, "scale_factor", "1.5",
      "bad argument 'scale_factor'"},
  {"upsample-huge", vector_json, "generator", 4, "scale_factor", "65536",
      "generator layer 4 (Upsample): Upsample would make a"},
  {"upsample-size", vector_json, "generator", 4, "size", "[8,8]",
      "bad argument 'size'"},
  {"zero-pad", vector_json, "generator", 5, "padding", "[1,1,1]",
      "bad argument 'padding'"},
  {"unflatten-dim", vector_json, "generator", 3, "dim", "0",
      "bad argument 'dim'"},
  {"unflatten-size", vector_json, "generator", 3, "unflattened_size",
      "[1,16]", "bad argument 'unflattened_size'"},
  {"dropout-p", vector_json, "discriminator", 1, "p", "2",
      "bad argument 'p'"},
  {"bn-eps", vector_json, "generator", 1, "eps", "0",
      "bad argument 'eps'"},
  {"bn-eps-underflow", vector_json, "generator", 1, "eps", "1.5e-50",
      "generator layer 1 (BatchNorm1d): bad argument 'eps': must be a number "
      "in (0, 1], not 0 as a float"},
};

static JsonNode *
parse_node (const char *json)
{
  JsonParser *parser = json_parser_new ();
  GError *error = NULL;
  json_parser_load_from_data (parser, json, -1, &error);
  g_assert_no_error (error);
  JsonNode *node = json_node_copy (json_parser_get_root (parser));
  g_object_unref (parser);
  return node;
}

/* A copy of @layers with element @index replaced by @value. */
static JsonArray *
replace_element (JsonArray *layers, guint index, JsonNode *value)
{
  JsonArray *copy = json_array_new ();
  for (guint i = 0; i < json_array_get_length (layers); i++)
    json_array_add_element (copy, i == index ? value
        : json_node_copy (json_array_get_element (layers, i)));
  return copy;
}

static char *
edited_description (const DescriptionCase *c)
{
  JsonObject *desc = parse_object (c->base);
  JsonObject *target = desc;
  if (c->net != NULL && c->key == NULL) {
    JsonArray *layers = json_object_get_array_member (desc, c->net);
    json_object_set_array_member (desc, c->net, replace_element (layers,
            c->layer, parse_node (c->value)));
    target = NULL;
  } else if (c->net != NULL) {
    JsonArray *layers = json_object_get_array_member (desc, c->net);
    target = json_array_get_object_element (layers, c->layer);
  }
  if (target != NULL && c->value == NULL)
    json_object_remove_member (target, c->key);
  else if (target != NULL)
    json_object_set_member (target, c->key, parse_node (c->value));

  JsonNode *root = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (root, desc);
  char *text = json_to_string (root, FALSE);
  json_node_unref (root);
  return text;
}

static void
test_bad_description (Fixture *f, gconstpointer data)
{
  const DescriptionCase *c = data;
  char *description = edited_description (c);
  GError *error = NULL;

  /* Through a file, with the good model's tensors. */
  AnoganSafetensorsWriter *w = anogan_safetensors_writer_new ();
  anogan_safetensors_writer_set_metadata (w, "anogan", description);
  if (c->base == tiny_json) {
    anogan_safetensors_writer_free (w);
    w = tiny_writer (description, "", EDIT_NONE);
  }
  GBytes *bytes = anogan_safetensors_writer_to_bytes (w);
  assert_load_error (f, bytes, ANOGAN_MODEL_ERROR_METADATA, c->phrase);

  /* And as an architecture. */
  JsonObject *desc = parse_object (description);
  g_assert_null (anogan_model_new_from_description (desc, "arch", &error));
  g_assert_error (error, ANOGAN_MODEL_ERROR, ANOGAN_MODEL_ERROR_METADATA);
  g_assert_true (g_str_has_prefix (error->message, "arch: "));
  g_assert_nonnull (strstr (error->message, c->phrase));
  g_clear_error (&error);

  json_object_unref (desc);
  g_bytes_unref (bytes);
  anogan_safetensors_writer_free (w);
  g_free (description);
}

/* With sizes of up to 65536 a convolution's weight can reach 2^64
 * floats, which wrapped to 0 in the count of parameters: this model was
 * built with 65536 of them, its first layer's weight left out. */
static const char wrapping_json[] =
    "{\"version\":1,\"input\":[1,4,4],\"nz\":65536,"
    "\"generator\":["
    "{\"type\":\"Conv2d\",\"in_channels\":65536,\"out_channels\":65536,"
    "\"kernel_size\":65536,\"stride\":65536,\"padding\":65536,"
    "\"bias\":false},"
    "{\"type\":\"Conv2d\",\"in_channels\":65536,\"out_channels\":1,"
    "\"kernel_size\":1,\"bias\":false},"
    "{\"type\":\"Upsample\",\"scale_factor\":2}],"
    "\"discriminator\":[{\"type\":\"Flatten\"}],\"feature_layer\":0}";

static void
test_parameters_wrap (Fixture *f, gconstpointer data)
{
  static const char phrase[] = "tensor 'generator.0.weight' of shape "
      "[65536,65536,65536,65536]: more than the 1073741824 parameters "
      "supported";
  AnoganSafetensorsWriter *w = anogan_safetensors_writer_new ();
  anogan_safetensors_writer_set_metadata (w, "anogan", wrapping_json);
  GBytes *bytes = anogan_safetensors_writer_to_bytes (w);
  assert_load_error (f, bytes, ANOGAN_MODEL_ERROR_METADATA, phrase);
  g_bytes_unref (bytes);
  anogan_safetensors_writer_free (w);

  GError *error = NULL;
  JsonObject *desc = parse_object (wrapping_json);
  g_assert_null (anogan_model_new_from_description (desc, "arch", &error));
  g_assert_error (error, ANOGAN_MODEL_ERROR, ANOGAN_MODEL_ERROR_METADATA);
  g_assert_true (g_str_has_prefix (error->message, "arch: "));
  g_assert_nonnull (strstr (error->message, phrase));
  g_clear_error (&error);
  json_object_unref (desc);
}

/* Sizes that each layer's bounds allow but whose sum or product is far
 * beyond any model: a search on such a model asked for terabytes. */
typedef struct {
  const char *test;
  const char *discriminator;
  const char *phrase;
} WorkCase;

static const WorkCase work_cases[] = {
  /* A column matrix of 2^20 rows (the kernel's taps) by 3073 x 3073
   * output positions. */
  {"column-matrix", "{\"type\":\"Conv2d\",\"in_channels\":1,"
        "\"out_channels\":1,\"kernel_size\":1024,\"padding\":2046,"
        "\"bias\":false}",
      "discriminator: one sample needs 9902076479491 floats of working "
      "memory, more than the 1073741824 supported"},
  /* Four outputs of 2^28 floats, each within the bound of one. */
  {"outputs", "{\"type\":\"Upsample\",\"scale_factor\":4096},"
        "{\"type\":\"Conv2d\",\"in_channels\":1,\"out_channels\":1,"
        "\"kernel_size\":1},"
        "{\"type\":\"Conv2d\",\"in_channels\":1,\"out_channels\":1,"
        "\"kernel_size\":1},"
        "{\"type\":\"Conv2d\",\"in_channels\":1,\"out_channels\":1,"
        "\"kernel_size\":1}",
      "discriminator: one sample needs 1610612736 floats of working "
      "memory, more than the 1073741824 supported"},
};

static void
test_working_memory (Fixture *f, gconstpointer data)
{
  const WorkCase *c = data;
  g_autoptr (GString) text = g_string_new (tiny_json);
  char *start = strstr (text->str, "\"discriminator\":[") + 17;
  gsize at = start - text->str;
  g_string_erase (text, at, strstr (start, "]") - start);
  g_string_insert (text, at, c->discriminator);
  g_assert_cmpuint (g_string_replace (text, "\"feature_layer\":1",
          "\"feature_layer\":0", 1), ==, 1);

  AnoganSafetensorsWriter *w = anogan_safetensors_writer_new ();
  anogan_safetensors_writer_set_metadata (w, "anogan", text->str);
  GBytes *bytes = anogan_safetensors_writer_to_bytes (w);
  assert_load_error (f, bytes, ANOGAN_MODEL_ERROR_METADATA, c->phrase);
  g_bytes_unref (bytes);
  anogan_safetensors_writer_free (w);

  GError *error = NULL;
  JsonObject *desc = parse_object (text->str);
  g_assert_null (anogan_model_new_from_description (desc, "arch", &error));
  g_assert_error (error, ANOGAN_MODEL_ERROR, ANOGAN_MODEL_ERROR_METADATA);
  g_assert_true (g_str_has_prefix (error->message, "arch: "));
  g_assert_nonnull (strstr (error->message, c->phrase));
  g_clear_error (&error);
  json_object_unref (desc);
}

/* ---- Bad containers, written by hand ---- */

/* An 8-byte length, the header text, then @data_size zero bytes. */
static GBytes *
raw_file (guint64 length, const char *header, gsize data_size)
{
  GByteArray *out = g_byte_array_new ();
  guint64 le = GUINT64_TO_LE (length);
  g_byte_array_append (out, (const guint8 *) &le, 8);
  g_byte_array_append (out, (const guint8 *) header, strlen (header));
  for (gsize i = 0; i < data_size; i++)
    g_byte_array_append (out, (const guint8 *) "", 1);
  return g_byte_array_free_to_bytes (out);
}

typedef struct {
  const char *test;
  const char *header;
  gsize data_size;
  int code;
  const char *phrase;
} RawCase;

#define F32_1 "\"dtype\":\"F32\",\"shape\":[1]"

static const RawCase raw_cases[] = {
  {"not-json", "{not json", 0, ANOGAN_MODEL_ERROR_FORMAT,
      "header is not JSON"},
  {"not-utf8", "{\"\xff\xfe\":1}", 0, ANOGAN_MODEL_ERROR_FORMAT,
      "header is not JSON"},
  {"array", "[1,2]", 0, ANOGAN_MODEL_ERROR_FORMAT,
      "header is not a JSON object"},
  {"entry-number", "{\"a\":5}", 0, ANOGAN_MODEL_ERROR_FORMAT,
      "tensor 'a': bad entry"},
  {"entry-extra-key", "{\"a\":{" F32_1 ",\"data_offsets\":[0,4],\"x\":1}}",
      4, ANOGAN_MODEL_ERROR_FORMAT, "tensor 'a': bad entry"},
  {"entry-no-dtype", "{\"a\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
      ANOGAN_MODEL_ERROR_FORMAT, "tensor 'a': bad entry"},
  {"dtype", "{\"a\":{\"dtype\":\"F33\",\"shape\":[1],"
        "\"data_offsets\":[0,4]}}", 4, ANOGAN_MODEL_ERROR_FORMAT,
      "tensor 'a': unknown dtype"},
  {"shape-negative", "{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],"
        "\"data_offsets\":[0,4]}}", 4, ANOGAN_MODEL_ERROR_FORMAT,
      "tensor 'a': bad shape"},
  {"shape-fraction", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1.5],"
        "\"data_offsets\":[0,4]}}", 4, ANOGAN_MODEL_ERROR_FORMAT,
      "tensor 'a': bad shape"},
  {"shape-string", "{\"a\":{\"dtype\":\"F32\",\"shape\":\"1\","
        "\"data_offsets\":[0,4]}}", 4, ANOGAN_MODEL_ERROR_FORMAT,
      "tensor 'a': bad shape"},
  {"rank-9", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1],"
        "\"data_offsets\":[0,4]}}", 4, ANOGAN_MODEL_ERROR_FORMAT,
      "tensor 'a': bad shape: rank 9"},
  {"offsets-past-end", "{\"a\":{" F32_1 ",\"data_offsets\":[0,1000]}}", 4,
      ANOGAN_MODEL_ERROR_FORMAT, "tensor 'a': data_offsets [0, 1000] out of "
      "range"},
  {"offsets-reversed", "{\"a\":{" F32_1 ",\"data_offsets\":[4,0]}}", 4,
      ANOGAN_MODEL_ERROR_FORMAT, "out of range"},
  {"offsets-one", "{\"a\":{" F32_1 ",\"data_offsets\":[0]}}", 4,
      ANOGAN_MODEL_ERROR_FORMAT, "tensor 'a': bad data_offsets"},
  {"offsets-negative", "{\"a\":{" F32_1 ",\"data_offsets\":[-4,0]}}", 4,
      ANOGAN_MODEL_ERROR_FORMAT, "tensor 'a': bad data_offsets"},
  {"offsets-huge", "{\"a\":{" F32_1 ",\"data_offsets\":"
        "[0,18446744073709551615]}}", 4, ANOGAN_MODEL_ERROR_FORMAT,
      "header has the number 18446744073709551615, beyond the range of a "
      "64-bit integer (byte 50)"},
  {"inconsistent", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],"
        "\"data_offsets\":[0,4]}}", 8, ANOGAN_MODEL_ERROR_FORMAT,
      "tensor 'a': data_offsets inconsistent with its shape"},
  {"overflow", "{\"a\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904,4],"
        "\"data_offsets\":[0,4]}}", 4, ANOGAN_MODEL_ERROR_FORMAT,
      "tensor 'a': size overflow"},
  {"overlap", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],"
        "\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],"
        "\"data_offsets\":[4,12]}}", 12, ANOGAN_MODEL_ERROR_FORMAT,
      "tensors 'a' and 'b': data_offsets overlap"},
  {"offsets-wrapped", "{\"a\":{" F32_1 ",\"data_offsets\":"
        "[0,-18446744073709551612]}}", 4, ANOGAN_MODEL_ERROR_FORMAT,
      "header has the number -18446744073709551612, beyond the range of a "
      "64-bit integer (byte 50)"},
  {"shape-infinite", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1e999],"
        "\"data_offsets\":[0,4]}}", 4, ANOGAN_MODEL_ERROR_FORMAT,
      "header has the number 1e999, beyond the range of a double (byte 29)"},
  {"key-twice", "{\"a\":{" F32_1 ",\"data_offsets\":[0,4]},"
        "\"a\":{" F32_1 ",\"data_offsets\":[0,4]}}", 4,
      ANOGAN_MODEL_ERROR_FORMAT,
      "header has the key \"a\" twice in one object (byte 54)"},
  {"key-twice-escaped", "{\"__metadata__\":{\"anogan\":\"{}\","
        "\"\\u0061nogan\":\"{}\"}}", 0, ANOGAN_MODEL_ERROR_FORMAT,
      "header has the key \"anogan\" twice in one object"},
  {"key-twice-nul", "{\"__metadata__\":{\"k\\u0000a\":\"1\","
        "\"k\\u0000b\":\"2\"}}", 0, ANOGAN_MODEL_ERROR_FORMAT,
      "header has the key \"k\" twice in one object"},
  {"comment", "{\"a\": /* x */ 1}", 0, ANOGAN_MODEL_ERROR_FORMAT,
      "header is not JSON: a value expected, found '/' (byte 6)"},
  {"single-quotes", "{'a':1}", 0, ANOGAN_MODEL_ERROR_FORMAT,
      "header is not JSON: a string key expected, found '''"},
  {"hex", "{\"a\":0x10}", 0, ANOGAN_MODEL_ERROR_FORMAT,
      "header is not JSON: ',' or '}' expected, found 'x'"},
  {"leading-zero", "{\"a\":01}", 0, ANOGAN_MODEL_ERROR_FORMAT,
      "header is not JSON: ',' or '}' expected, found '1'"},
  {"half-surrogate", "{\"\\ud800\":1}", 0, ANOGAN_MODEL_ERROR_FORMAT,
      "header has half a surrogate pair in a \\u escape"},
  {"control-character", "{\"a\tb\":1}", 0, ANOGAN_MODEL_ERROR_FORMAT,
      "header is not JSON: control character in a string"},
  {"trailing", "{} x", 0, ANOGAN_MODEL_ERROR_FORMAT,
      "header is not JSON: the end expected, found 'x' (byte 3)"},
  {"metadata-not-object", "{\"__metadata__\":5}", 0,
      ANOGAN_MODEL_ERROR_FORMAT, "__metadata__ is not a JSON object"},
  {"metadata-not-string", "{\"__metadata__\":{\"anogan\":{}}}", 0,
      ANOGAN_MODEL_ERROR_FORMAT, "__metadata__ value of 'anogan' is not a "
      "string"},
  {"no-metadata", "{\"__metadata__\":{\"format\":\"pt\"}}", 0,
      ANOGAN_MODEL_ERROR_METADATA, "metadata missing"},
  {"no-metadata-at-all", "{}", 0, ANOGAN_MODEL_ERROR_METADATA,
      "metadata missing"},
  {"metadata-not-json", "{\"__metadata__\":{\"anogan\":\"{oops\"}}", 0,
      ANOGAN_MODEL_ERROR_METADATA, "\"anogan\" metadata is not JSON"},
  {"metadata-array", "{\"__metadata__\":{\"anogan\":\"[1]\"}}", 0,
      ANOGAN_MODEL_ERROR_METADATA,
      "\"anogan\" metadata is not a JSON object"},
};

static void
test_bad_raw (Fixture *f, gconstpointer data)
{
  const RawCase *c = data;
  GBytes *bytes = raw_file (strlen (c->header), c->header, c->data_size);
  assert_load_error (f, bytes, c->code, c->phrase);
  g_bytes_unref (bytes);
}

/* "{"a":", @depth arrays, each holding the next, and "}". */
static GBytes *
nested_header (int depth)
{
  GString *header = g_string_new ("{\"a\":");
  for (int i = 0; i < depth; i++)
    g_string_append_c (header, '[');
  for (int i = 0; i < depth; i++)
    g_string_append_c (header, ']');
  g_string_append_c (header, '}');
  GBytes *bytes = raw_file (header->len, header->str, 0);
  g_string_free (header, TRUE);
  return bytes;
}

/* json-glib recurses once per level: a header nested a hundred thousand
 * deep overflowed the stack.  64 levels are the most, the object around
 * the arrays included. */
static void
test_json_depth (Fixture *f, gconstpointer data)
{
  GBytes *bytes = nested_header (63);
  assert_load_error (f, bytes, ANOGAN_MODEL_ERROR_FORMAT,
      "tensor 'a': bad entry");
  g_bytes_unref (bytes);
  bytes = nested_header (64);
  assert_load_error (f, bytes, ANOGAN_MODEL_ERROR_FORMAT,
      "header nests arrays and objects more than 64 deep (byte 68)");
  g_bytes_unref (bytes);
  bytes = nested_header (200000);
  assert_load_error (f, bytes, ANOGAN_MODEL_ERROR_FORMAT,
      "header nests arrays and objects more than 64 deep");
  g_bytes_unref (bytes);
}

/* json-glib builds a node of some hundred bytes for each value, however
 * short its text: 2^20 values at most, the object and array included. */
static void
test_json_values (Fixture *f, gconstpointer data)
{
  for (int extra = 0; extra < 2; extra++) {
    GString *header = g_string_new ("{\"a\":[0");
    for (int i = 1; i < (1 << 20) - 2 + extra; i++)
      g_string_append (header, ",0");
    g_string_append (header, "]}");
    GBytes *bytes = raw_file (header->len, header->str, 0);
    assert_load_error (f, bytes, ANOGAN_MODEL_ERROR_FORMAT, extra
        ? "header holds more than 1048576 values" : "tensor 'a': bad entry");
    g_bytes_unref (bytes);
    g_string_free (header, TRUE);
  }
}

/* The description is checked as the header is: json-glib read
 * -18446744073709551612 as 4, and such a file loaded with nz = 4. */
static void
test_description_json (Fixture *f, gconstpointer data)
{
  static const struct {
    const char *to, *problem;
  } cases[] = {
    {"\"nz\":-18446744073709551612", " has the number "
          "-18446744073709551612, beyond the range of a 64-bit integer "
          "(byte 48)"},
    {"\"nz\":4,\"nz\":4",
        " has the key \"nz\" twice in one object (byte 50)"},
    {"\"nz\":4,\"card\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
          "[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"
          "]]]]]]]]]]]]]]", " nests arrays and objects more than 64 deep "
          "(byte 120)"},
    {"\"nz\":4 /* z */", " is not JSON: ',' or '}' expected, found '/' "
          "(byte 50)"},
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autoptr (GString) text = g_string_new (tiny_json);
    g_assert_cmpuint (g_string_replace (text, "\"nz\":4", cases[i].to, 1),
        ==, 1);
    AnoganSafetensorsWriter *w = tiny_writer (text->str, "", EDIT_NONE);
    GBytes *bytes = anogan_safetensors_writer_to_bytes (w);
    char *phrase = g_strconcat ("\"anogan\" metadata", cases[i].problem,
        NULL);
    assert_load_error (f, bytes, ANOGAN_MODEL_ERROR_METADATA, phrase);
    g_free (phrase);
    g_bytes_unref (bytes);
    anogan_safetensors_writer_free (w);

    /* And as an architecture file, where the text is the description. */
    GError *error = NULL;
    char *path = fixture_path (f, "arch.json");
    g_assert_true (g_file_set_contents (path, text->str, -1, NULL));
    g_assert_null (anogan_model_new_from_arch (path, &error));
    g_assert_error (error, ANOGAN_MODEL_ERROR, ANOGAN_MODEL_ERROR_METADATA);
    char *want = g_strconcat (path, ": description", cases[i].problem, NULL);
    g_assert_cmpstr (error->message, ==, want);
    g_clear_error (&error);
    g_free (want);
    g_free (path);
  }
}

static void
test_truncated (Fixture *f, gconstpointer data)
{
  GBytes *empty = g_bytes_new_static ("", 0);
  assert_load_error (f, empty, ANOGAN_MODEL_ERROR_FORMAT, "truncated");
  g_bytes_unref (empty);
  GBytes *five = g_bytes_new_static ("\x10\0\0\0\0", 5);
  assert_load_error (f, five, ANOGAN_MODEL_ERROR_FORMAT, "truncated");
  g_bytes_unref (five);

  /* A good file cut short: its header now reaches past the end. */
  AnoganSafetensorsWriter *w = tiny_writer (tiny_json, "", EDIT_NONE);
  GBytes *good = anogan_safetensors_writer_to_bytes (w);
  GBytes *cut = g_bytes_new_from_bytes (good, 0, 100);
  assert_load_error (f, cut, ANOGAN_MODEL_ERROR_FORMAT,
      "past the end of the file (100 bytes)");
  g_bytes_unref (cut);
  /* Cut in the data: the last tensor's offsets are now out of range. */
  cut = g_bytes_new_from_bytes (good, 0, g_bytes_get_size (good) - 1);
  assert_load_error (f, cut, ANOGAN_MODEL_ERROR_FORMAT, "out of range");
  g_bytes_unref (cut);
  g_bytes_unref (good);
  anogan_safetensors_writer_free (w);
}

/* A header length of 100 GB in a 20-byte file is refused from the sizes
 * alone: were it trusted, the allocation would abort the test. */
static void
test_header_length_huge (Fixture *f, gconstpointer data)
{
  GBytes *bytes = raw_file (G_GUINT64_CONSTANT (100000000000), "{}", 10);
  assert_load_error (f, bytes, ANOGAN_MODEL_ERROR_FORMAT,
      "header length 100000000000 past the end of the file (20 bytes)");
  g_bytes_unref (bytes);
  bytes = raw_file (G_MAXUINT64, "{}", 0);
  assert_load_error (f, bytes, ANOGAN_MODEL_ERROR_FORMAT, "past the end");
  g_bytes_unref (bytes);
}

/* A file of @size bytes that takes no room on disk, or NULL when the file
 * system cannot make one. */
static char *
sparse_file (Fixture *f, const char *name, const void *head, gsize head_size,
    guint64 size)
{
  char *path = fixture_path (f, name);
  FILE *file = fopen (path, "wb");
  g_assert_nonnull (file);
  g_assert_cmpuint (fwrite (head, 1, head_size, file), ==, head_size);
  g_assert_cmpint (fflush (file), ==, 0);
  gboolean ok = ftruncate (fileno (file), (off_t) size) == 0;
  g_assert_cmpint (fclose (file), ==, 0);
  if (!ok)
    g_clear_pointer (&path, g_free);
  return path;
}

/* A header of more than 16 MiB is refused before it is read, however many
 * bytes follow it: here a sparse file that is zeros after the length. */
static void
test_header_length_limit (Fixture *f, gconstpointer data)
{
  guint64 length = ((guint64) 16 << 20) + 1;
  guint64 le = GUINT64_TO_LE (length);
  char *path = sparse_file (f, "long-header.safetensors", &le, 8,
      8 + length);
  g_assert_nonnull (path);
  GError *error = NULL;
  static const char phrase[] =
      "header length 16777217 exceeds the limit of 16777216 bytes";
  g_assert_null (anogan_model_load (path, &error));
  g_assert_error (error, ANOGAN_MODEL_ERROR, ANOGAN_MODEL_ERROR_FORMAT);
  g_assert_true (g_str_has_prefix (error->message, path));
  g_assert_nonnull (strstr (error->message, phrase));
  g_clear_error (&error);

  GMappedFile *mapping = g_mapped_file_new (path, FALSE, &error);
  g_assert_no_error (error);
  GBytes *bytes = g_mapped_file_get_bytes (mapping);
  g_assert_null (anogan_model_load_from_bytes (bytes, "in-memory", &error));
  g_assert_error (error, ANOGAN_MODEL_ERROR, ANOGAN_MODEL_ERROR_FORMAT);
  g_assert_cmpstr (error->message, ==, "in-memory: header length 16777217 "
      "exceeds the limit of 16777216 bytes");
  g_clear_error (&error);
  g_bytes_unref (bytes);
  g_mapped_file_unref (mapping);
  g_free (path);
}

static void
test_io_errors (Fixture *f, gconstpointer data)
{
  GError *error = NULL;
  char *path = fixture_path (f, "absent.safetensors");
  g_assert_null (anogan_model_load (path, &error));
  g_assert_error (error, ANOGAN_MODEL_ERROR, ANOGAN_MODEL_ERROR_IO);
  g_assert_true (g_str_has_prefix (error->message, path));
  g_assert_nonnull (strstr (error->message, "cannot read"));
  g_clear_error (&error);
  g_free (path);

  AnoganModel *model = new_model (tiny_json, 1);
  path = g_build_filename (f->dir, "no-such-dir", "m.safetensors", NULL);
  g_assert_false (anogan_model_save (model, path, &error));
  g_assert_error (error, ANOGAN_MODEL_ERROR, ANOGAN_MODEL_ERROR_IO);
  g_assert_true (g_str_has_prefix (error->message, path));
  g_assert_nonnull (strstr (error->message, "cannot write"));
  g_clear_error (&error);
  g_free (path);
  anogan_model_free (model);
}

/* anogan_model_load() or anogan_model_new_from_arch(). */
typedef AnoganModel *(*OpenFunc) (const char *path, GError **error);

static void
assert_open_error (OpenFunc open_func, const char *path, int code,
    const char *phrase)
{
  GError *error = NULL;
  g_assert_null (open_func (path, &error));
  g_assert_error (error, ANOGAN_MODEL_ERROR, code);
  g_test_message ("%s", error->message);
  g_assert_true (g_str_has_prefix (error->message, path));
  g_assert_nonnull (strstr (error->message, phrase));
  g_clear_error (&error);
}

/* A FIFO with no writer would block the open for ever, and /dev/zero has
 * no end: only regular files are read. */
static void
assert_regular_files_only (Fixture *f, OpenFunc open_func,
    const char *fifo_name)
{
  static const char phrase[] = "cannot read: not a regular file";
  char *fifo = fixture_path (f, fifo_name);
  g_assert_cmpint (mkfifo (fifo, 0600), ==, 0);
  alarm (60);                   /* a blocking open ends the test */
  assert_open_error (open_func, fifo, ANOGAN_MODEL_ERROR_IO, phrase);
  alarm (0);
  g_free (fifo);
  assert_open_error (open_func, f->dir, ANOGAN_MODEL_ERROR_IO, phrase);
  if (g_file_test ("/dev/zero", G_FILE_TEST_EXISTS))
    assert_open_error (open_func, "/dev/zero", ANOGAN_MODEL_ERROR_IO,
        phrase);
}

/* Only regular files are read, and none larger than any model could be,
 * which is refused from its size alone. */
static void
test_not_a_model_file (Fixture *f, gconstpointer data)
{
  assert_regular_files_only (f, anogan_model_load, "fifo.safetensors");
  guint64 huge = (guint64) 16 << 30;
  char *path = sparse_file (f, "huge.safetensors", "", 0, huge + 1);
  if (path == NULL) {
    g_test_skip ("no sparse file of 16 GiB here");
    return;
  }
  assert_open_error (anogan_model_load, path, ANOGAN_MODEL_ERROR_IO,
      "cannot read: 17179869185 bytes, more than a model file may have "
      "(17179869184)");
  g_free (path);
}

/* An architecture file is read as a model file is: /dev/zero was read
 * until memory ran out, and a FIFO blocked for ever. */
static void
test_not_an_arch_file (Fixture *f, gconstpointer data)
{
  OpenFunc open_func = anogan_model_new_from_arch;
  assert_regular_files_only (f, open_func, "fifo.json");
  char *path = sparse_file (f, "huge.json", "{", 1, (16 << 20) + 1);
  g_assert_nonnull (path);
  assert_open_error (open_func, path, ANOGAN_MODEL_ERROR_IO, "cannot read: "
      "16777217 bytes, more than a description may have (16777216)");
  g_free (path);

  path = sparse_file (f, "empty.json", "", 0, 0);
  assert_open_error (open_func, path, ANOGAN_MODEL_ERROR_METADATA,
      "description is not JSON: a value expected, found the end (byte 0)");
  g_free (path);
}

static void
add_fixture_test (const char *path, gconstpointer data,
    void (*func) (Fixture *, gconstpointer))
{
  g_test_add (path, Fixture, data, fixture_setup, func, fixture_teardown);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  add_fixture_test ("/model/round-trip", NULL, test_round_trip);
  g_test_add_func ("/model/writer-layout", test_writer_layout);
  add_fixture_test ("/model/misaligned-copy", NULL, test_misaligned_copy);
  g_test_add_func ("/model/new-from-description", test_new_from_description);
  add_fixture_test ("/model/vector-latent", NULL, test_vector_latent);
  g_test_add_func ("/model/init-weights", test_init_weights);
  g_test_add_func ("/model/archs", test_archs);
  add_fixture_test ("/model/extra-metadata", NULL, test_extra_metadata);
  add_fixture_test ("/model/num-batches-tracked", NULL,
      test_num_batches_tracked);
  add_fixture_test ("/model/many-tensors", NULL, test_many_tensors);
  add_fixture_test ("/model/bad/truncated", NULL, test_truncated);
  add_fixture_test ("/model/bad/header-length-huge", NULL,
      test_header_length_huge);
  add_fixture_test ("/model/bad/header-length-limit", NULL,
      test_header_length_limit);
  add_fixture_test ("/model/bad/io", NULL, test_io_errors);
  add_fixture_test ("/model/bad/json-depth", NULL, test_json_depth);
  add_fixture_test ("/model/bad/parameters-wrap", NULL,
      test_parameters_wrap);
  add_fixture_test ("/model/bad/json-values", NULL, test_json_values);
  add_fixture_test ("/model/bad/description-json", NULL,
      test_description_json);
  add_fixture_test ("/model/bad/not-a-model-file", NULL,
      test_not_a_model_file);
  add_fixture_test ("/model/bad/not-an-arch-file", NULL,
      test_not_an_arch_file);
  add_fixture_test ("/model/bad/tensor/extra", NULL, test_extra_tensor);
  add_fixture_test ("/model/encoder/round-trip", NULL,
      test_encoder_round_trip);
  add_fixture_test ("/model/encoder/none", NULL, test_no_encoder);
  add_fixture_test ("/model/encoder/bad", NULL, test_bad_encoder);
  g_test_add_func ("/model/encoder/add", test_add_encoder);

  for (gsize i = 0; i < G_N_ELEMENTS (tensor_cases); i++) {
    char *path = g_strconcat ("/model/bad/tensor/", tensor_cases[i].test,
        NULL);
    add_fixture_test (path, &tensor_cases[i], test_bad_tensor);
    g_free (path);
  }
  for (gsize i = 0; i < G_N_ELEMENTS (description_cases); i++) {
    char *path = g_strconcat ("/model/bad/description/",
        description_cases[i].test, NULL);
    add_fixture_test (path, &description_cases[i], test_bad_description);
    g_free (path);
  }
  for (gsize i = 0; i < G_N_ELEMENTS (work_cases); i++) {
    char *path = g_strconcat ("/model/bad/working-memory/",
        work_cases[i].test, NULL);
    add_fixture_test (path, &work_cases[i], test_working_memory);
    g_free (path);
  }
  for (gsize i = 0; i < G_N_ELEMENTS (raw_cases); i++) {
    char *path = g_strconcat ("/model/bad/container/", raw_cases[i].test,
        NULL);
    add_fixture_test (path, &raw_cases[i], test_bad_raw);
    g_free (path);
  }
  return g_test_run ();
}
