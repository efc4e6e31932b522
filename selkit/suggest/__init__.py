"""From denials back to the spec: the ``.sel`` statement that would allow each AVC denial.

Like audit2allow, but the answer is a statement of the language and the spec line it goes
after, so an author fixes the spec, not the generated policy. Candidates come from the verb
vocabulary (:data:`selkit.ir.vocab.FORMS`), with parameters taken from the denial (the port
type, or the port number the AVC names; the daemon's own ``file`` name for its types). Each
candidate is checked by the compiler itself: it is inserted into a copy of the spec
(:mod:`selkit.dsl.spec_edit`), lowered by :func:`selkit.ir.lower.lower` and run through
:func:`selkit.ir.passes.run` (typebounds and forbids included), and kept only if the resulting
IR grants the denied permission. The verb granting the fewest permissions beyond the denied
ones wins; a raw ``allow`` is the fallback when no verb fits. A statement a later phase needs
that typebounds also requires of its parent comes with the edit for the parent
(:attr:`Suggestion.also`).

The parts: :mod:`.suggestion` (what is answered), :mod:`.spec` (a module beside its spec),
:mod:`.checks` (forbidden, granted, or the compiler's), :mod:`.search` (the candidates),
:mod:`.explain` (the wording), :mod:`.group` and :mod:`.engine` (:func:`suggest`).

Pure: nothing is printed or read from disk (the spec texts come from the programs given).
Rendering is :mod:`selkit.report.suggest`; reading denials out of console text is
:mod:`selkit.lab.avc`.
"""

from selkit.suggest.avc import Avc
from selkit.suggest.engine import suggest
from selkit.suggest.spec import grants_of
from selkit.suggest.suggestion import DeniedRule, Edit, Kind, Suggestion

__all__ = ["Avc", "DeniedRule", "Edit", "Kind", "Suggestion", "grants_of", "suggest"]
