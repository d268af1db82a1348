/* anogan-safetensors.c: the safetensors container
 *
 * Copyright (C) 2026 the gst-anogan authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A safetensors file is an 8-byte little-endian header length N, N bytes
 * of a JSON object describing the tensors, then the tensors' raw bytes.
 * Everything read from the file is treated as hostile: each length and
 * offset is checked against the bytes actually present before it is used,
 * so a corrupt or malicious file yields an error, never a crash or a huge
 * allocation.
 */
#include "anogan-safetensors.h"
#include "anogan-json-check.h"
#include "anogan-model.h"

#include <stdlib.h>
#include <string.h>
#include <json-glib/json-glib.h>

#define MAX_RANK 8
#define LENGTH_BYTES 8

/* The header is parsed into a tree many times its size, so it is kept to
 * what the largest model the description's limits allow could need
 * (about 10 MiB for three networks of 4096 layers), and no more. */
#define MAX_HEADER_LENGTH ((guint64) 16 << 20)

typedef struct {
  const char *name;
  gsize size;
} DtypeInfo;

/* The dtypes of the safetensors format and their element sizes. */
static const DtypeInfo dtypes[] = {
  {"BOOL", 1}, {"U8", 1}, {"I8", 1}, {"F8_E5M2", 1}, {"F8_E4M3", 1},
  {"I16", 2}, {"U16", 2}, {"F16", 2}, {"BF16", 2},
  {"I32", 4}, {"U32", 4}, {"F32", 4},
  {"I64", 8}, {"U64", 8}, {"F64", 8},
};

struct _AnoganSafetensors {
  GBytes *bytes;
  int n_tensors;
  AnoganTensorInfo *tensors;
  GHashTable *by_name;          /* name -> AnoganTensorInfo* */
  GHashTable *metadata;         /* key -> value, both owned */
};

static const DtypeInfo *
lookup_dtype (const char *name)
{
  for (gsize i = 0; i < G_N_ELEMENTS (dtypes); i++)
    if (strcmp (dtypes[i].name, name) == 0)
      return &dtypes[i];
  return NULL;
}

static void
set_format_error (GError **error, const char *name, const char *format, ...)
    G_GNUC_PRINTF (3, 4);

static void
set_format_error (GError **error, const char *name, const char *format, ...)
{
  va_list args;
  va_start (args, format);
  char *what = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, ANOGAN_MODEL_ERROR, ANOGAN_MODEL_ERROR_FORMAT, "%s: %s",
      name, what);
  g_free (what);
}

/* A non-negative JSON integer, or -1 when the node is anything else. */
static gint64
node_get_count (JsonNode *node)
{
  if (!JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_INT64)
    return -1;
  gint64 v = json_node_get_int (node);
  return v >= 0 ? v : -1;
}

static gboolean
parse_metadata (AnoganSafetensors *st, JsonNode *node, const char *name,
    GError **error)
{
  if (!JSON_NODE_HOLDS_OBJECT (node)) {
    set_format_error (error, name, "__metadata__ is not a JSON object");
    return FALSE;
  }
  JsonObject *obj = json_node_get_object (node);
  GList *members = json_object_get_members (obj);
  gboolean ok = TRUE;
  for (GList *l = members; l != NULL; l = l->next) {
    const char *key = l->data;
    JsonNode *value = json_object_get_member (obj, key);
    if (!JSON_NODE_HOLDS_VALUE (value)
        || json_node_get_value_type (value) != G_TYPE_STRING) {
      set_format_error (error, name,
          "__metadata__ value of '%s' is not a string", key);
      ok = FALSE;
      break;
    }
    g_hash_table_insert (st->metadata, g_strdup (key),
        g_strdup (json_node_get_string (value)));
  }
  g_list_free (members);
  return ok;
}

static gboolean
parse_shape (AnoganTensorInfo *t, JsonNode *node, const char *name,
    GError **error)
{
  if (!JSON_NODE_HOLDS_ARRAY (node)) {
    set_format_error (error, name, "tensor '%s': bad shape: not an array",
        t->name);
    return FALSE;
  }
  JsonArray *array = json_node_get_array (node);
  guint rank = json_array_get_length (array);
  if (rank > MAX_RANK) {
    set_format_error (error, name,
        "tensor '%s': bad shape: rank %u exceeds %d", t->name, rank,
        MAX_RANK);
    return FALSE;
  }
  t->rank = rank;
  for (guint i = 0; i < rank; i++) {
    t->shape[i] = node_get_count (json_array_get_element (array, i));
    if (t->shape[i] < 0) {
      set_format_error (error, name,
          "tensor '%s': bad shape: dimension %u is not a non-negative "
          "integer", t->name, i);
      return FALSE;
    }
  }
  return TRUE;
}

