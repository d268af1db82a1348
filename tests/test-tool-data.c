/* test-tool-data.c: the tools' picture sources and their patches
 *
 * Copyright (C) 2026 the gst-anogan authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Every source is written by the test itself into a temporary directory,
 * with contents it knows: IDX files byte by byte, pictures through
 * gdk-pixbuf, a video through GStreamer.
 */
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <gst/gst.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "anogan-test-util.h"
#include "anogan-tool-data.h"

static char *tmp_dir;

/* ---- writing sources ---------------------------------------------------- */

static char *
tmp_path (const char *name)
{
  return g_build_filename (tmp_dir, name, NULL);
}

static void
write_file (const char *path, const void *data, gsize len)
{
  GError *error = NULL;

  g_assert_true (g_file_set_contents (path, data, len, &error));
  g_assert_no_error (error);
}

static void
write_gzip (const char *path, const void *data, gsize len)
{
  g_autoptr (GZlibCompressor) gzip =
      g_zlib_compressor_new (G_ZLIB_COMPRESSOR_FORMAT_GZIP, 9);
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autoptr (GFileOutputStream) raw = NULL;
  g_autoptr (GOutputStream) out = NULL;
  GError *error = NULL;
  gsize written;

  raw = g_file_replace (file, NULL, FALSE, G_FILE_CREATE_NONE, NULL, &error);
  g_assert_no_error (error);
  out = g_converter_output_stream_new (G_OUTPUT_STREAM (raw),
      G_CONVERTER (gzip));
  g_assert_true (g_output_stream_write_all (out, data, len, &written, NULL,
          &error));
  g_assert_no_error (error);
  g_assert_true (g_output_stream_close (out, NULL, &error));
  g_assert_no_error (error);
}

static void
put_be32 (GByteArray *bytes, guint32 v)
{
  guint8 b[4] = { v >> 24, v >> 16, v >> 8, v };
  g_byte_array_append (bytes, b, 4);
}

/* The known sample of record i at row y, column x. */
static guint8
record_sample (int i, int y, int x)
{
  return (guint8) (17 + 40 * i + 7 * y + 3 * x);
}

/* An IDX images file of n records of rows x cols, as MNIST lays it out. */
static GByteArray *
idx_images (guint32 magic, int n, int rows, int cols)
{
  GByteArray *bytes = g_byte_array_new ();

  put_be32 (bytes, magic);
  put_be32 (bytes, n);
  put_be32 (bytes, rows);
  put_be32 (bytes, cols);
  for (int i = 0; i < n; i++)
    for (int y = 0; y < rows; y++)
      for (int x = 0; x < cols; x++) {
        guint8 v = record_sample (i, y, x);
        g_byte_array_append (bytes, &v, 1);
      }
  return bytes;
}

static GByteArray *
idx_labels (const guint8 *labels, int n)
{
  GByteArray *bytes = g_byte_array_new ();

  put_be32 (bytes, 0x00000801);
  put_be32 (bytes, n);
  g_byte_array_append (bytes, labels, n);
  return bytes;
}

static const guint8 five_labels[] = { 3, 1, 3, 0, 2 };

/* 5 records of 4x3 (cols x rows) and their labels, plain or gzip. */
static char *
write_idx_pair (const char *prefix, gboolean gz, gboolean with_labels)
{
  g_autoptr (GByteArray) images = idx_images (0x00000803, 5, 3, 4);
  g_autoptr (GByteArray) labels = idx_labels (five_labels, 5);
  g_autofree char *images_name = g_strconcat (prefix, "-images-idx3-ubyte",
      gz ? ".gz" : "", NULL);
  g_autofree char *labels_name = g_strconcat (prefix, "-labels-idx1-ubyte",
      gz ? ".gz" : "", NULL);
  char *images_path = tmp_path (images_name);
  g_autofree char *labels_path = tmp_path (labels_name);

  if (gz) {
    write_gzip (images_path, images->data, images->len);
    if (with_labels)
      write_gzip (labels_path, labels->data, labels->len);
  } else {
    write_file (images_path, images->data, images->len);
    if (with_labels)
      write_file (labels_path, labels->data, labels->len);
  }
  return images_path;
}

/* A PNG whose pixel (x, y) is colour (x, y) below, grey when @grey. */
static guint8
png_sample (gboolean grey, int x, int y, int c)
{
  if (grey)
    return (guint8) (9 + 21 * x + 13 * y);
  return (guint8) (30 * x + 50 * y + 70 * c + (c == 1 ? 5 : 0));
}

static void
write_png (const char *path, int width, int height, gboolean grey)
{
  g_autoptr (GdkPixbuf) pixbuf = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8,
      width, height);
  guint8 *pixels = gdk_pixbuf_get_pixels (pixbuf);
  int stride = gdk_pixbuf_get_rowstride (pixbuf);
  GError *error = NULL;

  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++)
      for (int c = 0; c < 3; c++)
        pixels[y * stride + 3 * x + c] = png_sample (grey, x, y, c);
  g_assert_true (gdk_pixbuf_save (pixbuf, path, "png", &error, NULL));
  g_assert_no_error (error);
}

