"""What a phase domain holds, shared by ``prove`` and ``audit``: base-policy profiles, the base
as linked modules see it, effective grants by either engine, and SETools reads of a linked
policy."""
