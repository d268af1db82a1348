/* gstanogan.c: the anogan plugin
 *
 * Copyright (C) 2026 the gst-anogan authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <gst/gst.h>

#include "gstanoganfilter.h"
#include "gstanoganmeta.h"

/* The meta is registered with the plugin, before any element can attach
 * it, so that applications find "AnoganMeta" as soon as the plugin is
 * loaded. */
static gboolean
plugin_init (GstPlugin * plugin)
{
  gst_anogan_meta_register ();
  return GST_ELEMENT_REGISTER (anoganfilter, plugin);
}

GST_PLUGIN_DEFINE (GST_VERSION_MAJOR, GST_VERSION_MINOR, anogan,
    "Visual anomaly detection with AnoGAN", plugin_init, VERSION, "LGPL",
    PACKAGE_NAME, PACKAGE_ORIGIN)
