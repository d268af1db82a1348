/* anogan-tool-data.c: the pictures a tool trains or evaluates on
 *
 * Copyright (C) 2026 the gst-anogan authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A source is a directory of pictures, one picture, an IDX file (the MNIST
 * layout, plain or gzip-compressed) or a video.  The kind is told from the
 * content: a directory is a directory, IDX and gzip have magic numbers,
 * pictures are what gdk-pixbuf recognises, and anything else is handed to
 * GStreamer, which says whether it is a video it can decode.
 */
#include "anogan-tool-data.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <gst/app/gstappsink.h>
#include <gst/gst.h>
#include <gst/video/video.h>

#include "anogan-random.h"

#define IDX_IMAGES_MAGIC 0x00000803u
#define IDX_LABELS_MAGIC 0x00000801u

/* Pictures and patches larger than this on a side are not pictures of
 * parts but a corrupt header or a typo; the bound also keeps
 * width × height × 3 well inside an int. */
#define MAX_SIDE 16384

/* How much of a file the content sniffing looks at: what GIO's own
 * guessing reads. */
#define SNIFF_BYTES 4096

/* IDX payloads are read in steps of this size, so memory follows the data
 * actually there rather than what a header claims. */
#define READ_CHUNK ((gsize) 1 << 20)

/**
 * anogan_tool_data_options_init:
 * @options: (out caller-allocates): options to fill
 *
 * Sets the defaults: all classes, none excluded, no limit, seed 0, every
 * frame, no padding.
 */
void
anogan_tool_data_options_init (AnoganToolDataOptions *options)
{
  memset (options, 0, sizeof *options);
  options->class_index = -1;
  options->exclude_class = -1;
  options->frame_interval = 1;
}

/**
 * anogan_tool_picture_free:
 * @picture: (nullable): a picture from anogan_tool_data_load()
 *
 * Frees the picture, its name and its pixels.  Usable as a
 * #GDestroyNotify; the arrays anogan_tool_data_load() returns already
 * free their pictures with it.
 */
void
anogan_tool_picture_free (AnoganToolPicture *picture)
{
  if (!picture)
    return;
  g_free (picture->name);
  anogan_tool_image_clear (&picture->image);
  g_free (picture);
}

/* ---- choosing a subset -------------------------------------------------- */

/* Reservoir sampling (Vitter's algorithm R): a uniform choice of `limit`
 * items from a sequence whose length is known only at its end, as a
 * video's is.  Directories and IDX files go through the same code, so a
 * seed means the same rule for every kind of source. */
typedef struct {
  guint64 state;
  int limit;
  gint64 seen;
} Reservoir;

static void
reservoir_init (Reservoir *reservoir, const AnoganToolDataOptions *options)
{
  reservoir->state = options->seed;
  reservoir->limit = options->limit;
  reservoir->seen = 0;
}

/* Offers the next item.  Returns the slot it goes to, replacing what the
 * slot held, or -1 if it is not kept.  Without a limit every item gets a
 * slot of its own. */
static gint64
reservoir_offer (Reservoir *reservoir)
{
  const gint64 i = reservoir->seen++;
  guint64 j;

  if (reservoir->limit <= 0 || i < reservoir->limit)
    return i;
  /* The modulo's bias is below 2^-40 for any count a tool sees. */
  j = anogan_random_next (&reservoir->state) % (guint64) (i + 1);
  return j < (guint64) reservoir->limit ? (gint64) j : -1;
}

static int
compare_ints (const void *a, const void *b)
{
  const int x = *(const int *) a, y = *(const int *) b;

  return (x > y) - (x < y);
}

/* Keeps options->limit of @candidates (ascending ints), still ascending,
 * when there are more; so only the chosen ones are decoded. */
static void
keep_subset (GArray *candidates, const AnoganToolDataOptions *options)
{
  g_autofree int *kept = NULL;
  Reservoir reservoir;

  if (options->limit <= 0 || candidates->len <= (guint) options->limit)
    return;

  reservoir_init (&reservoir, options);
  kept = g_new (int, options->limit);
  for (guint i = 0; i < candidates->len; i++) {
    gint64 slot = reservoir_offer (&reservoir);
    if (slot >= 0)
      kept[slot] = g_array_index (candidates, int, i);
  }
  qsort (kept, options->limit, sizeof *kept, compare_ints);
  g_array_set_size (candidates, 0);
  g_array_append_vals (candidates, kept, options->limit);
}

/* ---- helpers ------------------------------------------------------------ */

static AnoganToolPicture *
picture_new (char *name, int label)
{
  AnoganToolPicture *picture = g_new0 (AnoganToolPicture, 1);

  picture->name = name;
  picture->label = label;
  return picture;
}

