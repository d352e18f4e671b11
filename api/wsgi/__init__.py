"""The WSGI application: the app factory, the route table (routes: every route, its protocol, whether
the token guards it), the dispatcher (path spelling, token, route), the predict pipeline every
prediction goes through, the request body, and the one error mapping and renderer (errors), with
the docs' error tables generated from it (error_table)."""
