"""Makes the Meilisearch fixtures available to these tests (the plugin is shared, not copied)."""

from tests.meili_fixtures import *  # noqa: F403
