"""Evidence on a case: photo checks and re-encoding, and storing photos with their rows."""