static gboolean
check_options (const char *source, const AnoganToolDataOptions *options,
    GError **error)
{
  const char *bad = NULL;
  int value = 0;

  if (options->limit < 0)
    bad = "limit", value = options->limit;
  else if (options->frame_interval < 1)
    bad = "frame interval", value = options->frame_interval;
  else if (options->min_width < 0 || options->min_width > MAX_SIDE)
    bad = "minimum width", value = options->min_width;
  else if (options->min_height < 0 || options->min_height > MAX_SIDE)
    bad = "minimum height", value = options->min_height;

  if (bad) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "%s: %s %d is out of range", source, bad, value);
    return FALSE;
  }
  return TRUE;
}

static gboolean
wants_class (const AnoganToolDataOptions *options)
{
  return options->class_index >= 0 || options->exclude_class >= 0;
}

/* Reads the first bytes of a file, for telling its kind. */
static gboolean
read_head (const char *path, guint8 *head, gsize *len, GError **error)
{
  FILE *f = g_fopen (path, "rb");

  if (!f) {
    int saved = errno;
    g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved),
        "%s: %s", path, g_strerror (saved));
    return FALSE;
  }
  *len = fread (head, 1, SNIFF_BYTES, f);
  if (ferror (f)) {
    int saved = errno;
    fclose (f);
    g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved),
        "%s: %s", path, g_strerror (saved));
    return FALSE;
  }
  fclose (f);
  return TRUE;
}

static guint32
read_be32 (const guint8 *p)
{
  return (guint32) p[0] << 24 | (guint32) p[1] << 16 | (guint32) p[2] << 8 |
      p[3];
}

static gboolean
is_gzip (const guint8 *head, gsize len)
{
  return len >= 2 && head[0] == 0x1f && head[1] == 0x8b;
}

/* Whether gdk-pixbuf decodes files of this content.  The content type is
 * guessed the way gdk-pixbuf guesses it (from the data, and from the name
 * when the data leave doubt), so a file counts as a picture exactly when
 * gdk-pixbuf would pick a loader for it; a picture file that then fails to
 * decode is a broken picture, not something else. */
static gboolean
is_picture (const char *path, const guint8 *head, gsize len)
{
  g_autofree char *type = NULL;
  gboolean uncertain = FALSE, found = FALSE;
  GSList *formats;

  type = g_content_type_guess (NULL, head, len, &uncertain);
  if (uncertain || g_content_type_equals (type, "text/plain") ||
      g_content_type_equals (type, "application/gzip")) {
    g_free (type);
    type = g_content_type_guess (path, head, len, NULL);
  }

  formats = gdk_pixbuf_get_formats ();
  for (GSList *f = formats; f && !found; f = f->next) {
    g_auto (GStrv) mimes = gdk_pixbuf_format_get_mime_types (f->data);
    for (int i = 0; mimes && mimes[i] && !found; i++) {
      g_autofree char *mime_type = g_content_type_from_mime_type (mimes[i]);
      found = mime_type && g_content_type_is_a (type, mime_type);
    }
  }
  g_slist_free (formats);
  return found;
}

/* ---- IDX files ---------------------------------------------------------- */

/* Opens @path for reading, decompressing it on the way if it starts with
 * gzip's magic bytes. */
static GInputStream *
open_maybe_gzip (const char *path, GError **error)
{
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autoptr (GFileInputStream) raw = NULL;
  g_autoptr (GZlibDecompressor) gunzip = NULL;
  guint8 magic[2];
  gsize got = 0;

  raw = g_file_read (file, NULL, error);
  if (!raw ||
      !g_input_stream_read_all (G_INPUT_STREAM (raw), magic, sizeof magic,
          &got, NULL, error) ||
      !g_seekable_seek (G_SEEKABLE (raw), 0, G_SEEK_SET, NULL, error)) {
    g_prefix_error (error, "%s: ", path);
    return NULL;
  }
  if (!is_gzip (magic, got))
    return G_INPUT_STREAM (g_steal_pointer (&raw));

  gunzip = g_zlib_decompressor_new (G_ZLIB_COMPRESSOR_FORMAT_GZIP);
  return g_converter_input_stream_new (G_INPUT_STREAM (raw),
      G_CONVERTER (gunzip));
}

/* The first four bytes of @path once decompressed, as IDX magic; 0 if
 * there are not four. */
static guint32
peek_magic (const char *path, const guint8 *head, gsize len)
{
  g_autoptr (GInputStream) in = NULL;
  guint8 magic[4];
  gsize got = 0;

  if (!is_gzip (head, len))
    return len >= 4 ? read_be32 (head) : 0;

  in = open_maybe_gzip (path, NULL);
  if (!in || !g_input_stream_read_all (in, magic, 4, &got, NULL, NULL) ||
      got < 4)
    return 0;
  return read_be32 (magic);
}

