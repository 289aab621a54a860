"""Layer 1, core: values and rules every other layer uses; no knowledge of a hub.

- ``errors``: ``ConfigurationError`` and ``ConfigurationWarning``, in one message format.
- ``rules``: Kubernetes field rules (DNS labels and names, images, CIDRs, labels).
- ``quantities``: CPU and memory quantities and ``Resources``.
- ``secrets``: ``SecretRef``, how every credential enters a manifest.
- ``security``: the one restricted security context (Pod Security Standard).
- ``images``: the pinned upstream images and the users they run as.
- ``sync_waves``: the ArgoCD wave of each kind.
- ``objects``: ``KubeObject``, the one object builder (plain data, rendered at synth).
- ``network_policy``: the one NetworkPolicy builder.
- ``checks``: whole-picture checks run at synth (one cdk8s validation per chart).
- ``toolchain``: jsii's Node.js side: a writable package cache, which Node.js runs
  (pure Python; the package runs it on import, before cdk8s starts Node.js).
"""
