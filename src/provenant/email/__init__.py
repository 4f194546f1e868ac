"""Email: templates, the outbox written in the caller's transaction, and the sender every server process runs.

``outbox.enqueue(session, to=..., template=..., context=...)`` is all a service needs; without
``PROVENANT_SMTP_URL`` it does nothing, so nothing fails for want of email.
"""