/* IDX by content, or by a name in the MNIST style ("...-idx3-ubyte"), so
 * that a damaged IDX file gets told what is wrong with it rather than
 * being tried as a video. */
static gboolean
is_idx (const char *path, const guint8 *head, gsize len)
{
  g_autofree char *base = g_path_get_basename (path);
  guint32 magic = peek_magic (path, head, len);

  if (magic == IDX_IMAGES_MAGIC || magic == IDX_LABELS_MAGIC)
    return TRUE;
  return strstr (base, "-idx") && strstr (base, "-ubyte");
}

/* zlib says "Need more input" of a gzip file cut short; say it plainly. */
static void
propagate_read_error (GError **error, GError *read_error, const char *path)
{
  if (g_error_matches (read_error, G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "%s: truncated: the compressed data end before the gzip stream does",
        path);
    g_error_free (read_error);
    return;
  }
  g_propagate_prefixed_error (error, read_error, "%s: ", path);
}

/* Reads an IDX file of unsigned bytes with @n_dims dimensions, checking
 * the header against the data: returns the dimensions and the payload
 * (g_free), exactly the product of the dimensions long. */
static guint8 *
read_idx (const char *path, guint32 want_magic, int n_dims, guint32 *dims,
    gsize *size_out, GError **error)
{
  g_autoptr (GInputStream) in = NULL;
  g_autofree guint8 *data = NULL;
  g_autofree char *what = NULL;
  guint8 header[16];
  const gsize header_len = 4 + 4 * (gsize) n_dims;
  gsize got = 0, len = 0, capacity = 0;
  guint64 size = 1;
  guint32 magic;
  guint8 extra;
  GError *read_error = NULL;

  in = open_maybe_gzip (path, error);
  if (!in)
    return NULL;

  if (!g_input_stream_read_all (in, header, header_len, &got, NULL,
          &read_error)) {
    propagate_read_error (error, read_error, path);
    return NULL;
  }
  if (got < 4) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "%s: truncated: %" G_GSIZE_FORMAT " bytes, too short for an IDX "
        "header", path, got);
    return NULL;
  }

  magic = read_be32 (header);
  if (magic != want_magic) {
    if (magic == IDX_LABELS_MAGIC)
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
          "%s: an IDX file of labels, not of images; give the images file",
          path);
    else
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
          "%s: not an IDX %s file: magic number 0x%08x, want 0x%08x", path,
          want_magic == IDX_IMAGES_MAGIC ? "images" : "labels", magic,
          want_magic);
    return NULL;
  }
  if (got < header_len) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "%s: truncated in the header: %" G_GSIZE_FORMAT " bytes of %"
        G_GSIZE_FORMAT, path, got, header_len);
    return NULL;
  }

  for (int d = 0; d < n_dims; d++) {
    dims[d] = read_be32 (header + 4 + 4 * d);
    /* Each factor is below 2^32, so testing before multiplying keeps the
     * product inside 64 bits. */
    if (dims[d] > 0 && size > G_MAXSIZE / dims[d]) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
          "%s: the header's dimensions multiply to more bytes than memory "
          "holds", path);
      return NULL;
    }
    size *= dims[d];
  }

  if (n_dims == 3) {
    if (dims[1] < 1 || dims[1] > MAX_SIDE || dims[2] < 1 ||
        dims[2] > MAX_SIDE) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
          "%s: implausible header: records of %ux%u pixels (a side must be "
          "1 to %d)", path, dims[2], dims[1], MAX_SIDE);
      return NULL;
    }
    if (dims[0] > G_MAXINT) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
          "%s: implausible header: %u records, more than %d", path, dims[0],
          G_MAXINT);
      return NULL;
    }
    what = g_strdup_printf ("%u records of %ux%u pixels (%" G_GUINT64_FORMAT
        " bytes)", dims[0], dims[2], dims[1], size);
  } else {
    what = g_strdup_printf ("%u labels", dims[0]);
  }
  /* The payload is returned as the sign of success: an empty one would
   * read as a failure without an error, and holds nothing to use. */
  if (size == 0) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "%s: the header announces no %s", path, n_dims == 3 ? "pictures"
        : "labels");
    return NULL;
  }

  /* Grow with the data that is really there: a header that lies about
   * its size costs nothing before the lie shows. */
  while (len < size) {
    gsize want = MIN (size - len, READ_CHUNK);
    if (len + want > capacity) {
      capacity = MIN (size, MAX (2 * capacity, len + want));
      data = g_realloc (data, capacity);
    }
    if (!g_input_stream_read_all (in, data + len, want, &got, NULL,
            &read_error)) {
      propagate_read_error (error, read_error, path);
      return NULL;
    }
    len += got;
    if (got < want)
      break;
  }
  if (len < size) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "%s: truncated: the header announces %s, but only %" G_GSIZE_FORMAT
        " bytes follow it", path, what, len);
    return NULL;
  }
  if (!g_input_stream_read_all (in, &extra, 1, &got, NULL, &read_error)) {
    propagate_read_error (error, read_error, path);
    return NULL;
  }
  if (got > 0) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "%s: the header announces %s, but more data follows them", path,
        what);
    return NULL;
  }

  *size_out = len;
  return g_steal_pointer (&data);
}

