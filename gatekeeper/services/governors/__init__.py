"""What governors monitor: aggregate figures, charts and the PDF report (never a pupil's name)."""
