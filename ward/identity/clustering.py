"""Scored pairs -> clusters, never joining two different IDs.

Groups are the starting clusters (all records of one 12-digit ID are one group; so are those of
one CMND; every other record is a group alone). Each group may hold *anchors*: values of a kind
(`id`: the 12-digit ID, `cmnd`: the 9-digit CMND) that a person has at most one of, and values of
an *exclusive* kind (`snapshot`: the extract dates the group's rows are listed in) that two
clusters may not share: a snapshot lists a person once, so two records of one snapshot are two
people (twins with one ID lost; namesakes in two households).

Links are taken strongest first (match probability, then the group numbers, so the result does
not depend on input order). A link whose two clusters would hold two different values of one kind
is refused: the link that would merge two IDs is listed for review, never applied, and a record
that resembles two ID persons joins the one it resembles most. This is greedy constrained
agglomeration (single linkage with cannot-link constraints), like splink's "single best link"
clustering but with the ward's constraint.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field


@dataclass
class Clustering:
    #: group -> cluster root (only groups touched by a link; others are their own cluster).
    root: dict[int, int] = field(default_factory=dict)
    #: node -> strongest accepted link probability touching it.
    link_probability: dict[int, float] = field(default_factory=dict)
    #: (node_a, node_b, probability, kind) of links refused: the kind they would have broken.
    refused: list[tuple[int, int, float, str]] = field(default_factory=list)
    accepted: int = 0

    def cluster_of(self, group: int) -> int:
        return self.root.get(group, group)


def cluster_groups(
    links: Iterable[tuple[int, int, float]],
    anchors: Mapping[int, Mapping[str, frozenset[str]]],
    threshold: float,
    group_of: Mapping[int, int] | None = None,
    exclusive: frozenset[str] = frozenset({"snapshot"}),
) -> Clustering:
    """Union groups along links with probability >= threshold, refusing two anchors of a kind.

    `links` are (node_a, node_b, probability) between records; `group_of[node]` is the node's group
    (a node missing from it, or with no mapping given, is a group of its own, numbered as itself).
    `anchors[group]` maps a kind to the group's values (groups without anchors may be missing).
    `link_probability` and `refused` are given per node, `root` per group.
    """
    group_of = group_of or {}
    parent: dict[int, int] = {}
    held: dict[int, dict[str, frozenset[str]]] = {}
    out = Clustering()

    def find(g: int) -> int:
        if g not in parent:
            parent[g] = g
            held[g] = dict(anchors.get(g, {}))
            return g
        root = g
        while parent[root] != root:
            root = parent[root]
        while parent[g] != root:
            parent[g], g = root, parent[g]
        return root

    ordered = sorted(
        ((min(a, b), max(a, b), p) for a, b, p in links if a != b and p >= threshold),
        key=lambda link: (-link[2], link[0], link[1]),
    )
    for a, b, p in ordered:
        ra, rb = find(group_of.get(a, a)), find(group_of.get(b, b))
        if ra == rb:
            _note(out, a, b, p)
            continue
        ha, hb = held[ra], held[rb]
        broken = _broken_kind(ha, hb, exclusive)
        if broken:
            out.refused.append((a, b, p, broken))
            continue
        # the smaller root joins the larger id's root: deterministic, whatever the order of calls
        keep, gone = (ra, rb) if ra < rb else (rb, ra)
        parent[gone] = keep
        held[keep] = {
            k: held[keep].get(k, frozenset()) | held[gone].get(k, frozenset()) for k in ha.keys() | hb.keys()
        }
        del held[gone]
        out.accepted += 1
        _note(out, a, b, p)

    for g in parent:
        out.root[g] = find(g)
    return out


def _broken_kind(
    ha: Mapping[str, frozenset[str]], hb: Mapping[str, frozenset[str]], exclusive: frozenset[str]
) -> str | None:
    """The first kind (sorted) that joining the two clusters would break, or None."""
    for kind in sorted(ha.keys() | hb.keys()):
        va, vb = ha.get(kind), hb.get(kind)
        if not va or not vb:
            continue
        if kind in exclusive:
            if va & vb:
                return kind
        elif len(va | vb) > max(len(va), len(vb)):  # a second distinct value
            return kind
    return None


def _note(out: Clustering, a: int, b: int, p: float) -> None:
    for g in (a, b):
        if p > out.link_probability.get(g, -1.0):
            out.link_probability[g] = p
