#!/usr/bin/env python
"""Same as the `vitreem` command, for those who expect manage.py."""

from vitreem.cli import main

if __name__ == "__main__":
    main()