/* The byte size the dtype and shape call for, or FALSE on overflow. */
static gboolean
expected_size (const AnoganTensorInfo *t, gsize element_size, guint64 *size)
{
  guint64 n = element_size;
  for (int i = 0; i < t->rank; i++)
    if (!g_uint64_checked_mul (&n, n, (guint64) t->shape[i]))
      return FALSE;
  *size = n;
  return TRUE;
}

static gboolean
parse_offsets (JsonNode *node, gint64 offsets[2])
{
  if (!JSON_NODE_HOLDS_ARRAY (node)
      || json_array_get_length (json_node_get_array (node)) != 2)
    return FALSE;
  JsonArray *array = json_node_get_array (node);
  offsets[0] = node_get_count (json_array_get_element (array, 0));
  offsets[1] = node_get_count (json_array_get_element (array, 1));
  return offsets[0] >= 0 && offsets[1] >= 0;
}

static gboolean
parse_tensor (AnoganTensorInfo *t, JsonNode *node, const guint8 *data,
    gsize data_size, const char *name, GError **error)
{
  if (!JSON_NODE_HOLDS_OBJECT (node)) {
    set_format_error (error, name, "tensor '%s': bad entry: not an object",
        t->name);
    return FALSE;
  }
  JsonObject *obj = json_node_get_object (node);
  JsonNode *dtype = json_object_get_member (obj, "dtype");
  JsonNode *shape = json_object_get_member (obj, "shape");
  JsonNode *offsets = json_object_get_member (obj, "data_offsets");
  if (dtype == NULL || shape == NULL || offsets == NULL
      || json_object_get_size (obj) != 3) {
    set_format_error (error, name, "tensor '%s': bad entry: want exactly "
        "\"dtype\", \"shape\" and \"data_offsets\"", t->name);
    return FALSE;
  }

  const DtypeInfo *info = NULL;
  if (JSON_NODE_HOLDS_VALUE (dtype)
      && json_node_get_value_type (dtype) == G_TYPE_STRING)
    info = lookup_dtype (json_node_get_string (dtype));
  if (info == NULL) {
    set_format_error (error, name, "tensor '%s': unknown dtype", t->name);
    return FALSE;
  }
  t->dtype = info->name;

  if (!parse_shape (t, shape, name, error))
    return FALSE;

  gint64 range[2];
  if (!parse_offsets (offsets, range)) {
    set_format_error (error, name, "tensor '%s': bad data_offsets: want two "
        "non-negative integers", t->name);
    return FALSE;
  }
  if (range[0] > range[1] || (guint64) range[1] > data_size) {
    set_format_error (error, name, "tensor '%s': data_offsets [%"
        G_GINT64_FORMAT ", %" G_GINT64_FORMAT "] out of range: the data "
        "section has %" G_GSIZE_FORMAT " bytes", t->name, range[0], range[1],
        data_size);
    return FALSE;
  }

  guint64 want;
  if (!expected_size (t, info->size, &want)) {
    set_format_error (error, name, "tensor '%s': size overflow", t->name);
    return FALSE;
  }
  if (want != (guint64) (range[1] - range[0])) {
    set_format_error (error, name, "tensor '%s': data_offsets inconsistent "
        "with its shape: %" G_GINT64_FORMAT " bytes, want %" G_GUINT64_FORMAT,
        t->name, range[1] - range[0], want);
    return FALSE;
  }
  t->data = data + range[0];
  t->size = want;
  return TRUE;
}

static int
compare_by_data (gconstpointer a, gconstpointer b)
{
  const AnoganTensorInfo *ta = a, *tb = b;
  return ta->data < tb->data ? -1 : ta->data > tb->data;
}

