"""Read queries, written once, run through ``store.dbapi`` (no SQLAlchemy import).

Each module holds the SQL of one area as :class:`~deskctl.store.dbapi.Query`
objects and small functions returning plain dicts for services and render.
"""
