"""The film pipeline's media core: probe, normalize, assemble and verify MP4 clips with PyAV."""
