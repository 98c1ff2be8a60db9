"""Deployment and data-safety tests: Dockerfiles, compose, backup/restore/migrate scripts."""
