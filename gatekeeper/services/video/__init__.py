"""Video: faces tracked through a clip, identified per track, and a covered, metadata-free rebuild."""
