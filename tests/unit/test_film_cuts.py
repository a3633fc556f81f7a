"""Where a crossfaded film is encoded again and where it is copied, and the rules of captions."""

from __future__ import annotations

from fractions import Fraction as F

import pytest

from videogen.films.craft import CaptionInvalid, SceneCaption, scene_caption
from videogen.films.cuts import CutPlan, Part, Piece, Segment, plan_cuts, shot_starts

EVERY_SECOND = [F(0), F(1), F(2), F(3)]


def test_hard_cuts_copy_every_clip_whole() -> None:
    plan = plan_cuts([F(4), F(4)], [EVERY_SECOND, EVERY_SECOND], F(0))
    assert plan.segments == ()
    assert [p.part for p in plan.pieces] == [Part(0, F(0), F(4)), Part(1, F(0), F(4))]


def test_a_crossfade_encodes_from_the_keyframe_before_the_overlap_to_the_one_after_it() -> None:
    plan = plan_cuts([F(4), F(4)], [EVERY_SECOND, EVERY_SECOND], F(1, 2))
    # The overlap is 3.5 s to 4 s of the first clip and 0 to 0.5 s of the second
    assert plan.segments == (Segment((Part(0, F(3), F(4)), Part(1, F(0), F(1))), F(1, 2)),)
    assert plan.pieces == (
        Piece(part=Part(0, F(0), F(3))),
        Piece(segment=0),
        Piece(part=Part(1, F(1), F(4))),
    )
    assert plan.segments[0].seconds == F(3, 2)


def test_a_clip_without_a_keyframe_between_its_overlaps_joins_both_segments() -> None:
    one_keyframe = [F(0)]
    plan = plan_cuts([F(4), F(3), F(4)], [EVERY_SECOND, one_keyframe, EVERY_SECOND], F(1, 2))
    assert plan.segments == (
        Segment((Part(0, F(3), F(4)), Part(1, F(0), F(3)), Part(2, F(0), F(1))), F(1, 2)),
    )
    assert [p.segment for p in plan.pieces] == [None, 0, None]
    assert plan.segments[0].seconds == F(4)  # 1 + 3 + 1 less two overlaps


def test_a_last_clip_without_a_keyframe_after_the_overlap_is_encoded_to_the_end() -> None:
    plan = plan_cuts([F(4), F(2)], [EVERY_SECOND, [F(0)]], F(1))
    assert plan.segments == (Segment((Part(0, F(3), F(4)), Part(1, F(0), F(2))), F(1)),)
    assert plan.pieces[-1] == Piece(segment=0)


def test_a_keyframe_exactly_between_two_overlaps_splits_the_segments_with_nothing_copied() -> None:
    plan = plan_cuts([F(2), F(2), F(2)], [[F(0), F(1)]] * 3, F(1, 2))
    assert len(plan.segments) == 2
    assert [p.segment for p in plan.pieces] == [None, 0, 1, None]


def test_a_cut_plan_survives_the_films_row() -> None:
    plan = plan_cuts([F(4), F(3), F(4)], [EVERY_SECOND, [F(0)], EVERY_SECOND], F(3, 4))
    assert CutPlan.from_json(plan.to_json()) == plan


def test_shots_start_one_overlap_early_after_each_cut() -> None:
    assert shot_starts([F(2), F(3), F(2)], F(1, 2)) == [F(0), F(3, 2), F(4)]


@pytest.mark.parametrize(
    ("scene", "field"),
    [
        ({"caption": "x" * 201}, "caption"),
        ({"caption": "two\nlines"}, "caption"),
        ({"caption": "bell\x07"}, "caption"),
        ({"caption": 12}, "caption"),
        ({"caption": "ok", "captionStartMs": -1}, "captionStartMs"),
        ({"caption": "ok", "captionStartMs": 500, "captionEndMs": 500}, "captionEndMs"),
        ({"caption": "ok", "captionEndMs": True}, "captionEndMs"),
    ],
)
def test_a_caption_that_breaks_a_rule_names_its_field(scene, field) -> None:
    with pytest.raises(CaptionInvalid) as raised:
        scene_caption(scene)
    assert raised.value.field == field


def test_a_caption_keeps_its_text_and_timings_and_blank_is_none() -> None:
    assert scene_caption({"caption": " Hi 👋🏽 "}) == SceneCaption("Hi 👋🏽")
    assert scene_caption({"caption": "x" * 200, "captionEndMs": 900}) == SceneCaption("x" * 200, 0, 900)
    assert scene_caption({"caption": "   "}) is None
    assert scene_caption({}) is None