/* Two tensors sharing bytes would be a corrupt file: each is its own. */
static gboolean
check_no_overlap (const AnoganSafetensors *st, const char *name,
    GError **error)
{
  if (st->n_tensors < 2)
    return TRUE;
  AnoganTensorInfo *sorted = g_memdup2 (st->tensors,
      sizeof (AnoganTensorInfo) * st->n_tensors);
  qsort (sorted, st->n_tensors, sizeof (AnoganTensorInfo), compare_by_data);
  const AnoganTensorInfo *prev = NULL;
  gboolean ok = TRUE;
  for (int i = 0; i < st->n_tensors && ok; i++) {
    if (sorted[i].size == 0)
      continue;
    if (prev != NULL && sorted[i].data < prev->data + prev->size) {
      set_format_error (error, name,
          "tensors '%s' and '%s': data_offsets overlap", prev->name,
          sorted[i].name);
      ok = FALSE;
    }
    prev = &sorted[i];
  }
  g_free (sorted);
  return ok;
}

static JsonNode *
parse_header_json (const guint8 *header, gsize length, const char *name,
    GError **error)
{
  if (!g_utf8_validate ((const char *) header, length, NULL)) {
    set_format_error (error, name, "header is not JSON: not UTF-8");
    return NULL;
  }
  g_autofree char *problem = anogan_json_check ((const char *) header,
      length, "header");
  if (problem != NULL) {
    set_format_error (error, name, "%s", problem);
    return NULL;
  }
  g_autoptr (JsonParser) parser = json_parser_new_immutable ();
  g_autoptr (GError) json_error = NULL;
  if (!json_parser_load_from_data (parser, (const char *) header, length,
          &json_error)) {
    set_format_error (error, name, "header is not JSON: %s",
        json_error->message);
    return NULL;
  }
  JsonNode *root = json_parser_steal_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root)) {
    set_format_error (error, name, "header is not a JSON object");
    g_clear_pointer (&root, json_node_unref);
    return NULL;
  }
  return root;
}

static gboolean
parse_members (AnoganSafetensors *st, JsonObject *header,
    const guint8 *data, gsize data_size, const char *name, GError **error)
{
  GList *members = json_object_get_members (header);
  st->tensors = g_new0 (AnoganTensorInfo, g_list_length (members));
  gboolean ok = TRUE;
  for (GList *l = members; l != NULL && ok; l = l->next) {
    const char *key = l->data;
    JsonNode *node = json_object_get_member (header, key);
    if (strcmp (key, "__metadata__") == 0) {
      ok = parse_metadata (st, node, name, error);
      continue;
    }
    AnoganTensorInfo *t = &st->tensors[st->n_tensors];
    char *owned_name = g_strdup (key);
    t->name = owned_name;
    g_hash_table_insert (st->by_name, owned_name, t);
    st->n_tensors++;
    ok = parse_tensor (t, node, data, data_size, name, error);
  }
  g_list_free (members);
  return ok && check_no_overlap (st, name, error);
}

/**
 * anogan_safetensors_parse:
 * @bytes: the whole file
 * @name: how to call the file in error messages
 * @error: return location for an error in %ANOGAN_MODEL_ERROR
 *   (%ANOGAN_MODEL_ERROR_FORMAT)
 *
 * Parses a safetensors container and checks every tensor's dtype, shape
 * and offsets against the bytes present.  A header longer than 16 MiB is
 * refused before it is parsed.  Nothing is copied: the tensors
 * point into @bytes, of which the result keeps a reference.
 *
 * Returns: (transfer full) (nullable): the container, or %NULL on error
 */
