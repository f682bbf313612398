"""Adapters to the outside world the services use: the face engine, the detector, the stores."""