static void
write_jpeg (const char *path, int width, int height)
{
  g_autoptr (GdkPixbuf) pixbuf = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8,
      width, height);
  GError *error = NULL;

  gdk_pixbuf_fill (pixbuf, 0x4080c000);
  g_assert_true (gdk_pixbuf_save (pixbuf, path, "jpeg", &error, NULL));
  g_assert_no_error (error);
}

/* ---- reading results ---------------------------------------------------- */

static guint8
sample_at (const AnoganToolImage *image, int x, int y, int c)
{
  const AnoganPixelLayout *l = &image->layout;

  g_assert_cmpint (x, >=, 0);
  g_assert_cmpint (x, <, image->width);
  g_assert_cmpint (y, >=, 0);
  g_assert_cmpint (y, <, image->height);
  return image->pixels[(gsize) y * l->row_stride + (gsize) x *
      l->pixel_stride + l->offsets[c]];
}

static AnoganToolPicture *
picture_at (GPtrArray *pictures, guint i)
{
  g_assert_cmpuint (i, <, pictures->len);
  return g_ptr_array_index (pictures, i);
}

/* The record number in a "FILE#INDEX" name. */
static int
record_of (const AnoganToolPicture *picture, const char *path)
{
  g_autofree char *prefix = g_strconcat (path, "#", NULL);

  g_assert_true (g_str_has_prefix (picture->name, prefix));
  return atoi (picture->name + strlen (prefix));
}

static void
check_record (const AnoganToolPicture *picture, int i)
{
  g_assert_cmpint (picture->image.width, ==, 4);
  g_assert_cmpint (picture->image.height, ==, 3);
  g_assert_cmpint (picture->image.layout.components, ==, 1);
  for (int y = 0; y < 3; y++)
    for (int x = 0; x < 4; x++)
      g_assert_cmpuint (sample_at (&picture->image, x, y, 0), ==,
          record_sample (i, y, x));
}

static GPtrArray *
load_ok (const char *source, const AnoganToolDataOptions *options)
{
  GError *error = NULL;
  GPtrArray *pictures = anogan_tool_data_load (source, options, &error);

  g_assert_no_error (error);
  g_assert_nonnull (pictures);
  return pictures;
}

/* Loading must fail with one line that names @names and says @says. */
static void
load_fails (const char *source, const AnoganToolDataOptions *options,
    const char *names, const char *says)
{
  GError *error = NULL;
  GPtrArray *pictures = anogan_tool_data_load (source, options, &error);

  g_assert_null (pictures);
  g_assert_nonnull (error);
  if (!strstr (error->message, names) || (says && !strstr (error->message,
              says)) || strchr (error->message, '\n'))
    g_error ("error \"%s\" should name %s and say \"%s\"", error->message,
        names, says ? says : "");
  g_test_message ("as expected: %s", error->message);
  g_error_free (error);
}

/* ---- IDX ---------------------------------------------------------------- */

static void
check_idx_source (gboolean gz)
{
  g_autofree char *bare = write_idx_pair (gz ? "bare-gz" : "bare", gz, FALSE);
  g_autofree char *path = write_idx_pair (gz ? "gz" : "plain", gz, TRUE);
  g_autoptr (GPtrArray) unlabelled = load_ok (bare, NULL);
  g_autoptr (GPtrArray) all = load_ok (path, NULL);

  g_assert_cmpuint (unlabelled->len, ==, 5);
  g_assert_cmpuint (all->len, ==, 5);
  for (int i = 0; i < 5; i++) {
    AnoganToolPicture *p = picture_at (unlabelled, i);
    g_autofree char *name = g_strdup_printf ("%s#%d", bare, i);
    g_assert_cmpstr (p->name, ==, name);
    g_assert_cmpint (p->label, ==, -1);
    check_record (p, i);

    p = picture_at (all, i);
    g_assert_cmpint (record_of (p, path), ==, i);
    g_assert_cmpint (p->label, ==, five_labels[i]);
    check_record (p, i);
  }
}

static void
test_idx_plain (void)
{
  check_idx_source (FALSE);
}

static void
test_idx_gzip (void)
{
  check_idx_source (TRUE);
}

/* Loading @path keeping @keep and dropping @drop gives records @want, with
 * their labels and samples. */
static void
check_classes (const char *path, int keep, int drop, const int *want,
    guint n_want)
{
  AnoganToolDataOptions options;
  g_autoptr (GPtrArray) pictures = NULL;

  anogan_tool_data_options_init (&options);
  options.class_index = keep;
  options.exclude_class = drop;
  pictures = load_ok (path, &options);
  g_assert_cmpuint (pictures->len, ==, n_want);
  for (guint k = 0; k < n_want; k++) {
    AnoganToolPicture *p = picture_at (pictures, k);
    g_assert_cmpint (record_of (p, path), ==, want[k]);
    g_assert_cmpint (p->label, ==, five_labels[want[k]]);
    check_record (p, want[k]);
  }
}

