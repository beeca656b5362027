"""Scored pairs -> clusters, never joining two different IDs.

Groups are the starting clusters (all records of one 12-digit ID are one group; so are those of
one CMND; every other record is a group alone). Each group may hold *anchors*: values of a kind
(`id`: the 12-digit ID, `cmnd`: the 9-digit CMND) that a person has at most one of, and values of
a *guarded* kind (`snapshot`: the extract dates the group's rows are listed in). Two clusters that
share a snapshot may still be one person (a snapshot can list a person twice: a row keyed again by
hand), but only on stronger evidence: the link must reach `same_snapshot_threshold` and its two
names must not be evidence of two people (`conflicts`, from ward.identity.names: twins share a
surname, birth date, sex and household; their given names tell them apart). Such a merge is
recorded in `same_snapshot` so the steward sees it.

Links are taken strongest first (match probability, then the group numbers, so the result does
not depend on input order). A link whose two clusters would hold two different values of one kind
is refused: the link that would merge two IDs is listed for review, never applied, and a record
that resembles two ID persons joins the one it resembles most. This is greedy constrained
agglomeration (single linkage with cannot-link constraints), like splink's "single best link"
clustering but with the ward's constraints.
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
    #: (node_a, node_b, probability) of accepted links between clusters listed in one snapshot.
    same_snapshot: list[tuple[int, int, float]] = field(default_factory=list)
    accepted: int = 0

    def cluster_of(self, group: int) -> int:
        return self.root.get(group, group)


def cluster_groups(
    links: Iterable[tuple[int, int, float]],
    anchors: Mapping[int, Mapping[str, frozenset[str]]],
    threshold: float,
    group_of: Mapping[int, int] | None = None,
    guarded: frozenset[str] = frozenset({"snapshot"}),
    conflicts: frozenset[tuple[int, int]] = frozenset(),
    same_snapshot_threshold: float | None = None,
) -> Clustering:
    """Union groups along links with probability >= threshold, refusing two anchors of a kind.

    `links` are (node_a, node_b, probability) between records; `group_of[node]` is the node's group
    (a node missing from it, or with no mapping given, is a group of its own, numbered as itself).
    `anchors[group]` maps a kind to the group's values (groups without anchors may be missing).
    Clusters sharing a value of a `guarded` kind join only on a link of at least
    `same_snapshot_threshold` (default: `threshold`) whose (min, max) node pair is not in `conflicts`.
    `link_probability` and `refused` are given per node, `root` per group.
    """
    guarded_threshold = threshold if same_snapshot_threshold is None else same_snapshot_threshold
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
        broken = _broken_kind(ha, hb, guarded)
        if (
            broken
            and broken in guarded
            and p >= guarded_threshold
            and (min(a, b), max(a, b)) not in conflicts
        ):
            out.same_snapshot.append((a, b, p))
        elif broken:
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
    ha: Mapping[str, frozenset[str]], hb: Mapping[str, frozenset[str]], guarded: frozenset[str]
) -> str | None:
    """The kind that joining the two clusters would break, or None: an anchor kind (two distinct
    values: never joined) before a guarded kind (a shared value: joined only on strong evidence)."""
    shared_guarded = None
    for kind in sorted(ha.keys() | hb.keys()):
        va, vb = ha.get(kind), hb.get(kind)
        if not va or not vb:
            continue
        if kind in guarded:
            if va & vb and shared_guarded is None:
                shared_guarded = kind
        elif len(va | vb) > max(len(va), len(vb)):  # a second distinct value
            return kind
    return shared_guarded


def _note(out: Clustering, a: int, b: int, p: float) -> None:
    for g in (a, b):
        if p > out.link_probability.get(g, -1.0):
            out.link_probability[g] = p
