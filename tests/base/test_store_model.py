"""selkit.base.store: the CIL model of the module store, checked against the real linker.

Pure-logic tests build blocks from small CIL texts; the rest compare the model of Debian's
store with SETools' reading of its binary policy and of policies linked by ``semodule`` in a
store copy (one link, shared by the module).
"""

from __future__ import annotations

import os
import pickle
import time

import pytest

from selkit.base import DEFAULT_POLICY, DEFAULT_STORE, cil_blocks
from selkit.base import store as store_model
from selkit.base.cil import CilSyntaxError, parse, render
from tests.conftest import needs_tools

# ---------------------------------------------------------------------------------------------
# Pure logic


def test_parse_keeps_quoted_strings_and_drops_comments():
    stmts = parse('; a comment\n(typetransition a_t b_t file "x (y)" c_t) ; trailing\n(type d)')
    assert stmts == (("typetransition", "a_t", "b_t", "file", '"x (y)"', "c_t"), ("type", "d"))
    assert render(stmts[0]) == '(typetransition a_t b_t file "x (y)" c_t)'


@pytest.mark.parametrize("text", ["(type a", "(type a))"])
def test_parse_refuses_unbalanced_parentheses(text):
    with pytest.raises(CilSyntaxError):
        parse(text)


def _blocks(texts: dict[str, str]):
    blocks: list = []
    for module, text in sorted(texts.items()):
        cil_blocks.module_blocks(module, parse(text), blocks)
    return tuple(blocks)


def _model(texts: dict[str, str], removed=frozenset(), extra=frozenset()):
    blocks = _blocks(texts)
    return store_model._model("<memory>", "memory", blocks, cil_blocks.BlockIndex.of(blocks),
                              frozenset(removed), frozenset(extra))


_CHAIN = {
    "base": "(class file (read)) (class process (ptrace))"
            "(type a_t) (typeattribute dom) (typeattributeset dom (a_t))"
            "(typeattribute base_typeattr_1) (typeattributeset base_typeattr_1 (not (dom)))"
            "(typeattribute everything) (typeattributeset everything (all))"
            "(neverallow base_typeattr_1 self (process (ptrace)))",
    "lib": "(type lib_t) (typealias lib_alias_t) (typealiasactual lib_alias_t lib_t)",
    # uses lib_t; its inner block declares mid_t, which an optional of "top" needs
    "mid": "(optional mid_optional_1 (typeattributeset cil_gen_require lib_t)"
           "  (allow a_t lib_t (file (read)))"
           "  (optional mid_optional_2 (type mid_t) (typeattributeset dom (mid_t))))",
    "top": "(optional top_optional_1 (allow a_t mid_t (file (read))) (type top_t))"
           "(optional top_optional_2 (booleanif (nope_b) (true (allow a_t a_t (file (read))))))"
           "(optional top_optional_3 (typeattributeset cil_gen_require ghost_t)"
           "  (typeattributeset cil_gen_require ghost2_t))",
}


def test_optionals_resolve_to_a_fixed_point_through_a_chain():
    model = _model(_CHAIN)
    assert {"mid_t", "top_t", "lib_t"} <= model.types
    assert model.members("dom") == {"a_t", "mid_t"}
    removed = _model(_CHAIN, removed={"lib"})
    # lib gone → mid's blocks (nested one too) → top_optional_1, which never named lib_t
    assert not {"lib_t", "mid_t", "top_t"} & removed.types
    assert removed.members("dom") == {"a_t"}
    labels = {b.label for b in removed.disabled_blocks}
    assert {"mid_optional_1", "mid_optional_2", "top_optional_1"} <= labels
    assert removed.aliases == {}
    assert model.aliases == {"lib_alias_t": "lib_t"} and model.canonical("lib_alias_t") == "lib_t"


def test_a_boolean_nothing_declares_disables_its_block():
    labels = {b.label: b.missing for b in _model(_CHAIN).disabled_blocks}
    assert labels["top_optional_2"] == ("nope_b",)


