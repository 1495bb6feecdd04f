"""What the people of a plan do, as functions the pages and the JSON API
both call: each takes the database session and the acting user, checks the
right (rights.py), calls the library and returns plain data.  Validation and
maths stay in the library; a refusal is a :class:`Refused` with its reason."""
