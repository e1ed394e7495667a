"""docs/images/bench-handshakes.png: each configuration's CPU-cost ratio with its 95 % interval."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .configs import BASELINE, BY_NAME, CONFIGS


def _chart_label(name: str) -> str:
    config = BY_NAME[name]
    label = config.label.removeprefix("warden: ")
    return f"{label} ({config.cache})" if config.cache else label


def chart(results: dict[str, Any], path: Path) -> Path | None:
    """Horizontal bars: each configuration's handshake rate as a ratio to no-auth, per server."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    handshakes = results.get("handshakes") or {}
    servers = list(handshakes)
    names = [c.name for c in CONFIGS if c is not BASELINE and any(c.name in handshakes[s] for s in servers)]
    if not names:
        return None
    labels = [_chart_label(name) for name in names]
    height = 0.8 / max(len(servers), 1)
    warden_colors, peer_colors = ("#1f4e99", "#6c9bd8", "#9ec3ee"), ("#555555", "#999999", "#cccccc")
    figure, axes = plt.subplots(figsize=(9, 0.45 * len(names) + 1.8))
    for index, server in enumerate(servers):
        cpu = [(handshakes[server].get(name) or {}).get("cpu_rate_ratio") or {} for name in names]
        values = [figures.get("mean", 0.0) for figures in cpu]
        errors = [figures.get("ci95") or 0.0 for figures in cpu]
        positions = [row + index * height for row in range(len(names))]
        colors = [(warden_colors if name.startswith("warden_") else peer_colors)[index % 3] for name in names]
        axes.barh(positions, values, height=height, color=colors, xerr=errors, ecolor="black", capsize=2)
        for position, value, error, name in zip(positions, values, errors, names, strict=True):
            text = (
                "fails" if "error" in (handshakes[server].get(name) or {}) else f"{value:.2f} ± {error:.2f}"
            )
            x = min(max(value, 0) + error, 1.2) + 0.01
            axes.text(x, position, f"{server}: {text}", va="center", fontsize=7)
    from matplotlib.patches import Patch

    legend = [Patch(color=warden_colors[i % 3], label=f"warden, {s}") for i, s in enumerate(servers)]
    legend += [Patch(color=peer_colors[i % 3], label=f"peer, {s}") for i, s in enumerate(servers)]
    axes.legend(handles=legend, fontsize=7, loc="upper right")
    axes.set_yticks([row + height * (len(servers) - 1) / 2 for row in range(len(names))])
    axes.set_yticklabels(labels, fontsize=8)
    axes.invert_yaxis()
    axes.axvline(1.0, color="black", linewidth=0.8)
    for bound in (0.80, 0.90, 0.95, 0.97):
        axes.axvline(bound, color="#d62728", linewidth=0.6, linestyle=":")
    axes.set_xlim(0, 1.6)
    axes.set_xlabel("no-auth's CPU per handshake / the configuration's (95 % interval); targets dotted")
    axes.set_title(
        f"channels-warden handshakes vs no auth and peers ({results['mode']} run, {results['started'][:10]})",
        fontsize=10,
    )
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path
