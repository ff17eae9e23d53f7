"""The demo ministry: real entities, a taxonomy, staff and requests in every state.

A plain package (not a Django app); `tawasul demo` loads it through the services.
"""
