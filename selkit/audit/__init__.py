"""``selkit audit``: what domains may do, compared phase by phase (docs/audit.md): a spec's
phase domains beside a distribution's domain per category of dangerous permission
(:mod:`selkit.audit.categories`, :mod:`selkit.audit.against`), and the changes two policies
make to some domains (:mod:`selkit.audit.diff`)."""
