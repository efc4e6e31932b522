"""The front end: grammar → typed AST with spans; Lark never leaks; comments are kept."""

from __future__ import annotations

import pytest

from selkit.diagnostics import DiagnosticError, Span
from selkit.dsl import ast, syntax_errors, to_ast
from selkit.dsl.grammar import lark_parser
from selkit.dsl.parser import parse
from selkit.dsl.pretty import item_text


def test_statements_end_at_newline_or_semicolon():
    one = parse('daemon d { phase startup { tun; udp bind port 53 } }')
    two = parse('daemon d {\n  phase startup {\n    tun\n    udp bind port 53\n  }\n}\n')
    for module in (one, two):
        (daemon,) = module.items
        (phase,) = daemon.of(ast.Phase)
        assert [v.name.text for v in phase.body] == ["tun", "udp"]


def test_verb_arguments_keep_their_kind():
    (daemon,) = parse('daemon d { phase p { x a 53 6000-6010 "s" * } }').items
    (verb,) = daemon.of(ast.Phase)[0].body
    assert [(a.kind, a.text) for a in verb.args] == [
        ("word", "a"), ("int", "53"), ("range", "6000-6010"), ("string", "s"), ("star", "*")]
    assert [a.kind for a in verb.args] == [ast.ArgKind.WORD, ast.ArgKind.INT, ast.ArgKind.RANGE,
                                           ast.ArgKind.STRING, ast.ArgKind.STAR]
    assert [a.is_word for a in verb.args] == [True, False, False, False, False]


def test_kinds_are_enums_that_still_equal_their_strings():
    """The IR compares kinds with strings (``arg.kind == "word"``); members keep that true."""
    for kind in (*ast.ArgKind, *ast.PermKind):
        assert kind == kind.value and str(kind) == f"{kind}" == kind.value
    (daemon,) = parse('daemon d { phase p { allow a:b c; allow a:b *; allow a:b { c d } } }'
                      ).items
    assert [i.perms.kind for i in daemon.of(ast.Phase)[0].body] == [
        ast.PermKind.ONE, ast.PermKind.ALL, ast.PermKind.LIST]


def test_syscalls_statements_keep_action_names_families_and_spans():
    text = ('daemon d { phase p { syscalls allow read @memory; syscalls default errno 1\n'
            '  syscalls deny write } }')
    (daemon,) = parse(text).items
    allow, default, deny = daemon.of(ast.Phase)[0].body
    assert isinstance(allow, ast.Syscalls) and allow.action.text == "allow"
    assert [i.text for i in allow.items] == ["read", "@memory"]
    assert allow.items[1].span == Span("<input>", 1, 42, 1, 49)
    assert (default.action.text, [i.text for i in default.items]) == ("default",
                                                                      ["errno", "1"])
    assert deny.span.line == 2 and deny.action.text == "deny"
    assert item_text(allow) == "syscalls allow read @memory"


def test_syscalls_is_reserved_only_as_a_statement_word():
    (daemon,) = parse('daemon d { phase p { read syscalls; syscalls allow allow } }').items
    verb, stmt = daemon.of(ast.Phase)[0].body
    assert isinstance(verb, ast.Verb) and verb.args[0].text == "syscalls"
    assert isinstance(stmt, ast.Syscalls) and [i.text for i in stmt.items] == ["allow"]


def test_spans_are_one_based_and_exact():
    text = 'daemon d {\n    exec "/usr/sbin/d" from init_t\n}\n'
    (daemon,) = parse(text, "x.sel").items
    (exe,) = daemon.of(ast.Exec)
    assert exe.span == Span("x.sel", 2, 5, 2, 35)
    assert exe.path.value == "/usr/sbin/d" and exe.path.span == Span("x.sel", 2, 10, 2, 23)
    assert exe.source.text == "init_t" and exe.source.span.column == 29


def test_keywords_are_words_where_a_word_fits():
    (daemon,) = parse('daemon d { phase p { allow etc_t:file read }\n'
                      ' forbid p { exec; file write; user } }').items
    allow = daemon.of(ast.Phase)[0].body[0]
    assert isinstance(allow, ast.Allow) and allow.tclass.text == "file"
    items = daemon.of(ast.Forbid)[0].items
    assert [(i.name.text, i.perms and i.perms.kind) for i in items] == [
        ("exec", None), ("file", "one"), ("user", None)]


def test_module_replaces_is_a_keyword_only_after_the_module_name():
    (daemon,) = parse('daemon d { module iodine replaces; module other\n'
                      ' phase p { replaces x; allow self:replaces read } }').items
    first, second = daemon.of(ast.ModuleName)
    assert first.replaces is not None and first.replaces.span == Span("<input>", 1, 26, 1, 34)
    assert (item_text(first), item_text(second)) == ("module iodine replaces", "module other")
    assert second.replaces is None
    verb, allow = daemon.of(ast.Phase)[0].body
    assert verb.name.text == "replaces" and allow.tclass.text == "replaces"


