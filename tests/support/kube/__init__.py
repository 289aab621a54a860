"""A real Kubernetes API server for the tests (issue 19): binaries, control plane, clients,
ArgoCD-like sync and a test kubelet. The fixtures live in ``fixtures.py`` (a pytest plugin);
``docs/testing.md`` says what these tests prove and what they cannot.
"""
