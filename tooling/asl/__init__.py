"""The Amazon States Language: one syntax tree of a definition (`parse`), one table of fields per
state type and query language (`fields`), one timestamp grammar (`timestamps`).

`tool validate` runs its rules over the tree, the engine compiles the tree into what it runs,
and `tool graph` draws it. Nothing here evaluates anything.
"""

from tooling.asl.tree import Definition, Scope, ScopeKind, StateNode, Transition, parse

__all__ = ["Definition", "Scope", "ScopeKind", "StateNode", "Transition", "parse"]