def test_names_switch_blocks_on_alone_or_only_together():
    model = _model(_CHAIN)
    assert model.lacking_names() >= {"nope_b", "ghost_t", "ghost2_t"}
    # nope_b alone switches top_optional_2 on; ghost_t needs ghost2_t as well
    alone = _model(_CHAIN, extra={"b:nope_b"})
    assert "top_optional_2" not in {b.label for b in alone.disabled_blocks}
    both = _model(_CHAIN, extra={"t:ghost_t", "t:ghost2_t"})
    assert "top_optional_3" not in {b.label for b in both.disabled_blocks}
    one = _model(_CHAIN, extra={"t:ghost_t"})
    assert "top_optional_3" in {b.label for b in one.disabled_blocks}


def _expand_with(model, name: str, new_types: dict[str, frozenset[str]]) -> frozenset[str]:
    """Members of ``name`` once the ``new_types`` (type -> direct attributes) join the store."""
    if name in new_types:
        return frozenset({name})
    if name not in model.attributes:
        return model.members(name)
    joined = {t for t, direct in new_types.items() if name in model.attributes_of(direct)}
    return model.members(name) | joined


def test_expression_attributes_for_a_new_type():
    model = _model(_CHAIN)
    assert model.members("base_typeattr_1") == model.types - model.members("dom")
    assert model.members("everything") == model.types
    assert model.attributes_of({"dom"}) == {"dom", "everything"}
    assert model.attributes_of(()) == {"base_typeattr_1", "everything"}
    assert _expand_with(model, "dom", {"new_t": frozenset({"dom"})}) == {"a_t", "mid_t", "new_t"}
    assert "new_t" in _expand_with(model, "base_typeattr_1", {"new_t": frozenset()})
    assert model.expression_of("base_typeattr_1") == "(not (dom))"


def test_neverallows_keep_their_text_and_self():
    (rule,) = _model(_CHAIN).neverallows
    assert (rule.source, rule.target, rule.tclass, rule.perms, rule.module) == \
        ("base_typeattr_1", "self", "process", ("ptrace",), "base")
    assert rule.text == "(neverallow base_typeattr_1 self (process (ptrace)))"


# ---------------------------------------------------------------------------------------------
# The real store against SETools and the linker

needs_store = pytest.mark.skipif(
    not (os.path.exists(DEFAULT_POLICY) and os.path.isdir(f"{DEFAULT_STORE}/active")),
    reason="selinux-policy-default is not installed (run make setup)")


def _names(policy) -> tuple[set[str], dict[str, str], dict[str, set[str]]]:
    types = {str(t) for t in policy.types()}
    aliases = {str(a): str(t) for t in policy.types() for a in t.aliases()}
    members = {str(a): {str(t) for t in a.expand()} for a in policy.typeattributes()}
    return types, aliases, members


@pytest.fixture(scope="module")
def model():
    return store_model.load_store_model(DEFAULT_STORE)


@pytest.fixture(scope="module")
def stock():
    import setools

    return _names(setools.SELinuxPolicy(DEFAULT_POLICY))


#: Replaced: openvpn (a leaf) and wm (other modules' optionals need it, and blocks that need
#: what those declare fall in turn). oddjob_t belongs to the disabled oddjob module.
_REPLACED = ("openvpn", "wm")
_TRIGGER = "oddjob_t"


@pytest.fixture(scope="module")
def linked(tmp_path_factory):
    import setools

    from selkit.toolchain import link_files

    files = {f"{m}.cil": f"(type selkit_{m}_t)\n(roletype object_r selkit_{m}_t)\n".encode()
             for m in _REPLACED}
    files["selkittrigger.cil"] = f"(type {_TRIGGER})\n(roletype object_r {_TRIGGER})\n".encode()
    dest = str(tmp_path_factory.mktemp("store-model") / "policy.33")
    link_files(files, (), dest, expand_check=False)
    return setools.SELinuxPolicy(dest)


@needs_store
def test_types_aliases_and_every_attribute_match_the_binary_policy(model, stock):
    types, aliases, members = stock
    assert model.types == types
    assert model.aliases == aliases
    assert len(members) > 200
    wrong = {a: (len(m), len(model.members(a))) for a, m in members.items()
             if a not in model.attributes or model.members(a) != m}
    assert wrong == {}


