from __future__ import annotations


class ConnectorError(Exception):
    """Root of every error raised by a connector (Kafka serdes, provider clients)."""


class DeserializationError(ConnectorError):
    """A record's bytes are not a valid message of the topic's schema.

    :param topic: the topic the record came from.
    :param reason: why decoding failed, in words an operator can act on.
    """

    def __init__(self, topic: str, reason: str) -> None:
        super().__init__(f"cannot deserialize a record of {topic}: {reason}")
        self.topic = topic
        self.reason = reason


class UnknownVariantError(DeserializationError):
    """The envelope decoded, but its oneof holds no variant this code knows (a newer producer)."""


class TransientError(ConnectorError):
    """A failure worth retrying: timeouts, connection errors, 429, 5xx (seeds: "Error Handling &
    Retries")."""


class PermanentError(ConnectorError):
    """A failure that retrying cannot fix: invalid request, authorization, business refusal.

    :param code: the provider's error code (e.g. Stripe's ``resource_missing``), or the HTTP status.
    """

    def __init__(self, message: str, code: str = "") -> None:
        super().__init__(message)
        self.code = code
