"""Renderings of outputs for people: text for the terminal, HTML pages, printable dossiers."""
