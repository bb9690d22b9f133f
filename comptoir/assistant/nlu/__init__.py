"""Natural-language understanding for the assistant: intents, language, sentiment.

Everything here runs offline on the CPU with models shipped inside PyPI wheels
(no model hub at run time); see ``classifier.py`` for the intent model and
``bench/intents.py`` for how it is measured.
"""
