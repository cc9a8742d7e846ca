"""The zstd binding: the standard library's ``compression.zstd`` from Python 3.14, and before that
its backport ``backports.zstd`` (the same code and API). pyproject.toml installs the backport only
where the standard library lacks the module, so Python 3.14 needs no dependency for zstd.
"""

try:
    from compression import zstd
except ImportError:  # Python before 3.14
    from backports import zstd

__all__ = ["zstd"]
