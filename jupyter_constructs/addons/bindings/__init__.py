"""Platform service bindings: connect notebook pods to the data platform's services.

``binding`` is the construct, ``services`` the seven services' factories, ``contract``
the environment variables shared with the notebook image (pure Python).
"""
