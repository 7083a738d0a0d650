"""``python -m deskctl``: the same program as the ``deskctl`` console script."""

from deskctl.cli.app import main

if __name__ == "__main__":
    main()