static void
test_idx_classes (void)
{
  g_autofree char *path = write_idx_pair ("classes", TRUE, TRUE);
  g_autofree char *bare = write_idx_pair ("classes-bare", FALSE, FALSE);
  AnoganToolDataOptions options;
  const int want_kept[] = { 0, 2 }, want_dropped[] = { 1, 3, 4 };

  check_classes (path, 3, -1, want_kept, G_N_ELEMENTS (want_kept));
  check_classes (path, -1, 3, want_dropped, G_N_ELEMENTS (want_dropped));
  check_classes (path, 3, 0, want_kept, G_N_ELEMENTS (want_kept));

  /* A class nobody has, and a class filter without labels. */
  anogan_tool_data_options_init (&options);
  options.class_index = 7;
  load_fails (path, &options, path, "no record");
  options.class_index = 3;
  load_fails (bare, &options, "classes-bare-labels-idx1-ubyte", "missing");
  anogan_tool_data_options_init (&options);
  options.exclude_class = 0;
  load_fails (bare, &options, bare, "labels");
}

/* Writes @len bytes of @data as @name in the temporary directory,
 * gzip-compressed when the name ends in ".gz", and checks that loading it
 * fails with an error naming it and saying @says. */
static void
broken_idx (const char *name, const guint8 *data, gsize len, const char *says)
{
  g_autofree char *path = tmp_path (name);

  if (g_str_has_suffix (name, ".gz"))
    write_gzip (path, data, len);
  else
    write_file (path, data, len);
  load_fails (path, NULL, path, says);
}

static void
test_idx_errors (void)
{
  g_autoptr (GByteArray) good = idx_images (0x00000803, 5, 3, 4);
  g_autoptr (GByteArray) labels = idx_labels (five_labels, 5);
  g_autoptr (GByteArray) short_labels = idx_labels (five_labels, 4);
  g_autoptr (GByteArray) bad_magic = idx_images (0x00000804, 5, 3, 4);
  g_autoptr (GByteArray) flat = idx_images (0x00000803, 5, 0, 4);
  g_autoptr (GByteArray) huge = g_byte_array_new ();
  g_autofree char *cut_gz = tmp_path ("cutgz-images-idx3-ubyte.gz");
  g_autofree char *mismatch = tmp_path ("mismatch-images-idx3-ubyte");
  g_autofree char *mismatch_labels = tmp_path ("mismatch-labels-idx1-ubyte");
  g_autofree char *content_only = tmp_path ("no-idx-in-this-name.bin");
  g_autofree char *gz_bytes = NULL;
  g_autoptr (GPtrArray) pictures = NULL;
  gsize gz_len;
  GError *error = NULL;

  broken_idx ("truncated-images-idx3-ubyte", good->data, good->len - 5,
      "truncated");
  broken_idx ("truncgz-images-idx3-ubyte.gz", good->data, good->len - 5,
      "truncated");
  broken_idx ("header-images-idx3-ubyte", good->data, 10, "header");
  broken_idx ("magic-images-idx3-ubyte", bad_magic->data, bad_magic->len,
      "0x00000804");
  broken_idx ("magicgz-images-idx3-ubyte.gz", bad_magic->data,
      bad_magic->len, "magic");
  broken_idx ("flat-images-idx3-ubyte", flat->data, flat->len,
      "implausible");
  broken_idx ("alone-labels-idx1-ubyte", labels->data, labels->len,
      "labels");

  /* A gzip file cut short is broken below the IDX layer. */
  write_gzip (cut_gz, good->data, good->len);
  g_assert_true (g_file_get_contents (cut_gz, &gz_bytes, &gz_len, &error));
  g_assert_no_error (error);
  write_file (cut_gz, gz_bytes, gz_len / 2);
  load_fails (cut_gz, NULL, cut_gz, "truncated");

  write_file (mismatch, good->data, good->len);
  write_file (mismatch_labels, short_labels->data, short_labels->len);
  load_fails (mismatch, NULL, mismatch_labels, "4 labels");

  /* A header announcing 2^32 - 1 records of 16384x16384 must not make the
   * reader allocate what it announces. */
  put_be32 (huge, 0x00000803);
  put_be32 (huge, 0xffffffffu);
  put_be32 (huge, 16384);
  put_be32 (huge, 16384);
  g_byte_array_append (huge, good->data + 16, 60);
  broken_idx ("huge-images-idx3-ubyte", huge->data, huge->len, "implausible");
  /* 2^31 - 1 records fit an int, and their 2^59 bytes a gsize: only the
   * missing data can stop this one. */
  huge->data[4] = 0x7f;
  broken_idx ("huge-images-idx3-ubyte", huge->data, huge->len, "truncated");

  g_byte_array_append (good, (const guint8 *) "xy", 2);
  broken_idx ("trailing-images-idx3-ubyte", good->data, good->len,
      "more data");
  g_byte_array_set_size (good, good->len - 2);

  /* Told by content alone: no "idx" in the name. */
  write_file (content_only, good->data, good->len);
  pictures = load_ok (content_only, NULL);
  g_assert_cmpuint (pictures->len, ==, 5);
  check_record (picture_at (pictures, 4), 4);
}

