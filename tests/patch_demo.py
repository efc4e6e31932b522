"""A small daemon and its spec for the patcher's tests (tests/patch/, and the JSON contract
of ``selkit patch`` in tests/cli/)."""

from __future__ import annotations

from pathlib import Path

SPEC = """\
daemon demo {
    exec "/usr/sbin/demo"
    phase startup {
        stdio
    }
    phase steady {
    }
    switch startup -> steady {
        option "-z {context}"
        context "context"
        build "HAVE_SELINUX"
        prepare "src/demo.c" before "do_chroot(newroot);"
        patch "src/demo.c" replace "do_setcon(context);"
    }
}
"""

#: A small daemon in the shape of iodined: unbraced chroot, setcon after the uid drop.
DEMO_C = """\
/* demo: a daemon that switches context after chroot */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#ifdef HAVE_X
#include "x.h"
#endif

static void
do_chroot(const char *root)
{
\tif (chroot(root) != 0 || chdir("/") != 0) {
\t\tperror("chroot");
\t\texit(2);
\t}
}

void do_setcon(const char *context);

void
do_setcon(const char *context)
{
\tfprintf(stderr, "unpatched setcon %s\\n", context);
}

int
main(int argc, char **argv)
{
\tchar *context = argc > 1 ? argv[1] : NULL;
\tconst char *newroot = argc > 2 ? argv[2] : NULL;

\tif (newroot != NULL)
\t\tdo_chroot(newroot);

\tif (context != NULL)
\t\tdo_setcon(context);
\tprintf("serving\\n");
\treturn 0;
}
"""


def demo_tree(tmp_path: Path, text: str = DEMO_C) -> Path:
    """A source tree holding ``text`` as src/demo.c."""
    tree = tmp_path / "demo-1.0"
    (tree / "src").mkdir(parents=True)
    (tree / "src" / "demo.c").write_text(text)
    return tree
