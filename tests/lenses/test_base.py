"""The Lens protocol's optional group drawing: which consecutive lenses a session hands to one call."""

from __future__ import annotations

from arlens.lenses.base import groups


class Grouped:
    @classmethod
    def render_group(cls, lenses, out, faces, scene=None):
        return out


class OtherGrouped(Grouped):
    pass


class Single:
    pass


def test_runs_of_one_class_with_the_same_targets_are_grouped():
    faces, hands = ["face"], ["hand"]
    a, b, c, d, e, f = Grouped(), Grouped(), Single(), Grouped(), OtherGrouped(), OtherGrouped()
    runs = groups([(a, faces), (b, faces), (c, faces), (d, faces), (e, faces), (f, faces)])
    assert runs[id(a)] == [a, b] and runs[id(b)] is runs[id(a)]
    assert id(c) not in runs and id(d) not in runs  # alone, or cut off by a lens that draws on its own
    assert runs[id(e)] == [e, f]  # a subclass is a class of its own
    assert groups([(a, faces), (b, hands)]) == {}  # other targets
    assert groups([]) == {} and groups([(a, faces)]) == {}
