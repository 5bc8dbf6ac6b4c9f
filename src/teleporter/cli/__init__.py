"""The `teleporter` command line: one module per subcommand."""
