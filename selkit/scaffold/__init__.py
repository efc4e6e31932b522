"""``selkit new``: a starting ``.sel`` spec for a daemon's program, as ``sepolicy generate`` and
udica start an author off, but phase-aware. :mod:`selkit.scaffold.package` turns the program's
Debian package into file declarations, :mod:`selkit.scaffold.binary` its imports and strings
into suggested statements."""