/* ---- limit -------------------------------------------------------------- */

/* The record numbers a limited load keeps, checked to be strictly
 * ascending. */
static GArray *
limited_records (const char *path, int limit, guint64 seed)
{
  AnoganToolDataOptions options;
  g_autoptr (GPtrArray) pictures = NULL;
  GArray *records = g_array_new (FALSE, FALSE, sizeof (int));

  anogan_tool_data_options_init (&options);
  options.limit = limit;
  options.seed = seed;
  pictures = load_ok (path, &options);
  for (guint i = 0; i < pictures->len; i++) {
    AnoganToolPicture *p = picture_at (pictures, i);
    int r = record_of (p, path);
    if (i > 0)
      g_assert_cmpint (r, >, g_array_index (records, int, i - 1));
    check_record (p, r);
    g_array_append_val (records, r);
  }
  return records;
}

/* A limited load of @source keeps exactly @limit pictures, the same ones
 * when loaded again, in source order (which the byte order of the names
 * follows for the sources given here). */
static void
check_limited_names (const char *source, int limit, guint64 seed)
{
  AnoganToolDataOptions options;
  g_autoptr (GPtrArray) first = NULL;
  g_autoptr (GPtrArray) again = NULL;

  anogan_tool_data_options_init (&options);
  options.limit = limit;
  options.seed = seed;
  first = load_ok (source, &options);
  again = load_ok (source, &options);
  g_assert_cmpuint (first->len, ==, limit);
  g_assert_cmpuint (again->len, ==, limit);
  for (int i = 0; i < limit; i++) {
    g_assert_cmpstr (picture_at (first, i)->name, ==,
        picture_at (again, i)->name);
    if (i > 0)
      g_assert_cmpint (strcmp (picture_at (first, i - 1)->name,
              picture_at (first, i)->name), <, 0);
  }
}

static gboolean
same_records (GArray *a, GArray *b)
{
  return a->len == b->len &&
      memcmp (a->data, b->data, a->len * sizeof (int)) == 0;
}

static void
test_limit (void)
{
  g_autoptr (GByteArray) forty = NULL;
  g_autofree char *path = tmp_path ("forty-images-idx3-ubyte");
  g_autoptr (GArray) a = NULL;
  g_autoptr (GArray) again = NULL;
  g_autoptr (GArray) other = NULL;
  g_autoptr (GArray) all = NULL;
  g_autoptr (GArray) exact = NULL;
  guint hits[40] = { 0 };
  g_autofree char *dir = tmp_path ("limit-dir");

  forty = idx_images (0x00000803, 40, 3, 4);
  write_file (path, forty->data, forty->len);

  a = limited_records (path, 10, 1);
  again = limited_records (path, 10, 1);
  other = limited_records (path, 10, 2);
  g_assert_cmpuint (a->len, ==, 10);
  g_assert_cmpuint (other->len, ==, 10);
  g_assert_true (same_records (a, again));
  g_assert_false (same_records (a, other));

  all = limited_records (path, 40, 1);
  g_assert_cmpuint (all->len, ==, 40);
  exact = limited_records (path, 0, 1);
  g_assert_cmpuint (exact->len, ==, 40);

  /* A fair choice reaches every record: 200 seeds of 10 out of 40 hit
   * each one about 50 times; a choice biased to the start or the end
   * would leave some at 0. */
  for (guint64 seed = 0; seed < 200; seed++) {
    g_autoptr (GArray) r = limited_records (path, 10, seed);
    g_assert_cmpuint (r->len, ==, 10);
    for (guint i = 0; i < r->len; i++)
      hits[g_array_index (r, int, i)]++;
  }
  for (int i = 0; i < 40; i++)
    g_assert_cmpuint (hits[i], >, 20);

  /* Directories too, on names. */
  g_assert_cmpint (g_mkdir (dir, 0700), ==, 0);
  for (int i = 0; i < 6; i++) {
    g_autofree char *name = g_strdup_printf ("p%d.png", i);
    g_autofree char *file = g_build_filename (dir, name, NULL);
    write_png (file, 3, 2, FALSE);
  }
  check_limited_names (dir, 4, 5);
}

/* ---- padding ------------------------------------------------------------ */

