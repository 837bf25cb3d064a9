"""Small server-side SVG charts for the dashboard (no JavaScript, no chart library)."""

from __future__ import annotations

from markupsafe import Markup, escape

from b2b_gateway.api.ports import ThroughputBucket

__all__ = ["throughput_svg"]

_W, _H, _PAD = 720, 180, 24


def throughput_svg(buckets: list[ThroughputBucket]) -> Markup:
    """A stacked bar per bucket: delivered (green), failed (red) and still in progress (grey)."""
    if not buckets:
        return Markup('<p class="muted">No traffic in this period.</p>')
    peak = max(max(b.received, b.delivered + b.failed) for b in buckets) or 1
    width = (_W - 2 * _PAD) / len(buckets)
    scale = (_H - 2 * _PAD) / peak
    parts = [
        f'<svg class="chart" viewBox="0 0 {_W} {_H}" role="img" aria-label="Throughput and failures over time">',
        f'<line x1="{_PAD}" y1="{_H - _PAD}" x2="{_W - _PAD}" y2="{_H - _PAD}" class="axis"/>',
        f'<text x="{_PAD}" y="{_PAD - 8}" class="label">peak {peak}/h</text>',
    ]
    for i, b in enumerate(buckets):
        x = _PAD + i * width + 1
        y = float(_H - _PAD)
        pending = max(0, b.received - b.delivered - b.failed)
        title = escape(f"{b.start:%Y-%m-%d %H:%M}: {b.received} received, {b.delivered} delivered, {b.failed} failed")
        parts.append(f"<g><title>{title}</title>")
        for value, cls in ((b.delivered, "ok"), (b.failed, "bad"), (pending, "wait")):
            if value:
                h = value * scale
                y -= h
                parts.append(
                    f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(1.0, width - 2):.1f}" height="{h:.1f}" class="{cls}"/>'
                )
        parts.append("</g>")
        if i % max(1, len(buckets) // 6) == 0:
            parts.append(f'<text x="{x:.1f}" y="{_H - 6}" class="label">{b.start:%H:%M}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
