"""``python -m arlens``: the ``arlens`` command (see :mod:`arlens.cli`)."""

from arlens.cli import _entry

if __name__ == "__main__":
    _entry()
