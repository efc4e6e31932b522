"""What the compiler knows about the base policy it targets: names, classes, ports, attributes.

A :class:`KnowledgeBase` is plain data. :mod:`selkit.base` fills it from a binary policy with
SETools; unit tests build small ones by hand.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: The name semodule gives the base policy's module.
BASE_MODULE = "base"


@dataclass(frozen=True, order=True)
class PortRange:
    """A ``portcon``: protocol, inclusive port range and the port type."""

    protocol: str
    low: int
    high: int
    type: str

    @property
    def width(self) -> int:
        """How many ports the range covers (smaller is more specific)."""
        return self.high - self.low + 1


@dataclass(frozen=True)
class KnowledgeBase:
    """Names and facts of the base policy that specs are resolved against."""

    types: frozenset[str]
    attributes: frozenset[str]
    classes: dict[str, frozenset[str]]
    portcons: tuple[PortRange, ...] = ()
    attribute_members: dict[str, frozenset[str]] = field(default_factory=dict)
    roles: frozenset[str] = frozenset({"object_r", "system_r"})
    mls: bool = True
    source: str = "<memory>"
    #: (regex, kind) -> (type, modules declaring it) for the base store's file contexts.
    file_contexts: dict[tuple[str, str], tuple[str, tuple[str, ...]]] = field(
        default_factory=dict)
    #: Names of the store's enabled modules, and of the modules it lists as disabled.
    enabled_modules: frozenset[str] = frozenset()
    disabled_modules: frozenset[str] = frozenset()
    #: The store's base modules: the base policy itself, which no daemon's module may replace.
    base_modules: frozenset[str] = frozenset()
    #: Each type alias and the type it stands for.
    aliases: dict[str, str] = field(default_factory=dict)
    #: The module store the policy was linked from (None: a binary policy alone).
    store: str | None = None

    def is_base_module(self, name: str) -> bool:
        """True if a module named ``name`` would replace the base policy's own module
        (``base`` is the base module's name in every module store)."""
        return name == BASE_MODULE or name in self.base_modules

    def is_type_or_attribute(self, name: str) -> bool:
        """True if ``name`` is a type, alias or attribute of the base policy."""
        return name in self.types or name in self.attributes

    @property
    def port_types(self) -> frozenset[str]:
        """Types usable as port types (members of ``port_type``, or named in a portcon)."""
        named = {p.type for p in self.portcons}
        return frozenset(named | set(self.attribute_members.get("port_type", ())))

    def port_type_for(self, protocol: str, port: int) -> str:
        """The type the base policy gives ``port`` (most specific portcon, else ``port_t``)."""
        hits = [p for p in self.portcons if p.protocol == protocol and p.low <= port <= p.high]
        if not hits:
            return "port_t"
        return min(hits, key=lambda p: (p.width, p.type)).type

    def port_ranges_of(self, port_type: str) -> tuple[PortRange, ...]:
        """Every portcon that labels ports with ``port_type``."""
        return tuple(p for p in self.portcons if p.type == port_type)

    def canonical(self, name: str) -> str:
        """The type an alias stands for (any other name is itself)."""
        return self.aliases.get(name, name)

    def expand(self, name: str) -> frozenset[str]:
        """The types an attribute stands for (a type or alias stands for its type)."""
        if name in self.attribute_members:
            return self.attribute_members[name]
        return frozenset({self.canonical(name)})