/* The labels beside an images file, named as MNIST names them:
 * train-images-idx3-ubyte.gz -> train-labels-idx1-ubyte.gz.  NULL when the
 * name does not follow that pattern. */
static char *
labels_path (const char *images)
{
  g_autofree char *dir = g_path_get_dirname (images);
  g_autofree char *base = g_path_get_basename (images);
  const char *at = strstr (base, "images-idx3");
  g_autofree char *head = NULL;
  g_autofree char *name = NULL;

  if (!at)
    return NULL;
  head = g_strndup (base, at - base);
  name = g_strconcat (head, "labels-idx1", at + strlen ("images-idx3"), NULL);
  return g_build_filename (dir, name, NULL);
}

static gboolean
load_idx (const char *path, const AnoganToolDataOptions *options,
    GPtrArray *pictures, GError **error)
{
  g_autofree guint8 *images = NULL;
  g_autofree guint8 *labels = NULL;
  g_autofree char *labels_file = labels_path (path);
  g_autoptr (GArray) chosen = g_array_new (FALSE, FALSE, sizeof (int));
  guint32 dims[3], label_dims[1];
  gsize size, label_size, record;
  int n;

  images = read_idx (path, IDX_IMAGES_MAGIC, 3, dims, &size, error);
  if (!images)
    return FALSE;
  n = (int) dims[0];
  record = (gsize) dims[1] * dims[2];

  if (labels_file && g_file_test (labels_file, G_FILE_TEST_EXISTS)) {
    labels = read_idx (labels_file, IDX_LABELS_MAGIC, 1, label_dims,
        &label_size, error);
    if (!labels)
      return FALSE;
    if (label_dims[0] != dims[0]) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
          "%s: %u labels for the %u records of %s", labels_file,
          label_dims[0], dims[0], path);
      return FALSE;
    }
  } else if (wants_class (options)) {
    if (labels_file)
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT,
          "%s: choosing a class needs its labels, %s, which is missing",
          path, labels_file);
    else
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT,
          "%s: choosing a class needs labels, found beside an images file "
          "whose name has \"images-idx3\" where the labels' has "
          "\"labels-idx1\"", path);
    return FALSE;
  }

  for (int i = 0; i < n; i++) {
    int label = labels ? labels[i] : -1;
    if (options->class_index >= 0 && label != options->class_index)
      continue;
    if (options->exclude_class >= 0 && label == options->exclude_class)
      continue;
    g_array_append_val (chosen, i);
  }
  if (chosen->len == 0) {
    if (wants_class (options))
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
          "%s: no record is left once classes are chosen (keeping %d, "
          "dropping %d; -1 is none)", path, options->class_index,
          options->exclude_class);
    else
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
          "%s: holds no records", path);
    return FALSE;
  }
  keep_subset (chosen, options);

  for (guint k = 0; k < chosen->len; k++) {
    int i = g_array_index (chosen, int, k);
    AnoganToolPicture *picture = picture_new (g_strdup_printf ("%s#%d",
            path, i), labels ? labels[i] : -1);
    anogan_tool_image_take_packed (&picture->image,
        g_memdup2 (images + (gsize) i * record, record), (int) dims[2],
        (int) dims[1], 1);
    /* Only records are padded: a dataset of 28x28 records padded to a
     * 32x32 model is the standard one-class protocol, while black borders
     * around a photo or a frame would teach or judge the model on
     * something the product never shows it. */
    anogan_tool_image_pad (&picture->image, options->min_width,
        options->min_height);
    g_ptr_array_add (pictures, picture);
  }
  return TRUE;
}

/* ---- pictures and directories ------------------------------------------- */

static gboolean
load_picture (const char *path, GPtrArray *pictures, GError **error)
{
  AnoganToolPicture *picture = picture_new (g_strdup (path), -1);

  if (!anogan_tool_image_load (&picture->image, path, error)) {
    anogan_tool_picture_free (picture);
    return FALSE;
  }
  g_ptr_array_add (pictures, picture);
  return TRUE;
}

static int
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

