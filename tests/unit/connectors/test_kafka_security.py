"""How a process authenticates to Kafka: the same settings for every client it makes, Quix
Streams' included."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr

from connectors.kafka_config import KafkaSettings, producer_config
from topologies.settings import TopologySettings
from topologies.wiring import application

SASL = KafkaSettings(
    kafka_bootstrap_servers="kafka.internal:9094",
    kafka_security_protocol="sasl_ssl",
    kafka_sasl_mechanism="SCRAM-SHA-512",
    kafka_sasl_username="escrow",
    kafka_sasl_password=SecretStr("s3cret"),
    kafka_ssl_ca_location="/etc/kafka/ca.pem",
)


def test_a_plaintext_cluster_needs_nothing() -> None:
    assert KafkaSettings().kafka_security() == {}


def test_sasl_over_tls_is_librdkafkas_settings() -> None:
    assert SASL.kafka_security() == {
        "security.protocol": "sasl_ssl",
        "sasl.mechanism": "SCRAM-SHA-512",
        "sasl.username": "escrow",
        "sasl.password": "s3cret",
        "ssl.ca.location": "/etc/kafka/ca.pem",
    }


def test_producers_get_them() -> None:
    config = producer_config(SASL.kafka_bootstrap_servers, SASL.kafka_security())

    assert config["sasl.username"] == "escrow" and config["enable.idempotence"] is True


def test_quix_streams_applications_get_them(tmp_path: Path) -> None:
    settings = TopologySettings(**SASL.model_dump(), state_dir=tmp_path)

    app = application(settings, "escrow")

    connection = app.config.broker_address
    assert (connection.security_protocol, connection.sasl_username) == ("sasl_ssl", "escrow")
    assert connection.sasl_password is not None
    assert connection.sasl_password.get_secret_value() == "s3cret"