AnoganSafetensors *
anogan_safetensors_parse (GBytes *bytes, const char *name, GError **error)
{
  g_return_val_if_fail (bytes != NULL, NULL);
  g_return_val_if_fail (name != NULL, NULL);

  gsize size;
  const guint8 *file = g_bytes_get_data (bytes, &size);
  if (size < LENGTH_BYTES) {
    set_format_error (error, name, "truncated: %" G_GSIZE_FORMAT " bytes, "
        "too short for the header length", size);
    return NULL;
  }
  guint64 header_length;
  memcpy (&header_length, file, sizeof header_length);
  header_length = GUINT64_FROM_LE (header_length);
  if (header_length > size - LENGTH_BYTES) {
    set_format_error (error, name, "header length %" G_GUINT64_FORMAT
        " past the end of the file (%" G_GSIZE_FORMAT " bytes)",
        header_length, size);
    return NULL;
  }
  if (header_length > MAX_HEADER_LENGTH) {
    set_format_error (error, name, "header length %" G_GUINT64_FORMAT
        " exceeds the limit of %" G_GUINT64_FORMAT " bytes", header_length,
        MAX_HEADER_LENGTH);
    return NULL;
  }

  JsonNode *root = parse_header_json (file + LENGTH_BYTES, header_length,
      name, error);
  if (root == NULL)
    return NULL;

  AnoganSafetensors *st = g_new0 (AnoganSafetensors, 1);
  st->bytes = g_bytes_ref (bytes);
  st->by_name = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  st->metadata = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      g_free);
  const guint8 *data = file + LENGTH_BYTES + header_length;
  gsize data_size = size - LENGTH_BYTES - header_length;
  gboolean ok = parse_members (st, json_node_get_object (root), data,
      data_size, name, error);
  json_node_unref (root);
  if (!ok)
    g_clear_pointer (&st, anogan_safetensors_free);
  return st;
}

/**
 * anogan_safetensors_free:
 * @st: (nullable): a container
 *
 * Frees @st and drops its reference to the file's bytes.
 */
void
anogan_safetensors_free (AnoganSafetensors *st)
{
  if (st == NULL)
    return;
  g_hash_table_unref (st->by_name);     /* owns the names */
  g_hash_table_unref (st->metadata);
  g_free (st->tensors);
  g_bytes_unref (st->bytes);
  g_free (st);
}

/**
 * anogan_safetensors_n_tensors:
 * @st: a container
 *
 * Returns: the number of tensors, in the order of the header
 */
int
anogan_safetensors_n_tensors (const AnoganSafetensors *st)
{
  g_return_val_if_fail (st != NULL, 0);
  return st->n_tensors;
}

/**
 * anogan_safetensors_get:
 * @st: a container
 * @index: 0 to anogan_safetensors_n_tensors() - 1
 *
 * Returns: (transfer none): the tensor at @index
 */
const AnoganTensorInfo *
anogan_safetensors_get (const AnoganSafetensors *st, int index)
{
  g_return_val_if_fail (st != NULL, NULL);
  g_return_val_if_fail (index >= 0 && index < st->n_tensors, NULL);
  return &st->tensors[index];
}

/**
 * anogan_safetensors_lookup:
 * @st: a container
 * @name: a tensor name
 *
 * Returns: (transfer none) (nullable): the tensor called @name, or %NULL
 */
const AnoganTensorInfo *
anogan_safetensors_lookup (const AnoganSafetensors *st, const char *name)
{
  g_return_val_if_fail (st != NULL, NULL);
  return g_hash_table_lookup (st->by_name, name);
}

/**
 * anogan_safetensors_metadata:
 * @st: a container
 * @key: a key of the header's `__metadata__`
 *
 * Returns: (transfer none) (nullable): its value, or %NULL
 */
const char *
anogan_safetensors_metadata (const AnoganSafetensors *st, const char *key)
{
  g_return_val_if_fail (st != NULL, NULL);
  return g_hash_table_lookup (st->metadata, key);
}

/**
 * anogan_tensor_read_f32:
 * @tensor: a tensor of the container
 * @out: where to put its values
 * @n_floats: how many @out holds
 *
 * Copies an F32 tensor of exactly @n_floats elements to @out, in host byte
 * order, whatever the alignment of its bytes in the file.
 *
 * Returns: %FALSE, copying nothing, when the dtype or size differ
 */
gboolean
anogan_tensor_read_f32 (const AnoganTensorInfo *tensor, float *out,
    gsize n_floats)
{
  g_return_val_if_fail (tensor != NULL, FALSE);
  if (strcmp (tensor->dtype, "F32") != 0
      || tensor->size / sizeof (float) != n_floats
      || tensor->size % sizeof (float) != 0)
    return FALSE;
  memcpy (out, tensor->data, tensor->size);
#if G_BYTE_ORDER == G_BIG_ENDIAN
  guint32 *words = (guint32 *) out;
  for (gsize i = 0; i < n_floats; i++)
    words[i] = GUINT32_SWAP_LE_BE (words[i]);
#endif
  return TRUE;
}

