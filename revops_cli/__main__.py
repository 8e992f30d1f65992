"""`python -m revops_cli` runs the command-line interface."""

from revops_cli.cli import main

main()
