"""Layer 2, the hub: ``JupyterHub``, its parts, profiles and user storage.

``hub`` composes the parts and is the one place add-ons attach to (``attach_addon``,
``add_binding``); the other modules are its parts: ``auth`` (the ``HubAuth`` base the
sign-in add-ons implement), ``config`` (generated settings), ``deployment``, ``rbac``,
``proxy``, ``ingress``, ``bootstrap`` (the secrets Job), ``database``, ``culler``,
``prepuller``, ``quota``, ``network`` (the hub's NetworkPolicies and every add-on's),
``profiles``, ``storage``, ``kubespawner_traits`` and ``files/`` (what the hub pod runs).
This layer imports no add-on.
"""
