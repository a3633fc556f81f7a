"""Schemathesis hooks (loaded by schemathesis.toml): the rules of the API a JSON Schema cannot
state, so generated "valid" requests respect them too."""

from __future__ import annotations

from typing import Any

import schemathesis


# apply_to is attached to the decorator at run time, out of the type checker's sight.
@schemathesis.hook("filter_body").apply_to(  # type: ignore[attr-defined]
    operation_id=["createStoryboard", "updateStoryboard"]
)
def distinct_scene_ids(ctx: Any, body: Any) -> bool:
    """Scene ids are unique within a storyboard (a 400 otherwise): JSON Schema's ``uniqueItems``
    compares whole items, not one property of them."""
    scenes = body.get("scenes") if isinstance(body, dict) else None
    if not isinstance(scenes, list):
        return True
    ids = [scene.get("id") for scene in scenes if isinstance(scene, dict)]
    return len(ids) == len(set(map(repr, ids)))
