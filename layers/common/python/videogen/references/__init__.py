"""Reference images: a storyboard's pictures of its character, objects, style and frames, and
what generation takes from them.

- :mod:`.images`: checking an upload and writing it again clean (Pillow), fitting one to a size;
- :mod:`.service`: what the routes and the sweeper do (declare with a presigned POST, complete,
  list, delete, sweep uploads never completed);
- :mod:`.scene_images`: which images a scene's clip is made from, checked against the model.

May import ``runtime``, ``data``, ``storage``, ``catalog``, ``errors`` and ``api.schemas``.
"""