static gboolean
load_directory (const char *dir, const AnoganToolDataOptions *options,
    GPtrArray *pictures, GError **error)
{
  g_autoptr (GDir) listing = NULL;
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GArray) chosen = g_array_new (FALSE, FALSE, sizeof (int));
  g_autofree guint8 *head = g_malloc (SNIFF_BYTES);
  GError *dir_error = NULL;
  const char *name;

  listing = g_dir_open (dir, 0, &dir_error);
  if (!listing) {
    g_propagate_prefixed_error (error, dir_error, "%s: ", dir);
    return FALSE;
  }
  /* Hidden files are skipped: they are the system's (.DS_Store, macOS's
   * "._" companions of pictures), not the user's pictures. */
  while ((name = g_dir_read_name (listing)))
    if (name[0] != '.')
      g_ptr_array_add (names, g_strdup (name));
  /* Byte order, not the locale's collation: the same order everywhere. */
  g_ptr_array_sort (names, compare_names);

  for (guint i = 0; i < names->len; i++) {
    char *path = g_build_filename (dir, g_ptr_array_index (names, i), NULL);
    int index = paths->len;
    gsize len;

    /* An unreadable file is kept, so that loading it names the problem. */
    if (g_file_test (path, G_FILE_TEST_IS_DIR) ||
        (read_head (path, head, &len, NULL) &&
            !is_picture (path, head, len))) {
      g_free (path);
      continue;
    }
    g_array_append_val (chosen, index);
    g_ptr_array_add (paths, path);
  }
  if (paths->len == 0) {
    g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT,
        "%s: no pictures in this directory (of the formats gdk-pixbuf "
        "decodes: PNG, JPEG, ...)", dir);
    return FALSE;
  }
  keep_subset (chosen, options);

  for (guint k = 0; k < chosen->len; k++)
    if (!load_picture (g_ptr_array_index (paths, g_array_index (chosen, int,
                    k)), pictures, error))
      return FALSE;
  return TRUE;
}

/* ---- videos ------------------------------------------------------------- */

#define NO_VIDEO_MESSAGE "anogan-no-video-stream"

typedef struct {
  gint64 frame;
  AnoganToolPicture *picture;
} VideoSlot;

typedef struct {
  const char *path;
  const AnoganToolDataOptions *options;
  GstElement *pipeline;
  GstElement *convert;
  Reservoir reservoir;
  gint64 decoded;
  GArray *slots;
  GError *error;
} VideoReader;

static void
video_slot_clear (VideoSlot *slot)
{
  anogan_tool_picture_free (slot->picture);
}

static int
compare_slots (gconstpointer a, gconstpointer b)
{
  const gint64 x = ((const VideoSlot *) a)->frame;
  const gint64 y = ((const VideoSlot *) b)->frame;

  return (x > y) - (x < y);
}

/* "FILE@12.400s" from the frame's time stamp; "FILE@frame-N" for the rare
 * stream without one. */
static char *
frame_name (const char *path, GstClockTime pts, gint64 frame)
{
  if (GST_CLOCK_TIME_IS_VALID (pts))
    return g_strdup_printf ("%s@%.3fs", path, (double) pts / GST_SECOND);
  return g_strdup_printf ("%s@frame-%" G_GINT64_FORMAT, path, frame);
}

/* Runs in the streaming thread, one call per decoded frame; the main
 * thread only waits on the bus meanwhile, so nothing here needs a lock. */
static GstFlowReturn
on_new_sample (GstAppSink *sink, gpointer user_data)
{
  VideoReader *reader = user_data;
  g_autoptr (GstSample) sample = gst_app_sink_pull_sample (sink);
  const gint64 frame = reader->decoded++;
  VideoSlot slot;
  GstVideoInfo info;
  GstVideoFrame mapped;
  GstBuffer *buffer;
  gint64 index;

  if (!sample)
    return GST_FLOW_EOS;
  if (frame % reader->options->frame_interval != 0)
    return GST_FLOW_OK;
  index = reservoir_offer (&reader->reservoir);
  if (index < 0)
    return GST_FLOW_OK;

  buffer = gst_sample_get_buffer (sample);
  if (!buffer || !gst_video_info_from_caps (&info,
          gst_sample_get_caps (sample)) ||
      !gst_video_frame_map (&mapped, &info, buffer, GST_MAP_READ)) {
    g_set_error (&reader->error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "%s: frame %" G_GINT64_FORMAT " could not be read once decoded",
        reader->path, frame);
    return GST_FLOW_ERROR;
  }

  slot.frame = frame;
  slot.picture = picture_new (frame_name (reader->path,
          GST_BUFFER_PTS (buffer), frame), -1);
  anogan_tool_image_copy_rgb (&slot.picture->image,
      GST_VIDEO_FRAME_PLANE_DATA (&mapped, 0), GST_VIDEO_FRAME_WIDTH (&mapped),
      GST_VIDEO_FRAME_HEIGHT (&mapped),
      GST_VIDEO_FRAME_PLANE_STRIDE (&mapped, 0));
  gst_video_frame_unmap (&mapped);

  if (index == reader->slots->len) {
    g_array_append_val (reader->slots, slot);
  } else {
    VideoSlot *old = &g_array_index (reader->slots, VideoSlot, index);
    video_slot_clear (old);
    *old = slot;
  }
  return GST_FLOW_OK;
}

