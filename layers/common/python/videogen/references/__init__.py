"""Reference images and music: a storyboard's pictures of its character, objects, style and
frames, what generation takes from them, and the music its films may lay under their sound.

- :mod:`.images`: checking an upload and writing it again clean (Pillow), fitting one to a size;
- :mod:`.music`: checking an uploaded audio file by decoding it, and the music a film takes;
- :mod:`.service`: what the routes and the sweeper do (declare with a presigned POST, complete,
  list, delete, sweep uploads never completed);
- :mod:`.scene_images`: which images a scene's clip is made from, checked against the model.

May import ``runtime``, ``data``, ``storage``, ``catalog``, ``errors`` and ``api.schemas``; and
``films.media.music_check`` (PyAV) inside :func:`.music.check` only, never at import.
"""
