#!/usr/bin/python3
# anogan-monitor.py: an application reading anoganfilter's results, in Python
#
# Copyright (C) 2026 the gst-anogan authors
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The Python twin of anogan-monitor.c, line for line the same output: runs
# a pipeline with an anoganfilter in it and logs the anomalous frames,
# reading the custom meta "AnoganMeta" and the region-of-interest metas on
# the buffers (a pad probe) and the "anogan" element messages on the bus.
#
#   /usr/bin/python3 examples/anogan-monitor.py [--all] [PIPELINE-DESCRIPTION]
#
# Needs Debian's python3-gst-1.0 and gir1.2-gst-plugins-base-1.0 (GstVideo),
# and /usr/bin/python3, the interpreter they are installed for.

import argparse
import math
import os
import signal
import sys
import threading

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstVideo", "1.0")
from gi.repository import GLib, Gst, GstVideo  # noqa: E402

DEMO_CLIP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                         "media", "brick-belt.webm")
DEFAULT_PIPELINE = (
    f'filesrc location="{DEMO_CLIP}" ! decodebin ! videoconvert ! '
    "anoganfilter schedule=every-frame interval=15 overlay=none ! "
    "fakesink sync=false")


def time_string(t):
    """GST_TIME_FORMAT, "none" for an unknown time."""
    if t == Gst.CLOCK_TIME_NONE:
        return "none"
    return "%u:%02u:%02u.%09u" % (t // (3600 * Gst.SECOND),
                                  t // (60 * Gst.SECOND) % 60,
                                  t // Gst.SECOND % 60, t % Gst.SECOND)


def threshold_string(threshold):
    """The threshold as printed: NaN means the model has none."""
    return "none" if math.isnan(threshold) else "%.2f" % threshold


class Monitor:
    def __init__(self, pipeline, log_all):
        self.pipeline = pipeline
        self.all = log_all
        self.lock = threading.Lock()   # the probe runs on a streaming thread;
                                       # held for the counts and the output
        self.buffers = 0               # buffers that carried an AnoganMeta
        self.analyses = 0              # distinct analysed frames among them
        self.anomalous = 0
        self.messages = 0              # "anogan" bus messages
        self.analysis_time = 0         # processing-time of the analyses, ns
        self.last_pts = None
        self.worst = None              # (score, pts, x, y, w, h)
        self.status = 0
        self.loop = GLib.MainLoop()

    def on_buffer(self, pad, info):
        """Reads the AnoganMeta and the ROI metas of a buffer leaving
        anoganfilter.  Frames between two analyses carry the latest result
        again: its analysed-pts tells them apart."""
        buf = info.get_buffer()
        meta = buf.get_custom_meta("AnoganMeta")
        if meta is None:               # nothing analysed yet
            return Gst.PadProbeReturn.OK
        s = meta.get_structure()

        # Plain fields by name; the arrays ("scores", "tile-x", "tile-y")
        # are Gst.ValueArray, which list() turns into Python numbers.
        score = s.get_value("score")
        anomalous = s.get_value("anomalous")
        threshold = s.get_value("threshold")
        columns = s.get_value("columns")
        tile_w = s.get_value("tile-width")
        tile_h = s.get_value("tile-height")
        pts = s.get_value("analysed-pts")
        scores = list(s.get_value("scores"))

        # The worst tile: "scores" is row-major; a NaN score (a search that
        # diverged) counts as the worst, as the element counts it anomalous.
        worst = 0
        for i in range(1, len(scores)):
            if math.isnan(scores[i]) or scores[i] > scores[worst]:
                worst = i
        column, row = worst % columns, worst // columns
        x = list(s.get_value("tile-x"))[column]
        y = list(s.get_value("tile-y"))[row]

        # One region-of-interest meta of type "anomaly" per tile over the
        # threshold.  PyGObject cannot walk a buffer's metas, but it can
        # count them by API.
        regions = buf.get_n_meta(GstVideo.VideoRegionOfInterestMeta
                                 .get_info().api)

        with self.lock:
            self.buffers += 1
            if self.analyses > 0 and pts == self.last_pts:
                return Gst.PadProbeReturn.OK
            self.analyses += 1
            self.last_pts = pts
            self.analysis_time += s.get_value("processing-time")
            if anomalous:
                self.anomalous += 1
            if self.worst is None or score > self.worst[0]:
                self.worst = (score, pts, x, y, tile_w, tile_h)
            if anomalous or self.all:
                print("meta %s score %.2f threshold %s %s tile %d,%d at "
                      "%d,%d %dx%d regions %u" % (
                          time_string(pts), score,
                          threshold_string(threshold),
                          "anomalous" if anomalous else "normal",
                          column, row, x, y, tile_w, tile_h, regions),
                      flush=True)
        return Gst.PadProbeReturn.OK

    def on_anogan_message(self, s):
        """One "anogan" element message per analysis."""
        anomalous = s.get_value("anomalous")
        # Printed under the lock too: print() writes the line and its end
        # separately, and the probe prints from another thread.
        with self.lock:
            self.messages += 1
            if anomalous or self.all:
                print("message %s score %.2f %s tiles %u" % (
                    time_string(s.get_value("analysed-pts")),
                    s.get_value("score"),
                    "anomalous" if anomalous else "normal",
                    len(s.get_value("scores"))), flush=True)

    def on_bus(self, bus, message):
        if message.type == Gst.MessageType.ELEMENT:
            s = message.get_structure()
            if s.has_name("anogan"):
                self.on_anogan_message(s)
        elif message.type == Gst.MessageType.ERROR:
            error, _ = message.parse_error()
            print("anogan-monitor.py: %s: %s" % (message.src.get_name(),
                                                 error.message),
                  file=sys.stderr)
            self.status = 1
            self.loop.quit()
        elif message.type == Gst.MessageType.WARNING:
            warning, _ = message.parse_warning()
            print("anogan-monitor.py: warning: %s: %s" % (
                message.src.get_name(), warning.message), file=sys.stderr)
        elif message.type == Gst.MessageType.EOS:
            self.loop.quit()
        return True

    def on_interrupt(self):
        """Ctrl-C: EOS through the pipeline, so that muxers finish."""
        self.pipeline.send_event(Gst.Event.new_eos())
        return GLib.SOURCE_CONTINUE

    def print_summary(self):
        print("summary: %u buffers carried AnoganMeta, %u frames analysed, "
              "%u anogan messages, %u anomalous frames" % (
                  self.buffers, self.analyses, self.messages,
                  self.anomalous))
        if self.worst is not None:
            score, pts, x, y, w, h = self.worst
            print("worst: score %.2f at %s, tile at %d,%d %dx%d" % (
                score, time_string(pts), x, y, w, h))
        # Wall time, so it depends on the machine and its load: on a line
        # of its own, apart from the results.
        if self.analyses > 0:
            print("time: %.3f s analysing, %.0f ms a frame" % (
                self.analysis_time / Gst.SECOND,
                self.analysis_time / Gst.MSECOND / self.analyses))


def find_anoganfilter(pipeline):
    if not isinstance(pipeline, Gst.Bin):
        return None
    it = pipeline.iterate_all_by_element_factory_name("anoganfilter")
    result, element = it.next()
    return element if result == Gst.IteratorResult.OK else None


def main():
    parser = argparse.ArgumentParser(
        description="Log anoganfilter's findings.",
        epilog="Without a description, scores every 15th frame of the demo "
               "clip: " + DEFAULT_PIPELINE)
    parser.add_argument("-a", "--all", action="store_true",
                        help="log every analysed frame, not only the "
                             "anomalous ones")
    parser.add_argument("description", nargs=argparse.REMAINDER,
                        help="a pipeline, as gst-launch-1.0 takes it")
    args = parser.parse_args()

    Gst.init(None)
    try:
        if len(args.description) > 1:
            pipeline = Gst.parse_launchv(args.description)
        else:
            pipeline = Gst.parse_launch(args.description[0]
                                        if args.description
                                        else DEFAULT_PIPELINE)
    except GLib.Error as e:
        print("anogan-monitor.py: cannot build the pipeline: %s" % e.message,
              file=sys.stderr)
        return 2
    anogan = find_anoganfilter(pipeline)
    if anogan is None:
        print("anogan-monitor.py: the pipeline has no anoganfilter",
              file=sys.stderr)
        return 2

    monitor = Monitor(pipeline, args.all)
    anogan.get_static_pad("src").add_probe(Gst.PadProbeType.BUFFER,
                                           monitor.on_buffer)
    bus = pipeline.get_bus()
    bus.add_signal_watch()
    bus.connect("message", monitor.on_bus)
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGINT,
                         monitor.on_interrupt)

    # A pipeline that cannot start has posted the reason on the bus as an
    # error, which ends the loop.
    if (pipeline.set_state(Gst.State.PLAYING) == Gst.StateChangeReturn.FAILURE
            and not bus.have_pending()):
        print("anogan-monitor.py: the pipeline does not start",
              file=sys.stderr)
        monitor.status = 1
    else:
        monitor.loop.run()

    pipeline.set_state(Gst.State.NULL)
    bus.remove_signal_watch()
    if monitor.status == 0 or monitor.buffers or monitor.messages:
        monitor.print_summary()
    return monitor.status


if __name__ == "__main__":
    sys.exit(main())
