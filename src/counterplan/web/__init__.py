"""The web application of counterplan: the planning office, the units, their
delegates and members (FastAPI, SQLAlchemy, Jinja2)."""
