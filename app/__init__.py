"""Application layer: the ``weight-init`` command line, the pytest plugin and calibration.

Dependency direction: ``weight_init`` (the reference, folder ``reference/``) imports
neither :mod:`weight_init.properties` nor :mod:`weight_init.reports`; those import the
reference; this package sits on top of all three and nothing below imports it.
"""
