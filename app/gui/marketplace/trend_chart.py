"""A small line chart of a provider's measured TTFT and TPS over time, drawn with QPainter.

QtCharts lives in PySide6-Addons, which this app does not ship (Essentials only); two polylines do not justify
another ~100 MB dependency, so the chart is painted here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPen, QPolygonF
from PySide6.QtWidgets import QSizePolicy, QWidget

from app.storage.records import ProviderRequest


@dataclass(frozen=True, slots=True)
class Series:
    """One line: a label, a colour, and (time, value) points."""

    label: str
    unit: str
    color: str
    points: tuple[tuple[float, float], ...]


def series_from(requests: Sequence[ProviderRequest]) -> tuple[Series, Series]:
    """TTFT (ms) and TPS series from our request log, oldest first; failed requests have no points."""
    ttft = tuple((r.at / 1000, r.ttft_ms) for r in requests if r.ok and r.ttft_ms is not None)
    tps = tuple((r.at / 1000, r.tps) for r in requests if r.ok and r.tps is not None)
    return Series("TTFT", "ms", "#e0883a", ttft), Series("TPS", "tok/s", "#2f7de1", tps)


class TrendChart(QWidget):
    """Two stacked sparkline panels (one per series) with the latest value, min and max."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.series: tuple[Series, ...] = ()
        self.setMinimumHeight(140)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.empty_text = "No requests measured yet: use this provider and its TTFT/TPS appear here."

    def set_series(self, *series: Series) -> None:
        """Replace the lines and repaint."""
        self.series = series
        self.update()

    def has_data(self) -> bool:
        return any(s.points for s in self.series)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        text_color = self.palette().color(self.foregroundRole())
        if not self.has_data():
            painter.setPen(text_color)
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.empty_text)
            return
        height = self.height() / max(1, len(self.series))
        for i, series in enumerate(self.series):
            self._panel(painter, QRectF(0, i * height, self.width(), height).adjusted(4, 4, -4, -4), series,
                        text_color)

    @staticmethod
    def _panel(painter: QPainter, rect: QRectF, series: Series, text_color: QColor) -> None:
        painter.setPen(QPen(QColor(text_color.red(), text_color.green(), text_color.blue(), 50)))
        painter.setBrush(Qt.BrushStyle.NoBrush)  # the previous panel's point marker left a fill brush set
        painter.drawRoundedRect(rect, 4, 4)
        painter.setPen(text_color)
        if not series.points:
            painter.drawText(rect.adjusted(8, 4, -8, -4), Qt.AlignmentFlag.AlignLeft, f"{series.label}: no data")
            return
        values = [v for _, v in series.points]
        lo, hi = min(values), max(values)
        label = f"{series.label} {values[-1]:,.1f} {series.unit}   (min {lo:,.1f} · max {hi:,.1f})"
        painter.drawText(rect.adjusted(8, 4, -8, -4), Qt.AlignmentFlag.AlignLeft, label)
        plot = rect.adjusted(8, 22, -8, -6)
        t0, t1 = series.points[0][0], series.points[-1][0]
        span_t = (t1 - t0) or 1.0
        span_v = (hi - lo) or 1.0
        points: list[QPointF] = []
        for t, v in series.points:
            x = plot.left() + (t - t0) / span_t * plot.width() if len(series.points) > 1 else plot.center().x()
            y = plot.bottom() - (v - lo) / span_v * plot.height() if hi != lo else plot.center().y()
            points.append(QPointF(x, y))
        painter.setPen(QPen(QColor(series.color), 2))
        painter.drawPolyline(QPolygonF(points))
        painter.setBrush(QColor(series.color))
        painter.drawEllipse(points[-1], 3, 3)
