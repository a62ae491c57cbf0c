"""Thin entry point: ``python run.py …`` runs the cop-mailer command line."""
from mailer.cli import main

if __name__ == "__main__":
    main()
