"""Which context names of a template are *fields*: printed as they are, or only tested for truth.

``outbound.shared`` puts a field in by marker and keeps everything else in an email's shape.
This module reads jinja's syntax tree of a template and of everything it extends, includes and
imports (``fields``), and sorts every use of every name (docs/rendering.md). Any use it cannot
follow makes the name part of the shape, and anything that hides how output reaches the page
makes the whole template rendered per person.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import lru_cache

import jinja2
from jinja2 import nodes

from mailer.outbound import render as full

log = logging.getLogger(__name__)

GREETING = "greeting"  # the global templates call as ``greeting(recipient)`` (mailer.locale.jinja)
_GETTEXT = frozenset({"gettext", "_", "ngettext", "pgettext"})
# Output inside these does not go to the page as it is: it is captured and may be changed.
_CAPTURING = (nodes.AssignBlock, nodes.FilterBlock, nodes.Macro, nodes.CallBlock)


class Unshareable(Exception):
    """A value or a page that cannot be put in by marker: rendered per person instead."""


@dataclass
class _Uses:
    names: dict[str, set[str]] = field(default_factory=dict)
    attrs: dict[str, set[str]] = field(default_factory=dict)
    greeting_printed: bool = False
    greeting_other: bool = False


@dataclass(frozen=True)
class Fields:
    """What a template (with the templates it reaches) lets be put in by marker."""

    names: frozenset[str]  # printed as they are or tested for truth, nothing else
    attrs: dict[str, tuple[str, ...]]  # name -> attributes printed: a dict used no other way
    greeting: bool  # ``greeting(recipient)`` printed as it is, and called no other way
    referenced: tuple[str, ...]  # every context name the templates read


@lru_cache(maxsize=None)
def fields(template: str) -> Fields | None:
    """The fields of ``template`` (text and HTML); None when it cannot be shared at all."""
    env = full.environment()
    uses, seen = _Uses(), set()
    try:
        for name in (f"{template}.txt.j2", f"{template}.html.j2"):
            _read(env, name, uses, seen)
    except (Unshareable, jinja2.TemplateError) as exc:
        log.debug("template %s is rendered per person: %s", template, exc)
        return None
    whole = {n for n, where in uses.names.items()}
    names = frozenset(n for n, where in uses.names.items() if where <= {"out", "truth"})
    attrs = {n: tuple(sorted(a)) for n, a in sorted(uses.attrs.items()) if n not in whole}
    greeting = uses.greeting_printed and not uses.greeting_other
    # ``greeting(recipient)`` printed is put in by marker (its value computed per email), so
    # it reads nothing of ``recipient`` the key must hold; any other use of it does.
    referenced = whole | set(uses.attrs)
    return Fields(names - set(attrs), attrs, greeting, tuple(sorted(referenced)))


def _read(env: jinja2.Environment, name: str, uses: _Uses, seen: set[str]) -> None:
    """Collect the uses of context names in template ``name`` and every template it reaches."""
    if name in seen:
        return
    seen.add(name)
    source = env.loader.get_source(env, name)[0]  # type: ignore[union-attr]
    tree = env.parse(source, name)
    _refuse_hidden_output(name, tree)
    for node in tree.find_all((nodes.Extends, nodes.Include, nodes.Import, nodes.FromImport)):
        if not (isinstance(node.template, nodes.Const) and isinstance(node.template.value, str)):
            raise Unshareable(f"{name} reaches a template named at render time")
        _read(env, node.template.value, uses, seen)
    _visit(tree, "other", False, uses)


def _refuse_hidden_output(name: str, tree: nodes.Template) -> None:
    """Output that reaches the page other than as written, which ``_visit`` cannot follow:
    another template's (an include, a block) captured or filtered, a block printed as a value
    (``self.x()``, ``super()``), escaping switched off for a part."""
    for region in tree.find_all(_CAPTURING):
        if any(True for _ in region.find_all((nodes.Include, nodes.Block))):
            raise Unshareable(f"{name} captures another template's output")
    if any(n.name in ("self", "super") for n in tree.find_all(nodes.Name)):
        raise Unshareable(f"{name} prints a block as a value")
    if any(True for _ in tree.find_all((nodes.EvalContextModifier, nodes.ScopedEvalContextModifier))):
        raise Unshareable(f"{name} switches escaping")


def _visit(node: nodes.Node, pos: str, captured: bool, uses: _Uses) -> None:
    """Record how each name is used: "out" (printed as it is), "truth" (tested), "other"."""
    if isinstance(node, nodes.Output):
        for child in node.nodes:
            _visit(child, "other" if captured else "out", captured, uses)
    elif isinstance(node, _CAPTURING):
        _children(node, "other", True, uses)
    elif isinstance(node, nodes.Name):
        uses.names.setdefault(node.name, set()).add(pos if node.ctx == "load" else "other")
    elif pos == "out" and _printed_attr(node):
        uses.attrs.setdefault(node.node.name, set()).add(node.attr)  # type: ignore[attr-defined]
    elif _is_greeting(node):
        if pos == "out":
            uses.greeting_printed = True
        else:
            uses.greeting_other = True
            _children(node, "other", captured, uses)
    elif pos == "out" and _is_gettext(node):
        _gettext(node, captured, uses)  # type: ignore[arg-type]
    elif isinstance(node, nodes.If):
        _visit(node.test, "truth", captured, uses)
        for child in (*node.body, *node.elif_, *node.else_):
            _visit(child, "other", captured, uses)
    elif isinstance(node, nodes.CondExpr):
        _visit(node.test, "truth", captured, uses)
        for child in (node.expr1, node.expr2):
            if child is not None:
                _visit(child, pos if pos == "out" else "other", captured, uses)
    elif pos == "truth" and _keeps_truth(node):
        _children(node, "truth", captured, uses)
    else:
        _children(node, "other", captured, uses)


def _children(node: nodes.Node, pos: str, captured: bool, uses: _Uses) -> None:
    for child in node.iter_child_nodes():
        _visit(child, pos, captured, uses)


def _printed_attr(node: nodes.Node) -> bool:
    # ``recipient.name``: jinja looks an attribute of a dict up as its key only when the dict
    # type itself has no attribute of that name (``items`` would be the method).
    return (isinstance(node, nodes.Getattr) and isinstance(node.node, nodes.Name) and node.node.ctx == "load"
            and not hasattr(dict, node.attr))


def _is_greeting(node: nodes.Node) -> bool:
    return (isinstance(node, nodes.Call) and isinstance(node.node, nodes.Name) and node.node.name == GREETING
            and len(node.args) == 1 and isinstance(node.args[0], nodes.Name) and node.args[0].name == "recipient"
            and not node.kwargs and node.dyn_args is None and node.dyn_kwargs is None)


def _is_gettext(node: nodes.Node) -> bool:
    return isinstance(node, nodes.Call) and isinstance(node.node, nodes.Name) and node.node.name in _GETTEXT


def _gettext(node: nodes.Call, captured: bool, uses: _Uses) -> None:
    """A printed message: its variables are escaped and put in as they are (``locale.jinja``'s
    ``_fill``); its message ids and plural count decide the words."""
    for arg in node.args:
        _visit(arg, "other", captured, uses)
    for keyword in node.kwargs:
        _visit(keyword.value, "out", captured, uses)
    for extra in (node.dyn_args, node.dyn_kwargs):
        if extra is not None:
            _visit(extra, "other", captured, uses)


def _keeps_truth(node: nodes.Node) -> bool:
    """Inside a test, these depend only on their operands' truth (``x is defined and x``)."""
    return (isinstance(node, (nodes.And, nodes.Or, nodes.Not))
            or (isinstance(node, nodes.Test) and node.name in ("defined", "undefined") and not node.args
                and not node.kwargs and node.dyn_args is None and node.dyn_kwargs is None))