/* The first video stream goes to the converter; anything else (sound,
 * subtitles, a second video) to a sink of its own that drops it, so that
 * an unlinked stream cannot stop the demuxer. */
static void
on_pad_added (GstElement *decode, GstPad *pad, gpointer user_data)
{
  VideoReader *reader = user_data;
  g_autoptr (GstCaps) caps = gst_pad_get_current_caps (pad);
  g_autoptr (GstPad) convert_pad =
      gst_element_get_static_pad (reader->convert, "sink");
  const char *type = caps && gst_caps_get_size (caps) > 0 ?
      gst_structure_get_name (gst_caps_get_structure (caps, 0)) : "";
  GstElement *drop;
  g_autoptr (GstPad) drop_pad = NULL;

  if (g_str_has_prefix (type, "video/") && !gst_pad_is_linked (convert_pad) &&
      gst_pad_link (pad, convert_pad) == GST_PAD_LINK_OK)
    return;

  drop = gst_element_factory_make ("fakesink", NULL);
  if (!drop)
    return;
  g_object_set (drop, "sync", FALSE, "async", FALSE, NULL);
  gst_bin_add (GST_BIN (reader->pipeline), drop);
  gst_element_sync_state_with_parent (drop);
  drop_pad = gst_element_get_static_pad (drop, "sink");
  gst_pad_link (pad, drop_pad);
}

/* Without a video stream nothing reaches the appsink, which then neither
 * prerolls nor ends: the pipeline would wait for ever.  Tell the main
 * thread instead. */
static void
on_no_more_pads (GstElement *decode, gpointer user_data)
{
  VideoReader *reader = user_data;
  g_autoptr (GstPad) convert_pad =
      gst_element_get_static_pad (reader->convert, "sink");

  if (!gst_pad_is_linked (convert_pad))
    gst_element_post_message (reader->pipeline,
        gst_message_new_application (GST_OBJECT (decode),
            gst_structure_new_empty (NO_VIDEO_MESSAGE)));
}

static gboolean
make_elements (const char *path, GstElement **elements, const char **names,
    int n, GError **error)
{
  for (int i = 0; i < n; i++) {
    elements[i] = gst_element_factory_make (names[i], NULL);
    if (!elements[i]) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
          "%s: reading videos needs GStreamer's %s element, which is not "
          "installed (gstreamer1.0-plugins-base)", path, names[i]);
      for (int j = 0; j < i; j++)
        gst_object_unref (elements[j]);
      return FALSE;
    }
  }
  return TRUE;
}

/* Decodes every frame with GStreamer, to RGB; the image code then tells
 * grey frames from colour ones as it does for picture files. */
