"""``python -m lianzheng``: the same as the ``lianzheng`` command."""
from lianzheng.cli import main

if __name__ == "__main__":
    main()
