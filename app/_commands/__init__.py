"""One module per ``weight-init`` subcommand, each exposing ``register(subparsers)``."""