static void
check_padded_record (const AnoganToolPicture *p, int record, int width,
    int height, int left, int top)
{
  const AnoganToolImage *image = &p->image;

  g_assert_cmpint (image->width, ==, width);
  g_assert_cmpint (image->height, ==, height);
  g_assert_cmpint (image->layout.components, ==, 1);
  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++) {
      gboolean inside = x >= left && x < left + 4 && y >= top && y < top + 3;
      guint8 want = inside ? record_sample (record, y - top, x - left) : 0;
      g_assert_cmpuint (sample_at (image, x, y, 0), ==, want);
    }
}

/* A picture loaded as it is in the file, @width x @height, with a
 * minimum size set larger: nothing added around it. */
static void
check_not_padded (const AnoganToolPicture *p, int width, int height)
{
  const AnoganToolImage *image = &p->image;

  g_assert_cmpint (image->width, ==, width);
  g_assert_cmpint (image->height, ==, height);
  g_assert_cmpint (image->layout.components, ==, 3);
  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++)
      for (int c = 0; c < 3; c++)
        g_assert_cmpuint (sample_at (image, x, y, c), ==,
            png_sample (FALSE, x, y, c));
}

static void
test_padding (void)
{
  g_autofree char *path = write_idx_pair ("pad", FALSE, FALSE);
  g_autofree char *dir = tmp_path ("pad-dir");
  g_autofree char *png = g_build_filename (dir, "pad-colour.png", NULL);
  AnoganToolDataOptions options;

  anogan_tool_data_options_init (&options);
  /* 4x3 -> 8x7: 2 pixels on each side, as 28x28 -> 32x32 gets. */
  options.min_width = 8;
  options.min_height = 7;
  {
    g_autoptr (GPtrArray) pictures = load_ok (path, &options);
    for (int i = 0; i < 5; i++)
      check_padded_record (picture_at (pictures, i), i, 8, 7, 2, 2);
  }

  /* Odd margins: the extra pixel goes right and below.  A minimum below
   * the size changes nothing along that axis. */
  options.min_width = 7;
  options.min_height = 2;
  {
    g_autoptr (GPtrArray) pictures = load_ok (path, &options);
    check_padded_record (picture_at (pictures, 3), 3, 7, 3, 1, 0);
  }

  /* Pictures are never padded, alone or in a directory: black borders
   * would train and judge the model on what the product never shows. */
  g_assert_cmpint (g_mkdir (dir, 0700), ==, 0);
  write_png (png, 3, 2, FALSE);
  options.min_width = 5;
  options.min_height = 6;
  {
    g_autoptr (GPtrArray) pictures = load_ok (png, &options);
    g_assert_cmpuint (pictures->len, ==, 1);
    check_not_padded (picture_at (pictures, 0), 3, 2);
  }
  {
    g_autoptr (GPtrArray) pictures = load_ok (dir, &options);
    g_assert_cmpuint (pictures->len, ==, 1);
    check_not_padded (picture_at (pictures, 0), 3, 2);
  }

  options.min_width = -1;
  load_fails (png, &options, png, "out of range");
}

/* ---- directories and single pictures ------------------------------------ */

