"""The registry's operations, each taking a session and the acting user (``access.Actor``)."""
