"""Thin bridges from training frameworks' batch layouts to :func:`get_estimator`; no math here."""
