"""Statistical reports: the seed's experiments and the property verdicts as figures and tables."""
