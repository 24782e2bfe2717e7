"""`python -m register.cli` runs the `register` command."""

from . import main

main()
