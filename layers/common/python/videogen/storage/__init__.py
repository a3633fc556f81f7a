"""The videos bucket: ``bucket`` (object keys, presigned GET URLs, prefix and batch deletes),
``objects`` (objects as files for media work: existence, ranged reads, download, multipart
upload), ``uploads`` (a provider's download streamed into the bucket, sniffed first) and
``cleanup`` (a deleted storyboard's objects leave S3, at least once).

May import: boto3, ``runtime``, ``data``, ``messaging``, ``errors``.
"""
