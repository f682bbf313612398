"""The DPO's tools: a person's register and subject access, retention purge and erasure with their
certificates, compliance records, backup and restore."""
