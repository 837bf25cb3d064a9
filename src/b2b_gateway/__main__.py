"""``python -m b2b_gateway`` runs the command line."""

from b2b_gateway.cli import main

main()
