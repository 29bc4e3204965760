"""podlens: analysis kit for podcast transcripts.

Data flows one way: raw files -> corpus (``analysis.corpus``) -> speakers and talk-time,
topics, themes -> figures -> notebooks -> site. See README.md for the data model.
"""
__version__ = "0.1.0"