@needs_store
def test_store_only_attributes_have_their_members(model, stock):
    _, _, members = stock
    for attribute in ("tls_privkey_type", "auth_file_type", "base_typeattr_4",
                      "security_file_type", "set_curr_context"):
        assert attribute not in members and attribute in model.attributes
    assert "tls_privkey_t" in model.members("tls_privkey_type")
    assert "shadow_t" in model.members("auth_file_type")
    assert "policy_config_t" in model.members("security_file_type")
    assert "kernel_t" in model.members("set_curr_context")
    raw_readers = members["memory_raw_read"] | members["devices_unconfined_type"]
    assert model.expression_of("base_typeattr_4") == \
        "(not (devices_unconfined_type memory_raw_read))"
    assert model.members("base_typeattr_4") == model.types - raw_readers
    assert "httpd_t" in model.members("base_typeattr_4")


@needs_store
def test_neverallows_of_the_base_module(model):
    texts = {n.text for n in model.neverallows}
    assert len(model.neverallows) == 30 and all(n.module == "base" for n in model.neverallows)
    assert "(neverallow base_typeattr_4 memory_device_t (chr_file (read)))" in texts
    assert any(n.target == "self" for n in model.neverallows)
    for rule in model.neverallows:
        assert model.members(rule.source), rule.text


@needs_store
def test_model_is_picklable_and_warm_load_is_fast(model):
    assert pickle.loads(pickle.dumps(model)) == model
    store_model._load_model.cache_clear()
    start = time.perf_counter()
    again = store_model.load_store_model(DEFAULT_STORE)
    assert time.perf_counter() - start < 0.5  # measured ~10 ms; generous for loaded CI
    assert again == model


@needs_store
def test_a_variant_read_back_from_the_cache_is_the_one_computed(model):
    """``without``/``with_declared`` variants are pickled per store commit; a variant read
    back must equal the one resolved from the blocks, and a different variant is not mixed
    up with it."""
    variant = model.without(["openvpn"]).with_declared(types=[_TRIGGER])
    other = model.without(["wm"])
    store_model._model_for.cache_clear()
    again = model.without(["openvpn"]).with_declared(types=[_TRIGGER])
    assert again == variant
    assert again.removed_modules == frozenset({"openvpn"})
    assert f"t:{_TRIGGER}" in again.new_names
    assert model.without(["wm"]) == other != variant


@needs_store
def test_declaring_modules_and_module_sets(model):
    assert model.declared_by.get("openvpn_t") == "openvpn"
    assert model.declared_by.get("openvpn_var_run_t") == "openvpn"
    assert model.declared_by.get("no_such_t") is None
    assert "oddjob" in model.disabled_modules and "oddjob" not in model.enabled_modules
    assert {"base", "openvpn", "wm"} <= model.enabled_modules


@needs_tools("semodule")
@needs_store
def test_replacing_modules_predicts_the_linked_policy(model, linked):
    predicted = model.without(_REPLACED).with_declared(types={_TRIGGER})
    types, aliases, members = _names(linked)
    new = {f"selkit_{m}_t" for m in _REPLACED} | {_TRIGGER}
    assert types == predicted.types | new
    assert aliases == predicted.aliases
    new_types = {t: frozenset() for t in new}
    wrong = {a for a, m in members.items() if _expand_with(predicted, a, new_types) != m}
    assert wrong == set()
    # the replacement removed openvpn's types and switched off a chain of blocks elsewhere
    assert "openvpn_t" in model.types and "openvpn_t" not in predicted.types
    before = {(b.module, b.label) for b in model.disabled_blocks}
    fallen = [b for b in predicted.disabled_blocks if (b.module, b.label) not in before
              and b.module not in _REPLACED]
    wm_names = {n for n, m in model.declared_by.items() if m == "wm"}
    assert any(not set(b.missing) & wm_names for b in fallen)


@needs_tools("semodule")
@needs_store
def test_declaring_a_trigger_name_switches_blocks_on(model, linked, stock):
    assert "shutdown" in model.switched_on(types={_TRIGGER})[_TRIGGER]
    rules = [r for r in linked.terules()
             if _TRIGGER in (str(r.source), str(r.target))]
    assert rules  # our module has no rules: they come from the blocks it switched on
    assert not any(_TRIGGER in name for name in stock[0])
