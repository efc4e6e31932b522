"""selkit: phase-aware SELinux policy for tunnel daemons (compile, prove, patch, lab)."""

__version__ = "0.1.0"
