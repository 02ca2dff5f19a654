"""Server-side cost of one live update of the Training Lab, and the bytes it sends.

One update is what the page's fragment does on every tick while playing: 10 trainer steps
(the network and its twin without batch norm), then the charts. Two ways of drawing them:

  classic  every figure built whole and serialized to JSON the way st.plotly_chart does
           (plotly.io.to_json, validate=False); the JSON's length is what is sent. The page
           draws this way with BNLAB_LIVE_CHARTS=0.
  live     the live chart component's messages (bn_viz.live, encoded by bn_live, JSON as the
           component sends it): the loss chart's and a series view's new points every tick;
           the snapshots (decision regions, and the histograms of "Distributions now") about
           once a second, i.e. every other tick at the page's 0.5 s interval. The page draws
           this way by default.

Measured for the default lab with the twin:

  page      the page on a tick: loss, decision regions and the lower panel it shows by default
            ("Distributions now")
  every     classic only: every figure the page can show (all five lower panels)
  gradients live only: the page with the "Gradients" view (a series view) instead

early in training (after 200 steps) and late (after 20,000, when the recorder has thinned its
series). Goals: at most 100 ms and 300 KB an update. Prints, asserts nothing.

    .venv/bin/python benchmarks/bench_lab.py [updates]
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import plotly.io as pio

import bn_live
from bn_core.lessons import training_lab as lab
from bn_core.training import make_split
from bn_viz import lab as viz
from bn_viz import lab_data, live

STEPS_PER_UPDATE = 10
PAGE_VIEW = "distributions"  # the lower panel the page shows by default


def figures(trainer, views):
    recorders = [run.recorder for run in trainer.runs]
    out = [viz.loss_figure(recorders), lab_data.data_figure(lab.data_panel(trainer))]
    return out + [viz.view_figure(view, recorders, 1, (0, 1, 2)) for view in views]


def update(trainer, views):
    """One tick: the steps, then every figure built and serialized. Returns bytes sent."""
    trainer.step(STEPS_PER_UPDATE)
    return sum(len(pio.to_json(fig, validate=False)) for fig in figures(trainer, views))


def live_update(trainer, view, tick, held):
    """One tick of the live path: the steps, then each chart's message (whole snapshots every
    other tick). held: the step the browser holds. Returns bytes sent."""
    trainer.step(STEPS_PER_UPDATE)
    recorders = [run.recorder for run in trainer.runs]
    messages = [
        live.chart_message(chart(recorders), trainer.step_count, held)
        for chart in (live.loss_chart, live.accuracy_chart)
    ]
    snapshots_due = tick % 2 == 0
    if snapshots_due:
        figure = lab_data.data_figure(lab.data_panel(trainer)).to_plotly_json()
        messages.append(
            live.chart_message(live.SnapshotChart("data", "", figure), trainer.step_count)
        )
    if view != "distributions" or snapshots_due:
        messages.append(
            live.chart_message(live.view_chart(view, recorders), trainer.step_count, held)
        )
    return sum(len(json.dumps(bn_live.encode({"charts": [m]}))) for m in messages)


def measure(trainer, views, n, path="classic"):
    def one(i):
        if path == "classic":
            return update(trainer, views)
        return live_update(trainer, views[0], i, trainer.step_count)

    one(1)  # warm up
    wall, cpu, sizes = [], [], []
    for i in range(n):
        w0, c0 = time.perf_counter(), time.thread_time()
        sizes.append(one(i))
        wall.append(1000 * (time.perf_counter() - w0))
        cpu.append(1000 * (time.thread_time() - c0))
    return wall, cpu, sizes


def fresh_trainer(settings):
    split = make_split(
        settings.dataset,
        n=settings.n,
        noise=settings.noise,
        test_fraction=settings.test_fraction,
        seed=settings.seed,
    )
    return lab.make_trainer(settings, split)


def main(n=30):
    settings = lab.LabSettings()  # the page's defaults, twin on
    print(
        f"Training Lab, default settings: {settings.dataset}, {settings.hidden_layers} hidden "
        f"layers of {settings.units} {settings.activation}, batch norm with the twin, "
        f"{settings.optimizer} lr {settings.lr:g}, mini-batch {settings.batch_size}; "
        f"{STEPS_PER_UPDATE} steps per update, {n} updates each"
    )
    print(
        f"{'':34s}{'wall ms mean':>13s}{'max':>8s}{'cpu ms mean':>13s}{'max':>8s}"
        f"{'KB mean':>9s}{'max':>8s}"
    )
    steps_alone = fresh_trainer(settings)
    t0 = time.perf_counter()
    steps_alone.step(STEPS_PER_UPDATE * n)
    print(f"{STEPS_PER_UPDATE} steps alone: {1000 * (time.perf_counter() - t0) / n:.1f} ms")
    for trained in (200, 20_000):
        trainer = fresh_trainer(settings)
        trainer.step(trained)
        for path, label, views in (
            ("classic", "page", [PAGE_VIEW]),
            ("classic", "every", list(viz.VIEWS)),
            ("live", "page", [PAGE_VIEW]),
            ("live", "gradients", ["gradients"]),
        ):
            wall, cpu, sizes = measure(trainer, views, n, path)
            name = f"{path}, after {trained:,}, {label}"
            print(
                f"{name:34s}{statistics.mean(wall):13.1f}{max(wall):8.1f}"
                f"{statistics.mean(cpu):13.1f}{max(cpu):8.1f}"
                f"{statistics.mean(sizes) / 1024:9.1f}{max(sizes) / 1024:8.1f}"
            )
    print(
        "goals: <= 100 ms and <= 300 KB per update. Wall time includes waiting for the CPU "
        "when other processes share it; cpu is this thread's own time (a BLAS helper thread "
        "spinning while it waits for work would inflate the process's)."
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 30)
