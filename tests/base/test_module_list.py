"""The store's module lists the knowledge base keeps: which module is the base policy."""

from __future__ import annotations

import bz2

from selkit.base.modules import base_modules


def _module(store, priority: int, name: str, cil: str, *, compressed: bool = True) -> None:
    folder = store / "active" / "modules" / str(priority) / name
    folder.mkdir(parents=True)
    data = cil.encode()
    (folder / "cil").write_bytes(bz2.compress(data) if compressed else data)


def test_the_base_module_is_the_one_that_declares_the_kernel_classes(tmp_path):
    _module(tmp_path, 100, "core", "(class file (read write))\n(sid kernel)\n")
    _module(tmp_path, 100, "openvpn", "(type openvpn_t)\n(allow openvpn_t self (file (read)))\n",
            compressed=False)
    # A class named in a rule, not declared, is no base.
    _module(tmp_path, 100, "iodine", "(type iodined_t)\n(classpermission cp)\n")
    assert base_modules(str(tmp_path)) == frozenset({"core"})


def test_debian_base_module(kb):
    assert kb.base_modules == frozenset({"base"})
    assert kb.is_base_module("base") and not kb.is_base_module("openvpn")
