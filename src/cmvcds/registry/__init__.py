"""The MEGAL-ITALI-style observational study database."""
