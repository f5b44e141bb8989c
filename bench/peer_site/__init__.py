"""A minimal Django site serving django-helpdesk for the peer benchmark (bench.peer).

It runs in its own virtualenv (requirements.txt), never imports fuwu, and is measured against
fuwu on the same machine and PostgreSQL server.
"""
