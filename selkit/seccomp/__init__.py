"""Per-phase seccomp filters: the classic BPF program a daemon loads (:mod:`.bpf`), the
interpreter that says what any such program does (:mod:`.evaluate`, :mod:`.surface`) and
its JSON and C renderings (:mod:`.render`). Pure Python; reads only :mod:`selkit.facts`."""
