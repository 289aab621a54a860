"""Layer 4, delivery: from constructs to what ArgoCD and the portal read.

- ``synth``: ``synthesize`` (atomic, deterministic, a folder per environment) and
  ``Environment``;
- ``gitops``: sync waves and options on any cdk8s object;
- ``argocd``: ``ArgoCdApplication``;
- ``portal``: the service-catalog card.
"""
