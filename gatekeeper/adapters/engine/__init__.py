"""The face engine's passes, one module each, behind `gatekeeper.adapters.faces.FaceEngine`:

- options: `EngineOptions`, every tunable with the measurement behind it;
- found: what a scan returns (`Box`, `FoundFace`, `FaceQuality`) and the passes' `Candidate`;
- turns: the 0/90/270 turns and the landmark tests (upright, yaw);
- pyramid: the scales a photo is searched at, set by the smallest face that must be found;
- working: one detection pass (the working pass and the smaller ones) and its hints;
- yunet_gate: where YuNet lets the working pass look;
- second_look / sift / enlarged: the enlarged look around hints, the cheap look that sifts its
  windows, and the enlarged crops both answer many per network call;
- sideways: the quick look that decides which turns get a search;
- quality: the gate that says which faces can be identified;
- encoders: dlib's and SFace's vectors;
- references: reference photos and faces editors confirm (enrolment).
"""
