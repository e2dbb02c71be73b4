"""``python -m optiviz``: the same command line as the ``optiviz`` console script."""

from optiviz.cli import main

if __name__ == "__main__":
    main()
