"""Property suite: the seed's claims as checked statements, and conformance checks of
other implementations against the reference.

Hypothesis settings profiles live in :mod:`weight_init.properties.profiles`;
the pytest plugin (entry point ``pytest11``) in
:mod:`weight_init.properties.pytest_plugin`.
"""
