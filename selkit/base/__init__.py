"""Reading the base policy: the binary policy and its module store (:mod:`selkit.base.policy`),
the store's CIL (:mod:`selkit.base.store`) and Debian's policy packages
(:mod:`selkit.base.debian`). With :mod:`selkit.analysis`, the only place SETools is imported.
"""

from __future__ import annotations

from selkit.base.policy import (
    DEFAULT_POLICY,
    DEFAULT_STORE,
    BaseSpec,
    Policy,
    load_kb,
    load_policy,
)

__all__ = ["DEFAULT_POLICY", "DEFAULT_STORE", "BaseSpec", "Policy", "load_kb", "load_policy"]
