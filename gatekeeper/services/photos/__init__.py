"""Photos from camera to website: ingest and provenance (cameras), scan, review, publish, the live
copies that follow every fact, and the worker's housekeeping."""
