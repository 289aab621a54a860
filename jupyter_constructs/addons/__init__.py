"""Layer 3, add-ons: everything that attaches to a hub through ``bind(hub)``.

- ``signin``: the ``HubAuth`` implementations (``OidcAuth``, ``CloudflareAccessAuth``);
- ``bindings``: platform service bindings (the construct and the seven services);
- ``observability``: ServiceMonitor, PodMonitor, alert rules, Grafana dashboard;
- ``tunnel``: the Cloudflare Tunnel;
- ``external_secrets``: Secrets kept in sync from a secret store.

Add-ons are independent of each other; each uses only the hub's public methods.
"""
