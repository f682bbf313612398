"""Pure domain: functions on images, encodings, dates and plain facts; no database, HTTP or queue."""