static gboolean
load_video (const char *path, const AnoganToolDataOptions *options,
    GPtrArray *pictures, GError **error)
{
  static const char *names[] = { "filesrc", "decodebin", "videoconvert",
    "appsink"
  };
  GstElement *e[G_N_ELEMENTS (names)];
  GstAppSinkCallbacks callbacks = { 0 };
  VideoReader reader = { 0 };
  g_autoptr (GstCaps) rgb = NULL;
  g_autoptr (GstBus) bus = NULL;
  g_autoptr (GstMessage) message = NULL;
  GError *init_error = NULL;
  gboolean ok = FALSE;

  if (!gst_init_check (NULL, NULL, &init_error)) {
    g_propagate_prefixed_error (error, init_error,
        "%s: GStreamer, which reads videos, does not start: ", path);
    return FALSE;
  }
  if (!make_elements (path, e, names, G_N_ELEMENTS (names), error))
    return FALSE;

  reader.path = path;
  reader.options = options;
  reader.pipeline = gst_pipeline_new (NULL);
  reader.convert = e[2];
  reservoir_init (&reader.reservoir, options);
  reader.slots = g_array_new (FALSE, FALSE, sizeof (VideoSlot));
  g_array_set_clear_func (reader.slots, (GDestroyNotify) video_slot_clear);

  g_object_set (e[0], "location", path, NULL);
  rgb = gst_caps_new_simple ("video/x-raw", "format", G_TYPE_STRING, "RGB",
      NULL);
  /* No clock: frames are wanted as fast as they decode. */
  g_object_set (e[3], "caps", rgb, "sync", FALSE, NULL);
  callbacks.new_sample = on_new_sample;
  gst_app_sink_set_callbacks (GST_APP_SINK (e[3]), &callbacks, &reader,
      NULL);
  gst_bin_add_many (GST_BIN (reader.pipeline), e[0], e[1], e[2], e[3], NULL);
  if (!gst_element_link (e[0], e[1]) || !gst_element_link (e[2], e[3])) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
        "%s: the decoding pipeline could not be built", path);
    goto out;
  }
  g_signal_connect (e[1], "pad-added", G_CALLBACK (on_pad_added), &reader);
  g_signal_connect (e[1], "no-more-pads", G_CALLBACK (on_no_more_pads),
      &reader);

  bus = gst_element_get_bus (reader.pipeline);
  if (gst_element_set_state (reader.pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE)
    message = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  else
    message = gst_bus_timed_pop_filtered (bus, GST_CLOCK_TIME_NONE,
        GST_MESSAGE_ERROR | GST_MESSAGE_EOS | GST_MESSAGE_APPLICATION);
  gst_element_set_state (reader.pipeline, GST_STATE_NULL);

  if (reader.error) {
    g_propagate_error (error, g_steal_pointer (&reader.error));
  } else if (message && GST_MESSAGE_TYPE (message) == GST_MESSAGE_APPLICATION) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "%s: no video stream in it", path);
  } else if (!message || GST_MESSAGE_TYPE (message) == GST_MESSAGE_ERROR) {
    g_autoptr (GError) gst_error = NULL;
    if (message)
      gst_message_parse_error (message, &gst_error, NULL);
    if (gst_error && g_error_matches (gst_error, GST_STREAM_ERROR,
            GST_STREAM_ERROR_TYPE_NOT_FOUND))
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
          "%s: neither a picture, an IDX file nor a video GStreamer can "
          "decode (%s)", path, gst_error->message);
    else
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
          "%s: cannot decode the video: %s", path,
          gst_error ? gst_error->message : "the pipeline did not start");
  } else if (reader.slots->len == 0) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "%s: no video frames in it", path);
  } else {
    g_array_sort (reader.slots, compare_slots);
    for (guint i = 0; i < reader.slots->len; i++)
      g_ptr_array_add (pictures,
          g_steal_pointer (&g_array_index (reader.slots, VideoSlot,
                  i).picture));
    ok = TRUE;
  }

out:
  gst_object_unref (reader.pipeline);
  g_array_unref (reader.slots);
  g_clear_error (&reader.error);
  return ok;
}

/* ---- sources ------------------------------------------------------------ */

/**
 * anogan_tool_data_load:
 * @source: a directory of pictures, a picture file, an IDX images file
 *   (plain or gzip-compressed) or a video file
 * @options: (nullable): how to read it; %NULL for the defaults of
 *   anogan_tool_data_options_init()
 * @error: return location for a #GError
 *
 * Reads the pictures of @source, telling its kind from the content: a
 * directory gives every picture file in it that gdk-pixbuf decodes, in
 * byte order of their names, skipping other files, subdirectories and
 * hidden files; an IDX file gives its records, labelled from the labels
 * file beside it when there is one; a video gives every
 * @options->frame_interval-th frame.  See docs/anogan-data.md.
 *
 * Class filters need an IDX source with labels.  With a limit, a seeded
 * random choice of exactly that many pictures is kept, in source order.
 * IDX records smaller than the minimum size are padded, centred, with
 * black; pictures and video frames are left as they are, and a picture
 * smaller than a patch is an error when it is cut or scored.
 *
 * Returns: (transfer full): the pictures (#AnoganToolPicture, freed with
 * the array), in source order, at least one; %NULL with @error set if the
 * source cannot be read, is damaged, or yields no picture
 */
GPtrArray *
anogan_tool_data_load (const char *source,
    const AnoganToolDataOptions *options, GError **error)
{
  static const char *kind_names[] = { "a directory", "a picture", "a video" };
  enum { DIRECTORY, PICTURE, VIDEO } kind;
  g_autoptr (GPtrArray) pictures = NULL;
  AnoganToolDataOptions defaults;
  gboolean ok;

  g_return_val_if_fail (source != NULL, NULL);

  if (!options) {
    anogan_tool_data_options_init (&defaults);
    options = &defaults;
  }
  if (!check_options (source, options, error))
    return NULL;

  pictures = g_ptr_array_new_with_free_func ((GDestroyNotify)
      anogan_tool_picture_free);

  if (g_file_test (source, G_FILE_TEST_IS_DIR)) {
    kind = DIRECTORY;
  } else {
    g_autofree guint8 *head = g_malloc (SNIFF_BYTES);
    gsize len;

    if (!read_head (source, head, &len, error))
      return NULL;
    if (is_idx (source, head, len))
      return load_idx (source, options, pictures, error) ?
          g_steal_pointer (&pictures) : NULL;
    kind = is_picture (source, head, len) ? PICTURE : VIDEO;
  }

  if (wants_class (options)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "%s: choosing a class needs an IDX file with labels, and this is %s",
        source, kind_names[kind]);
    return NULL;
  }

  if (kind == DIRECTORY)
    ok = load_directory (source, options, pictures, error);
  else if (kind == PICTURE)
    ok = load_picture (source, pictures, error);
  else
    ok = load_video (source, options, pictures, error);
  return ok ? g_steal_pointer (&pictures) : NULL;
}