static void
test_directory (void)
{
  g_autofree char *dir = tmp_path ("pictures");
  g_autofree char *sub = g_build_filename (dir, "sub", NULL);
  g_autofree char *a = g_build_filename (dir, "a.png", NULL);
  g_autofree char *b = g_build_filename (dir, "B-upper.png", NULL);
  g_autofree char *c = g_build_filename (dir, "c.jpg", NULL);
  g_autofree char *noext = g_build_filename (dir, "d-no-extension", NULL);
  g_autofree char *hidden = g_build_filename (dir, ".hidden.png", NULL);
  g_autofree char *inner = g_build_filename (sub, "inner.png", NULL);
  g_autofree char *notes_in_sub = g_build_filename (sub, "notes.txt", NULL);
  g_autofree char *readme = g_build_filename (dir, "README", NULL);
  g_autofree char *notes = g_build_filename (dir, "notes.txt", NULL);
  g_autofree char *idx = g_build_filename (dir, "x-images-idx3-ubyte.gz",
      NULL);
  g_autofree char *broken = g_build_filename (dir, "broken.png", NULL);
  g_autoptr (GByteArray) records = idx_images (0x00000803, 5, 3, 4);
  g_autoptr (GPtrArray) pictures = NULL;
  const char *text = "Pictures of good parts.\n";
  const guint8 png_then_garbage[] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a,
    '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R', 1, 2, 3
  };
  AnoganToolDataOptions options;

  g_assert_cmpint (g_mkdir (dir, 0700), ==, 0);
  g_assert_cmpint (g_mkdir (sub, 0700), ==, 0);
  write_png (a, 5, 4, TRUE);
  write_png (b, 6, 3, FALSE);
  write_jpeg (c, 16, 8);
  write_png (noext, 2, 2, TRUE);
  write_png (hidden, 2, 2, TRUE);
  write_png (inner, 2, 2, TRUE);
  write_file (readme, text, strlen (text));
  write_file (notes, text, strlen (text));
  write_gzip (idx, records->data, records->len);

  /* Byte order puts upper case first; the file without extension is a
   * picture by its content. */
  pictures = load_ok (dir, NULL);
  g_assert_cmpuint (pictures->len, ==, 4);
  g_assert_cmpstr (picture_at (pictures, 0)->name, ==, b);
  g_assert_cmpstr (picture_at (pictures, 1)->name, ==, a);
  g_assert_cmpstr (picture_at (pictures, 2)->name, ==, c);
  g_assert_cmpstr (picture_at (pictures, 3)->name, ==, noext);

  {
    const AnoganToolImage *im = &picture_at (pictures, 0)->image;
    g_assert_cmpint (im->width, ==, 6);
    g_assert_cmpint (im->height, ==, 3);
    g_assert_cmpint (im->layout.components, ==, 3);
    for (int y = 0; y < 3; y++)
      for (int x = 0; x < 6; x++)
        for (int k = 0; k < 3; k++)
          g_assert_cmpuint (sample_at (im, x, y, k), ==,
              png_sample (FALSE, x, y, k));

    im = &picture_at (pictures, 1)->image;
    g_assert_cmpint (im->width, ==, 5);
    g_assert_cmpint (im->height, ==, 4);
    g_assert_cmpint (im->layout.components, ==, 1);
    for (int y = 0; y < 4; y++)
      for (int x = 0; x < 5; x++)
        g_assert_cmpuint (sample_at (im, x, y, 0), ==,
            png_sample (TRUE, x, y, 0));

    im = &picture_at (pictures, 2)->image;
    g_assert_cmpint (im->width, ==, 16);
    g_assert_cmpint (im->height, ==, 8);
    g_assert_cmpint (im->layout.components, ==, 3);
  }
  for (guint i = 0; i < pictures->len; i++)
    g_assert_cmpint (picture_at (pictures, i)->label, ==, -1);

  /* One picture alone. */
  {
    g_autoptr (GPtrArray) one = load_ok (b, NULL);
    g_assert_cmpuint (one->len, ==, 1);
    g_assert_cmpstr (picture_at (one, 0)->name, ==, b);
    g_assert_cmpint (picture_at (one, 0)->image.width, ==, 6);
  }

  /* Classes are for IDX files. */
  anogan_tool_data_options_init (&options);
  options.class_index = 1;
  load_fails (dir, &options, dir, "IDX");
  load_fails (a, &options, a, "IDX");

  /* A picture that does not decode stops the load, by name. */
  write_file (broken, png_then_garbage, sizeof png_then_garbage);
  load_fails (dir, NULL, "broken.png", NULL);
  load_fails (broken, NULL, "broken.png", NULL);
  g_assert_cmpint (g_unlink (broken), ==, 0);

  /* Text named like a picture is taken for a broken picture; nothing but
   * other files is no picture at all. */
  write_file (inner, text, strlen (text));
  load_fails (sub, NULL, "inner.png", NULL);
  g_assert_cmpint (g_rename (inner, notes_in_sub), ==, 0);
  load_fails (sub, NULL, sub, "no pictures");

  {
    g_autofree char *missing = tmp_path ("no-such-source");
    load_fails (missing, NULL, missing, NULL);
  }
}

/* ---- patches ------------------------------------------------------------ */

/* Tile origins along one axis, by the rule and independently of the
 * library: steps of the stride while they fit, then one flush with the
 * border if pixels are left over. */
static int
origins (int extent, int tile, int stride, int *out)
{
  int n = 0;

  for (int o = 0; o + tile <= extent; o += stride)
    out[n++] = o;
  if (out[n - 1] + tile < extent)
    out[n++] = extent - tile;
  return n;
}

/* The model input of channel @c at (x, y) of a picture, computed in double
 * from the samples. */
static double
expected_input (const AnoganToolImage *image, int channels, int c, int x,
    int y)
{
  if (image->layout.components == 1)
    return sample_at (image, x, y, 0) / 127.5 - 1.0;
  if (channels == 3)
    return sample_at (image, x, y, c) / 127.5 - 1.0;
  return (0.299 * sample_at (image, x, y, 0) + 0.587 * sample_at (image, x,
          y, 1) + 0.114 * sample_at (image, x, y, 2)) / 127.5 - 1.0;
}

static void
check_patches (GPtrArray *pictures, int channels, int height, int width,
    int stride)
{
  GError *error = NULL;
  gsize n = 0, k = 0;
  g_autofree float *patches = anogan_tool_data_patches (pictures, channels,
      height, width, stride, &n, &error);

  g_assert_no_error (error);
  g_assert_nonnull (patches);

  for (guint i = 0; i < pictures->len; i++) {
    const AnoganToolImage *image = &picture_at (pictures, i)->image;
    int xs[64], ys[64];
    int columns = origins (image->width, width, stride, xs);
    int rows = origins (image->height, height, stride, ys);

    for (int r = 0; r < rows; r++)
      for (int col = 0; col < columns; col++, k++) {
        const float *patch = patches + k * channels * height * width;
        g_assert_cmpuint (k, <, n);
        for (int c = 0; c < channels; c++)
          for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++) {
              double want = expected_input (image, channels, c, xs[col] + x,
                  ys[r] + y);
              g_assert_cmpfloat_with_epsilon (patch[(c * height + y) * width
                      + x], want, 1e-6);
            }
      }
  }
  g_assert_cmpuint (n, ==, k);
}

