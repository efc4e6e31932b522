"""``selkit audit``: a spec's phase domains beside a distribution's domain for the same daemon,
per category of dangerous permission (:mod:`selkit.audit.categories`,
:mod:`selkit.audit.against`)."""