/* ---- patches ------------------------------------------------------------ */

/**
 * anogan_tool_data_patches:
 * @pictures: (element-type AnoganToolPicture): pictures from
 *   anogan_tool_data_load()
 * @channels: the model's channels, 1 or 3
 * @height: patch height (the model's input height)
 * @width: patch width
 * @stride: step between patches along both axes, 1 to the patch size
 * @n_patches: (out): number of patches returned
 * @error: return location for a #GError
 *
 * Cuts every picture into patches the way anoganfilter and anogan-score
 * tile at inference (anogan_tiling_init(): steps of @stride from the top
 * left, the last column and row flush with the border) and converts them
 * with anogan_extract_patches(): v / 127.5 - 1, BT.601 luma for a
 * one-channel model fed colour, grey replicated for a three-channel model.
 *
 * Returns: (transfer full): *@n_patches patches of @channels × @height ×
 * @width floats, NCHW, the pictures' patches one picture after the other
 * (g_free); %NULL with @error set if a picture is smaller than a patch
 * (anogan_tool_picture_check_size()), an argument is out of range, or the
 * patches would not fit in memory
 */
float *
anogan_tool_data_patches (GPtrArray *pictures, int channels, int height,
    int width, int stride, gsize *n_patches, GError **error)
{
  g_autofree AnoganTiling *tilings = NULL;
  gsize patch, total = 0, floats;
  float *patches = NULL, *out;
  guint done = 0;

  g_return_val_if_fail (pictures != NULL && n_patches != NULL, NULL);
  *n_patches = 0;

  if (channels != 1 && channels != 3) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "Patches have 1 or 3 channels, not %d", channels);
    return NULL;
  }
  if (height < 1 || height > MAX_SIDE || width < 1 || width > MAX_SIDE) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "Patch size %dx%d is out of range (1 to %d a side)", width, height,
        MAX_SIDE);
    return NULL;
  }
  /* Checked here rather than left to the tiling, whose message would name
   * the first picture as if it were at fault. */
  if (stride < 1 || stride > MIN (width, height)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "Stride %d must be between 1 and the patch size %dx%d, or pixels "
        "between patches would be missed", stride, width, height);
    return NULL;
  }
  if (pictures->len == 0) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "No pictures to cut into patches");
    return NULL;
  }
  patch = (gsize) channels * height * width;

  tilings = g_new0 (AnoganTiling, pictures->len);
  for (; done < pictures->len; done++) {
    const AnoganToolPicture *picture = g_ptr_array_index (pictures, done);
    /* Before the tiling, which would call a small picture a bad argument
     * and name one axis only. */
    if (!anogan_tool_picture_check_size (picture, width, height, "patch",
            error))
      goto out;
    if (!anogan_tiling_init (&tilings[done], picture->image.width,
            picture->image.height, width, height, stride, stride, error)) {
      g_prefix_error (error, "%s: ", picture->name);
      goto out;
    }
    total += anogan_tiling_count (&tilings[done]);
    /* The search counts patches in an int. */
    if (total > G_MAXINT) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
          "More than %d patches of %dx%d with stride %d: take fewer "
          "pictures or a larger stride", G_MAXINT, width, height, stride);
      done++;
      goto out;
    }
  }

  if (!g_size_checked_mul (&floats, total, patch) ||
      floats > G_MAXSIZE / sizeof (float) ||
      !(patches = g_try_malloc (floats * sizeof (float)))) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE,
        "%" G_GSIZE_FORMAT " patches of %dx%dx%d need %.1f GiB, more memory "
        "than there is: take fewer pictures or a larger stride", total,
        channels, height, width,
        (double) total * patch * sizeof (float) / (1 << 30));
    goto out;
  }

  out = patches;
  for (guint i = 0; i < pictures->len; i++) {
    const AnoganToolPicture *picture = g_ptr_array_index (pictures, i);
    anogan_extract_patches (picture->image.pixels, &picture->image.layout,
        &tilings[i], channels, out);
    out += (gsize) anogan_tiling_count (&tilings[i]) * patch;
  }
  *n_patches = total;

out:
  for (guint i = 0; i < done; i++)
    anogan_tiling_clear (&tilings[i]);
  return patches;
}