static void
test_patches (void)
{
  g_autofree char *colour = tmp_path ("patch-colour.png");
  g_autofree char *grey = tmp_path ("patch-grey.png");
  g_autofree char *tiny = tmp_path ("patch-tiny.png");
  g_autoptr (GPtrArray) pictures = g_ptr_array_new_with_free_func (
      (GDestroyNotify) anogan_tool_picture_free);
  g_autoptr (GPtrArray) small = NULL;
  GError *error = NULL;
  gsize n = 99;

  write_png (colour, 7, 5, FALSE);
  write_png (grey, 6, 6, TRUE);
  write_png (tiny, 3, 5, FALSE);
  {
    g_autoptr (GPtrArray) a = load_ok (colour, NULL);
    g_autoptr (GPtrArray) b = load_ok (grey, NULL);
    g_ptr_array_add (pictures, g_ptr_array_steal_index (a, 0));
    g_ptr_array_add (pictures, g_ptr_array_steal_index (b, 0));
  }

  /* 7x5 with 4x3 patches, stride 2: columns 0, 2, 3 and rows 0, 2, so
   * 6 patches; 6x6: columns 0, 2 and rows 0, 2, 3: 6 more. */
  {
    g_autofree float *p = anogan_tool_data_patches (pictures, 1, 3, 4, 2, &n,
        &error);
    g_assert_no_error (error);
    g_assert_nonnull (p);
    g_assert_cmpuint (n, ==, 12);
  }
  for (int channels = 1; channels <= 3; channels += 2) {
    check_patches (pictures, channels, 3, 4, 2);
    check_patches (pictures, channels, 5, 5, 5);
    check_patches (pictures, channels, 2, 3, 1);
  }

  /* Errors: a picture smaller than a patch (3 wide for 4-wide patches)
   * is bad data, named with its size and the patch size. */
  small = load_ok (tiny, NULL);
  g_ptr_array_add (pictures, g_ptr_array_steal_index (small, 0));
  g_assert_null (anogan_tool_data_patches (pictures, 1, 3, 4, 2, &n, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_assert_nonnull (strstr (error->message, "patch-tiny.png: "));
  g_assert_nonnull (strstr (error->message, " 3x5, "));
  g_assert_nonnull (strstr (error->message, " 4x3 patch"));
  g_assert_null (strchr (error->message, '\n'));
  g_assert_cmpuint (n, ==, 0);
  g_clear_error (&error);
  g_ptr_array_set_size (pictures, 2);

  g_assert_null (anogan_tool_data_patches (pictures, 2, 3, 4, 2, &n, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_null (anogan_tool_data_patches (pictures, 1, 3, 4, 0, &n, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_null (anogan_tool_data_patches (pictures, 1, 3, 4, 4, &n, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_null (anogan_tool_data_patches (pictures, 3, 100000, 4, 1, &n,
          &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
}

/* ---- video -------------------------------------------------------------- */

/* Runs a pipeline ending in "filesink name=sink" into @path. */
static gboolean
make_clip (const char *path, const char *description)
{
  g_autoptr (GstElement) pipeline = NULL;
  g_autoptr (GstElement) sink = NULL;
  g_autoptr (GstBus) bus = NULL;
  g_autoptr (GstMessage) message = NULL;
  GError *error = NULL;

  pipeline = gst_parse_launch (description, &error);
  if (!pipeline) {
    g_test_message ("cannot make a clip: %s", error->message);
    g_error_free (error);
    return FALSE;
  }
  sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  g_object_set (sink, "location", path, NULL);
  bus = gst_element_get_bus (pipeline);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  message = gst_bus_timed_pop_filtered (bus, GST_CLOCK_TIME_NONE,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  g_assert_cmpint (GST_MESSAGE_TYPE (message), ==, GST_MESSAGE_EOS);
  return TRUE;
}

static void
test_video (void)
{
  g_autofree char *clip = tmp_path ("clip.avi");
  g_autofree char *grey_clip = tmp_path ("grey.avi");
  g_autofree char *text = tmp_path ("not-a-video.dat");
  g_autofree char *sound = tmp_path ("sound.ogg");
  AnoganToolDataOptions options;
  const char *seconds[] = { "0.000", "0.300", "0.600", "0.900" };
  const char *junk = "Neither a picture nor a video, only some words.\n";

  /* Ten frames at 10 per second, raw in AVI, so that the decoded frames
   * are exactly what videotestsrc drew. */
  if (!make_clip (clip, "videotestsrc num-buffers=10 pattern=smpte ! "
          "video/x-raw,format=BGR,width=32,height=24,framerate=10/1 ! "
          "avimux ! filesink name=sink") ||
      !make_clip (grey_clip, "videotestsrc num-buffers=10 pattern=smpte ! "
          "video/x-raw,format=GRAY8,width=32,height=24,framerate=10/1 ! "
          "avimux ! filesink name=sink")) {
    g_test_skip ("GStreamer cannot write an AVI clip here");
    return;
  }

  anogan_tool_data_options_init (&options);
  options.frame_interval = 3;
  {
    g_autoptr (GPtrArray) frames = load_ok (clip, &options);
    g_assert_cmpuint (frames->len, ==, G_N_ELEMENTS (seconds));
    for (guint i = 0; i < frames->len; i++) {
      AnoganToolPicture *p = picture_at (frames, i);
      g_autofree char *name = g_strdup_printf ("%s@%ss", clip, seconds[i]);
      const AnoganToolImage *im = &p->image;
      g_assert_cmpstr (p->name, ==, name);
      g_assert_cmpint (p->label, ==, -1);
      g_assert_cmpint (im->width, ==, 32);
      g_assert_cmpint (im->height, ==, 24);
      g_assert_cmpint (im->layout.components, ==, 3);
      /* SMPTE bars: the leftmost is 75 % white, the second 75 % yellow,
       * the last 75 % blue. */
      g_assert_cmpuint (sample_at (im, 0, 0, 0), ==, sample_at (im, 0, 0, 1));
      g_assert_cmpuint (sample_at (im, 0, 0, 1), ==, sample_at (im, 0, 0, 2));
      g_assert_cmpuint (sample_at (im, 0, 0, 0), >, 150);
      g_assert_cmpuint (sample_at (im, 6, 0, 0), >, 150);
      g_assert_cmpuint (sample_at (im, 6, 0, 2), <, 50);
      g_assert_cmpuint (sample_at (im, 31, 0, 2), >, 150);
      g_assert_cmpuint (sample_at (im, 31, 0, 0), <, 50);
    }
  }

  /* Grey frames come out grey, and frames, like pictures, are never
   * padded: the leftmost column is still the white bar. */
  options.frame_interval = 4;
  options.min_width = 36;
  options.min_height = 30;
  {
    g_autoptr (GPtrArray) frames = load_ok (grey_clip, &options);
    const AnoganToolImage *im = &picture_at (frames, 2)->image;
    g_assert_cmpuint (frames->len, ==, 3);
    g_assert_cmpint (picture_at (frames, 0)->image.layout.components, ==, 1);
    g_assert_cmpint (im->width, ==, 32);
    g_assert_cmpint (im->height, ==, 24);
    g_assert_cmpuint (sample_at (im, 0, 5, 0), >, 150);
    g_assert_true (g_str_has_suffix (picture_at (frames, 2)->name, "@0.800s"));
  }

  /* A limit keeps exactly that many frames, the same ones for a seed, in
   * order. */
  check_limited_names (clip, 4, 11);
  anogan_tool_data_options_init (&options);

  write_file (text, junk, strlen (junk));
  load_fails (text, NULL, text, NULL);

  /* Sound alone must end in an error, not a wait for frames that never
   * come. */
  if (make_clip (sound, "audiotestsrc num-buffers=5 ! vorbisenc ! oggmux ! "
          "filesink name=sink"))
    load_fails (sound, NULL, sound, "no video");

  options.limit = 0;
  options.frame_interval = 0;
  load_fails (clip, &options, clip, "frame interval");
}

/* ---- set-up ------------------------------------------------------------- */

static void
remove_tree (const char *path)
{
  if (g_file_test (path, G_FILE_TEST_IS_DIR)) {
    g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
    const char *name;
    while (dir && (name = g_dir_read_name (dir))) {
      g_autofree char *child = g_build_filename (path, name, NULL);
      remove_tree (child);
    }
    g_rmdir (path);
  } else {
    g_unlink (path);
  }
}

int
main (int argc, char **argv)
{
  GError *error = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);
  gst_init (&argc, &argv);

  tmp_dir = g_dir_make_tmp ("anogan-data-XXXXXX", &error);
  g_assert_no_error (error);

  g_test_add_func ("/data/idx/plain", test_idx_plain);
  g_test_add_func ("/data/idx/gzip", test_idx_gzip);
  g_test_add_func ("/data/idx/classes", test_idx_classes);
  g_test_add_func ("/data/idx/errors", test_idx_errors);
  g_test_add_func ("/data/limit", test_limit);
  g_test_add_func ("/data/padding", test_padding);
  g_test_add_func ("/data/directory", test_directory);
  g_test_add_func ("/data/patches", test_patches);
  g_test_add_func ("/data/video", test_video);

  status = g_test_run ();
  remove_tree (tmp_dir);
  g_free (tmp_dir);
  return status;
}
