"""E-mail touchpoint: RFC 5322 mail in (SMTP, IMAP, HTTP, import) and out (SMTP).

The parsing layer (``parsing``, ``loops``, ``quoting``, ``html_text``) is free of
I/O and of the database so every way mail arrives shares it.
"""
