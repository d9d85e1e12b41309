import warnings

import authlib.deprecate  # noqa: F401 - it installs an "always" filter for its warnings at import

# confluent-kafka's Schema Registry client (connectors.kafka_serdes) imports authlib's deprecated
# httpx integration; every process would print the warning at start-up, and it is not ours to
# fix. (After authlib's own filter, or that one would win.)
warnings.filterwarnings("ignore", message=".*httpx module is deprecated.*")
