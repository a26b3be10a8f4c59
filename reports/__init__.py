"""Statistical reports: the notes' experiments and the property verdicts as figures and tables."""