/* The writer. */

typedef struct {
  char *name;
  const char *dtype;
  int rank;
  gint64 shape[MAX_RANK];
  gsize begin, end;
} WriterEntry;

struct _AnoganSafetensorsWriter {
  GArray *entries;              /* WriterEntry, in insertion order */
  GHashTable *names;
  GByteArray *data;
  JsonObject *metadata;
};

static void
writer_entry_clear (gpointer p)
{
  WriterEntry *e = p;
  g_free (e->name);
}

/**
 * anogan_safetensors_writer_new:
 *
 * Returns: (transfer full): an empty writer
 */
AnoganSafetensorsWriter *
anogan_safetensors_writer_new (void)
{
  AnoganSafetensorsWriter *w = g_new0 (AnoganSafetensorsWriter, 1);
  w->entries = g_array_new (FALSE, TRUE, sizeof (WriterEntry));
  g_array_set_clear_func (w->entries, writer_entry_clear);
  w->names = g_hash_table_new (g_str_hash, g_str_equal);
  w->data = g_byte_array_new ();
  w->metadata = json_object_new ();
  return w;
}

/**
 * anogan_safetensors_writer_add:
 * @w: a writer
 * @name: the tensor's name, not yet used in @w
 * @dtype: a safetensors dtype ("F32", "I64", ...)
 * @rank: number of dimensions, 0 to 8
 * @shape: the dimensions
 * @data: the tensor's bytes, already little-endian
 * @size: number of bytes; must match @dtype and @shape
 *
 * Appends a tensor of any dtype; its bytes are copied.
 */
void
anogan_safetensors_writer_add (AnoganSafetensorsWriter *w, const char *name,
    const char *dtype, int rank, const gint64 *shape, const void *data,
    gsize size)
{
  g_return_if_fail (w != NULL && name != NULL);
  g_return_if_fail (strcmp (name, "__metadata__") != 0);
  g_return_if_fail (!g_hash_table_contains (w->names, name));
  g_return_if_fail (rank >= 0 && rank <= MAX_RANK);
  const DtypeInfo *info = lookup_dtype (dtype);
  g_return_if_fail (info != NULL);

  WriterEntry e = { NULL, info->name, rank, {0}, 0, 0 };
  guint64 want = info->size;
  for (int i = 0; i < rank; i++) {
    g_return_if_fail (shape[i] >= 0);
    e.shape[i] = shape[i];
    want *= shape[i];
  }
  g_return_if_fail (want == size);
  e.name = g_strdup (name);
  e.begin = w->data->len;
  e.end = e.begin + size;
  g_byte_array_append (w->data, data, size);
  g_array_append_val (w->entries, e);
  g_hash_table_add (w->names, e.name);
}

/**
 * anogan_safetensors_writer_add_f32:
 * @w: a writer
 * @name: the tensor's name, not yet used in @w
 * @rank: number of dimensions, 0 to 8
 * @shape: the dimensions
 * @data: the values, in host byte order
 *
 * Appends an F32 tensor; its values are copied.
 */
void
anogan_safetensors_writer_add_f32 (AnoganSafetensorsWriter *w,
    const char *name, int rank, const gint64 *shape, const float *data)
{
  g_return_if_fail (rank >= 0 && rank <= MAX_RANK);
  gsize n = 1;
  for (int i = 0; i < rank; i++)
    n *= shape[i];
#if G_BYTE_ORDER == G_LITTLE_ENDIAN
  anogan_safetensors_writer_add (w, name, "F32", rank, shape, data,
      n * sizeof (float));
#else
  guint32 *le = g_new (guint32, n);
  memcpy (le, data, n * sizeof (float));
  for (gsize i = 0; i < n; i++)
    le[i] = GUINT32_TO_LE (le[i]);
  anogan_safetensors_writer_add (w, name, "F32", rank, shape, le,
      n * sizeof (float));
  g_free (le);
#endif
}

/**
 * anogan_safetensors_writer_set_metadata:
 * @w: a writer
 * @key: a `__metadata__` key
 * @value: its value; replaces an earlier one
 */
void
anogan_safetensors_writer_set_metadata (AnoganSafetensorsWriter *w,
    const char *key, const char *value)
{
  g_return_if_fail (w != NULL && key != NULL && value != NULL);
  json_object_set_string_member (w->metadata, key, value);
}

