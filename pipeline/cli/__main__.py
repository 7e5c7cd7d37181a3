"""`python -m pipeline.cli`: the same app as the `dcnet` command."""

from pipeline.cli import main

if __name__ == "__main__":  # pragma: no cover
    main()
