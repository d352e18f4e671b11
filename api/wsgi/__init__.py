"""The WSGI application: the app factory, the dispatcher (path spelling, token, route), the predict
pipeline every prediction goes through, the request body, and the one error renderer."""