static JsonNode *
shape_to_node (const gint64 *values, int n)
{
  JsonArray *array = json_array_sized_new (n);
  for (int i = 0; i < n; i++)
    json_array_add_int_element (array, values[i]);
  JsonNode *node = json_node_new (JSON_NODE_ARRAY);
  json_node_take_array (node, array);
  return node;
}

static char *
writer_header (const AnoganSafetensorsWriter *w, gsize *length)
{
  JsonObject *header = json_object_new ();
  if (json_object_get_size (w->metadata) > 0)
    json_object_set_object_member (header, "__metadata__",
        json_object_ref (w->metadata));
  for (guint i = 0; i < w->entries->len; i++) {
    const WriterEntry *e = &g_array_index (w->entries, WriterEntry, i);
    JsonObject *entry = json_object_new ();
    json_object_set_string_member (entry, "dtype", e->dtype);
    json_object_set_member (entry, "shape", shape_to_node (e->shape,
            e->rank));
    gint64 offsets[2] = { e->begin, e->end };
    json_object_set_member (entry, "data_offsets", shape_to_node (offsets,
            2));
    json_object_set_object_member (header, e->name, entry);
  }
  JsonNode *root = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (root, header);
  g_autoptr (JsonGenerator) generator = json_generator_new ();
  json_generator_set_root (generator, root);
  char *text = json_generator_to_data (generator, length);
  json_node_unref (root);
  return text;
}

/**
 * anogan_safetensors_writer_to_bytes:
 * @w: a writer
 *
 * Lays out the file: the header is padded with spaces so that the data
 * section, and with it every F32 tensor, starts 8-byte aligned; tensors
 * follow in the order they were added.
 *
 * Returns: (transfer full): the whole file
 */
GBytes *
anogan_safetensors_writer_to_bytes (AnoganSafetensorsWriter *w)
{
  g_return_val_if_fail (w != NULL, NULL);
  gsize text_length;
  g_autofree char *text = writer_header (w, &text_length);
  gsize padding = (8 - (LENGTH_BYTES + text_length) % 8) % 8;
  guint64 header_length = GUINT64_TO_LE ((guint64) (text_length + padding));

  GByteArray *file = g_byte_array_sized_new (LENGTH_BYTES + text_length
      + padding + w->data->len);
  g_byte_array_append (file, (const guint8 *) &header_length, LENGTH_BYTES);
  g_byte_array_append (file, (const guint8 *) text, text_length);
  for (gsize i = 0; i < padding; i++)
    g_byte_array_append (file, (const guint8 *) " ", 1);
  g_byte_array_append (file, w->data->data, w->data->len);
  return g_byte_array_free_to_bytes (file);
}

/**
 * anogan_safetensors_writer_save:
 * @w: a writer
 * @path: where to write
 * @error: return location for an %ANOGAN_MODEL_ERROR_IO error
 *
 * Writes the file atomically: a reader sees the old file or the complete
 * new one, never a part.
 *
 * Returns: %TRUE on success
 */
gboolean
anogan_safetensors_writer_save (AnoganSafetensorsWriter *w, const char *path,
    GError **error)
{
  g_return_val_if_fail (w != NULL && path != NULL, FALSE);
  g_autoptr (GBytes) bytes = anogan_safetensors_writer_to_bytes (w);
  g_autoptr (GError) io_error = NULL;
  gsize size;
  const guint8 *data = g_bytes_get_data (bytes, &size);
  if (!g_file_set_contents_full (path, (const char *) data, size,
          G_FILE_SET_CONTENTS_CONSISTENT, 0666, &io_error)) {
    g_set_error (error, ANOGAN_MODEL_ERROR, ANOGAN_MODEL_ERROR_IO,
        "%s: cannot write: %s", path, io_error->message);
    return FALSE;
  }
  return TRUE;
}

/**
 * anogan_safetensors_writer_free:
 * @w: (nullable): a writer
 */
void
anogan_safetensors_writer_free (AnoganSafetensorsWriter *w)
{
  if (w == NULL)
    return;
  g_array_unref (w->entries);
  g_hash_table_unref (w->names);
  g_byte_array_unref (w->data);
  json_object_unref (w->metadata);
  g_free (w);
}