def test_string_escapes():
    (daemon,) = parse(r'daemon d { file f "/a\\.b\"c" }').items
    (decl,) = daemon.of(ast.FileDecl)
    assert decl.regex.value == '/a\\.b"c' and decl.regex.raw == r'"/a\\.b\"c"'


def test_switch_option_and_patch_anchor():
    (daemon,) = parse('daemon d { switch a -> b { option "-z {context}"\n'
                      ' patch "src/x.c" before "go();" } }').items
    (sw,) = daemon.of(ast.Switch)
    option, patch = sw.items
    assert option.template.value == "-z {context}"
    assert (patch.file.value, patch.position.text, patch.anchor.value) == (
        "src/x.c", "before", "go();")


def test_comments_are_collected_with_spans():
    module = parse('# a\ndaemon d { # b\n exec "/x#not a comment"\n}\n')
    assert [(c.text, c.span.line) for c in module.comments] == [("# a", 1), ("# b", 2)]


@pytest.mark.parametrize("text,code", [
    ('daemon d { phase p { tun }', "SEL103"),
    ('daemon d { exec "/x }', "SEL104"),
    ('daemon d { } }', "SEL106"),
    ('daemon d { exec /x }', "SEL102"),
    ('daemon { }', "SEL101"),
])
def test_syntax_errors_are_coded_diagnostics(text, code):
    with pytest.raises(DiagnosticError) as err:
        parse(text, "t.sel")
    (diag,) = err.value.diagnostics
    assert diag.code == code
    assert diag.span is not None and diag.span.path == "t.sel"


@pytest.mark.parametrize("text,hint", [
    ('daemon d { phase p {\n syscalls\n } }', "expected allow, deny or default"),
    ('daemon d { phase p { syscalls allow "read" } }', "expected a name, a number, a system "
     "call family ('@memory')"),
    ('daemon d { syscalls allow read }', "'syscalls' belongs inside 'phase NAME { ... }'"),
])
def test_syscalls_syntax_errors_say_what_fits(text, hint):
    with pytest.raises(DiagnosticError) as err:
        parse(text, "t.sel")
    (diag,) = err.value.diagnostics
    assert diag.code == "SEL101" and diag.hint is not None and diag.hint.startswith(hint)


def test_input_size_is_bounded():
    with pytest.raises(DiagnosticError) as err:
        parse("#" * (1 << 20) + "\n")
    assert err.value.diagnostics[0].code == "SEL905"


def test_every_rule_the_tree_keeps_has_a_transformer_method():
    kept = {rule.alias or rule.origin.name for rule in lark_parser().rules}
    kept = {name for name in kept if not name.startswith("_")}
    assert kept and all(callable(getattr(to_ast._ToAst, name, None)) for name in kept), \
        sorted(name for name in kept if not hasattr(to_ast._ToAst, name))


def test_every_terminal_the_parser_can_expect_has_a_label():
    """Syntax errors name expected tokens; none may be one of Lark's anonymous terminals."""
    lark = lark_parser()
    names = [t.name for t in lark.terminals
             if t.name not in lark.lexer_conf.ignore and t.name != "COMMENT"]
    assert not [n for n in names if n.startswith("__")]
    assert [n for n in names if not syntax_errors._expected_text([n])] == []
    assert syntax_errors._expected_text(["_ARROW"]) == "expected '->'"


def test_a_parser_loaded_from_the_cache_parses_as_the_built_one(tmp_path, monkeypatch):
    """The grammar analysis is cached across processes; the loaded parser must give the same
    trees and tokens as one built from the grammar, for every shipped and example spec."""
    from pathlib import Path

    from selkit.dsl import grammar

    monkeypatch.setenv("SELKIT_CACHE", str(tmp_path))
    grammar.lark_parser.cache_clear()
    try:
        grammar.lark_parser()  # builds and writes the cache
        assert (tmp_path / "grammar.lark-cache").stat().st_size > 0
        grammar.lark_parser.cache_clear()
        loaded = grammar.lark_parser()
        assert not hasattr(loaded, "grammar")  # really read from the cache
        built = grammar.full_parser()
        root = Path(__file__).resolve().parents[2]
        specs = sorted([*root.glob("policies/*.sel"), *root.glob("dsl/examples/*.sel")])
        assert len(specs) >= 8
        for spec in specs:
            text = spec.read_text()
            assert loaded.parse(text) == built.parse(text), spec
            assert [(t.type, t.value) for t in loaded.lex(text, dont_ignore=True)] == \
                [(t.type, t.value) for t in built.lex(text, dont_ignore=True)], spec
    finally:
        grammar.lark_parser.cache_clear()
