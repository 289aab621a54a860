"""Kafka: confluent-kafka producers and consumers from ``KAFKA_*``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import _contract, _env

if TYPE_CHECKING:
    from confluent_kafka import Consumer, Producer

SERVICE = "kafka"


def config() -> dict[str, str]:
    """The librdkafka client configuration of the binding (password included)."""
    values = _env.read(SERVICE)
    conf = {
        "bootstrap.servers": values["KAFKA_BOOTSTRAP_SERVERS"],
        "security.protocol": _env.choice(
            SERVICE, values, "KAFKA_SECURITY_PROTOCOL", _contract.KAFKA_SECURITY_PROTOCOLS
        ),
    }
    for name, key in (
        ("KAFKA_SASL_MECHANISM", "sasl.mechanism"),
        ("KAFKA_SASL_USERNAME", "sasl.username"),
        ("KAFKA_SASL_PASSWORD", "sasl.password"),
    ):
        if name in values:
            conf[key] = values[name]
    return conf


def producer(**overrides: Any) -> Producer:
    """A ``confluent_kafka.Producer``; ``overrides`` are extra librdkafka settings."""
    from confluent_kafka import Producer

    return Producer({**config(), **overrides})


def consumer(*topics: str, group_id: str, **overrides: Any) -> Consumer:
    """A ``confluent_kafka.Consumer`` in ``group_id``, subscribed to ``topics`` if given.

    Default: ``auto.offset.reset=earliest`` (a new group reads a topic from its start).
    """
    from confluent_kafka import Consumer

    consumer = Consumer(
        {**config(), "group.id": group_id, "auto.offset.reset": "earliest", **overrides}
    )
    if topics:
        consumer.subscribe(list(topics))
    return consumer
